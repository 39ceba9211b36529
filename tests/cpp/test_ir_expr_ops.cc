// Operator overloads: the promotion rules of te/ir.h, constant folding, div/mod semantics,
// user errors.
#include <cfloat>

#include "test_util.h"

namespace te {
namespace {

Var v(const char* name, DataType t) { return Var(name, t); }

TEST(IrExprOps, PromotionTable) {
  const DataType order[] = {DataType::boolean(), DataType::int8(),    DataType::uint8(),   DataType::int16(),
                            DataType::int32(),   DataType::int64(),   DataType::float16(), DataType::float32(),
                            DataType::float64()};
  const int n = sizeof(order) / sizeof(order[0]);
  for (int a = 0; a < n; ++a)
    for (int b = 0; b < n; ++b) {
      DataType want = order[std::max(a, b)];
      EXPECT_EQ(promote(order[a], order[b]), want) << order[a].str() << " with " << order[b].str();
      Expr sum = v("x", order[a]) + v("y", order[b]);
      EXPECT_EQ(sum.dtype(), want) << order[a].str() << " + " << order[b].str();
    }
  EXPECT_EQ(promote(DataType::float32().with_lanes(8), DataType::float32()), DataType::float32().with_lanes(8));
  EXPECT_TE_ERROR(promote(DataType::float32().with_lanes(8), DataType::float32().with_lanes(4)), "lanes");
}

TEST(IrExprOps, ConstantsAdaptToTheOtherOperand) {
  Var h = v("h", DataType::float16()), i = v("i", DataType::int32()), b = v("b", DataType::int8());
  Var l = v("l", DataType::int64());
  EXPECT_EQ((h + 1.0).dtype(), DataType::float16());
  EXPECT_EQ((h * 2).dtype(), DataType::float16());
  EXPECT_EQ((i * 2).dtype(), DataType::int32());
  EXPECT_EQ((b + 1).dtype(), DataType::int8());
  EXPECT_EQ((2 * l).dtype(), DataType::int64());
  EXPECT_EQ((i * 0.5).dtype(), DataType::float32());  // integer expression, floating constant
  EXPECT_EQ((l * 0.5).dtype(), DataType::float32());
  EXPECT_EQ((i < 3).dtype(), DataType::boolean());
  Expr vec = RampNode::make(i, Expr(1), 4);
  EXPECT_EQ((vec + 1).dtype(), DataType::int32().with_lanes(4));
  ASSERT_TRUE((vec + 1).as<AddNode>());
  EXPECT_TRUE((vec + 1).as<AddNode>()->b.as<BroadcastNode>());
}

TEST(IrExprOps, FoldsConstants) {
  EXPECT_TRUE(is_const_int(Expr(6) * Expr(7), 42));
  EXPECT_TRUE(is_const_int(Expr(3) - Expr(5), -2));
  Expr f = Expr(1.5f) + Expr(2);
  ASSERT_TRUE(f.as<FloatImmNode>());
  EXPECT_EQ(f.dtype(), DataType::float32());
  EXPECT_EQ(f.as<FloatImmNode>()->value, 3.5);
  EXPECT_TRUE(is_const_int(cast(DataType::int32(), Expr(3) < Expr(4)), 1));
  EXPECT_TRUE(is_const_int(min(Expr(3), Expr(-4)), -4));
  EXPECT_TRUE(is_const_int(max(Expr(int64_t(3)), Expr(-4)), 3));
  // Folding wraps to the dtype like the hardware does.
  Expr big = IntImmNode::make(DataType::int8(), 100) + IntImmNode::make(DataType::int8(), 100);
  EXPECT_TRUE(is_const_int(big, 200 - 256));
  // Non-constant operands are left alone.
  Var x("x");
  EXPECT_TRUE((x + 0).as<AddNode>());
}

TEST(IrExprOps, DivModSemanticsOnNegativeNumbers) {
  EXPECT_TRUE(is_const_int(Expr(7) / Expr(-2), -3));
  EXPECT_TRUE(is_const_int(Expr(-7) / Expr(2), -3));
  EXPECT_TRUE(is_const_int(Expr(-7) % Expr(2), -1));
  EXPECT_TRUE(is_const_int(Expr(7) % Expr(-2), 1));
  EXPECT_TRUE(is_const_int(truncdiv(Expr(-7), Expr(2)), -3));
  EXPECT_TRUE(is_const_int(truncmod(Expr(-7), Expr(2)), -1));
  EXPECT_TRUE(is_const_int(floordiv(Expr(-7), Expr(2)), -4));
  EXPECT_TRUE(is_const_int(floormod(Expr(-7), Expr(2)), 1));
  EXPECT_TRUE(is_const_int(floordiv(Expr(7), Expr(-2)), -4));
  EXPECT_TRUE(is_const_int(floormod(Expr(7), Expr(-2)), -1));
  EXPECT_TRUE(is_const_int(floordiv(Expr(-8), Expr(2)), -4));
  EXPECT_TRUE(is_const_int(floormod(Expr(-8), Expr(2)), 0));
  Var i("i");
  EXPECT_TRUE(floordiv(i, 4).as<FloorDivNode>());
  EXPECT_TRUE((i / 4).as<DivNode>());
}

TEST(IrExprOps, DivisionByConstantZeroIsUserError) {
  Var i("i");
  EXPECT_TE_ERROR(i / 0, "division by constant zero");
  EXPECT_TE_ERROR(Expr(3) % Expr(0), "division by constant zero");
  EXPECT_TE_ERROR(floordiv(i, 0), "floordiv", "zero");
  EXPECT_TE_ERROR(floormod(i, Expr(int64_t(0))), "floormod", "zero");
  // Float division by zero is IEEE, not an error.
  Var x("x", DataType::float32());
  EXPECT_NO_THROW(x / 0.0);
}

TEST(IrExprOps, UserErrors) {
  Var i("i"), x("x", DataType::float32()), buf("buf", DataType::handle());
  EXPECT_TE_ERROR(i && (i < 2), "operator&&", "bool");
  EXPECT_TE_ERROR(select(x, x, x), "select", "bool");
  EXPECT_TE_ERROR(if_then_else(i, x, x), "if_then_else", "bool");
  EXPECT_TE_ERROR(buf + 1, "handle");
  EXPECT_TE_ERROR(Expr() + 1, "undefined");
  EXPECT_TE_ERROR(cast(DataType::handle(), i), "cast");
}

TEST(IrExprOps, LogicFolds) {
  Var i("i");
  Expr c = i < 4;
  Expr t = make_const(DataType::boolean(), 1), f = make_const(DataType::boolean(), 0);
  EXPECT_TRUE((t && c).same_as(c));
  EXPECT_TRUE(is_zero(f && c));
  EXPECT_TRUE(is_one(t || c));
  EXPECT_TRUE((f || c).same_as(c));
  EXPECT_TRUE(is_one(all({})));
  EXPECT_TRUE(is_zero(any({})));
  EXPECT_TRUE(all({c}).same_as(c));
  EXPECT_TRUE(all({c, i > 0}).as<AndNode>());
  EXPECT_TRUE(is_zero(!t));
  EXPECT_TRUE((!c).as<NotNode>());
}

TEST(IrExprOps, SelectAndIfThenElse) {
  Var i("i"), x("x", DataType::float32());
  Expr s = select(i < 3, x, 0);
  EXPECT_EQ(s.dtype(), DataType::float32());
  ASSERT_TRUE(s.as<SelectNode>());
  Expr ite = if_then_else(i < 3, x, 1);
  const auto* call = ite.as<CallNode>();
  ASSERT_TRUE(call);
  EXPECT_EQ(call->op, Intrinsic::kIfThenElse);
  EXPECT_EQ(call->args[2].dtype(), DataType::float32());
  EXPECT_TRUE(select(i < i + 0, x, x).as<SelectNode>());
  EXPECT_TRUE(select(make_const(DataType::boolean(), 1), x, Expr(2.0f)).same_as(x));
}

TEST(IrExprOps, MathCastsIntegersToFloat32) {
  Var i("i"), d("d", DataType::float64());
  EXPECT_EQ(exp(i).dtype(), DataType::float32());
  EXPECT_EQ(sqrt(d).dtype(), DataType::float64());
  EXPECT_EQ(pow(i, 2).dtype(), DataType::float32());
  EXPECT_EQ(fma(d, i, 1).dtype(), DataType::float64());
  EXPECT_EQ(abs(i).dtype(), DataType::int32());
  EXPECT_TRUE(is_const_int(abs(Expr(-5)), 5));
  Expr th = tanh(i);
  const auto* call = th.as<CallNode>();
  ASSERT_TRUE(call);
  EXPECT_TRUE(call->args[0].as<CastNode>());
}

TEST(IrExprOps, CastFoldsConstants) {
  EXPECT_TRUE(is_const_int(cast(DataType::int32(), Expr(2.9f)), 2));
  EXPECT_TRUE(is_const_int(cast(DataType::int32(), Expr(-2.9f)), -2));
  EXPECT_TRUE(is_const_int(cast(DataType::uint8(), Expr(300)), 44));
  Expr f = cast(DataType::float64(), Expr(3));
  ASSERT_TRUE(f.as<FloatImmNode>());
  EXPECT_EQ(f.dtype(), DataType::float64());
  Var i("i");
  EXPECT_TRUE(cast(DataType::int32(), i).same_as(i));
  EXPECT_EQ(cast(DataType::float32().with_lanes(4), i).dtype(), DataType::float32().with_lanes(4));
}

TEST(IrExprOps, MinMaxValues) {
  EXPECT_TRUE(is_const_int(min_value(DataType::int8()), -128));
  EXPECT_TRUE(is_const_int(max_value(DataType::int8()), 127));
  EXPECT_TRUE(is_const_int(max_value(DataType::uint8()), 255));
  EXPECT_TRUE(is_const_int(min_value(DataType::int64()), INT64_MIN));
  EXPECT_TRUE(is_const_int(max_value(DataType::int64()), INT64_MAX));
  EXPECT_EQ(max_value(DataType::float32()).as<FloatImmNode>()->value, double(FLT_MAX));
  EXPECT_EQ(min_value(DataType::float32()).as<FloatImmNode>()->value, -double(FLT_MAX));
  EXPECT_EQ(min_value(DataType::float32().with_lanes(4)).dtype(), DataType::float32().with_lanes(4));
}

}  // namespace
}  // namespace te
