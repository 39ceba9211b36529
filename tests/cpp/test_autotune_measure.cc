// Measurement: parallel builder + isolated runner (include/te/autotune/measure.h). A tiny
// matmul template with split knobs, an illegal knob value, a knob that does not change the
// code (duplicates), a CPU thread binding (compile error), and test-only fault injection.
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <set>

#include "autotune/measure_internal.h"
#include "te/autotune/measure.h"
#include "te/ops.h"
#include "test_util.h"

// Weak references: the derived space may not have landed in libte yet (parallel work).
namespace te::autotune {
Instance derived_schedule(Config& cfg, const std::vector<Tensor>& args, const Target& target) __attribute__((weak));
Task auto_task(const std::vector<Tensor>& args, const std::string& target) __attribute__((weak));
}  // namespace te::autotune

namespace te::autotune {
namespace {

constexpr const char* kTemplate = "test_measure_matmul";

// Knobs, in order: tile_i, tile_j (splits), illegal (1: te::Error), unused (no effect on the
// code), bind_cpu (1: binds a thread axis on a CPU target, which lowering rejects).
Instance matmul_template(Config& cfg, const std::vector<int64_t>& args, const Target&) {
  int64_t n = args.at(0), m = args.at(1), kk = args.at(2);
  Tensor A = placeholder({n, kk}, DataType::float32(), "A");
  Tensor B = placeholder({kk, m}, DataType::float32(), "B");
  IterVar k = reduce_axis(Range(0, kk), "k");
  Tensor C = compute({n, m}, [&](const std::vector<Var>& i) { return sum(A(i[0], k) * B(k, i[1]), {k}); }, "C");
  Schedule s = create_schedule({C.op()});
  const auto* op = C.op().as<ComputeOpNode>();
  cfg.define_split("tile_i", op->axis[0], 2);
  cfg.define_split("tile_j", op->axis[1], 2);
  int64_t illegal = cfg.define_knob("illegal", {0, 1});
  cfg.define_knob("unused", {0, 1});
  int64_t bind_cpu = cfg.define_knob("bind_cpu", {0, 1});
  if (illegal == 1) fail("test template: knob 'illegal' = 1 is not a legal schedule");
  std::vector<IterVar> i_parts = cfg.apply_split("tile_i", s[C], op->axis[0]);
  std::vector<IterVar> j_parts = cfg.apply_split("tile_j", s[C], op->axis[1]);
  if (bind_cpu == 1) s[C].bind(i_parts[0], thread_axis("threadIdx.x"));
  return {s, {A, B, C}};
}

void ensure_runner_env() {
#ifdef TE_TEST_MEASURE_RUNNER
  setenv("TE_MEASURE_RUNNER", TE_TEST_MEASURE_RUNNER, 1);
#endif
}

Task small_task() {
  ensure_runner_env();
  register_template(kTemplate, matmul_template, /*replace=*/true);
  return create_task(kTemplate, {8, 12, 6}, "llvm");
}

// A config with these choice indices for (tile_i, tile_j, illegal, unused, bind_cpu).
Config config(const Task& task, int64_t ti, int64_t tj, int64_t illegal = 0, int64_t unused = 0, int64_t bind = 0) {
  return task.space.with_choices({ti, tj, illegal, unused, bind});
}

MeasureOptions quick_options() {
  MeasureOptions o;
  o.repeat = 2;
  o.timeout_s = 20;
  o.build_workers = 2;
  return o;
}

void expect_ok(const MeasureResult& r, int repeat) {
  EXPECT_EQ(r.error, ErrorKind::kNone) << to_string(r.error) << ": " << r.error_message;
  ASSERT_EQ(int(r.costs.size()), repeat);
  for (double c : r.costs) EXPECT_GT(c, 0);
  EXPECT_TRUE(std::isfinite(r.mean_cost()));
  EXPECT_GT(r.build_seconds, 0);
  EXPECT_EQ(r.code_hash.size(), 16u);
  EXPECT_FALSE(r.steps_json.empty());
  EXPECT_GT(r.timestamp, 1.6e9);
}

TEST(AutotuneMeasure, ErrorKindNamesRoundTrip) {
  for (ErrorKind k : {ErrorKind::kNone, ErrorKind::kInstantiate, ErrorKind::kCompile, ErrorKind::kRuntime,
                      ErrorKind::kTimeout, ErrorKind::kWrongAnswer, ErrorKind::kDuplicate})
    EXPECT_EQ(error_kind_from_string(to_string(k)), k);
  EXPECT_TE_ERROR(error_kind_from_string("segfault"), "segfault", "wrong_answer");
  MeasureResult failed;
  failed.error = ErrorKind::kTimeout;
  failed.costs = {1.0};
  EXPECT_TRUE(std::isinf(failed.mean_cost()));
}

TEST(AutotuneMeasure, CompareOutputsFindsNaNAndErrors) {
  using measure_detail::compare_outputs;
  float expected[4] = {1, 2, 3, 4};
  float close[4] = {1, 2, 3.0001f, 4};
  float nan_one[4] = {1, std::nanf(""), 3, 4};
  float far[4] = {1, 2, 3, 5};
  EXPECT_EQ(compare_outputs(close, expected, 4, DataType::float32(), 1e-3, 1e-4), "");
  EXPECT_NE(compare_outputs(nan_one, expected, 4, DataType::float32(), 1e-3, 1e-4).find("flat index 1"),
            std::string::npos);
  EXPECT_NE(compare_outputs(far, expected, 4, DataType::float32(), 1e-3, 1e-4).find("max error 1"), std::string::npos);
  int32_t ia[3] = {1, 2, 3}, ib[3] = {1, 2, 4};
  EXPECT_NE(compare_outputs(ia, ib, 3, DataType::int32(), 1, 1), "");  // ints match exactly
}

TEST(AutotuneMeasure, CorrectCandidatesMeasureAndDuplicatesAreSkipped) {
  Task task = small_task();
  MeasureOptions options = quick_options();
  Measurer measurer(task, options);
  std::vector<Config> batch = {config(task, 0, 0), config(task, 1, 2), config(task, 2, 1),
                               config(task, 1, 2, 0, 1),  // differs only in 'unused': same code
                               config(task, 0, 0)};       // the same config again
  std::vector<MeasureResult> results = measurer.measure(batch);
  ASSERT_EQ(results.size(), batch.size());
  for (int i = 0; i < 3; ++i) expect_ok(results[size_t(i)], options.repeat);
  std::set<std::string> hashes{results[0].code_hash, results[1].code_hash, results[2].code_hash};
  EXPECT_EQ(hashes.size(), 3u) << "different tilings must lower to different code";
  EXPECT_EQ(results[3].error, ErrorKind::kDuplicate) << results[3].error_message;
  EXPECT_EQ(results[3].code_hash, results[1].code_hash);
  EXPECT_EQ(results[4].error, ErrorKind::kDuplicate);
  EXPECT_TRUE(results[3].costs.empty());
  // Duplicates are remembered across batches of the same Measurer.
  std::vector<MeasureResult> again = measurer.measure({config(task, 2, 1)});
  EXPECT_EQ(again.at(0).error, ErrorKind::kDuplicate);
  // refine() measures the leading configs again: then a repeat is run and timed.
  measurer.set_skip_duplicates(false);
  std::vector<MeasureResult> repeated = measurer.measure({config(task, 2, 1), config(task, 2, 1)});
  expect_ok(repeated.at(0), options.repeat);
  expect_ok(repeated.at(1), options.repeat);
  EXPECT_EQ(repeated[0].code_hash, results[2].code_hash);
}

TEST(AutotuneMeasure, IllegalConfigAndCompileError) {
  Task task = small_task();
  Measurer measurer(task, quick_options());
  std::vector<MeasureResult> results =
      measurer.measure({config(task, 0, 1, /*illegal=*/1), config(task, 1, 1, 0, 0, /*bind=*/1), config(task, 1, 1)});
  EXPECT_EQ(results[0].error, ErrorKind::kInstantiate) << results[0].error_message;
  EXPECT_NE(results[0].error_message.find("illegal"), std::string::npos) << results[0].error_message;
  EXPECT_EQ(results[1].error, ErrorKind::kCompile) << to_string(results[1].error) << ": " << results[1].error_message;
  EXPECT_NE(results[1].error_message.find("bind"), std::string::npos) << results[1].error_message;
  expect_ok(results[2], quick_options().repeat);
}

// One batch with one faulty candidate (the middle one) and two good ones; the fault must be recorded
// with its kind and the others must still measure fine.
void check_fault(const std::string& fault, ErrorKind expected, const std::string& message_part) {
  Task task = small_task();
  MeasureOptions options = quick_options();
  options.fault = fault;
  std::vector<Config> batch = {config(task, 1, 0), config(task, 0, 1), config(task, 2, 2)};
  options.fault_indices = {batch[1].index()};
  options.timeout_s = fault == "hang" ? 2 : 20;
  Measurer measurer(task, options);
  std::vector<MeasureResult> results = measurer.measure(batch);
  EXPECT_EQ(results[1].error, expected) << to_string(results[1].error) << ": " << results[1].error_message;
  EXPECT_NE(results[1].error_message.find(message_part), std::string::npos) << results[1].error_message;
  EXPECT_TRUE(results[1].costs.empty());
  EXPECT_TRUE(std::isinf(results[1].mean_cost()));
  expect_ok(results[0], options.repeat);
  expect_ok(results[2], options.repeat);
}

TEST(AutotuneMeasure, InjectedCrashIsARuntimeError) { check_fault("crash", ErrorKind::kRuntime, "SIGSEGV"); }
TEST(AutotuneMeasure, InjectedHangTimesOut) { check_fault("hang", ErrorKind::kTimeout, "timeout"); }
TEST(AutotuneMeasure, InjectedWrongAnswerIsCaught) { check_fault("wrong", ErrorKind::kWrongAnswer, "differ"); }

TEST(AutotuneMeasure, BadOptionsAreUserErrors) {
  Task task = small_task();
  MeasureOptions options = quick_options();
  options.fault = "explode";
  EXPECT_TE_ERROR(Measurer(task, options), "fault", "explode");
  options = quick_options();
  options.repeat = 0;
  EXPECT_TE_ERROR(Measurer(task, options), "repeat");
}

TEST(AutotuneMeasure, TempDirectoryIsRemoved) {
  Task task = small_task();
  std::string tmp_template = (std::filesystem::temp_directory_path() / "te_measure_test_XXXXXX").string();
  ASSERT_NE(mkdtemp(tmp_template.data()), nullptr);
  const char* old_tmpdir = getenv("TMPDIR");
  std::string saved = old_tmpdir ? old_tmpdir : "";
  setenv("TMPDIR", tmp_template.c_str(), 1);
  auto measure_dirs = [&] {
    int count = 0;
    for (const auto& entry : std::filesystem::directory_iterator(tmp_template))
      count += entry.path().filename().string().rfind("te_measure_", 0) == 0;
    return count;
  };
  // A directory left by a killed tuning job (its pid is dead) is cleaned up by the next one.
  pid_t dead = fork();
  if (dead == 0) _exit(0);
  ASSERT_GT(dead, 0);
  waitpid(dead, nullptr, 0);
  std::filesystem::path stale = std::filesystem::path(tmp_template) / ("te_measure_" + std::to_string(dead) + "_abc");
  std::filesystem::create_directories(stale / "inner");
  {
    MeasureOptions options = quick_options();
    options.min_repeat_ms = 1;  // also exercises raising `number` until a repeat takes 1 ms
    Measurer measurer(task, options);
    EXPECT_FALSE(std::filesystem::exists(stale));
    EXPECT_EQ(measure_dirs(), 1);
    expect_ok(measurer.measure({config(task, 1, 1)}).at(0), options.repeat);
  }
  EXPECT_EQ(measure_dirs(), 0);
  if (old_tmpdir) setenv("TMPDIR", saved.c_str(), 1);
  else unsetenv("TMPDIR");
  std::filesystem::remove_all(tmp_template);
}

TEST(AutotuneMeasure, MissingRunnerIsAClearError) {
  Task task = small_task();
  setenv("TE_MEASURE_RUNNER", "/nonexistent/te_measure_runner", 1);
  EXPECT_TE_ERROR(Measurer(task, quick_options()), "TE_MEASURE_RUNNER", "/nonexistent/te_measure_runner");
  unsetenv("TE_MEASURE_RUNNER");
  ensure_runner_env();
}

// A GPU matmul: i and j split by knob values and bound to blocks and threads.
Instance cuda_matmul_template(Config& cfg, const std::vector<int64_t>& args, const Target&) {
  int64_t n = args.at(0);
  Tensor A = placeholder({n, n}, DataType::float32(), "A");
  Tensor B = placeholder({n, n}, DataType::float32(), "B");
  IterVar k = reduce_axis(Range(0, n), "k");
  Tensor C = compute({n, n}, [&](const std::vector<Var>& i) { return sum(A(i[0], k) * B(k, i[1]), {k}); }, "C");
  Schedule s = create_schedule({C.op()});
  const auto* op = C.op().as<ComputeOpNode>();
  int64_t ti = cfg.define_knob("ti", {4, 8}), tj = cfg.define_knob("tj", {4, 16});
  auto [io, ii] = s[C].split(op->axis[0], ti);
  auto [jo, ji] = s[C].split(op->axis[1], tj);
  s[C].reorder({io, jo, ii, ji});
  s[C].bind(io, thread_axis("blockIdx.x"));
  s[C].bind(jo, thread_axis("blockIdx.y"));
  s[C].bind(ii, thread_axis("threadIdx.y"));
  s[C].bind(ji, thread_axis("threadIdx.x"));
  return {s, {A, B, C}};
}

// NVRTC compiles every candidate even without a GPU; without one the run is a runtime error
// saying so (never a crash); with one the candidates measure and match the reference.
TEST(AutotuneMeasure, CudaCandidatesCompileAndRunOrSayNoGpu) {
  ensure_runner_env();
  register_template("test_measure_matmul_cuda", cuda_matmul_template, /*replace=*/true);
  Task task = create_task("test_measure_matmul_cuda", {32}, "cuda");
  Measurer measurer(task, quick_options());
  std::vector<MeasureResult> results =
      measurer.measure({task.space.with_choices({0, 0}), task.space.with_choices({1, 1})});
  for (const MeasureResult& r : results) {
    if (r.error == ErrorKind::kCompile && (r.error_message.find("without CUDA") != std::string::npos ||
                                           r.error_message.find("libnvrtc") != std::string::npos))
      GTEST_SKIP() << "no CUDA toolkit in this build: " << r.error_message;
    if (r.error == ErrorKind::kRuntime) {
      EXPECT_NE(r.error_message.find("no CUDA device"), std::string::npos) << r.error_message;
      EXPECT_TRUE(r.costs.empty());
    } else {
      expect_ok(r, quick_options().repeat);
    }
    EXPECT_GT(r.build_seconds, 0);
    EXPECT_EQ(r.code_hash.size(), 16u);
  }
  EXPECT_NE(results[0].code_hash, results[1].code_hash);
}

// A te without LLVM (the GPU machine's CUDA-only build) computes a cuda task's reference on
// the GPU in reference_cuda_schedule: here each stage's kernel is emulated and compared with
// the interpreter, for multi-stage computes (softmax's reductions and its elementwise stages,
// conv2d's padding, layer_norm's three inputs).
TEST(AutotuneMeasure, ReferenceCudaScheduleMatchesTheInterpreter) {
  if (!backend_built("cuda")) GTEST_SKIP() << "te built without CUDA";
  Tensor x = placeholder({6, 40}, DataType::float32(), "X");
  Tensor data = placeholder({1, 3, 9, 9}, DataType::float32(), "data");
  Tensor weight = placeholder({5, 3, 3, 3}, DataType::float32(), "weight");
  Tensor gamma = placeholder({40}, DataType::float32(), "gamma"), beta = placeholder({40}, DataType::float32(), "beta");
  Tensor a = placeholder({7, 300}, DataType::float32(), "A"), b = placeholder({300, 9}, DataType::float32(), "B");
  std::vector<std::pair<std::vector<Tensor>, Tensor>> cases = {
      {{x}, ops::softmax(x)},
      {{data, weight}, ops::conv2d_nchw(data, weight, 2, 1)},
      {{x, gamma, beta}, ops::layer_norm(x, gamma, beta)},
      {{a, b}, ops::matmul(a, b)},
  };
  uint64_t seed = 1;
  for (const auto& [inputs, output] : cases) {
    Schedule s = measure_detail::reference_cuda_schedule({output.op()});
    std::vector<Tensor> args = inputs;
    args.push_back(output);
    Module m = build(s, args, "cuda", "reference_" + output.op()->name);
    std::vector<NDArray> arrays, in;
    for (const Tensor& t : inputs) {
      std::vector<int64_t> shape;
      for (const Expr& d : t.shape()) shape.push_back(*as_const_int(d));
      in.push_back(testing::random_array(shape, t.dtype(), seed++));
      arrays.push_back(in.back());
    }
    std::vector<NDArray> expected = evaluate_reference(inputs, in, {output});
    NDArray got = NDArray::empty(expected[0].shape(), output.dtype());
    got.fill_poison();
    arrays.push_back(got);
    cuda_emulate(m, arrays);
    EXPECT_EQ(testing::compare_arrays(got, expected[0], 1e-4, 1e-5), "") << output.op()->name;
  }
  Tensor scalar = compute({}, [&](const std::vector<Var>&) { return x(0, 0) * 2.0f; }, "scalar");
  EXPECT_TE_ERROR(measure_detail::reference_cuda_schedule({scalar.op()}), "scalar", "nothing to bind");
}

TEST(AutotuneMeasure, AutoTaskCandidatesMeasure) {
  if (&derived_schedule == nullptr || &auto_task == nullptr) GTEST_SKIP() << "derived_schedule not in libte yet";
  ensure_runner_env();
  Tensor A = placeholder({8, 6}, DataType::float32(), "A");
  Tensor B = placeholder({6, 12}, DataType::float32(), "B");
  IterVar k = reduce_axis(Range(0, 6), "k");
  Tensor C = compute({8, 12}, [&](const std::vector<Var>& i) { return sum(A(i[0], k) * B(k, i[1]), {k}); }, "C");
  Task task = auto_task({A, B, C}, "llvm");
  std::vector<Config> batch;
  int64_t size = task.space.space_size();
  for (int64_t i = 0; i < std::min<int64_t>(size, 4); ++i) batch.push_back(task.space.from_index(i * (size / 4)));
  Measurer measurer(task, quick_options());
  int ok = 0;
  for (const MeasureResult& r : measurer.measure(batch)) {
    EXPECT_TRUE(r.error == ErrorKind::kNone || r.error == ErrorKind::kInstantiate || r.error == ErrorKind::kDuplicate)
        << to_string(r.error) << ": " << r.error_message;
    ok += r.error == ErrorKind::kNone;
  }
  EXPECT_GT(ok, 0);
}

}  // namespace
}  // namespace te::autotune
