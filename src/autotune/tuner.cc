// src/autotune/tuner.cc — make_tuner and the tuning loop: resume from the log, warm-start the
// model (transfer), then batch by batch propose → measure → log (appended and flushed per
// record) → update the tuner, with early stopping, a progress bar and a summary table.
#include <atomic>
#include <cmath>
#include <cstdio>
#include <limits>
#include <map>

#include "autotune/search_tuners.h"
#include "autotune/tuning_session.h"
#include "te/autotune/features.h"

#ifndef TE_VERSION
#define TE_VERSION "unknown"
#endif

namespace te::autotune {

std::unique_ptr<Tuner> make_tuner(const std::string& kind, const Task& task, uint64_t seed,
                                  std::unique_ptr<CostModel> model) {
  if (kind == "random") return search::make_random_tuner(task, seed);
  if (kind == "grid") return search::make_grid_tuner(task);
  if (kind == "sa") return search::make_sa_tuner(task, seed);
  if (kind == "xgb" || kind == "evolutionary") {
    if (model == nullptr) {
      if (have_xgboost()) {
        model = make_xgb_model("rank", seed);
      } else {
        // Said once per process, not per task; atomic since tasks are tuned from several threads.
        static std::atomic<bool> noted{false};
        if (!noted.exchange(true))
          std::fprintf(stderr, "te: built without XGBoost; the %s tuner uses a random cost model\n",
                       kind.c_str());
        model = make_random_model(seed);
      }
    }
    return search::make_model_tuner(kind, task, seed, std::move(model));
  }
  fail("unknown tuner kind '", kind, "'; expected one of xgb, evolutionary, sa, random, grid");
}

// ------------------------------------------------------------------------ TuningSession

namespace {

// Saturating spaces have no flat index.
int64_t index_or_none(const Config& cfg, const Config& space) {
  if (space.space_size() == std::numeric_limits<int64_t>::max()) return -1;
  return cfg.index();
}

}  // namespace

Record make_record(const Task& task, const Config& config, const MeasureResult& result, const std::string& hardware) {
  Record record;
  record.workload_key = task.workload_key;
  record.target = task.target.str();
  record.hardware = hardware;
  record.config_json = config.to_json();
  record.config_index = index_or_none(config, task.space);
  record.steps_json = result.steps_json;
  record.result = result;
  record.flop = task.flop;
  record.te_version = TE_VERSION;
  return record;
}

void check_result_count(size_t results, size_t batch) {
  if (results != batch)
    fail("the measure function returned ", results, " results for ", batch,
         " configs; it must return one result per config, in order");
}

std::string hardware_or_unknown(const Target& target) {
  try {
    return hardware_description(target);
  } catch (const std::exception&) {
    return "unknown";
  }
}

void check_tune_options(const TuneOptions& options) {
  if (options.trials < 0) fail("TuneOptions::trials must be >= 0, got ", options.trials);
  if (options.batch_size < 1) fail("TuneOptions::batch_size must be >= 1, got ", options.batch_size);
  if (options.early_stopping < 0)
    fail("TuneOptions::early_stopping must be >= 0 (0 turns it off), got ", options.early_stopping);
  if (!(options.epsilon >= 0 && options.epsilon <= 1))
    fail("TuneOptions::epsilon must lie in [0, 1], got ", options.epsilon);
}

TuningSession::TuningSession(const Task& task, Tuner& tuner, const MeasureFn& measure,
                             const TuneOptions& options, LogWriter* log)
    : task_(task), tuner_(tuner), measure_(measure), options_(options), log_(log) {
  if (!measure_) fail("tune: the measure function is empty; pass a Measurer's measure or a MeasureFn");
  check_tune_options(options);
  tuner_.set_epsilon(options.epsilon);
  hardware_ = hardware_or_unknown(task.target);
}

double TuningSession::best_seconds() const {
  return result_.best ? result_.best->result.mean_cost() : std::numeric_limits<double>::infinity();
}

void TuningSession::count(const Record& record, bool resumed) {
  if (resumed)
    ++result_.trials_resumed;
  else
    ++result_.trials_measured;
  if (record.result.error != ErrorKind::kNone) {
    if (!resumed) {
      ++result_.errors;
      ++errors_by_kind_[to_string(record.result.error)];
    }
  } else {
    double cost = record.result.mean_cost();
    // Errors never win; neither do non-positive or non-finite times.
    if (cost > 0 && std::isfinite(cost) && cost < best_seconds()) {
      result_.best = record;
      best_trial_ = trials_done();
    }
  }
  result_.best_gflops_curve.push_back(best_gflops());
}

void TuningSession::resume(const std::vector<Record>& records) {
  std::string target = task_.target.str();
  search::ChoiceSet seen;
  std::vector<Config> configs;
  std::vector<MeasureResult> results;
  int unreadable = 0, elsewhere = 0;
  for (const Record& record : records) {
    if (record.workload_key != task_.workload_key || record.target != target) continue;
    // Another machine's records (a committed log holds one set per machine): their costs rank
    // nothing here, and their configs must be measured here again. A record without a machine
    // is taken as this one's.
    if (!record.hardware.empty() && record.hardware != hardware_) {
      ++elsewhere;
      continue;
    }
    Config cfg;
    try {
      cfg = task_.space.from_json(record.config_json);
    } catch (const Error&) {
      ++unreadable;  // a record of an older version of the template's space
      continue;
    }
    if (!seen.insert(cfg.choices()).second) continue;
    configs.push_back(cfg);
    results.push_back(record.result);
    count(record, /*resumed=*/true);
  }
  if (unreadable > 0 && options_.progress)
    std::fprintf(stderr, "te: %d record(s) of %s in the log do not fit its space; ignored\n", unreadable,
                 task_.workload_key.c_str());
  if (elsewhere > 0 && options_.progress)
    std::fprintf(stderr, "te: %d record(s) of %s in the log were measured on another machine; tuning here afresh\n",
                 elsewhere, task_.workload_key.c_str());
  if (!configs.empty()) tuner_.update(configs, results);
}

int TuningSession::warm_start(const std::vector<std::string>& transfer_logs) {
  if (!tuner_.uses_cost_model() || transfer_logs.empty()) return 0;
  std::string target = task_.target.str();
  std::map<std::string, std::optional<Task>> tasks;  // by workload key; nullopt: unusable
  FeatureMatrix x;
  std::vector<double> y;
  for (const std::string& path : transfer_logs) {
    for (const Record& record : read_log(path).records) {
      if (record.target != target || record.workload_key == task_.workload_key) continue;
      if (record.steps_json.empty()) continue;
      auto it = tasks.find(record.workload_key);
      if (it == tasks.end()) {
        std::optional<Task> other;
        if (std::optional<TemplateKey> parsed = parse_template_key(record.workload_key);
            parsed && has_template(parsed->name)) {
          try {
            other = create_task(parsed->name, parsed->args, target);
          } catch (const Error&) {
          }
        }
        it = tasks.emplace(record.workload_key, std::move(other)).first;
      }
      if (!it->second) continue;
      try {
        Instance instance = it->second->replay(Schedule::steps_from_json(record.steps_json));
        x.push_back(search::instance_features(*it->second, instance));
        y.push_back(record.gflops());
      } catch (const std::exception&) {
        // a record that no longer replays or lowers (the template changed): skipped
      }
    }
  }
  if (!x.empty()) tuner_.pretrain(x, y);
  return int(x.size());
}

int TuningSession::run_batch(int max_trials) {
  if (finished_ || max_trials <= 0) return 0;
  std::vector<Config> batch = tuner_.next_batch(std::min(max_trials, options_.batch_size));
  if (batch.empty()) {
    finished_ = true;
    return 0;
  }
  proposals_ += int64_t(batch.size());
  std::vector<MeasureResult> results = measure_(batch);
  check_result_count(results.size(), batch.size());
  int counted = 0;
  for (size_t i = 0; i < batch.size(); ++i) {
    if (results[i].error == ErrorKind::kDuplicate) continue;  // same code as a measured one
    Record record = make_record(task_, batch[i], results[i], hardware_);
    if (log_ != nullptr) log_->append(record);  // flushed before the next one is measured
    count(record, /*resumed=*/false);
    ++counted;
    if (options_.callback) options_.callback(trials_done(), options_.trials, record);
  }
  tuner_.update(batch, results);
  if (options_.early_stopping > 0 && trials_done() - best_trial_ >= options_.early_stopping)
    finished_ = true;
  if (!tuner_.has_next()) finished_ = true;
  // A tuner whose proposals keep turning out duplicates would otherwise loop for a long time.
  if (proposals_ > 10 * int64_t(options_.trials) + 1000) finished_ = true;
  return counted;
}

TuneSummary TuningSession::summary(double wall_seconds) const {
  TuneSummary s;
  s.workload_key = task_.workload_key;
  s.tuner = tuner_.name();
  s.trials_measured = result_.trials_measured;
  s.trials_resumed = result_.trials_resumed;
  s.best_gflops = best_gflops();
  if (result_.best) {
    try {
      s.best_config = task_.space.from_json(result_.best->config_json).to_string();
    } catch (const Error&) {
      s.best_config = result_.best->config_json;
    }
  }
  s.errors_by_kind = errors_by_kind_;
  s.wall_seconds = wall_seconds;
  return s;
}

// ---------------------------------------------------------------------------- tune()

TuneResult tune(const Task& task, Tuner& tuner, const MeasureFn& measure, const TuneOptions& options) {
  auto start = std::chrono::steady_clock::now();
  check_tune_options(options);  // before the log file is created
  if (!measure) fail("tune: the measure function is empty; pass a Measurer's measure or a MeasureFn");
  LogContents contents;
  std::optional<LogWriter> log;
  if (!options.log_path.empty()) {
    contents = read_log(options.log_path);  // read before appending to it
    log.emplace(options.log_path);
  }
  TuningSession session(task, tuner, measure, options, log ? &*log : nullptr);
  if (contents.skipped_lines > 0 && options.progress)
    std::fprintf(stderr, "te: skipped %d malformed line(s) in %s (e.g. a torn last line)\n",
                 contents.skipped_lines, options.log_path.c_str());
  session.resume(contents.records);
  session.warm_start(options.transfer_logs);

  ProgressBar bar(options.trials, session.trials_done(), options.progress, task.workload_key);
  while (session.trials_done() < options.trials && !session.finished()) {
    session.run_batch(options.trials - session.trials_done());
    bar.update(session.trials_done(), session.best_gflops(), session.result().errors,
               tuner.last_batch_accuracy());
  }
  bar.finish();
  if (options.progress) {
    double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::fputs(format_summary(session.summary(wall)).c_str(), stderr);
  }
  TuneResult result = session.result();
  // The log's best as apply_history_best picks it (configs re-measured by refine() decide).
  if (log && result.best)
    result.best = best_record(read_log(options.log_path).records, task.workload_key, task.target.str(),
                              this_machine(task.target.str()));
  return result;
}

}  // namespace te::autotune
