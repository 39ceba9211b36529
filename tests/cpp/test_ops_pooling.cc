// Pooling and depthwise conv2d: the computes against direct loops (NumPy's/PyTorch's
// semantics: max pooling ignores padding, average pooling with and without count_include_pad,
// depthwise with stride, padding and dilation), argument errors, and the correctness property
// of the "max_pool2d", "avg_pool2d" and "depthwise_conv2d" templates: random "llvm" configs give
// the reference interpreter's numbers (outputs NaN-prefilled), "cuda" configs compile with
// NVRTC (and run where a GPU exists), and the derived space works on the same computes.
#include <algorithm>
#include <cmath>

#include "te/autotune/task.h"
#include "te/ops.h"
#include "ops_test_util.h"

namespace te::testing {
namespace {

using autotune::Instance;
using autotune::Task;

// Direct loops for pool2d over a [1, C, H, W] float array.
std::vector<double> pool_loops(const NDArray& x, const std::string& kind, int k, int stride, int pad,
                               bool include_pad) {
  const int64_t C = x.shape()[1], H = x.shape()[2], W = x.shape()[3];
  const int64_t OH = (H + 2 * pad - k) / stride + 1, OW = (W + 2 * pad - k) / stride + 1;
  std::vector<double> out;
  for (int64_t c = 0; c < C; ++c)
    for (int64_t y = 0; y < OH; ++y)
      for (int64_t xo = 0; xo < OW; ++xo) {
        double best = -INFINITY, total = 0;
        int inside = 0;
        for (int r = 0; r < k; ++r)
          for (int s = 0; s < k; ++s) {
            const int64_t iy = y * stride + r - pad, ix = xo * stride + s - pad;
            if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
            const double v = x.data_as<float>()[(c * H + iy) * W + ix];
            best = std::max(best, v);
            total += v;
            ++inside;
          }
        out.push_back(kind == "max" ? best : total / (include_pad ? k * k : inside));
      }
  return out;
}

TEST(OpsPooling, ComputeMatchesDirectLoops) {
  const int C = 3, H = 7, W = 8;
  Tensor data = placeholder({1, C, H, W}, DataType::float32(), "data");
  NDArray x = random_array({1, C, H, W}, DataType::float32(), 4);
  struct Case {
    const char* kind;
    int k, stride, pad;
    bool include_pad;
  };
  for (const Case& c : {Case{"max", 3, 2, 1, true}, Case{"max", 2, 2, 0, true}, Case{"avg", 3, 2, 1, true},
                        Case{"avg", 3, 2, 1, false}, Case{"avg", 3, 1, 0, true}}) {
    Tensor out = ops::pool2d(data, c.kind, c.k, c.stride, c.pad, c.include_pad);
    NDArray got = evaluate_reference({data}, {x}, {out})[0];
    const std::vector<double> want = pool_loops(x, c.kind, c.k, c.stride, c.pad, c.include_pad);
    ASSERT_EQ(size_t(got.numel()), want.size()) << c.kind;
    for (size_t i = 0; i < want.size(); ++i)
      EXPECT_NEAR(got.data_as<float>()[i], want[i], 1e-5) << c.kind << " k" << c.k << " pad" << c.pad << " incl"
                                                          << c.include_pad << " at " << i;
  }
}

TEST(OpsPooling, ComputeChecksArguments) {
  Tensor data = placeholder({1, 2, 5, 5}, DataType::float32(), "data");
  EXPECT_TE_ERROR(ops::pool2d(data, "min", 2, 2, 0), "min", "max", "avg");
  EXPECT_TE_ERROR(ops::pool2d(data, "max", 0, 1, 0), "kernel");
  EXPECT_TE_ERROR(ops::pool2d(data, "max", 2, 0, 0), "stride");
  EXPECT_TE_ERROR(ops::pool2d(data, "max", 3, 1, -1), "pad");
  EXPECT_TE_ERROR(ops::pool2d(data, "max", 3, 1, 2), "pad", "half the kernel");
  EXPECT_TE_ERROR(ops::pool2d(data, "avg", 9, 1, 1), "smaller than the kernel");
  EXPECT_TE_ERROR(ops::pool2d(placeholder({2, 5, 5}, DataType::float32(), "x3"), "max", 2, 2, 0), "4-D", "x3");
  ops::register_builtin_templates();
  EXPECT_TE_ERROR(autotune::create_task("max_pool2d", {1, 2, 3}, "llvm"), "max_pool2d", "7 arguments");
  EXPECT_TE_ERROR(autotune::create_task("avg_pool2d", {1, 2, 5, 5, 3, 0, 1}, "llvm"), "avg_pool2d", "stride");
}

TEST(OpsPooling, LlvmRandomConfigsMatchReference) {
  sweep_llvm_configs("max_pool2d", {1, 3, 13, 11, 3, 2, 1}, 14, 51);
  sweep_llvm_configs("avg_pool2d", {2, 3, 9, 10, 3, 2, 1}, 14, 52);
  sweep_llvm_configs("avg_pool2d", {1, 4, 8, 8, 2, 2, 0}, 6, 53);
}

TEST(OpsPooling, LlvmDefaultIsVectorizedAndParallel) {
  ops::register_builtin_templates();
  Task task = autotune::create_task("max_pool2d", ops::find_op("max_pool2d").default_args, "llvm");
  Instance inst = task.instantiate(task.space);
  EXPECT_TRUE(has_step(inst.schedule, "parallel"));
  EXPECT_TRUE(has_step(inst.schedule, "vectorize"));
  EXPECT_NO_THROW(lower(inst.schedule, inst.args, "pool_default"));
}

// Streaming stores: NCHWc outputs (rows of 16-float blocks, whole cache lines) of 4 MiB and
// more; NCHW rows of 64 floats too, not of 56 (a line shared by two rows).
TEST(OpsPooling, LlvmNontemporalKnob) {
  ops::register_builtin_templates();
  check_nontemporal_knob("max_pool2d_nchwc", {1, 256, 64, 64, 1, 1, 0}, true);  // a 1x1 window: a quick reference
  check_nontemporal_knob("avg_pool2d", {1, 256, 64, 64, 1, 1, 0}, true);
  check_nontemporal_knob("max_pool2d", {8, 64, 112, 112, 3, 2, 1}, false);
  check_nontemporal_knob("max_pool2d_nchwc", {1, 64, 112, 112, 3, 2, 1}, false);  // 784 KiB
}

TEST(OpsPooling, CudaConfigsCompileWithNvrtc) {
  std::string why;
  if (!nvrtc_works(why)) GTEST_SKIP() << "no CUDA code generation here: " << why;
  sweep_cuda_configs("max_pool2d", {1, 3, 13, 11, 3, 2, 1}, 5, 3);
  sweep_cuda_configs("avg_pool2d", {2, 3, 9, 10, 3, 2, 1}, 5, 4);
}

TEST(OpsPooling, DerivedSpaceWorksOnTheCompute) {
  sweep_derived_space("max_pool2d", {1, 2, 9, 9, 3, 2, 1}, 3, 61);
  sweep_derived_space("avg_pool2d", {1, 2, 9, 9, 3, 2, 1}, 3, 62);
}

TEST(OpsDepthwise, ComputeMatchesDirectLoops) {
  const int C = 3, H = 9, W = 8, R = 3, S = 2, stride = 2, pad = 1, dil = 2;
  Tensor data = placeholder({1, C, H, W}, DataType::float32(), "data");
  Tensor weight = placeholder({C, 1, R, S}, DataType::float32(), "weight");
  Tensor out = ops::depthwise_conv2d_nchw(data, weight, stride, pad, dil);
  const int OH = (H + 2 * pad - dil * (R - 1) - 1) / stride + 1, OW = (W + 2 * pad - dil * (S - 1) - 1) / stride + 1;
  ASSERT_EQ(const_shape(out), (std::vector<int64_t>{1, C, OH, OW}));
  NDArray d = random_array({1, C, H, W}, DataType::float32(), 1), w = random_array({C, 1, R, S}, DataType::float32(), 2);
  NDArray got = evaluate_reference({data, weight}, {d, w}, {out})[0];
  for (int c = 0; c < C; ++c)
    for (int y = 0; y < OH; ++y)
      for (int x = 0; x < OW; ++x) {
        double acc = 0;
        for (int r = 0; r < R; ++r)
          for (int s = 0; s < S; ++s) {
            const int iy = y * stride + r * dil - pad, ix = x * stride + s * dil - pad;
            if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
            acc += double(d.data_as<float>()[(c * H + iy) * W + ix]) * w.data_as<float>()[(c * R + r) * S + s];
          }
        EXPECT_NEAR(got.data_as<float>()[(c * OH + y) * OW + x], acc, 1e-5) << c << "," << y << "," << x;
      }
}

TEST(OpsDepthwise, ComputeChecksArguments) {
  Tensor data = placeholder({1, 3, 5, 5}, DataType::float32(), "data");
  EXPECT_TE_ERROR(ops::depthwise_conv2d_nchw(data, placeholder({4, 1, 3, 3}, DataType::float32(), "w4"), 1, 1), "w4",
                  "[C, 1, R, S]", "3");
  EXPECT_TE_ERROR(ops::depthwise_conv2d_nchw(data, placeholder({3, 2, 3, 3}, DataType::float32(), "w2"), 1, 1),
                  "multiplier 1");
  Tensor w = placeholder({3, 1, 3, 3}, DataType::float32(), "w");
  EXPECT_TE_ERROR(ops::depthwise_conv2d_nchw(data, w, 0, 1), "stride");
  EXPECT_TE_ERROR(ops::depthwise_conv2d_nchw(data, w, 1, -1), "pad");
  EXPECT_TE_ERROR(ops::depthwise_conv2d_nchw(data, w, 1, 0, 0), "dilation");
  EXPECT_TE_ERROR(ops::depthwise_conv2d_nchw(data, w, 1, 0, 3), "smaller than the dilated kernel");
  ops::register_builtin_templates();
  EXPECT_TE_ERROR(autotune::create_task("depthwise_conv2d", {1, 2, 3}, "llvm"), "depthwise_conv2d", "9 arguments");
}

TEST(OpsDepthwise, LlvmRandomConfigsMatchReference) {
  sweep_llvm_configs("depthwise_conv2d", {1, 3, 13, 11, 3, 3, 2, 1, 1}, 14, 71);
  sweep_llvm_configs("depthwise_conv2d", {2, 4, 9, 10, 3, 2, 1, 2, 2}, 10, 72);
}

TEST(OpsDepthwise, CudaConfigsCompileWithNvrtc) {
  std::string why;
  if (!nvrtc_works(why)) GTEST_SKIP() << "no CUDA code generation here: " << why;
  sweep_cuda_configs("depthwise_conv2d", {1, 3, 13, 11, 3, 3, 2, 1, 1}, 5, 3);
}

TEST(OpsDepthwise, DerivedSpaceWorksOnTheCompute) {
  sweep_derived_space("depthwise_conv2d", {1, 2, 9, 8, 3, 3, 1, 1, 1}, 3, 81);
}

}  // namespace
}  // namespace te::testing
