// narrow_indices (src/lower/narrow_indices.cc): a CUDA kernel whose int64 index arithmetic
// provably fits int32 is printed with int, and computes the same (CUDA emulator against the
// reference interpreter); a kernel with any int64 value that may not fit — an intermediate
// product past 2^31 even though the final index is small, an element count past 2^31, a
// symbolic size — keeps its 64-bit arithmetic. The LLVM target is never narrowed.
#include "test_cuda_util.h"
#include "test_lower_util.h"

namespace te::testing {
namespace {

std::string kernel_source(const Module& m) {
  std::string cu = m.get_source("cuda");
  return cu.substr(cu.find("extern \"C\""));  // without the prologue's int64 helper overloads
}

// B[i, j] = A[i, j] * 2 + A[index(i, j)] over an int64-shaped rows x cols array, rows on
// blockIdx.x and the columns split by 32 over threadIdx.x.
struct Int64Kernel {
  Tensor A, B;
  Schedule s;
  Int64Kernel(Expr rows, Expr cols, const std::function<Expr(const Var&, const Var&)>& index) {
    A = placeholder({rows, cols}, DataType::float32(), "A");
    B = compute(
        {rows, cols},
        [&](const std::vector<Var>& i) {
          return A(i[0], i[1]) * Expr(2.0f) + A(i[0], index ? index(i[0], i[1]) : Expr(i[1]));
        },
        "B");
    s = create_schedule({B.op()});
    auto [jo, ji] = s[B].split(compute_op(B)->axis[1], 32);
    s[B].bind(compute_op(B)->axis[0], thread_axis("blockIdx.x"));
    s[B].bind(jo, thread_axis("blockIdx.y"));
    s[B].bind(ji, thread_axis("threadIdx.x"));
  }
};

TEST(LowerNarrowIndices, SmallInt64KernelIsInt32AndComputesTheSame) {
  // Columns reversed in fused arithmetic with floordiv/floormod, as fused loops produce.
  Int64Kernel k(Expr(int64_t(37)), Expr(int64_t(100)), [](const Var& i, const Var& j) {
    Expr fused = i * Expr(int64_t(100)) + j;
    return Expr(int64_t(99)) - floormod(fused, Expr(int64_t(100)));
  });
  LowerOptions options;
  options.target = Target::parse("cuda");
  LoweredFunc f = lower(k.s, {k.A, k.B}, "narrow", options);
  int int64_nodes = count_exprs(f.body, [](const Expr& e) { return e.dtype().is_int() && e.dtype().bits == 64; });
  EXPECT_EQ(int64_nodes, 0) << to_string(f);
  Module m = build(k.s, {k.A, k.B}, "cuda", "narrow");
  std::string cu = kernel_source(m);
  EXPECT_FALSE(contains(cu, "long long")) << cu;
  EXPECT_TRUE(contains(cu, "int i = (int)blockIdx.x;")) << cu;
  NDArray a = random_array({37, 100}, DataType::float32(), 3), b = NDArray::empty({37, 100}, DataType::float32());
  b.fill_poison();
  std::vector<NDArray> expected = evaluate_reference({k.A}, {a}, {k.B});
  cuda_emulate(m, {a, b});
  EXPECT_EQ(compare_arrays(b, expected[0], 0, 0), "");
  expect_ptx_entry(m);
  // The same compute for the CPU keeps its int64 indices (LLVM prefers them: no sign extension).
  LoweredFunc cpu = lower(create_schedule({k.B.op()}), {k.A, k.B}, "cpu");
  EXPECT_GT(count_exprs(cpu.body, [](const Expr& e) { return e.dtype().is_int() && e.dtype().bits == 64; }), 0);
}

TEST(LowerNarrowIndices, AnIntermediatePast2To31KeepsTheKernel64Bit) {
  // min(j * 2^32, 63) is a column index, but the product does not fit int32.
  const int64_t big = int64_t(1) << 32;
  Int64Kernel k(Expr(int64_t(4)), Expr(int64_t(64)),
                [&](const Var&, const Var& j) { return min(j * Expr(big), Expr(int64_t(63))); });
  Module m = build(k.s, {k.A, k.B}, "cuda", "wide_product");
  EXPECT_TRUE(contains(kernel_source(m), "long long")) << kernel_source(m);
  NDArray a = random_array({4, 64}, DataType::float32(), 4), b = NDArray::empty({4, 64}, DataType::float32());
  b.fill_poison();
  std::vector<NDArray> expected = evaluate_reference({k.A}, {a}, {k.B});
  cuda_emulate(m, {a, b});
  EXPECT_EQ(compare_arrays(b, expected[0], 0, 0), "");
}

TEST(LowerNarrowIndices, LargeOrSymbolicShapesStay64Bit) {
  // 65536 x 65537 elements: the flattened index passes 2^31.
  Int64Kernel big(Expr(int64_t(65536)), Expr(int64_t(65537)), nullptr);
  EXPECT_TRUE(contains(kernel_source(build(big.s, {big.A, big.B}, "cuda", "big")), "long long"));
  // A symbolic int64 size: nothing is known, nothing is narrowed.
  Var n("n", DataType::int64());
  Int64Kernel sym(n, Expr(int64_t(64)), nullptr);
  EXPECT_TRUE(contains(kernel_source(build(sym.s, {sym.A, sym.B}, "cuda", "sym")), "long long"));
}

}  // namespace
}  // namespace te::testing
