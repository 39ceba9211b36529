// lower(): the whole pass list on real schedules; printing; TE_DEBUG_LOWER; argument errors.
#include <cstdlib>

#include "test_lower_util.h"

namespace te {
namespace {

using testing::count_for;
using testing::count_stmts;
using testing::FlatMemory;

// C[i, j] = A[i, j] * 2 + B[j] over a symbolic n x 8 shape.
struct Elementwise {
  Var n = var("n");
  Tensor a = placeholder({n, Expr(8)}, DataType::float32(), "A");
  Tensor b = placeholder({Expr(8)}, DataType::float32(), "B");
  Tensor c = compute({n, Expr(8)}, [this](const std::vector<Var>& i) { return a(i[0], i[1]) * 2.0f + b(i[1]); }, "C");
};

// Runs f's body on random A, B (n = 3) and checks C against the formula.
void check_elementwise_numbers(const LoweredFunc& f) {
  const int64_t n = 3;
  FlatMemory mem;
  std::vector<float>& a = mem.add(f.args[0].data, n * 8, 1);
  std::vector<float>& b = mem.add(f.args[1].data, 8, 2);
  mem.add(f.args[2].data, n * 8, 3);
  mem.scalars.emplace_back(f.size_vars.at(0), n);
  mem.run(f.body);
  const std::vector<float>& c = mem.get(f.args[2].data);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < 8; ++j) EXPECT_FLOAT_EQ(c[i * 8 + j], a[i * 8 + j] * 2.0f + b[j]) << i << "," << j;
}

TEST(LowerPipeline, VectorizedElementwise) {
  Elementwise e;
  Schedule s = create_schedule({e.c.op()});
  auto [jo, ji] = s[e.c].split(e.c.op().as<ComputeOpNode>()->axis[1], 4);
  s[e.c].vectorize(ji);
  LoweredFunc f = lower(s, {e.a, e.b, e.c}, "elementwise");
  ASSERT_EQ(f.args.size(), 3u);
  EXPECT_EQ(f.args[0].name, "A");
  EXPECT_TRUE(f.args[0].data.dtype().is_handle());
  ASSERT_EQ(f.size_vars.size(), 1u);
  EXPECT_TRUE(f.size_vars[0].same_as(e.n));
  EXPECT_EQ(count_for(f.body, ForKind::kVectorized), 0) << to_string(f);
  EXPECT_GE(count_stmts(f.body, [](const Stmt& st) {
              const auto* store = st.as<StoreNode>();
              return store && store->value.dtype().lanes == 4;
            }), 1) << to_string(f);
  EXPECT_EQ(count_stmts(f.body, [](const Stmt& st) { return st.as<AllocateNode>() != nullptr; }), 0);
  check_elementwise_numbers(f);

  std::string text = to_string(f);
  EXPECT_EQ(text.rfind("func elementwise(A: float32[n, 8], B: float32[8], C: float32[n, 8])\n", 0), 0u) << text;
}

// Matrix-vector product with a split, unrolled reduction and an intermediate stage.
TEST(LowerPipeline, ReductionWithIntermediateAndUnroll) {
  Tensor a = placeholder({Expr(6), Expr(8)}, DataType::float32(), "A");
  Tensor x = placeholder({Expr(8)}, DataType::float32(), "X");
  Tensor scaled = compute({Expr(8)}, [&](const std::vector<Var>& i) { return x(i[0]) * 0.5f; }, "S");
  IterVar k = reduce_axis(Range(Expr(0), Expr(8)), "k");
  Tensor y = compute({Expr(6)}, [&](const std::vector<Var>& i) { return sum(a(i[0], k) * scaled(k), {k}); }, "Y");
  Schedule s = create_schedule({y.op()});
  auto [ko, ki] = s[y].split(k, 4);
  s[y].unroll(ki);
  LoweredFunc f = lower(s, {a, x, y}, "gemv");
  EXPECT_EQ(count_for(f.body, ForKind::kUnrolled), 0) << to_string(f);
  EXPECT_EQ(count_stmts(f.body, [](const Stmt& st) {
              const auto* alloc = st.as<AllocateNode>();
              return alloc && alloc->buffer.name() == "S";
            }), 1) << to_string(f);

  FlatMemory mem;
  std::vector<float>& av = mem.add(f.args[0].data, 48, 1);
  std::vector<float>& xv = mem.add(f.args[1].data, 8, 2);
  mem.add(f.args[2].data, 6, 3);
  mem.run(f.body);
  for (int i = 0; i < 6; ++i) {
    float expected = 0;
    for (int kk = 0; kk < 8; ++kk) expected += av[i * 8 + kk] * (xv[kk] * 0.5f);
    EXPECT_NEAR(mem.get(f.args[2].data)[i], expected, 1e-5) << i;
  }
}

TEST(LowerPipeline, DebugLowerPrintsChangedPasses) {
  Elementwise e;
  Schedule s = create_schedule({e.c.op()});
  auto [jo, ji] = s[e.c].split(e.c.op().as<ComputeOpNode>()->axis[1], 4);
  s[e.c].vectorize(ji);
  ::setenv("TE_DEBUG_LOWER", "1", 1);
  ::testing::internal::CaptureStderr();
  LoweredFunc f = lower(s, {e.a, e.b, e.c}, "dbg");
  std::string log = ::testing::internal::GetCapturedStderr();
  ::unsetenv("TE_DEBUG_LOWER");
  EXPECT_NE(log.find("after schedule_ops"), std::string::npos) << log;
  EXPECT_NE(log.find("after storage_flatten"), std::string::npos) << log;
  EXPECT_NE(log.find("after vectorize_loops"), std::string::npos) << log;
  // Nothing here is unrolled: an unchanged pass prints nothing.
  EXPECT_EQ(log.find("after unroll_loops"), std::string::npos) << log;

  ::testing::internal::CaptureStderr();
  lower(s, {e.a, e.b, e.c}, "quiet");
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");
}

TEST(LowerPipeline, UserErrors) {
  Elementwise e;
  Schedule s = create_schedule({e.c.op()});
  EXPECT_TE_ERROR(lower(s, {e.b, e.c}, "f"), "tensor A is used but not in the argument list");
  EXPECT_TE_ERROR(lower(s, {e.a, e.b, e.c, e.a}, "f"), "tensor A appears twice");

  Var m = var("m");
  Tensor d = compute({e.n, Expr(8)}, [&](const std::vector<Var>& i) { return e.a(i[0], i[1]) * cast(DataType::float32(), m); }, "D");
  Schedule sd = create_schedule({d.op()});
  EXPECT_TE_ERROR(lower(sd, {e.a, d}, "f"), "variable m is used by the compute but is not a dimension of any argument");

  Schedule sb = create_schedule({e.c.op()});
  auto [io, ii] = sb[e.c].split(e.c.op().as<ComputeOpNode>()->axis[0], 2);
  sb[e.c].bind(io, thread_axis("threadIdx.x"));
  EXPECT_TE_ERROR(lower(sb, {e.a, e.b, e.c}, "f"), "bind", "stage C", "threadIdx.x", "target llvm has no threads");

  // simple_mode skips target checks: the bound loop is printed as it is.
  LowerOptions simple;
  simple.simple_mode = true;
  LoweredFunc printed = lower(sb, {e.a, e.b, e.c}, "f", simple);
  EXPECT_EQ(count_for(printed.body, ForKind::kThreadBinding), 1) << to_string(printed);

  Schedule sv = create_schedule({e.c.op()});
  sv[e.c].vectorize(e.c.op().as<ComputeOpNode>()->axis[0]);  // symbolic extent n: stays serial
  LoweredFunc serial = lower(sv, {e.a, e.b, e.c}, "f");
  EXPECT_EQ(count_for(serial.body, ForKind::kVectorized), 0) << to_string(serial);
  check_elementwise_numbers(serial);
  Tensor wide = compute({Expr(4), Expr(100)}, [&](const std::vector<Var>& i) { return e.b(i[0]) + 1.0f; }, "W");
  Schedule sw = create_schedule({wide.op()});
  sw[wide].vectorize(wide.op().as<ComputeOpNode>()->axis[1]);
  EXPECT_TE_ERROR(lower(sw, {e.b, wide}, "f"), "vectorize", "stage W", "100", "64");
}

}  // namespace
}  // namespace te
