// src/autotune/refine.cc — refine(): the best config's one-knob neighbours, then the leading
// configs measured again round by round (tuner.h says why). The ranking is best_record()'s,
// so what refine() measures is what apply_history_best() picks from.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <random>
#include <set>

#include "autotune/tuning_session.h"

namespace te::autotune {
namespace {

void check_refine_options(const RefineOptions& o) {
  if (o.log_path.empty()) fail("refine: RefineOptions::log_path is empty; refine ranks and appends to a tuning log");
  if (o.top < 0) fail("RefineOptions::top must be >= 0, got ", o.top);
  if (o.rounds < 0) fail("RefineOptions::rounds must be >= 0, got ", o.rounds);
  if (o.max_neighbours < 0) fail("RefineOptions::max_neighbours must be >= 0, got ", o.max_neighbours);
  if (o.batch_size < 1) fail("RefineOptions::batch_size must be >= 1, got ", o.batch_size);
}

// The records of task in the log measured on this machine (`here`; a record without a machine
// counts as this one's), and the configs they measured (those of another space version are
// dropped): another machine's costs rank nothing here (the tuner resumes the same way).
struct TaskRecords {
  std::vector<Record> records;
  std::set<std::string> measured;  // canonical_config_json of each
};

TaskRecords task_records(const Task& task, const std::string& log_path, const std::string& here) {
  TaskRecords out;
  const std::string target = task.target.str();
  for (Record& r : read_log(log_path).records) {
    if (r.workload_key != task.workload_key || r.target != target) continue;
    if (!r.hardware.empty() && !here.empty() && r.hardware != here) continue;
    out.measured.insert(canonical_config_json(r.config_json));
    out.records.push_back(std::move(r));
  }
  return out;
}

// The `count` distinct configs with the fastest records (each config by its fastest valid
// one), skipping records that no longer fit the space.
std::vector<Config> leading_configs(const Task& task, const std::vector<Record>& records, int count) {
  std::map<std::string, double> fastest;  // canonical config JSON -> its lowest mean cost
  for (const Record& r : records) {
    if (r.result.error != ErrorKind::kNone || r.config_json.empty()) continue;
    const double cost = r.result.mean_cost();
    if (!(cost > 0 && std::isfinite(cost))) continue;
    auto [it, inserted] = fastest.emplace(canonical_config_json(r.config_json), cost);
    if (!inserted) it->second = std::min(it->second, cost);
  }
  std::vector<std::pair<double, std::string>> ranked;
  for (const auto& [json, cost] : fastest) ranked.push_back({cost, json});
  std::sort(ranked.begin(), ranked.end());
  std::vector<Config> leaders;
  for (const auto& [cost, json] : ranked) {
    if (int(leaders.size()) >= count) break;
    try {
      leaders.push_back(task.space.from_json(json));
    } catch (const Error&) {
      // a record of an older version of the template's space
    }
  }
  return leaders;
}

// Every config that differs from `best` in exactly one knob and is not in `measured`;
// at most `limit`, a seeded random sample when there are more.
std::vector<Config> unmeasured_neighbours(const Config& best, const std::set<std::string>& measured, int limit,
                                          uint64_t seed) {
  std::vector<Config> neighbours;
  const std::vector<Knob>& knobs = best.knobs();
  for (size_t k = 0; k < knobs.size(); ++k)
    for (int64_t c = 0; c < int64_t(knobs[k].choices.size()); ++c) {
      if (c == best.choices()[k]) continue;
      std::vector<int64_t> choices = best.choices();
      choices[k] = c;
      Config neighbour = best.with_choices(choices);
      if (!measured.count(canonical_config_json(neighbour.to_json()))) neighbours.push_back(neighbour);
    }
  if (int(neighbours.size()) > limit) {
    std::mt19937_64 rng(seed);
    std::shuffle(neighbours.begin(), neighbours.end(), rng);
    neighbours.resize(size_t(limit));
  }
  return neighbours;
}

}  // namespace

RefineResult refine(const Task& task, const MeasureFn& measure, const RefineOptions& options) {
  check_refine_options(options);
  if (!measure) fail("refine: the measure function is empty; pass a Measurer's measure or a MeasureFn");
  RefineResult result;
  const std::string here = this_machine(task.target.str());
  TaskRecords log = task_records(task, options.log_path, here);
  result.best_before = best_record(log.records, task.workload_key, task.target.str(), here);
  if (!result.best_before) return result;  // nothing valid to refine

  std::vector<Config> neighbours;
  try {
    neighbours = unmeasured_neighbours(task.space.from_json(result.best_before->config_json), log.measured,
                                       options.max_neighbours, options.seed);
  } catch (const Error&) {
    // the best record is of an older space version: no neighbours, only re-measurements
  }
  const std::string hardware = hardware_or_unknown(task.target);
  LogWriter writer(options.log_path);
  auto run = [&](const std::vector<Config>& batch) {
    std::vector<MeasureResult> results = measure(batch);
    check_result_count(results.size(), batch.size());
    int logged = 0;
    for (size_t i = 0; i < batch.size(); ++i) {
      if (results[i].error == ErrorKind::kDuplicate) continue;
      Record record = make_record(task, batch[i], results[i], hardware);
      writer.append(record);
      log.records.push_back(std::move(record));
      ++logged;
    }
    return logged;
  };

  const int leaders_wanted = options.rounds > 0 ? options.top : 0;
  ProgressBar bar(int(neighbours.size()) + leaders_wanted * options.rounds, 0, options.progress,
                  "refine " + task.workload_key);
  int done = 0;
  auto show = [&] {
    std::optional<Record> best = best_record(log.records, task.workload_key, task.target.str(), here);
    bar.update(done, best ? best->gflops() : 0, 0, std::nullopt);
  };
  for (size_t start = 0; start < neighbours.size(); start += size_t(options.batch_size)) {
    size_t end = std::min(neighbours.size(), start + size_t(options.batch_size));
    result.neighbours_measured += run({neighbours.begin() + long(start), neighbours.begin() + long(end)});
    done += int(end - start);
    show();
  }
  // The leaders are chosen once, after the neighbours, so every round measures the same set.
  const std::vector<Config> leaders = leading_configs(task, log.records, leaders_wanted);
  for (int round = 0; round < options.rounds && !leaders.empty(); ++round) {
    result.remeasured += run(leaders);
    done += leaders_wanted;
    show();
  }
  bar.finish();
  result.best = best_record(log.records, task.workload_key, task.target.str(), here);
  return result;
}

}  // namespace te::autotune
