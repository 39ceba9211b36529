// Schedule primitives: their effect on stage order, leaf order, relations and attributes, and
// (for the data-flow rewrites cache_read / cache_write / rfactor) that the rewritten compute
// still gives the same numbers as the original, checked with the reference evaluator.
#include "test_util.h"

namespace te {
namespace {

using testing::compare_arrays;
using testing::random_array;

std::vector<std::string> names(const std::vector<IterVar>& axes) {
  std::vector<std::string> out;
  for (const IterVar& iv : axes) out.push_back(iv.var().name());
  return out;
}
using Names = std::vector<std::string>;

std::vector<std::string> stage_names(const Schedule& s) {
  std::vector<std::string> out;
  for (const Stage& st : s.stages()) out.push_back(st.name());
  return out;
}

// C[i, j] = sum_k P[i, k] * B[k, j] with P = A + 1, and D = C * 2.
struct Matmul {
  static constexpr int N = 6, K = 13, M = 5;
  Tensor A = placeholder({N, K}, DataType::float32(), "A");
  Tensor B = placeholder({K, M}, DataType::float32(), "B");
  Tensor P = compute({N, K}, [&](const std::vector<Var>& i) { return A(i[0], i[1]) + 1.0f; }, "P");
  IterVar k = reduce_axis(Range(0, K), "k");
  Tensor C = compute({N, M}, [&](const std::vector<Var>& i) { return sum(P(i[0], k) * B(k, i[1]), {k}); }, "C");
  Tensor D = compute({N, M}, [&](const std::vector<Var>& i) { return C(i[0], i[1]) * 2.0f; }, "D");
  const ComputeOpNode* c_op() const { return C.op().as<ComputeOpNode>(); }
  IterVar ci() const { return c_op()->axis[0]; }
  IterVar cj() const { return c_op()->axis[1]; }

  // The current output of the schedule (stage ops are replaced by cache/rfactor) evaluated
  // by the reference interpreter, compared with the unscheduled D.
  void expect_same_numbers(const Schedule& s) const {
    NDArray a = random_array({N, K}, DataType::float32(), 1);
    NDArray b = random_array({K, M}, DataType::float32(), 2);
    Tensor now = s[D]->op.output(0);
    EXPECT_FALSE(now.op().same_as(D.op())) << "the test expects a rewritten D";
    auto expected = evaluate_reference({A, B}, {a, b}, {D});
    auto actual = evaluate_reference({A, B}, {a, b}, {now});
    EXPECT_EQ(compare_arrays(actual[0], expected[0]), "");
  }
};

TEST(SchedulePrimitives, CreateSchedule) {
  Matmul m;
  Schedule s = create_schedule({m.D.op()});
  EXPECT_EQ(stage_names(s), (Names{"A", "P", "B", "C", "D"}));
  EXPECT_TRUE(s[m.D]->is_output);
  EXPECT_FALSE(s[m.C]->is_output);
  EXPECT_TRUE(s[m.A]->leaf_iter_vars.empty());
  EXPECT_EQ(names(s[m.C]->leaf_iter_vars), (Names{"i", "j", "k"}));
  EXPECT_EQ(names(s[m.C]->all_iter_vars), (Names{"i", "j", "k"}));
  EXPECT_TRUE(s[m.C]->origin_op.same_as(m.C.op()));
  EXPECT_EQ(s[m.C]->attach_type, AttachType::kRoot);
  EXPECT_EQ(s[m.C]->schedule, s.get());
  EXPECT_TRUE(s.steps().empty());
}

TEST(SchedulePrimitives, SplitReplacesTheLeaf) {
  Matmul m;
  Schedule s = create_schedule({m.D.op()});
  Stage c = s[m.C];
  auto [jo, ji] = c.split(m.cj(), 4);
  EXPECT_EQ(names(c->leaf_iter_vars), (Names{"i", "j.outer", "j.inner", "k"}));
  EXPECT_EQ(names(c->all_iter_vars), (Names{"i", "j", "k", "j.outer", "j.inner"}));
  ASSERT_EQ(c->relations.size(), 1u);
  const IterVarRelation& rel = c->relations[0];
  EXPECT_EQ(rel.kind, IterVarRelation::kSplit);
  EXPECT_TRUE(rel.parent.same_as(m.cj()));
  EXPECT_TRUE(rel.outer.same_as(jo));
  EXPECT_TRUE(rel.inner.same_as(ji));
  EXPECT_EQ(rel.factor, 4);
  EXPECT_EQ(rel.nparts, 0);
  EXPECT_EQ(jo.type(), IterVarType::kDataPar);
  EXPECT_FALSE(jo.dom().extent.defined());  // bound inference decides

  auto [ko, ki] = c.split_nparts(m.k, 3);
  EXPECT_EQ(ko.type(), IterVarType::kCommReduce);
  EXPECT_EQ(ki.type(), IterVarType::kCommReduce);
  EXPECT_EQ(c->relations.back().nparts, 3);
  EXPECT_EQ(c->relations.back().factor, 0);
  EXPECT_EQ(names(c->leaf_iter_vars), (Names{"i", "j.outer", "j.inner", "k.outer", "k.inner"}));
  ASSERT_EQ(s.steps().size(), 2u);
  EXPECT_EQ(s.steps()[0].primitive, "split");
  EXPECT_EQ(s.steps()[0].stage, 3);
  EXPECT_EQ(s.steps()[0].iters, std::vector<int>{1});
  EXPECT_EQ(s.steps()[1].primitive, "split_nparts");
  EXPECT_EQ(s.steps()[1].iters, std::vector<int>{3});
}

TEST(SchedulePrimitives, FuseAndReorder) {
  Matmul m;
  Schedule s = create_schedule({m.D.op()});
  Stage c = s[m.C];
  IterVar fused = c.fuse(m.ci(), m.cj());
  EXPECT_EQ(fused.var().name(), "i.j.fused");
  EXPECT_EQ(fused.type(), IterVarType::kDataPar);
  EXPECT_EQ(names(c->leaf_iter_vars), (Names{"i.j.fused", "k"}));
  ASSERT_EQ(c->relations.size(), 1u);
  EXPECT_EQ(c->relations[0].kind, IterVarRelation::kFuse);
  EXPECT_TRUE(c->relations[0].fused.same_as(fused));
  EXPECT_TRUE(c->relations[0].outer.same_as(m.ci()));

  Stage d = s[m.D];
  IterVar di = m.D.op().as<ComputeOpNode>()->axis[0], dj = m.D.op().as<ComputeOpNode>()->axis[1];
  auto [io, ii] = d.split(di, 2);
  auto [jo, ji] = d.split(dj, 2);
  // Leaves i.o i.i j.o j.i: ji and io trade their places, the others stay.
  d.reorder({ji, io});
  EXPECT_EQ(names(d->leaf_iter_vars), (Names{"j.inner", "i.inner", "j.outer", "i.outer"}));
  d.reorder({io, jo, ii, ji});
  EXPECT_EQ(names(d->leaf_iter_vars), (Names{"i.outer", "j.outer", "i.inner", "j.inner"}));
}

TEST(SchedulePrimitives, TileIsOneStep) {
  Matmul m;
  Schedule s = create_schedule({m.D.op()});
  Stage c = s[m.C];
  auto t = c.tile(m.ci(), m.cj(), 4, 2);
  EXPECT_EQ(names(c->leaf_iter_vars), (Names{"i.outer", "j.outer", "i.inner", "j.inner", "k"}));
  EXPECT_TRUE(c->leaf_iter_vars[0].same_as(t[0]));
  EXPECT_TRUE(c->leaf_iter_vars[3].same_as(t[3]));
  EXPECT_EQ(c->relations.size(), 2u);
  ASSERT_EQ(s.steps().size(), 1u);
  EXPECT_EQ(s.steps()[0].primitive, "tile");
  EXPECT_EQ(s.steps()[0].ints, (std::vector<int64_t>{4, 2}));
}

TEST(SchedulePrimitives, Annotations) {
  Matmul m;
  Schedule s = create_schedule({m.D.op()});
  Stage c = s[m.C];
  auto [jo, ji] = c.split(m.cj(), 4);
  c.vectorize(ji);
  c.parallel(m.ci());
  c.unroll(m.k);  // unrolling a reduction is fine
  c.pragma(jo, "auto_unroll_max_step", Expr(16));
  EXPECT_EQ(c->iter_var_attrs.at(ji.get()).for_kind, ForKind::kVectorized);
  EXPECT_EQ(c->iter_var_attrs.at(m.ci().get()).for_kind, ForKind::kParallel);
  EXPECT_EQ(c->iter_var_attrs.at(m.k.get()).for_kind, ForKind::kUnrolled);
  ASSERT_EQ(c->iter_var_attrs.at(jo.get()).pragmas.size(), 1u);
  EXPECT_EQ(c->iter_var_attrs.at(jo.get()).pragmas[0].first, "auto_unroll_max_step");

  IterVar tx = thread_axis("threadIdx.x");
  s[m.D].bind(m.D.op().as<ComputeOpNode>()->axis[1], tx);
  const IterVarAttr& bound = s[m.D]->iter_var_attrs.at(m.D.op().as<ComputeOpNode>()->axis[1].get());
  EXPECT_EQ(bound.for_kind, ForKind::kThreadBinding);
  EXPECT_TRUE(bound.bound_thread.same_as(tx));
}

TEST(SchedulePrimitives, Attachment) {
  Matmul m;
  Schedule s = create_schedule({m.D.op()});
  IterVar di = m.D.op().as<ComputeOpNode>()->axis[0];
  s[m.C].compute_at(s[m.D], di);
  EXPECT_EQ(s[m.C]->attach_type, AttachType::kScope);
  EXPECT_EQ(s[m.C]->attach_stage, s[m.D].get());
  EXPECT_TRUE(s[m.C]->attach_ivar.same_as(di));
  s[m.C].compute_root();
  EXPECT_EQ(s[m.C]->attach_type, AttachType::kRoot);
  EXPECT_EQ(s[m.C]->attach_stage, nullptr);
  s[m.P].compute_inline();
  EXPECT_EQ(s[m.P]->attach_type, AttachType::kInline);
}

TEST(SchedulePrimitives, ComputeAtThroughInlinedStage) {
  Tensor a = placeholder({8}, DataType::float32(), "A");
  Tensor b = compute({8}, [&](const std::vector<Var>& i) { return a(i[0]) + 1.0f; }, "B");
  Tensor e = compute({8}, [&](const std::vector<Var>& i) { return b(i[0]) * 3.0f; }, "E");
  Tensor f = compute({8}, [&](const std::vector<Var>& i) { return e(i[0]) - 1.0f; }, "F");
  Schedule s = create_schedule({f.op()});
  s[e].compute_inline();
  s[b].compute_at(s[f], f.op().as<ComputeOpNode>()->axis[0]);  // F reads B through inlined E
  EXPECT_EQ(s[b]->attach_stage, s[f].get());
}

TEST(SchedulePrimitives, CacheReadRedirectsReaders) {
  Matmul m;
  Schedule s = create_schedule({m.D.op()});
  auto [io, ii] = s[m.C].split(m.ci(), 2);  // loop state made before the cache must survive
  Tensor cached = s.cache_read(m.P, "shared", {m.C.op()});
  EXPECT_EQ(cached.name(), "P.shared");
  EXPECT_EQ(stage_names(s), (Names{"A", "P", "P.shared", "B", "C", "D"}));
  EXPECT_EQ(s[cached]->scope, "shared");
  Stage c = s[m.C];
  EXPECT_FALSE(c->op.same_as(m.C.op()));
  EXPECT_TRUE(s[c->op].same_as(c));  // reachable from its current op too
  auto inputs = c->op->input_tensors();
  EXPECT_TRUE(std::find(inputs.begin(), inputs.end(), cached) != inputs.end());
  EXPECT_TRUE(std::find(inputs.begin(), inputs.end(), m.P) == inputs.end());
  const auto* new_c = c->op.as<ComputeOpNode>();
  EXPECT_TRUE(new_c->axis[0].same_as(m.ci()));
  EXPECT_TRUE(new_c->reduce_axis[0].same_as(m.k));
  EXPECT_EQ(names(c->leaf_iter_vars), (Names{"i.outer", "i.inner", "j", "k"}));
  // D read the old C; it now reads the new one.
  EXPECT_TRUE(s[m.D]->op->input_tensors()[0] == c->op.output(0));
  m.expect_same_numbers(s);
  ASSERT_EQ(s.steps().back().primitive, "cache_read");
  EXPECT_EQ(s.steps().back().stage, 1);
  EXPECT_EQ(s.steps().back().readers, std::vector<int>{3});
}

TEST(SchedulePrimitives, CacheWriteMovesTheBody) {
  Matmul m;
  Schedule s = create_schedule({m.D.op()});
  Tensor cache = s.cache_write(m.C, "local");
  EXPECT_EQ(stage_names(s), (Names{"A", "P", "B", "C.local", "C", "D"}));
  Stage cs = s[cache];
  EXPECT_EQ(cs->scope, "local");
  const auto* cache_op = cs->op.as<ComputeOpNode>();
  ASSERT_EQ(cache_op->reduce_axis.size(), 1u);
  EXPECT_FALSE(cache_op->reduce_axis[0].same_as(m.k));  // fresh axes: scheduled on its own
  EXPECT_FALSE(cache_op->axis[0].same_as(m.ci()));
  EXPECT_EQ(names(cs->leaf_iter_vars), (Names{"i", "j", "k"}));
  Stage c = s[m.C];
  const auto* copy = c->op.as<ComputeOpNode>();
  EXPECT_TRUE(copy->reduce_axis.empty());
  EXPECT_TRUE(copy->axis[0].same_as(m.ci()));  // the user's axis handles stay valid
  EXPECT_EQ(names(c->leaf_iter_vars), (Names{"i", "j"}));
  EXPECT_TRUE(c->op->input_tensors()[0] == cache);
  c.split(m.ci(), 2);
  cs.split(cache_op->reduce_axis[0], 4);
  m.expect_same_numbers(s);
}

TEST(SchedulePrimitives, CacheWriteMultiOutput) {
  Tensor a = placeholder({4}, DataType::float32(), "A");
  auto outs = compute_multi({4}, [&](const std::vector<Var>& i) {
    return std::vector<Expr>{a(i[0]) + 1.0f, a(i[0]) * 2.0f};
  }, "M");
  Schedule s = create_schedule({outs[0].op()});
  Tensor cache = s.cache_write(outs[1], "local");
  EXPECT_EQ(cache->value_index, 1);
  EXPECT_EQ(s[cache]->op->num_outputs(), 2);
  EXPECT_EQ(s[outs[0]]->op->num_outputs(), 2);
}

// sum over k (extent 13) split by `factor`, rfactor on one half; numbers must not change.
void check_rfactor(int64_t factor, bool inner, int factor_axis) {
  SCOPED_TRACE(::testing::Message() << "factor " << factor << " inner " << inner << " factor_axis " << factor_axis);
  Matmul m;
  Schedule s = create_schedule({m.D.op()});
  auto [ko, ki] = s[m.C].split(m.k, factor);
  Tensor rf = s.rfactor(m.C, inner ? ki : ko, factor_axis);
  EXPECT_EQ(rf.name(), "C.rf");
  EXPECT_EQ(stage_names(s), (Names{"A", "P", "B", "C.rf", "C", "D"}));
  ASSERT_EQ(rf.ndim(), 3);
  int64_t expected_extent = inner ? factor : (Matmul::K + factor - 1) / factor;
  const int64_t* extent = as_const_int(rf.shape()[factor_axis]);
  ASSERT_NE(extent, nullptr);
  EXPECT_EQ(*extent, expected_extent);
  const auto* rf_op = s[rf]->op.as<ComputeOpNode>();
  ASSERT_EQ(rf_op->reduce_axis.size(), 1u);
  EXPECT_EQ(rf_op->reduce_axis[0].var().name(), inner ? "k.outer" : "k.inner");
  const auto* c_op = s[m.C]->op.as<ComputeOpNode>();
  ASSERT_EQ(c_op->reduce_axis.size(), 1u);
  EXPECT_EQ(names(s[m.C]->leaf_iter_vars), (Names{"i", "j", inner ? "k.inner.v" : "k.outer.v"}));
  EXPECT_TRUE(s[m.C]->relations.empty());
  m.expect_same_numbers(s);
}

TEST(SchedulePrimitives, RfactorSplitReduction) {
  check_rfactor(4, true, 0);   // 13 = 4 * 4 - 3: guarded tail
  check_rfactor(4, false, 2);
  check_rfactor(13, true, 1);  // divisible
  check_rfactor(5, false, 0);
}

TEST(SchedulePrimitives, RfactorRootAxisAndSeveralReduceAxes) {
  Tensor a = placeholder({3, 5, 7}, DataType::float32(), "A");
  IterVar r = reduce_axis(Range(0, 5), "r"), q = reduce_axis(Range(0, 7), "q");
  Tensor c = compute({3}, [&](const std::vector<Var>& i) { return sum(a(i[0], r, q), {r, q}); }, "C");
  Schedule s = create_schedule({c.op()});
  Tensor rf = s.rfactor(c, q, 1);
  EXPECT_EQ(rf.ndim(), 2);
  const auto* rf_op = s[rf]->op.as<ComputeOpNode>();
  ASSERT_EQ(rf_op->reduce_axis.size(), 1u);
  EXPECT_EQ(rf_op->reduce_axis[0].var().name(), "r");
  NDArray x = random_array({3, 5, 7}, DataType::float32(), 3);
  auto expected = evaluate_reference({a}, {x}, {c});
  auto actual = evaluate_reference({a}, {x}, {s[c]->op.output(0)});
  EXPECT_EQ(compare_arrays(actual[0], expected[0]), "");
}

TEST(SchedulePrimitives, RfactorOfTheOnlyAxis) {
  Tensor a = placeholder({9}, DataType::float32(), "A");
  IterVar k = reduce_axis(Range(0, 9), "k");
  Tensor c = compute({1}, [&](const std::vector<Var>&) { return sum(a(k), {k}, k < 6); }, "C");
  Schedule s = create_schedule({c.op()});
  Tensor rf = s.rfactor(c, k, 0);
  EXPECT_TRUE(s[rf]->op.as<ComputeOpNode>()->reduce_axis.empty());
  NDArray x = random_array({9}, DataType::float32(), 4);
  auto expected = evaluate_reference({a}, {x}, {c});
  auto actual = evaluate_reference({a}, {x}, {s[c]->op.output(0)});
  EXPECT_EQ(compare_arrays(actual[0], expected[0]), "");
}

}  // namespace
}  // namespace te
