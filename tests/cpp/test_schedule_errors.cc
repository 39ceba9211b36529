// Every user error of the schedule primitives: a te::Error whose message names the stage and
// the axis, and a rejected call that leaves the schedule (leaves, relations, steps) untouched.
#include "test_util.h"

namespace te {
namespace {

// C[i, j] = sum_k P[i, k] * B[k, j], P = A + 1, D = C * 2.
struct Graph {
  Tensor A = placeholder({6, 8}, DataType::float32(), "A");
  Tensor B = placeholder({8, 5}, DataType::float32(), "B");
  Tensor P = compute({6, 8}, [&](const std::vector<Var>& i) { return A(i[0], i[1]) + 1.0f; }, "P");
  IterVar k = reduce_axis(Range(0, 8), "k");
  Tensor C = compute({6, 5}, [&](const std::vector<Var>& i) { return sum(P(i[0], k) * B(k, i[1]), {k}); }, "C");
  Tensor D = compute({6, 5}, [&](const std::vector<Var>& i) { return C(i[0], i[1]) * 2.0f; }, "D");
  Schedule s = create_schedule({D.op()});
  IterVar ci = C.op().as<ComputeOpNode>()->axis[0];
  IterVar cj = C.op().as<ComputeOpNode>()->axis[1];
  IterVar di = D.op().as<ComputeOpNode>()->axis[0];
  IterVar pi = P.op().as<ComputeOpNode>()->axis[0];
};

std::string leaf_names(const Stage& st) {
  std::string out;
  for (const IterVar& iv : st->leaf_iter_vars) out += iv.var().name() + " ";
  return out;
}

TEST(ScheduleErrors, SplitNonLeaf) {
  Graph g;
  Stage c = g.s[g.C];
  c.split(g.cj, 2);
  EXPECT_TE_ERROR(c.split(g.cj, 2), "split: axis j is not a leaf axis of stage C", "leaves: i, j.outer, j.inner, k");
  EXPECT_TE_ERROR(c.split(g.di, 2), "split: axis i is not a leaf axis of stage C");  // D's axis
  EXPECT_TE_ERROR(c.split(IterVar(), 2), "split", "undefined");
  EXPECT_EQ(g.s.steps().size(), 1u);
}

TEST(ScheduleErrors, SplitFactor) {
  Graph g;
  Stage c = g.s[g.C];
  EXPECT_TE_ERROR(c.split(g.ci, 0), "split", "factor", "axis i", "stage C", ">= 1");
  EXPECT_TE_ERROR(c.split_nparts(g.ci, -3), "split_nparts", "nparts", "axis i", "stage C", ">= 1");
  EXPECT_TE_ERROR(c.tile(g.ci, g.cj, 4, 0), "tile", "y_factor", ">= 1");
  EXPECT_EQ(leaf_names(c), "i j k ");  // a rejected tile splits nothing
  EXPECT_TRUE(g.s.steps().empty());
}

TEST(ScheduleErrors, Fuse) {
  Graph g;
  Stage c = g.s[g.C];
  EXPECT_TE_ERROR(c.fuse(g.ci, g.k), "fuse: axes i and k of stage C are not adjacent leaves");
  EXPECT_TE_ERROR(c.fuse(g.cj, g.ci), "fuse: axes j and i of stage C are not adjacent leaves");
  EXPECT_TE_ERROR(c.fuse(g.cj, g.k), "fuse", "j", "k", "stage C", "reduction");
  EXPECT_TE_ERROR(c.tile(g.ci, g.ci, 2, 2), "tile", "same axis i", "stage C");
  EXPECT_EQ(leaf_names(c), "i j k ");
  EXPECT_TRUE(c->relations.empty());
}

TEST(ScheduleErrors, Reorder) {
  Graph g;
  Stage c = g.s[g.C];
  EXPECT_TE_ERROR(c.reorder({g.k, g.ci, g.k}), "reorder", "axis k appears twice", "stage C");
  EXPECT_TE_ERROR(c.reorder({g.k, g.di}), "reorder: axis i is not a leaf axis of stage C");
  c.split(g.ci, 2);
  EXPECT_TE_ERROR(c.reorder({g.k, g.ci}), "reorder: axis i is not a leaf axis of stage C", "already split");
  EXPECT_EQ(leaf_names(c), "i.outer i.inner j k ");
}

TEST(ScheduleErrors, Annotations) {
  Graph g;
  Stage c = g.s[g.C];
  EXPECT_TE_ERROR(c.vectorize(g.k),
                  "vectorize: axis k of stage C is a reduction axis; vectorize a data-parallel axis, or rfactor first");
  EXPECT_TE_ERROR(c.parallel(g.k), "parallel: axis k of stage C is a reduction axis");
  EXPECT_TE_ERROR(c.vectorize(g.di), "vectorize: axis i is not a leaf axis of stage C");
  EXPECT_TE_ERROR(c.unroll(g.di), "unroll: axis i is not a leaf axis of stage C");
  EXPECT_TE_ERROR(c.bind(g.ci, g.cj), "bind", "axis i", "stage C", "thread axis", "got j");
  EXPECT_TE_ERROR(c.bind(g.di, thread_axis("threadIdx.x")), "bind: axis i is not a leaf axis of stage C");
  EXPECT_TE_ERROR(c.pragma(g.ci, "unroll_explicit", Var("x")), "pragma", "unroll_explicit", "axis i", "stage C",
                  "constant integer");
  EXPECT_TRUE(c->iter_var_attrs.empty());
  EXPECT_TRUE(g.s.steps().empty());
}

TEST(ScheduleErrors, ComputeAt) {
  Graph g;
  EXPECT_TE_ERROR(g.s[g.C].compute_at(g.s[g.C], g.ci), "compute_at", "stage C", "itself");
  EXPECT_TE_ERROR(g.s[g.D].compute_at(g.s[g.C], g.ci), "compute_at", "stage D", "output");
  EXPECT_TE_ERROR(g.s[g.C].compute_at(g.s[g.D], g.ci), "compute_at: axis i is not a leaf axis of stage D");
  EXPECT_TE_ERROR(g.s[g.C].compute_at(g.s[g.P], g.pi), "compute_at", "stage P does not read C", "consumers");
  EXPECT_TE_ERROR(g.s[g.A].compute_at(g.s[g.P], g.pi), "compute_at", "stage A", "placeholder");
  EXPECT_EQ(g.s[g.C]->attach_type, AttachType::kRoot);
  EXPECT_EQ(g.s[g.P]->attach_type, AttachType::kRoot);
  // D reads P through C, so P may be attached in D (a shared tile read through wmma fragments
  // computed inside the same loop); with C computed at root, bound inference refuses it.
  g.s[g.P].compute_at(g.s[g.D], g.di);
  EXPECT_TE_ERROR(lower(g.s, {g.A, g.B, g.D}, "f"), "compute_at", "stage P is also read by stage C",
                  "would not exist where C reads it");
}

TEST(ScheduleErrors, ComputeInline) {
  Graph g;
  EXPECT_TE_ERROR(g.s[g.C].compute_inline(), "compute_inline", "stage C", "reduction");
  EXPECT_TE_ERROR(g.s[g.D].compute_inline(), "compute_inline", "stage D", "output");
  EXPECT_TE_ERROR(g.s[g.A].compute_inline(), "compute_inline", "stage A", "placeholder");
  Stage c = g.s[g.C];
  auto [io, ii] = c.split(g.ci, 2);
  g.s[g.P].compute_at(c, io);
  EXPECT_TE_ERROR(g.s[g.C].compute_inline(), "compute_inline");
}

TEST(ScheduleErrors, CacheRead) {
  Graph g;
  EXPECT_TE_ERROR(g.s.cache_read(g.P, "shared", {g.D.op()}), "cache_read: reader D does not read tensor P");
  EXPECT_TE_ERROR(g.s.cache_read(g.P, "shared", {}), "cache_read", "no readers", "P");
  EXPECT_TE_ERROR(g.s.cache_read(g.P, "", {g.C.op()}), "cache_read", "scope", "P");
  Tensor other = placeholder({3}, DataType::float32(), "Other");
  EXPECT_TE_ERROR(g.s.cache_read(other, "shared", {g.C.op()}), "cache_read", "Other", "not produced");
  EXPECT_EQ(g.s.stages().size(), 5u);
  EXPECT_TRUE(g.s.steps().empty());
}

TEST(ScheduleErrors, CacheWrite) {
  Graph g;
  g.s[g.C].split(g.ci, 2);
  EXPECT_TE_ERROR(g.s.cache_write(g.C, "local"),
                  "cache_write: stage C already has a schedule; call cache_write before split/reorder/");
  Graph h;
  h.s[h.C].reorder({h.cj, h.ci});
  EXPECT_TE_ERROR(h.s.cache_write(h.C, "local"), "cache_write: stage C already has a schedule");
  Graph u;
  EXPECT_TE_ERROR(u.s.cache_write(u.A, "local"), "cache_write", "stage A", "placeholder");
  EXPECT_EQ(u.s.stages().size(), 5u);
}

TEST(ScheduleErrors, Rfactor) {
  Graph g;
  EXPECT_TE_ERROR(g.s.rfactor(g.C, g.ci), "rfactor: axis i of stage C is not a reduction axis");
  EXPECT_TE_ERROR(g.s.rfactor(g.D, g.di), "rfactor: stage D is not a reduction");
  EXPECT_TE_ERROR(g.s.rfactor(g.C, g.k, 3), "rfactor", "factor_axis 3", "stage C");
  auto [ko, ki] = g.s[g.C].split(g.k, 2);
  EXPECT_TE_ERROR(g.s.rfactor(g.C, g.k), "rfactor: axis k is not a leaf axis of stage C");
  auto [kio, kii] = g.s[g.C].split(ki, 2);
  EXPECT_TE_ERROR(g.s.rfactor(g.C, kii), "rfactor", "k.inner.inner", "stage C", "not supported");
  EXPECT_TE_ERROR(g.s.rfactor(g.C, ko), "rfactor", "k.inner", "stage C", "split");
  EXPECT_EQ(g.s.stages().size(), 5u);

  Tensor a = placeholder({4, 6}, DataType::float32(), "A");
  IterVar r = reduce_axis(Range(0, 6), "r");
  Reducer argmax(
      [](const std::vector<Expr>& x, const std::vector<Expr>& y) {
        return std::vector<Expr>{select(x[1] >= y[1], x[0], y[0]), max(x[1], y[1])};
      },
      [](const std::vector<DataType>& t) { return std::vector<Expr>{make_const(t[0], -1), min_value(t[1])}; },
      "argmax");
  auto outs = compute_multi({4}, [&](const std::vector<Var>& i) {
    return argmax({Expr(r), a(i[0], r)}, {r});
  }, "M");
  Schedule s = create_schedule({outs[0].op()});
  EXPECT_TE_ERROR(s.rfactor(outs[0], r), "rfactor of a multi-valued reducer is not supported yet");
}

TEST(ScheduleErrors, UnknownOperation) {
  Graph g;
  Tensor other = compute({2}, [&](const std::vector<Var>& i) { return g.A(i[0], 0) * 1.0f; }, "Stranger");
  EXPECT_TE_ERROR(g.s[other], "schedule[]: operation Stranger is not in this schedule", "stages: A, P, B, C, D");
  EXPECT_TE_ERROR(create_schedule({}), "create_schedule", "no output");
}

}  // namespace
}  // namespace te
