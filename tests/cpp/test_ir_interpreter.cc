// The reference interpreter: exact dtype semantics, vector lanes, memory checks, reductions.
#include <cmath>

#include "ir/interpreter.h"
#include "test_util.h"

namespace te {
namespace {

int64_t eval_int(Interpreter& in, const Expr& e) { return in.eval(e).as_int(); }

TEST(IrInterpreter, IntegerWraparoundAndDivision) {
  Interpreter in;
  Var a("a", DataType::int8()), b("b", DataType::int8()), u("u", DataType::uint8());
  in.bind(a, Value::from_int(DataType::int8(), 100));
  in.bind(b, Value::from_int(DataType::int8(), 100));
  in.bind(u, Value::from_int(DataType::uint8(), 0));
  EXPECT_EQ(eval_int(in, a + b), 200 - 256);
  EXPECT_EQ(eval_int(in, u - 1), 255);
  Var x("x"), y("y");
  for (int xv : {7, -7, 8, -8, 0})
    for (int yv : {2, -2, 3, -3}) {
      in.bind(x, Value::from_int(DataType::int32(), xv));
      in.bind(y, Value::from_int(DataType::int32(), yv));
      int fd = int(std::floor(double(xv) / yv));
      EXPECT_EQ(eval_int(in, x / y), xv / yv) << xv << "/" << yv;
      EXPECT_EQ(eval_int(in, x % y), xv % yv) << xv << "%" << yv;
      EXPECT_EQ(eval_int(in, floordiv(x, y)), fd) << xv << " floordiv " << yv;
      EXPECT_EQ(eval_int(in, floormod(x, y)), xv - fd * yv) << xv << " floormod " << yv;
    }
}

TEST(IrInterpreter, Float32RoundsEveryResult) {
  Interpreter in;
  Var x("x", DataType::float32()), y("y", DataType::float32()), d("d", DataType::float64());
  in.bind(x, Value::from_float(DataType::float32(), 0.1));
  in.bind(y, Value::from_float(DataType::float32(), 0.2));
  in.bind(d, Value::from_float(DataType::float64(), 0.1));
  EXPECT_EQ(in.eval(x + y).as_float(), double(0.1f + 0.2f));
  EXPECT_EQ(in.eval(d + 0.2).as_float(), 0.1 + double(0.2f));  // 0.2 is a float32 constant widened
  EXPECT_EQ(in.eval(cast(DataType::int32(), x * 25.0f)).as_int(), 2);
  EXPECT_NEAR(in.eval(exp(x)).as_float(), std::exp(0.1), 1e-6);
  EXPECT_EQ(in.eval(round(x * -25.0f)).as_float(), -3.0);  // -2.5 rounds away from zero
}

TEST(IrInterpreter, VectorLoadStoreWithRampAndGather) {
  std::vector<float> a(16), b(16, -1.0f);
  for (int k = 0; k < 16; ++k) a[k] = float(k) * 0.5f;
  Var ha("A", DataType::handle()), hb("B", DataType::handle()), i("i");
  Interpreter in;
  in.bind_buffer(ha, {a.data(), DataType::float32(), 16});
  in.bind_buffer(hb, {b.data(), DataType::float32(), 16});
  DataType f4 = DataType::float32().with_lanes(4);
  // B[i*4 .. i*4+3] = A[i*4 .. i*4+3] * 2 + A[reversed gather]
  Expr ramp = RampNode::make(i * 4, Expr(1), 4);
  Expr gather = RampNode::make(15 - i * 4, Expr(-1), 4);
  Expr value = LoadNode::make(f4, ha, ramp) * BroadcastNode::make(Expr(2.0f), 4) + LoadNode::make(f4, ha, gather);
  Stmt loop = ForNode::make(i, Expr(0), Expr(4), ForKind::kVectorized, StoreNode::make(hb, value, ramp));
  in.run(loop);
  for (int k = 0; k < 16; ++k) EXPECT_EQ(b[k], a[k] * 2 + a[15 - k]) << "element " << k;
  // Lane-wise comparison and select.
  in.bind(i, Value::from_int(DataType::int32(), 0));
  Value sel = in.eval(select(ramp < BroadcastNode::make(Expr(2), 4), LoadNode::make(f4, ha, ramp),
                             BroadcastNode::make(Expr(9.0f), 4)));
  ASSERT_EQ(sel.dtype, f4);
  EXPECT_EQ(sel.as_float(0), a[0]);
  EXPECT_EQ(sel.as_float(1), a[1]);
  EXPECT_EQ(sel.as_float(2), 9.0);
  EXPECT_EQ(sel.as_float(3), 9.0);
}

TEST(IrInterpreter, OutOfRangeAccessIsInternalError) {
  std::vector<int32_t> a(4, 0);
  Var ha("A", DataType::handle()), i("i");
  Interpreter in;
  in.bind_buffer(ha, {a.data(), DataType::int32(), 4});
  in.bind(i, Value::from_int(DataType::int32(), 4));
  EXPECT_THROW(in.eval(LoadNode::make(DataType::int32(), ha, i)), InternalError);
  EXPECT_THROW(in.run(StoreNode::make(ha, Expr(1), i - 5)), InternalError);
  EXPECT_THROW(in.eval(LoadNode::make(DataType::int32().with_lanes(2), ha, RampNode::make(i - 1, Expr(1), 2))),
               InternalError);
  // if_then_else evaluates only the taken side: the guarded read never happens.
  Expr guarded = if_then_else(i < 4, LoadNode::make(DataType::int32(), ha, i), Expr(-1));
  EXPECT_EQ(in.eval(guarded).as_int(), -1);
  EXPECT_THROW(in.eval(Var("unbound") + 1), InternalError);
}

TEST(IrInterpreter, AllocatedMemoryIsPoisoned) {
  std::vector<float> out(2, 0.0f);
  Var ho("Out", DataType::handle()), t("T", DataType::handle());
  Interpreter in;
  in.bind_buffer(ho, {out.data(), DataType::float32(), 2});
  // T[0] = 3; Out[0] = T[0]; Out[1] = T[1] (never written)
  Stmt body = SeqNode::make({StoreNode::make(t, Expr(3.0f), Expr(0)),
                             StoreNode::make(ho, LoadNode::make(DataType::float32(), t, Expr(0)), Expr(0)),
                             StoreNode::make(ho, LoadNode::make(DataType::float32(), t, Expr(1)), Expr(1))});
  in.run(AllocateNode::make(t, DataType::float32(), {Expr(2)}, "local", body));
  EXPECT_EQ(out[0], 3.0f);
  EXPECT_TRUE(std::isnan(out[1]));
  // The buffer is gone after its scope.
  EXPECT_THROW(in.eval(LoadNode::make(DataType::float32(), t, Expr(0))), InternalError);
}

TEST(IrInterpreter, StatementsAndLets) {
  std::vector<int32_t> out(6, 0);
  Var ho("Out", DataType::handle()), i("i"), v("v");
  Interpreter in;
  in.bind_buffer(ho, {out.data(), DataType::int32(), 6});
  // for i in [1, 7): let v = i*i in if (i % 2 == 0) Out[i-1] = v else Out[i-1] = let w = -v in w
  Var w("w");
  Stmt body = LetStmtNode::make(
      v, i * i,
      IfThenElseNode::make(i % 2 == 0, StoreNode::make(ho, v, i - 1),
                           StoreNode::make(ho, LetNode::make(w, -v, w), i - 1)));
  in.run(ForNode::make(i, Expr(1), Expr(6), ForKind::kParallel, AttrStmtNode::make("pragma_x", Expr(1), body)));
  for (int k = 1; k <= 6; ++k) EXPECT_EQ(out[k - 1], k % 2 == 0 ? k * k : -k * k) << "i = " << k;
}

TEST(IrInterpreter, ReductionsThroughTensorReads) {
  Tensor a = placeholder({Expr(3), Expr(4)}, DataType::float32(), "A");
  auto value_at = [](int64_t r, int64_t c) { return double((r * 7 + c * 3) % 5) - 2.0; };
  Interpreter in;
  in.tensor_read = [&](const Tensor& t, const std::vector<int64_t>& idx) {
    EXPECT_TRUE(t == a);
    return Value::from_float(DataType::float32(), value_at(idx.at(0), idx.at(1)));
  };
  IterVar r(Range(Expr(0), Expr(3)), Var("r"), IterVarType::kCommReduce);
  IterVar c(Range(Expr(1), Expr(3)), Var("c"), IterVarType::kCommReduce);  // c in [1, 4)
  Var l("l", DataType::float32()), rr("rr", DataType::float32());
  CommReducer add = CommReducer::make({l}, {rr}, {AddNode::make(l, rr)}, {Expr(0.0f)});
  Expr total = ReduceNode::make(add, {a(r.var(), c.var())}, {r, c}, r.var() != 1, 0);
  double want = 0;
  for (int64_t ri = 0; ri < 3; ++ri)
    for (int64_t ci = 1; ci < 4; ++ci)
      if (ri != 1) want += value_at(ri, ci);
  EXPECT_EQ(in.eval(total).as_float(), want);

  // argmax over row 2: a two-valued reducer (index, value).
  Var li("li"), lv("lv", DataType::float32()), ri("ri"), rv("rv", DataType::float32());
  Expr take_right = rv > lv;
  CommReducer argmax = CommReducer::make({li, lv}, {ri, rv}, {select(take_right, ri, li), select(take_right, rv, lv)},
                                         {Expr(-1), min_value(DataType::float32())});
  IterVar k(Range(Expr(0), Expr(4)), Var("k"), IterVarType::kCommReduce);
  std::vector<Expr> src = {k.var(), a(Expr(2), k.var())};
  int64_t best = 0;
  for (int64_t ci = 1; ci < 4; ++ci)
    if (value_at(2, ci) > value_at(2, best)) best = ci;
  EXPECT_EQ(in.eval(ReduceNode::make(argmax, src, {k}, Expr(), 0)).as_int(), best);
  EXPECT_EQ(in.eval(ReduceNode::make(argmax, src, {k}, Expr(), 1)).as_float(), value_at(2, best));
}

TEST(IrInterpreter, TensorStoreCallback) {
  Tensor a = placeholder({Expr(2)}, DataType::int32(), "A");
  std::vector<int64_t> seen;
  Interpreter in;
  in.tensor_store = [&](const Tensor&, const std::vector<int64_t>& idx, const Value& v) {
    seen.push_back(idx.at(0) * 100 + v.as_int());
  };
  Var i("i");
  in.run(ForNode::make(i, Expr(0), Expr(2), ForKind::kSerial, TensorStoreNode::make(a, i + 5, {i})));
  EXPECT_EQ(seen, (std::vector<int64_t>{5, 106}));
}

}  // namespace
}  // namespace te
