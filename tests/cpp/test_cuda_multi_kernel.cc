// CUDA backend: the host/device split. Stages computed at root with their own binds become
// one kernel each (<name>_kernel0, _kernel1, ...), launched in order, with the root-level
// intermediates allocated on the device by the host. Generated and NVRTC-compiled everywhere;
// run against the reference interpreter on a GPU.
#include "test_cuda_util.h"

namespace te::testing {
namespace {

// Binds the outermost axis of a 1-D stage as blockIdx.x / threadIdx.x by `factor`.
void bind_1d(Schedule& s, const Tensor& t, int64_t factor) {
  auto [bx, tx] = s[t].split(compute_op(t)->axis[0], factor);
  s[t].bind(bx, thread_axis("blockIdx.x"));
  s[t].bind(tx, thread_axis("threadIdx.x"));
}

// Binds a 2-D stage: rows to blockIdx.x, columns to threadIdx.x.
void bind_rows_cols(Schedule& s, const Tensor& t) {
  s[t].bind(compute_op(t)->axis[0], thread_axis("blockIdx.x"));
  s[t].bind(compute_op(t)->axis[1], thread_axis("threadIdx.x"));
}

// Every kernel is an entry of the compiled PTX.
void expect_ptx_entries(const Module& m, size_t n) {
  if (const char* print = std::getenv("TE_TEST_PRINT_CUDA"); print && *print == '1')
    std::cout << m.get_source("cuda") << "\n";
  std::string ptx = m.get_source("ptx");
  EXPECT_EQ(count_of(ptx, ".entry "), n) << ptx.substr(0, 2000);
  for (size_t k = 0; k < n; ++k) {
    std::string entry = ".entry " + m.func().name + "_kernel" + std::to_string(k) + "(";
    EXPECT_NE(ptx.find(entry), std::string::npos) << "PTX lacks '" << entry << "'";
  }
}

TEST(CudaMultiKernel, ElementwiseChainEachStageAtRoot) {
  const int N = 1000;
  Tensor A = placeholder({N}, DataType::float32(), "A");
  Tensor B = compute({N}, [&](const std::vector<Var>& i) { return A(i[0]) * 2.0f; }, "B");
  Tensor C = compute({N}, [&](const std::vector<Var>& i) { return B(i[0]) + 1.0f; }, "C");
  Schedule s = create_schedule({C.op()});
  bind_1d(s, B, 64);
  bind_1d(s, C, 128);
  Module m = build(s, {A, C}, "cuda", "chain");
  std::string cu = m.get_source("cuda");
  EXPECT_EQ(count_of(cu, "__global__"), 2u) << cu;
  // Each kernel takes only what it uses: arguments first, then intermediates.
  EXPECT_NE(cu.find("chain_kernel0(const float* __restrict__ A, float* __restrict__ B)"), std::string::npos) << cu;
  EXPECT_NE(cu.find("chain_kernel1(float* __restrict__ C, const float* __restrict__ B)"), std::string::npos) << cu;
  EXPECT_LT(cu.find("chain_kernel0("), cu.find("chain_kernel1(")) << cu;
  CudaKernelSource src = codegen_cuda(m.func());
  ASSERT_EQ(src.kernels.size(), 2u);
  ASSERT_EQ(src.intermediates.size(), 1u);
  EXPECT_EQ(src.intermediates[0].buffer.name(), "B");
  EXPECT_EQ(src.kernels[0].launch.block[0], 64);  // each kernel's own launch configuration
  EXPECT_TRUE(is_const_int(src.kernels[0].launch.grid[0], (N + 63) / 64));
  EXPECT_EQ(src.kernels[1].launch.block[0], 128);
  EXPECT_TRUE(is_const_int(src.kernels[1].launch.grid[0], (N + 127) / 128));
  EXPECT_EQ(src.kernels[0].stage, "B");
  EXPECT_EQ(src.kernels[1].stage, "C");
  expect_ptx_entries(m, 2);
  run_or_skip(m, {A}, C, {{N}, {N}});
}

// A symbolic length: the intermediates' sizes and the grids are evaluated at call time, and
// each kernel receives the size variable it uses.
TEST(CudaMultiKernel, SymbolicChainOfThree) {
  Var n("n");
  Tensor A = placeholder({n}, DataType::float32(), "A");
  Tensor B = compute({n}, [&](const std::vector<Var>& i) { return exp(A(i[0])); }, "B");
  Tensor C = compute({n}, [&](const std::vector<Var>& i) { return B(i[0]) * B(i[0]); }, "C");
  Tensor D = compute({n}, [&](const std::vector<Var>& i) { return C(i[0]) - A(i[0]); }, "D");
  Schedule s = create_schedule({D.op()});
  bind_1d(s, B, 32);
  bind_1d(s, C, 64);
  bind_1d(s, D, 256);
  Module m = build(s, {A, D}, "cuda", "chain3");
  std::string cu = m.get_source("cuda");
  EXPECT_EQ(count_of(cu, "__global__"), 3u) << cu;
  EXPECT_EQ(count_of(cu, "int n)"), 3u) << cu;
  CudaKernelSource src = codegen_cuda(m.func());
  ASSERT_EQ(src.kernels.size(), 3u);
  EXPECT_EQ(src.intermediates.size(), 2u);
  EXPECT_EQ(src.kernels[2].launch.block[0], 256);
  EXPECT_FALSE(as_const_int(src.kernels[2].launch.grid[0]));  // depends on n
  expect_ptx_entries(m, 3);
  run_or_skip(m, {A}, D, {{777}, {777}});
}

// Softmax as four root kernels: row max, exp, row sum, normalize.
TEST(CudaMultiKernel, SoftmaxFourKernels) {
  const int N = 70, M = 31;
  Tensor A = placeholder({N, M}, DataType::float32(), "A");
  IterVar k1 = reduce_axis(Range(0, M), "k1"), k2 = reduce_axis(Range(0, M), "k2");
  Tensor mx = compute({N}, [&](const std::vector<Var>& i) { return te::max(A(i[0], k1), std::vector<IterVar>{k1}); }, "row_max");
  Tensor e = compute({N, M}, [&](const std::vector<Var>& i) { return exp(A(i[0], i[1]) - mx(i[0])); }, "e");
  Tensor sm = compute({N}, [&](const std::vector<Var>& i) { return sum(e(i[0], k2), {k2}); }, "row_sum");
  Tensor out = compute({N, M}, [&](const std::vector<Var>& i) { return e(i[0], i[1]) / sm(i[0]); }, "softmax");
  Schedule s = create_schedule({out.op()});
  bind_1d(s, mx, 32);
  bind_rows_cols(s, e);
  bind_1d(s, sm, 16);
  bind_rows_cols(s, out);
  Module m = build(s, {A, out}, "cuda", "softmax4");
  std::string cu = m.get_source("cuda");
  EXPECT_EQ(count_of(cu, "__global__"), 4u) << cu;
  CudaKernelSource src = codegen_cuda(m.func());
  ASSERT_EQ(src.kernels.size(), 4u);
  EXPECT_EQ(src.intermediates.size(), 3u);
  const char* stages[] = {"row_max", "e", "row_sum", "softmax"};
  const int64_t blocks[] = {32, M, 16, M};
  const int64_t grids[] = {(N + 31) / 32, N, (N + 15) / 16, N};
  for (size_t k = 0; k < 4; ++k) {
    EXPECT_EQ(src.kernels[k].stage, stages[k]);
    EXPECT_EQ(src.kernels[k].launch.block[0], blocks[k]) << k;
    EXPECT_TRUE(is_const_int(src.kernels[k].launch.grid[0], grids[k])) << k << ": " << to_string(src.kernels[k].launch.grid[0]);
  }
  expect_ptx_entries(m, 4);
  run_or_skip(m, {A}, out, {{N, M}, {N, M}});
}

// A 16x16-tiled matmul kernel, then a bias kernel with its own (1-D) launch.
TEST(CudaMultiKernel, MatmulThenBiasKernel) {
  const int N = 64, M = 48, K = 40, T = 16;
  Tensor A = placeholder({N, K}, DataType::float32(), "A");
  Tensor B = placeholder({K, M}, DataType::float32(), "B");
  Tensor bias = placeholder({M}, DataType::float32(), "bias");
  IterVar k = reduce_axis(Range(0, K), "k");
  Tensor C = compute({N, M}, [&](const std::vector<Var>& i) { return sum(A(i[0], k) * B(k, i[1]), {k}); }, "C");
  Tensor D = compute({N, M}, [&](const std::vector<Var>& i) { return C(i[0], i[1]) + bias(i[1]); }, "D");
  Schedule s = create_schedule({D.op()});
  auto [bi, bj, ti, tj] = s[C].tile(compute_op(C)->axis[0], compute_op(C)->axis[1], T, T);
  s[C].bind(bi, thread_axis("blockIdx.y"));
  s[C].bind(bj, thread_axis("blockIdx.x"));
  s[C].bind(ti, thread_axis("threadIdx.y"));
  s[C].bind(tj, thread_axis("threadIdx.x"));
  IterVar fused = s[D].fuse(compute_op(D)->axis[0], compute_op(D)->axis[1]);
  auto [bx, tx] = s[D].split(fused, 256);
  s[D].bind(bx, thread_axis("blockIdx.x"));
  s[D].bind(tx, thread_axis("threadIdx.x"));
  Module m = build(s, {A, B, bias, D}, "cuda", "dense_bias");
  std::string cu = m.get_source("cuda");
  EXPECT_NE(cu.find("dense_bias_kernel0(const float* __restrict__ A, const float* __restrict__ B, float* __restrict__ C)"),
            std::string::npos) << cu;
  EXPECT_NE(cu.find("dense_bias_kernel1(const float* __restrict__ bias, float* __restrict__ D, const float* __restrict__ C)"),
            std::string::npos) << cu;
  CudaKernelSource src = codegen_cuda(m.func());
  ASSERT_EQ(src.kernels.size(), 2u);
  EXPECT_EQ(src.kernels[0].launch.block[0], T);
  EXPECT_EQ(src.kernels[0].launch.block[1], T);
  EXPECT_TRUE(is_const_int(src.kernels[0].launch.grid[0], M / T));
  EXPECT_TRUE(is_const_int(src.kernels[0].launch.grid[1], N / T));
  EXPECT_EQ(src.kernels[1].launch.block[0], 256);
  EXPECT_EQ(src.kernels[1].launch.block[1], 1);
  EXPECT_TRUE(is_const_int(src.kernels[1].launch.grid[0], N * M / 256));
  EXPECT_TRUE(is_const_int(src.kernels[1].launch.grid[1], 1));
  expect_ptx_entries(m, 2);
  run_or_skip(m, {A, B, bias}, D, {{N, K}, {K, M}, {M}, {N, M}});
}

// The per-block limits are checked kernel by kernel, and the error names the kernel.
TEST(CudaMultiKernel, LimitsCheckedPerKernel) {
  const int N = 1024;
  Tensor A = placeholder({N}, DataType::float32(), "A");
  Tensor B = compute({N}, [&](const std::vector<Var>& i) { return A(i[0]) * 2.0f; }, "B");
  Tensor C = compute({N}, [&](const std::vector<Var>& i) { return B(i[0]) + 1.0f; }, "C");
  Schedule s = create_schedule({C.op()});
  bind_1d(s, B, 64);
  bind_1d(s, C, 256);
  build(s, {A, C}, "cuda -max-threads-per-block=256", "limits");
  EXPECT_TE_ERROR(build(s, {A, C}, "cuda -max-threads-per-block=128", "limits"), "kernel limits_kernel1",
                  "256 threads per block");
}

// Two outputs, the second reading the first: still two kernels (a grid-wide dependency), with
// no intermediate to allocate.
TEST(CudaMultiKernel, SecondOutputReadsFirst) {
  const int N = 300;
  Tensor A = placeholder({N}, DataType::float32(), "A");
  Tensor B = compute({N}, [&](const std::vector<Var>& i) { return A(i[0]) * 2.0f; }, "B");
  Tensor C = compute({N}, [&](const std::vector<Var>& i) { return B(N - 1 - i[0]) + 1.0f; }, "C");
  Schedule s = create_schedule({C.op()});
  bind_1d(s, B, 64);
  bind_1d(s, C, 32);
  Module m = build(s, {A, B, C}, "cuda", "two_out");
  CudaKernelSource src = codegen_cuda(m.func());
  EXPECT_EQ(src.kernels.size(), 2u);
  EXPECT_TRUE(src.intermediates.empty());
  std::string cu = m.get_source("cuda");
  EXPECT_NE(cu.find("two_out_kernel1(const float* __restrict__ B, float* __restrict__ C)"), std::string::npos) << cu;
  expect_ptx_entries(m, 2);
  NDArray a = random_array({N}, DataType::float32(), 5);
  NDArray b = NDArray::empty({N}, DataType::float32()), c = NDArray::empty({N}, DataType::float32());
  b.fill_poison();
  c.fill_poison();
  if (!cuda_device_available()) {
    EXPECT_TE_ERROR(m({a, b, c}), "no CUDA device available", "two_out");
    return;
  }
  m({a, b, c});
  std::vector<NDArray> expected = evaluate_reference({A}, {a}, {B, C});
  EXPECT_EQ(compare_arrays(b, expected[0], 1e-5, 1e-5), "");
  EXPECT_EQ(compare_arrays(c, expected[1], 1e-5, 1e-5), "");
}

// A root stage without binds is still an error, naming the kernel and the stage.
TEST(CudaMultiKernel, UnboundRootStageIsNamed) {
  const int N = 256;
  Tensor A = placeholder({N}, DataType::float32(), "A");
  Tensor B = compute({N}, [&](const std::vector<Var>& i) { return A(i[0]) * 2.0f; }, "B");
  Tensor C = compute({N}, [&](const std::vector<Var>& i) { return B(i[0]) + 1.0f; }, "C");
  Schedule s = create_schedule({C.op()});
  bind_1d(s, C, 64);
  EXPECT_TE_ERROR(build(s, {A, C}, "cuda", "half_bound"), "half_bound_kernel0", "root stage B", "no axis is bound");
  auto [xo, xi] = s[B].split(compute_op(B)->axis[0], 64);
  s[B].bind(xi, thread_axis("threadIdx.x"));
  EXPECT_TE_ERROR(build(s, {A, C}, "cuda", "half_bound"), "stage B: loop", xo.var().name().c_str(),
                  "is not bound to a thread");
}

// Stages computed inside the output's thread loops stay one kernel with the same signature.
TEST(CudaMultiKernel, ComputeAtStaysOneKernel) {
  const int N = 256;
  Tensor A = placeholder({N}, DataType::float32(), "A");
  Tensor B = compute({N}, [&](const std::vector<Var>& i) { return A(i[0]) * 2.0f; }, "B");
  Tensor C = compute({N}, [&](const std::vector<Var>& i) { return B(i[0]) + 1.0f; }, "C");
  Schedule s = create_schedule({C.op()});
  auto [bx, tx] = s[C].split(compute_op(C)->axis[0], 64);
  s[C].bind(bx, thread_axis("blockIdx.x"));
  s[C].bind(tx, thread_axis("threadIdx.x"));
  s[B].compute_at(s[C], tx);
  Module m = build(s, {A, C}, "cuda", "fused");
  std::string cu = m.get_source("cuda");
  EXPECT_EQ(count_of(cu, "__global__"), 1u) << cu;
  EXPECT_NE(cu.find("fused_kernel(const float* __restrict__ A, float* __restrict__ C)"), std::string::npos) << cu;
  EXPECT_TRUE(codegen_cuda(m.func()).intermediates.empty());
  expect_ptx_entry(m);
  run_or_skip(m, {A}, C, {{N}, {N}});
}

}  // namespace
}  // namespace te::testing
