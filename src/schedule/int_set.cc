// Interval evaluation of index expressions (see int_set.h). The rules follow TVM's
// arith::EvalSet, restricted to what bound inference needs: affine arithmetic, division and
// modulo by constants, min/max/select. Anything else that touches a relaxed variable is
// unbounded, which makes bound inference fall back to the producer's full domain.
#include "schedule/int_set.h"

#include "te/expr_ops.h"
#include "te/ir_functor.h"

namespace te {

namespace {

bool uses_any(const Expr& e, const IntSetMap& dom) {
  if (dom.empty()) return false;
  return uses_var(e, [&](const VarNode* v) { return dom.count(v) != 0; });
}

Expr add_bound(const Expr& a, const Expr& b) {
  if (!a.defined() || !b.defined()) return Expr();
  return a + b;
}
Expr sub_bound(const Expr& a, const Expr& b) {
  if (!a.defined() || !b.defined()) return Expr();
  return a - b;
}

// Scales [s.min, s.max] by the constant c.
IntSet scale(const IntSet& s, int64_t c, DataType t) {
  Expr factor = make_const(t, double(c));
  if (c == 0) return IntSet::single_point(make_zero(t));
  Expr lo = s.min.defined() ? s.min * factor : Expr();
  Expr hi = s.max.defined() ? s.max * factor : Expr();
  if (c > 0) return IntSet::interval(lo, hi);
  return IntSet::interval(hi, lo);
}

// Monotone (non-decreasing for c > 0) floor division of an interval by the constant c.
IntSet floordiv_set(const IntSet& s, int64_t c, DataType t) {
  Expr divisor = make_const(t, double(c));
  Expr lo = s.min.defined() ? floordiv(s.min, divisor) : Expr();
  Expr hi = s.max.defined() ? floordiv(s.max, divisor) : Expr();
  if (c > 0) return IntSet::interval(lo, hi);
  return IntSet::interval(hi, lo);
}

bool provably_nonnegative(const IntSet& s) {
  return s.min.defined() && can_prove(s.min >= make_zero(s.min.dtype()));
}

class SetEvaluator {
 public:
  explicit SetEvaluator(const IntSetMap& dom) : dom_(dom) {}

  IntSet eval(const Expr& e) {
    if (!uses_any(e, dom_)) return IntSet::single_point(e);
    if (const auto* v = e.as<VarNode>()) {
      auto it = dom_.find(v);
      return it == dom_.end() ? IntSet::single_point(e) : it->second;
    }
    if (const auto* op = e.as<AddNode>()) {
      IntSet a = eval(op->a), b = eval(op->b);
      if (points(a, b)) return IntSet::single_point(a.min + b.min);
      return IntSet::interval(add_bound(a.min, b.min), add_bound(a.max, b.max));
    }
    if (const auto* op = e.as<SubNode>()) {
      IntSet a = eval(op->a), b = eval(op->b);
      if (points(a, b)) return IntSet::single_point(a.min - b.min);
      return IntSet::interval(sub_bound(a.min, b.max), sub_bound(a.max, b.min));
    }
    if (const auto* op = e.as<MulNode>()) {
      IntSet a = eval(op->a), b = eval(op->b);
      if (points(a, b)) return IntSet::single_point(a.min * b.min);
      if (const int64_t* c = point_const(b)) return scale(a, *c, e.dtype());
      if (const int64_t* c = point_const(a)) return scale(b, *c, e.dtype());
      return IntSet::everything();
    }
    if (e.as<FloorDivNode>() || e.as<DivNode>()) {
      const Expr& lhs = e.as<FloorDivNode>() ? e.as<FloorDivNode>()->a : e.as<DivNode>()->a;
      const Expr& rhs = e.as<FloorDivNode>() ? e.as<FloorDivNode>()->b : e.as<DivNode>()->b;
      IntSet a = eval(lhs), b = eval(rhs);
      bool truncating = e.as<DivNode>() != nullptr;
      if (points(a, b)) return IntSet::single_point(truncating ? truncdiv(a.min, b.min) : floordiv(a.min, b.min));
      const int64_t* c = point_const(b);
      if (!c || *c == 0) return IntSet::everything();
      // Truncation equals floor for non-negative operands only.
      if (truncating && !(*c > 0 && provably_nonnegative(a))) return IntSet::everything();
      return floordiv_set(a, *c, e.dtype());
    }
    if (e.as<FloorModNode>() || e.as<ModNode>()) {
      const Expr& lhs = e.as<FloorModNode>() ? e.as<FloorModNode>()->a : e.as<ModNode>()->a;
      const Expr& rhs = e.as<FloorModNode>() ? e.as<FloorModNode>()->b : e.as<ModNode>()->b;
      IntSet a = eval(lhs), b = eval(rhs);
      bool truncating = e.as<ModNode>() != nullptr;
      if (points(a, b)) return IntSet::single_point(truncating ? truncmod(a.min, b.min) : floormod(a.min, b.min));
      const int64_t* c = point_const(b);
      if (!c || *c <= 0) return IntSet::everything();
      if (truncating && !provably_nonnegative(a)) return IntSet::everything();
      Expr divisor = make_const(e.dtype(), double(*c));
      if (a.is_bounded()) {
        // The whole interval within one period: modulo is a shift, so it stays tight.
        Expr q_lo = simplify(floordiv(a.min, divisor)), q_hi = simplify(floordiv(a.max, divisor));
        if (structural_equal(q_lo, q_hi))
          return IntSet::interval(floormod(a.min, divisor), floormod(a.max, divisor));
      }
      return IntSet::interval(make_zero(e.dtype()), make_const(e.dtype(), double(*c - 1)));
    }
    if (const auto* op = e.as<MinNode>()) {
      IntSet a = eval(op->a), b = eval(op->b);
      Expr lo = (a.min.defined() && b.min.defined()) ? min_of(a.min, b.min) : Expr();
      Expr hi = !a.max.defined() ? b.max : !b.max.defined() ? a.max : min_of(a.max, b.max);
      return IntSet::interval(lo, hi);
    }
    if (const auto* op = e.as<MaxNode>()) {
      IntSet a = eval(op->a), b = eval(op->b);
      Expr lo = !a.min.defined() ? b.min : !b.min.defined() ? a.min : max_of(a.min, b.min);
      Expr hi = (a.max.defined() && b.max.defined()) ? max_of(a.max, b.max) : Expr();
      return IntSet::interval(lo, hi);
    }
    if (const auto* op = e.as<SelectNode>()) {
      return union_set({eval(op->true_value), eval(op->false_value)});
    }
    if (const auto* op = e.as<CallNode>()) {
      if (op->op == Intrinsic::kIfThenElse && op->args.size() == 3)
        return union_set({eval(op->args[1]), eval(op->args[2])});
      return IntSet::everything();
    }
    if (const auto* op = e.as<CastNode>()) {
      // Integer widening keeps the bounds; anything else (narrowing, floats) gives up.
      if (op->dtype.is_integer() && op->value.dtype().is_integer() && op->dtype.bits >= op->value.dtype().bits) {
        IntSet a = eval(op->value);
        return IntSet::interval(a.min.defined() ? cast(op->dtype, a.min) : Expr(),
                                a.max.defined() ? cast(op->dtype, a.max) : Expr());
      }
      return IntSet::everything();
    }
    if (const auto* op = e.as<LetNode>()) {
      return eval(substitute(op->body, {{op->var.get(), op->value}}));
    }
    return IntSet::everything();
  }

 private:
  static bool points(const IntSet& a, const IntSet& b) { return a.is_single_point() && b.is_single_point(); }
  static const int64_t* point_const(const IntSet& s) { return s.is_single_point() ? as_const_int(s.min) : nullptr; }

  const IntSetMap& dom_;
};

}  // namespace

IntSet IntSet::from_range(const Range& range) {
  TE_ICHECK(range.min.defined() && range.extent.defined(), "IntSet::from_range of an undefined range");
  if (is_one(range.extent)) return single_point(range.min);
  return interval(range.min, simplify(range.min + range.extent - make_const(range.extent.dtype(), 1)));
}

Range IntSet::to_range(const VarRangeMap& ranges) const {
  TE_ICHECK(is_bounded(), "IntSet::to_range of an unbounded set");
  Expr lo = simplify(min, ranges);
  if (is_single_point()) return Range(lo, make_const(lo.dtype(), 1));
  Expr extent = simplify(max - min + make_const(min.dtype(), 1), ranges);
  return Range(lo, extent);
}

IntSet eval_set(const Expr& e, const IntSetMap& dom) { return SetEvaluator(dom).eval(e); }

IntSet union_set(const std::vector<IntSet>& sets) {
  TE_ICHECK(!sets.empty(), "union_set of no sets");
  IntSet result = sets[0];
  for (size_t i = 1; i < sets.size(); ++i) {
    const IntSet& s = sets[i];
    if (result.is_single_point() && s.is_single_point() && structural_equal(result.min, s.min)) continue;
    Expr lo = (result.min.defined() && s.min.defined()) ? min_of(result.min, s.min) : Expr();
    Expr hi = (result.max.defined() && s.max.defined()) ? max_of(result.max, s.max) : Expr();
    result = IntSet::interval(lo, hi);
  }
  return result;
}

namespace {
// The constant value of a - b when the simplifier reduces it to one.
const int64_t* const_difference(const Expr& a, const Expr& b, Expr* holder) {
  if (a.dtype() != b.dtype()) return nullptr;
  *holder = simplify(a - b);
  return as_const_int(*holder);
}
}  // namespace

Expr min_of(const Expr& a, const Expr& b) {
  Expr diff;
  if (const int64_t* d = const_difference(a, b, &diff)) return *d <= 0 ? a : b;
  return simplify(min(a, b));
}

Expr max_of(const Expr& a, const Expr& b) {
  Expr diff;
  if (const int64_t* d = const_difference(a, b, &diff)) return *d >= 0 ? a : b;
  return simplify(max(a, b));
}

}  // namespace te
