// The `autotune` command run as a subprocess: --list-ops, usage errors and their exit codes,
// --json, `best`, the default log path, and a tuning job killed with SIGKILL and resumed
// without losing or repeating a record. The binary is the build's `autotune`, next to this
// test executable.
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "te/autotune/log.h"
#include "test_util.h"

namespace te::autotune {
namespace {

using json = nlohmann::json;
namespace fs = std::filesystem;

fs::path autotune_binary() { return fs::read_symlink("/proc/self/exe").parent_path() / "autotune"; }

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

struct Child {
  pid_t pid = -1;
  fs::path out, err;
};

// Starts `autotune args...` in cwd with stdout/stderr redirected to files. One thread per
// kernel keeps the two shared cores free for the build workers.
Child spawn(const std::vector<std::string>& args, const fs::path& cwd) {
  Child child;
  static int serial = 0;
  child.out = cwd / ("stdout_" + std::to_string(serial) + ".txt");
  child.err = cwd / ("stderr_" + std::to_string(serial++) + ".txt");
  std::vector<std::string> argv_strings = {autotune_binary().string()};
  argv_strings.insert(argv_strings.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& s : argv_strings) argv.push_back(s.data());
  argv.push_back(nullptr);
  child.pid = ::fork();
  if (child.pid == 0) {
    if (::chdir(cwd.c_str()) != 0) ::_exit(120);
    int out = ::open(child.out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int err = ::open(child.err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (out < 0 || err < 0) ::_exit(121);
    ::dup2(out, 1);
    ::dup2(err, 2);
    ::setenv("TE_NUM_THREADS", "1", 1);
    ::execv(argv[0], argv.data());
    ::_exit(122);
  }
  return child;
}

struct Outcome {
  int exit_code = -1;  // -signal when killed
  std::string out, err;
};

Outcome wait_for(const Child& child) {
  int status = 0;
  ::waitpid(child.pid, &status, 0);
  Outcome o;
  o.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
  o.out = read_file(child.out);
  o.err = read_file(child.err);
  return o;
}

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(fs::exists(autotune_binary()))
        << autotune_binary() << " is missing: build the `autotune` target (tools/autotune.cc) first";
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() /
           (std::string("te_cli_") + info->name() + "_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  Outcome run(const std::vector<std::string>& args) { return wait_for(spawn(args, dir_)); }
  fs::path dir_;
};

TEST_F(CliTest, ListOpsNamesMatmulAndConv2d) {
  Outcome o = run({"--list-ops"});
  EXPECT_EQ(o.exit_code, 0) << o.err;
  EXPECT_NE(o.out.find("matmul"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("conv2d"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("batch_matmul"), std::string::npos) << o.out;
  Outcome j = run({"--list-ops", "--json"});
  ASSERT_EQ(j.exit_code, 0) << j.err;
  json listing = json::parse(j.out);
  std::set<std::string> names;
  for (const auto& op : listing.at("operators")) names.insert(op.at("name").get<std::string>());
  EXPECT_TRUE(names.count("matmul") && names.count("conv2d")) << j.out;
  std::map<std::string, size_t> set_sizes;
  for (const auto& set : listing.at("workload_sets"))
    set_sizes[set.at("name").get<std::string>()] = set.at("workloads").size();
  EXPECT_EQ(set_sizes["resnet18-conv"], 12u) << j.out;
  EXPECT_EQ(set_sizes["bert-gemm"], 5u) << j.out;
  EXPECT_NE(o.out.find("C12"), std::string::npos) << o.out;
}

TEST_F(CliTest, HelpDocumentsExitCodes) {
  Outcome o = run({"--help"});
  EXPECT_EQ(o.exit_code, 0) << o.err;
  EXPECT_NE(o.out.find("Exit codes"), std::string::npos) << o.out;
  EXPECT_NE(o.out.find("--trials"), std::string::npos) << o.out;
}

TEST_F(CliTest, UnknownOpIsAUsageErrorListingTheKnownOnes) {
  Outcome o = run({"--op", "matmull", "--trials", "2"});
  EXPECT_EQ(o.exit_code, 1) << o.out << o.err;
  EXPECT_NE(o.err.find("matmull"), std::string::npos) << o.err;
  EXPECT_NE(o.err.find("matmul"), std::string::npos) << o.err;
  EXPECT_NE(o.err.find("conv2d"), std::string::npos) << o.err;
  EXPECT_FALSE(fs::exists(dir_ / "matmull_llvm.jsonl"));
}

TEST_F(CliTest, BadShapeIsAUsageErrorNamingTheKey) {
  Outcome unknown = run({"--op", "matmul", "--shape", "m=16,q=3", "--trials", "2"});
  EXPECT_EQ(unknown.exit_code, 1) << unknown.err;
  EXPECT_NE(unknown.err.find("q"), std::string::npos) << unknown.err;
  Outcome malformed = run({"--op", "matmul", "--shape", "m=sixteen", "--trials", "2"});
  EXPECT_EQ(malformed.exit_code, 1) << malformed.err;
  EXPECT_NE(malformed.err.find("sixteen"), std::string::npos) << malformed.err;
}

TEST_F(CliTest, BadOptionsAreUsageErrors) {
  for (const std::vector<std::string>& args : {std::vector<std::string>{"--op", "matmul", "--trials", "0"},
                                               std::vector<std::string>{"--op", "matmul", "--tuner", "magic"},
                                               std::vector<std::string>{"--op", "matmul", "--cost-model", "lambdamart"},
                                               std::vector<std::string>{"--op", "matmul", "--target", "tpu"},
                                               std::vector<std::string>{"--op", "matmul", "--no-such-option"},
                                               std::vector<std::string>{"--trials", "4"},  // no --op
                                               std::vector<std::string>{"best"},  // best without --log
                                               std::vector<std::string>{"best", "--log", "missing.jsonl"}}) {
    Outcome o = run(args);
    EXPECT_EQ(o.exit_code, 1) << args[0] << " " << args[1] << ": " << o.err;
    EXPECT_FALSE(o.err.empty()) << args[0] << " " << args[1] << ": a usage error must say what was wrong";
  }
}

TEST_F(CliTest, JsonSummaryParsesAndBestPrintsTheSchedule) {
  Outcome o = run({"--op", "matmul", "--target", "llvm", "--shape", "m=16,n=16,k=16", "--trials", "4",
                   "--tuner", "random", "--batch", "2", "--log", "small.jsonl", "--json", "--no-progress"});
  ASSERT_EQ(o.exit_code, 0) << o.err;
  json summary = json::parse(o.out);  // stdout holds only the JSON summary
  EXPECT_EQ(summary.at("op"), "matmul");
  EXPECT_EQ(summary.at("trials"), 4);
  EXPECT_EQ(summary.at("trials_measured").get<int>() + summary.at("trials_resumed").get<int>(), 4);
  EXPECT_EQ(summary.at("log"), "small.jsonl");
  ASSERT_TRUE(summary.at("best").is_object()) << o.out;
  EXPECT_GT(summary["best"].at("gflops").get<double>(), 0);
  EXPECT_EQ(read_log((dir_ / "small.jsonl").string()).records.size(), 4u);

  Outcome best = run({"best", "--log", "small.jsonl"});
  ASSERT_EQ(best.exit_code, 0) << best.err;
  EXPECT_NE(best.out.find("GFLOP/s"), std::string::npos) << best.out;
  EXPECT_NE(best.out.find("matmul(16,16,16)"), std::string::npos) << best.out;
  EXPECT_NE(best.out.find("s["), std::string::npos) << "the schedule as Python: " << best.out;
  Outcome other = run({"best", "--log", "small.jsonl", "--op", "matmul", "--shape", "m=32,n=32,k=32"});
  EXPECT_EQ(other.exit_code, 2) << "no record of that workload: " << other.out << other.err;
}

TEST_F(CliTest, RegressionCostModelTunes) {
  Outcome o = run({"--op", "matmul", "--shape", "m=16,n=16,k=16", "--trials", "6", "--tuner", "xgb",
                   "--cost-model", "regression", "--batch", "2", "--log", "reg.jsonl", "--json", "--no-progress"});
  ASSERT_EQ(o.exit_code, 0) << o.err;
  EXPECT_EQ(json::parse(o.out).at("trials_measured"), 6) << o.out;
}

TEST_F(CliTest, NoValidCandidateExitsWithTwo) {
  // A one-microsecond timeout kills every candidate (the child process alone takes longer).
  Outcome o =
      run({"--op", "matmul", "--shape", "m=8,n=8,k=8", "--trials", "2", "--tuner", "random", "--batch", "2",
           "--timeout", "0.000001", "--log", "none.jsonl", "--json", "--no-progress"});
  EXPECT_EQ(o.exit_code, 2) << o.out << o.err;
  EXPECT_NE(o.err.find("no valid candidate"), std::string::npos) << o.err;
  EXPECT_NE(o.err.find("timeout"), std::string::npos) << o.err;
  json summary = json::parse(o.out);
  EXPECT_TRUE(summary.at("best").is_null()) << o.out;
  EXPECT_EQ(summary.at("exit_code"), 2);
  Outcome best = run({"best", "--log", "none.jsonl"});
  EXPECT_EQ(best.exit_code, 2) << best.out << best.err;
}

TEST_F(CliTest, DefaultLogIsOpAndTargetInTheWorkingDirectory) {
  Outcome o = run({"--op", "matmul", "--shape", "m=8,n=8,k=8", "--trials", "2", "--tuner", "random",
                   "--batch", "2", "--no-progress"});
  ASSERT_EQ(o.exit_code, 0) << o.err;
  EXPECT_TRUE(fs::exists(dir_ / "matmul_llvm.jsonl")) << o.err;
  EXPECT_NE(o.err.find("matmul_llvm.jsonl"), std::string::npos) << "it must say where it writes: " << o.err;
  EXPECT_NE(o.out.find("autotune summary"), std::string::npos) << o.out;
}

TEST_F(CliTest, WorkloadSetTunesEveryTaskIntoOneLog) {
  // Five BERT GEMMs (three matmuls, the two batched attention GEMMs), one trial each: the
  // scheduler's warm-up gives every task a batch.
  Outcome o = run({"--workloads", "bert-gemm", "--trials", "5", "--tuner", "random", "--batch", "1",
                   "--log", "bert.jsonl", "--json", "--no-progress"});
  ASSERT_EQ(o.exit_code, 0) << o.err;
  json summary = json::parse(o.out);
  EXPECT_EQ(summary.at("workloads"), "bert-gemm");
  ASSERT_EQ(summary.at("tasks").size(), 5u) << o.out;
  std::set<std::string> keys;
  for (const auto& task : summary.at("tasks")) {
    EXPECT_EQ(task.at("trials"), 1) << o.out;
    keys.insert(task.at("workload_key").get<std::string>());
  }
  EXPECT_TRUE(keys.count("matmul(128,768,768)") && keys.count("matmul(128,3072,768)") &&
              keys.count("matmul(128,768,3072)") &&
              keys.count("batch_matmul(12,128,128,64,0,1)") && keys.count("batch_matmul(12,128,64,128,0,0)"))
      << o.out;
  EXPECT_EQ(read_log((dir_ / "bert.jsonl").string()).records.size(), 5u);
  EXPECT_NE(o.err.find("sum of the best times"), std::string::npos) << o.err;
}

TEST_F(CliTest, WorkloadSetUsageErrors) {
  Outcome unknown = run({"--workloads", "resnet50", "--trials", "1"});
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_NE(unknown.err.find("unknown workload set 'resnet50'"), std::string::npos) << unknown.err;
  EXPECT_NE(unknown.err.find("resnet18-conv"), std::string::npos) << unknown.err;
  Outcome both = run({"--workloads", "bert-gemm", "--op", "matmul", "--trials", "1"});
  EXPECT_EQ(both.exit_code, 1);
  EXPECT_NE(both.err.find("leave out --op"), std::string::npos) << both.err;
}

int count_lines(const fs::path& path) {
  std::string text = read_file(path);
  return int(std::count(text.begin(), text.end(), '\n'));
}

// kill -9 in the middle of a job, then the same command again: the log ends with exactly
// `trials` records of this workload, none measured twice, none lost.
TEST_F(CliTest, KilledJobResumesWithoutLosingOrRepeatingRecords) {
  const int trials = 16;  // about a second per candidate on a loaded 2-core machine
  const std::vector<std::string> args = {"--op",         "matmul",
                                         "--target",     "llvm",
                                         "--shape",      "m=32,n=32,k=32",
                                         "--trials",     std::to_string(trials),
                                         "--tuner",      "random",
                                         "--batch",      "2",
                                         "--seed",       "7",
                                         "--log",        "killed.jsonl",
                                         "--no-progress"};
  const fs::path log = dir_ / "killed.jsonl";
  Child first = spawn(args, dir_);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (std::chrono::steady_clock::now() < deadline && (!fs::exists(log) || count_lines(log) < 4)) {
    int status = 0;
    if (::waitpid(first.pid, &status, WNOHANG) == first.pid) {
      FAIL() << "autotune ended before it was killed (status " << status << "): " << read_file(first.err);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  ::kill(first.pid, SIGKILL);
  Outcome killed = wait_for(first);
  ASSERT_EQ(killed.exit_code, -SIGKILL) << killed.err;
  LogContents before = read_log(log.string());
  ASSERT_GE(before.records.size(), 3u) << "no progress within 120 s: " << killed.err;
  ASSERT_LT(before.records.size(), size_t(trials)) << "it finished before the kill; nothing to resume";
  EXPECT_LE(before.skipped_lines, 1);

  std::vector<std::string> resumed_args = args;
  resumed_args.push_back("--json");
  Outcome second = run(resumed_args);
  ASSERT_EQ(second.exit_code, 0) << second.err;
  json summary = json::parse(second.out);
  EXPECT_EQ(summary.at("trials_resumed").get<size_t>(), before.records.size()) << second.out;
  EXPECT_EQ(summary.at("trials_measured").get<size_t>(), trials - before.records.size()) << second.out;

  LogContents after = read_log(log.string());
  EXPECT_LE(after.skipped_lines, 1) << "only a torn line may fail to parse";
  EXPECT_EQ(after.skipped_lines, before.skipped_lines);
  ASSERT_EQ(after.records.size(), size_t(trials));
  std::set<std::string> configs;
  for (size_t i = 0; i < after.records.size(); ++i) {
    const Record& r = after.records[i];
    EXPECT_EQ(r.workload_key, "matmul(32,32,32)");
    EXPECT_TRUE(configs.insert(r.config_json).second) << "config measured twice: " << r.config_json;
    if (i < before.records.size()) {  // nothing written before the kill was lost or changed
      EXPECT_EQ(r.to_json_line(), before.records[i].to_json_line());
    }
  }
}


TEST_F(CliTest, DtypeFloat16SelectsTheFp16MatmulWorkload) {
  // float16 exists for matmul only, on cuda; each misuse is a usage error saying so.
  Outcome llvm = run({"--op", "matmul", "--dtype", "float16", "--target", "llvm", "--trials", "2"});
  EXPECT_EQ(llvm.exit_code, 1) << llvm.err;
  EXPECT_NE(llvm.err.find("cuda"), std::string::npos) << llvm.err;
  Outcome conv = run({"--op", "conv2d", "--dtype", "float16", "--target", "cuda", "--trials", "2"});
  EXPECT_EQ(conv.exit_code, 1) << conv.err;
  EXPECT_NE(conv.err.find("matmul only"), std::string::npos) << conv.err;
  Outcome bf = run({"--op", "matmul", "--dtype", "bfloat16", "--target", "cuda", "--trials", "2"});
  EXPECT_EQ(bf.exit_code, 1) << bf.err;
  EXPECT_NE(bf.err.find("bfloat16"), std::string::npos) << bf.err;
  Outcome set = run({"--workloads", "bert-gemm", "--dtype", "float16", "--target", "cuda", "--trials", "2"});
  EXPECT_EQ(set.exit_code, 1) << set.err;
  EXPECT_NE(set.err.find("--dtype"), std::string::npos) << set.err;
  // The task is matmul_fp16's: its own workload key, so float32 matmul logs stay valid. Without
  // a GPU no candidate runs (exit 2), but the records name the float16 workload either way.
  Outcome o = run({"--op", "matmul", "--dtype", "float16", "--target", "cuda", "--shape", "m=16,n=16,k=16",
                   "--trials", "2", "--tuner", "random", "--batch", "2", "--log", "fp16.jsonl", "--no-progress"});
  EXPECT_TRUE(o.exit_code == 0 || o.exit_code == 2) << o.err;
  EXPECT_NE(o.err.find("matmul_fp16(16,16,16)"), std::string::npos) << o.err;
  LogContents log = read_log((dir_ / "fp16.jsonl").string());
  ASSERT_EQ(log.records.size(), 2u) << o.err;
  for (const Record& r : log.records) EXPECT_EQ(r.workload_key, "matmul_fp16(16,16,16)");
}

}  // namespace
}  // namespace te::autotune
