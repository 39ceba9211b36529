// unroll_loops: small constant unrolled loops become body copies with the same numbers.
#include "lower/unroll_loops.h"
#include "test_lower_util.h"

namespace te {
namespace {

using testing::count_for;
using testing::count_stmts;
using testing::FlatMemory;

Expr f32_load(const Var& buf, Expr index) { return LoadNode::make(DataType::float32(), buf, index); }

int stores(const Stmt& s) {
  return count_stmts(s, [](const Stmt& st) { return st.as<StoreNode>() != nullptr; });
}

void expect_same_results(const Stmt& input, const Stmt& output, const Var& a, const Var& c, size_t n,
                         std::vector<std::pair<Var, int64_t>> scalars = {}) {
  FlatMemory before, after;
  before.add(a, n, 1);
  after.add(a, n, 1);
  before.add(c, n, 2);
  after.add(c, n, 2);
  before.scalars = after.scalars = scalars;
  before.run(input);
  after.run(output);
  EXPECT_EQ(after.get(c), before.get(c));
}

// for i in 0..3: for j in 0..4 unrolled: C[i*4 + j] = A[i*4 + j] * 3
TEST(LowerUnroll, ConstantLoopBecomesCopies) {
  Var a("A", DataType::handle()), c("C", DataType::handle());
  Var i("i"), j("j");
  Stmt store = StoreNode::make(c, f32_load(a, i * 4 + j) * 3.0f, i * 4 + j);
  Stmt input = ForNode::make(i, Expr(0), Expr(3), ForKind::kSerial,
                             ForNode::make(j, Expr(0), Expr(4), ForKind::kUnrolled, store));
  Stmt output = unroll_loops(input);
  EXPECT_EQ(count_for(output, ForKind::kUnrolled), 0) << output;
  EXPECT_EQ(count_for(output, ForKind::kSerial), 1);
  EXPECT_EQ(stores(output), 4) << output;
  expect_same_results(input, output, a, c, 12);
}

// A symbolic min: copies use base + k.
TEST(LowerUnroll, SymbolicMin) {
  Var a("A", DataType::handle()), c("C", DataType::handle());
  Var base("base"), j("j");
  Stmt input = ForNode::make(j, base, Expr(3), ForKind::kUnrolled, StoreNode::make(c, f32_load(a, j) + 1.0f, j));
  Stmt output = unroll_loops(input);
  EXPECT_EQ(count_stmts(output, [](const Stmt& s) { return s.as<ForNode>() != nullptr; }), 0) << output;
  EXPECT_EQ(stores(output), 3);
  expect_same_results(input, output, a, c, 8, {{base, 2}});
}

// Nested unrolled loops: inner first, then the outer copies the unrolled inner body.
TEST(LowerUnroll, NestedUnrolledLoops) {
  Var a("A", DataType::handle()), c("C", DataType::handle());
  Var i("i"), j("j");
  Stmt input = ForNode::make(
      i, Expr(0), Expr(2), ForKind::kUnrolled,
      ForNode::make(j, Expr(0), Expr(3), ForKind::kUnrolled, StoreNode::make(c, f32_load(a, i * 3 + j), i * 3 + j)));
  Stmt output = unroll_loops(input);
  EXPECT_EQ(stores(output), 6) << output;
  EXPECT_EQ(count_stmts(output, [](const Stmt& s) { return s.as<ForNode>() != nullptr; }), 0);
  expect_same_results(input, output, a, c, 6);
}

TEST(LowerUnroll, LongOrSymbolicLoopsStaySerial) {
  Var a("A", DataType::handle()), c("C", DataType::handle());
  Var j("j"), n("n");
  Stmt store = StoreNode::make(c, f32_load(a, j), j);
  for (Expr extent : {Expr(100), Expr(n)}) {
    Stmt output = unroll_loops(ForNode::make(j, Expr(0), extent, ForKind::kUnrolled, store));
    const auto* loop = output.as<ForNode>();
    ASSERT_NE(loop, nullptr) << output;
    EXPECT_EQ(loop->for_kind, ForKind::kSerial);
    EXPECT_EQ(stores(output), 1);
  }
  Stmt serial = ForNode::make(j, Expr(0), Expr(4), ForKind::kSerial, store);
  EXPECT_TRUE(unroll_loops(serial).same_as(serial));
}

TEST(LowerUnroll, AbsurdExtentIsAnError) {
  Var c("C", DataType::handle());
  Var j("j.inner");
  Stmt input = ForNode::make(j, Expr(0), Expr(5000), ForKind::kUnrolled, StoreNode::make(c, Expr(0.0f), j));
  EXPECT_TE_ERROR(unroll_loops(input), "unroll", "j.inner", "stage C", "5000", "1024");
}

}  // namespace
}  // namespace te
