// The blocked (NCHW16c) depthwise conv2d and pooling: the computes against the NCHW ones through
// the layout transforms (so both layouts have one meaning), the transforms' round trips and
// the weight pack, argument errors (channels not divisible by the block, ranks, mismatched
// weights), and the templates "depthwise_conv2d_nchwc", "max_pool2d_nchwc", "avg_pool2d_nchwc":
// random "llvm" configs give the reference interpreter's numbers (outputs NaN-prefilled), "cuda"
// configs compile with NVRTC and run in the CUDA emulator, the derived space works too.
#include <cmath>

#include "te/autotune/task.h"
#include "te/ops.h"
#include "ops_test_util.h"

namespace te::testing {
namespace {

using autotune::Instance;
using autotune::Task;

// Runs `out` (a compute of `inputs`) through the reference interpreter.
NDArray eval(const std::vector<Tensor>& inputs, const std::vector<NDArray>& values, const Tensor& out) {
  return evaluate_reference(inputs, values, {out})[0];
}

void expect_equal(const NDArray& got, const NDArray& want, const std::string& what, double atol = 1e-5) {
  ASSERT_EQ(got.shape(), want.shape()) << what;
  for (int64_t i = 0; i < got.numel(); ++i)
    ASSERT_NEAR(got.data_as<float>()[i], want.data_as<float>()[i], atol) << what << " at " << i;
}

TEST(OpsNchwc, TransformsRoundTripAndBlockChannels) {
  const int64_t N = 2, C = 8, H = 3, W = 5, B = 4;
  Tensor data = placeholder({N, C, H, W}, DataType::float32(), "data");
  NDArray x = random_array({N, C, H, W}, DataType::float32(), 5);
  Tensor blocked = ops::nchw_to_nchwc(data, B);
  ASSERT_EQ(const_shape(blocked), (std::vector<int64_t>{N, C / B, H, W, B}));
  NDArray xb = eval({data}, {x}, blocked);
  for (int64_t n = 0; n < N; ++n)
    for (int64_t c = 0; c < C; ++c)
      for (int64_t i = 0; i < H * W; ++i)
        ASSERT_EQ(xb.data_as<float>()[(((n * (C / B) + c / B) * H * W) + i) * B + c % B],
                  x.data_as<float>()[(n * C + c) * H * W + i]);
  Tensor back = ops::nchwc_to_nchw(blocked);
  expect_equal(eval({data}, {x}, back), x, "round trip");
}

TEST(OpsNchwc, DepthwisePackWeight) {
  const int64_t C = 32, R = 3, S = 2;
  Tensor weight = placeholder({C, 1, R, S}, DataType::float32(), "weight");
  NDArray w = random_array({C, 1, R, S}, DataType::float32(), 6);
  Tensor packed = ops::depthwise_pack_weight(weight);
  ASSERT_EQ(const_shape(packed), (std::vector<int64_t>{C / 16, R, S, 16}));
  NDArray p = eval({weight}, {w}, packed);
  for (int64_t c = 0; c < C; ++c)
    for (int64_t rs = 0; rs < R * S; ++rs)
      ASSERT_EQ(p.data_as<float>()[((c / 16) * R * S + rs) * 16 + c % 16], w.data_as<float>()[c * R * S + rs]);
}

// The blocked compute of each operator equals the NCHW compute: NCHW -> NCHWc -> op -> NCHW.
TEST(OpsNchwc, ComputesMatchTheNchwOperators) {
  const int64_t N = 1, C = 8, H = 9, W = 8, B = 4;
  Tensor data = placeholder({N, C, H, W}, DataType::float32(), "data");
  NDArray x = random_array({N, C, H, W}, DataType::float32(), 7);
  Tensor blocked = ops::nchw_to_nchwc(data, B);
  struct PoolCase {
    const char* kind;
    int k, stride, pad;
    bool include_pad;
  };
  for (const PoolCase& c : {PoolCase{"max", 3, 2, 1, true}, PoolCase{"avg", 3, 2, 1, true},
                            PoolCase{"avg", 3, 2, 1, false}, PoolCase{"avg", 2, 1, 0, true}}) {
    Tensor want = ops::pool2d(data, c.kind, c.k, c.stride, c.pad, c.include_pad);
    Tensor got = ops::nchwc_to_nchw(ops::pool2d_nchwc(blocked, c.kind, c.k, c.stride, c.pad, c.include_pad));
    expect_equal(eval({data}, {x}, got), eval({data}, {x}, want),
                 std::string(c.kind) + " k" + std::to_string(c.k) + " incl" + std::to_string(c.include_pad));
  }
  const int64_t R = 3, S = 2;
  Tensor weight = placeholder({C, 1, R, S}, DataType::float32(), "weight");
  NDArray w = random_array({C, 1, R, S}, DataType::float32(), 8);
  for (int stride : {1, 2})
    for (int dilation : {1, 2}) {
      Tensor want = ops::depthwise_conv2d_nchw(data, weight, stride, 1, dilation);
      Tensor got = ops::nchwc_to_nchw(
          ops::depthwise_conv2d_nchwc(blocked, ops::depthwise_pack_weight(weight, B), stride, 1, dilation));
      expect_equal(eval({data, weight}, {x, w}, got), eval({data, weight}, {x, w}, want),
                   "depthwise stride " + std::to_string(stride) + " dilation " + std::to_string(dilation));
    }
}

TEST(OpsNchwc, BadArgumentsAreErrors) {
  Tensor data24 = placeholder({1, 24, 5, 5}, DataType::float32(), "x24");
  EXPECT_TE_ERROR(ops::nchw_to_nchwc(data24, 16), "block", "16", "24", "x24");
  EXPECT_TE_ERROR(ops::nchw_to_nchwc(placeholder({24, 5}, DataType::float32(), "x2"), 8), "4-D", "x2");
  EXPECT_TE_ERROR(ops::nchwc_to_nchw(data24), "5-D", "x24");
  EXPECT_TE_ERROR(ops::depthwise_pack_weight(placeholder({24, 1, 3, 3}, DataType::float32(), "w24")), "16", "24",
                  "w24");
  EXPECT_TE_ERROR(ops::depthwise_pack_weight(placeholder({32, 2, 3, 3}, DataType::float32(), "w2")), "multiplier");
  Tensor blocked = placeholder({1, 2, 5, 5, 16}, DataType::float32(), "xb");
  EXPECT_TE_ERROR(ops::pool2d_nchwc(data24, "max", 3, 1, 1), "pool2d_nchwc", "5-D", "x24");
  EXPECT_TE_ERROR(ops::pool2d_nchwc(blocked, "min", 3, 1, 1), "pool2d_nchwc", "min");
  EXPECT_TE_ERROR(ops::pool2d_nchwc(blocked, "max", 3, 1, 2), "pool2d_nchwc", "half the kernel");
  EXPECT_TE_ERROR(ops::depthwise_conv2d_nchwc(blocked, placeholder({3, 3, 3, 16}, DataType::float32(), "wb"), 1, 1),
                  "depthwise_conv2d_nchwc", "wb", "[2, R, S, 16]");
  EXPECT_TE_ERROR(ops::depthwise_conv2d_nchwc(blocked, placeholder({2, 3, 3, 8}, DataType::float32(), "w8"), 1, 1),
                  "w8", "16");
  Tensor wb = placeholder({2, 3, 3, 16}, DataType::float32(), "wb");
  EXPECT_TE_ERROR(ops::depthwise_conv2d_nchwc(blocked, wb, 0, 1), "stride");
  EXPECT_TE_ERROR(ops::depthwise_conv2d_nchwc(blocked, wb, 1, 0, 3), "smaller than the dilated kernel");
  ops::register_builtin_templates();
  EXPECT_TE_ERROR(autotune::create_task("depthwise_conv2d_nchwc", {1, 24, 8, 8, 3, 3, 1, 1, 1}, "llvm"),
                  "depthwise_conv2d_nchwc", "c = 24", "multiple of the channel block 16");
  EXPECT_TE_ERROR(autotune::create_task("max_pool2d_nchwc", {1, 40, 8, 8, 3, 2, 1}, "llvm"), "max_pool2d_nchwc",
                  "c = 40");
  EXPECT_TE_ERROR(autotune::create_task("avg_pool2d_nchwc", {1, 16, 8}, "llvm"), "avg_pool2d_nchwc", "7 arguments");
}

TEST(OpsNchwc, LlvmRandomConfigsMatchReference) {
  sweep_llvm_configs("depthwise_conv2d_nchwc", {1, 32, 13, 11, 3, 3, 2, 1, 1}, 12, 91);
  sweep_llvm_configs("depthwise_conv2d_nchwc", {2, 16, 9, 10, 3, 2, 1, 2, 2}, 8, 92);
  sweep_llvm_configs("max_pool2d_nchwc", {1, 32, 13, 11, 3, 2, 1}, 10, 93);
  sweep_llvm_configs("avg_pool2d_nchwc", {2, 16, 9, 10, 3, 2, 1}, 10, 94);
  sweep_llvm_configs("avg_pool2d_nchwc", {1, 32, 7, 7, 7, 1, 0}, 4, 95);
}

TEST(OpsNchwc, LlvmDefaultVectorizesTheBlockInParallel) {
  ops::register_builtin_templates();
  for (const char* op : {"depthwise_conv2d_nchwc", "max_pool2d_nchwc", "avg_pool2d_nchwc"}) {
    Task task = autotune::create_task(op, ops::find_op(op).default_args, "llvm");
    Instance inst = task.instantiate(task.space);
    EXPECT_TRUE(has_step(inst.schedule, "parallel")) << op;
    EXPECT_TRUE(has_step(inst.schedule, "vectorize")) << op;
    EXPECT_TRUE(has_step(inst.schedule, "unroll")) << op;
    EXPECT_EQ(const_shape(inst.args.back()).back(), ops::kNchwcBlock) << op;
  }
}

TEST(OpsNchwc, CudaConfigsCompileWithNvrtc) {
  std::string why;
  if (!nvrtc_works(why)) GTEST_SKIP() << "no CUDA code generation here: " << why;
  sweep_cuda_configs("depthwise_conv2d_nchwc", {1, 32, 13, 11, 3, 3, 2, 1, 1}, 4, 5);
  sweep_cuda_configs("max_pool2d_nchwc", {1, 16, 13, 11, 3, 2, 1}, 4, 6);
  sweep_cuda_configs("avg_pool2d_nchwc", {1, 16, 9, 10, 3, 2, 1}, 4, 7);
}

TEST(OpsNchwc, DerivedSpaceWorksOnTheCompute) {
  sweep_derived_space("depthwise_conv2d_nchwc", {1, 16, 9, 8, 3, 3, 1, 1, 1}, 3, 97);
  sweep_derived_space("max_pool2d_nchwc", {1, 16, 9, 9, 3, 2, 1}, 3, 98);
  sweep_derived_space("avg_pool2d_nchwc", {1, 16, 9, 9, 3, 2, 1}, 3, 99);
}

}  // namespace
}  // namespace te::testing
