// Bound inference: ranges of split/fuse axes (divisible and not), compute_at regions, the
// index pass-up formulas, and the errors for compute_at stages with other readers.
#include "ir/interpreter.h"
#include "ir/simplify.h"
#include "schedule/int_set.h"
#include "schedule/message_passing.h"
#include "test_util.h"

namespace te {
namespace {

int64_t const_of(const Expr& e) {
  Expr s = simplify(e);
  const int64_t* v = as_const_int(s);
  EXPECT_NE(v, nullptr) << "not a constant: " << s;
  return v ? *v : -1;
}

// Value of e with the given variables bound (through the interpreter).
int64_t eval_int(const Expr& e, const std::vector<std::pair<Var, int64_t>>& binds) {
  Interpreter interp;
  for (const auto& [v, x] : binds) interp.bind(v, Value::from_int(v.dtype(), x));
  return interp.eval(e).as_int();
}

Range bound(const BoundMap& bounds, const IterVar& iv) {
  auto it = bounds.find(iv.get());
  if (it == bounds.end()) {
    ADD_FAILURE() << "no bound for " << iv->var.name();
    return Range(Expr(0), Expr(0));
  }
  return it->second;
}

TEST(ScheduleBound, SplitDivisible) {
  Tensor a = placeholder({16}, DataType::float32(), "A");
  Tensor c = compute({16}, [&](const std::vector<Var>& i) { return a(i[0]) * 2.0f; }, "C");
  Schedule s = create_schedule({c.op()});
  auto [outer, inner] = s[c].split(s[c]->leaf_iter_vars[0], 4);
  BoundMap bounds = infer_bound(s);
  EXPECT_EQ(const_of(bound(bounds, outer).extent), 4);
  EXPECT_EQ(const_of(bound(bounds, inner).extent), 4);
  EXPECT_EQ(const_of(bound(bounds, outer).min), 0);
  EXPECT_EQ(const_of(bound(bounds, c.op().as<ComputeOpNode>()->axis[0]).extent), 16);
  EXPECT_TRUE(roots_with_tail(*s[c].get(), bounds).empty());
}

TEST(ScheduleBound, SplitNotDivisible) {
  Tensor a = placeholder({10}, DataType::float32(), "A");
  Tensor c = compute({10}, [&](const std::vector<Var>& i) { return a(i[0]) + 1.0f; }, "C");
  Schedule s = create_schedule({c.op()});
  IterVar i = c.op().as<ComputeOpNode>()->axis[0];
  auto [outer, inner] = s[c].split(i, 4);
  auto [inner_outer, inner_inner] = s[c].split_nparts(inner, 3);
  BoundMap bounds = infer_bound(s);
  EXPECT_EQ(const_of(bound(bounds, outer).extent), 3);  // ceil(10 / 4)
  EXPECT_EQ(const_of(bound(bounds, inner).extent), 4);
  EXPECT_EQ(const_of(bound(bounds, inner_outer).extent), 3);  // nparts
  EXPECT_EQ(const_of(bound(bounds, inner_inner).extent), 2);  // ceil(4 / 3)
  auto tails = roots_with_tail(*s[c].get(), bounds);
  EXPECT_EQ(tails.size(), 1u);
  EXPECT_TRUE(tails.count(i.get()));
}

TEST(ScheduleBound, SymbolicSplit) {
  Var n = var("n");
  Tensor a = placeholder({n}, DataType::float32(), "A");
  Tensor c = compute({n}, [&](const std::vector<Var>& i) { return a(i[0]) + 1.0f; }, "C");
  Schedule s = create_schedule({c.op()});
  auto [outer, inner] = s[c].split(c.op().as<ComputeOpNode>()->axis[0], 8);
  BoundMap bounds = infer_bound(s);
  for (int64_t size : {1, 8, 9, 16, 17}) EXPECT_EQ(eval_int(bound(bounds, outer).extent, {{n, size}}), (size + 7) / 8);
  EXPECT_EQ(const_of(bound(bounds, inner).extent), 8);
  EXPECT_EQ(roots_with_tail(*s[c].get(), bounds).size(), 1u);
}

TEST(ScheduleBound, FuseThenSplit) {
  Tensor a = placeholder({4, 6}, DataType::float32(), "A");
  Tensor c = compute({4, 6}, [&](const std::vector<Var>& i) { return a(i[0], i[1]); }, "C");
  Schedule s = create_schedule({c.op()});
  const auto* op = c.op().as<ComputeOpNode>();
  IterVar fused = s[c].fuse(op->axis[0], op->axis[1]);
  auto [outer, inner] = s[c].split(fused, 5);
  BoundMap bounds = infer_bound(s);
  EXPECT_EQ(const_of(bound(bounds, fused).extent), 24);
  EXPECT_EQ(const_of(bound(bounds, outer).extent), 5);
  EXPECT_EQ(const_of(bound(bounds, inner).extent), 5);
  // The tail of the fused split reaches both roots.
  EXPECT_EQ(roots_with_tail(*s[c].get(), bounds).size(), 2u);
}

TEST(ScheduleBound, PassUpIndexFormulas) {
  Tensor a = placeholder({4, 6}, DataType::float32(), "A");
  Tensor c = compute({4, 6}, [&](const std::vector<Var>& i) { return a(i[0], i[1]); }, "C");
  Schedule s = create_schedule({c.op()});
  const auto* op = c.op().as<ComputeOpNode>();
  IterVar fused = s[c].fuse(op->axis[0], op->axis[1]);
  auto [outer, inner] = s[c].split(fused, 5);
  BoundMap bounds = infer_bound(s);
  const StageNode& stage = *s[c].get();
  VarRangeMap ranges{{outer->var.get(), Range(0, 5)}, {inner->var.get(), Range(0, 5)}};
  IterVarValueMap roots = pass_up_index(stage, bounds, {{outer.get(), outer->var}, {inner.get(), inner->var}}, ranges);
  ASSERT_EQ(roots.size(), 2u);
  for (int64_t o = 0; o < 5; ++o)
    for (int64_t in = 0; in < 5; ++in) {
      int64_t flat = o * 5 + in;
      EXPECT_EQ(eval_int(roots[op->axis[0].get()], {{outer->var, o}, {inner->var, in}}), flat / 6);
      EXPECT_EQ(eval_int(roots[op->axis[1].get()], {{outer->var, o}, {inner->var, in}}), flat % 6);
    }
}

TEST(ScheduleBound, PassUpAddsRootMin) {
  // A compute_at region starting at a non-zero min: the root index is leaf offset + min.
  Tensor a = placeholder({16}, DataType::float32(), "A");
  Tensor b = compute({16}, [&](const std::vector<Var>& i) { return a(i[0]) + 1.0f; }, "B");
  Tensor c = compute({16}, [&](const std::vector<Var>& i) { return b(i[0]) * 2.0f; }, "C");
  Schedule s = create_schedule({c.op()});
  auto [co, ci] = s[c].split(c.op().as<ComputeOpNode>()->axis[0], 4);
  s[b].compute_at(s[c], co);
  IterVar bi = b.op().as<ComputeOpNode>()->axis[0];
  auto [bo, bin] = s[b].split(bi, 2);
  BoundMap bounds = infer_bound(s);
  EXPECT_EQ(const_of(bound(bounds, bi).extent), 4);
  EXPECT_EQ(const_of(bound(bounds, bo).extent), 2);
  IterVarValueMap roots = pass_up_index(*s[b].get(), bounds, {{bo.get(), bo->var}, {bin.get(), bin->var}}, {});
  EXPECT_EQ(eval_int(roots[bi.get()], {{co->var, 3}, {bo->var, 1}, {bin->var, 1}}), 3 * 4 + 1 * 2 + 1);
}

TEST(ScheduleBound, ComputeAtTileRegion) {
  Tensor a = placeholder({16, 16}, DataType::float32(), "A");
  Tensor b = compute({16, 16}, [&](const std::vector<Var>& i) { return a(i[0], i[1]) + 1.0f; }, "B");
  Tensor c = compute({16, 16}, [&](const std::vector<Var>& i) { return b(i[0], i[1]) * 2.0f; }, "C");
  Schedule s = create_schedule({c.op()});
  const auto* cop = c.op().as<ComputeOpNode>();
  auto tiles = s[c].tile(cop->axis[0], cop->axis[1], 4, 8);  // io, jo, ii, ji
  const auto* bop = b.op().as<ComputeOpNode>();

  s[b].compute_at(s[c], tiles[0]);  // at io: rows of the tile, all columns
  BoundMap bounds = infer_bound(s);
  EXPECT_EQ(const_of(bound(bounds, bop->axis[0]).extent), 4);
  EXPECT_EQ(const_of(bound(bounds, bop->axis[1]).extent), 16);
  EXPECT_EQ(eval_int(bound(bounds, bop->axis[0]).min, {{tiles[0]->var, 3}}), 12);
  EXPECT_EQ(const_of(bound(bounds, bop->axis[1]).min), 0);

  s[b].compute_at(s[c], tiles[1]);  // at jo: one 4x8 tile
  bounds = infer_bound(s);
  EXPECT_EQ(const_of(bound(bounds, bop->axis[0]).extent), 4);
  EXPECT_EQ(const_of(bound(bounds, bop->axis[1]).extent), 8);
  EXPECT_EQ(eval_int(bound(bounds, bop->axis[1]).min, {{tiles[1]->var, 1}}), 8);

  s[b].compute_at(s[c], tiles[3]);  // innermost: one point
  bounds = infer_bound(s);
  EXPECT_EQ(const_of(bound(bounds, bop->axis[0]).extent), 1);
  EXPECT_EQ(const_of(bound(bounds, bop->axis[1]).extent), 1);
  EXPECT_EQ(eval_int(bound(bounds, bop->axis[1]).min, {{tiles[1]->var, 1}, {tiles[3]->var, 5}}), 13);
}

TEST(ScheduleBound, ComputeAtStencilUnion) {
  Tensor a = placeholder({17}, DataType::float32(), "A");
  Tensor b = compute({17}, [&](const std::vector<Var>& i) { return a(i[0]) + 1.0f; }, "B");
  Tensor c = compute({16}, [&](const std::vector<Var>& i) { return b(i[0]) + b(i[0] + 1); }, "C");
  Schedule s = create_schedule({c.op()});
  auto [co, ci] = s[c].split(c.op().as<ComputeOpNode>()->axis[0], 4);
  s[b].compute_at(s[c], co);
  BoundMap bounds = infer_bound(s);
  const IterVar& bi = b.op().as<ComputeOpNode>()->axis[0];
  EXPECT_EQ(const_of(bound(bounds, bi).extent), 5);
  EXPECT_EQ(eval_int(bound(bounds, bi).min, {{co->var, 2}}), 8);
}

TEST(ScheduleBound, NestedComputeAtAndReduceAxis) {
  // P at Q's inner loop, Q at R's outer loop; R reduces over Q.
  Tensor a = placeholder({8, 8}, DataType::float32(), "A");
  Tensor p = compute({8, 8}, [&](const std::vector<Var>& i) { return a(i[0], i[1]) * 3.0f; }, "P");
  Tensor q = compute({8, 8}, [&](const std::vector<Var>& i) { return p(i[0], i[1]) + 1.0f; }, "Q");
  IterVar k = reduce_axis(Range(0, 8), "k");
  Tensor r = compute({8}, [&](const std::vector<Var>& i) { return sum(q(i[0], k), {k}); }, "R");
  Schedule s = create_schedule({r.op()});
  const auto* rop = r.op().as<ComputeOpNode>();
  auto [ko, ki] = s[r].split(rop->reduce_axis[0], 4);
  s[q].compute_at(s[r], ko);  // region: row i, columns ko*4 .. ko*4+3
  const auto* qop = q.op().as<ComputeOpNode>();
  s[p].compute_at(s[q], qop->axis[1]);  // one point of Q
  BoundMap bounds = infer_bound(s);
  EXPECT_EQ(const_of(bound(bounds, qop->axis[0]).extent), 1);
  EXPECT_EQ(const_of(bound(bounds, qop->axis[1]).extent), 4);
  EXPECT_EQ(eval_int(bound(bounds, qop->axis[1]).min, {{ko->var, 1}}), 4);
  EXPECT_EQ(const_of(bound(bounds, rop->reduce_axis[0]).extent), 8);
  const auto* pop = p.op().as<ComputeOpNode>();
  EXPECT_EQ(const_of(bound(bounds, pop->axis[0]).extent), 1);
  EXPECT_EQ(const_of(bound(bounds, pop->axis[1]).extent), 1);
  // P's column = Q's column min + Q's loop offset.
  EXPECT_EQ(eval_int(bound(bounds, pop->axis[1]).min, {{ko->var, 1}, {qop->axis[1]->var, 2}}), 6);
}

TEST(ScheduleBound, ComputeAtFusedAxisHasConstantExtent) {
  // Rows touched by 4 consecutive elements of a fused 5x6 loop: 1 or 2 depending on the
  // iteration; the region is widened to the constant 2.
  Tensor a = placeholder({5, 6}, DataType::float32(), "A");
  Tensor b = compute({5, 6}, [&](const std::vector<Var>& i) { return a(i[0], i[1]) * 2.0f; }, "B");
  Tensor c = compute({5, 6}, [&](const std::vector<Var>& i) { return b(i[0], i[1]) - 1.0f; }, "C");
  Schedule s = create_schedule({c.op()});
  IterVar fused = s[c].fuse(c.op().as<ComputeOpNode>()->axis[0], c.op().as<ComputeOpNode>()->axis[1]);
  auto [fo, fi] = s[c].split(fused, 4);
  s[b].compute_at(s[c], fo);
  BoundMap bounds = infer_bound(s);
  const auto* bop = b.op().as<ComputeOpNode>();
  EXPECT_EQ(const_of(bound(bounds, bop->axis[0]).extent), 2);
  EXPECT_EQ(const_of(bound(bounds, bop->axis[1]).extent), 6);
  for (int64_t o = 0; o < 8; ++o) EXPECT_EQ(eval_int(bound(bounds, bop->axis[0]).min, {{fo->var, o}}), o * 4 / 6);
}

TEST(ScheduleBound, ThroughInlinedStage) {
  Tensor a = placeholder({16}, DataType::float32(), "A");
  Tensor p = compute({16}, [&](const std::vector<Var>& i) { return a(i[0]) + 1.0f; }, "P");
  Tensor q = compute({8}, [&](const std::vector<Var>& i) { return p(i[0] * 2) + p(i[0] * 2 + 1); }, "Q");
  Tensor c = compute({8}, [&](const std::vector<Var>& i) { return q(i[0]) * 2.0f; }, "C");
  Schedule s = create_schedule({c.op()});
  s[q].compute_inline();
  auto [co, ci] = s[c].split(c.op().as<ComputeOpNode>()->axis[0], 2);
  s[p].compute_at(s[c], co);
  BoundMap bounds = infer_bound(s);
  const IterVar& pi = p.op().as<ComputeOpNode>()->axis[0];
  EXPECT_EQ(const_of(bound(bounds, pi).extent), 4);
  EXPECT_EQ(eval_int(bound(bounds, pi).min, {{co->var, 3}}), 12);
}

TEST(ScheduleBound, NonAffineFallsBackToFullDomain) {
  Tensor a = placeholder({16}, DataType::float32(), "A");
  Tensor b = compute({16}, [&](const std::vector<Var>& i) { return a(i[0]) + 1.0f; }, "B");
  Tensor c = compute({16}, [&](const std::vector<Var>& i) { return b(floormod(i[0] * i[0], 16)); }, "C");
  Schedule s = create_schedule({c.op()});
  auto [co, ci] = s[c].split(c.op().as<ComputeOpNode>()->axis[0], 4);
  s[b].compute_at(s[c], co);
  BoundMap bounds = infer_bound(s);
  const IterVar& bi = b.op().as<ComputeOpNode>()->axis[0];
  EXPECT_EQ(const_of(bound(bounds, bi).extent), 16);
  EXPECT_EQ(const_of(bound(bounds, bi).min), 0);
}

TEST(ScheduleBound, ComputeAtWithAnotherReaderIsAnError) {
  Tensor a = placeholder({16}, DataType::float32(), "A");
  Tensor p = compute({16}, [&](const std::vector<Var>& i) { return a(i[0]) + 1.0f; }, "P");
  Tensor c = compute({16}, [&](const std::vector<Var>& i) { return p(i[0]) * 2.0f; }, "C");
  Tensor d = compute({16}, [&](const std::vector<Var>& i) { return p(i[0]) + c(i[0]); }, "D");
  Schedule s = create_schedule({d.op()});
  s[p].compute_at(s[c], c.op().as<ComputeOpNode>()->axis[0]);
  EXPECT_TE_ERROR(infer_bound(s), "compute_at", "stage P", "also read by stage D");
}

// A stage read by two stages may be attached at one of them when the other is computed inside
// the same parent at or below the attach point (directly or through another attached stage):
// its region covers both readers (softmax's exp, read by the row sum and the output).
TEST(ScheduleBound, ComputeAtWithAnotherReaderInsideTheSameLoop) {
  for (int variant = 0; variant < 3; ++variant) {
    SCOPED_TRACE(variant);
    Tensor a = placeholder({8, 16}, DataType::float32(), "A");
    Tensor p = compute({8, 16}, [&](const std::vector<Var>& i) { return a(i[0], i[1]) + 1.0f; }, "P");
    IterVar k = reduce_axis(Range(0, 16), "k");
    Tensor sm = compute({8}, [&](const std::vector<Var>& i) { return sum(p(i[0], k), {k}); }, "S");
    Tensor r = compute({8}, [&](const std::vector<Var>& i) { return sm(i[0]) * 0.5f; }, "R");
    Tensor y = compute({8, 16}, [&](const std::vector<Var>& i) { return p(i[0], i[1]) * r(i[0]); }, "Y");
    Schedule s = create_schedule({y.op()});
    const auto* yop = y.op().as<ComputeOpNode>();
    auto [yo, yi] = s[y].split(yop->axis[0], 2);
    s[p].compute_at(s[y], yo);
    if (variant == 0) {  // S at the same loop, R inlined
      s[r].compute_inline();
      s[sm].compute_at(s[y], yo);
    } else if (variant == 1) {  // S at a deeper loop of Y
      s[r].compute_inline();
      s[sm].compute_at(s[y], yi);
    } else {  // S inside R, R at Y's loop
      s[r].compute_at(s[y], yo);
      s[sm].compute_at(s[r], r.op().as<ComputeOpNode>()->axis[0]);
    }
    BoundMap bounds = infer_bound(s);
    const auto* pop = p.op().as<ComputeOpNode>();
    EXPECT_EQ(const_of(bound(bounds, pop->axis[0]).extent), 2);
    EXPECT_EQ(const_of(bound(bounds, pop->axis[1]).extent), 16);
  }
  // The other reader computed outside the attach point: P would not exist where S reads it.
  Tensor a = placeholder({8, 16}, DataType::float32(), "A");
  Tensor p = compute({8, 16}, [&](const std::vector<Var>& i) { return a(i[0], i[1]) + 1.0f; }, "P");
  IterVar k = reduce_axis(Range(0, 16), "k");
  Tensor sm = compute({8}, [&](const std::vector<Var>& i) { return sum(p(i[0], k), {k}); }, "S");
  Tensor y = compute({8, 16}, [&](const std::vector<Var>& i) { return p(i[0], i[1]) * sm(i[0]); }, "Y");
  Schedule s = create_schedule({y.op()});
  auto [yo, yi] = s[y].split(y.op().as<ComputeOpNode>()->axis[0], 2);
  s[p].compute_at(s[y], yi);
  s[sm].compute_at(s[y], yo);
  EXPECT_TE_ERROR(infer_bound(s), "compute_at", "stage P", "also read by stage S", "inside the same loop");
}

TEST(ScheduleBound, EveryIterVarHasARange) {
  Tensor a = placeholder({6, 10}, DataType::float32(), "A");
  IterVar k = reduce_axis(Range(0, 10), "k");
  Tensor c = compute({6}, [&](const std::vector<Var>& i) { return sum(a(i[0], k), {k}); }, "C");
  Schedule s = create_schedule({c.op()});
  const auto* op = c.op().as<ComputeOpNode>();
  auto [ko, ki] = s[c].split(op->reduce_axis[0], 3);
  s[c].reorder({ko, op->axis[0], ki});
  BoundMap bounds = infer_bound(s);
  for (const IterVar& iv : s[c]->all_iter_vars) EXPECT_TRUE(bounds.count(iv.get())) << iv->var.name();
  EXPECT_EQ(const_of(bound(bounds, ko).extent), 4);
}

TEST(ScheduleBound, SharedStorageRelaxesThreadLoops) {
  Tensor a = placeholder({64}, DataType::float32(), "A");
  Tensor b = compute({64}, [&](const std::vector<Var>& i) { return a(i[0]) * 2.0f; }, "B");
  Tensor c = compute({64}, [&](const std::vector<Var>& i) { return b(i[0]) + 1.0f; }, "C");
  Schedule s = create_schedule({c.op()});
  auto [bx, tx] = s[c].split(c.op().as<ComputeOpNode>()->axis[0], 16);
  s[c].bind(bx, thread_axis("blockIdx.x"));
  s[c].bind(tx, thread_axis("threadIdx.x"));
  s[b].compute_at(s[c], tx);
  const IterVar& bi = b.op().as<ComputeOpNode>()->axis[0];
  s[b]->scope = "local";  // private to a thread: one element
  EXPECT_EQ(const_of(bound(infer_bound(s), bi).extent), 1);
  s[b]->scope = "shared";  // shared by the block's threads: the block's 16 elements
  BoundMap bounds = infer_bound(s);
  EXPECT_EQ(const_of(bound(bounds, bi).extent), 16);
  EXPECT_EQ(eval_int(bound(bounds, bi).min, {{bx->var, 2}, {tx->var, 5}}), 32);
  s[b]->scope = "global";  // shared by every block: everything
  EXPECT_EQ(const_of(bound(infer_bound(s), bi).extent), 64);
}

TEST(IntSet, AffineDivModMinMax) {
  Var x("x"), y("y");
  IntSetMap dom{{x.get(), IntSet::interval(Expr(0), Expr(7))}, {y.get(), IntSet::interval(Expr(2), Expr(5))}};
  Range r = eval_set(x * 3 + y - 1, dom).to_range();
  EXPECT_EQ(const_of(r.min), 1);
  EXPECT_EQ(const_of(r.extent), 25);  // [0*3+2-1, 7*3+5-1] = [1, 25]
  r = eval_set(floordiv(x, 4), dom).to_range();
  EXPECT_EQ(const_of(r.extent), 2);
  r = eval_set(floormod(x + 8, 4), dom).to_range();
  EXPECT_EQ(const_of(r.min), 0);
  EXPECT_EQ(const_of(r.extent), 4);
  r = eval_set(0 - x, dom).to_range();
  EXPECT_EQ(const_of(r.min), -7);
  EXPECT_TRUE(eval_set(x * y, dom).is_everything());
  Var z("z");  // not in dom: stays symbolic
  IntSet s = eval_set(z + x, dom);
  EXPECT_EQ(eval_int(s.min, {{z, 10}}), 10);
  EXPECT_EQ(eval_int(s.max, {{z, 10}}), 17);
  r = union_set({eval_set(z + 1, dom), eval_set(z - 1, dom)}).to_range();
  EXPECT_EQ(const_of(r.extent), 3);
}

}  // namespace
}  // namespace te
