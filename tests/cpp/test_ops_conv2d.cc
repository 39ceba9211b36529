// The operator library: conv2d_nchw's compute and the correctness property of its tuning
// templates — random configs of the "llvm" space (stride 2, padding, non-square shapes and
// kernels, no padding) give the reference interpreter's numbers with outputs poisoned first,
// every rejected config is a te::Error, and "cuda" configs compile with NVRTC (and run and
// match where a GPU exists).
#include "te/autotune/task.h"
#include "te/ops.h"
#include "ops_test_util.h"

namespace te::testing {
namespace {

using autotune::Config;
using autotune::Instance;
using autotune::Task;

TEST(OpsConv2d, ComputeMatchesDirectLoops) {
  // Stride 2, pad 1, dilation 2, non-square: checks the index arithmetic against plain loops.
  const int N = 1, C = 2, H = 7, W = 6, K = 3, R = 3, S = 2, stride = 2, pad = 1, dil = 2;
  Tensor data = placeholder({N, C, H, W}, DataType::float32(), "data");
  Tensor weight = placeholder({K, C, R, S}, DataType::float32(), "weight");
  Tensor out = ops::conv2d_nchw(data, weight, stride, pad, dil);
  const int OH = (H + 2 * pad - dil * (R - 1) - 1) / stride + 1, OW = (W + 2 * pad - dil * (S - 1) - 1) / stride + 1;
  ASSERT_EQ(const_shape(out), (std::vector<int64_t>{N, K, OH, OW}));
  NDArray d = random_array({N, C, H, W}, DataType::float32(), 1);
  NDArray w = random_array({K, C, R, S}, DataType::float32(), 2);
  NDArray got = evaluate_reference({data, weight}, {d, w}, {out})[0];
  const float* dp = d.data_as<float>();
  const float* wp = w.data_as<float>();
  for (int k = 0; k < K; ++k)
    for (int y = 0; y < OH; ++y)
      for (int x = 0; x < OW; ++x) {
        double acc = 0;
        for (int c = 0; c < C; ++c)
          for (int r = 0; r < R; ++r)
            for (int s = 0; s < S; ++s) {
              int iy = y * stride + r * dil - pad, ix = x * stride + s * dil - pad;
              if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
              acc += double(dp[(c * H + iy) * W + ix]) * wp[((k * C + c) * R + r) * S + s];
            }
        EXPECT_NEAR(got.data_as<float>()[(k * OH + y) * OW + x], acc, 1e-4) << k << "," << y << "," << x;
      }
}

TEST(OpsConv2d, ComputeChecksArguments) {
  Tensor data = placeholder({1, 3, 5, 5}, DataType::float32(), "data");
  Tensor weight = placeholder({4, 2, 3, 3}, DataType::float32(), "weight");
  EXPECT_TE_ERROR(ops::conv2d_nchw(data, weight, 1, 1), "data", "3 input channels", "2");
  Tensor w3 = placeholder({4, 3, 3, 3}, DataType::float32(), "weight");
  EXPECT_TE_ERROR(ops::conv2d_nchw(data, w3, 0, 1), "stride");
  EXPECT_TE_ERROR(ops::conv2d_nchw(data, w3, 1, -1), "pad");
  Tensor big = placeholder({4, 3, 9, 3}, DataType::float32(), "weight");
  EXPECT_TE_ERROR(ops::conv2d_nchw(data, big, 1, 1), "height", "kernel");
}

TEST(OpsConv2d, TemplateRejectsBadArguments) {
  ops::register_builtin_templates();
  EXPECT_TE_ERROR(autotune::create_task("conv2d", {1, 2, 3}, "llvm"), "conv2d", "9 arguments");
  EXPECT_TE_ERROR(autotune::create_task("conv2d", {1, 2, 5, 5, 2, 3, 3, 0, 1}, "llvm"), "stride");
  EXPECT_TE_ERROR(autotune::create_task("conv2d", {1, 2, 2, 5, 2, 5, 3, 1, 1}, "llvm"), "kernel");
}

TEST(OpsConv2d, LlvmDefaultConfig) {
  ops::register_builtin_templates();
  const std::vector<int64_t> shape{1, 3, 13, 11, 4, 3, 3, 2, 1};
  Task task = autotune::create_task("conv2d", shape, "llvm");
  EXPECT_EQ(task.workload_key, "conv2d(1,3,13,11,4,3,3,2,1)");
  const double oh = 7, ow = 6;  // (13 + 2 - 3) / 2 + 1, (11 + 2 - 3) / 2 + 1
  // The flop count is of the computation te runs: the CPU layout computes whole blocks of 16
  // output channels, so k = 4 counts as 16.
  EXPECT_DOUBLE_EQ(task.flop, 2.0 * 1 * 16 * oh * ow * 3 * 3 * 3);
  Instance inst = task.instantiate(task.space);
  EXPECT_TRUE(has_step(inst.schedule, "compute_at"));
  EXPECT_TRUE(has_step(inst.schedule, "parallel"));
  EXPECT_TRUE(has_step(inst.schedule, "vectorize"));
  EXPECT_EQ(build_run_compare(inst, "llvm", 3), "");
  // The default workload (ResNet-18 C6) lowers with its default config.
  Task c6 = autotune::create_task("conv2d", ops::find_op("conv2d").default_args, "llvm");
  Instance c6_inst = c6.instantiate(c6.space);
  EXPECT_NO_THROW(lower(c6_inst.schedule, c6_inst.args, "conv_c6"));
}

// The CPU template takes pre-packed weights (conv2d_pack_weight) and computes a blocked output
// (NCHW16c) that it unpacks: packing the weights and running its unscheduled compute must equal
// the plain conv2d_nchw, also when k is not a multiple of the block of 16 channels (the extra
// channels see zero weights and are dropped).
TEST(OpsConv2d, LlvmBlockedComputeMatchesConv2dNchw) {
  ops::register_builtin_templates();
  for (const std::vector<int64_t>& shape : {std::vector<int64_t>{1, 3, 9, 8, 20, 3, 3, 2, 1},
                                            std::vector<int64_t>{2, 4, 6, 6, 32, 1, 1, 1, 0}}) {
    Task task = autotune::create_task("conv2d", shape, "llvm");
    Instance inst = task.default_instance();
    Tensor data = placeholder({shape[0], shape[1], shape[2], shape[3]}, DataType::float32(), "data");
    Tensor weight = placeholder({shape[4], shape[1], shape[5], shape[6]}, DataType::float32(), "weight");
    Tensor packed = ops::conv2d_pack_weight(weight);
    ASSERT_EQ(const_shape(packed), const_shape(inst.args[1])) << task.workload_key;
    Tensor plain = ops::conv2d_nchw(data, weight, shape[7], shape[8]);
    NDArray d = random_array(const_shape(data), DataType::float32(), 3);
    NDArray w = random_array(const_shape(weight), DataType::float32(), 4);
    NDArray wp = evaluate_reference({weight}, {w}, {packed})[0];
    NDArray expected = evaluate_reference({data, weight}, {d, w}, {plain})[0];
    NDArray got = evaluate_reference({inst.args[0], inst.args[1]}, {d, wp}, {inst.args[2]})[0];
    EXPECT_EQ(compare_arrays(got, expected), "") << task.workload_key;
  }
}

TEST(OpsConv2d, PackWeight) {
  Tensor weight = placeholder({20, 2, 3, 1}, DataType::float32(), "w");
  Tensor packed = ops::conv2d_pack_weight(weight);
  ASSERT_EQ(const_shape(packed), (std::vector<int64_t>{2, 2, 3, 1, 16}));
  NDArray w = random_array({20, 2, 3, 1}, DataType::float32(), 8);
  NDArray p = evaluate_reference({weight}, {w}, {packed})[0];
  const float* wv = w.data_as<float>();
  const float* pv = p.data_as<float>();
  for (int kb = 0; kb < 2; ++kb)
    for (int c = 0; c < 2; ++c)
      for (int r = 0; r < 3; ++r)
        for (int kk = 0; kk < 16; ++kk) {
          const int k = kb * 16 + kk;
          const float expected = k < 20 ? wv[(k * 2 + c) * 3 + r] : 0.0f;
          ASSERT_EQ(pv[((kb * 2 + c) * 3 + r) * 16 + kk], expected) << kb << "," << c << "," << r << "," << kk;
        }
  EXPECT_TE_ERROR(ops::conv2d_pack_weight(placeholder({4, 4}, DataType::float32(), "w2")), "4-D", "w2");
  EXPECT_TE_ERROR(ops::conv2d_pack_weight(placeholder({var("k"), 2, 3, 3}, DataType::float32(), "w3")),
                  "must be constant");
}

// Every unpack form of the CPU template (vectorize_unpack x unpack_rows) on a 1x1 layer with
// 28-wide rows and register tiles of 7 pixels: each matches the reference (outputs poisoned),
// and the transposing ones over whole rows are register transposes (no gather left).
TEST(OpsConv2d, LlvmUnpackFormsMatchAndTransposeWholeRows) {
  ops::register_builtin_templates();
  Task task = autotune::create_task("conv2d", {1, 16, 6, 28, 32, 1, 1, 1, 0}, "llvm");
  const Reference ref = make_reference(task.default_instance(), 9);
  for (int vectorize_unpack : {0, 1, 2})
    for (int unpack_rows : {0, 1, 2}) {
      const std::string json =
          "{\"tile_k\":1,\"tile_y\":0,\"tile_c\":0,\"reduce_order\":0,\"order\":0,\"inline_pad\":0,"
          "\"unroll\":0,\"parallel\":0,\"tile_x\":" + std::string(unpack_rows ? "1" : "0") +
                               ",\"vectorize_unpack\":" + std::to_string(vectorize_unpack) +
                               ",\"unpack_rows\":" + std::to_string(unpack_rows) + "}";
      Instance inst = task.instantiate(task.space.from_json(json));
      EXPECT_EQ(build_run_compare(inst, "llvm", ref), "") << json;
      if (vectorize_unpack == 2 && unpack_rows != 0) {
        const std::string ll = build(inst.schedule, inst.args, "llvm", "conv").get_source("ll");
        EXPECT_NE(ll.find("shufflevector"), std::string::npos) << json;
        EXPECT_EQ(ll.find("masked.gather"), std::string::npos) << json;
      }
    }
}

TEST(OpsConv2d, LlvmRandomConfigsStride2Pad1) { sweep_llvm_configs("conv2d", {1, 3, 13, 11, 4, 3, 3, 2, 1}, 30, 424242); }

TEST(OpsConv2d, LlvmRandomConfigsNonSquareKernelBatch2) { sweep_llvm_configs("conv2d", {2, 5, 9, 7, 6, 3, 2, 1, 1}, 10, 77); }

TEST(OpsConv2d, LlvmRandomConfigsNoPadding) { sweep_llvm_configs("conv2d", {1, 4, 6, 8, 3, 1, 1, 1, 0}, 8, 5); }

TEST(OpsConv2d, LlvmRecordReplaysOnTheSpaceModeCompute) {
  ops::register_builtin_templates();
  Task task = autotune::create_task("conv2d", {1, 3, 8, 8, 4, 3, 3, 1, 1}, "llvm");
  for (int64_t index : random_indices(task, 4, 9)) {
    Instance inst = task.instantiate(task.space.from_index(index));
    Instance replayed = task.replay(inst.schedule.steps());
    EXPECT_EQ(to_string(lower(replayed.schedule, replayed.args, "f")), to_string(lower(inst.schedule, inst.args, "f")));
  }
}

TEST(OpsConv2d, CudaConfigsCompileWithNvrtc) {
  std::string why;
  if (!nvrtc_works(why)) GTEST_SKIP() << "no CUDA code generation here: " << why;
  // Every config stages its input window and weights in shared memory.
  sweep_cuda_configs("conv2d", {1, 3, 13, 11, 4, 3, 3, 2, 1}, 5, 3, 3, "__shared__");
  sweep_cuda_configs("conv2d", {2, 5, 9, 7, 6, 3, 2, 1, 0}, 5, 3, 3, "__shared__");
}

TEST(OpsConv2d, CudaConfigOverThreadLimitIsATeError) {
  ops::register_builtin_templates();
  Task task = autotune::create_task("conv2d", {1, 64, 56, 56, 64, 3, 3, 1, 1}, "cuda");
  bool found = false;
  for (int64_t index = 0; index < task.space.space_size() && !found; ++index) {
    Config cfg = task.space.from_index(index);
    if (cfg.get("tile_k")[1] * cfg.get("tile_y")[1] * cfg.get("tile_x")[1] <= 1024) continue;
    found = true;
    EXPECT_TE_ERROR(task.instantiate(cfg), "threads per block", "1024");
  }
  EXPECT_TRUE(found);
}

}  // namespace
}  // namespace te::testing
