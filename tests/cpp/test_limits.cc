// Limits that fail cleanly (issue 8, point 4): index arithmetic beyond 32 bits, unroll and
// vector widths beyond sane bounds, allocations beyond memory, and kernels whose compile
// would not end. Each gives a te::Error naming the limit (or, for constant shapes, switches
// to 64-bit indexing) — tested with symbolic shapes and fake DLTensors, never by allocating
// the huge memory.
#include "test_cuda_util.h"
#include "test_lower_util.h"

#include "lower/unroll_loops.h"
#include "lower/vectorize_loops.h"
#include "te/ir_functor.h"

namespace te::testing {
namespace {

const ComputeOpNode* cop(const Tensor& t) { return t.op().as<ComputeOpNode>(); }

// Dtypes of every Store index in a statement.
class StoreIndexTypes : public IRVisitor {
 public:
  std::vector<DataType> types;

 protected:
  void visit_node(const StoreNode* op) override {
    types.push_back(op->index.dtype());
    IRVisitor::visit_node(op);
  }
};

TEST(Limits, ConstantShapeBeyond2To31IndexesWith64Bits) {
  auto [A, C] = add_one({65536, 65537});  // 4.3e9 elements
  Schedule s = create_schedule({C.op()});
  LoweredFunc f = lower(s, {A, C}, "big");
  StoreIndexTypes v;
  v.visit(f.body);
  ASSERT_FALSE(v.types.empty());
  for (DataType t : v.types) EXPECT_EQ(t.element_of(), DataType::int64()) << to_string(f);
  // A small buffer keeps 32-bit indices (cheaper address arithmetic).
  Tensor B = placeholder({64, 64}, DataType::float32(), "B");
  Tensor D = compute({64, 64}, [&](const std::vector<Var>& i) { return B(i[0], i[1]) * constant(2.0); }, "D");
  StoreIndexTypes small;
  small.visit(lower(create_schedule({D.op()}), {B, D}, "small").body);
  for (DataType t : small.types) EXPECT_EQ(t, DataType::int32());
  // It compiles (the LLVM IR addresses with i64), without running on 17 GB.
  Module m = build(s, {A, C}, "llvm", "big");
  EXPECT_NE(m.get_source("ll").find("i64"), std::string::npos);
}

// Fusing axes whose product exceeds 2^31-1 gives a 64-bit loop variable; before, the fused
// extent wrapped to its low 32 bits (65536 x 65537 ran 65536 iterations).
TEST(Limits, FusedExtentBeyond2To31IsA64BitLoop) {
  auto [A, C] = add_one({65536, 65537});
  Schedule s = create_schedule({C.op()});
  IterVar fused = s[C].fuse(cop(C)->axis[0], cop(C)->axis[1]);
  EXPECT_EQ(fused->var.dtype(), DataType::int64());
  LoweredFunc f = lower(s, {A, C}, "fused_big");
  const auto* loop = f.body.as<ForNode>();
  ASSERT_NE(loop, nullptr) << to_string(f);
  EXPECT_TRUE(is_const_int(loop->extent, int64_t(65536) * 65537)) << to_string(f);
  EXPECT_EQ(loop->loop_var.dtype(), DataType::int64());
  Module m = build(s, {A, C}, "llvm", "fused_big");  // compiles, without running on 17 GB
  EXPECT_NE(m.get_source("ll").find("4295032832"), std::string::npos);
  // Split before fusing keeps each fused part within int32.
  Schedule s2 = create_schedule({C.op()});
  auto [io, ii] = s2[C].split(cop(C)->axis[0], 16);
  EXPECT_EQ(s2[C].fuse(ii, cop(C)->axis[1])->var.dtype(), DataType::int32());  // 16 x 65537
  (void)io;
}

TEST(Limits, SymbolicInternalBufferIndexesWith64Bits) {
  // T is allocated inside the kernel with n*n elements: for n = 50000 that is 2.5e9.
  auto [A, T, C] = outer_sum(var("n"));
  Schedule s = create_schedule({C.op()});
  LoweredFunc f = lower(s, {A, C}, "outer");
  class TIndex : public IRVisitor {
   public:
    std::vector<DataType> types;
   protected:
    void visit_node(const StoreNode* op) override {
      if (op->buffer.name() == "T") types.push_back(op->index.dtype());
      IRVisitor::visit_node(op);
    }
  } v;
  v.visit(f.body);
  ASSERT_FALSE(v.types.empty()) << to_string(f);
  for (DataType t : v.types) EXPECT_EQ(t, DataType::int64()) << to_string(f);
  // And it computes the right numbers at a small n.
  Module m = build(s, {A, C}, "llvm", "outer");
  NDArray a = random_array({37}, DataType::float32(), 3);
  NDArray c = NDArray::empty({37}, DataType::float32());
  c.fill_poison();
  m({a, c});
  EXPECT_EQ(compare_arrays(c, evaluate_reference({A}, {a}, {C})[0], 1e-4, 1e-4), "");
}

TEST(Limits, SymbolicArgumentBeyond2To31IsRefusedAtTheCall) {
  auto [A, C] = add_one({var("n"), var("k")});
  Module m = build(create_schedule({C.op()}), {A, C}, "llvm", "sym");
  // Fake DLTensors: shape 65536 x 65536 over a one-float buffer, never dereferenced because the
  // call is refused first.
  float dummy = 0;
  std::vector<int64_t> shape = {65536, 65536};
  DLTensor t = fake_dltensor(&dummy, shape, DataType::float32(), DLDevice{kDLCPU, 0});
  DLTensor u = t;
  EXPECT_TE_ERROR(m(std::vector<DLTensor*>{&t, &u}), "argument 0 (A)", "4294967296 elements", "2147483647", "32-bit");
}

TEST(Limits, SizeVariableBeyondInt32IsRefusedAtTheCall) {
  Var n = var("n");
  Tensor A = placeholder({n}, DataType::int8(), "A");
  Tensor C = compute({n}, [&](const std::vector<Var>& i) { return A(i[0]); }, "C");
  Module m = build(create_schedule({C.op()}), {A, C}, "llvm", "sym1");
  int8_t dummy = 0;
  std::vector<int64_t> shape = {int64_t(1) << 32};
  DLTensor t = fake_dltensor(&dummy, shape, DataType::int8(), DLDevice{kDLCPU, 0});
  DLTensor u = t;
  EXPECT_TE_ERROR(m(std::vector<DLTensor*>{&t, &u}), "2147483647");
}

TEST(Limits, NestedUnrollBeyondTheNodeLimitIsRefused) {
  Tensor A = placeholder({64, 64, 64}, DataType::float32(), "A");
  Tensor C = compute({64, 64, 64}, [&](const std::vector<Var>& i) { return A(i[0], i[1], i[2]) * constant(3.0); }, "C");
  Schedule s = create_schedule({C.op()});
  for (const IterVar& iv : cop(C)->axis) s[C].unroll(iv);  // 262144 copies of the body
  EXPECT_TE_ERROR(lower(s, {A, C}, "unrolled"), "unroll", "stage C", "262144",
                  "nested unrolled loops multiply");
  // Two nested levels (4096 copies) are fine.
  Schedule ok = create_schedule({C.op()});
  ok[C].unroll(cop(C)->axis[1]);
  ok[C].unroll(cop(C)->axis[2]);
  EXPECT_NO_THROW(lower(ok, {A, C}, "unrolled2"));
}

TEST(Limits, HugeUnrollAndVectorWidthsAreRefused) {
  Tensor A = placeholder({100000}, DataType::float32(), "A");
  Tensor C = compute({100000}, [&](const std::vector<Var>& i) { return A(i[0]) + constant(1.0); }, "C");
  Schedule s = create_schedule({C.op()});
  s[C].unroll(cop(C)->axis[0]);
  EXPECT_TE_ERROR(build(s, {A, C}, "llvm", "u"), "unroll", "100000", "1024");
  Schedule v = create_schedule({C.op()});
  v[C].vectorize(cop(C)->axis[0]);
  EXPECT_TE_ERROR(build(v, {A, C}, "llvm", "v"), "vectorize", "100000", "64 vector lanes");
}

TEST(Limits, AllocationBeyondMemoryIsATeError) {
  // 2^45 floats = 128 TiB: more than any machine here; aligned_alloc fails, te says so.
  EXPECT_TE_ERROR(NDArray::empty({int64_t(1) << 45}, DataType::float32()), "out of memory");
  EXPECT_TE_ERROR(NDArray::empty({int64_t(1) << 40, int64_t(1) << 40}, DataType::float32()), "too large");
}

TEST(Limits, KernelInternalAllocationBeyondMemoryIsATeError) {
  // T (n x n floats, allocated inside the kernel) for n = 2^22 is 64 TiB; the inputs are 16 MiB.
  auto [A, T, C] = outer_sum(var("n"));
  (void)T;
  Module m = build(create_schedule({C.op()}), {A, C}, "llvm", "huge_temp");
  NDArray a = NDArray::empty({int64_t(1) << 22}, DataType::float32());
  NDArray c = NDArray::empty({int64_t(1) << 22}, DataType::float32());
  EXPECT_TE_ERROR(m({a, c}), "huge_temp", "heap allocation");
}

// A 16x16-thread matmul whose threads each cache KT elements of their row of A in "local"
// memory at the reduction tile (A is only declared, never allocated).
LoweredFunc lower_local_tile(int KT) {
  SharedTileMatmul mm = shared_tile_matmul(64, 64, 1 << 18, 16, KT, "local");
  LowerOptions opt;
  opt.target = Target::parse("cuda");
  return lower(mm.s, {mm.A, mm.B, mm.C}, "tiles", opt);
}

// Shared memory per block is checked by the CUDA backend per kernel (test_cuda_runtime.cc,
// CudaRuntime limits tests); local memory per thread is a lowering check.
TEST(Limits, LocalMemoryBeyond512KiBPerThreadIsRefusedWhenLowering) {
  EXPECT_NO_THROW(lower_local_tile(1024));  // 4 KiB per thread
  EXPECT_TE_ERROR(lower_local_tile(1 << 18), "kernel tiles", "local buffer A.local", "1048576 bytes per thread",
                  "524288");
}

}  // namespace
}  // namespace te::testing
