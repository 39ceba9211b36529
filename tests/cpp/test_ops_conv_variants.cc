// The generalized convolutions — conv2d NHWC (dilation), grouped conv2d (dilation),
// conv2d_transpose and conv3d: each compute against direct loops in double (the transposed
// convolution as its scatter definition), argument errors naming the problem, and the
// correctness property of their templates: random "llvm" configs give the reference
// interpreter's numbers (outputs NaN-prefilled; on llvm the one-group conv2d_grouped and conv3d
// take conv2d's blocked structure), "cuda" configs compile with NVRTC (and run
// where a GPU exists), and the derived space works on the same computes.
#include <cmath>

#include "te/autotune/task.h"
#include "te/ops.h"
#include "ops_test_util.h"

namespace te::testing {
namespace {

// Row-major flat index of idx in shape.
int64_t flat(const std::vector<int64_t>& shape, const std::vector<int64_t>& idx) {
  int64_t f = 0;
  for (size_t i = 0; i < shape.size(); ++i) f = f * shape[i] + idx[i];
  return f;
}
double at(const NDArray& a, const std::vector<int64_t>& idx) { return a.data_as<float>()[flat(a.shape(), idx)]; }

void expect_close(const NDArray& got, const std::vector<double>& want, const char* what) {
  ASSERT_EQ(size_t(got.numel()), want.size()) << what;
  for (size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(got.data_as<float>()[i], want[i], 1e-4) << what << " at " << i;
}

TEST(OpsConvVariants, Conv2dNhwcMatchesDirectLoops) {
  const int64_t N = 2, H = 7, W = 6, C = 3, K = 4, R = 3, S = 2, st = 2, pad = 1, dil = 2;
  Tensor data = placeholder({N, H, W, C}, DataType::float32(), "data");
  Tensor weight = placeholder({R, S, C, K}, DataType::float32(), "weight");
  Tensor out = ops::conv2d_nhwc(data, weight, st, pad, dil);
  const int64_t OH = (H + 2 * pad - dil * (R - 1) - 1) / st + 1, OW = (W + 2 * pad - dil * (S - 1) - 1) / st + 1;
  ASSERT_EQ(const_shape(out), (std::vector<int64_t>{N, OH, OW, K}));
  NDArray d = random_array({N, H, W, C}, DataType::float32(), 1), w = random_array({R, S, C, K}, DataType::float32(), 2);
  std::vector<double> want;
  for (int64_t n = 0; n < N; ++n)
    for (int64_t y = 0; y < OH; ++y)
      for (int64_t x = 0; x < OW; ++x)
        for (int64_t k = 0; k < K; ++k) {
          double acc = 0;
          for (int64_t r = 0; r < R; ++r)
            for (int64_t s = 0; s < S; ++s)
              for (int64_t c = 0; c < C; ++c) {
                const int64_t iy = y * st + r * dil - pad, ix = x * st + s * dil - pad;
                if (iy >= 0 && iy < H && ix >= 0 && ix < W) acc += at(d, {n, iy, ix, c}) * at(w, {r, s, c, k});
              }
          want.push_back(acc);
        }
  expect_close(evaluate_reference({data, weight}, {d, w}, {out})[0], want, "nhwc");
  EXPECT_TE_ERROR(ops::conv2d_nhwc(data, placeholder({R, S, C + 1, K}, DataType::float32(), "w4"), 1, 1), "w4", "3");
}

TEST(OpsConvVariants, GroupedConv2dMatchesDirectLoops) {
  const int64_t N = 1, C = 4, H = 7, W = 7, K = 6, G = 2, R = 3, S = 3, st = 1, pad = 2, dil = 2;
  Tensor data = placeholder({N, C, H, W}, DataType::float32(), "data");
  Tensor weight = placeholder({K, C / G, R, S}, DataType::float32(), "weight");
  Tensor out = ops::conv2d_nchw_grouped(data, weight, st, pad, dil, G);
  const int64_t OH = (H + 2 * pad - dil * (R - 1) - 1) / st + 1, OW = OH;
  ASSERT_EQ(const_shape(out), (std::vector<int64_t>{N, K, OH, OW}));
  NDArray d = random_array({N, C, H, W}, DataType::float32(), 3);
  NDArray w = random_array({K, C / G, R, S}, DataType::float32(), 4);
  std::vector<double> want;
  for (int64_t k = 0; k < K; ++k)
    for (int64_t y = 0; y < OH; ++y)
      for (int64_t x = 0; x < OW; ++x) {
        double acc = 0;
        const int64_t group = k / (K / G);
        for (int64_t c = 0; c < C / G; ++c)
          for (int64_t r = 0; r < R; ++r)
            for (int64_t s = 0; s < S; ++s) {
              const int64_t iy = y * st + r * dil - pad, ix = x * st + s * dil - pad;
              if (iy >= 0 && iy < H && ix >= 0 && ix < W)
                acc += at(d, {0, group * (C / G) + c, iy, ix}) * at(w, {k, c, r, s});
            }
        want.push_back(acc);
      }
  expect_close(evaluate_reference({data, weight}, {d, w}, {out})[0], want, "grouped");
  EXPECT_TE_ERROR(ops::conv2d_nchw_grouped(data, weight, 1, 1, 1, 3), "groups = 3", "must divide");
  EXPECT_TE_ERROR(ops::conv2d_nchw_grouped(data, weight, 1, 1, 1, 1), "C/groups = 4");
  // groups = 1 is the plain conv2d.
  Tensor w1 = placeholder({K, C, R, S}, DataType::float32(), "w1");
  NDArray w1v = random_array({K, C, R, S}, DataType::float32(), 5);
  EXPECT_EQ(compare_arrays(evaluate_reference({data, w1}, {d, w1v}, {ops::conv2d_nchw_grouped(data, w1, 2, 1, 1, 1)})[0],
                           evaluate_reference({data, w1}, {d, w1v}, {ops::conv2d_nchw(data, w1, 2, 1)})[0]),
            "");
}

TEST(OpsConvVariants, Conv2dTransposeMatchesScatterDefinition) {
  for (int64_t st : {1, 2, 3})
    for (int64_t pad : {0, 1}) {
      const int64_t N = 1, C = 3, H = 4, W = 5, K = 2, R = 3, S = 2;
      Tensor data = placeholder({N, C, H, W}, DataType::float32(), "data");
      Tensor weight = placeholder({C, K, R, S}, DataType::float32(), "weight");
      Tensor out = ops::conv2d_transpose_nchw(data, weight, st, pad);
      const int64_t OH = (H - 1) * st - 2 * pad + R, OW = (W - 1) * st - 2 * pad + S;
      ASSERT_EQ(const_shape(out), (std::vector<int64_t>{N, K, OH, OW}));
      NDArray d = random_array({N, C, H, W}, DataType::float32(), 6), w = random_array({C, K, R, S}, DataType::float32(), 7);
      // Each input pixel scatters its weighted kernel into the output.
      std::vector<double> want(size_t(K * OH * OW), 0.0);
      for (int64_t c = 0; c < C; ++c)
        for (int64_t iy = 0; iy < H; ++iy)
          for (int64_t ix = 0; ix < W; ++ix)
            for (int64_t k = 0; k < K; ++k)
              for (int64_t r = 0; r < R; ++r)
                for (int64_t s = 0; s < S; ++s) {
                  const int64_t y = iy * st - pad + r, x = ix * st - pad + s;
                  if (y >= 0 && y < OH && x >= 0 && x < OW)
                    want[size_t((k * OH + y) * OW + x)] += at(d, {0, c, iy, ix}) * at(w, {c, k, r, s});
                }
      expect_close(evaluate_reference({data, weight}, {d, w}, {out})[0], want, "transpose");
    }
  Tensor data = placeholder({1, 3, 4, 4}, DataType::float32(), "data");
  EXPECT_TE_ERROR(ops::conv2d_transpose_nchw(data, placeholder({3, 2, 3, 3}, DataType::float32(), "w"), 2, 3), "pad = 3",
                  "kernel size - 1");
  EXPECT_TE_ERROR(ops::conv2d_transpose_nchw(data, placeholder({2, 2, 3, 3}, DataType::float32(), "w2"), 2, 1), "w2",
                  "3 channels");
}

TEST(OpsConvVariants, Conv3dMatchesDirectLoops) {
  const int64_t C = 2, D = 4, H = 5, W = 4, K = 3, T = 3, R = 2, S = 3, st = 2, pad = 1;
  Tensor data = placeholder({1, C, D, H, W}, DataType::float32(), "data");
  Tensor weight = placeholder({K, C, T, R, S}, DataType::float32(), "weight");
  Tensor out = ops::conv3d_ncdhw(data, weight, st, pad);
  const int64_t OD = (D + 2 * pad - T) / st + 1, OH = (H + 2 * pad - R) / st + 1, OW = (W + 2 * pad - S) / st + 1;
  ASSERT_EQ(const_shape(out), (std::vector<int64_t>{1, K, OD, OH, OW}));
  NDArray d = random_array({1, C, D, H, W}, DataType::float32(), 8);
  NDArray w = random_array({K, C, T, R, S}, DataType::float32(), 9);
  std::vector<double> want;
  for (int64_t k = 0; k < K; ++k)
    for (int64_t z = 0; z < OD; ++z)
      for (int64_t y = 0; y < OH; ++y)
        for (int64_t x = 0; x < OW; ++x) {
          double acc = 0;
          for (int64_t c = 0; c < C; ++c)
            for (int64_t t = 0; t < T; ++t)
              for (int64_t r = 0; r < R; ++r)
                for (int64_t s = 0; s < S; ++s) {
                  const int64_t iz = z * st + t - pad, iy = y * st + r - pad, ix = x * st + s - pad;
                  if (iz >= 0 && iz < D && iy >= 0 && iy < H && ix >= 0 && ix < W)
                    acc += at(d, {0, c, iz, iy, ix}) * at(w, {k, c, t, r, s});
                }
          want.push_back(acc);
        }
  expect_close(evaluate_reference({data, weight}, {d, w}, {out})[0], want, "conv3d");
  EXPECT_TE_ERROR(ops::conv3d_ncdhw(data, placeholder({K, C, T, R}, DataType::float32(), "w4"), 1, 0), "5-D", "w4");
}

TEST(OpsConvVariants, TemplatesRejectBadArguments) {
  ops::register_builtin_templates();
  EXPECT_TE_ERROR(autotune::create_task("conv2d_nhwc", {1, 2, 3}, "llvm"), "conv2d_nhwc", "10 arguments");
  EXPECT_TE_ERROR(autotune::create_task("conv2d_grouped", {1, 6, 8, 8, 6, 3, 3, 1, 1, 1, 4}, "llvm"), "groups = 4");
  EXPECT_TE_ERROR(autotune::create_task("conv2d_transpose", {1, 2, 4, 4, 2, 3, 3, 0, 1}, "llvm"), "stride");
  EXPECT_TE_ERROR(autotune::create_task("conv3d", {1, 2, 4, 4, 4, 2, 3, 3, 3, 1, 1}, "opencl"), "opencl");
}

TEST(OpsConvVariants, LlvmRandomConfigsMatchReference) {
  sweep_llvm_configs("conv2d_nhwc", {1, 7, 6, 5, 20, 3, 3, 2, 1, 1}, 8, 91);
  sweep_llvm_configs("conv2d_nhwc", {2, 6, 6, 3, 4, 3, 2, 1, 2, 2}, 5, 92);
  sweep_llvm_configs("conv2d_grouped", {1, 8, 9, 7, 6, 3, 3, 2, 1, 1, 2}, 8, 93);
  sweep_llvm_configs("conv2d_grouped", {1, 4, 8, 8, 4, 3, 3, 1, 2, 2, 4}, 5, 94);
  // One group: the conv2d template's blocked structure with dilation, the weight packed in the
  // kernel — filters not a multiple of 16 (a padded block), stride 2, dilation 2, and dilation 3
  // with a batch of 2.
  sweep_llvm_configs("conv2d_grouped", {1, 5, 11, 9, 20, 3, 3, 2, 2, 2, 1}, 8, 97);
  sweep_llvm_configs("conv2d_grouped", {2, 3, 10, 10, 16, 3, 2, 1, 1, 3, 1}, 6, 98);
  sweep_llvm_configs("conv2d_transpose", {1, 3, 5, 4, 4, 4, 3, 2, 1}, 8, 95);
  sweep_llvm_configs("conv3d", {1, 2, 5, 6, 7, 3, 3, 3, 2, 2, 1}, 8, 96);
  // The blocked conv3d with a full and a partial block of filters, a batch of 2 and no padding.
  sweep_llvm_configs("conv3d", {2, 3, 4, 5, 9, 20, 2, 3, 3, 1, 0}, 6, 99);
}

// The operator's own compute evaluated by the reference interpreter on random inputs: what the
// templates' kernels must give (sweep_llvm_configs compares configs with the template's default
// instance only, which a wrong blocked compute would pass).
Reference operator_reference(const std::vector<Tensor>& inputs, const Tensor& out, uint64_t seed) {
  Reference ref;
  for (size_t i = 0; i < inputs.size(); ++i)
    ref.inputs.push_back(random_array(const_shape(inputs[i]), DataType::float32(), seed + i));
  ref.expected = evaluate_reference(inputs, ref.inputs, {out})[0];
  return ref;
}

TEST(OpsConvVariants, BlockedCpuTemplatesComputeTheOperator) {
  ops::register_builtin_templates();
  const DataType f32 = DataType::float32();
  // conv3d (n, c, d, h, w, k, t, r, s, stride, pad): filters past a block of 16, no padding;
  // fewer filters than a block, stride 2.
  for (const std::vector<int64_t>& a : {std::vector<int64_t>{2, 3, 4, 5, 9, 20, 2, 3, 3, 1, 0},
                                        std::vector<int64_t>{1, 2, 5, 6, 7, 3, 3, 3, 2, 2, 1}}) {
    Tensor data = placeholder({a[0], a[1], a[2], a[3], a[4]}, f32, "data");
    Tensor weight = placeholder({a[5], a[1], a[6], a[7], a[8]}, f32, "weight");
    Reference ref = operator_reference({data, weight}, ops::conv3d_ncdhw(data, weight, a[9], a[10]), 7);
    autotune::Task task = autotune::create_task("conv3d", a, "llvm");
    EXPECT_EQ(sweep_llvm_against(task, ref, random_indices(task, 4, 11)), 4);
  }
  // conv2d_grouped with one group (n, c, h, w, k, r, s, stride, pad, dilation, groups).
  for (const std::vector<int64_t>& a : {std::vector<int64_t>{1, 5, 11, 9, 20, 3, 3, 2, 2, 2, 1},
                                        std::vector<int64_t>{2, 3, 10, 10, 16, 3, 2, 1, 1, 3, 1}}) {
    Tensor data = placeholder({a[0], a[1], a[2], a[3]}, f32, "data");
    Tensor weight = placeholder({a[4], a[1], a[5], a[6]}, f32, "weight");
    Reference ref =
        operator_reference({data, weight}, ops::conv2d_nchw_grouped(data, weight, a[7], a[8], a[9], a[10]), 13);
    autotune::Task task = autotune::create_task("conv2d_grouped", a, "llvm");
    EXPECT_EQ(sweep_llvm_against(task, ref, random_indices(task, 4, 17)), 4);
  }
}

TEST(OpsConvVariants, CudaConfigsCompileWithNvrtc) {
  std::string why;
  if (!nvrtc_works(why)) GTEST_SKIP() << "no CUDA code generation here: " << why;
  sweep_cuda_configs("conv2d_nhwc", {1, 7, 6, 5, 20, 3, 3, 2, 1, 1}, 4, 3);
  sweep_cuda_configs("conv2d_grouped", {1, 8, 9, 7, 6, 3, 3, 2, 1, 1, 2}, 4, 3);
  sweep_cuda_configs("conv2d_transpose", {1, 3, 5, 4, 4, 4, 3, 2, 1}, 4, 3);
  sweep_cuda_configs("conv3d", {1, 2, 5, 6, 7, 3, 3, 3, 2, 2, 1}, 4, 3);
}

TEST(OpsConvVariants, DerivedSpaceWorksOnTheComputes) {
  sweep_derived_space("conv2d_nhwc", {1, 5, 5, 3, 4, 3, 3, 1, 1, 1}, 2, 101);
  sweep_derived_space("conv2d_transpose", {1, 2, 3, 3, 3, 3, 3, 2, 1}, 2, 102);
  sweep_derived_space("conv2d_grouped", {1, 4, 6, 6, 4, 3, 3, 1, 2, 2, 2}, 2, 103);
  sweep_derived_space("conv3d", {1, 2, 3, 4, 4, 2, 3, 3, 3, 1, 1}, 2, 104);
}

}  // namespace
}  // namespace te::testing
