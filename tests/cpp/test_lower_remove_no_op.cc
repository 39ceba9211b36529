// remove_no_op: statements without effect disappear; the rest computes the same.
#include "lower/remove_no_op.h"
#include "test_lower_util.h"

namespace te {
namespace {

using testing::count_stmts;
using testing::FlatMemory;

Expr f32_load(const Var& buf, Expr index) { return LoadNode::make(DataType::float32(), buf, index); }

TEST(LowerRemoveNoOp, EmptyLoopsEvaluatesAndSelfCopiesGo) {
  Var a("A", DataType::handle()), c("C", DataType::handle());
  Var i("i"), j("j"), k("k");
  Stmt useful = ForNode::make(i, Expr(0), Expr(4), ForKind::kSerial, StoreNode::make(c, f32_load(a, i) + 1.0f, i));
  Stmt zero_trip = ForNode::make(j, Expr(0), Expr(0), ForKind::kSerial, StoreNode::make(c, Expr(5.0f), j));
  Stmt self_copy = ForNode::make(k, Expr(0), Expr(4), ForKind::kSerial, StoreNode::make(a, f32_load(a, k), k));
  Stmt evaluate = EvaluateNode::make(Expr(3));
  Stmt input = SeqNode::make({evaluate, zero_trip, useful, self_copy});
  Stmt output = remove_no_op(input);
  const auto* loop = output.as<ForNode>();
  ASSERT_NE(loop, nullptr) << output;
  EXPECT_TRUE(loop->loop_var.same_as(i));

  FlatMemory before, after;
  before.add(a, 4, 1);
  after.add(a, 4, 1);
  before.add(c, 4, 2);
  after.add(c, 4, 2);
  before.run(input);
  after.run(output);
  EXPECT_EQ(after.get(c), before.get(c));
  EXPECT_EQ(after.get(a), before.get(a));
}

TEST(LowerRemoveNoOp, EmptyWrappersGoAndEverythingEmptyIsOneNoOp) {
  Var buf("T", DataType::handle()), x("x");
  Stmt nothing = EvaluateNode::make(Expr(0));
  Stmt input = AllocateNode::make(
      buf, DataType::float32(), {Expr(8)}, "global",
      LetStmtNode::make(x, Expr(3), IfThenElseNode::make(x > 2, nothing, EvaluateNode::make(Expr(1)))));
  Stmt output = remove_no_op(input);
  EXPECT_TRUE(is_no_op(output)) << output;
}

TEST(LowerRemoveNoOp, EmptyThenBranchNegatesTheCondition) {
  Var c("C", DataType::handle()), x("x");
  Stmt input = IfThenElseNode::make(x > 2, EvaluateNode::make(Expr(0)), StoreNode::make(c, Expr(1.0f), Expr(0)));
  Stmt output = remove_no_op(input);
  const auto* branch = output.as<IfThenElseNode>();
  ASSERT_NE(branch, nullptr) << output;
  EXPECT_FALSE(branch->else_case.defined());
  for (int64_t x_value : {1, 5}) {
    FlatMemory before, after;
    before.add(c, 1, 3);
    after.add(c, 1, 3);
    before.scalars = after.scalars = {{x, x_value}};
    before.run(input);
    after.run(output);
    EXPECT_EQ(after.get(c), before.get(c)) << "x = " << x_value;
  }
}

TEST(LowerRemoveNoOp, UsefulCodeIsReturnedUnchanged) {
  Var a("A", DataType::handle()), c("C", DataType::handle());
  Var i("i");
  Stmt input = ForNode::make(i, Expr(0), Expr(4), ForKind::kSerial, StoreNode::make(c, f32_load(a, i), i));
  EXPECT_TRUE(remove_no_op(input).same_as(input));
  // A store of a load from another index is not a no-op.
  Stmt shift = StoreNode::make(a, f32_load(a, Expr(1)), Expr(0));
  EXPECT_TRUE(remove_no_op(shift).same_as(shift));
  EXPECT_EQ(count_stmts(remove_no_op(shift), [](const Stmt& s) { return s.as<StoreNode>() != nullptr; }), 1);
}

}  // namespace
}  // namespace te
