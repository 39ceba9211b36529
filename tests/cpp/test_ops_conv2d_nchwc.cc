// The blocked conv2d (conv2d_nchwc) and its layout transforms: the compute, wrapped in the
// transforms, equals conv2d_nchw; the transforms round-trip and index as documented; bad
// blocks and shapes are te::Errors naming the problem; random configs of the "conv2d_nchwc"
// template's llvm space (and of the derived space) match the reference interpreter with the
// outputs NaN-prefilled; cuda configs compile with NVRTC and run in the CUDA emulator.
#include "te/autotune/task.h"
#include "te/ops.h"
#include "ops_test_util.h"

namespace te::testing {
namespace {

using autotune::Instance;
using autotune::Task;

// data NCHW and weight KCRS -> (pack, conv2d_nchwc, unpack) vs conv2d_nchw, in the interpreter.
void expect_blocked_equals_plain(int64_t n, int64_t c, int64_t h, int64_t w, int64_t k, int64_t r, int64_t s,
                                 int64_t stride, int64_t pad, int64_t dilation, int64_t cb, int64_t kb) {
  Tensor data = placeholder({n, c, h, w}, DataType::float32(), "data");
  Tensor weight = placeholder({k, c, r, s}, DataType::float32(), "weight");
  Tensor blocked = ops::conv2d_nchwc(ops::nchw_to_nchwc(data, cb), ops::conv2d_nchwc_pack_weight(weight, cb, kb),
                                     stride, pad, dilation);
  Tensor unpacked = ops::nchwc_to_nchw(blocked);
  Tensor plain = ops::conv2d_nchw(data, weight, stride, pad, dilation);
  ASSERT_EQ(const_shape(unpacked), const_shape(plain));
  NDArray d = random_array({n, c, h, w}, DataType::float32(), 1);
  NDArray wt = random_array({k, c, r, s}, DataType::float32(), 2);
  std::vector<NDArray> got = evaluate_reference({data, weight}, {d, wt}, {unpacked, plain});
  EXPECT_EQ(compare_arrays(got[0], got[1]), "") << "cb=" << cb << " kb=" << kb;
}

TEST(OpsConv2dNchwc, ComputeMatchesConv2dNchw) {
  // Stride 2, padding, dilation 2, non-square input and kernel, blocks smaller than the channels.
  expect_blocked_equals_plain(1, 4, 9, 8, 8, 3, 2, 2, 1, 2, 2, 4);
  // The whole channel count as one input block (ResNet's C1: 3 channels), batch 2, 1x1.
  expect_blocked_equals_plain(2, 3, 5, 6, 16, 1, 1, 1, 0, 1, 3, 16);
  expect_blocked_equals_plain(1, 3, 11, 11, 4, 7, 7, 2, 3, 1, 3, 4);
}

TEST(OpsConv2dNchwc, LayoutTransformsRoundTripAndIndex) {
  Tensor data = placeholder({2, 6, 3, 4}, DataType::float32(), "data");
  Tensor packed = ops::nchw_to_nchwc(data, 3);
  ASSERT_EQ(const_shape(packed), (std::vector<int64_t>{2, 2, 3, 4, 3}));
  Tensor back = ops::nchwc_to_nchw(packed);
  NDArray d = random_array({2, 6, 3, 4}, DataType::float32(), 7);
  std::vector<NDArray> got = evaluate_reference({data}, {d}, {packed, back});
  EXPECT_EQ(compare_arrays(got[1], d, 0, 0), "");  // bit-exact: pure data movement
  const float* dv = d.data_as<float>();
  const float* pv = got[0].data_as<float>();
  for (int n = 0; n < 2; ++n)
    for (int c = 0; c < 6; ++c)
      for (int i = 0; i < 12; ++i)
        ASSERT_EQ(pv[(((n * 2 + c / 3) * 12) + i) * 3 + c % 3], dv[(n * 6 + c) * 12 + i]) << n << "," << c << "," << i;

  Tensor weight = placeholder({8, 6, 2, 1}, DataType::float32(), "w");
  Tensor wp = ops::conv2d_nchwc_pack_weight(weight, 3, 4);
  ASSERT_EQ(const_shape(wp), (std::vector<int64_t>{2, 2, 2, 1, 3, 4}));
  NDArray w = random_array({8, 6, 2, 1}, DataType::float32(), 8);
  NDArray p = evaluate_reference({weight}, {w}, {wp})[0];
  const float* wv = w.data_as<float>();
  const float* ppv = p.data_as<float>();
  for (int k = 0; k < 8; ++k)
    for (int c = 0; c < 6; ++c)
      for (int r = 0; r < 2; ++r)
        ASSERT_EQ(ppv[((((k / 4) * 2 + c / 3) * 2 + r) * 3 + c % 3) * 4 + k % 4], wv[(k * 6 + c) * 2 + r])
            << k << "," << c << "," << r;
}

TEST(OpsConv2dNchwc, BadArgumentsAreTeErrors) {
  Tensor data = placeholder({1, 6, 5, 5}, DataType::float32(), "data");
  EXPECT_TE_ERROR(ops::nchw_to_nchwc(data, 4), "block 4", "does not divide", "6 channels", "data");
  EXPECT_TE_ERROR(ops::nchw_to_nchwc(data, 0), "block", "at least 1");
  EXPECT_TE_ERROR(ops::nchw_to_nchwc(placeholder({6, 5, 5}, DataType::float32(), "d3"), 2), "4-D", "d3");
  EXPECT_TE_ERROR(ops::nchw_to_nchwc(placeholder({1, var("c"), 5, 5}, DataType::float32(), "dv"), 2),
                  "channel count", "constant");
  EXPECT_TE_ERROR(ops::nchwc_to_nchw(data), "5-D", "data");
  Tensor weight = placeholder({20, 6, 3, 3}, DataType::float32(), "weight");
  EXPECT_TE_ERROR(ops::conv2d_nchwc_pack_weight(weight, 3, 16), "output channel block 16", "20 channels", "weight");
  EXPECT_TE_ERROR(ops::conv2d_nchwc_pack_weight(weight, 4, 4), "input channel block 4", "6 channels");

  Tensor d5 = placeholder({1, 2, 5, 5, 3}, DataType::float32(), "d5");
  Tensor w_blocks = placeholder({2, 3, 3, 3, 3, 8}, DataType::float32(), "wb");  // 3 input blocks, data has 2
  EXPECT_TE_ERROR(ops::conv2d_nchwc(d5, w_blocks, 1, 1), "d5", "2 input channel blocks", "wb", "3");
  Tensor w_cb = placeholder({2, 2, 3, 3, 4, 8}, DataType::float32(), "wc");  // block 4, data's is 3
  EXPECT_TE_ERROR(ops::conv2d_nchwc(d5, w_cb, 1, 1), "3 channels per block", "wc", "4");
  Tensor w_ok = placeholder({2, 2, 3, 3, 3, 8}, DataType::float32(), "w");
  EXPECT_TE_ERROR(ops::conv2d_nchwc(d5, w_ok, 0, 1), "stride");
  EXPECT_TE_ERROR(ops::conv2d_nchwc(d5, w_ok, 1, -1), "pad");
  EXPECT_TE_ERROR(ops::conv2d_nchwc(d5, w_ok, 1, 0, 3), "height", "kernel");
  EXPECT_TE_ERROR(ops::conv2d_nchwc(data, w_ok, 1, 1), "5-D", "data");

  ops::register_builtin_templates();
  EXPECT_TE_ERROR(autotune::create_task("conv2d_nchwc", {1, 16, 8, 8, 16, 3, 3, 1, 1}, "llvm"), "11 arguments");
  EXPECT_TE_ERROR(autotune::create_task("conv2d_nchwc", {1, 12, 8, 8, 16, 3, 3, 1, 1, 8, 16}, "llvm"), "ic_block",
                  "does not divide", "12 channels");
  EXPECT_TE_ERROR(autotune::create_task("conv2d_nchwc", {1, 16, 8, 8, 24, 3, 3, 1, 1, 16, 16}, "llvm"), "oc_block",
                  "24 channels");
  EXPECT_TE_ERROR(autotune::create_task("conv2d_nchwc", {1, 16, 8, 8, 16, 3, 3, 0, 1, 16, 16}, "llvm"), "stride");
}

TEST(OpsConv2dNchwc, LlvmDefaultConfig) {
  ops::register_builtin_templates();
  Task task = autotune::create_task("conv2d_nchwc", {1, 6, 13, 11, 8, 3, 3, 2, 1, 3, 4}, "llvm");
  EXPECT_EQ(task.workload_key, "conv2d_nchwc(1,6,13,11,8,3,3,2,1,3,4)");
  EXPECT_DOUBLE_EQ(task.flop, 2.0 * 8 * 7 * 6 * 6 * 3 * 3);  // out 7 x 6, no padded channels
  Instance inst = task.instantiate(task.space);
  EXPECT_TRUE(has_step(inst.schedule, "cache_write"));
  EXPECT_TRUE(has_step(inst.schedule, "compute_at"));
  EXPECT_TRUE(has_step(inst.schedule, "parallel"));
  EXPECT_TRUE(has_step(inst.schedule, "vectorize"));
  EXPECT_EQ(build_run_compare(inst, "llvm", 3), "");
  // The default workload (ResNet-18 C6, blocks of 16) lowers with its default config.
  Task c6 = autotune::create_task("conv2d_nchwc", ops::find_op("conv2d_nchwc").default_args, "llvm");
  Instance c6_inst = c6.instantiate(c6.space);
  EXPECT_NO_THROW(lower(c6_inst.schedule, c6_inst.args, "conv_c6"));
}

TEST(OpsConv2dNchwc, LlvmRandomConfigsStride2Pad1) {
  sweep_llvm_configs("conv2d_nchwc", {1, 4, 13, 11, 8, 3, 3, 2, 1, 2, 4}, 30, 424242);
}

TEST(OpsConv2dNchwc, LlvmRandomConfigsNonSquareKernelBatch2WholeChannelBlock) {
  sweep_llvm_configs("conv2d_nchwc", {2, 3, 9, 7, 32, 3, 2, 1, 1, 3, 16}, 12, 77);
}

TEST(OpsConv2dNchwc, LlvmRandomConfigs1x1Blocks16) {
  sweep_llvm_configs("conv2d_nchwc", {1, 32, 8, 10, 32, 1, 1, 1, 0, 16, 16}, 12, 5);
  sweep_llvm_configs("conv2d_nchwc", {1, 32, 9, 9, 32, 1, 1, 2, 0, 16, 16}, 8, 6);
}

TEST(OpsConv2dNchwc, DerivedSpace) { sweep_derived_space("conv2d_nchwc", {1, 4, 7, 6, 8, 3, 3, 1, 1, 2, 4}, 6, 11); }

TEST(OpsConv2dNchwc, CudaConfigsCompileAndEmulate) {
  std::string why;
  if (!nvrtc_works(why)) GTEST_SKIP() << "no CUDA code generation here: " << why;
  sweep_cuda_configs("conv2d_nchwc", {1, 4, 9, 7, 8, 3, 3, 2, 1, 2, 4}, 4, 3);
  sweep_cuda_configs("conv2d_nchwc", {1, 3, 6, 6, 16, 1, 1, 1, 0, 3, 16}, 3, 4, 2);
}

TEST(OpsConv2dNchwc, RecordReplaysOnTheSpaceModeCompute) {
  ops::register_builtin_templates();
  Task task = autotune::create_task("conv2d_nchwc", {1, 4, 8, 8, 8, 3, 3, 1, 1, 2, 4}, "llvm");
  for (int64_t index : random_indices(task, 4, 9)) {
    Instance inst = task.instantiate(task.space.from_index(index));
    Instance replayed = task.replay(inst.schedule.steps());
    EXPECT_EQ(to_string(lower(replayed.schedule, replayed.args, "f")), to_string(lower(inst.schedule, inst.args, "f")));
  }
}

// The benchmark set: ResNet-18's C1-C12 in the blocked layouts, each default schedule lowers.
TEST(OpsConv2dNchwc, ResnetWorkloadSetLowers) {
  ops::register_builtin_templates();
  const ops::WorkloadSet& set = ops::find_workload_set("resnet18-conv-nchwc");
  const ops::WorkloadSet& plain = ops::find_workload_set("resnet18-conv");
  ASSERT_EQ(set.workloads.size(), 12u);
  for (size_t i = 0; i < 12; ++i) {
    const ops::Workload& w = set.workloads[i];
    EXPECT_EQ(w.label, plain.workloads[i].label);
    EXPECT_EQ(std::vector<int64_t>(w.args.begin(), w.args.begin() + 9), plain.workloads[i].args) << w.label;
    EXPECT_EQ(w.args[9], i == 0 ? 3 : 16) << w.label;
    Task task = autotune::create_task(w.op, w.args, "llvm");
    Instance inst = task.instantiate(task.space);
    LowerOptions options;
    options.target = Target::parse("llvm");
    EXPECT_NO_THROW(lower(inst.schedule, inst.args, "nchwc", options)) << w.label;
  }
}

}  // namespace
}  // namespace te::testing
