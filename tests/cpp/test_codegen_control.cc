// The LLVM backend's control flow and memory: if_then_else evaluating one side only,
// Allocate on stack and heap, parallel loops (outlined, thread pool), dtypes of arguments,
// symbolic sizes, Let/LetStmt and loop annotations.
#include <sys/mman.h>
#include <unistd.h>

#include <cmath>

#include "codegen/runtime/thread_pool.h"
#include "test_codegen_util.h"

namespace te::testing {
namespace {

// A is placed right before a PROT_NONE page: reading past its end crashes the test, so the
// test passes only if if_then_else never evaluates the out-of-bounds branch.
TEST(CodegenControl, IfThenElseEvaluatesOnlyTakenSide) {
  const int n = 16, pad = 4096;
  long page = sysconf(_SC_PAGESIZE);
  char* region = static_cast<char*>(mmap(nullptr, size_t(page) * 2, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0));
  ASSERT_NE(region, MAP_FAILED);
  ASSERT_EQ(mprotect(region + page, size_t(page), PROT_NONE), 0);
  float* a_data = reinterpret_cast<float*>(region + page) - n;
  for (int k = 0; k < n; ++k) a_data[k] = float(k) + 0.5f;

  auto A = buffer_arg("A", DataType::float32(), {Expr(n)});
  auto O = buffer_arg("O", DataType::float32(), {Expr(n + pad)});
  int64_t a_shape[] = {n};
  DLTensor a{};
  a.data = a_data;
  a.device = {kDLCPU, 0};
  a.ndim = 1;
  a.dtype = to_dlpack(DataType::float32());
  a.shape = a_shape;
  // Scalar (branches) and 8-lane (masked loads: the vector condition selects per lane).
  for (int lanes : {1, 8}) {
    Var i("i");
    Expr idx = lanes == 1 ? Expr(i) : ramp(i * lanes, lanes);
    Expr bound = lanes == 1 ? Expr(n) : BroadcastNode::make(Expr(n), lanes);
    Expr two = lanes == 1 ? Expr(2.0f) : BroadcastNode::make(Expr(2.0f), lanes);
    Expr minus_one = lanes == 1 ? Expr(-1.0f) : BroadcastNode::make(Expr(-1.0f), lanes);
    Expr value = CallNode::make(DataType::float32().with_lanes(lanes), Intrinsic::kIfThenElse,
                                {LTNode::make(idx, bound), load(A, idx) * two, minus_one});
    Module m = compile(make_func("pad", {A, O}, loop(i, (n + pad) / lanes, store(O, value, idx))));
    NDArray o = NDArray::empty({n + pad});
    o.fill_poison();
    m(std::vector<DLTensor*>{&a, o.dltensor()});
    for (int k = 0; k < n + pad; ++k) ASSERT_EQ(o.data_as<float>()[k], k < n ? a_data[k] * 2 : -1.0f) << k << " lanes " << lanes;
  }
  munmap(region, size_t(page) * 2);
}

TEST(CodegenControl, IfThenElseStatementWithElse) {
  const int n = 20;
  auto O = buffer_arg("O", DataType::int32(), {Expr(n)});
  Var i("i");
  Stmt body = loop(i, n, IfThenElseNode::make(EQNode::make(FloorModNode::make(i, Expr(3)), Expr(0)), store(O, i, i),
                                               store(O, i * -1, i)));
  Module m = compile(make_func("ifelse", {O}, body));
  NDArray o = NDArray::empty({n}, DataType::int32());
  m({o});
  for (int k = 0; k < n; ++k) EXPECT_EQ(o.data_as<int32_t>()[k], k % 3 == 0 ? k : -k);
}

// tmp = A row * 2 (an Allocate), then B row = tmp + 1; extents choose stack or heap.
void check_allocate(int64_t cols, const std::vector<Var>& size_vars, Expr extent_expr, bool expect_heap) {
  const int rows = 3;
  Expr cols_e = size_vars.empty() ? Expr(cols) : Expr(size_vars[0]);
  auto A = buffer_arg("A", DataType::float32(), {Expr(rows), cols_e});
  auto B = buffer_arg("B", DataType::float32(), {Expr(rows), cols_e});
  Var tmp("tmp", DataType::handle()), i("i"), j("j");
  auto T = buffer_arg("tmp", DataType::float32(), {extent_expr});
  T.data = tmp;
  Stmt fill = loop(j, cols_e, store(T, load(A, i * cols_e + j) * 2.0f, j));
  Stmt use = loop(j, cols_e, store(B, load(T, j) + 1.0f, i * cols_e + j));
  Stmt body = loop(i, rows, AllocateNode::make(tmp, DataType::float32(), {extent_expr}, "global", SeqNode::make({fill, use})));
  Module m = compile(make_func("alloc", {A, B}, body, size_vars));
  std::string ll = m.get_source("ll");
  EXPECT_EQ(ll.find("te_runtime_alloc") != std::string::npos, expect_heap) << ll.substr(0, 2000);
  NDArray a = random_array({rows, cols}, DataType::float32(), 11), b = NDArray::empty({rows, cols});
  b.fill_poison();
  m({a, b});
  for (int64_t k = 0; k < rows * cols; ++k) ASSERT_EQ(b.data_as<float>()[k], a.data_as<float>()[k] * 2 + 1) << k;
}

TEST(CodegenControl, AllocateSmallOnStack) { check_allocate(16, {}, Expr(16), false); }
TEST(CodegenControl, AllocateLargeOnHeap) { check_allocate(100000, {}, Expr(100000), true); }
TEST(CodegenControl, AllocateSymbolicOnHeap) {
  Var n("n");
  check_allocate(77, {n}, n, true);
}

// An allocation the machine cannot satisfy: the kernel frees what it holds and fails cleanly,
// also from inside a parallel loop (the status travels back through te_parallel_for).
TEST(CodegenControl, FailedHeapAllocationIsAnErrorNotACrash) {
  Var n("n", DataType::int64()), i("i"), j("j"), big("big", DataType::handle()), ok("ok", DataType::handle());
  auto O = buffer_arg("O", DataType::float32(), {n});
  auto Big = buffer_arg("big", DataType::float32(), {Expr()});
  Big.data = big;
  auto Ok = buffer_arg("ok", DataType::float32(), {Expr()});
  Ok.data = ok;
  Expr huge = n * make_const(DataType::int64(), int64_t(1) << 50);  // 4 * n * 2^50 bytes
  Stmt use_big = AllocateNode::make(big, DataType::float32(), {huge}, "global", store(Big, Expr(1.0f), Expr(0)));
  Stmt inner = AllocateNode::make(ok, DataType::float32(), {n}, "global",
                                  SeqNode::make({store(Ok, Expr(2.0f), Expr(0)), use_big}));
  for (ForKind kind : {ForKind::kSerial, ForKind::kParallel}) {
    Module m = compile(make_func("oom", {O}, loop(i, 4, inner, kind), {n}));
    NDArray o = NDArray::empty({1024});
    EXPECT_TE_ERROR(m({o}), "kernel oom", "allocation");
  }
}

TEST(CodegenControl, ParallelLoopWritesEveryElement) {
  const int rows = 1000, cols = 64;
  auto A = buffer_arg("A", DataType::float32(), {Expr(rows * cols)});
  auto C = buffer_arg("C", DataType::float32(), {Expr(rows * cols)});
  Var i("i"), j("j");
  Stmt inner = loop(j, cols, store(C, load(A, i * cols + j) * 2.0f + cast(DataType::float32(), i), i * cols + j));
  Module m = compile(make_func("par", {A, C}, loop(i, rows, inner, ForKind::kParallel)));
  EXPECT_NE(m.get_source("ll").find("te_parallel_for"), std::string::npos);
  NDArray a = random_array({rows * cols}, DataType::float32(), 12), c = NDArray::empty({rows * cols});
  for (auto backend : {runtime::ParallelBackend::kPool, runtime::ParallelBackend::kGomp}) {
    runtime::set_parallel_backend(backend);
    c.fill_poison();
    m({a, c});
    for (int k = 0; k < rows * cols; ++k)
      ASSERT_EQ(c.data_as<float>()[k], a.data_as<float>()[k] * 2 + float(k / cols)) << k;
  }
  runtime::set_parallel_backend(runtime::ParallelBackend::kPool);
}

TEST(CodegenControl, ParallelLoopWithNonZeroMinNestedParallelAndLocalAllocate) {
  // for i in [5, 5+n) parallel: alloc t[4]; for j parallel (runs serially): t[j] = i*j; out[i-5] = sum t.
  const int n = 300;
  auto O = buffer_arg("O", DataType::int64(), {Expr(n)});
  Var i("i", DataType::int64()), j("j", DataType::int64()), t("t", DataType::handle());
  auto T = buffer_arg("t", DataType::int64(), {Expr(4)});
  T.data = t;
  Expr i5 = i - make_const(DataType::int64(), 5);
  Stmt fill = ForNode::make(j, make_const(DataType::int64(), 0), make_const(DataType::int64(), 4), ForKind::kParallel,
                            store(T, i * j, j));
  Stmt sum = SeqNode::make({store(O, make_const(DataType::int64(), 0), i5),
                            ForNode::make(j, make_const(DataType::int64(), 0), make_const(DataType::int64(), 4),
                                          ForKind::kUnrolled, store(O, load(O, i5) + load(T, j), i5))});
  Stmt body = ForNode::make(i, make_const(DataType::int64(), 5), make_const(DataType::int64(), n), ForKind::kParallel,
                            AllocateNode::make(t, DataType::int64(), {Expr(4)}, "local", SeqNode::make({fill, sum})));
  Module m = compile(make_func("nested", {O}, body));
  NDArray o = NDArray::empty({n}, DataType::int64());
  o.fill_poison();
  m({o});
  for (int k = 0; k < n; ++k) ASSERT_EQ(o.data_as<int64_t>()[k], int64_t(k + 5) * 6) << k;
}

TEST(CodegenControl, ParallelSumOfManyWrites) {
  const int n = 200000;
  auto O = buffer_arg("O", DataType::int32(), {Expr(n)});
  Var i("i");
  Module m = compile(make_func("iota", {O}, loop(i, n, store(O, i, i), ForKind::kParallel)));
  NDArray o = NDArray::empty({n}, DataType::int32());
  for (int rep = 0; rep < 5; ++rep) {
    o.fill_poison();
    m({o});
    int64_t sum = 0;
    for (int k = 0; k < n; ++k) sum += o.data_as<int32_t>()[k];
    ASSERT_EQ(sum, int64_t(n) * (n - 1) / 2) << "repetition " << rep;
  }
}

TEST(CodegenControl, ArgumentDtypes) {
  const int n = 40;
  auto A8 = buffer_arg("A8", DataType::int8(), {Expr(n)});
  auto B32 = buffer_arg("B32", DataType::int32(), {Expr(n)});
  auto Cb = buffer_arg("Cb", DataType::boolean(), {Expr(n)});
  auto D64 = buffer_arg("D64", DataType::float64(), {Expr(n)});
  auto H = buffer_arg("H", DataType::float16(), {Expr(n)});
  auto Hout = buffer_arg("Hout", DataType::float16(), {Expr(n)});
  auto Bout = buffer_arg("Bout", DataType::boolean(), {Expr(n)});
  Var i("i");
  Expr a = cast(DataType::int32(), load(A8, i));
  Stmt body = loop(i, n, SeqNode::make({
      store(B32, a * 3 + load(B32, i), i),
      store(Bout, AndNode::make(GTNode::make(a, Expr(0)), NotNode::make(load(Cb, i))), i),
      store(D64, cast(DataType::float64(), a) * make_const(DataType::float64(), 0.25) + load(D64, i), i),
      store(Hout, load(H, i) * make_const(DataType::float16(), 2.0) +
                      CallNode::make(DataType::float16(), Intrinsic::kSqrt, {load(H, i)}), i),
  }));
  Module m = compile(make_func("dtypes", {A8, B32, Cb, D64, H, Hout, Bout}, body));
  NDArray a8 = random_array({n}, DataType::int8(), 1), b32 = random_array({n}, DataType::int32(), 2);
  NDArray cb = random_array({n}, DataType::boolean(), 3), d64 = random_array({n}, DataType::float64(), 4);
  NDArray h = NDArray::empty({n}, DataType::float16()), hout = NDArray::empty({n}, DataType::float16());
  NDArray bout = NDArray::empty({n}, DataType::boolean());
  for (int k = 0; k < n; ++k) h.data_as<_Float16>()[k] = _Float16(k * 0.25);
  std::vector<int32_t> b_before(b32.data_as<int32_t>(), b32.data_as<int32_t>() + n);
  std::vector<double> d_before(d64.data_as<double>(), d64.data_as<double>() + n);
  m({a8, b32, cb, d64, h, hout, bout});
  for (int k = 0; k < n; ++k) {
    int av = a8.data_as<int8_t>()[k];
    EXPECT_EQ(b32.data_as<int32_t>()[k], av * 3 + b_before[k]);
    EXPECT_EQ(bout.data_as<uint8_t>()[k], (av > 0 && cb.data_as<uint8_t>()[k] == 0) ? 1 : 0) << k;
    EXPECT_EQ(d64.data_as<double>()[k], av * 0.25 + d_before[k]);
    double hv = k * 0.25;
    EXPECT_NEAR(double(hout.data_as<_Float16>()[k]), hv * 2 + std::sqrt(hv), 0.02 * (1 + hv)) << k;
  }
}

TEST(CodegenControl, SymbolicSizesAndLets) {
  Var n("n"), i("i"), twice("twice");
  auto A = buffer_arg("A", DataType::float32(), {n});
  auto B = buffer_arg("B", DataType::float32(), {n, Expr(2)});
  // B[i, 0] = A[i] + n ; B[i, 1] = let x = A[i] * 2 in x * x
  Var x("x", DataType::float32());
  Stmt body = loop(i, n, LetStmtNode::make(twice, i * 2, SeqNode::make({
      store(B, load(A, i) + cast(DataType::float32(), n), twice),
      store(B, LetNode::make(x, load(A, i) * 2.0f, x * x), twice + 1)})));
  body = AttrStmtNode::make("pragma_unknown_hint", Expr(1), body);
  Module m = compile(make_func("sym", {A, B}, body, {n}));
  for (int64_t len : {1, 7, 100}) {
    NDArray a = random_array({len}, DataType::float32(), uint64_t(len)), b = NDArray::empty({len, 2});
    b.fill_poison();
    m({a, b});
    for (int64_t k = 0; k < len; ++k) {
      float av = a.data_as<float>()[k];
      ASSERT_EQ(b.data_as<float>()[2 * k], av + float(len));
      ASSERT_EQ(b.data_as<float>()[2 * k + 1], (av * 2) * (av * 2));
    }
  }
}

TEST(CodegenControl, ExplicitCpuTarget) {
  Target t;
  t.mcpu = "x86-64-v3";
  t.mattr = "-avx512f";
  auto C = buffer_arg("C", DataType::float32(), {Expr(64)});
  Var i("i");
  Module m = compile(make_func("cpu", {C}, loop(i, 64, store(C, cast(DataType::float32(), i), i))), t);
  EXPECT_EQ(m.get_source("asm").find("zmm"), std::string::npos) << "no AVX-512 registers for x86-64-v3";
  NDArray c = NDArray::empty({64});
  m({c});
  for (int k = 0; k < 64; ++k) ASSERT_EQ(c.data_as<float>()[k], float(k));
  Target bad;
  bad.mcpu = "not-a-cpu";
  EXPECT_TE_ERROR(compile(make_func("cpu", {C}, store(C, Expr(0.0f), Expr(0))), bad), "not-a-cpu");
  Target bad_attr;
  bad_attr.mattr = "+avx2,+not-a-feature";
  EXPECT_TE_ERROR(compile(make_func("cpu", {C}, store(C, Expr(0.0f), Expr(0))), bad_attr), "not-a-feature", "-mattr");
  bad_attr.mattr = "avx2";
  EXPECT_TE_ERROR(compile(make_func("cpu", {C}, store(C, Expr(0.0f), Expr(0))), bad_attr), "'avx2'");
}

// The default target is the host CPU with its features: on a CPU with AVX-512 (these
// machines), a 16-lane float32 vector loop must use zmm registers.
TEST(CodegenControl, HostTargetUsesTheHostsVectorRegisters) {
  auto C = buffer_arg("C", DataType::float32(), {Expr(64)});
  Var i("i");
  Stmt body = loop(i, 4,
                   store(C, BroadcastNode::make(cast(DataType::float32(), i), 16), ramp(i * 16, 16)));
  Module m = compile(make_func("cpu", {C}, body), Target());
  const std::string asm_text = m.get_source("asm");
  if (__builtin_cpu_supports("avx512f"))
    EXPECT_NE(asm_text.find("zmm"), std::string::npos) << "host has AVX-512 but no zmm in:\n" << asm_text;
  else if (__builtin_cpu_supports("avx2"))
    EXPECT_NE(asm_text.find("ymm"), std::string::npos) << "host has AVX2 but no ymm in:\n" << asm_text;
  NDArray c = NDArray::empty({64});
  m({c});
  for (int k = 0; k < 64; ++k) ASSERT_EQ(c.data_as<float>()[k], float(k / 16));
}

}  // namespace
}  // namespace te::testing
