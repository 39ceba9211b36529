// vectorize_loops: vectorized loops become vector statements with the same numbers, or stay
// serial loops when widening could change the result.
#include <functional>

#include "lower/vectorize_loops.h"
#include "test_lower_util.h"

namespace te {
namespace {

using testing::count_exprs;
using testing::count_for;
using testing::count_stmts;
using testing::FlatMemory;

Expr f32_load(const Var& buf, Expr index) { return LoadNode::make(DataType::float32(), buf, index); }

// Runs input and output on the same random buffers and checks every buffer ends equal.
void expect_same_results(const Stmt& input, const Stmt& output, const std::vector<std::pair<Var, size_t>>& bufs) {
  FlatMemory before, after;
  uint64_t seed = 11;
  for (auto& [v, n] : bufs) {
    before.add(v, n, seed);
    after.add(v, n, seed++);
  }
  before.run(input);
  after.run(output);
  for (auto& [v, n] : bufs) EXPECT_EQ(after.get(v), before.get(v)) << "buffer " << v.name();
}

int vector_stores(const Stmt& s, int lanes) {
  return count_stmts(s, [lanes](const Stmt& st) {
    const auto* store = st.as<StoreNode>();
    return store && store->value.dtype().lanes == lanes && store->index.as<RampNode>();
  });
}

// for i in 0..4: for j in 0..8 vectorized: C[i*8 + j] = A[i*8 + j] + B[i*8 + j] * 2
TEST(LowerVectorize, ElementwiseLoopBecomesRampStores) {
  Var a("A", DataType::handle()), b("B", DataType::handle()), c("C", DataType::handle());
  Var i("i"), j("j");
  Expr idx = i * 8 + j;
  Stmt store = StoreNode::make(c, f32_load(a, idx) + f32_load(b, idx) * 2.0f, idx);
  Stmt input = ForNode::make(i, Expr(0), Expr(4), ForKind::kSerial,
                             ForNode::make(j, Expr(0), Expr(8), ForKind::kVectorized, store));
  Stmt output = vectorize_loops(input);
  EXPECT_EQ(count_for(output, ForKind::kVectorized), 0) << output;
  EXPECT_EQ(count_for(output, ForKind::kSerial), 1);
  EXPECT_EQ(vector_stores(output, 8), 1) << output;
  EXPECT_EQ(count_exprs(output, [](const Expr& e) {
              const auto* load = e.as<LoadNode>();
              return load && load->dtype == DataType::float32().with_lanes(8);
            }), 2);
  expect_same_results(input, output, {{a, 32}, {b, 32}, {c, 32}});
}

// Non-zero symbolic min, a scalar let, a let that becomes a vector, select and cast.
TEST(LowerVectorize, LetSelectCastAreWidened) {
  Var a("A", DataType::handle()), c("C", DataType::handle());
  Var base("base"), j("j"), scale("scale", DataType::float32()), x("x", DataType::float32());
  Expr load = f32_load(a, j);
  Expr value = LetNode::make(x, load * scale,
                             SelectNode::make(x > 0.0f, x, cast(DataType::float32(), j) * 0.5f));
  Stmt store = StoreNode::make(c, value, j);
  Stmt loop = ForNode::make(j, base, Expr(16), ForKind::kVectorized, store);
  Stmt input = LetStmtNode::make(scale, Expr(1.5f), loop);
  Stmt output = vectorize_loops(input);
  EXPECT_EQ(count_stmts(output, [](const Stmt& s) { return s.as<ForNode>() != nullptr; }), 0) << output;
  EXPECT_EQ(vector_stores(output, 16), 1) << output;

  for (int64_t base_value : {0, 3}) {
    FlatMemory before, after;
    before.add(a, 20, 5);
    after.add(a, 20, 5);
    before.add(c, 20, 6);
    after.add(c, 20, 6);
    before.scalars = after.scalars = {{base, base_value}};
    before.run(input);
    after.run(output);
    EXPECT_EQ(after.get(c), before.get(c)) << "base = " << base_value;
  }
}

// Indices flattened to int64 keep int32 parts under casts: C[int64(i*8) + int64(j)] with j
// vectorized must still be a ramp store (a cast of a ramp is a ramp of the wider type), or the
// loop is refused as a scatter and stays serial.
TEST(LowerVectorize, WideningCastOfTheLaneIndexStaysARamp) {
  Var a("A", DataType::handle()), c("C", DataType::handle());
  Var i("i"), j("j");
  const DataType i64 = DataType::int64();
  Expr idx = cast(i64, i * 8) + cast(i64, j);
  Stmt store = StoreNode::make(c, f32_load(a, cast(i64, j * 4) + cast(i64, i)), idx);
  Stmt input = ForNode::make(i, Expr(0), Expr(4), ForKind::kSerial,
                             ForNode::make(j, Expr(0), Expr(8), ForKind::kVectorized, store));
  Stmt output = vectorize_loops(input);
  EXPECT_EQ(count_for(output, ForKind::kVectorized), 0) << output;
  EXPECT_EQ(vector_stores(output, 8), 1) << output;
  expect_same_results(input, output, {{a, 40}, {c, 32}});
}

// The cast-of-a-ramp rule holds only where no int32 lane can wrap: with i in [0, 4),
// int64(i*2^29 + j) fits and stays a ramp; int64(i*2^30 + j) could wrap in the scalar loop (lane
// values past 2^31 - 1), and a free variable has no bound — neither may become an int64 ramp.
TEST(LowerVectorize, WideningCastOfARampThatCouldWrapIsNotARamp) {
  Var c("C", DataType::handle()), i("i"), j("j"), n("n");
  const DataType i64 = DataType::int64();
  auto vector_ramp_stores = [&](const Expr& outer_coefficient, bool bounded) {
    Expr lane_base = bounded ? i : n;
    Stmt store = StoreNode::make(c, make_const(DataType::float32(), 1.0), cast(i64, lane_base * outer_coefficient + j));
    Stmt input = ForNode::make(i, Expr(0), Expr(4), ForKind::kSerial,
                               ForNode::make(j, Expr(0), Expr(8), ForKind::kVectorized, store));
    return vector_stores(vectorize_loops(input), 8);
  };
  EXPECT_EQ(vector_ramp_stores(Expr(1 << 29), true), 1);
  EXPECT_EQ(vector_ramp_stores(Expr(1 << 30), true), 0);
  EXPECT_EQ(vector_ramp_stores(Expr(8), false), 0);
}

// Reduction over the vectorized axis: every lane writes C[i] — a race; the loop stays serial.
TEST(LowerVectorize, StoreToAnInvariantIndexStaysSerial) {
  Var a("A", DataType::handle()), c("C", DataType::handle());
  Var i("i"), k("k");
  Stmt update = StoreNode::make(c, f32_load(c, i) + f32_load(a, i * 8 + k), i);
  Stmt input = ForNode::make(i, Expr(0), Expr(4), ForKind::kSerial,
                             ForNode::make(k, Expr(0), Expr(8), ForKind::kVectorized, update));
  Stmt output = vectorize_loops(input);
  EXPECT_EQ(count_for(output, ForKind::kVectorized), 0);
  EXPECT_EQ(count_for(output, ForKind::kSerial), 2) << output;
  EXPECT_EQ(vector_stores(output, 8), 0);
  expect_same_results(input, output, {{a, 32}, {c, 4}});
}

// A[j] = A[j + 1]: each iteration reads what the next one... no, what the next one writes
// only after reading; vectorized, lanes would read fresh values. Must stay serial.
int lane_reductions(const Stmt& s) {
  return count_exprs(s, [](const Expr& e) {
    const auto* call = e.as<CallNode>();
    return call && is_lane_reduction(call->op);
  });
}

// With lane_reductions (the LLVM backend), the same reduction store becomes
// C[i] = C[i] op reduce_op(A[ramp]): no loop left, the numbers equal to rounding.
TEST(LowerVectorize, InvariantReductionStoreBecomesALaneReduction) {
  Var a("A", DataType::handle()), c("C", DataType::handle());
  Var i("i"), k("k");
  const std::vector<std::function<Expr(Expr, Expr)>> combiners = {
      [](Expr acc, Expr x) { return acc + x; }, [](Expr acc, Expr x) { return max(x, acc); },
      [](Expr acc, Expr x) { return min(acc, x * 2.0f); }};
  for (size_t which = 0; which < combiners.size(); ++which) {
    SCOPED_TRACE(which);
    Stmt update = StoreNode::make(c, combiners[which](f32_load(c, i), f32_load(a, i * 8 + k)), i);
    Stmt input = ForNode::make(i, Expr(0), Expr(4), ForKind::kSerial,
                               ForNode::make(k, Expr(0), Expr(8), ForKind::kVectorized, update));
    Stmt output = vectorize_loops(input, true, true);
    EXPECT_EQ(count_for(output, ForKind::kVectorized), 0) << output;
    EXPECT_EQ(count_for(output, ForKind::kSerial), 1) << output;  // only i
    EXPECT_EQ(lane_reductions(output), 1) << output;
    FlatMemory before, after;
    before.add(a, 32, 5), after.add(a, 32, 5), before.add(c, 4, 6), after.add(c, 4, 6);
    before.run(input);
    after.run(output);
    for (int r = 0; r < 4; ++r) EXPECT_NEAR(after.get(c)[size_t(r)], before.get(c)[size_t(r)], 1e-5) << r;
  }
}

// The reduced element must not be read or written otherwise in the loop (its partial values
// would differ), nor be reduced twice; and Sub is no reduction. Those stay serial.
TEST(LowerVectorize, LaneReductionNeedsTheAccumulatorToItself) {
  Var a("A", DataType::handle()), b("B", DataType::handle()), c("C", DataType::handle());
  Var k("k");
  Stmt update = StoreNode::make(c, f32_load(c, Expr(0)) + f32_load(a, k), Expr(0));
  Stmt read_back = ForNode::make(k, Expr(0), Expr(8), ForKind::kVectorized,
                                 SeqNode::make({update, StoreNode::make(b, f32_load(c, Expr(0)), k)}));
  Stmt twice = ForNode::make(k, Expr(0), Expr(8), ForKind::kVectorized, SeqNode::make({update, update}));
  Stmt self_term = ForNode::make(k, Expr(0), Expr(8), ForKind::kVectorized,
                                 StoreNode::make(c, f32_load(c, Expr(0)) + f32_load(c, k + 1), Expr(0)));
  Stmt sub = ForNode::make(k, Expr(0), Expr(8), ForKind::kVectorized,
                           StoreNode::make(c, f32_load(c, Expr(0)) - f32_load(a, k), Expr(0)));
  Stmt invariant = ForNode::make(k, Expr(0), Expr(8), ForKind::kVectorized,
                                 StoreNode::make(c, f32_load(c, Expr(0)) + f32_load(a, Expr(3)), Expr(0)));
  for (const Stmt& input : {read_back, twice, self_term, sub, invariant}) {
    Stmt output = vectorize_loops(input, true, true);
    EXPECT_EQ(lane_reductions(output), 0) << output;
    EXPECT_EQ(count_for(output, ForKind::kSerial), 1) << output;
    expect_same_results(input, output, {{a, 16}, {b, 16}, {c, 16}});
  }
}

TEST(LowerVectorize, ReadOfAnotherLanesElementStaysSerial) {
  Var a("A", DataType::handle());
  Var j("j");
  Stmt input = ForNode::make(j, Expr(0), Expr(8), ForKind::kVectorized,
                             StoreNode::make(a, f32_load(a, j + 1) * 2.0f, j));
  Stmt output = vectorize_loops(input);
  const auto* loop = output.as<ForNode>();
  ASSERT_NE(loop, nullptr) << output;
  EXPECT_EQ(loop->for_kind, ForKind::kSerial);
  expect_same_results(input, output, {{a, 9}});

  // In place on the same element is lane-private: vectorized.
  Stmt in_place = ForNode::make(j, Expr(0), Expr(8), ForKind::kVectorized,
                                StoreNode::make(a, f32_load(a, j) * 2.0f, j));
  Stmt widened = vectorize_loops(in_place);
  EXPECT_EQ(vector_stores(widened, 8), 1) << widened;
  expect_same_results(in_place, widened, {{a, 9}});
}

// A fused axis split into vector lanes and unfused by its row length (a cooperative copy of a
// padded 32-column tile, TVM-style: fuse, split by 4, vectorize): for t, j vectorized:
// S[floordiv(t*4 + j, 32)*36 + floormod(t*4 + j, 32)] = A[t*4 + j]. Within 4 lanes the row
// does not change (4 divides 32), so the row part is broadcast(floordiv(t, 8)) and the column
// part ramp(floormod(t, 8)*4, 1, 4): one dense vector store. A period the lanes cross
// (floordiv(t*3 + j, 32) over 4 lanes) stays serial.
TEST(LowerVectorize, FusedRowsSplitIntoLanesStayRamps) {
  Var a("A", DataType::handle()), sh("S", DataType::handle());
  Var t("t"), j("j");
  auto copy = [&](int64_t step) {
    Expr fused = t * int32_t(step) + j;
    Stmt store = StoreNode::make(sh, f32_load(a, fused), floordiv(fused, 32) * 36 + floormod(fused, 32));
    return ForNode::make(t, Expr(0), Expr(16), ForKind::kSerial, ForNode::make(j, Expr(0), Expr(4), ForKind::kVectorized, store));
  };
  Stmt input = copy(4);
  Stmt output = vectorize_loops(input);
  EXPECT_EQ(count_for(output, ForKind::kVectorized), 0) << output;
  EXPECT_EQ(vector_stores(output, 4), 1) << output;
  expect_same_results(input, output, {{a, 64}, {sh, 72}});
  Stmt crossing = copy(3);
  Stmt serial = vectorize_loops(crossing);
  EXPECT_EQ(vector_stores(serial, 4), 0) << serial;
  expect_same_results(crossing, serial, {{a, 64}, {sh, 72}});
}

TEST(LowerVectorize, UnsupportedBodiesFallBackToSerial) {
  Var a("A", DataType::handle()), c("C", DataType::handle());
  Var j("j"), r("r"), n("n");
  // An inner loop.
  Stmt inner = ForNode::make(r, Expr(0), Expr(3), ForKind::kSerial,
                             StoreNode::make(c, f32_load(a, j * 3 + r), j * 3 + r));
  Stmt nested = ForNode::make(j, Expr(0), Expr(4), ForKind::kVectorized, inner);
  // A condition that depends on the lane and is not monotone in it.
  Stmt guarded = ForNode::make(j, Expr(0), Expr(8), ForKind::kVectorized,
                               IfThenElseNode::make(floormod(j, 3) < 2, StoreNode::make(c, f32_load(a, j), j)));
  // if_then_else guarding a read must not evaluate the untaken side.
  Stmt padded = ForNode::make(
      j, Expr(0), Expr(8), ForKind::kVectorized,
      StoreNode::make(c, if_then_else(j >= 1, f32_load(a, j - 1), Expr(0.0f)), j));
  // A monotone guard on a let variable bound inside the loop cannot be checked outside it.
  Var x("x");
  Stmt let_guarded = ForNode::make(
      j, Expr(0), Expr(8), ForKind::kVectorized,
      LetStmtNode::make(x, j + 1, IfThenElseNode::make(x < 5, StoreNode::make(c, f32_load(a, j), j))));
  for (const Stmt& input : {nested, guarded, padded, let_guarded}) {
    Stmt output = vectorize_loops(input);
    EXPECT_EQ(count_for(output, ForKind::kVectorized), 0) << output;
    EXPECT_EQ(count_exprs(output, [](const Expr& e) { return e.dtype().is_vector(); }), 0) << output;
    expect_same_results(input, output, {{a, 16}, {c, 16}});
  }
  // A non-constant extent.
  Stmt symbolic = ForNode::make(j, Expr(0), n, ForKind::kVectorized, StoreNode::make(c, f32_load(a, j), j));
  const auto* loop = vectorize_loops(symbolic).as<ForNode>();
  ASSERT_NE(loop, nullptr);
  EXPECT_EQ(loop->for_kind, ForKind::kSerial);
}

// For the LLVM backend (masked_if_then_else) a lane-dependent if_then_else is widened: the code
// generator masks each side's loads by the lanes that take it. Not when a side divides
// integers by a variable (an untaken lane could divide by zero).
TEST(LowerVectorize, IfThenElseIsWidenedWhenLoadsAreMasked) {
  Var a("A", DataType::handle()), c("C", DataType::handle()), d("D", DataType::handle());
  Var j("j");
  Stmt padded = ForNode::make(
      j, Expr(0), Expr(8), ForKind::kVectorized,
      StoreNode::make(c, if_then_else(j >= 1, f32_load(a, j - 1), Expr(0.0f)), j));
  Stmt widened = vectorize_loops(padded, true);
  EXPECT_EQ(count_for(widened, ForKind::kVectorized) + count_for(widened, ForKind::kSerial), 0) << widened;
  EXPECT_EQ(vector_stores(widened, 8), 1) << widened;
  EXPECT_EQ(count_for(vectorize_loops(padded, false), ForKind::kSerial), 1);  // the default (cuda) keeps it serial
  Expr divisor = LoadNode::make(DataType::int32(), d, j);
  Stmt dividing = ForNode::make(
      j, Expr(0), Expr(8), ForKind::kVectorized,
      StoreNode::make(c, if_then_else(divisor != 0, cast(DataType::float32(), Expr(7) / divisor), Expr(0.0f)), j));
  EXPECT_EQ(count_for(vectorize_loops(dividing, true), ForKind::kSerial), 1);
}

// The tail guard of a non-dividing split: vector code where the guard holds on every lane,
// the guarded serial loop elsewhere.
TEST(LowerVectorize, MonotoneGuardGivesVectorAndSerialPaths) {
  Var a("A", DataType::handle()), c("C", DataType::handle());
  Var jo("j.outer"), ji("j.inner"), n("n");
  Expr idx = jo * 4 + ji;
  Expr guard = CallNode::make(DataType::boolean(), Intrinsic::kLikely, {idx < n});
  Stmt input = ForNode::make(
      jo, Expr(0), Expr(3), ForKind::kSerial,
      ForNode::make(ji, Expr(0), Expr(4), ForKind::kVectorized,
                    IfThenElseNode::make(guard, StoreNode::make(c, f32_load(a, idx) + 1.0f, idx))));
  Stmt output = vectorize_loops(input);
  const auto* outer = output.as<ForNode>();
  ASSERT_NE(outer, nullptr) << output;
  const auto* split = outer->body.as<IfThenElseNode>();
  ASSERT_NE(split, nullptr) << output;
  EXPECT_EQ(vector_stores(split->then_case, 4), 1) << output;
  ASSERT_TRUE(split->else_case.defined());
  EXPECT_EQ(count_for(split->else_case, ForKind::kSerial), 1) << output;
  EXPECT_EQ(count_for(output, ForKind::kVectorized), 0);
  for (int64_t n_value : {12, 10, 3, 0}) {
    FlatMemory before, after;
    before.add(a, 12, 7);
    after.add(a, 12, 7);
    before.add(c, 12, 8);
    after.add(c, 12, 8);
    before.scalars = after.scalars = {{n, n_value}};
    before.run(input);
    after.run(output);
    EXPECT_EQ(after.get(c), before.get(c)) << "n = " << n_value;
  }
  // A decreasing guard (j.inner counts down an index) is monotone too.
  Stmt reversed = ForNode::make(ji, Expr(0), Expr(4), ForKind::kVectorized,
                                IfThenElseNode::make(Expr(5) - ji * 2 >= n, StoreNode::make(c, f32_load(a, ji), ji)));
  Stmt reversed_out = vectorize_loops(reversed);
  EXPECT_EQ(vector_stores(reversed_out, 4), 1) << reversed_out;
  for (int64_t n_value : {-1, 0, 2, 4, 6}) {
    FlatMemory before, after;
    before.add(a, 4, 9);
    after.add(a, 4, 9);
    before.add(c, 4, 10);
    after.add(c, 4, 10);
    before.scalars = after.scalars = {{n, n_value}};
    before.run(reversed);
    after.run(reversed_out);
    EXPECT_EQ(after.get(c), before.get(c)) << "n = " << n_value;
  }
}

// Two vectorized loops nested: the inner one is widened, the outer one stays serial.
TEST(LowerVectorize, NestedVectorizedLoopsInnerFirst) {
  Var a("A", DataType::handle()), c("C", DataType::handle());
  Var i("i"), j("j");
  Stmt input = ForNode::make(
      i, Expr(0), Expr(2), ForKind::kVectorized,
      ForNode::make(j, Expr(0), Expr(4), ForKind::kVectorized, StoreNode::make(c, f32_load(a, i * 4 + j) + 1.0f, i * 4 + j)));
  Stmt output = vectorize_loops(input);
  EXPECT_EQ(count_for(output, ForKind::kVectorized), 0) << output;
  EXPECT_EQ(vector_stores(output, 4), 1) << output;
  expect_same_results(input, output, {{a, 8}, {c, 8}});
}

TEST(LowerVectorize, TooManyLanesIsAnErrorNamingTheLimit) {
  Var c("C", DataType::handle());
  Var j("j.inner");
  Stmt input = ForNode::make(j, Expr(0), Expr(128), ForKind::kVectorized,
                             StoreNode::make(c, Expr(1.0f), j));
  EXPECT_TE_ERROR(vectorize_loops(input), "vectorize", "j.inner", "stage C", "128", "64");
}

}  // namespace
}  // namespace te
