// Tuning logs (te/autotune/log.h): record round trip, torn and foreign lines, LogWriter
// errors, best_record's choice, apply_history_best with and without a record.
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "te/autotune/log.h"
#include "test_util.h"

namespace te::autotune {
namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

// A fresh empty directory per test, removed at the end.
class LogTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() /
           (std::string("te_log_") + info->name() + "_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }
  fs::path dir_;
};

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Record make_record(const std::string& key, const std::string& target, std::vector<double> costs,
                   ErrorKind error = ErrorKind::kNone, int64_t index = 0) {
  Record r;
  r.workload_key = key;
  r.target = target;
  r.hardware = "cpu: test machine, 2 threads";
  r.config_json = R"({"tile_i":)" + std::to_string(index) + R"(,"tile_j":1})";
  r.config_index = index;
  r.steps_json = R"([{"primitive":"split","stage":0,"iters":[0],"ints":[8]}])";
  r.result.error = error;
  r.result.costs = std::move(costs);
  r.result.timestamp = 1763780000.25 + double(index);
  r.flop = 2.0 * 64 * 64 * 64;
  r.te_version = "0.1.0";
  return r;
}

TEST_F(LogTest, RecordRoundTripKeepsEveryField) {
  for (ErrorKind kind : {ErrorKind::kNone, ErrorKind::kInstantiate, ErrorKind::kCompile, ErrorKind::kRuntime,
                         ErrorKind::kTimeout, ErrorKind::kWrongAnswer, ErrorKind::kDuplicate}) {
    Record r = make_record("matmul(64,64,64)", "llvm -mcpu=znver5", {1.5e-5, 1.25e-5, 2e-5}, kind, 42);
    r.result.error_message = "line 1: \"quoted\"\nline 2\ttab";
    r.result.build_seconds = 0.0625;
    r.result.code_hash = "deadbeef01234567";
    std::string line = r.to_json_line();
    EXPECT_EQ(line.find('\n'), std::string::npos) << "a record must be one line: " << line;

    // config and steps are embedded JSON, not strings holding JSON; the error is a word.
    json j = json::parse(line);
    EXPECT_TRUE(j.at("config").is_object()) << line;
    EXPECT_TRUE(j.at("steps").is_array()) << line;
    EXPECT_EQ(j.at("error").get<std::string>(), to_string(kind));
    EXPECT_EQ(j.at("version").get<int>(), kLogVersion);
    EXPECT_EQ(j.at("costs").size(), 3u);

    Record back = Record::from_json_line(line);
    EXPECT_EQ(back.version, r.version);
    EXPECT_EQ(back.workload_key, r.workload_key);
    EXPECT_EQ(back.target, r.target);
    EXPECT_EQ(back.hardware, r.hardware);
    EXPECT_EQ(json::parse(back.config_json), json::parse(r.config_json));
    EXPECT_EQ(back.config_index, r.config_index);
    EXPECT_EQ(json::parse(back.steps_json), json::parse(r.steps_json));
    EXPECT_EQ(back.result.error, kind);
    EXPECT_EQ(back.result.error_message, r.result.error_message);
    EXPECT_EQ(back.result.costs, r.result.costs);
    EXPECT_EQ(back.result.build_seconds, r.result.build_seconds);
    EXPECT_EQ(back.result.timestamp, r.result.timestamp);
    EXPECT_EQ(back.result.code_hash, r.result.code_hash);
    EXPECT_EQ(back.flop, r.flop);
    EXPECT_EQ(back.te_version, r.te_version);
    // A second round trip gives the same text: nothing drifts when logs are rewritten.
    EXPECT_EQ(back.to_json_line(), line);
  }
}

TEST_F(LogTest, GflopsIsFlopOverMeanCostAndZeroOnError) {
  Record ok = make_record("w", "llvm", {1e-3, 3e-3});
  EXPECT_NEAR(ok.gflops(), ok.flop / 2e-3 / 1e9, 1e-9);
  Record bad = make_record("w", "llvm", {1e-3}, ErrorKind::kWrongAnswer);
  EXPECT_EQ(bad.gflops(), 0.0);
}

TEST_F(LogTest, NonFiniteNumbersDoNotBreakTheLine) {
  Record r = make_record("w", "llvm", {std::nan(""), 1e-3});
  Record back = Record::from_json_line(r.to_json_line());
  ASSERT_EQ(back.result.costs.size(), 2u);
  EXPECT_FALSE(std::isfinite(back.result.costs[0]));
  EXPECT_EQ(back.result.costs[1], 1e-3);
}

TEST_F(LogTest, MalformedLinesThrowTeError) {
  EXPECT_TE_ERROR(Record::from_json_line("not json"), "not a JSON object");
  EXPECT_TE_ERROR(Record::from_json_line(R"({"version":1,"target":"llvm","error":"none"})"), "workload_key");
  EXPECT_TE_ERROR(
      Record::from_json_line(R"({"version":99,"workload_key":"w","target":"llvm","error":"none"})"),
      "version 99");
  EXPECT_TE_ERROR(Record::from_json_line(R"({"version":1,"workload_key":5,"target":"llvm","error":"none"})"),
                  "wrong type");
}

TEST_F(LogTest, MissingLogIsEmptyAndADirectoryIsAnError) {
  LogContents missing = read_log(path("nothing_here.jsonl"));
  EXPECT_TRUE(missing.records.empty());
  EXPECT_EQ(missing.skipped_lines, 0);
  EXPECT_TE_ERROR(read_log(dir_.string()), "is a directory");
}

TEST_F(LogTest, WriterOnUnwritablePathThrows) {
  EXPECT_TE_ERROR(LogWriter(path("no_such_dir/log.jsonl")), "cannot open the tuning log", "no_such_dir");
  EXPECT_TE_ERROR(LogWriter(dir_.string()), "tuning log");
}

TEST_F(LogTest, AppendedRecordsReadBackInOrder) {
  std::string log = path("log.jsonl");
  {
    LogWriter writer(log);
    for (int i = 0; i < 3; ++i)
      writer.append(make_record("w", "llvm", {1e-3 * (i + 1)}, ErrorKind::kNone, i));
  }
  {
    LogWriter writer(log);  // reopening appends, it does not truncate
    writer.append(make_record("w", "llvm", {5e-3}, ErrorKind::kNone, 3));
  }
  std::string text = read_file(log);
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 4);
  LogContents contents = read_log(log);
  EXPECT_EQ(contents.skipped_lines, 0);
  ASSERT_EQ(contents.records.size(), 4u);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(contents.records[i].config_index, i);
}

TEST_F(LogTest, TornLastLineIsSkippedAndTheNextAppendStartsAFreshLine) {
  std::string log = path("torn.jsonl");
  {
    LogWriter writer(log);
    writer.append(make_record("w", "llvm", {1e-3}, ErrorKind::kNone, 0));
    writer.append(make_record("w", "llvm", {2e-3}, ErrorKind::kNone, 1));
  }
  std::string torn = make_record("w", "llvm", {3e-3}, ErrorKind::kNone, 2).to_json_line();
  torn.resize(torn.size() / 2);  // a kill in the middle of a write
  {
    std::ofstream out(log, std::ios::app | std::ios::binary);
    out << torn;
  }
  LogContents before = read_log(log);
  EXPECT_EQ(before.records.size(), 2u);
  EXPECT_EQ(before.skipped_lines, 1);

  {
    LogWriter writer(log);
    writer.append(make_record("w", "llvm", {4e-3}, ErrorKind::kNone, 3));
  }
  LogContents after = read_log(log);
  EXPECT_EQ(after.skipped_lines, 1) << read_file(log);
  ASSERT_EQ(after.records.size(), 3u) << read_file(log);
  EXPECT_EQ(after.records.back().config_index, 3);
  // The torn text stays on its own line, followed by the new record's line.
  std::string text = read_file(log);
  EXPECT_NE(text.find(torn + "\n{"), std::string::npos) << text;
  EXPECT_EQ(text.back(), '\n');
}

TEST_F(LogTest, ForeignAndGarbageLinesAreCounted) {
  std::string log = path("mixed.jsonl");
  {
    std::ofstream out(log, std::ios::binary);
    out << make_record("w", "llvm", {1e-3}).to_json_line() << "\n";
    out << "hello, this is not a record\n";
    out << R"({"some":"other tool's json"})"
        << "\n";
    out << "\n";  // blank lines are not records and not errors
    out << R"({"version":7,"workload_key":"w","target":"llvm","error":"none"})"
        << "\n";
    out << R"({"version":1,"workload_key":"w","target":"llvm","error":"exploded"})"
        << "\n";
    out << "\x01\x02\xff garbage bytes\n";
    out << make_record("w", "llvm", {2e-3}).to_json_line() << "\n";
  }
  LogContents contents = read_log(log);
  EXPECT_EQ(contents.records.size(), 2u);
  EXPECT_EQ(contents.skipped_lines, 5);
}

TEST_F(LogTest, BestRecordPicksTheFastestValidOneOfTheWorkloadAndTarget) {
  std::vector<Record> records = {
      make_record("mm", "llvm", {4e-3, 4e-3}, ErrorKind::kNone, 0),
      make_record("mm", "llvm", {1e-3, 3e-3}, ErrorKind::kNone, 1),   // mean 2e-3: the best
      make_record("mm", "llvm", {1e-6}, ErrorKind::kWrongAnswer, 2),  // fast but wrong
      make_record("mm", "llvm", {1e-7}, ErrorKind::kRuntime, 3),
      make_record("mm", "llvm", {}, ErrorKind::kTimeout, 4),
      make_record("mm", "cuda", {1e-5}, ErrorKind::kNone, 5),     // other target
      make_record("other", "llvm", {1e-5}, ErrorKind::kNone, 6),  // other workload
      make_record("mm", "llvm", {2.5e-3}, ErrorKind::kNone, 7),
  };
  std::optional<Record> best = best_record(records, "mm", "llvm");
  ASSERT_TRUE(best.has_value());
  EXPECT_EQ(best->config_index, 1);
  ASSERT_TRUE(best_record(records, "mm", "cuda").has_value());
  EXPECT_EQ(best_record(records, "mm", "cuda")->config_index, 5);
  EXPECT_FALSE(best_record(records, "mm", "llvm -mcpu=znver5").has_value());
  EXPECT_FALSE(best_record(records, "nothing", "llvm").has_value());
  std::vector<Record> only_errors = {records[2], records[3], records[4]};
  EXPECT_FALSE(best_record(only_errors, "mm", "llvm").has_value());
}

// A log holding two machines' records: on each machine its own records decide (costs from
// another machine are not comparable); on a third machine, or with no hardware given, all do.
TEST_F(LogTest, BestRecordPrefersTheRecordsOfTheMachineItRunsOn) {
  auto on = [](Record r, const std::string& hardware) {
    r.hardware = hardware;
    return r;
  };
  std::vector<Record> records = {
      on(make_record("mm", "llvm", {1e-3}, ErrorKind::kNone, 1), "cpu: fast, 2 threads"),
      on(make_record("mm", "llvm", {3e-3}, ErrorKind::kNone, 2), "cpu: slow, 2 threads"),
      on(make_record("mm", "llvm", {5e-3}, ErrorKind::kNone, 3), "cpu: slow, 2 threads"),
      on(make_record("mm", "llvm", {0.5e-3}, ErrorKind::kWrongAnswer, 4), "cpu: slow, 2 threads"),
  };
  EXPECT_EQ(best_record(records, "mm", "llvm", "cpu: slow, 2 threads")->config_index, 2);
  EXPECT_EQ(best_record(records, "mm", "llvm", "cpu: fast, 2 threads")->config_index, 1);
  EXPECT_EQ(best_record(records, "mm", "llvm", "cpu: third, 2 threads")->config_index, 1);
  EXPECT_EQ(best_record(records, "mm", "llvm")->config_index, 1);
  // Only an invalid record measured here: the others compete.
  EXPECT_EQ(best_record({records[0], records[3]}, "mm", "llvm", "cpu: slow, 2 threads")->config_index, 1);
  EXPECT_EQ(this_machine("cuda"), "");
  EXPECT_EQ(this_machine("llvm").rfind("cpu: ", 0), 0u);
}

TEST_F(LogTest, ConfigsRemeasuredByRefineDecideByTheirMedianRecord) {
  // Config 1 once ran in a fast moment of the machine (1e-3); re-measured twice it takes 3e-3
  // and 4e-3. Config 2, re-measured too, takes 2e-3, 2.5e-3, 2.2e-3. Config 3 was measured
  // once, at 0.5e-3: one measurement cannot beat the re-measured ones.
  std::vector<Record> records = {
      make_record("mm", "llvm", {1e-3}, ErrorKind::kNone, 1),   make_record("mm", "llvm", {2e-3}, ErrorKind::kNone, 2),
      make_record("mm", "llvm", {0.5e-3}, ErrorKind::kNone, 3), make_record("mm", "llvm", {4e-3}, ErrorKind::kNone, 1),
      make_record("mm", "llvm", {2.5e-3}, ErrorKind::kNone, 2), make_record("mm", "llvm", {3e-3}, ErrorKind::kNone, 1),
      make_record("mm", "llvm", {2.2e-3}, ErrorKind::kNone, 2), make_record("mm", "llvm", {}, ErrorKind::kTimeout, 1),
  };
  std::optional<Record> best = best_record(records, "mm", "llvm");
  ASSERT_TRUE(best.has_value());
  EXPECT_EQ(best->config_index, 2);
  EXPECT_DOUBLE_EQ(best->result.mean_cost(), 2.2e-3);  // its median record
  // Before any config has kConfirmedRecords records, the fastest record wins, as always.
  std::vector<Record> once = {records[0], records[1], records[2], records[3]};
  EXPECT_EQ(best_record(once, "mm", "llvm")->config_index, 3);
  // A record read back from a log lists the knobs sorted, a fresh Config::to_json() in
  // definition order: the same config.
  Record reordered = make_record("mm", "llvm", {1.9e-3}, ErrorKind::kNone, 2);
  reordered.config_json = R"({"tile_j":1,"tile_i":2})";
  EXPECT_EQ(canonical_config_json(reordered.config_json), canonical_config_json(records[1].config_json));
  records.push_back(reordered);
  records.push_back(reordered);  // config 2: 1.9, 1.9, 2.0, 2.2, 2.5 -> median 2.0
  EXPECT_DOUBLE_EQ(best_record(records, "mm", "llvm")->result.mean_cost(), 2e-3);
  EXPECT_EQ(canonical_config_json("not json"), "not json");
}

// A small matmul template with two split knobs, registered once for these tests.
Task make_matmul_task() {
  static bool registered = [] {
    register_template(
        "test_log_matmul",
        [](Config& cfg, const std::vector<int64_t>& args, const Target&) {
          Tensor a = placeholder({args[0], args[2]}, DataType::float32(), "A");
          Tensor b = placeholder({args[2], args[1]}, DataType::float32(), "B");
          IterVar k = reduce_axis(Range(0, args[2]), "k");
          Tensor c = compute(
              {args[0], args[1]},
              [&](const std::vector<Var>& i) { return sum(a(i[0], k) * b(k, i[1]), {k}); }, "C");
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
  return create_task("test_log_matmul", {16, 16, 8}, "llvm");
}

TEST_F(LogTest, ApplyHistoryBestWithoutARecordUsesTheDefaultAndSaysSoOnce) {
  Task task = make_matmul_task();
  std::string log = path("empty.jsonl");
  ::testing::internal::CaptureStderr();
  Instance first = apply_history_best(log, task);
  Instance second = apply_history_best(log, task);
  std::string err = ::testing::internal::GetCapturedStderr();
  std::string note =
      "no tuning record for " + task.workload_key + " on llvm in " + log + "; using the default schedule";
  size_t at = err.find(note);
  ASSERT_NE(at, std::string::npos) << err;
  EXPECT_EQ(err.find(note, at + 1), std::string::npos) << "the note must be printed once: " << err;
  Instance expected = task.instantiate(task.space.from_index(0));
  EXPECT_EQ(first.schedule.steps_json(), expected.schedule.steps_json());
  EXPECT_EQ(second.schedule.steps_json(), expected.schedule.steps_json());
}

TEST_F(LogTest, ApplyHistoryBestReplaysTheBestRecord) {
  Task task = make_matmul_task();
  ASSERT_GT(task.space.space_size(), 3);
  std::string log = path("best.jsonl");
  Instance slow_instance = task.instantiate(task.space.from_index(1));
  Instance fast_instance = task.instantiate(task.space.from_index(task.space.space_size() - 1));
  ASSERT_NE(slow_instance.schedule.steps_json(), fast_instance.schedule.steps_json());
  {
    LogWriter writer(log);
    Record slow = make_record(task.workload_key, "llvm", {5e-3}, ErrorKind::kNone, 1);
    slow.config_json = task.space.from_index(1).to_json();
    slow.steps_json = slow_instance.schedule.steps_json();
    Record fast = slow;
    fast.result.costs = {1e-3};
    fast.config_index = task.space.space_size() - 1;
    fast.config_json = task.space.from_index(fast.config_index).to_json();
    fast.steps_json = fast_instance.schedule.steps_json();
    writer.append(slow);
    writer.append(fast);
  }
  ::testing::internal::CaptureStderr();
  Instance chosen = apply_history_best(log, task);
  std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_EQ(err.find("using the default schedule"), std::string::npos) << err;
  EXPECT_EQ(chosen.schedule.steps_json(), fast_instance.schedule.steps_json());
}

TEST_F(LogTest, ApplyHistoryBestFallsBackToTheConfigWhenStepsDoNotReplay) {
  Task task = make_matmul_task();
  std::string log = path("bad_steps.jsonl");
  int64_t index = task.space.space_size() - 1;
  {
    LogWriter writer(log);
    Record r = make_record(task.workload_key, "llvm", {1e-3}, ErrorKind::kNone, index);
    r.config_json = task.space.from_index(index).to_json();
    r.steps_json = R"([{"primitive":"no_such_primitive","stage":7}])";
    writer.append(r);
  }
  Instance chosen = apply_history_best(log, task);
  EXPECT_EQ(chosen.schedule.steps_json(),
            task.instantiate(task.space.from_index(index)).schedule.steps_json());
}

TEST_F(LogTest, HardwareDescriptionNamesTheMachine) {
  std::string cpu = hardware_description(Target::parse("llvm"));
  EXPECT_EQ(cpu.rfind("cpu: ", 0), 0u) << cpu;
  EXPECT_NE(cpu.find("thread"), std::string::npos) << cpu;
#if defined(__linux__) && defined(__x86_64__)
  // The family and model numbers tell hosts apart whose model name a hypervisor hides.
  EXPECT_NE(cpu.find(" (family "), std::string::npos) << cpu;
  EXPECT_NE(cpu.find(" model "), std::string::npos) << cpu;
#endif
  Target two = Target::parse("llvm");
  two.num_threads = 3;
  EXPECT_NE(hardware_description(two).find(", 3 threads"), std::string::npos) << hardware_description(two);
  std::string gpu = hardware_description(Target::parse("cuda"));
  EXPECT_EQ(gpu.rfind("gpu: ", 0), 0u) << gpu;
}

}  // namespace
}  // namespace te::autotune
