// Domain pass-down and index pass-up through split/fuse relations (see message_passing.h).
#include "schedule/message_passing.h"

#include <climits>

#include "te/expr_ops.h"

namespace te {

namespace {

// ceil(a / b) for a non-negative extent and a positive constant b; folded when a is constant
// so that divisible constant cases never depend on the simplifier.
Expr ceildiv_extent(const Expr& a, int64_t b) {
  if (const int64_t* c = as_const_int(a)) return make_const(a.dtype(), double((*c + b - 1) / b));
  Expr divisor = make_const(a.dtype(), double(b));
  return simplify(floordiv(a + divisor - make_const(a.dtype(), 1), divisor));
}

Expr mul_extents(const Expr& a, const Expr& b) {
  const int64_t* ca = as_const_int(a);
  const int64_t* cb = as_const_int(b);
  if (ca && cb) return make_const(a.dtype(), double(*ca * *cb));
  return simplify(a * b);
}

}  // namespace

std::vector<IterVar> root_iter_vars(const StageNode& stage) {
  std::vector<IterVar> roots;
  if (const auto* compute = stage.op.as<ComputeOpNode>()) {
    roots = compute->axis;
    roots.insert(roots.end(), compute->reduce_axis.begin(), compute->reduce_axis.end());
  }
  return roots;
}

bool is_reduce_root(const StageNode& stage, const IterVarNode* iv) {
  if (const auto* compute = stage.op.as<ComputeOpNode>())
    for (const IterVar& r : compute->reduce_axis)
      if (r.get() == iv) return true;
  return false;
}

const Range& bound_of(const BoundMap& bounds, const IterVar& iv, const StageNode& stage) {
  auto it = bounds.find(iv.get());
  TE_ICHECK(it != bounds.end(), "no bound for axis ", iv->var.name(), " of stage ", stage.op->name);
  return it->second;
}

void pass_down_domain(const StageNode& stage, BoundMap* bounds) {
  for (const IterVarRelation& rel : stage.relations) {
    if (rel.kind == IterVarRelation::kSplit) {
      const Range& parent = bound_of(*bounds, rel.parent, stage);
      DataType t = parent.extent.dtype();
      Expr zero = make_zero(t);
      const int64_t* const_extent = as_const_int(parent.extent);
      int64_t divisor = rel.factor > 0 ? rel.factor : rel.nparts;
      if (const_extent && divisor >= *const_extent) {
        // A factor (or nparts) at least the extent: one part holds everything, so the loop
        // runs the extent instead of a mostly-guarded `divisor` iterations.
        Expr one = make_const(t, 1);
        (*bounds)[rel.outer.get()] = Range(zero, rel.factor > 0 ? one : parent.extent);
        (*bounds)[rel.inner.get()] = Range(zero, rel.factor > 0 ? parent.extent : one);
      } else if (rel.factor > 0) {
        (*bounds)[rel.outer.get()] = Range(zero, ceildiv_extent(parent.extent, rel.factor));
        (*bounds)[rel.inner.get()] = Range(zero, make_const(t, double(rel.factor)));
      } else {
        TE_ICHECK(rel.nparts > 0, "split of ", rel.parent->var.name(), " in stage ", stage.op->name,
                  " has neither factor nor nparts");
        (*bounds)[rel.outer.get()] = Range(zero, make_const(t, double(rel.nparts)));
        (*bounds)[rel.inner.get()] = Range(zero, ceildiv_extent(parent.extent, rel.nparts));
      }
    } else {
      const Range& outer = bound_of(*bounds, rel.outer, stage);
      const Range& inner = bound_of(*bounds, rel.inner, stage);
      // In the fused variable's type (int64 when Stage::fuse saw the product exceed int32).
      DataType t = rel.fused->var.dtype();
      auto in_type = [&](const Expr& e) {
        if (e.dtype() == t) return e;
        const int64_t* c = as_const_int(e);
        return c ? make_const(t, double(*c)) : CastNode::make(t, e);
      };
      Expr a = in_type(outer.extent), b = in_type(inner.extent);
      const int64_t *ca = as_const_int(a), *cb = as_const_int(b);
      if (ca && cb && t.bits < 64 && *cb != 0 && *ca > (t.is_int() ? INT32_MAX : UINT32_MAX) / *cb)
        fail("fuse: the fused axis ", rel.fused->var.name(), " of stage ", stage.op->name, " has ", *ca, " x ", *cb,
             " = ", *ca * *cb, " iterations, beyond its ", t.str(), " loop variable; fuse fewer axes, or split "
             "first so that each fused part stays below 2^31");
      (*bounds)[rel.fused.get()] = Range(make_zero(t), mul_extents(a, b));
    }
  }
}

IterVarValueMap pass_up_offsets(const StageNode& stage, const BoundMap& bounds, const IterVarValueMap& leaf_offsets) {
  IterVarValueMap offsets = leaf_offsets;
  for (auto it = stage.relations.rbegin(); it != stage.relations.rend(); ++it) {
    const IterVarRelation& rel = *it;
    if (rel.kind == IterVarRelation::kSplit) {
      auto outer = offsets.find(rel.outer.get());
      auto inner = offsets.find(rel.inner.get());
      if (outer == offsets.end() || inner == offsets.end()) continue;
      const Expr& inner_extent = bound_of(bounds, rel.inner, stage).extent;
      offsets[rel.parent.get()] = outer->second * inner_extent + inner->second;
    } else {
      auto fused = offsets.find(rel.fused.get());
      if (fused == offsets.end()) continue;
      Expr inner_extent = bound_of(bounds, rel.inner, stage).extent;
      Expr value = fused->second;
      // A 64-bit fused variable over 32-bit axes: divide in 64 bits, then each part (within
      // its own axis's extent) back in its own type.
      auto narrow = [](const Expr& e, const IterVar& iv) {
        return e.dtype() == iv->var.dtype() ? e : CastNode::make(iv->var.dtype(), e);
      };
      if (inner_extent.dtype() != value.dtype()) {
        const int64_t* c = as_const_int(inner_extent);
        inner_extent = c ? make_const(value.dtype(), double(*c)) : CastNode::make(value.dtype(), inner_extent);
      }
      if (is_one(inner_extent)) {
        offsets[rel.outer.get()] = narrow(value, rel.outer);
        offsets[rel.inner.get()] = make_zero(rel.inner->var.dtype());
      } else {
        offsets[rel.outer.get()] = narrow(floordiv(value, inner_extent), rel.outer);
        offsets[rel.inner.get()] = narrow(floormod(value, inner_extent), rel.inner);
      }
    }
  }
  return offsets;
}

IterVarValueMap pass_up_index(const StageNode& stage, const BoundMap& bounds,
                              const IterVarValueMap& leaf_offsets, const VarRangeMap& ranges) {
  IterVarValueMap offsets = pass_up_offsets(stage, bounds, leaf_offsets);
  IterVarValueMap roots;
  for (const IterVar& root : root_iter_vars(stage)) {
    auto it = offsets.find(root.get());
    if (it == offsets.end()) continue;
    const Range& range = bound_of(bounds, root, stage);
    Expr index = is_zero(range.min) ? it->second : it->second + range.min;
    roots[root.get()] = simplify(index, ranges);
  }
  return roots;
}

bool split_is_exact(const IterVarRelation& rel, const BoundMap& bounds) {
  auto it = bounds.find(rel.parent.get());
  if (it == bounds.end()) return false;
  const Expr& extent = it->second.extent;
  int64_t divisor = rel.factor > 0 ? rel.factor : rel.nparts;
  if (divisor == 1) return true;
  if (const int64_t* c = as_const_int(extent)) return *c % divisor == 0 || divisor >= *c;
  Expr remainder = simplify(floormod(extent, make_const(extent.dtype(), double(divisor))));
  return is_zero(remainder);
}

RootSourceMap root_sources(const StageNode& stage) {
  RootSourceMap sources;
  for (const IterVar& root : root_iter_vars(stage)) sources[root.get()] = {root.get()};
  for (const IterVarRelation& rel : stage.relations) {
    if (rel.kind == IterVarRelation::kSplit) {
      std::vector<const IterVarNode*> parent = sources[rel.parent.get()];
      sources[rel.outer.get()] = parent;
      sources[rel.inner.get()] = parent;
    } else {
      std::vector<const IterVarNode*> fused = sources[rel.outer.get()];
      for (const IterVarNode* r : sources[rel.inner.get()]) fused.push_back(r);
      sources[rel.fused.get()] = fused;
    }
  }
  return sources;
}

std::vector<Expr> split_tail_conditions(const StageNode& stage, const BoundMap& bounds,
                                        const IterVarValueMap& offsets, bool include_reduce) {
  std::vector<Expr> conds;
  RootSourceMap sources = root_sources(stage);
  for (const IterVarRelation& rel : stage.relations) {
    if (rel.kind != IterVarRelation::kSplit || split_is_exact(rel, bounds)) continue;
    auto offset = offsets.find(rel.parent.get());
    if (offset == offsets.end()) continue;
    bool reduce = false;
    for (const IterVarNode* root : sources[rel.parent.get()]) reduce = reduce || is_reduce_root(stage, root);
    if (reduce && !include_reduce) continue;
    conds.push_back(offset->second < bound_of(bounds, rel.parent, stage).extent);
  }
  return conds;
}

std::unordered_set<const IterVarNode*> roots_with_tail(const StageNode& stage, const BoundMap& bounds) {
  RootSourceMap sources = root_sources(stage);
  std::unordered_set<const IterVarNode*> tails;
  for (const IterVarRelation& rel : stage.relations) {
    if (rel.kind != IterVarRelation::kSplit || split_is_exact(rel, bounds)) continue;
    for (const IterVarNode* r : sources[rel.parent.get()]) tails.insert(r);
  }
  return tails;
}

}  // namespace te
