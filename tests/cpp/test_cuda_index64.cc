// CUDA backend: index arithmetic beyond 32 bits. int32 overflow is undefined behaviour in CUDA
// C, so the generated source must index with 64 bits wherever an element count or a loop extent
// can exceed 2^31-1 — the same rules as the CPU side (src/lower/storage_flatten.cc; arguments
// of symbolic shape are refused at the call beyond 2^31-1 elements) — and with 32 bits
// elsewhere (cheaper address arithmetic). Nothing here allocates the huge arrays.
#include "codegen/cuda/cuda_driver.h"
#include "test_cuda_util.h"
#include "test_lower_util.h"

namespace te::testing {
namespace {

// The kernels of a module's CUDA C, without the prologue (whose helpers have int64 overloads).
std::string kernels_of(const Module& m) {
  std::string cu = m.get_source("cuda");
  return cu.substr(cu.find("extern \"C\""));
}

// C = A + 1 over `shape`, rows on blockIdx.y and the columns split by 256 over blockIdx.x /
// threadIdx.x.
Module add_one_2d(const std::vector<Expr>& shape, const std::string& name) {
  auto [A, C] = add_one(shape);
  Schedule s = create_schedule({C.op()});
  auto [jo, ji] = s[C].split(compute_op(C)->axis[1], 256);
  s[C].bind(compute_op(C)->axis[0], thread_axis("blockIdx.y"));
  s[C].bind(jo, thread_axis("blockIdx.x"));
  s[C].bind(ji, thread_axis("threadIdx.x"));
  return build(s, {A, C}, "cuda", name);
}

TEST(CudaIndex64, LargeConstantShapeIndexesWith64BitsSmallWith32) {
  // 65536 x 65537 floats: 4.3e9 elements, beyond int32.
  Module big = add_one_2d({Expr(65536), Expr(65537)}, "big");
  std::string cu = big.get_source("cuda");
  // The column index's int32 parts are widened one by one (the simplifier distributes the cast:
  // j_outer*256 + j_inner cannot wrap), so the whole index is 64-bit arithmetic.
  EXPECT_TRUE(contains(
      cu, "C[(((((long long)(i)) * 65537LL) + (((long long)(j_outer)) * 256LL)) + ((long long)(j_inner)))] ="))
      << cu;
  expect_ptx_entry(big);
  // 1024 x 1000: 32-bit indices throughout.
  Module small = add_one_2d({Expr(1024), Expr(1000)}, "small");
  std::string small_cu = kernels_of(small);
  EXPECT_TRUE(contains(small_cu, "C[(((i * 1000) + (j_outer * 256)) + j_inner)] =")) << small_cu;
  EXPECT_FALSE(contains(small_cu, "long long")) << small_cu;
  expect_ptx_entry(small);
}

// A device intermediate of symbolic size n x n (a split function: the host allocates it) may
// exceed 2^31-1 elements at run time, so its accesses are 64-bit; the arguments (of n
// elements) stay 32-bit — they are refused at the call beyond 2^31-1 elements instead.
TEST(CudaIndex64, SymbolicIntermediateIndexesWith64Bits) {
  auto [A, T, C] = outer_sum(var("n"));
  Schedule s = create_schedule({C.op()});
  auto [ty, tx] = s[T].split(compute_op(T)->axis[1], 128);
  s[T].bind(compute_op(T)->axis[0], thread_axis("blockIdx.y"));
  s[T].bind(ty, thread_axis("blockIdx.x"));
  s[T].bind(tx, thread_axis("threadIdx.x"));
  auto [co, ci] = s[C].split(compute_op(C)->axis[0], 128);
  s[C].bind(co, thread_axis("blockIdx.x"));
  s[C].bind(ci, thread_axis("threadIdx.x"));
  Module m = build(s, {A, C}, "cuda", "outer_sum");
  std::string cu = m.get_source("cuda");
  EXPECT_TRUE(contains(cu, "outer_sum_kernel0(")) << cu;
  EXPECT_TRUE(contains(cu, "T[((((long long)(")) << cu;
  EXPECT_TRUE(contains(cu, "A[i]")) << cu;  // the argument: 32-bit
  std::string ptx = m.get_source("ptx");
  EXPECT_TRUE(contains(ptx, ".entry outer_sum_kernel1(")) << ptx.substr(0, 2000);
}

// A CUDA call with an argument of symbolic shape beyond 2^31-1 elements is refused before any
// launch, as on the CPU (fake tensors: no memory behind them is touched).
TEST(CudaIndex64, SymbolicArgumentBeyond2To31IsRefusedAtTheCall) {
  Var n = var("n"), k = var("k");
  Module m = add_one_2d({n, k}, "sym");
  std::string cu = kernels_of(m);
  EXPECT_FALSE(contains(cu, "long long")) << cu;  // 32-bit: the call check guarantees it
  float dummy = 0;
  std::vector<int64_t> shape = {65536, 65536};
  DLTensor t = fake_dltensor(&dummy, shape, DataType::float32(), DLDevice{kDLCUDA, 0});
  DLTensor u = t;
  EXPECT_TE_ERROR(m(std::vector<DLTensor*>{&t, &u}), "argument 0 (A)", "4294967296 elements", "2147483647");
}

// Fusing axes whose product exceeds 2^31-1 gives a 64-bit loop variable (it wrapped to the
// low 32 bits before: 65536 x 65537 fused ran 65536 iterations).
TEST(CudaIndex64, FusedExtentBeyond2To31IsA64BitLoop) {
  auto [A, C] = add_one({65536, 65537});
  Schedule s = create_schedule({C.op()});
  IterVar fused = s[C].fuse(compute_op(C)->axis[0], compute_op(C)->axis[1]);
  EXPECT_EQ(fused->var.dtype(), DataType::int64());
  auto [bo, bi] = s[C].split(fused, 256);
  s[C].bind(bo, thread_axis("blockIdx.x"));
  s[C].bind(bi, thread_axis("threadIdx.x"));
  Module m = build(s, {A, C}, "cuda", "fused_big");
  const CudaKernelSource src = codegen_cuda(m.func());
  EXPECT_TRUE(is_const_int(src.launch.grid[0], 16777472)) << to_string(src.launch.grid[0]);  // 65536*65537/256
  std::string cu = m.get_source("cuda");
  EXPECT_TRUE(contains(cu, "long long i_j_fused_outer = (long long)blockIdx.x;")) << cu;
  expect_ptx_entry(m);
  // A fused extent within int32 keeps a 32-bit loop variable.
  auto [B, D] = add_one({1024, 1000});
  Schedule s2 = create_schedule({D.op()});
  EXPECT_EQ(s2[D].fuse(compute_op(D)->axis[0], compute_op(D)->axis[1])->var.dtype(), DataType::int32());
}

}  // namespace
}  // namespace te::testing
