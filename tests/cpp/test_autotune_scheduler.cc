// Tests of the multi-task scheduler (src/autotune/task_scheduler.cc) on fake runners: the
// trial budget is a total, the task with more to gain gets more rounds, exhausted tasks leave
// the schedule, and every task's records go to one log.
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <set>

#include "te/autotune/tuner.h"
#include "test_util.h"

namespace te::autotune {
namespace {

// C[n, m] = A[n, k] · B[k, m] with two split knobs.
Task make_task(int64_t n, int64_t m, int64_t k) {
  static bool registered = [] {
    register_template(
        "test_scheduler_matmul",
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
          cfg.define_split("tile_i", axes[0], 2);
          cfg.define_split("tile_j", axes[1], 2);
          cfg.apply_split("tile_i", st, axes[0]);
          cfg.apply_split("tile_j", st, axes[1]);
          return Instance{s, {a, b, c}};
        },
        /*replace=*/true);
    return true;
  }();
  (void)registered;
  return create_task("test_scheduler_matmul", {n, m, k}, "llvm");
}

// Seconds = base · (1 + spread · distance of the config from the space's middle index).
struct FakeMeasure {
  const Task* task;
  double base, spread;
  int calls = 0;
  std::vector<MeasureResult> operator()(const std::vector<Config>& configs) {
    std::vector<MeasureResult> results;
    double middle = double(task->space.space_size() - 1) / 2;
    for (const Config& cfg : configs) {
      ++calls;
      MeasureResult r;
      double c = base * (1 + spread * std::abs(double(cfg.index()) - middle) / (middle + 1));
      r.costs = {c};
      r.steps_json = "[]";
      results.push_back(r);
    }
    return results;
  }
};

class SchedulerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("te_scheduler_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::filesystem::path dir_;
};

TEST_F(SchedulerTest, TheTaskWithMoreToGainGetsMoreTrials) {
  // Task 0 takes milliseconds and improves a lot with tuning; task 1 takes microseconds.
  std::vector<Task> tasks = {make_task(64, 64, 8), make_task(64, 32, 8)};
  ASSERT_GT(tasks[0].space.space_size(), 45) << "room for every trial the scheduler gives it";
  FakeMeasure slow{&tasks[0], 1e-3, 4.0}, fast{&tasks[1], 1e-6, 0.1};
  std::vector<MeasureFn> measures = {[&](const std::vector<Config>& c) { return slow(c); },
                                     [&](const std::vector<Config>& c) { return fast(c); }};
  TuneOptions options;
  options.trials = 40;
  options.batch_size = 4;
  options.progress = false;
  options.log_path = (dir_ / "tasks.jsonl").string();
  std::vector<TuneResult> results = tune_tasks(tasks, "random", measures, options, 3);
  ASSERT_EQ(results.size(), 2u);
  EXPECT_EQ(results[0].trials_measured + results[1].trials_measured, 40) << "trials is the TOTAL budget";
  EXPECT_GE(results[1].trials_measured, 4) << "the warm-up gives every task a batch";
  EXPECT_GT(results[0].trials_measured, 2 * results[1].trials_measured);
  EXPECT_EQ(slow.calls, results[0].trials_measured);
  EXPECT_EQ(fast.calls, results[1].trials_measured);

  std::vector<Record> records = read_log(options.log_path).records;
  ASSERT_EQ(records.size(), 40u);
  int of_first = 0;
  for (const Record& r : records) of_first += r.workload_key == tasks[0].workload_key;
  EXPECT_EQ(of_first, results[0].trials_measured);

  // A second job with a larger budget resumes both tasks from the shared log.
  FakeMeasure slow2{&tasks[0], 1e-3, 4.0}, fast2{&tasks[1], 1e-6, 0.1};
  measures = {[&](const std::vector<Config>& c) { return slow2(c); },
              [&](const std::vector<Config>& c) { return fast2(c); }};
  options.trials = 50;
  std::vector<TuneResult> again = tune_tasks(tasks, "random", measures, options, 3);
  EXPECT_EQ(again[0].trials_resumed, results[0].trials_measured);
  EXPECT_EQ(again[1].trials_resumed, results[1].trials_measured);
  EXPECT_EQ(again[0].trials_measured + again[1].trials_measured, 10);
  EXPECT_EQ(read_log(options.log_path).records.size(), 50u);
}

TEST_F(SchedulerTest, ExhaustedTasksLeaveTheSchedule) {
  // Task 1 has only 4 configs (2 x 2 splits of 2 x 2); the rest of the budget goes to task 0.
  std::vector<Task> tasks = {make_task(64, 64, 4), make_task(2, 2, 2)};
  ASSERT_EQ(tasks[1].space.space_size(), 4);
  FakeMeasure a{&tasks[0], 1e-6, 1.0}, b{&tasks[1], 1e-3, 1.0};  // task 1 dominates the time
  std::vector<MeasureFn> measures = {[&](const std::vector<Config>& c) { return a(c); },
                                     [&](const std::vector<Config>& c) { return b(c); }};
  TuneOptions options;
  options.trials = 30;
  options.batch_size = 3;
  options.progress = false;
  std::vector<TuneResult> results = tune_tasks(tasks, "grid", measures, options);
  EXPECT_EQ(results[1].trials_measured, 4);
  EXPECT_EQ(results[0].trials_measured, 26);
  for (const TuneResult& r : results) ASSERT_TRUE(r.best.has_value());
}

TEST_F(SchedulerTest, MismatchedMeasureFunctionsAreAnError) {
  std::vector<Task> tasks = {make_task(8, 8, 8), make_task(4, 4, 4)};
  FakeMeasure m{&tasks[0], 1e-6, 1.0};
  std::vector<MeasureFn> one = {[&](const std::vector<Config>& c) { return m(c); }};
  TuneOptions options;
  options.progress = false;
  EXPECT_TE_ERROR(tune_tasks(tasks, "random", one, options), "2 tasks but 1 measure functions");
  EXPECT_TE_ERROR(tune_tasks({}, "random", {}, options), "no tasks");
  std::vector<MeasureFn> two = {one[0], one[0]};
  EXPECT_TE_ERROR(tune_tasks(tasks, "simplex", two, options), "unknown tuner kind");
}

}  // namespace
}  // namespace te::autotune
