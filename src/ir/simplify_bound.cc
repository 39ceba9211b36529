// src/ir/simplify_bound.cc — constant bounds of integer expressions by interval arithmetic
// over + - * floordiv floormod div mod min max select cast, with variable ranges taken from
// the simplifier's scope (loop variables, lets, the caller's VarRangeMap).
#include <algorithm>
#include <limits>

#include "ir/simplify_internal.h"

namespace te::simplify_detail {

namespace {

using i128 = __int128;

bool fits64(i128 v) {
  return v >= i128(std::numeric_limits<int64_t>::min()) && v <= i128(std::numeric_limits<int64_t>::max());
}

// Four-corner evaluation of a function monotone in each argument separately.
template <typename F>
Interval corners(const Interval& a, const Interval& b, F f) {
  if (!a.is_bounded() || !b.is_bounded()) return Interval::everything();
  i128 v[4] = {f(a.min, b.min), f(a.min, b.max), f(a.max, b.min), f(a.max, b.max)};
  i128 lo = *std::min_element(v, v + 4), hi = *std::max_element(v, v + 4);
  Interval r;
  if (fits64(lo)) r.has_min = true, r.min = int64_t(lo);
  if (fits64(hi)) r.has_max = true, r.max = int64_t(hi);
  return r;
}

Interval intersect(Interval a, const Interval& b) {
  if (b.has_min && (!a.has_min || b.min > a.min)) a.has_min = true, a.min = b.min;
  if (b.has_max && (!a.has_max || b.max < a.max)) a.has_max = true, a.max = b.max;
  return a;
}

// a / c for a positive constant c, with floor or trunc rounding (both monotone in a).
Interval div_by_positive(const Interval& a, int64_t c, bool floor_kind) {
  Interval r;
  auto div = [&](int64_t x) { return floor_kind ? floor_div(x, c) : x / c; };
  if (a.has_min) r.has_min = true, r.min = div(a.min);
  if (a.has_max) r.has_max = true, r.max = div(a.max);
  return r;
}

Interval bound_div(const Interval& a, const Interval& b, bool floor_kind) {
  if (b.is_point() && b.min > 0) return div_by_positive(a, b.min, floor_kind);
  bool b_positive = b.has_min && b.min > 0, b_negative = b.has_max && b.max < 0;
  if (!b_positive && !b_negative) return Interval::everything();
  return corners(a, b, [&](int64_t x, int64_t y) -> i128 {
    if (y == -1) return -i128(x);
    return floor_kind ? i128(floor_div(x, y)) : i128(x / y);
  });
}

Interval bound_mod(const Interval& a, const Interval& b, bool floor_kind) {
  if (!(b.has_min && b.min > 0)) return Interval::everything();
  bool a_nonneg = a.has_min && a.min >= 0;
  Interval r;
  if (floor_kind || a_nonneg) {
    r = Interval{true, b.has_max, 0, b.has_max ? b.max - 1 : 0};
    if (a_nonneg && a.has_max) r = intersect(r, Interval{false, true, 0, a.max});
    return r;
  }
  if (a.has_max && a.max <= 0) {
    r = Interval{b.has_max, true, b.has_max ? 1 - b.max : 0, 0};
    if (a.has_min) r = intersect(r, Interval{true, false, a.min, 0});
    return r;
  }
  if (b.has_max) r = Interval::of(1 - b.max, b.max - 1);
  if (a.is_bounded()) r = intersect(r, Interval::of(std::min<int64_t>(a.min, 0), std::max<int64_t>(a.max, 0)));
  return r;
}

Interval bound_min_max(const Interval& a, const Interval& b, bool is_min) {
  Interval r;
  if (is_min) {
    if (a.has_min && b.has_min) r.has_min = true, r.min = std::min(a.min, b.min);
    if (a.has_max || b.has_max) {
      r.has_max = true;
      r.max = (a.has_max && b.has_max) ? std::min(a.max, b.max) : (a.has_max ? a.max : b.max);
    }
  } else {
    if (a.has_max && b.has_max) r.has_max = true, r.max = std::max(a.max, b.max);
    if (a.has_min || b.has_min) {
      r.has_min = true;
      r.min = (a.has_min && b.has_min) ? std::max(a.min, b.min) : (a.has_min ? a.min : b.min);
    }
  }
  return r;
}

}  // namespace

Interval interval_add(const Interval& a, const Interval& b) {
  Interval r;
  if (a.has_min && b.has_min) {
    i128 v = i128(a.min) + b.min;
    if (fits64(v)) r.has_min = true, r.min = int64_t(v);
  }
  if (a.has_max && b.has_max) {
    i128 v = i128(a.max) + b.max;
    if (fits64(v)) r.has_max = true, r.max = int64_t(v);
  }
  return r;
}

Interval interval_sub(const Interval& a, const Interval& b) {
  Interval r;
  if (a.has_min && b.has_max) {
    i128 v = i128(a.min) - b.max;
    if (fits64(v)) r.has_min = true, r.min = int64_t(v);
  }
  if (a.has_max && b.has_min) {
    i128 v = i128(a.max) - b.min;
    if (fits64(v)) r.has_max = true, r.max = int64_t(v);
  }
  return r;
}

Interval interval_mul(const Interval& a, const Interval& b) {
  if (a.is_point() && a.min == 0) return a;
  if (b.is_point() && b.min == 0) return b;
  const Interval* scalar = b.is_point() ? &b : (a.is_point() ? &a : nullptr);
  if (scalar) {
    const Interval& other = (scalar == &b) ? a : b;
    int64_t c = scalar->min;
    Interval r;
    auto scaled = [&](int64_t v, int64_t* out) {
      i128 p = i128(v) * c;
      if (!fits64(p)) return false;
      *out = int64_t(p);
      return true;
    };
    int64_t lo, hi;
    if (c > 0) {
      if (other.has_min && scaled(other.min, &lo)) r.has_min = true, r.min = lo;
      if (other.has_max && scaled(other.max, &hi)) r.has_max = true, r.max = hi;
    } else {
      if (other.has_max && scaled(other.max, &lo)) r.has_min = true, r.min = lo;
      if (other.has_min && scaled(other.min, &hi)) r.has_max = true, r.max = hi;
    }
    return r;
  }
  if (a.is_bounded() && b.is_bounded())
    return corners(a, b, [](int64_t x, int64_t y) { return i128(x) * y; });
  // Both non-negative with unknown maxima: at least the product of the minima.
  if (a.has_min && b.has_min && a.min >= 0 && b.min >= 0) {
    i128 v = i128(a.min) * b.min;
    if (fits64(v)) return Interval{true, false, int64_t(v), 0};
  }
  return Interval::everything();
}

Interval interval_intersect(const Interval& a, const Interval& b) { return intersect(a, b); }

Interval interval_union(const Interval& a, const Interval& b) {
  Interval r;
  if (a.has_min && b.has_min) r.has_min = true, r.min = std::min(a.min, b.min);
  if (a.has_max && b.has_max) r.has_max = true, r.max = std::max(a.max, b.max);
  return r;
}

Interval dtype_interval(DataType t) {
  if (t.is_bool()) return Interval::of(0, 1);
  if (t.is_uint()) {
    Interval r{true, t.bits < 64, 0, 0};
    if (t.bits < 64) r.max = dtype_max(t);
    return r;
  }
  if (t.is_int() && t.bits < 32) return Interval::of(dtype_min(t), dtype_max(t));
  return Interval::everything();
}

Interval fit_dtype(const Interval& a, DataType t) {
  if (!(t.is_integer() || t.is_bool())) return Interval::everything();
  if (t.bits >= 64 && t.is_int()) return a;
  // A bound outside the dtype's range means the value may have wrapped: nothing is known.
  bool min_out = a.has_min && (a.min < dtype_min(t) || a.min > dtype_max(t));
  bool max_out = a.has_max && (a.max < dtype_min(t) || a.max > dtype_max(t));
  if (min_out || max_out) return dtype_interval(t);
  return intersect(a, dtype_interval(t));
}

// ---------------------------------------------------------------- expression bounds
Interval Simplifier::var_bound(const VarNode* v) {
  auto cached = var_bounds_.find(v);
  if (cached != var_bounds_.end()) return cached->second;
  Interval r = dtype_interval(v->dtype);
  auto it = ranges_.find(v);
  if (it != ranges_.end() && it->second.min.defined() && it->second.extent.defined()) {
    // Guards against ranges that refer to each other in a cycle.
    var_bounds_[v] = r;
    Interval lo = bound(it->second.min), ext = bound(it->second.extent);
    Interval in_range;
    if (lo.has_min) in_range.has_min = true, in_range.min = lo.min;
    Interval last = interval_sub(interval_add(lo, ext), Interval::point(1));
    if (last.has_max) in_range.has_max = true, in_range.max = last.max;
    r = intersect(r, in_range);
  }
  var_bounds_[v] = r;
  return r;
}

Interval Simplifier::bound(const Expr& e) {
  if (!e.defined() || !e.dtype().is_scalar()) return Interval::everything();
  if (++bound_depth_ > 200) {
    --bound_depth_;
    return Interval::everything();
  }
  Interval r = fit_dtype(bound_uncached(e), e.dtype());
  --bound_depth_;
  return r;
}

Interval Simplifier::bound_uncached(const Expr& e) {
  DataType t = e.dtype();
  if (!(t.is_integer() || t.is_bool())) return Interval::everything();
  switch (e->kind) {
    case ExprKind::IntImm: return Interval::point(e.as<IntImmNode>()->value);
    case ExprKind::Var: {
      const VarNode* v = e.as<VarNode>();
      auto sub = substitutions_.find(v);
      if (sub != substitutions_.end()) return bound(sub->second);
      return var_bound(v);
    }
    case ExprKind::Add: return interval_add(bound(e.as<AddNode>()->a), bound(e.as<AddNode>()->b));
    case ExprKind::Sub: {
      // x - x style correlations are removed by the simplifier before bounds are asked for.
      return interval_sub(bound(e.as<SubNode>()->a), bound(e.as<SubNode>()->b));
    }
    case ExprKind::Mul: return interval_mul(bound(e.as<MulNode>()->a), bound(e.as<MulNode>()->b));
    case ExprKind::Div: return bound_div(bound(e.as<DivNode>()->a), bound(e.as<DivNode>()->b), false);
    case ExprKind::FloorDiv:
      return bound_div(bound(e.as<FloorDivNode>()->a), bound(e.as<FloorDivNode>()->b), true);
    case ExprKind::Mod: return bound_mod(bound(e.as<ModNode>()->a), bound(e.as<ModNode>()->b), false);
    case ExprKind::FloorMod:
      return bound_mod(bound(e.as<FloorModNode>()->a), bound(e.as<FloorModNode>()->b), true);
    case ExprKind::Min: return bound_min_max(bound(e.as<MinNode>()->a), bound(e.as<MinNode>()->b), true);
    case ExprKind::Max: return bound_min_max(bound(e.as<MaxNode>()->a), bound(e.as<MaxNode>()->b), false);
    case ExprKind::Select: {
      const SelectNode* op = e.as<SelectNode>();
      return interval_union(bound(op->true_value), bound(op->false_value));
    }
    case ExprKind::Cast: {
      const CastNode* op = e.as<CastNode>();
      DataType from = op->value.dtype();
      if (from.is_integer() || from.is_bool()) return bound(op->value);  // fit_dtype drops what does not fit
      return dtype_interval(t);
    }
    case ExprKind::Call: {
      const CallNode* op = e.as<CallNode>();
      if (op->op == Intrinsic::kIfThenElse && op->args.size() == 3)
        return interval_union(bound(op->args[1]), bound(op->args[2]));
      if (op->op == Intrinsic::kAbs && op->args.size() == 1) {
        Interval a = bound(op->args[0]);
        if (a.has_min && a.min >= 0) return a;
        if (a.is_bounded() && a.min > std::numeric_limits<int64_t>::min())
          return Interval::of(a.max < 0 ? -a.max : 0, std::max(a.max, -a.min));
        return Interval{true, false, 0, 0};
      }
      return dtype_interval(t);
    }
    case ExprKind::Let: return bound(e.as<LetNode>()->body);
    default: return dtype_interval(t);
  }
}

}  // namespace te::simplify_detail
