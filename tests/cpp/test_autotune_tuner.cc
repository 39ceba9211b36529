// Tests of the search algorithms and the tuning loop (src/autotune/search_*.cc, tuner.cc) on a
// FAKE runner: each config's cost is a deterministic function of its choices (a smooth bowl
// over log2 of the tile sizes with one optimum), some configs "crash", and some are illegal
// for the template. Nothing is compiled; only the model-guided tuners lower candidates (for
// their features).
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <set>

#include "autotune/progress.h"
#include "autotune/tuning_session.h"
#include "te/autotune/tuner.h"
#include "test_util.h"

namespace te::autotune {
namespace {

int log2_of(int64_t v) {
  int l = 0;
  while ((int64_t(1) << (l + 1)) <= v) ++l;
  return l;
}

// C[n, m] = A[n, k] · B[k, m] with knobs tile_i, tile_j, tile_k (2-way splits) and unroll.
// Both inner tiles at their full extent is declared illegal (a te::Error while applying).
Task make_task(int64_t n = 16, int64_t m = 16, int64_t k = 8) {
  static bool registered = [] {
    register_template(
        "test_tuner_matmul",
        [](Config& cfg, const std::vector<int64_t>& args, const Target&) {
          Tensor a = placeholder({args[0], args[2]}, DataType::float32(), "A");
          Tensor b = placeholder({args[2], args[1]}, DataType::float32(), "B");
          IterVar r = reduce_axis(Range(0, args[2]), "k");
          Tensor c = compute(
              {args[0], args[1]}, [&](const std::vector<Var>& i) { return sum(a(i[0], r) * b(r, i[1]), {r}); },
              "C");
          Schedule s = create_schedule({c.op()});
          Stage st = s[c];
          const std::vector<IterVar> axes = st->op.as<ComputeOpNode>()->axis;
          const std::vector<IterVar> raxes = st->op.as<ComputeOpNode>()->reduce_axis;
          cfg.define_split("tile_i", axes[0], 2);
          cfg.define_split("tile_j", axes[1], 2);
          cfg.define_split("tile_k", raxes[0], 2);
          int64_t unroll = cfg.define_knob("unroll", {0, 1});
          if (!cfg.is_space() && cfg.get("tile_i")[1] == args[0] && cfg.get("tile_j")[1] == args[1])
            fail("test_tuner_matmul: both inner tiles cover the whole output");
          std::vector<IterVar> i = cfg.apply_split("tile_i", st, axes[0]);
          std::vector<IterVar> j = cfg.apply_split("tile_j", st, axes[1]);
          std::vector<IterVar> kk = cfg.apply_split("tile_k", st, raxes[0]);
          st.reorder({i[0], j[0], kk[0], i[1], kk[1], j[1]});
          if (unroll) st.unroll(kk[1]);
          return Instance{s, {a, b, c}};
        },
        /*replace=*/true);
    return true;
  }();
  (void)registered;
  return create_task("test_tuner_matmul", {n, m, k}, "llvm");
}

// The synthetic landscape. Seconds per call; the unique optimum is tile_i inner 4, tile_j
// inner 8, tile_k inner 2, unroll on. Configs with both inner tiles 1 "crash".
struct Landscape {
  static double cost(const Config& cfg) {
    int li = log2_of(cfg.get("tile_i")[1]), lj = log2_of(cfg.get("tile_j")[1]);
    int lk = log2_of(cfg.get("tile_k")[1]);
    double u = cfg.value("unroll");
    return 1e-5 * (1 + 0.6 * (li - 2) * (li - 2) + 0.4 * (lj - 3) * (lj - 3) + 0.5 * (lk - 1) * (lk - 1) +
                   0.3 * (1 - u));
  }
  static bool crashes(const Config& cfg) { return cfg.get("tile_i")[1] == 1 && cfg.get("tile_j")[1] == 1; }
};

// A MeasureFn over the landscape that remembers every config it was asked to measure.
struct FakeRunner {
  const Task* task;
  std::vector<std::vector<int64_t>> seen;
  std::function<ErrorKind(const Config&)> inject;  // extra errors (tests)

  std::vector<MeasureResult> operator()(const std::vector<Config>& configs) {
    std::vector<MeasureResult> results;
    for (const Config& cfg : configs) {
      seen.push_back(cfg.choices());
      MeasureResult r;
      try {
        r.steps_json = task->instantiate(cfg).schedule.steps_json();
      } catch (const Error& e) {
        r.error = ErrorKind::kInstantiate;
        r.error_message = e.what();
        results.push_back(r);
        continue;
      }
      ErrorKind injected = inject ? inject(cfg) : ErrorKind::kNone;
      if (injected != ErrorKind::kNone) {
        r.error = injected;
        r.costs = {1e-12};  // an error must never win, however fast it claims to be
      } else if (Landscape::crashes(cfg)) {
        r.error = ErrorKind::kRuntime;
        r.error_message = "fake crash";
      } else {
        double c = Landscape::cost(cfg);
        r.costs = {c, c, c};
      }
      results.push_back(r);
    }
    return results;
  }
  MeasureFn fn() {
    return [this](const std::vector<Config>& c) { return (*this)(c); };
  }
};

double optimum_seconds(const Task& task) {
  double best = INFINITY;
  for (int64_t i = 0; i < task.space.space_size(); ++i) {
    Config cfg = task.space.from_index(i);
    try {
      task.instantiate(cfg);
    } catch (const Error&) {
      continue;
    }
    if (!Landscape::crashes(cfg)) best = std::min(best, Landscape::cost(cfg));
  }
  return best;
}

class TunerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("te_tuner_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  static TuneOptions quiet(int trials) {
    TuneOptions o;
    o.trials = trials;
    o.progress = false;
    return o;
  }
  std::filesystem::path dir_;
};

TEST_F(TunerTest, UnknownKindIsAnError) {
  Task task = make_task();
  EXPECT_TE_ERROR(make_tuner("annealing", task), "unknown tuner kind 'annealing'", "xgb", "grid");
}

TEST_F(TunerTest, GridVisitsEveryConfigExactlyOnceInIndexOrder) {
  Task task = make_task();
  auto tuner = make_tuner("grid", task);
  std::vector<int64_t> indices;
  while (tuner->has_next()) {
    std::vector<Config> batch = tuner->next_batch(7);
    ASSERT_FALSE(batch.empty());
    for (const Config& c : batch) indices.push_back(c.index());
  }
  ASSERT_EQ(int64_t(indices.size()), task.space.space_size());
  for (size_t i = 0; i < indices.size(); ++i) EXPECT_EQ(indices[i], int64_t(i));
  EXPECT_TRUE(tuner->next_batch(3).empty());
}

TEST_F(TunerTest, NoTunerProposesAConfigTwice) {
  Task task = make_task();
  int64_t size = task.space.space_size();
  for (const char* kind : {"random", "grid", "sa"}) {
    SCOPED_TRACE(kind);
    auto tuner = make_tuner(kind, task, 7);
    FakeRunner runner{&task};
    TuneOptions options = quiet(int(size) + 10);  // more than the space: must stop by itself
    options.batch_size = 6;
    TuneResult result = tune(task, *tuner, runner.fn(), options);
    std::set<std::vector<int64_t>> distinct(runner.seen.begin(), runner.seen.end());
    EXPECT_EQ(distinct.size(), runner.seen.size()) << "a config was proposed twice";
    EXPECT_EQ(int64_t(runner.seen.size()), size) << "the whole space is visited when the budget allows";
    EXPECT_EQ(result.trials_measured, int(size));
    EXPECT_FALSE(tuner->has_next());
    ASSERT_TRUE(result.best.has_value());
    EXPECT_DOUBLE_EQ(result.best->result.mean_cost(), optimum_seconds(task));
  }
}

TEST_F(TunerTest, RandomTunerIsSeededAndUniformish) {
  Task task = make_task();
  auto first = make_tuner("random", task, 3), again = make_tuner("random", task, 3),
       other = make_tuner("random", task, 4);
  std::vector<Config> a = first->next_batch(20), b = again->next_batch(20), c = other->next_batch(20);
  ASSERT_EQ(a.size(), 20u);
  std::vector<int64_t> ia, ib, ic;
  for (size_t i = 0; i < 20; ++i) ia.push_back(a[i].index()), ib.push_back(b[i].index()), ic.push_back(c[i].index());
  EXPECT_EQ(ia, ib) << "same seed, same sequence";
  EXPECT_NE(ia, ic) << "another seed, another sequence";
  EXPECT_FALSE(std::is_sorted(ia.begin(), ia.end())) << "random order, not index order";
}

TEST_F(TunerTest, LogRoundTripThroughTune) {
  Task task = make_task();
  std::string log = path("tune.jsonl");
  auto tuner = make_tuner("random", task, 1);
  FakeRunner runner{&task};
  TuneOptions options = quiet(40);
  options.log_path = log;
  std::vector<int> done_seen;
  options.callback = [&](int done, int total, const Record& last) {
    done_seen.push_back(done);
    EXPECT_EQ(total, 40);
    EXPECT_EQ(last.workload_key, task.workload_key);
  };
  TuneResult result = tune(task, *tuner, runner.fn(), options);
  EXPECT_EQ(result.trials_measured, 40);
  EXPECT_EQ(result.trials_resumed, 0);
  ASSERT_EQ(done_seen.size(), 40u);
  for (int i = 0; i < 40; ++i) EXPECT_EQ(done_seen[i], i + 1);

  LogContents contents = read_log(log);
  EXPECT_EQ(contents.skipped_lines, 0);
  ASSERT_EQ(contents.records.size(), 40u);
  double best_cost = INFINITY;
  int errors = 0;
  for (size_t i = 0; i < contents.records.size(); ++i) {
    const Record& r = contents.records[i];
    EXPECT_EQ(r.workload_key, task.workload_key);
    EXPECT_EQ(r.target, task.target.str());
    EXPECT_EQ(r.flop, task.flop);
    EXPECT_FALSE(r.hardware.empty());
    Config cfg = task.space.from_json(r.config_json);
    EXPECT_EQ(cfg.choices(), runner.seen[i]) << "records are appended in measurement order";
    EXPECT_EQ(r.config_index, cfg.index());
    if (r.result.error == ErrorKind::kNone) {
      EXPECT_FALSE(r.steps_json.empty());
      best_cost = std::min(best_cost, r.result.mean_cost());
    } else {
      ++errors;
    }
  }
  EXPECT_EQ(result.errors, errors);
  ASSERT_TRUE(result.best.has_value());
  EXPECT_DOUBLE_EQ(result.best->result.mean_cost(), best_cost);
  std::optional<Record> best = best_record(contents.records, task.workload_key, task.target.str());
  ASSERT_TRUE(best.has_value());
  EXPECT_EQ(best->config_json, result.best->config_json);
  // The curve is best-so-far: one point per trial, never decreasing, ending at the best.
  ASSERT_EQ(result.best_gflops_curve.size(), 40u);
  EXPECT_TRUE(std::is_sorted(result.best_gflops_curve.begin(), result.best_gflops_curve.end()));
  EXPECT_DOUBLE_EQ(result.best_gflops_curve.back(), result.best->gflops());
}

// Runs `trials` (a TOTAL including resumed ones) on log with a fresh tuner and runner.
TuneResult run_on_log(const Task& task, const std::string& kind, const std::string& log, int trials,
                      FakeRunner& runner, uint64_t seed) {
  auto tuner = make_tuner(kind, task, seed);
  TuneOptions options;
  options.trials = trials;
  options.progress = false;
  options.log_path = log;
  return tune(task, *tuner, runner.fn(), options);
}

// A log tuned on another machine (its records name that machine): nothing of it is resumed —
// its configs are measured here again and this machine's set is appended after it.
TEST_F(TunerTest, ResumeSkipsAnotherMachinesRecords) {
  Task task = make_task();
  std::string log = path("other_machine.jsonl");
  FakeRunner first{&task}, second{&task};
  TuneResult r1 = run_on_log(task, "random", log, 20, first, 11);
  ASSERT_EQ(r1.trials_measured, 20);
  std::vector<Record> records = read_log(log).records;
  std::remove(log.c_str());
  {
    LogWriter writer(log);
    for (Record r : records) {
      r.hardware = "cpu: some other machine, 2 threads";
      writer.append(r);
    }
  }
  TuneResult r2 = run_on_log(task, "random", log, 20, second, 11);
  EXPECT_EQ(r2.trials_resumed, 0);
  EXPECT_EQ(r2.trials_measured, 20);
  EXPECT_EQ(second.seen, first.seen);  // the same seed proposes the same configs: measured again
  EXPECT_EQ(read_log(log).records.size(), 40u);
}

TEST_F(TunerTest, ResumeMeasuresOnlyNewConfigs) {
  Task task = make_task();
  for (const char* kind : {"random", "grid", "sa"}) {
    SCOPED_TRACE(kind);
    std::string log = path(std::string(kind) + ".jsonl");
    FakeRunner first{&task}, second{&task};
    TuneResult r1 = run_on_log(task, kind, log, 30, first, 11);
    EXPECT_EQ(r1.trials_measured, 30);
    // The same seed would propose the same configs again if the log were ignored.
    TuneResult r2 = run_on_log(task, kind, log, 60, second, 11);
    EXPECT_EQ(r2.trials_resumed, 30);
    EXPECT_EQ(r2.trials_measured, 30);
    EXPECT_EQ(second.seen.size(), 30u);
    std::set<std::vector<int64_t>> before(first.seen.begin(), first.seen.end());
    for (const auto& c : second.seen) EXPECT_FALSE(before.count(c)) << "a logged config was measured again";
    std::vector<Record> records = read_log(log).records;
    ASSERT_EQ(records.size(), 60u);
    std::set<std::string> configs;
    for (const Record& r : records) configs.insert(r.config_json);
    EXPECT_EQ(configs.size(), 60u);
    EXPECT_EQ(r2.best_gflops_curve.size(), 60u);
    ASSERT_TRUE(r2.best.has_value());
    ASSERT_TRUE(r1.best.has_value());
    EXPECT_GE(r2.best->gflops(), r1.best->gflops());
    // A third run with the budget already spent measures nothing.
    FakeRunner third{&task};
    TuneResult r3 = run_on_log(task, kind, log, 60, third, 11);
    EXPECT_EQ(r3.trials_measured, 0);
    EXPECT_TRUE(third.seen.empty());
  }
}

TEST_F(TunerTest, RefineMeasuresTheBestsNeighboursThenRemeasuresTheLeaders) {
  Task task = make_task();
  // The landscape's optimum, measured once in a slow spell of the machine (1.35x its time),
  // and its one-knob neighbour without unroll (1.3x the optimum), measured at its own time.
  Config optimum = task.space.from_json(R"({"tile_i":2,"tile_j":3,"tile_k":1,"unroll":1})");
  Config no_unroll = task.space.from_json(R"({"tile_i":2,"tile_j":3,"tile_k":1,"unroll":0})");
  ASSERT_NEAR(Landscape::cost(no_unroll), 1.3 * Landscape::cost(optimum), 1e-12);
  std::string log = path("refine.jsonl");
  FakeRunner first{&task};
  {
    LogWriter writer(log);
    std::vector<MeasureResult> measured = first({optimum, no_unroll});
    measured[0].costs = {1.35 * Landscape::cost(optimum)};
    // This machine's records (refine ranks only those): the hardware refine would write.
    const std::string here = this_machine(task.target.str());
    writer.append(make_record(task, optimum, measured[0], here));
    writer.append(make_record(task, no_unroll, measured[1], here));
  }
  ASSERT_EQ(best_record(read_log(log).records, task.workload_key, "llvm")->config_json, no_unroll.to_json());

  FakeRunner runner{&task};
  RefineOptions options;
  options.top = 2;
  options.rounds = 2;
  options.log_path = log;
  options.progress = false;
  RefineResult result = refine(task, runner.fn(), options);
  // Every one-knob neighbour of the best, except the optimum already in the log.
  std::set<std::vector<int64_t>> neighbours;
  for (size_t k = 0; k < no_unroll.knobs().size(); ++k)
    for (int64_t c = 0; c < int64_t(no_unroll.knobs()[k].choices.size()); ++c) {
      std::vector<int64_t> choices = no_unroll.choices();
      choices[k] = c;
      if (c != no_unroll.choices()[k] && choices != optimum.choices()) neighbours.insert(choices);
    }
  EXPECT_EQ(result.neighbours_measured, int(neighbours.size()));
  ASSERT_EQ(runner.seen.size(), neighbours.size() + 4);
  EXPECT_EQ(std::set<std::vector<int64_t>>(runner.seen.begin(), runner.seen.end() - 4), neighbours);
  // Then the two leaders by their fastest records (every other neighbour changes a tile and is
  // slower), twice, in the same order; with three records each they decide, by their medians.
  std::vector<std::vector<int64_t>> rounds(runner.seen.end() - 4, runner.seen.end());
  EXPECT_EQ(rounds, (std::vector<std::vector<int64_t>>{no_unroll.choices(), optimum.choices(), no_unroll.choices(),
                                                         optimum.choices()}));
  EXPECT_EQ(result.remeasured, 4);
  ASSERT_TRUE(result.best_before && result.best);
  EXPECT_EQ(result.best_before->config_json, no_unroll.to_json());
  EXPECT_EQ(result.best->config_json, optimum.to_json());
  // Everything measured is in the log, and apply_history_best now picks the optimum.
  std::vector<Record> records = read_log(log).records;
  EXPECT_EQ(records.size(), 2 + neighbours.size() + 4);
  EXPECT_EQ(apply_history_best(log, task).schedule.steps_json(), task.instantiate(optimum).schedule.steps_json());
  // Refining again measures only the optimum's neighbours that the log still lacks.
  FakeRunner again{&task};
  RefineResult second = refine(task, again.fn(), options);
  EXPECT_EQ(second.best->config_json, optimum.to_json());
  for (const auto& choices : std::vector<std::vector<int64_t>>(again.seen.begin(), again.seen.end() - 4)) {
    std::string json = optimum.with_choices(choices).to_json();
    for (const Record& r : records) EXPECT_NE(r.config_json, json) << "a logged neighbour was measured again";
  }
}

TEST_F(TunerTest, RefineNeverRemeasuresALoggedNeighbourWhateverTheKnobOrder) {
  // Knobs defined out of alphabetical order: the log holds each config's JSON sorted, a fresh
  // Config::to_json() in definition order, and refine must see they are the same config.
  register_template(
      "test_refine_knob_order",
      [](Config& cfg, const std::vector<int64_t>& args, const Target&) {
        Tensor a = placeholder({args[0], args[0]}, DataType::float32(), "A");
        Tensor b = compute({args[0], args[0]}, [&](const std::vector<Var>& i) { return a(i[0], i[1]) + 1.0f; }, "B");
        Schedule s = create_schedule({b.op()});
        const std::vector<IterVar> axes = s[b]->op.as<ComputeOpNode>()->axis;
        cfg.define_split("z_rows", axes[0], 2);
        cfg.define_knob("a_unused", {0, 1, 2});
        cfg.apply_split("z_rows", s[b], axes[0]);
        return Instance{s, {a, b}};
      },
      /*replace=*/true);
  Task task = create_task("test_refine_knob_order", {16}, "llvm");
  std::vector<std::string> seen;  // canonical JSON of every config measured
  MeasureFn measure = [&](const std::vector<Config>& configs) {
    std::vector<MeasureResult> results;
    for (const Config& cfg : configs) {
      seen.push_back(canonical_config_json(cfg.to_json()));
      MeasureResult r;
      double c = 1e-5 * double(1 + cfg.choices()[0] + cfg.choices()[1]);
      r.costs = {c, c, c};
      results.push_back(r);
    }
    return results;
  };
  std::string log = path("order.jsonl");
  TuneOptions tune_options = quiet(4);
  tune_options.log_path = log;
  std::unique_ptr<Tuner> grid = make_tuner("grid", task);
  tune(task, *grid, measure, tune_options);
  std::vector<std::string> tuned = seen;
  seen.clear();
  RefineOptions options;
  options.top = 2;
  options.rounds = 1;
  options.log_path = log;
  options.progress = false;
  RefineResult result = refine(task, measure, options);
  ASSERT_GE(result.neighbours_measured, 1);
  for (int i = 0; i < result.neighbours_measured; ++i)
    EXPECT_EQ(std::count(tuned.begin(), tuned.end(), seen[size_t(i)]), 0) << seen[size_t(i)] << " was logged";
  // The two leaders are two different configs.
  ASSERT_EQ(result.remeasured, 2);
  EXPECT_NE(seen[seen.size() - 1], seen[seen.size() - 2]);
}

TEST_F(TunerTest, RefineOptionsAreChecked) {
  Task task = make_task();
  FakeRunner runner{&task};
  RefineOptions options;
  EXPECT_TE_ERROR(refine(task, runner.fn(), options), "log_path");
  options.log_path = path("r.jsonl");
  options.top = -1;
  EXPECT_TE_ERROR(refine(task, runner.fn(), options), "top");
  options.top = 2;
  options.batch_size = 0;
  EXPECT_TE_ERROR(refine(task, runner.fn(), options), "batch_size");
  options.batch_size = 8;
  EXPECT_TE_ERROR(refine(task, MeasureFn(), options), "measure function");
  // An empty log has nothing to refine: nothing is measured.
  RefineResult result = refine(task, runner.fn(), options);
  EXPECT_FALSE(result.best_before.has_value());
  EXPECT_TRUE(runner.seen.empty());
}

TEST_F(TunerTest, TornLastLineIsSkippedOnResume) {
  Task task = make_task();
  std::string log = path("torn.jsonl");
  FakeRunner first{&task};
  run_on_log(task, "random", log, 20, first, 5);
  // A kill in the middle of writing record 21: half a line, no newline.
  std::string whole;
  {
    std::ifstream in(log);
    std::getline(in, whole);
  }
  {
    std::ofstream out(log, std::ios::app);
    out << whole.substr(0, whole.size() / 2);
  }
  FakeRunner second{&task};
  TuneResult r2 = run_on_log(task, "random", log, 30, second, 5);
  EXPECT_EQ(r2.trials_resumed, 20);
  EXPECT_EQ(r2.trials_measured, 10);
  LogContents contents = read_log(log);
  EXPECT_EQ(contents.records.size(), 30u);
  EXPECT_EQ(contents.skipped_lines, 1);
}

TEST_F(TunerTest, EarlyStoppingStopsAfterTrialsWithoutImprovement) {
  Task task = make_task();
  // Grid order with the landscape tilted so that index 0 is the best of all.
  FakeRunner runner{&task};
  int64_t size = task.space.space_size();
  MeasureFn measure = [&](const std::vector<Config>& configs) {
    std::vector<MeasureResult> results = runner(configs);
    for (size_t i = 0; i < configs.size(); ++i) {
      results[i].error = ErrorKind::kNone;
      double c = 1e-5 * (1 + double(configs[i].index()) / size);
      results[i].costs = {c};
    }
    return results;
  };
  auto tuner = make_tuner("grid", task);
  TuneOptions options = quiet(100);
  options.batch_size = 1;
  options.early_stopping = 10;
  TuneResult result = tune(task, *tuner, measure, options);
  EXPECT_EQ(result.trials_measured, 11) << "the best at trial 1, then 10 trials without improvement";
  ASSERT_TRUE(result.best.has_value());
  EXPECT_EQ(result.best->config_index, 0);
}

TEST_F(TunerTest, ErrorsAreCountedAndNeverWin) {
  Task task = make_task();
  FakeRunner runner{&task};
  // Every config with unroll on "computes a wrong answer" while claiming a tiny time.
  runner.inject = [](const Config& cfg) { return cfg.value("unroll") ? ErrorKind::kWrongAnswer : ErrorKind::kNone; };
  auto tuner = make_tuner("grid", task);
  TuneOptions options = quiet(int(task.space.space_size()));
  TuneResult result = tune(task, *tuner, runner.fn(), options);
  int expected_errors = 0;
  double best = INFINITY;
  for (int64_t i = 0; i < task.space.space_size(); ++i) {
    Config cfg = task.space.from_index(i);
    bool illegal = false;
    try {
      task.instantiate(cfg);
    } catch (const Error&) {
      illegal = true;
    }
    if (illegal || cfg.value("unroll") || Landscape::crashes(cfg))
      ++expected_errors;
    else
      best = std::min(best, Landscape::cost(cfg));
  }
  EXPECT_EQ(result.errors, expected_errors);
  ASSERT_TRUE(result.best.has_value());
  EXPECT_EQ(result.best->result.error, ErrorKind::kNone);
  EXPECT_EQ(task.space.from_json(result.best->config_json).value("unroll"), 0);
  EXPECT_DOUBLE_EQ(result.best->result.mean_cost(), best);
}

TEST_F(TunerTest, DuplicatesAreToldButNeitherCountedNorLogged) {
  Task task = make_task();
  FakeRunner runner{&task};
  // Odd indices have the same code as their even neighbour.
  runner.inject = [](const Config& cfg) { return cfg.index() % 2 ? ErrorKind::kDuplicate : ErrorKind::kNone; };
  auto tuner = make_tuner("grid", task);
  TuneOptions options = quiet(20);
  options.log_path = path("dup.jsonl");
  TuneResult result = tune(task, *tuner, runner.fn(), options);
  EXPECT_EQ(result.trials_measured, 20);
  size_t duplicates = 0;
  for (const auto& c : runner.seen) duplicates += task.space.with_choices(c).index() % 2;
  EXPECT_EQ(runner.seen.size() - duplicates, 20u) << "duplicates do not use up the budget";
  EXPECT_GE(duplicates, 19u);
  std::vector<Record> records = read_log(options.log_path).records;
  ASSERT_EQ(records.size(), 20u);
  for (const Record& r : records) EXPECT_NE(r.result.error, ErrorKind::kDuplicate);
}

TEST_F(TunerTest, BadOptionsAreErrors) {
  Task task = make_task();
  auto tuner = make_tuner("random", task);
  FakeRunner runner{&task};
  TuneOptions options = quiet(10);
  options.batch_size = 0;
  options.log_path = path("bad.jsonl");
  EXPECT_TE_ERROR(tune(task, *tuner, runner.fn(), options), "batch_size", ">= 1");
  EXPECT_FALSE(std::filesystem::exists(options.log_path)) << "no log is created for bad options";
  options = quiet(10);
  options.epsilon = 1.5;
  EXPECT_TE_ERROR(tune(task, *tuner, runner.fn(), options), "epsilon", "[0, 1]");
  options = quiet(-1);
  EXPECT_TE_ERROR(tune(task, *tuner, runner.fn(), options), "trials");
  options = quiet(10);
  EXPECT_TE_ERROR(tune(task, *tuner, MeasureFn(), options), "measure function is empty");
  MeasureFn short_measure = [](const std::vector<Config>&) { return std::vector<MeasureResult>{}; };
  EXPECT_TE_ERROR(tune(task, *tuner, short_measure, options), "returned 0 results");
}

TEST_F(TunerTest, ProgressBarAndSummary) {
  ProgressBar bar(200, 0, /*enabled=*/false);
  std::string line = bar.render(120, 85.34, 3, 0.8412, 60.0);
  EXPECT_NE(line.find("[############........] 120/200 trials | best 85.3 GFLOP/s | errors 3 | model acc 0.84 | ETA 0:40"),
            std::string::npos)
      << line;
  EXPECT_EQ(bar.render(0, 0, 0, std::nullopt, 1.0).find("model acc"), std::string::npos);
  EXPECT_EQ(format_duration(3723), "1:02:03");
  EXPECT_EQ(format_duration(-1), "?");

  Task task = make_task();
  auto tuner = make_tuner("random", task, 2);
  FakeRunner runner{&task};
  TuneOptions options = quiet(16);
  options.progress = true;
  ::testing::internal::CaptureStderr();
  tune(task, *tuner, runner.fn(), options);
  std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_NE(err.find("16/16 trials"), std::string::npos) << err;  // stderr is not a TTY here
  EXPECT_NE(err.find("tuning summary"), std::string::npos) << err;
  EXPECT_NE(err.find("best config"), std::string::npos) << err;
  EXPECT_NE(err.find("tile_i="), std::string::npos) << err;
  EXPECT_NE(err.find("wall time"), std::string::npos) << err;
}


// ----------------------------------------------------------------- model-guided tuners

// A deterministic stand-in for XGBoost: predicts the score of the nearest trained sample
// (squared distance over features), so the search is tested without XGBoost.
class NearestNeighbourModel : public CostModel {
 public:
  void fit(const FeatureMatrix& x, const std::vector<double>& y) override { x_ = x, y_ = y; }
  std::vector<double> predict(const FeatureMatrix& x) const override {
    std::vector<double> out;
    for (const auto& row : x) {
      double best_distance = INFINITY, score = 0;
      const float* q = row.data();
      for (size_t i = 0; i < x_.size(); ++i) {
        const float* t = x_[i].data();
        double d = 0;
        for (size_t f = 0, n = row.size(); f < n; ++f) d += double(q[f] - t[f]) * double(q[f] - t[f]);
        if (d < best_distance) best_distance = d, score = y_[i];
      }
      out.push_back(score);
    }
    return out;
  }
  bool trained() const override { return !x_.empty(); }
  void save(const std::string&) const override {}
  void load(const std::string&) override {}
  std::string name() const override { return "nearest"; }

 private:
  FeatureMatrix x_;
  std::vector<double> y_;
};

int illegal_count(const Task& task) {
  int n = 0;
  for (int64_t i = 0; i < task.space.space_size(); ++i) {
    try {
      task.instantiate(task.space.from_index(i));
    } catch (const Error&) {
      ++n;
    }
  }
  return n;
}

// Thrown by a runner once it has measured the optimum, to end a search early.
struct OptimumFound {};

TEST_F(TunerTest, ModelGuidedTunersNeverProposeIllegalOrRepeatedConfigs) {
  Task task = make_task();
  int illegal = illegal_count(task);
  ASSERT_GT(illegal, 0);
  for (const char* kind : {"xgb", "evolutionary"}) {
    SCOPED_TRACE(kind);
    auto tuner = make_tuner(kind, task, 5, std::make_unique<NearestNeighbourModel>());
    EXPECT_EQ(tuner->name(), kind);
    EXPECT_TRUE(tuner->uses_cost_model());
    FakeRunner runner{&task};
    TuneOptions options = quiet(int(task.space.space_size()));
    options.batch_size = 32;
    TuneResult result = tune(task, *tuner, runner.fn(), options);
    std::set<std::vector<int64_t>> distinct(runner.seen.begin(), runner.seen.end());
    EXPECT_EQ(distinct.size(), runner.seen.size()) << "a config was proposed twice";
    EXPECT_EQ(int64_t(runner.seen.size()), task.space.space_size() - illegal)
        << "every legal config once, no illegal one";
    for (const auto& c : runner.seen) EXPECT_NO_THROW(task.instantiate(task.space.with_choices(c)));
    EXPECT_FALSE(tuner->has_next());
    ASSERT_TRUE(tuner->last_batch_accuracy().has_value());
    EXPECT_GE(*tuner->last_batch_accuracy(), 0.0);
    EXPECT_LE(*tuner->last_batch_accuracy(), 1.0);
  }
}

TEST_F(TunerTest, ModelGuidedTunersMeasureTheDefaultConfigFirst) {
  Task task = make_task();
  const std::vector<int64_t> defaults(task.space.knobs().size(), 0);
  ASSERT_NO_THROW(task.instantiate(task.space.with_choices(defaults))) << "the fake task's default must be legal";
  auto holds_default = [&](const std::vector<Config>& batch) {
    return std::any_of(batch.begin(), batch.end(), [&](const Config& c) { return c.choices() == defaults; });
  };
  for (const char* kind : {"xgb", "evolutionary"}) {
    SCOPED_TRACE(kind);
    for (uint64_t seed : {1, 2, 3, 4}) {
      auto tuner = make_tuner(kind, task, seed, std::make_unique<NearestNeighbourModel>());
      FakeRunner runner{&task};
      std::vector<Config> first = tuner->next_batch(4);
      EXPECT_TRUE(holds_default(first)) << "seed " << seed;
      tuner->update(first, runner(first));
      for (int round = 0; round < 3; ++round) {
        std::vector<Config> next = tuner->next_batch(4);
        EXPECT_FALSE(holds_default(next)) << "measured once only";
        tuner->update(next, runner(next));
      }
    }
    // Resumed from a log that already measured it: not proposed again.
    auto resumed = make_tuner(kind, task, 1, std::make_unique<NearestNeighbourModel>());
    FakeRunner runner{&task};
    std::vector<Config> logged = {task.space.with_choices(defaults)};
    resumed->update(logged, runner(logged));
    EXPECT_FALSE(holds_default(resumed->next_batch(8)));
  }
  // The plain random tuner stays uniform (the baseline the model-guided tuners are compared with).
  int random_with_default = 0;
  for (uint64_t seed = 1; seed <= 8; ++seed)
    random_with_default += holds_default(make_tuner("random", task, seed)->next_batch(2)) ? 1 : 0;
  EXPECT_LT(random_with_default, 8);
}

TEST_F(TunerTest, ModelAccuracyIsReportedOnceTheModelIsTrained) {
  Task task = make_task();
  for (const char* kind : {"xgb", "evolutionary"}) {
    SCOPED_TRACE(kind);
    auto tuner = make_tuner(kind, task, 9, std::make_unique<NearestNeighbourModel>());
    FakeRunner runner{&task};
    std::vector<Config> first = tuner->next_batch(10);
    ASSERT_EQ(first.size(), 10u);
    tuner->update(first, runner(first));
    EXPECT_FALSE(tuner->last_batch_accuracy().has_value()) << "the first batch is random: no predictions";
    std::vector<Config> second = tuner->next_batch(10);
    ASSERT_EQ(second.size(), 10u);
    tuner->update(second, runner(second));
    ASSERT_TRUE(tuner->last_batch_accuracy().has_value());
  }
}

TEST_F(TunerTest, ModelGuidedSearchFindsTheOptimumSoonerThanRandom) {
  Task task = make_task();
  double optimum = optimum_seconds(task);
  // Trials until the optimum is measured (the whole space when never), mean of three seeds.
  auto mean_trials = [&](const std::string& kind, bool nearest) {
    double total = 0;
    for (uint64_t seed : {1, 2, 3}) {
      auto tuner = make_tuner(kind, task, seed,
                              nearest ? std::make_unique<NearestNeighbourModel>() : nullptr);
      FakeRunner runner{&task};
      MeasureFn measure = [&](const std::vector<Config>& configs) {
        std::vector<MeasureResult> results = runner(configs);
        for (const MeasureResult& r : results)
          if (r.error == ErrorKind::kNone && r.mean_cost() <= optimum) throw OptimumFound{};
        return results;
      };
      TuneOptions options = quiet(int(task.space.space_size()));
      options.batch_size = 8;
      try {
        tune(task, *tuner, measure, options);
        ADD_FAILURE() << kind << " never measured the optimum";
      } catch (const OptimumFound&) {
      }
      for (size_t i = 0; i < runner.seen.size(); ++i) {
        Config cfg = task.space.with_choices(runner.seen[i]);
        if (!Landscape::crashes(cfg) && Landscape::cost(cfg) <= optimum) {
          total += double(i + 1);
          break;
        }
      }
    }
    return total / 3;
  };
  double random = mean_trials("random", false);
  double guided = mean_trials("xgb", true);
  std::printf("trials to the optimum: random %.1f, guided %.1f\n", random, guided);
  EXPECT_LT(guided, random) << "model-guided (nearest-neighbour model) " << guided << " vs random " << random;
  if (have_xgboost()) {
    double xgb = mean_trials("xgb", false);
    EXPECT_LT(xgb, random) << "xgb " << xgb << " vs random " << random;
  }
}

TEST_F(TunerTest, TransferLogsPretrainTheModel) {
  Task other = make_task(16, 16, 8), task = make_task(32, 16, 8);
  std::string transfer = path("other.jsonl");
  {
    FakeRunner runner{&other};
    run_on_log(other, "random", transfer, 40, runner, 3);
  }
  for (bool with_transfer : {false, true}) {
    SCOPED_TRACE(with_transfer);
    auto tuner = make_tuner("xgb", task, 1, std::make_unique<NearestNeighbourModel>());
    FakeRunner runner{&task};
    TuneOptions options = quiet(8);
    if (with_transfer) options.transfer_logs = {transfer, path("missing.jsonl")};
    tune(task, *tuner, runner.fn(), options);
    // A model trained before the first batch predicts it, so its accuracy is known.
    EXPECT_EQ(tuner->last_batch_accuracy().has_value(), with_transfer);
  }
}

}  // namespace
}  // namespace te::autotune
