// Node construction: dtype names, checked make(), constant helpers, Seq flattening.
#include "test_util.h"

namespace te {
namespace {

using testing::const_shape;

TEST(IrDataType, StrAndParseRoundTrip) {
  for (DataType t : {DataType::int8(), DataType::int16(), DataType::int32(), DataType::int64(), DataType::uint8(),
                     DataType::float16(), DataType::float32(), DataType::float64(), DataType::boolean(),
                     DataType::float32().with_lanes(8), DataType::int32().with_lanes(4)}) {
    EXPECT_EQ(DataType::parse(t.str()), t) << t.str();
  }
  EXPECT_EQ(DataType::float32().with_lanes(8).str(), "float32x8");
  EXPECT_EQ(DataType::boolean().str(), "bool");
  EXPECT_EQ(DataType::uint8().str(), "uint8");
}

TEST(IrDataType, ParseRejectsUnknownNames) {
  EXPECT_TE_ERROR(DataType::parse("float13"), "float13");
  EXPECT_TE_ERROR(DataType::parse("double"), "double", "float32");
  EXPECT_TE_ERROR(DataType::parse(""), "dtype");
}

TEST(IrNodes, InternalErrorNamesFileAndLine) {
  try {
    TE_ICHECK(1 + 1 == 3, "arithmetic is ", "broken");
    FAIL() << "TE_ICHECK did not throw";
  } catch (const InternalError& e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find("te internal error (a bug, please report)"), std::string::npos) << msg;
    EXPECT_NE(msg.find("test_ir_nodes.cc:"), std::string::npos) << msg;
    EXPECT_NE(msg.find("arithmetic is broken"), std::string::npos) << msg;
  }
}

TEST(IrNodes, ScalarConstructors) {
  EXPECT_EQ(Expr(3).dtype(), DataType::int32());
  EXPECT_EQ(Expr(int64_t(3)).dtype(), DataType::int64());
  EXPECT_EQ(Expr(1.5f).dtype(), DataType::float32());
  EXPECT_EQ(Expr(1.5).dtype(), DataType::float32());
  // float32 constants hold the float32 value, not the double one.
  EXPECT_EQ(Expr(0.1).as<FloatImmNode>()->value, double(0.1f));
  EXPECT_EQ(FloatImmNode::make(DataType::float64(), 0.1).as<FloatImmNode>()->value, 0.1);
}

TEST(IrNodes, IntImmWrapsToItsBits) {
  EXPECT_EQ(*as_const_int(IntImmNode::make(DataType::int8(), 200)), 200 - 256);
  EXPECT_EQ(*as_const_int(IntImmNode::make(DataType::uint8(), -1)), 255);
  EXPECT_EQ(*as_const_int(IntImmNode::make(DataType::boolean(), 7)), 1);
  EXPECT_EQ(*as_const_int(IntImmNode::make(DataType::int32(), int64_t(1) << 32)), 0);
}

TEST(IrNodes, BinaryMakeChecksDtypes) {
  Var i("i"), x("x", DataType::float32());
  EXPECT_THROW(AddNode::make(i, x), InternalError);
  Expr lt = LTNode::make(i, Expr(3));
  EXPECT_EQ(lt.dtype(), DataType::boolean());
  Expr v = RampNode::make(i, Expr(1), 4);
  EXPECT_EQ(LTNode::make(v, BroadcastNode::make(Expr(3), 4)).dtype(), DataType::boolean().with_lanes(4));
  EXPECT_THROW(AndNode::make(i, i), InternalError);
}

TEST(IrNodes, DivisionByConstantZeroIsUserError) {
  Var i("i");
  EXPECT_TE_ERROR(DivNode::make(i, Expr(0)), "division by constant zero");
  EXPECT_TE_ERROR(FloorModNode::make(i, Expr(0)), "division by constant zero");
  EXPECT_NO_THROW(DivNode::make(i, Expr(2)));
}

TEST(IrNodes, VectorNodes) {
  Var i("i");
  Expr r = RampNode::make(i, Expr(2), 8);
  EXPECT_EQ(r.dtype(), DataType::int32().with_lanes(8));
  EXPECT_THROW(RampNode::make(i, Expr(1), 1), InternalError);
  EXPECT_THROW(BroadcastNode::make(Expr(1.0f), 1), InternalError);
  EXPECT_EQ(BroadcastNode::make(Expr(1.0f), 4).dtype(), DataType::float32().with_lanes(4));
  Var buf("A", DataType::handle());
  EXPECT_EQ(LoadNode::make(DataType::float32().with_lanes(8), buf, r).dtype().lanes, 8);
  EXPECT_THROW(LoadNode::make(DataType::float32(), buf, r), InternalError);
  EXPECT_THROW(LoadNode::make(DataType::float32(), i, i), InternalError);  // not a handle
  EXPECT_THROW(CastNode::make(DataType::float32(), r), InternalError);     // lanes change
}

TEST(IrNodes, CallChecksArity) {
  Expr x = Expr(1.0f);
  EXPECT_NO_THROW(CallNode::make(DataType::float32(), Intrinsic::kExp, {x}));
  EXPECT_THROW(CallNode::make(DataType::float32(), Intrinsic::kExp, {x, x}), InternalError);
  EXPECT_THROW(CallNode::make(DataType::float32(), Intrinsic::kFma, {x, x}), InternalError);
  EXPECT_THROW(CallNode::make(DataType::float32(), Intrinsic::kIfThenElse, {x, x, x}), InternalError);
  EXPECT_EQ(std::string(intrinsic_name(Intrinsic::kIfThenElse)), "if_then_else");
}

TEST(IrNodes, TensorReadChecksIndices) {
  Tensor a = placeholder({Expr(4), Expr(5)}, DataType::float32(), "A");
  Var i("i"), j("j");
  Expr r = a(i, j);
  ASSERT_TRUE(r.as<TensorReadNode>());
  EXPECT_EQ(r.dtype(), DataType::float32());
  EXPECT_TE_ERROR(a(i), "A", "2 dimension", "1 index");
  EXPECT_TE_ERROR(a(i, Expr(1.5f)), "A", "index 1", "integer");
  EXPECT_EQ(const_shape(a), (std::vector<int64_t>{4, 5}));
  EXPECT_TE_ERROR(a.op().output(1), "output(1)");
  EXPECT_TRUE(a.op().output(0) == a);
}

TEST(IrNodes, ReduceChecksAxesAndReducer) {
  Var l("l", DataType::float32()), r("r", DataType::float32());
  CommReducer add = CommReducer::make({l}, {r}, {AddNode::make(l, r)}, {Expr(0.0f)});
  IterVar k(Range(Expr(0), Expr(8)), Var("k"), IterVarType::kCommReduce);
  IterVar i(Range(Expr(0), Expr(8)), Var("i"), IterVarType::kDataPar);
  Expr red = ReduceNode::make(add, {Expr(1.0f)}, {k}, Expr(), 0);
  EXPECT_EQ(red.dtype(), DataType::float32());
  EXPECT_TRUE(is_one(red.as<ReduceNode>()->condition));
  EXPECT_TE_ERROR(ReduceNode::make(add, {Expr(1.0f)}, {i}, Expr(), 0), "axis i", "reduce_axis");
  EXPECT_TE_ERROR(ReduceNode::make(add, {Expr(1)}, {k}, Expr(), 0), "source 0", "int32");
  EXPECT_TE_ERROR(CommReducer::make({l}, {r}, {AddNode::make(l, r)}, {Expr(0)}), "identity int32");
  std::vector<Expr> combined = add({Expr(2.0f)}, {Expr(3.0f)});
  ASSERT_EQ(combined.size(), 1u);
  const auto* sum = combined[0].as<AddNode>();
  ASSERT_TRUE(sum);
  EXPECT_TRUE(is_const_int(cast(DataType::int32(), sum->a), 2));
}

TEST(IrNodes, SeqFlattensAndDropsUndefined) {
  Stmt a = EvaluateNode::make(Expr(1)), b = EvaluateNode::make(Expr(2)), c = EvaluateNode::make(Expr(3));
  Stmt inner = SeqNode::make({a, b});
  Stmt outer = SeqNode::make({Stmt(), inner, c});
  const auto* seq = outer.as<SeqNode>();
  ASSERT_TRUE(seq);
  ASSERT_EQ(seq->seq.size(), 3u);
  EXPECT_TRUE(seq->seq[0].same_as(a));
  EXPECT_TRUE(seq->seq[2].same_as(c));
  EXPECT_TRUE(SeqNode::make({Stmt(), b}).same_as(b));
}

TEST(IrNodes, ConstantHelpers) {
  EXPECT_TRUE(is_zero(make_zero(DataType::float32())));
  EXPECT_TRUE(is_one(make_const(DataType::int64(), 1)));
  EXPECT_FALSE(is_one(Var("x")));
  Expr v = make_const(DataType::int32().with_lanes(4), 7);
  ASSERT_TRUE(v.as<BroadcastNode>());
  EXPECT_TRUE(is_const_int(v, 7));
  EXPECT_EQ(as_const_int(v), nullptr);
  EXPECT_EQ(make_const(DataType::boolean(), 5).dtype(), DataType::boolean());
}

TEST(IrNodes, StatementChecks) {
  Var i("i"), buf("B", DataType::handle());
  Stmt body = StoreNode::make(buf, Expr(1.0f), i);
  EXPECT_THROW(ForNode::make(i, Expr(0), Expr(1.0f), ForKind::kSerial, body), InternalError);
  EXPECT_THROW(IfThenElseNode::make(i, body), InternalError);
  EXPECT_THROW(StoreNode::make(buf, BroadcastNode::make(Expr(1.0f), 4), i), InternalError);
  EXPECT_THROW(ForNode::make(i, Expr(0), Expr(4), ForKind::kThreadBinding, body), InternalError);
  EXPECT_NO_THROW(ForNode::make(i, Expr(0), Expr(4), ForKind::kParallel, body));
}

}  // namespace
}  // namespace te
