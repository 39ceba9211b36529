// Lane reductions (Intrinsic::kReduceAdd/Min/Max): the LLVM backend's shuffle tree against the
// reference interpreter (the same tree order, so bit-identical) and against a serial sum in
// double, for every lane count 2..64 (odd counts set lanes aside); the generated IR is a tree
// of log2(lanes) vector operations, not a serial chain; and through the schedule: rfactor's
// combining axis vectorized (the only reduction axis `vectorize` accepts) lowers to the
// intrinsic on llvm and stays a serial loop on cuda.
#include <algorithm>
#include <cmath>

#include "ir/interpreter.h"
#include "te/ir_functor.h"
#include "te/ops.h"
#include "test_codegen_util.h"

namespace te::testing {
namespace {

int count_substr(const std::string& s, const std::string& what) {
  int n = 0;
  for (size_t p = s.find(what); p != std::string::npos; p = s.find(what, p + 1)) ++n;
  return n;
}

const char* op_name(Intrinsic op) { return intrinsic_name(op); }

// C[0] = reduce(A[0 .. lanes)): built with LLVM and run on the interpreter on the same input.
struct LaneCase {
  Module module;
  std::string ll;
  std::vector<float> input;
  float compiled = 0, interpreted = 0;
};
LaneCase run_lanes(Intrinsic op, int lanes, uint64_t seed) {
  auto A = buffer_arg("A", DataType::float32(), {Expr(lanes)});
  auto C = buffer_arg("C", DataType::float32(), {Expr(1)});
  Expr value = CallNode::make(DataType::float32(), op, {load(A, ramp(Expr(0), lanes))});
  LoweredFunc f = make_func(std::string(op_name(op)) + "_" + std::to_string(lanes), {A, C}, store(C, value, Expr(0)));
  LaneCase r{compile(f), "", {}, 0, 0};
  r.ll = r.module.get_source("ll");
  NDArray a = random_array({lanes}, DataType::float32(), seed), c = NDArray::empty({1});
  c.fill_poison();
  r.module({a, c});
  r.compiled = c.data_as<float>()[0];
  r.input.assign(a.data_as<float>(), a.data_as<float>() + lanes);
  float out = NAN;
  Interpreter interp;
  interp.bind_buffer(A.data, InterpBuffer{r.input.data(), DataType::float32(), lanes});
  interp.bind_buffer(C.data, InterpBuffer{&out, DataType::float32(), 1});
  interp.run(f.body);
  r.interpreted = out;
  return r;
}

TEST(CodegenReduceLanes, EveryLaneCountMatchesTheInterpreterAndASerialReference) {
  for (Intrinsic op : {Intrinsic::kReduceAdd, Intrinsic::kReduceMin, Intrinsic::kReduceMax})
    for (int lanes = 2; lanes <= 64; ++lanes) {
      SCOPED_TRACE(std::string(op_name(op)) + " lanes " + std::to_string(lanes));
      LaneCase r = run_lanes(op, lanes, uint64_t(100 + lanes));
      // Same tree, same float32 rounding at every step: bit-identical.
      ASSERT_EQ(r.compiled, r.interpreted);
      if (op == Intrinsic::kReduceAdd) {
        double sum = 0, abs_sum = 0;
        for (float x : r.input) sum += x, abs_sum += std::fabs(x);
        ASSERT_NEAR(r.compiled, sum, 1e-6 * abs_sum + 1e-7);
      } else {
        float ref = op == Intrinsic::kReduceMin ? *std::min_element(r.input.begin(), r.input.end())
                                                : *std::max_element(r.input.begin(), r.input.end());
        ASSERT_EQ(r.compiled, ref);
      }
    }
}

// The tree: log2 steps of shufflevector + one vector operation each, plus one scalar operation
// per lane set aside (odd counts) — a serial chain would be lanes - 1 operations.
TEST(CodegenReduceLanes, IrIsAShuffleTree) {
  for (int lanes : {2, 3, 7, 8, 16, 31, 32, 64}) {
    SCOPED_TRACE(lanes);
    std::vector<int> odd;
    const size_t steps = reduce_lanes_order(lanes, &odd).size();
    LaneCase r = run_lanes(Intrinsic::kReduceAdd, lanes, 7);
    EXPECT_EQ(count_substr(r.ll, " fadd "), int(steps + odd.size())) << r.ll;
    if (lanes >= 4) EXPECT_NE(r.ll.find("shufflevector"), std::string::npos) << r.ll;
    // min/max: one compare-and-select per operation.
    LaneCase m = run_lanes(Intrinsic::kReduceMax, lanes, 8);
    EXPECT_EQ(count_substr(m.ll, " fcmp "), int(steps + odd.size())) << m.ll;
  }
  std::vector<int> odd;
  EXPECT_EQ(reduce_lanes_order(64, &odd).size(), 6u);
  EXPECT_TRUE(odd.empty());
  EXPECT_EQ(reduce_lanes_order(7, &odd).size(), 2u);  // 7 -> (6: 3) -> (2: 1), lanes 6 and 2 aside
  EXPECT_EQ(odd, (std::vector<int>{6, 2}));
}

TEST(CodegenReduceLanes, IntegerLanesWrapLikeTheSerialSum) {
  const int lanes = 13;
  auto A = buffer_arg("A", DataType::int32(), {Expr(lanes)});
  auto C = buffer_arg("C", DataType::int32(), {Expr(3)});
  Expr v = load(A, ramp(Expr(0), lanes));
  Stmt body = SeqNode::make({store(C, CallNode::make(DataType::int32(), Intrinsic::kReduceAdd, {v}), Expr(0)),
                             store(C, CallNode::make(DataType::int32(), Intrinsic::kReduceMin, {v}), Expr(1)),
                             store(C, CallNode::make(DataType::int32(), Intrinsic::kReduceMax, {v}), Expr(2))});
  Module m = compile(make_func("int_lanes", {A, C}, body));
  NDArray a = NDArray::empty({lanes}, DataType::int32()), c = NDArray::empty({3}, DataType::int32());
  int64_t sum = 0;
  for (int i = 0; i < lanes; ++i) {
    a.data_as<int32_t>()[i] = (i % 2 ? 1 : -1) * (2000000000 - i * 7);
    sum += a.data_as<int32_t>()[i];
  }
  c.fill_poison();
  m({a, c});
  const int32_t* in = a.data_as<int32_t>();
  EXPECT_EQ(c.data_as<int32_t>()[0], int32_t(uint32_t(uint64_t(sum))));
  EXPECT_EQ(c.data_as<int32_t>()[1], *std::min_element(in, in + lanes));
  EXPECT_EQ(c.data_as<int32_t>()[2], *std::max_element(in, in + lanes));
}

// Row sums and maxima of [m, n] through the schedule: k split by `lanes`, rfactor'd (lanes
// partial results per row), and the combining axis vectorized.
struct RowReduce {
  Tensor x, out;
  Schedule s;
};
RowReduce row_reduce(bool max, int64_t m, int64_t n, int64_t lanes) {
  RowReduce r;
  r.x = placeholder({m, n}, DataType::float32(), "X");
  IterVar k = reduce_axis(Range(0, n), "k");
  r.out = compute(
      {m}, [&](const std::vector<Var>& i) { return max ? te::max(r.x(i[0], k), std::vector<IterVar>{k}) : sum(r.x(i[0], k), {k}); }, "R");
  r.s = create_schedule({r.out.op()});
  Stage st = r.s[r.out];
  auto [ko, ki] = st.split(st->op.as<ComputeOpNode>()->reduce_axis[0], lanes);
  Tensor rf = r.s.rfactor(r.out, ki);
  Stage rs = r.s[rf];
  const ComputeOpNode* rop = rs->op.as<ComputeOpNode>();
  rs.reorder({rop->axis[1], rop->reduce_axis[0], rop->axis[0]});
  rs.vectorize(rop->axis[0]);
  Stage combine = r.s[r.out];
  rs.compute_at(combine, combine->op.as<ComputeOpNode>()->axis[0]);
  combine.vectorize(combine->op.as<ComputeOpNode>()->reduce_axis[0]);
  return r;
}

int count_lane_reductions(const Stmt& s) {
  int n = 0;
  post_order_visit(s, [&n](const Expr& e) {
    const auto* call = e.as<CallNode>();
    n += call && is_lane_reduction(call->op) ? 1 : 0;
  }, [](const Stmt&) {});
  return n;
}

TEST(CodegenReduceLanes, VectorizedCombiningAxisLowersToTheTreeOnLlvmOnly) {
  for (bool max : {false, true})
    for (int64_t lanes : {4, 5, 16, 32}) {
      SCOPED_TRACE(std::string(max ? "max" : "sum") + " lanes " + std::to_string(lanes));
      const int64_t m = 6, n = 3 * lanes + 2;  // a tail: the rf loop is guarded
      RowReduce r = row_reduce(max, m, n, lanes);
      LoweredFunc f = lower(r.s, {r.x, r.out}, "rowred");
      EXPECT_EQ(count_lane_reductions(f.body), 1) << f.body;
      Module mod = build(r.s, {r.x, r.out}, "llvm", "rowred");
      NDArray x = random_array({m, n}, DataType::float32(), 3), out = NDArray::empty({m});
      out.fill_poison();
      mod({x, out});
      for (int64_t i = 0; i < m; ++i) {
        double ref = max ? -INFINITY : 0;
        for (int64_t j = 0; j < n; ++j) {
          double v = x.data_as<float>()[i * n + j];
          ref = max ? std::max(ref, v) : ref + v;
        }
        EXPECT_NEAR(out.data_as<float>()[i], ref, 1e-5) << i;
      }
      // No tree on cuda: its vector code is printed lane by lane.
      LowerOptions cuda;
      cuda.target.kind = "cuda";
      cuda.simple_mode = true;  // no thread binding here: the target checks would refuse the nest
      RowReduce g = row_reduce(max, m, n, lanes);
      EXPECT_EQ(count_lane_reductions(lower(g.s, {g.x, g.out}, "rowred_cuda", cuda).body), 0);
    }
}

// Only rfactor's combining axis may be vectorized; a plain reduction axis keeps the error.
TEST(CodegenReduceLanes, VectorizingAnOrdinaryReductionAxisIsStillAnError) {
  Tensor x = placeholder({4, 8}, DataType::float32(), "X");
  IterVar k = reduce_axis(Range(0, 8), "k");
  Tensor r = compute({4}, [&](const std::vector<Var>& i) { return sum(x(i[0], k), {k}); }, "R");
  Schedule s = create_schedule({r.op()});
  auto [ko, ki] = s[r].split(k, 4);
  EXPECT_THROW(s[r].vectorize(ki), Error);
}

}  // namespace
}  // namespace te::testing
