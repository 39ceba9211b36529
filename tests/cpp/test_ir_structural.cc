// Structural equality and hashing.
#include "test_util.h"

namespace te {
namespace {

Stmt copy_loop(const Var& buffer, const Var& src, int extent) {
  Var i("i");
  return ForNode::make(i, Expr(0), Expr(extent), ForKind::kSerial,
                       StoreNode::make(buffer, LoadNode::make(DataType::float32(), src, i) + 1.0f, i));
}

TEST(IrStructural, EqualExpressions) {
  Var i("i"), j("j");
  EXPECT_TRUE(structural_equal(i * 4 + j, i * 4 + j));
  EXPECT_EQ(structural_hash(i * 4 + j), structural_hash(i * 4 + j));
  EXPECT_FALSE(structural_equal(i * 4 + j, i * 4 + i));
  EXPECT_FALSE(structural_equal(i * 4 + j, j * 4 + i));
  EXPECT_FALSE(structural_equal(i * 4 + j, i * 5 + j));
  EXPECT_FALSE(structural_equal(i + j, i - j));
  EXPECT_FALSE(structural_equal(Expr(1), Expr(int64_t(1))));  // dtypes differ
  EXPECT_NE(structural_hash(Expr(1)), structural_hash(Expr(2)));
  EXPECT_TRUE(structural_equal(Expr(0.5f), Expr(0.5)));
  EXPECT_FALSE(structural_equal(RampNode::make(i, Expr(1), 4), RampNode::make(i, Expr(1), 8)));
}

TEST(IrStructural, FreeVariablesByIdentityUnlessMapped) {
  Var i("i"), i2("i"), j("j");
  EXPECT_FALSE(structural_equal(i + 1, i2 + 1));
  EXPECT_TRUE(structural_equal(i + 1, i2 + 1, /*map_free_vars=*/true));
  // The pairing made on first occurrence must hold everywhere.
  EXPECT_TRUE(structural_equal(i * i, i2 * i2, true));
  EXPECT_FALSE(structural_equal(i * i, i2 * j, true));
  EXPECT_FALSE(structural_equal(i * j, i2 * i2, true));
  EXPECT_FALSE(structural_equal(i + 1, Var("f", DataType::float32()) + 1.0f, true));
  EXPECT_EQ(structural_hash(i * j + i), structural_hash(i2 * j + i2));
}

TEST(IrStructural, BoundVariablesMatchPositionally) {
  Var a("A", DataType::handle()), b("B", DataType::handle());
  Stmt x = copy_loop(b, a, 16), y = copy_loop(b, a, 16);
  EXPECT_FALSE(x.same_as(y));
  EXPECT_TRUE(structural_equal(x, y));  // loop variables differ but are bound in place
  EXPECT_EQ(structural_hash(x), structural_hash(y));
  EXPECT_FALSE(structural_equal(x, copy_loop(b, a, 17)));
  EXPECT_FALSE(structural_equal(x, copy_loop(a, b, 16)));  // free buffers compared by identity
  Var a2("A", DataType::handle()), b2("B", DataType::handle());
  EXPECT_TRUE(structural_equal(x, copy_loop(b2, a2, 16), true));
  EXPECT_NE(structural_hash(x), structural_hash(copy_loop(b, a, 17)));
}

TEST(IrStructural, StatementsOfDifferentShape) {
  Var a("A", DataType::handle()), b("B", DataType::handle());
  Stmt loop = copy_loop(b, a, 8);
  Stmt seq2 = SeqNode::make({loop, loop});
  Stmt seq3 = SeqNode::make({loop, loop, loop});
  EXPECT_FALSE(structural_equal(seq2, seq3));
  EXPECT_TRUE(structural_equal(seq2, SeqNode::make({loop, loop})));
  Stmt attr = AttrStmtNode::make("pragma_unroll", Expr(1), loop);
  EXPECT_FALSE(structural_equal(attr, AttrStmtNode::make("pragma_other", Expr(1), loop)));
  Stmt ite = IfThenElseNode::make(Var("c", DataType::boolean()), loop);
  EXPECT_FALSE(structural_equal(ite, loop));
}

TEST(IrStructural, ReductionsCompareAlphaEquivalently) {
  auto make_sum = [](const Tensor& t) {
    IterVar k(Range(Expr(0), Expr(8)), Var("k"), IterVarType::kCommReduce);
    Var l("l", DataType::float32()), r("r", DataType::float32());
    CommReducer add = CommReducer::make({l}, {r}, {AddNode::make(l, r)}, {Expr(0.0f)});
    return ReduceNode::make(add, {t(k.var())}, {k}, Expr(), 0);
  };
  Tensor a = placeholder({Expr(8)}, DataType::float32(), "A");
  Tensor b = placeholder({Expr(8)}, DataType::float32(), "B");
  EXPECT_TRUE(structural_equal(make_sum(a), make_sum(a)));
  EXPECT_EQ(structural_hash(make_sum(a)), structural_hash(make_sum(a)));
  EXPECT_FALSE(structural_equal(make_sum(a), make_sum(b)));
}

}  // namespace
}  // namespace te
