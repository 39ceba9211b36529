// The batch_matmul operator: its compute in the four layouts (NN, NT, TN, TT) against direct
// loops, its registry entry and workloads, and the correctness property of its tuning
// templates — random configs of the "llvm" space on non-divisible shapes give the direct
// loops' numbers (outputs poisoned first), a record's steps replay, and "cuda" configs
// generate CUDA C that NVRTC compiles (and run where a GPU exists).
#include <algorithm>
#include <optional>
#include <random>

#include "te/autotune/task.h"
#include "te/ops.h"
#include "ops_test_util.h"

namespace te::testing {
namespace {

using autotune::Config;
using autotune::Instance;
using autotune::Task;

// {b, m, n, k, trans_a, trans_b} for the four layouts of one shape.
std::vector<std::vector<int64_t>> all_layouts(int64_t b, int64_t m, int64_t n, int64_t k) {
  return {{b, m, n, k, 0, 0}, {b, m, n, k, 0, 1}, {b, m, n, k, 1, 0}, {b, m, n, k, 1, 1}};
}
std::string layout_name(const std::vector<int64_t>& args) {
  return std::string(args[4] ? "T" : "N") + (args[5] ? "T" : "N");
}

// C[b, i, j] = sum_k A[b, i, k] * B[b, k, j] by direct loops, reading A as [b, k, i] when
// trans_a and B as [b, j, k] when trans_b (in double, rounded once).
NDArray direct_batch_matmul(const NDArray& a, const NDArray& b, bool trans_a, bool trans_b) {
  const int64_t batch = a.shape()[0];
  const int64_t m = a.shape()[trans_a ? 2 : 1], k = a.shape()[trans_a ? 1 : 2];
  const int64_t n = b.shape()[trans_b ? 1 : 2];
  NDArray c = NDArray::empty({batch, m, n});
  const float* pa = a.data_as<float>();
  const float* pb = b.data_as<float>();
  float* pc = c.data_as<float>();
  for (int64_t bb = 0; bb < batch; ++bb)
    for (int64_t i = 0; i < m; ++i)
      for (int64_t j = 0; j < n; ++j) {
        double acc = 0;
        for (int64_t kk = 0; kk < k; ++kk) {
          const float x = trans_a ? pa[(bb * k + kk) * m + i] : pa[(bb * m + i) * k + kk];
          const float y = trans_b ? pb[(bb * n + j) * k + kk] : pb[(bb * k + kk) * n + j];
          acc += double(x) * double(y);
        }
        pc[(bb * m + i) * n + j] = float(acc);
      }
  return c;
}

// Random inputs for an instance's A and B (its first two arguments) and the direct loops'
// output for them (ops_test_util.h's make_reference uses the interpreter instead).
Reference make_reference(const Instance& inst, bool trans_a, bool trans_b, uint64_t seed) {
  Reference ref;
  for (size_t i = 0; i < 2; ++i)
    ref.inputs.push_back(random_array(const_shape(inst.args[i]), inst.args[i].dtype(), seed + i));
  ref.expected = direct_batch_matmul(ref.inputs[0], ref.inputs[1], trans_a, trans_b);
  return ref;
}

// Runs the configs `indices` (random ones from seed when empty) of the llvm task of args against
// the direct loops; every config must be legal (a rejection is a failure). Returns how many ran.
int sweep_llvm(const std::vector<int64_t>& args, int count, uint64_t seed) {
  Task task = autotune::create_task("batch_matmul", args, "llvm");
  return sweep_llvm_against(task, make_reference(task.default_instance(), args[4], args[5], 7),
                            random_indices(task, count, seed));
}

// ---------------------------------------------------------------- compute, registry

TEST(OpsBatchMatmul, ComputeMatchesDirectLoopsInEveryLayout) {
  for (const std::vector<int64_t>& args : all_layouts(3, 5, 7, 4)) {
    const bool ta = args[4], tb = args[5];
    Tensor a = placeholder(ta ? std::vector<Expr>{3, 4, 5} : std::vector<Expr>{3, 5, 4}, DataType::float32(), "A");
    Tensor b = placeholder(tb ? std::vector<Expr>{3, 7, 4} : std::vector<Expr>{3, 4, 7}, DataType::float32(), "B");
    Tensor c = ops::batch_matmul(a, b, ta, tb);
    EXPECT_EQ(const_shape(c), (std::vector<int64_t>{3, 5, 7})) << layout_name(args);
    Instance inst{create_schedule({c.op()}), {a, b, c}};
    const Reference ref = make_reference(inst, ta, tb, 3);
    // The reference interpreter and the unscheduled compiled kernel agree with the loops.
    EXPECT_EQ(compare_arrays(evaluate_reference({a, b}, ref.inputs, {c})[0], ref.expected), "") << layout_name(args);
    EXPECT_EQ(build_run_compare(inst, "llvm", ref), "") << layout_name(args);
  }
}

TEST(OpsBatchMatmul, ComputeChecksRanksAndShapes) {
  const DataType f32 = DataType::float32();
  Tensor a = placeholder({2, 4, 5}, f32, "A");
  EXPECT_TE_ERROR(ops::batch_matmul(a, placeholder({5, 3}, f32, "B")), "3-D", "B", "2 dimensions");
  EXPECT_TE_ERROR(ops::batch_matmul(placeholder({4, 5}, f32, "A"), placeholder({2, 5, 3}, f32, "B")), "3-D");
  EXPECT_TE_ERROR(ops::batch_matmul(a, placeholder({3, 5, 6}, f32, "B")), "batch sizes differ", "2", "3");
  EXPECT_TE_ERROR(ops::batch_matmul(a, placeholder({2, 6, 3}, f32, "B")), "reduction sizes differ", "5 columns",
                  "6 rows");
  // Transposed: A [2, 4, 5] is read as [b, k=4, m=5]; B [2, 3, 5] as [b, n=3, k=5].
  EXPECT_TE_ERROR(ops::batch_matmul(a, placeholder({2, 5, 3}, f32, "B"), true, false), "4 rows", "trans_a=1",
                  "5 rows");
  EXPECT_TE_ERROR(ops::batch_matmul(a, placeholder({2, 3, 4}, f32, "B"), false, true), "5 columns",
                  "4 columns", "trans_b=1");
  EXPECT_EQ(const_shape(ops::batch_matmul(a, placeholder({2, 3, 5}, f32, "B"), false, true)),
            (std::vector<int64_t>{2, 4, 3}));
  EXPECT_EQ(const_shape(ops::batch_matmul(a, placeholder({2, 4, 3}, f32, "B"), true, false)),
            (std::vector<int64_t>{2, 5, 3}));
}

TEST(OpsBatchMatmul, RegisteredWithBertAttentionDefaults) {
  const ops::OpInfo& op = ops::find_op("batch_matmul");
  EXPECT_EQ(op.arg_names, (std::vector<std::string>{"b", "m", "n", "k", "trans_a", "trans_b"}));
  EXPECT_EQ(op.default_args, (std::vector<int64_t>{12, 128, 128, 64, 0, 1}));
  EXPECT_EQ(op.targets, (std::vector<std::string>{"llvm", "cuda"}));
  EXPECT_TRUE(autotune::has_template("batch_matmul"));
  EXPECT_EQ(ops::parse_shape(op, "n=64,k=128,trans_b=0"), (std::vector<int64_t>{12, 128, 64, 128, 0, 0}));
  const ops::WorkloadSet& bert = ops::find_workload_set("bert-gemm");
  std::vector<std::vector<int64_t>> attention;
  for (const ops::Workload& w : bert.workloads)
    if (w.op == "batch_matmul") attention.push_back(w.args);
  EXPECT_EQ(attention, (std::vector<std::vector<int64_t>>{{12, 128, 128, 64, 0, 1}, {12, 128, 64, 128, 0, 0}}));
}

TEST(OpsBatchMatmul, TemplateRejectsBadArguments) {
  ops::register_builtin_templates();
  EXPECT_TE_ERROR(autotune::create_task("batch_matmul", {2, 4, 4, 4}, "llvm"), "batch_matmul", "6 arguments");
  EXPECT_TE_ERROR(autotune::create_task("batch_matmul", {0, 4, 4, 4, 0, 0}, "llvm"), "batch_matmul", "b = 0");
  EXPECT_TE_ERROR(autotune::create_task("batch_matmul", {2, 4, 4, 0, 0, 0}, "llvm"), "batch_matmul", "k = 0");
  EXPECT_TE_ERROR(autotune::create_task("batch_matmul", {2, 4, 4, 4, 2, 0}, "llvm"), "trans_a = 2", "0 or 1");
  EXPECT_TE_ERROR(autotune::create_task("batch_matmul", {2, 4, 4, 4, 0, -1}, "cuda"), "trans_b = -1", "0 or 1");
}

// ---------------------------------------------------------------- llvm template

TEST(OpsBatchMatmul, LlvmDefaultConfigIsTheTunedStructure) {
  ops::register_builtin_templates();
  for (const std::vector<int64_t>& args : all_layouts(3, 19, 45, 13)) {
    Task task = autotune::create_task("batch_matmul", args, "llvm");
    EXPECT_DOUBLE_EQ(task.flop, 2.0 * 3 * 19 * 45 * 13) << task.workload_key;
    Instance inst = task.instantiate(task.space);  // space mode: every knob at its first choice
    for (const char* primitive : {"cache_write", "parallel", "vectorize", "unroll", "fuse"})
      EXPECT_TRUE(has_step(inst.schedule, primitive)) << primitive << " in " << task.workload_key;
    EXPECT_EQ(build_run_compare(inst, "llvm", make_reference(inst, args[4], args[5], 11)), "") << task.workload_key;
  }
  Task qk = autotune::create_task("batch_matmul", ops::find_op("batch_matmul").default_args, "llvm");
  EXPECT_EQ(qk.workload_key, "batch_matmul(12,128,128,64,0,1)");
  // The full-size default runs too (1.6 MFLOP per head: cheap).
  Instance inst = qk.instantiate(qk.space);
  EXPECT_EQ(build_run_compare(inst, "llvm", make_reference(inst, false, true, 13)), "");
}

TEST(OpsBatchMatmul, LlvmRandomConfigsMatchDirectLoopsInEveryLayout) {
  ops::register_builtin_templates();
  EXPECT_GT(autotune::create_task("batch_matmul", {3, 13, 37, 9, 0, 0}, "llvm").space.space_size(), 1000);
  // Every knob combination of the CPU template is legal by construction: no rejections.
  for (const std::vector<int64_t>& args : all_layouts(3, 13, 37, 9))
    EXPECT_EQ(sweep_llvm(args, 10, 20261206 + args[4] * 2 + args[5]), 10) << layout_name(args);
}

TEST(OpsBatchMatmul, LlvmTinyAndDivisibleShapes) {
  ops::register_builtin_templates();
  // Extents smaller than every tile (tiles are clamped), and a shape the default tiles divide.
  for (const std::vector<int64_t>& args :
       {std::vector<int64_t>{1, 1, 3, 2, 1, 1}, std::vector<int64_t>{2, 16, 64, 32, 0, 1},
        std::vector<int64_t>{2, 16, 64, 32, 1, 0}})
    EXPECT_EQ(sweep_llvm(args, 5, 99), 5) << layout_name(args);
}

TEST(OpsBatchMatmul, LlvmRecordReplaysOnTheSpaceModeCompute) {
  // Task::replay applies a record's steps to the compute of a space-mode run, so the
  // template's compute must not depend on the config.
  ops::register_builtin_templates();
  for (const std::vector<int64_t>& args : all_layouts(2, 20, 40, 9)) {
    Task task = autotune::create_task("batch_matmul", args, "llvm");
    for (int64_t index : random_indices(task, 3, 5 + args[4] * 2 + args[5])) {
      Instance inst = task.instantiate(task.space.from_index(index));
      Instance replayed = task.replay(inst.schedule.steps());
      EXPECT_EQ(to_string(lower(replayed.schedule, replayed.args, "f")),
                to_string(lower(inst.schedule, inst.args, "f")))
          << task.workload_key << " " << task.space.from_index(index).to_string();
    }
  }
}

// ---------------------------------------------------------------- cuda template

// Runs inst (target cuda) in the CUDA emulator and on a GPU and compares with the direct loops;
// false when there is no GPU here.
bool run_on_gpu_or_skip(const Instance& inst, const std::vector<int64_t>& args, bool emulate) {
  const Reference ref = make_reference(inst, args[4], args[5], 5);
  if (emulate)  // the emulator is slow: two configs per layout keep this test's time small
    EXPECT_EQ(emulate_compare(inst, ref), "") << inst.schedule.steps_python();
  return run_cuda_if_device(inst, ref);
}

TEST(OpsBatchMatmul, CudaConfigsCompileWithNvrtcInEveryLayout) {
  std::string why;
  if (!nvrtc_works(why)) GTEST_SKIP() << "no CUDA code generation here: " << why;
  ops::register_builtin_templates();
  int ran = 0;
  for (const std::vector<int64_t>& args : all_layouts(3, 67, 45, 23)) {
    Task task = autotune::create_task("batch_matmul", args, "cuda");
    std::vector<int64_t> indices = random_indices(task, 4, 777 + args[4] * 2 + args[5]);
    indices.insert(indices.begin(), 0);  // the default
    int compiled = 0, rejected = 0;
    for (int64_t index : indices) {
      Config cfg = task.space.from_index(index);
      Instance inst;
      if (!instantiate_within_cuda_limits(task, cfg, inst)) {
        ++rejected;  // over the thread or shared-memory limit
        continue;
      }
      Module m = build(inst.schedule, inst.args, "cuda", "bmm_cfg");
      EXPECT_NE(m.get_source("ptx").find(".entry bmm_cfg_kernel("), std::string::npos) << cfg.to_string();
      const std::string source = m.get_source("cuda");
      EXPECT_NE(source.find("__shared__"), std::string::npos) << cfg.to_string();
      EXPECT_NE(source.find("blockIdx.z"), std::string::npos) << cfg.to_string();
      ++compiled;
      if (run_on_gpu_or_skip(inst, args, compiled <= 2)) ++ran;
    }
    EXPECT_GE(compiled, 2) << task.workload_key << ": rejected " << rejected;
  }
  RecordProperty("gpu_runs", ran);
}

// vector_copy: with rows of whole float4 chunks in every layout, the default config copies both
// shared tiles in 16-byte chunks (cp.async when double-buffered for sm_80 and newer) and matches
// the reference in the emulator.
TEST(OpsBatchMatmul, CudaVectorCopiesInEveryLayout) {
  ops::register_builtin_templates();
  for (const std::vector<int64_t>& args : all_layouts(2, 32, 48, 24)) {
    Task task = autotune::create_task("batch_matmul", args, "cuda");
    Instance inst = task.instantiate(task.space.from_index(0));  // the default config
    ASSERT_EQ(task.space.from_index(0).value("vector_copy"), 1) << task.workload_key;
    const std::string cu = build(inst.schedule, inst.args, "cuda -arch=sm_90", "bmm_chunks").get_source("cuda");
    for (const char* tile : {"te_cp_async<16>(A_shared + (", "te_cp_async<16>(B_shared + ("})
      EXPECT_TRUE(cu.find(tile) != std::string::npos) << task.workload_key << " " << tile << "\n" << cu;
    run_on_gpu_or_skip(inst, args, true);
  }
}

TEST(OpsBatchMatmul, CudaConfigOverThreadLimitIsATeError) {
  ops::register_builtin_templates();
  Task task = autotune::create_task("batch_matmul", {4, 512, 512, 64, 0, 1}, "cuda");
  // A config whose block has more than 1024 threads (32 x 64 exists in the space).
  bool found = false;
  for (int64_t index = 0; index < task.space.space_size() && !found; ++index) {
    Config cfg = task.space.from_index(index);
    if (cfg.get("tile_i")[1] * cfg.get("tile_j")[1] <= 1024) continue;
    found = true;
    EXPECT_TE_ERROR(task.instantiate(cfg), "batch_matmul cuda", "threads per block", "1024");
  }
  EXPECT_TRUE(found);
}

}  // namespace
}  // namespace te::testing
