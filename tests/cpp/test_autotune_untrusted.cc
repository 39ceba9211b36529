// Tuning logs are untrusted files (issue 8, point 6): crafted records — deep nesting, huge
// or negative numbers, wrong types, unknown primitives, out-of-range indices, injection
// attempts in target strings — are refused with te::Error or skipped as unreadable lines;
// none crashes, hangs, or reaches a compiler option unchecked. The regression inputs of the
// libFuzzer targets (tests/fuzz/libfuzzer) live here too.
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "te/autotune/log.h"
#include "te/autotune/task.h"
#include "te/ops.h"
#include "test_util.h"

namespace te::autotune {
namespace {

using te::testing::const_shape;
namespace fs = std::filesystem;

std::string nested(int depth) { return std::string(size_t(depth), '[') + std::string(size_t(depth), ']'); }

std::string record_line(const std::string& fields) {
  return R"J({"version":1,"workload_key":"matmul(16,16,16)","target":"llvm","error":"none")J" +
         (fields.empty() ? std::string() : "," + fields) + "}";
}

std::string temp_log(const std::string& name, const std::string& text) {
  std::string path = (fs::temp_directory_path() / ("te_untrusted_" + std::to_string(::getpid()) + "_" + name)).string();
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

const Task& matmul_task() {
  static const Task task = [] {
    ops::register_builtin_templates();
    return create_task("matmul", {16, 16, 16}, "llvm");
  }();
  return task;
}

// Regression (fuzz_tuning_log): a 100 000-deep array in a record's config overflowed the
// stack when the record was re-serialized (nlohmann's dump() recurses per level).
TEST(UntrustedLog, DeeplyNestedJsonIsRefusedNotACrash) {
  EXPECT_TE_ERROR(Record::from_json_line(record_line(R"("config":)" + nested(100000))), "nested at most 64");
  EXPECT_TE_ERROR(Record::from_json_line(record_line(R"("steps":)" + nested(100000))), "nested at most 64");
  EXPECT_TE_ERROR(Schedule::steps_from_json(nested(100000)), "deeper than 64");
  EXPECT_TE_ERROR(matmul_task().space.from_json(R"({"tile_i":)" + nested(5000) + "}"), "nested at most 64");
  // Brackets inside strings are not nesting; a record with a long bracketed string reads.
  Record r = Record::from_json_line(record_line(R"("error_message":")" + std::string(1000, '[') + "\""));
  EXPECT_EQ(r.result.error_message.size(), 1000u);
  // Nesting up to the limit is still read.
  EXPECT_NO_THROW(Record::from_json_line(record_line(R"("config":)" + nested(60))));
  std::string path = temp_log("deep.jsonl", record_line(R"("config":)" + nested(100000)) + "\n" + record_line("") + "\n");
  LogContents contents = read_log(path);
  EXPECT_EQ(contents.records.size(), 1u);
  EXPECT_EQ(contents.skipped_lines, 1);
  fs::remove(path);
}

TEST(UntrustedLog, WrongTypesAndHugeNumbersAreRefused) {
  EXPECT_TE_ERROR(Record::from_json_line(R"({"version":1,"workload_key":5,"target":"llvm","error":"none"})"),
                  "wrong type");
  EXPECT_TE_ERROR(Record::from_json_line(R"({"version":"1","workload_key":"k","target":"llvm","error":"none"})"),
                  "'version' must be an integer");
  // Regression (fuzz_tuning_log, UBSan): 1e300 and 2^64-1 were converted to int out of range.
  EXPECT_TE_ERROR(Record::from_json_line(R"({"version":1e300,"workload_key":"k","target":"llvm","error":"none"})"),
                  "'version' must be an integer");
  EXPECT_TE_ERROR(Record::from_json_line(record_line(R"("config_index":1e30)")), "'config_index' must be an integer");
  EXPECT_TE_ERROR(Record::from_json_line(record_line(R"("config_index":18446744073709551615)")),
                  "'config_index'", "out of range");
  EXPECT_TE_ERROR(Record::from_json_line(R"({"version":99999999999,"workload_key":"k","target":"llvm","error":"none"})"),
                  "version");
  EXPECT_TE_ERROR(Record::from_json_line(record_line(R"("costs":{"a":1})")), "'costs' must be a list");
  EXPECT_TE_ERROR(Record::from_json_line(record_line(R"("costs":["fast"])")), "wrong type");
  EXPECT_TE_ERROR(Record::from_json_line(R"({"version":1,"workload_key":"k","target":"llvm","error":"rm -rf"})"),
                  "rm -rf");
  // Huge and negative costs read, but a record whose mean cost is not positive is never
  // the best one (it would win every comparison).
  Record r = Record::from_json_line(record_line(R"("costs":[-1e308,-1],"flop":1e308,"config_index":-5)"));
  EXPECT_EQ(r.result.costs.size(), 2u);
  EXPECT_EQ(r.gflops(), 0.0);
  EXPECT_FALSE(best_record({r}, r.workload_key, r.target));
}

TEST(UntrustedLog, StepsWithBadPrimitivesIndicesAndFactorsAreRefused) {
  const Task& task = matmul_task();
  auto replay = [&](const std::string& steps) { return task.replay(Schedule::steps_from_json(steps)); };
  EXPECT_TE_ERROR(replay(R"([{"p":"system","stage":0,"strs":["rm -rf /"]}])"), "system");
  EXPECT_TE_ERROR(replay(R"([{"p":"split","stage":999,"iters":[0],"ints":[8]}])"), "stage");
  EXPECT_TE_ERROR(replay(R"([{"p":"split","stage":-1,"iters":[0],"ints":[8]}])"), "stage");
  int last = int(task.default_instance().schedule->stages.size()) - 1;
  std::string stage = std::to_string(last);
  EXPECT_TE_ERROR(replay(R"([{"p":"split","stage":)" + stage + R"(,"iters":[99],"ints":[8]}])"), "split");
  EXPECT_TE_ERROR(replay(R"([{"p":"split","stage":)" + stage + R"(,"iters":[0],"ints":[0]}])"), "split");
  EXPECT_TE_ERROR(replay(R"([{"p":"split","stage":)" + stage + R"(,"iters":[0],"ints":[-4]}])"), "split");
  EXPECT_TE_ERROR(Schedule::steps_from_json(R"([{"p":"split","stage":1e30}])"), "stage");
  EXPECT_TE_ERROR(Schedule::steps_from_json(R"([{"p":7,"stage":0}])"), "primitive");
  EXPECT_TE_ERROR(Schedule::steps_from_json(R"({"p":"split"})"), "list");
  EXPECT_TE_ERROR(replay(R"([{"p":"split","stage":)" + stage + R"(,"iters":[0],"ints":[4611686018427387904]}])"),
                  "at most 2147483647");
  // The largest legal factor (one outer iteration with a guarded tail) lowers and runs.
  Instance big = replay(R"([{"p":"split","stage":)" + stage + R"(,"iters":[0],"ints":[2147483647]}])");
  Module m = build(big.schedule, big.args, "llvm", "huge_factor");
  std::vector<NDArray> args;
  for (size_t i = 0; i + 1 < big.args.size(); ++i)
    args.push_back(te::testing::random_array(const_shape(big.args[i]), big.args[i].dtype(), 3 + i));
  NDArray out = NDArray::empty(const_shape(big.args.back()), big.args.back().dtype());
  out.fill_poison();
  std::vector<NDArray> inputs = args;
  args.push_back(out);
  m(args);
  std::vector<Tensor> placeholders(big.args.begin(), big.args.end() - 1);
  EXPECT_EQ(te::testing::compare_arrays(out, evaluate_reference(placeholders, inputs, {big.args.back()})[0]), "");
}

TEST(UntrustedLog, TargetStringsNeverReachLlvmUnchecked) {
  // Shell and option injection: whitespace splits tokens, every token must be a known option.
  EXPECT_TE_ERROR(Target::parse("llvm; rm -rf /"), "unknown target kind");
  EXPECT_TE_ERROR(Target::parse("llvm -mcpu=znver4 --include-path=/etc"), "unknown option");
  EXPECT_TE_ERROR(Target::parse("cuda -mcpu=sm_90"), "is for target llvm");
  EXPECT_TE_ERROR(Target::parse("cuda -Xnvrtc=--pre-include=/etc/passwd"), "is not allowed");
  EXPECT_TE_ERROR(Target::parse("llvm -mattr=avx512f"), "bad -mattr feature");
  EXPECT_TE_ERROR(Target::parse("llvm -num-threads=99999999999"), "-num-threads");
  // Regression (fuzz_target_string): NUL and control characters inside a value were kept.
  const char with_nul[] = "llvm -mcpu=\0\0znver4";
  EXPECT_TE_ERROR(Target::parse(std::string(with_nul, sizeof(with_nul) - 1)), "control character (byte 0 at position 11)");
  EXPECT_TE_ERROR(Target::parse("llvm -mcpu=zn\x01ver4"), "control character (byte 1");
  EXPECT_TE_ERROR(Target::parse("llvm -mcpu=zn\xc3\xa9ver4"), "bad -mcpu value");
  EXPECT_TE_ERROR(Target::parse("llvm -mcpu=$(touch${IFS}/tmp/te_pwned)"), "bad -mcpu value");
  EXPECT_TE_ERROR(Target::parse("llvm -mattr=+avx512f,+`id`"), "bad -mattr feature");
  EXPECT_EQ(Target::parse("llvm -mcpu=x86-64-v4 -mattr=+sse4.2,-avx512f").mcpu, "x86-64-v4");
  // Syntactically fine, but not a CPU or feature LLVM knows: refused before any codegen.
  Tensor A = placeholder({8}, DataType::float32(), "A");
  Tensor B = compute({8}, [&](const std::vector<Var>& i) { return A(i[0]) + 1.0f; }, "B");
  Schedule s = create_schedule({B.op()});
  EXPECT_TE_ERROR(build(s, {A, B}, "llvm -mcpu=not-a-cpu", "inj"), "is not a CPU LLVM knows");
  EXPECT_TE_ERROR(build(s, {A, B}, "llvm -mattr=+avx512f,+no-such-feature", "inj"), "is not a feature LLVM knows");
  EXPECT_TE_ERROR(build(s, {A, B}, "llvm -mattr=+avx512f,-x86-64;-O0", "inj"), "bad -mattr feature");
  EXPECT_FALSE(fs::exists("/tmp/te_pwned"));
}

TEST(UntrustedLog, WorkloadKeysParseOnlyTheirOwnForm) {
  EXPECT_FALSE(parse_template_key(""));
  EXPECT_FALSE(parse_template_key("()"));
  EXPECT_FALSE(parse_template_key("matmul(99999999999999999999)"));  // beyond int64
  EXPECT_FALSE(parse_template_key("matmul(1,,2)"));
  EXPECT_FALSE(parse_template_key("matmul(1;2)"));
  EXPECT_FALSE(parse_template_key("auto_0123456789abcdef"));
  std::optional<TemplateKey> k = parse_template_key("matmul(-3,0,9223372036854775807)");
  ASSERT_TRUE(k);
  EXPECT_EQ(k->name, "matmul");
  EXPECT_EQ(k->args, (std::vector<int64_t>{-3, 0, INT64_MAX}));
  // A template name from a log is only looked up in the registry.
  EXPECT_TE_ERROR(create_task("../../lib/libc.so.6", {1}, "llvm"), "../../lib/libc.so.6");
  EXPECT_TE_ERROR(create_task("matmul", {-16, 16, 16}, "llvm"), "matmul");
  // Regression: sizes from a transfer log's key (warm start) reach define_split, whose factor
  // enumeration looped up to the extent: 10^12 hung. Now O(sqrt(extent)) with a bound.
  Config space;
  EXPECT_TE_ERROR(space.define_split("huge", int64_t(1) << 50, 2), "too large to enumerate");
  space.define_split("prime", 1000000007, 2);  // a prime: 2 factors, found in 31623 steps
  EXPECT_EQ(space.knobs()[0].choices.size(), 2u);
}

TEST(UntrustedLog, SplitSpaceFactorsAndPowersOfTwo) {
  Config space;
  space.define_split("f", 36, 2);
  ASSERT_EQ(space.knobs().size(), 1u);
  std::vector<int64_t> inner;
  for (const std::vector<int64_t>& c : space.knobs()[0].choices) inner.push_back(c[1]);
  EXPECT_EQ(inner, (std::vector<int64_t>{1, 2, 3, 4, 6, 9, 12, 18, 36}));
  space.define_split("p", INT64_MAX, 2, SplitOptions{SplitPolicy::kPowerOfTwo});
  EXPECT_EQ(space.knobs()[1].choices.size(), 63u);  // 2^0 .. 2^62, no overflow past 2^62
}

TEST(UntrustedLog, ApplyHistoryBestFallsBackOnARecordThatDoesNotApply) {
  const Task& task = matmul_task();
  std::string bad_steps = R"([{"p":"unroll","stage":0,"iters":[12345]}])";
  std::string line = R"({"version":1,"workload_key":")" + task.workload_key +
                     R"(","target":"llvm","error":"none","costs":[1e-6],"steps":)" + bad_steps +
                     R"(,"config":{"no_such_knob":1e300}})";
  std::string path = temp_log("fallback.jsonl", line + "\n");
  Instance inst = apply_history_best(path, task);  // the default schedule, with a note
  EXPECT_EQ(inst.args.size(), task.default_instance().args.size());
  fs::remove(path);
}

}  // namespace
}  // namespace te::autotune
