// CUDA backend: GPU schedules printed as CUDA C and compiled to PTX by NVRTC (no GPU needed);
// the run part executes only where a GPU is present.
#include "test_cuda_util.h"

namespace te::testing {
namespace {

// The launches of this suite run only on a machine with a GPU; this test says when they did not.
TEST(CudaRun, GpuPresent) {
  if (!cuda_device_available())
    GTEST_SKIP() << "no CUDA device: kernels were generated and compiled by NVRTC, launches skipped";
}

TEST(CudaCodegen, ElementwiseSymbolicBind) {
  Var n = var("n");
  Tensor A = placeholder({n}, DataType::float32(), "A");
  Tensor B = placeholder({n}, DataType::float32(), "B");
  Tensor C = compute({n}, [&](const std::vector<Var>& i) { return A(i[0]) + B(i[0]); }, "C");
  Schedule s = create_schedule({C.op()});
  auto [xo, xi] = s[C].split(compute_op(C)->axis[0], 64);
  s[C].bind(xo, thread_axis("blockIdx.x"));
  s[C].bind(xi, thread_axis("threadIdx.x"));
  Module m = build(s, {A, B, C}, "cuda", "vadd");
  std::string cu = m.get_source("cuda");
  for (const char* part : {"extern \"C\" __global__", "vadd_kernel(", "const float* __restrict__ A",
                           "float* __restrict__ C", "int n", "blockIdx.x", "threadIdx.x"})
    EXPECT_TRUE(contains(cu, part)) << "missing '" << part << "' in\n" << cu;
  EXPECT_FALSE(contains(cu, "for (")) << cu;  // both loops became thread indices
  const CudaKernelSource src = codegen_cuda(m.func());
  EXPECT_EQ(src.launch.block[0], 64);
  EXPECT_EQ(src.launch.block[1], 1);
  EXPECT_FALSE(as_const_int(src.launch.grid[0]));  // ceil(n / 64), evaluated at call time
  expect_ptx_entry(m);
  run_or_skip(m, {A, B}, C, {{1000}, {1000}, {1000}});
}

TEST(CudaCodegen, Float4WhenVectorizedByFour) {
  Tensor A = placeholder({4096}, DataType::float32(), "A");
  Tensor C = compute({4096}, [&](const std::vector<Var>& i) { return A(i[0]) * 2.0f + 1.0f; }, "C");
  Schedule s = create_schedule({C.op()});
  auto [xo, xv] = s[C].split(compute_op(C)->axis[0], 4);
  auto [bx, tx] = s[C].split(xo, 128);
  s[C].bind(bx, thread_axis("blockIdx.x"));
  s[C].bind(tx, thread_axis("threadIdx.x"));
  s[C].vectorize(xv);
  Module m = build(s, {A, C}, "cuda", "scale4");
  std::string cu = m.get_source("cuda");
  EXPECT_TRUE(contains(cu, "float4")) << cu;
  std::string ptx = expect_ptx_entry(m);
  EXPECT_TRUE(contains(ptx, ".v4.f32")) << "no vector load/store in PTX";
  run_or_skip(m, {A}, C, {{4096}, {4096}});
}

TEST(CudaCodegen, Float2WhenVectorizedByTwo) {
  Tensor A = placeholder({1024}, DataType::float32(), "A");
  Tensor B = placeholder({1024}, DataType::float32(), "B");
  Tensor C = compute({1024}, [&](const std::vector<Var>& i) { return A(i[0]) * B(i[0]) + 1.0f; }, "C");
  Schedule s = create_schedule({C.op()});
  auto [xo, xv] = s[C].split(compute_op(C)->axis[0], 2);
  auto [bx, tx] = s[C].split(xo, 64);
  s[C].bind(bx, thread_axis("blockIdx.x"));
  s[C].bind(tx, thread_axis("threadIdx.x"));
  s[C].vectorize(xv);
  Module m = build(s, {A, B, C}, "cuda", "fma2");
  std::string cu = m.get_source("cuda");
  EXPECT_TRUE(contains(cu, "make_float2(")) << cu;
  EXPECT_TRUE(contains(cu, "*(const float2*)(A + ")) << cu;
  EXPECT_FALSE(contains(cu, "float4")) << cu;
  std::string ptx = expect_ptx_entry(m);
  EXPECT_TRUE(contains(ptx, ".v2.f32")) << "no vector load/store in PTX";
  run_or_skip(m, {A, B}, C, {{1024}, {1024}, {1024}});
}

TEST(CudaCodegen, VectorizedOddExtentIsScalarized) {
  Tensor A = placeholder({30}, DataType::float32(), "A");
  Tensor C = compute({30}, [&](const std::vector<Var>& i) { return A(i[0]) + 1.0f; }, "C");
  Schedule s = create_schedule({C.op()});
  auto [xo, xv] = s[C].split(compute_op(C)->axis[0], 3);
  s[C].bind(xo, thread_axis("threadIdx.x"));
  s[C].vectorize(xv);
  Module m = build(s, {A, C}, "cuda", "odd3");
  EXPECT_FALSE(contains(m.get_source("cuda"), "float4"));
  expect_ptx_entry(m);
  run_or_skip(m, {A}, C, {{30}, {30}});
}

TEST(CudaCodegen, Float16WithFloatAccumulation) {
  const int N = 32, K = 16;
  Tensor A = placeholder({N, K}, DataType::float16(), "A");
  Tensor B = placeholder({K, N}, DataType::float16(), "B");
  IterVar k = reduce_axis(Range(0, K), "k");
  Tensor acc = compute({N, N}, [&](const std::vector<Var>& i) {
    return sum(cast(DataType::float32(), A(i[0], k)) * cast(DataType::float32(), B(k, i[1])), {k});
  }, "acc");
  Tensor C = compute({N, N}, [&](const std::vector<Var>& i) { return cast(DataType::float16(), acc(i[0], i[1])); }, "C");
  Schedule s = create_schedule({C.op()});
  s[acc].compute_at(s[C], compute_op(C)->axis[1]);
  s[C].bind(compute_op(C)->axis[0], thread_axis("blockIdx.x"));
  s[C].bind(compute_op(C)->axis[1], thread_axis("threadIdx.x"));
  Module m = build(s, {A, B, C}, "cuda", "hgemm");
  std::string cu = m.get_source("cuda");
  for (const char* part : {"#include <cuda_fp16.h>", "__half* __restrict__ C", "__half2float", "__float2half"})
    EXPECT_TRUE(contains(cu, part)) << "missing '" << part << "' in\n" << cu;
  expect_ptx_entry(m);
  // Numbers: the float16 GEMM with float32 accumulation is checked in test_ops_matmul_fp16.cc
  // (interpreter, NVRTC, GPU runs) with the float16 fill / compare_half_arrays helpers.
}

TEST(CudaCodegen, MathAndGuardedRead) {
  Var n = var("n");
  Tensor A = placeholder({n}, DataType::float32(), "A");
  Tensor I = placeholder({n}, DataType::int32(), "I");
  Tensor D = placeholder({n}, DataType::float64(), "D");
  Tensor C = compute({n}, [&](const std::vector<Var>& i) {
    Expr shifted = if_then_else(i[0] > 0, A(i[0] - 1), constant(0.0));
    Expr f = exp(A(i[0])) + tanh(shifted) + sqrt(abs(A(i[0]))) + cast(DataType::float32(), I(i[0]) / 3) +
             cast(DataType::float32(), exp(D(i[0])));
    return f;
  }, "C");
  Schedule s = create_schedule({C.op()});
  auto [xo, xi] = s[C].split(compute_op(C)->axis[0], 32);
  s[C].bind(xo, thread_axis("blockIdx.x"));
  s[C].bind(xi, thread_axis("threadIdx.x"));
  Module m = build(s, {A, I, D, C}, "cuda", "mathk");
  std::string cu = m.get_source("cuda");
  for (const char* part : {"expf(", "tanhf(", "sqrtf(", "fabsf(", "exp(", " ? ", "const double*", "const int*"})
    EXPECT_TRUE(contains(cu, part)) << "missing '" << part << "' in\n" << cu;
  expect_ptx_entry(m);
  run_or_skip(m, {A, I, D}, C, {{100}, {100}, {100}, {100}});
}

}  // namespace
}  // namespace te::testing
