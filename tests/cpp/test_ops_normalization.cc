// softmax and layer_norm: the computes against direct loops (in double), and the correctness
// property of their tuning templates — random configs of the "llvm" space on odd shapes give
// the reference interpreter's numbers (outputs poisoned first), recorded steps replay, and
// "cuda" configs generate CUDA C that NVRTC compiles (and run where a GPU exists).
// The templates are the library's built-ins (src/ops/registry.cc).
#include <algorithm>
#include <cmath>
#include <optional>
#include <random>

#include "ops/templates.h"
#include "te/ir_functor.h"
#include "te/ops.h"
#include "te/autotune/task.h"
#include "ops_test_util.h"

namespace te::testing {
namespace {

using autotune::Config;
using autotune::Instance;
using autotune::Task;

void register_normalization() { ops::register_builtin_templates(); }

// Builds and runs every config on the same inputs; every config of the CPU spaces is legal.
void sweep_llvm(const Task& task, const std::vector<int64_t>& indices) {
  const Reference ref = make_reference(task.default_instance(), 7);
  for (int64_t index : indices) {
    Config cfg = task.space.from_index(index);
    try {
      Instance inst = task.instantiate(cfg);
      EXPECT_EQ(build_run_compare(inst, "llvm", ref, 1e-5), "")
          << task.workload_key << " config " << cfg.to_string() << "\n" << inst.schedule.steps_python();
    } catch (const std::exception& e) {
      ADD_FAILURE() << task.workload_key << " config " << cfg.to_string() << " threw: " << e.what();
    }
  }
}

// Random floats in [lo, hi) (large offsets check that softmax subtracts the row max first).
NDArray uniform(const std::vector<int64_t>& shape, float lo, float hi, uint64_t seed) {
  NDArray a = NDArray::empty(shape);
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  int64_t size = 1;
  for (int64_t d : shape) size *= d;
  for (int64_t i = 0; i < size; ++i) a.data_as<float>()[i] = dist(rng);
  return a;
}

// NumPy-style direct loops in double: the specification the computes are checked against.
NDArray softmax_loops(const NDArray& x) {
  const int64_t m = x.shape()[0], n = x.shape()[1];
  NDArray out = NDArray::empty({m, n});
  const float* xs = x.data_as<float>();
  for (int64_t i = 0; i < m; ++i) {
    double mx = -INFINITY, sum = 0;
    for (int64_t j = 0; j < n; ++j) mx = std::max(mx, double(xs[i * n + j]));
    for (int64_t j = 0; j < n; ++j) sum += std::exp(double(xs[i * n + j]) - mx);
    for (int64_t j = 0; j < n; ++j) out.data_as<float>()[i * n + j] = float(std::exp(double(xs[i * n + j]) - mx) / sum);
  }
  return out;
}
NDArray layer_norm_loops(const NDArray& x, const NDArray& gamma, const NDArray& beta, double eps) {
  const int64_t m = x.shape()[0], n = x.shape()[1];
  NDArray out = NDArray::empty({m, n});
  const float* xs = x.data_as<float>();
  for (int64_t i = 0; i < m; ++i) {
    double mean = 0, var = 0;
    for (int64_t j = 0; j < n; ++j) mean += xs[i * n + j];
    mean /= double(n);
    for (int64_t j = 0; j < n; ++j) var += (xs[i * n + j] - mean) * (xs[i * n + j] - mean);
    var /= double(n);
    for (int64_t j = 0; j < n; ++j)
      out.data_as<float>()[i * n + j] = float((xs[i * n + j] - mean) / std::sqrt(var + eps) *
                                                  gamma.data_as<float>()[j] + beta.data_as<float>()[j]);
  }
  return out;
}

// ---------------------------------------------------------------- computes

TEST(OpsSoftmax, ComputeMatchesDirectLoops) {
  Tensor x = placeholder({7, 33}, DataType::float32(), "X");
  Tensor y = ops::softmax(x);
  EXPECT_EQ(y.name(), "softmax");
  EXPECT_EQ(const_shape(y), (std::vector<int64_t>{7, 33}));
  // Values up to 200: exp(200) overflows float32 unless the row max is subtracted first.
  NDArray a = uniform({7, 33}, -50.0f, 200.0f, 1);
  NDArray expected = softmax_loops(a);
  NDArray got = evaluate_reference({x}, {a}, {y})[0];
  EXPECT_EQ(compare_arrays(got, expected, 1e-5, 1e-7), "");
  // The unscheduled compute compiled for the CPU.
  Module m = build(create_schedule({y.op()}), {x, y}, "llvm", "softmax_plain");
  NDArray out = NDArray::empty({7, 33});
  out.fill_poison();
  m({a, out});
  EXPECT_EQ(compare_arrays(out, expected, 1e-5, 1e-7), "");
}

TEST(OpsLayerNorm, ComputeMatchesDirectLoops) {
  Tensor x = placeholder({7, 33}, DataType::float32(), "X");
  Tensor g = placeholder({33}, DataType::float32(), "gamma");
  Tensor b = placeholder({33}, DataType::float32(), "beta");
  Tensor y = ops::layer_norm(x, g, b, 1e-3, "ln");
  EXPECT_EQ(y.name(), "ln");
  // An offset of 100 checks that the variance is computed about the mean (two-pass).
  NDArray a = uniform({7, 33}, 99.0f, 101.0f, 1), ga = uniform({33}, 0.5f, 2.0f, 2),
          be = uniform({33}, -1.0f, 1.0f, 3);
  NDArray expected = layer_norm_loops(a, ga, be, 1e-3);
  NDArray got = evaluate_reference({x, g, b}, {a, ga, be}, {y})[0];
  EXPECT_EQ(compare_arrays(got, expected, 1e-4, 1e-4), "");
  Module m = build(create_schedule({y.op()}), {x, g, b, y}, "llvm", "ln_plain");
  NDArray out = NDArray::empty({7, 33});
  out.fill_poison();
  m({a, ga, be, out});
  EXPECT_EQ(compare_arrays(out, expected, 1e-4, 1e-4), "");
}

TEST(OpsNormalization, ComputeErrorsNameTheProblem) {
  Tensor v = placeholder({5}, DataType::float32(), "v");
  Tensor x3 = placeholder({2, 3, 4}, DataType::float32(), "x3");
  Tensor xi = placeholder({2, 3}, DataType::int32(), "xi");
  EXPECT_TE_ERROR(ops::softmax(v), "softmax", "v", "2-D", "1 dimensions");
  EXPECT_TE_ERROR(ops::softmax(x3), "softmax", "x3", "3 dimensions");
  EXPECT_TE_ERROR(ops::softmax(xi), "softmax", "xi", "floating-point", "int32");
  Tensor x = placeholder({4, 5}, DataType::float32(), "X");
  Tensor g = placeholder({5}, DataType::float32(), "gamma");
  Tensor b = placeholder({5}, DataType::float32(), "beta");
  EXPECT_TE_ERROR(ops::layer_norm(v, g, b), "layer_norm", "v", "2-D");
  EXPECT_TE_ERROR(ops::layer_norm(x, placeholder({6}, DataType::float32(), "g6"), b), "gamma", "g6", "6",
                  "5 columns");
  EXPECT_TE_ERROR(ops::layer_norm(x, g, placeholder({1, 5}, DataType::float32(), "b2")), "beta", "b2", "1-D");
  EXPECT_TE_ERROR(ops::layer_norm(x, g, placeholder({5}, DataType::float64(), "b64")), "beta", "float64",
                  "float32");
  EXPECT_TE_ERROR(ops::layer_norm(x, g, b, -1e-5), "epsilon", ">= 0");
  EXPECT_TE_ERROR(ops::layer_norm(x, g, b, NAN), "epsilon");
}

TEST(OpsNormalization, TemplatesRejectBadArguments) {
  register_normalization();
  for (const char* op : {"softmax", "layer_norm"}) {
    EXPECT_TE_ERROR(autotune::create_task(op, {4}, "llvm"), op, "2 arguments (m, n)");
    EXPECT_TE_ERROR(autotune::create_task(op, {4, 0}, "llvm"), op, "n", "at least 1");
    EXPECT_TE_ERROR(autotune::create_task(op, {0, 4}, "cuda"), op, "m");
  }
}

// ---------------------------------------------------------------- llvm templates

TEST(OpsNormalization, LlvmDefaultConfigsAreTheIntendedStructure) {
  register_normalization();
  for (const char* op : {"softmax", "layer_norm"}) {
    Task task = autotune::create_task(op, {7, 33}, "llvm");
    EXPECT_EQ(task.workload_key, std::string(op) + "(7,33)");
    EXPECT_GT(task.flop, 7 * 33 * 3);
    Instance inst = task.instantiate(task.space);  // every knob at its first choice
    for (const char* p : {"compute_at", "vectorize", "parallel", "split", "rfactor"})
      EXPECT_TRUE(has_step(inst.schedule, p)) << op << " lacks " << p;
    EXPECT_FALSE(has_step(inst.schedule, "compute_inline")) << op;
    EXPECT_EQ(build_run_compare(inst, "llvm", make_reference(inst, 11), 1e-5), "") << op;
    // BERT-base's hidden size (the default workload) builds and runs too.
    Task big = autotune::create_task(op, {128, 768}, "llvm");
    Instance big_inst = big.instantiate(big.space);
    EXPECT_EQ(build_run_compare(big_inst, "llvm", make_reference(big_inst, 12), 1e-5), "") << op;
  }
}

// Streaming stores for outputs of 4 MiB and more with rows of whole cache lines (1024 floats).
TEST(OpsNormalization, LlvmNontemporalKnob) {
  register_normalization();
  for (const char* op : {"softmax", "layer_norm"}) {
    check_nontemporal_knob(op, {1024, 1024}, true, 1e-5);
    check_nontemporal_knob(op, {128, 768}, false);   // 384 KiB: stays in cache for its reader
    check_nontemporal_knob(op, {2048, 1000}, false);  // rows of 4000 bytes share cache lines
  }
}

TEST(OpsNormalization, LlvmRandomConfigsMatchReference) {
  register_normalization();
  for (const char* op : {"softmax", "layer_norm"}) {
    Task task = autotune::create_task(op, {7, 33}, "llvm");
    EXPECT_GE(task.space.space_size(), 60) << op;
    sweep_llvm(task, random_indices(task, 25, 20251206));
  }
}

TEST(OpsNormalization, LlvmTinyAndDivisibleShapes) {
  register_normalization();
  for (const char* op : {"softmax", "layer_norm"})
    for (const std::vector<int64_t>& shape : {std::vector<int64_t>{1, 1}, std::vector<int64_t>{16, 64}}) {
      Task task = autotune::create_task(op, shape, "llvm");
      sweep_llvm(task, random_indices(task, 6, 99));
    }
}

TEST(OpsNormalization, LlvmRecordReplaysOnTheSpaceModeCompute) {
  register_normalization();
  for (const char* target : {"llvm", "cuda"})
    for (const char* op : {"softmax", "layer_norm"}) {
      Task task = autotune::create_task(op, {20, 40}, target);
      LowerOptions options;
      options.target = Target::parse(target);
      for (int64_t index : random_indices(task, 6, 5)) {
        Instance inst = task.instantiate(task.space.from_index(index));
        Instance replayed = task.replay(inst.schedule.steps());
        EXPECT_EQ(to_string(lower(replayed.schedule, replayed.args, "f", options)),
                  to_string(lower(inst.schedule, inst.args, "f", options)))
            << op << " " << target << " " << task.space.from_index(index).to_string();
      }
    }
}

// The row reductions end in shuffle trees (lane reductions: the vectorized combining axis of
// rfactor), one per statistic — none with vectorize off; and layer_norm's default computes
// its statistics for a tile of 4 rows, their accumulator chains interleaved in one loop.
int count_lane_reductions(const Stmt& s, Intrinsic op) {
  int n = 0;
  post_order_visit(s, [&](const Expr& e) {
    const auto* call = e.as<CallNode>();
    n += call && call->op == op ? 1 : 0;
  }, [](const Stmt&) {});
  return n;
}
TEST(OpsNormalization, LlvmCrossLaneReductionsAreShuffleTreesAndLayerNormInterleavesRows) {
  register_normalization();
  Task sm = autotune::create_task("softmax", {128, 768}, "llvm");
  Instance sm_default = sm.instantiate(sm.space);  // every knob at its first choice
  Stmt sm_body = lower(sm_default.schedule, sm_default.args, "f").body;
  EXPECT_EQ(count_lane_reductions(sm_body, Intrinsic::kReduceMax), 1) << sm_body;
  EXPECT_EQ(count_lane_reductions(sm_body, Intrinsic::kReduceAdd), 1) << sm_body;
  Task ln = autotune::create_task("layer_norm", {128, 768}, "llvm");
  Instance ln_default = ln.instantiate(ln.space);
  Stmt ln_body = lower(ln_default.schedule, ln_default.args, "f").body;
  EXPECT_EQ(count_lane_reductions(ln_body, Intrinsic::kReduceAdd), 2) << ln_body;
  // The mean's partial sums: one loop over the row's 32-lane chunks storing all 4 rows' lanes.
  int interleaved = 0;
  post_order_visit(ln_body, [](const Expr&) {}, [&](const Stmt& st) {
    const auto* loop = st.as<ForNode>();
    if (!loop) return;
    int rows = 0;
    post_order_visit(loop->body, [](const Expr&) {}, [&](const Stmt& inner) {
      const auto* store = inner.as<StoreNode>();
      rows += store && store->buffer.name() == "layer_norm_mean.rf" && store->value.dtype().lanes == 32 ? 1 : 0;
    });
    if (rows == 4 && loop->loop_var.name() == "k.outer") ++interleaved;
  });
  EXPECT_EQ(interleaved, 1) << ln_body;
  EXPECT_EQ(build_run_compare(ln_default, "llvm", make_reference(ln_default, 3), 1e-5), "");
  for (const char* op : {"softmax", "layer_norm"}) {
    Task task = autotune::create_task(op, {16, 64}, "llvm");
    Config scalar = task.space.from_index(0);
    std::string json = scalar.to_json();
    json.replace(json.find("\"vectorize\":0"), 13, "\"vectorize\":1");
    Instance inst = task.instantiate(task.space.from_json(json));
    Stmt body = lower(inst.schedule, inst.args, "f").body;
    EXPECT_EQ(count_lane_reductions(body, Intrinsic::kReduceAdd) + count_lane_reductions(body, Intrinsic::kReduceMax),
              0) << op;
  }
}

// ---------------------------------------------------------------- cuda templates

// Runs inst in the CUDA emulator and on the GPU, comparing with the reference; false when there is no GPU here.
bool run_on_gpu_or_skip(const Instance& inst, std::optional<Reference>& reference) {
  if (!reference) reference = make_reference(inst, 5);
  EXPECT_EQ(emulate_compare(inst, *reference, 1e-5), "") << inst.schedule.steps_python();
  Module m = build(inst.schedule, inst.args, "cuda", "gpu_kernel");
  std::vector<NDArray> probe;
  for (const Tensor& t : inst.args) probe.push_back(NDArray::empty(const_shape(t), t.dtype()));
  try {
    m(probe);
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("no CUDA device"), std::string::npos) << e.what();
    return false;
  }
  if (!reference) reference = make_reference(inst, 5);
  EXPECT_EQ(build_run_compare(inst, "cuda", *reference, 1e-5), "") << inst.schedule.steps_python();
  return true;
}

// The CUDA templates compute the row statistics in one pass (online softmax, Welford): their
// computes against the direct loops, on the CPU reference interpreter (no GPU needed).
TEST(OpsNormalization, CudaComputesMatchDirectLoops) {
  register_normalization();
  NDArray x = uniform({7, 33}, 90.0f, 110.0f, 4), g = uniform({33}, 0.5f, 2.0f, 5), b = uniform({33}, -1.0f, 1.0f, 6);
  Instance sm = autotune::create_task("softmax", {7, 33}, "cuda").default_instance();
  EXPECT_EQ(compare_arrays(evaluate_reference({sm.args[0]}, {x}, {sm.args[1]})[0], softmax_loops(x), 1e-5, 1e-7), "");
  Instance ln = autotune::create_task("layer_norm", {7, 33}, "cuda").default_instance();
  NDArray got = evaluate_reference({ln.args[0], ln.args[1], ln.args[2]}, {x, g, b}, {ln.args[3]})[0];
  EXPECT_EQ(compare_arrays(got, layer_norm_loops(x, g, b, ops::detail::kLayerNormEpsilon), 1e-4, 1e-4), "");
}

TEST(OpsNormalization, CudaConfigsCompileWithNvrtc) {
  std::string why;
  if (!nvrtc_works(why)) GTEST_SKIP() << "no CUDA code generation here: " << why;
  register_normalization();
  for (const char* op : {"softmax", "layer_norm"}) {
    Task task = autotune::create_task(op, {300, 33}, "cuda");
    std::vector<int64_t> indices = random_indices(task, 8, 777);
    indices.insert(indices.begin(), 0);  // the default
    int compiled = 0, ran = 0;
    std::optional<Reference> reference;
    for (int64_t index : indices) {
      Config cfg = task.space.from_index(index);
      Instance inst = task.instantiate(cfg);  // every config of this shape is within the limits
      Module m = build(inst.schedule, inst.args, "cuda", "norm_cfg");
      EXPECT_NE(m.get_source("ptx").find(".entry norm_cfg_kernel("), std::string::npos) << cfg.to_string();
      const std::string cu = m.get_source("cuda");
      EXPECT_NE(cu.find("threadIdx.x"), std::string::npos) << cfg.to_string();
      // The statistics live in registers of each thread (not recomputed for the whole block).
      EXPECT_NE(cu.find("_stats_local_v1[1];  // scope local"), std::string::npos) << cu;
      // One block per row, its threads reducing across the row (a split never exceeds the row).
      const int64_t group = std::min<int64_t>(cfg.value("threads"), 33);
      EXPECT_NE(cu.find("cross-thread reduction over threadIdx.x: 1 group(s) of " + std::to_string(group) + " "),
                std::string::npos) << cu;
      EXPECT_NE(cu.find(std::string(op) == "softmax" ? "expf(" : "rsqrt"), std::string::npos) << cu;
      ++compiled;
      if (run_on_gpu_or_skip(inst, reference)) ++ran;
    }
    EXPECT_EQ(compiled, int(indices.size())) << op;
    RecordProperty(std::string(op) + "_gpu_runs", ran);
  }
}

TEST(OpsNormalization, CudaThreadsStayWithinTheBlockLimit) {
  register_normalization();
  for (const std::vector<int64_t>& shape : {std::vector<int64_t>{5000, 8}, std::vector<int64_t>{3, 5000}}) {
    Task task = autotune::create_task("layer_norm", shape, "cuda");
    for (int64_t index = 0; index < task.space.space_size(); ++index) {
      Config cfg = task.space.from_index(index);
      EXPECT_LE(cfg.value("threads"), 1024) << cfg.to_string();
      // No more than one warp of threads per row beyond the row's length.
      EXPECT_TRUE(cfg.value("threads") == 32 || cfg.value("threads") < 2 * shape[1]) << cfg.to_string();
      EXPECT_NO_THROW(task.instantiate(cfg)) << cfg.to_string();
    }
  }
}

}  // namespace
}  // namespace te::testing
