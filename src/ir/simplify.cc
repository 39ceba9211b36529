// src/ir/simplify.cc — the simplifier's expression rules and the public entry points.
//
// How it works: Simplifier (declared in simplify_internal.h) is one bottom-up IRMutator.
// Each node's children are simplified first; then its rule runs on the simplified operands:
//   - constants fold with the exact integer semantics of te/ir.h (wraparound, trunc vs floor);
//     floats fold only when both operands are constants (plus x*1, x/1), never changing results;
//   - signed integer + - * go through a linear form (sum of coef*term + constant, like terms
//     merged) and are rebuilt compactly (simplify_fold.cc);
//   - div/mod by a positive constant split off the multiples of the divisor and use variable
//     bounds (simplify_bound.cc) to drop the remainder: floordiv(i*8 + j, 8) -> i when j in [0, 8);
//   - min/max/comparisons are decided from the bounds of a - b.
// Statements (loops, lets, ifs) are handled in simplify_stmt.cc.
#include <numeric>

#include "ir/simplify_internal.h"
#include "te/ir_functor.h"

namespace te {

using namespace simplify_detail;

namespace {

Expr make_binary(ExprKind k, const Expr& a, const Expr& b) {
  switch (k) {
#define TE_MK(K) \
  case ExprKind::K: return BinaryNode<ExprKind::K>::make(a, b);
    TE_MK(Add) TE_MK(Sub) TE_MK(Mul) TE_MK(Div) TE_MK(Mod) TE_MK(FloorDiv) TE_MK(FloorMod)
    TE_MK(Min) TE_MK(Max) TE_MK(EQ) TE_MK(NE) TE_MK(LT) TE_MK(LE) TE_MK(GT) TE_MK(GE)
    TE_MK(And) TE_MK(Or)
#undef TE_MK
    default: TE_ICHECK(false, "make_binary: not a binary kind: ", kind_name(k));
  }
  return Expr();
}

bool is_const_bool(const Expr& e, bool v) {
  const IntImmNode* imm = e.as<IntImmNode>();
  return imm && e.dtype().is_bool() && (imm->value != 0) == v;
}

bool is_float_const(const Expr& e, double v) {
  const double* f = as_const_float(e);
  return f && *f == v;
}

// a - b as a linear form whose coefficients are kept in int64 (not wrapped to a's dtype), so
// that x > INT32_MIN is decided without the difference itself wrapping around. Use it with
// bound_linear(); it cannot be rebuilt with from_linear().
LinearForm difference(const Expr& a, const Expr& b) {
  LinearForm d;
  d.dtype = DataType::int64();
  add_scaled(d, to_linear(a), 1);
  add_scaled(d, to_linear(b), -1);
  return d;
}

// Whether the comparison k of (d vs 0) is decided by d's interval.
std::optional<bool> decide_compare(ExprKind k, const Interval& d) {
  switch (k) {
    case ExprKind::LT:
      if (d.has_max && d.max < 0) return true;
      if (d.has_min && d.min >= 0) return false;
      break;
    case ExprKind::LE:
      if (d.has_max && d.max <= 0) return true;
      if (d.has_min && d.min > 0) return false;
      break;
    case ExprKind::GT:
      if (d.has_min && d.min > 0) return true;
      if (d.has_max && d.max <= 0) return false;
      break;
    case ExprKind::GE:
      if (d.has_min && d.min >= 0) return true;
      if (d.has_max && d.max < 0) return false;
      break;
    case ExprKind::EQ:
      if (d.is_point() && d.min == 0) return true;
      if ((d.has_min && d.min > 0) || (d.has_max && d.max < 0)) return false;
      break;
    case ExprKind::NE:
      if (d.is_point() && d.min == 0) return false;
      if ((d.has_min && d.min > 0) || (d.has_max && d.max < 0)) return true;
      break;
    default: break;
  }
  return std::nullopt;
}

// Interval of a - b from the operands' own intervals (for dtypes without a linear form).
Interval interval_difference(const Interval& a, const Interval& b) { return interval_sub(a, b); }

// Whether offset_max + stride*(lanes - 1) < divisor, without overflow.
bool i128_fits_lanes(int64_t offset_max, int64_t stride, int lanes, int64_t divisor) {
  __int128 last = __int128(offset_max) + __int128(stride) * (lanes - 1);
  return last < divisor;
}

int64_t gcd64(int64_t a, int64_t b) {
  uint64_t x = a < 0 ? 0 - uint64_t(a) : uint64_t(a), y = b < 0 ? 0 - uint64_t(b) : uint64_t(b);
  return int64_t(std::gcd(x, y));
}

}  // namespace

namespace simplify_detail {

// ---------------------------------------------------------------- leaves and dispatch
Expr Simplifier::mutate_node(const VarNode* op, const Expr& self) {
  auto sub = substitutions_.find(op);
  if (sub != substitutions_.end()) return sub->second;
  if (op->dtype.is_int() && op->dtype.is_scalar() && ranges_.count(op)) {
    Interval b = var_bound(op);
    if (b.is_point()) return int_const(op->dtype, b.min);  // a range of extent 1
  }
  return self;
}

#define TE_BINARY_RULE(K)                                                              \
  Expr Simplifier::mutate_node(const K##Node* op, const Expr& self) {                  \
    Expr a = mutate(op->a), b = mutate(op->b);                                          \
    Expr r = rewrite_binary(ExprKind::K, a, b);                                         \
    if (a.same_as(op->a) && b.same_as(op->b) && expr_equal(r, self)) return self;       \
    return r;                                                                           \
  }
TE_BINARY_RULE(Add)
TE_BINARY_RULE(Sub)
TE_BINARY_RULE(Mul)
TE_BINARY_RULE(Div)
TE_BINARY_RULE(Mod)
TE_BINARY_RULE(FloorDiv)
TE_BINARY_RULE(FloorMod)
TE_BINARY_RULE(Min)
TE_BINARY_RULE(Max)
TE_BINARY_RULE(EQ)
TE_BINARY_RULE(NE)
TE_BINARY_RULE(LT)
TE_BINARY_RULE(LE)
TE_BINARY_RULE(GT)
TE_BINARY_RULE(GE)
TE_BINARY_RULE(And)
TE_BINARY_RULE(Or)
#undef TE_BINARY_RULE

Expr Simplifier::rewrite_binary(ExprKind k, const Expr& a, const Expr& b) {
  DataType t = a.dtype();
  const int64_t* ca = as_const_int(a);
  const int64_t* cb = as_const_int(b);
  if (ca && cb) {
    if (auto v = fold_int(k, t, *ca, *cb)) {
      if (is_comparison(k) || k == ExprKind::And || k == ExprKind::Or) return bool_const(*v != 0);
      return int_const(t, *v);
    }
  }
  const double* fa = as_const_float(a);
  const double* fb = as_const_float(b);
  if (fa && fb) {
    if (auto v = fold_float(k, t, *fa, *fb)) {
      if (is_comparison(k)) return bool_const(*v != 0);
      return FloatImmNode::make(t, *v);
    }
  }
  if (t.is_vector()) return rewrite_vector(k, a, b);
  switch (k) {
    case ExprKind::Add:
    case ExprKind::Sub: return rewrite_add_sub(k, a, b);
    case ExprKind::Mul: return rewrite_mul(a, b);
    case ExprKind::Div:
    case ExprKind::Mod:
    case ExprKind::FloorDiv:
    case ExprKind::FloorMod: return rewrite_div_mod(k, a, b);
    case ExprKind::Min:
    case ExprKind::Max: return rewrite_min_max(k, a, b);
    case ExprKind::And:
    case ExprKind::Or: return rewrite_logical(k, a, b);
    default: return rewrite_compare(k, a, b);
  }
}

// ---------------------------------------------------------------- arithmetic
Interval Simplifier::bound_linear(const LinearForm& f) {
  Interval r = Interval::point(f.constant);
  for (const LinearTerm& lt : f.terms) r = interval_add(r, interval_mul(bound(lt.term), Interval::point(lt.coef)));
  return r;
}

Expr Simplifier::rewrite_add_sub(ExprKind k, const Expr& a, const Expr& b) {
  DataType t = a.dtype();
  if (is_linear_dtype(t)) {
    LinearForm f = to_linear(a);
    add_scaled(f, to_linear(b), k == ExprKind::Sub ? -1 : 1);
    return from_linear(std::move(f));
  }
  if (t.is_integer() && is_zero(b)) return a;  // exact for every integer type
  if (t.is_integer() && k == ExprKind::Add && is_zero(a)) return b;
  return make_binary(k, a, b);
}

Expr Simplifier::rewrite_mul(const Expr& a, const Expr& b) {
  DataType t = a.dtype();
  if (is_linear_dtype(t)) {
    const int64_t* ca = as_const_int(a);
    const int64_t* cb = as_const_int(b);
    if (ca || cb) {
      LinearForm f;
      f.dtype = t;
      add_scaled(f, to_linear(ca ? b : a), ca ? *ca : *cb);
      return from_linear(std::move(f));
    }
    // Products of non-constants are terms; a fixed operand order lets x*y and y*x merge, and
    // single-term constant factors move out: (x*2)*(y*3) -> (x*y)*6.
    LinearForm la = to_linear(a), lb = to_linear(b);
    if (la.terms.size() == 1 && la.constant == 0 && lb.terms.size() == 1 && lb.constant == 0 &&
        (la.terms[0].coef != 1 || lb.terms[0].coef != 1)) {
      Expr product = rewrite_mul(la.terms[0].term, lb.terms[0].term);
      LinearForm f;
      f.dtype = t;
      add_term(f, product, int64_t(uint64_t(la.terms[0].coef) * uint64_t(lb.terms[0].coef)));
      return from_linear(std::move(f));
    }
    if (compare_expr(a, b) > 0) return MulNode::make(b, a);
    return MulNode::make(a, b);
  }
  if (t.is_integer()) {
    if (is_one(b)) return a;
    if (is_one(a)) return b;
    if (is_zero(a) || is_zero(b)) return make_zero(t);
  }
  if (t.is_float()) {  // x*1 is exact; x*0 is not 0 (NaN, inf, -0.0)
    if (is_float_const(b, 1.0)) return a;
    if (is_float_const(a, 1.0)) return b;
  }
  return MulNode::make(a, b);
}

Expr Simplifier::rewrite_div_mod(ExprKind k, const Expr& a, const Expr& b) {
  DataType t = a.dtype();
  bool is_div = (k == ExprKind::Div || k == ExprKind::FloorDiv);
  bool floor_kind = (k == ExprKind::FloorDiv || k == ExprKind::FloorMod);
  if (t.is_float()) {
    if (k == ExprKind::Div && is_float_const(b, 1.0)) return a;
    return make_binary(k, a, b);
  }
  const int64_t* cb = as_const_int(b);
  if (!t.is_integer() || !cb || *cb <= 0) return make_binary(k, a, b);
  int64_t c = *cb;
  if (c == 1) return is_div ? a : make_zero(t);
  if (t.is_uint()) return make_binary(k, a, b);  // only constants fold for unsigned types

  // The whole quotient is decided by a's bounds: floordiv(i, 8) -> 0 for i in [0, 8).
  Interval ia = bound(a);
  if (ia.is_bounded()) {
    auto quotient = [&](int64_t x) { return floor_kind ? floor_div(x, c) : x / c; };
    int64_t q = quotient(ia.min);
    if (q == quotient(ia.max)) {
      if (is_div) return int_const(t, q);
      LinearForm f = to_linear(a);
      f.constant = wrap_to(t, f.constant - q * c);
      return from_linear(std::move(f));
    }
  }
  if (floor_kind || (ia.has_min && ia.min >= 0)) {
    // Trunc and floor agree on non-negative dividends.
    return is_div ? divide_linear(k, a, c) : modulo_linear(k, a, c);
  }
  // Trunc division of a possibly negative value: only exact divisions are rewritten.
  if (k == ExprKind::Div) {
    if (const DivNode* inner = a.as<DivNode>()) {
      const int64_t* c1 = as_const_int(inner->b);
      if (c1 && *c1 > 0 && *c1 <= dtype_max(t) / c) return DivNode::make(inner->a, int_const(t, *c1 * c));
    }
  }
  LinearForm f = to_linear(a);
  bool exact = f.constant % c == 0;
  for (const LinearTerm& lt : f.terms) exact = exact && (lt.coef % c == 0);
  if (!exact) return make_binary(k, a, b);
  if (!is_div) return make_zero(t);
  LinearForm q;
  q.dtype = t;
  for (const LinearTerm& lt : f.terms) add_term(q, lt.term, lt.coef / c);
  q.constant = f.constant / c;
  return from_linear(std::move(q));
}

// a / c with floor semantics (k is FloorDiv, or Div with a >= 0), c > 1.
Expr Simplifier::divide_linear(ExprKind k, const Expr& a, int64_t c) {
  DataType t = a.dtype();
  // floordiv(floordiv(x, c1), c) == floordiv(x, c1*c); likewise for trunc Div.
  if (const FloorDivNode* inner = a.as<FloorDivNode>(); inner && k == ExprKind::FloorDiv) {
    const int64_t* c1 = as_const_int(inner->b);
    if (c1 && *c1 > 0 && *c1 <= dtype_max(t) / c) return divide_linear(k, inner->a, *c1 * c);
  }
  if (const DivNode* inner = a.as<DivNode>(); inner && k == ExprKind::Div) {
    // Always true for trunc division, but a >= 0 does not make inner->a >= 0 (-3 / 4 == 0).
    const int64_t* c1 = as_const_int(inner->b);
    if (c1 && *c1 > 0 && *c1 <= dtype_max(t) / c) {
      Interval ix = bound(inner->a);
      if (ix.has_min && ix.min >= 0) return divide_linear(k, inner->a, *c1 * c);
      return DivNode::make(inner->a, int_const(t, *c1 * c));
    }
  }
  LinearForm f = to_linear(a);
  LinearForm quotient, rest;
  quotient.dtype = rest.dtype = t;
  for (const LinearTerm& lt : f.terms) {
    if (lt.coef % c == 0) {
      add_term(quotient, lt.term, lt.coef / c);
    } else {
      add_term(rest, lt.term, lt.coef);
    }
  }
  int64_t k0 = f.constant;
  if (rest.is_constant()) {
    quotient.constant = floor_div(k0, c);
    return from_linear(std::move(quotient));
  }
  Interval rest_bound = bound_linear(rest);
  auto decided = [&](int64_t constant, int64_t divisor) -> std::optional<int64_t> {
    Interval full = interval_add(rest_bound, Interval::point(constant));
    if (!full.is_bounded()) return std::nullopt;
    int64_t q = floor_div(full.min, divisor);
    if (q != floor_div(full.max, divisor)) return std::nullopt;
    return q;
  };
  if (auto q = decided(k0, c)) {
    quotient.constant = *q;
    return from_linear(std::move(quotient));
  }
  // floordiv(x + 9, 8) -> floordiv(x + 1, 8) + 1; a negative constant is left in place.
  if (k0 >= c || (k0 < 0 && floor_mod(k0, c) == 0)) {
    quotient.constant = floor_div(k0, c);
    k0 = floor_mod(k0, c);
  }
  // floordiv(x*4 + 2, 8) -> floordiv(x*2 + 1, 4): divide everything by the common factor.
  int64_t g = gcd64(c, k0);
  for (const LinearTerm& lt : rest.terms) g = gcd64(g, lt.coef);
  if (g > 1) {
    for (LinearTerm& lt : rest.terms) lt.coef /= g;
    k0 /= g;
    c /= g;
    rest_bound = bound_linear(rest);
  }
  rest.constant = k0;
  Expr rest_expr = from_linear(rest);
  Expr residual;
  if (c == 1) {
    residual = rest_expr;
  } else if (k == ExprKind::Div) {
    Interval rb = interval_add(rest_bound, Interval::point(k0));
    residual = (rb.has_min && rb.min >= 0) ? DivNode::make(rest_expr, int_const(t, c))
                                           : FloorDivNode::make(rest_expr, int_const(t, c));
  } else {
    residual = FloorDivNode::make(rest_expr, int_const(t, c));
  }
  add_term(quotient, residual, 1);
  return from_linear(std::move(quotient));
}

// a mod c with floor semantics (k is FloorMod, or Mod with a >= 0), c > 1.
Expr Simplifier::modulo_linear(ExprKind k, const Expr& a, int64_t c) {
  DataType t = a.dtype();
  // floormod(floormod(x, c1), c) == floormod(x, c) when c divides c1.
  if (const FloorModNode* inner = a.as<FloorModNode>()) {
    const int64_t* c1 = as_const_int(inner->b);
    if (c1 && *c1 > 0 && *c1 % c == 0) return modulo_linear(ExprKind::FloorMod, inner->a, c);
  }
  LinearForm f = to_linear(a);
  LinearForm rest;
  rest.dtype = t;
  for (const LinearTerm& lt : f.terms) {
    // Coefficients are reduced to the representative of smallest magnitude: -1 stays -1.
    int64_t r = floor_mod(lt.coef, c);
    if (r > c / 2) r -= c;
    add_term(rest, lt.term, r);
  }
  // A constant already inside (-c, c) is kept as written: floormod(x - 1, 8) stays.
  int64_t k0 = (f.constant > -c && f.constant < c && !rest.is_constant()) ? f.constant : floor_mod(f.constant, c);
  if (rest.is_constant()) return int_const(t, floor_mod(f.constant, c));
  int64_t g = gcd64(c, k0);
  for (const LinearTerm& lt : rest.terms) g = gcd64(g, lt.coef);
  if (g > 1) {
    for (LinearTerm& lt : rest.terms) lt.coef /= g;
    k0 /= g;
    c /= g;
  }
  Interval full = interval_add(bound_linear(rest), Interval::point(k0));
  LinearForm result;
  result.dtype = t;
  if (full.is_bounded() && floor_div(full.min, c) == floor_div(full.max, c)) {
    // The value stays inside one period: floormod(j, 8) -> j for j in [0, 8).
    rest.constant = k0 - floor_div(full.min, c) * c;
    add_scaled(result, rest, g);
    return from_linear(std::move(result));
  }
  rest.constant = k0;
  Expr rest_expr = from_linear(rest);
  bool nonneg = full.has_min && full.min >= 0;
  Expr residual = (k == ExprKind::Mod && nonneg) ? ModNode::make(rest_expr, int_const(t, c))
                                                 : FloorModNode::make(rest_expr, int_const(t, c));
  add_term(result, residual, g);
  return from_linear(std::move(result));
}

Expr Simplifier::rewrite_min_max(ExprKind k, const Expr& a, const Expr& b) {
  DataType t = a.dtype();
  bool is_min = k == ExprKind::Min;
  if (!t.is_integer()) return make_binary(k, a, b);
  Interval d;
  if (is_linear_dtype(t)) {
    LinearForm diff = difference(a, b);
    d = bound_linear(diff);
    if (!facts_.empty()) d = interval_intersect(d, fact_interval(diff));
  } else {
    d = interval_difference(bound(a), bound(b));
  }
  if (d.has_max && d.max <= 0) return is_min ? a : b;  // a <= b
  if (d.has_min && d.min >= 0) return is_min ? b : a;  // a >= b
  // Constants go right, and nested constants merge: min(min(x, 4), 8) -> min(x, 4).
  Expr x = a, y = b;
  if (as_const_int(x) && !as_const_int(y)) std::swap(x, y);
  if (const int64_t* cy = as_const_int(y)) {
    const Expr* inner_a = nullptr;
    const Expr* inner_b = nullptr;
    if (const MinNode* m = x.as<MinNode>(); m && is_min) inner_a = &m->a, inner_b = &m->b;
    if (const MaxNode* m = x.as<MaxNode>(); m && !is_min) inner_a = &m->a, inner_b = &m->b;
    if (inner_b) {
      if (const int64_t* ci = as_const_int(*inner_b)) {
        int64_t merged = is_min ? std::min(*ci, *cy) : std::max(*ci, *cy);
        return make_binary(k, *inner_a, int_const(t, merged));
      }
    }
  } else if (compare_expr(x, y) > 0) {
    std::swap(x, y);  // min is commutative: a fixed operand order lets min(a, b) - min(b, a) cancel
  }
  return make_binary(k, x, y);
}

// ---------------------------------------------------------------- comparisons and logic
Expr Simplifier::rewrite_compare(ExprKind k, const Expr& a, const Expr& b) {
  DataType t = a.dtype();
  if (!t.is_integer()) return make_binary(k, a, b);
  if (!is_linear_dtype(t)) {
    if (auto v = decide_compare(k, interval_difference(bound(a), bound(b)))) return bool_const(*v);
    return make_binary(k, a, b);
  }
  // A comparison of values read from memory is of data, and integer data wraps on overflow
  // (include/te/ir.h): a - b > c is then not c + b < a (fuzz seed 601437: an argmax started
  // at INT_MIN compared INT_MIN + x). Only index arithmetic, which te assumes never wraps, is
  // decided and rearranged below.
  bool reads_memory = false;
  auto find_load = [&](const Expr& e) {
    reads_memory = reads_memory || e.as<LoadNode>() != nullptr || e.as<TensorReadNode>() != nullptr;
  };
  post_order_visit(a, find_load);
  post_order_visit(b, find_load);
  if (reads_memory) return make_binary(k, a, b);
  LinearForm diff = difference(a, b);
  Interval d = bound_linear(diff);
  if (!facts_.empty()) d = interval_intersect(d, fact_interval(diff));
  if (auto v = decide_compare(k, d)) return bool_const(*v);
  if (wrap_to(t, diff.constant) != diff.constant) return make_binary(k, a, b);
  // Undecided: cancel what both sides share and keep positive terms on each side:
  // i*8 + j < i*8 + 5 -> j < 5; x + 3 < 5 -> x < 2.
  LinearForm lhs, rhs;
  lhs.dtype = rhs.dtype = t;
  for (const LinearTerm& lt : diff.terms) {
    if (lt.coef > 0) {
      add_term(lhs, lt.term, lt.coef);
    } else {
      add_term(rhs, lt.term, int64_t(0 - uint64_t(lt.coef)));
    }
  }
  if (rhs.is_constant() || (!lhs.is_constant() && diff.constant < 0)) {
    rhs.constant = wrap_to(t, int64_t(0 - uint64_t(diff.constant)));
  } else {
    lhs.constant = diff.constant;
  }
  return make_binary(k, from_linear(std::move(lhs)), from_linear(std::move(rhs)));
}

Expr Simplifier::rewrite_logical(ExprKind k, const Expr& a, const Expr& b) {
  bool is_and = k == ExprKind::And;
  if (is_const_bool(a, !is_and) || is_const_bool(b, !is_and)) return bool_const(!is_and);  // x && false
  if (is_const_bool(a, is_and)) return b;                                                    // true && x
  if (is_const_bool(b, is_and)) return a;
  if (expr_equal(a, b)) return a;
  return make_binary(k, a, b);
}

Expr Simplifier::rewrite_not(const Expr& a) {
  if (const IntImmNode* imm = a.as<IntImmNode>()) return bool_const(imm->value == 0);
  if (const NotNode* inner = a.as<NotNode>()) return inner->a;
  // !(x < y) -> x >= y; only for integers (with NaN, !(x < y) is not x >= y).
  auto flip = [&](ExprKind k, const Expr& x, const Expr& y) -> Expr {
    if (!x.dtype().is_integer()) return Expr();
    return make_binary(negate_comparison(k), x, y);
  };
  Expr flipped;
  if (const LTNode* op = a.as<LTNode>()) flipped = flip(ExprKind::LT, op->a, op->b);
  if (const LENode* op = a.as<LENode>()) flipped = flip(ExprKind::LE, op->a, op->b);
  if (const GTNode* op = a.as<GTNode>()) flipped = flip(ExprKind::GT, op->a, op->b);
  if (const GENode* op = a.as<GENode>()) flipped = flip(ExprKind::GE, op->a, op->b);
  if (const EQNode* op = a.as<EQNode>()) flipped = flip(ExprKind::EQ, op->a, op->b);
  if (const NENode* op = a.as<NENode>()) flipped = flip(ExprKind::NE, op->a, op->b);
  if (flipped.defined()) return flipped;
  return NotNode::make(a);
}

Expr Simplifier::mutate_node(const NotNode* op, const Expr& self) {
  Expr a = mutate(op->a);
  Expr r = rewrite_not(a);
  if (a.same_as(op->a) && expr_equal(r, self)) return self;
  return r;
}

// ---------------------------------------------------------------- vectors
Expr Simplifier::rewrite_vector(ExprKind k, const Expr& a, const Expr& b) {
  const BroadcastNode* ba = a.as<BroadcastNode>();
  const BroadcastNode* bb = b.as<BroadcastNode>();
  if (ba && bb && ba->lanes == bb->lanes) return BroadcastNode::make(rewrite_binary(k, ba->value, bb->value), ba->lanes);
  const RampNode* ra = a.as<RampNode>();
  const RampNode* rb = b.as<RampNode>();
  auto ramp = [&](const Expr& base, const Expr& stride, int lanes) -> Expr {
    if (is_zero(stride)) return BroadcastNode::make(base, lanes);
    return RampNode::make(base, stride, lanes);
  };
  if (k == ExprKind::Add || k == ExprKind::Sub) {
    if (ra && bb) return ramp(rewrite_binary(k, ra->base, bb->value), ra->stride, ra->lanes);
    if (ra && rb && ra->lanes == rb->lanes)
      return ramp(rewrite_binary(k, ra->base, rb->base), rewrite_binary(k, ra->stride, rb->stride), ra->lanes);
    if (ba && rb) {
      Expr stride = k == ExprKind::Add ? rb->stride : rewrite_binary(ExprKind::Sub, make_zero(rb->stride.dtype()), rb->stride);
      return ramp(rewrite_binary(k, ba->value, rb->base), stride, rb->lanes);
    }
  }
  // A ramp that stays inside one period of the divisor: floordiv(ramp(x*8, 1, 8), 8) is
  // broadcast(x), floormod(ramp(x*8 + 4, 1, 4), 8) is ramp(4, 1, 4). Trunc kinds need base >= 0.
  bool div_mod = k == ExprKind::FloorDiv || k == ExprKind::FloorMod || k == ExprKind::Div || k == ExprKind::Mod;
  if (div_mod && ra && bb && is_linear_dtype(ra->base.dtype())) {
    const int64_t* stride = as_const_int(ra->stride);
    const int64_t* c = as_const_int(bb->value);
    bool floor_kind = k == ExprKind::FloorDiv || k == ExprKind::FloorMod;
    Interval base_bound = bound(ra->base);
    if (stride && c && *stride >= 0 && *c > 0 && (floor_kind || (base_bound.has_min && base_bound.min >= 0))) {
      Expr offset = rewrite_binary(ExprKind::FloorMod, ra->base, bb->value);
      Interval off = bound(offset);
      if (off.has_max && i128_fits_lanes(off.max, *stride, ra->lanes, *c)) {
        ExprKind scalar_kind = (k == ExprKind::FloorDiv || k == ExprKind::Div) ? ExprKind::FloorDiv : ExprKind::FloorMod;
        Expr scalar = rewrite_binary(scalar_kind, ra->base, bb->value);
        if (scalar_kind == ExprKind::FloorDiv) return BroadcastNode::make(scalar, ra->lanes);
        return ramp(scalar, ra->stride, ra->lanes);
      }
    }
  }
  if (k == ExprKind::Mul && a.dtype().is_integer()) {
    if (ra && bb) return ramp(rewrite_binary(k, ra->base, bb->value), rewrite_binary(k, ra->stride, bb->value), ra->lanes);
    if (ba && rb) return ramp(rewrite_binary(k, ba->value, rb->base), rewrite_binary(k, ba->value, rb->stride), rb->lanes);
  }
  return make_binary(k, a, b);
}

Expr Simplifier::mutate_node(const RampNode* op, const Expr& self) {
  Expr base = mutate(op->base), stride = mutate(op->stride);
  if (is_zero(stride)) return BroadcastNode::make(base, op->lanes);
  if (base.same_as(op->base) && stride.same_as(op->stride)) return self;
  return RampNode::make(base, stride, op->lanes);
}

Expr Simplifier::mutate_node(const BroadcastNode* op, const Expr& self) {
  Expr value = mutate(op->value);
  if (value.same_as(op->value)) return self;
  return BroadcastNode::make(value, op->lanes);
}

// ---------------------------------------------------------------- select, cast, calls, let
Expr Simplifier::mutate_node(const SelectNode* op, const Expr& self) {
  Expr cond = mutate(op->condition);
  if (is_const_bool(cond, true)) return mutate(op->true_value);
  if (is_const_bool(cond, false)) return mutate(op->false_value);
  // Each value only matters when the condition has its value: simplify it under that fact.
  size_t n = push_facts(cond, true);
  Expr tv = mutate(op->true_value);
  pop_facts(n);
  n = push_facts(cond, false);
  Expr fv = mutate(op->false_value);
  pop_facts(n);
  if (expr_equal(tv, fv)) return tv;
  if (cond.same_as(op->condition) && tv.same_as(op->true_value) && fv.same_as(op->false_value)) return self;
  return SelectNode::make(cond, tv, fv);
}

// e (a narrower signed integer) rebuilt in `to` term by term — int64(y*56 + x) as
// int64(y)*56 + int64(x) — where no intermediate of e can wrap in its own type: every +, -, *
// node of it must have bounds that fit (a fitting (x + big) - big has a wrapping x + big, so a
// +, -, * operand that cannot be widened fails the whole rewrite); other operands are values,
// cast as they are (a floordiv/floormod by a positive constant of a value is the same value
// either way). Undefined where that is not shown. Storage flattening casts each dimension's
// int32 index to int64 on its own, which hides floordiv(p, 56)*56 + floormod(p, 56) = p (a
// fused axis) from the linear form; widened, the pair meets and merges.
Expr Simplifier::widen_index(const Expr& e, DataType to) {
  const DataType from = e.dtype();
  auto fits = [&](const Expr& x) { return within_type(bound(x), from); };
  auto is_arith = [](const Expr& x) { return x.as<AddNode>() || x.as<SubNode>() || x.as<MulNode>(); };
  auto part = [&](const Expr& x) -> Expr {
    Expr w = widen_index(x, to);
    if (w.defined() || is_arith(x)) return w;
    return CastNode::make(to, x);
  };
  if (const auto* imm = e.as<IntImmNode>()) return int_const(to, imm->value);
  if (e.as<VarNode>()) return CastNode::make(to, e);
  const auto* div = e.as<FloorDivNode>();
  const auto* mod = e.as<FloorModNode>();
  if (div || mod) {
    const auto* c = (div ? div->b : mod->b).as<IntImmNode>();
    if (!c || c->value <= 0) return Expr();
    const Expr& operand = div ? div->a : mod->a;
    Expr a = widen_index(operand, to);
    if (!a.defined()) a = CastNode::make(to, operand);  // the same (possibly wrapped) value
    return div ? FloorDivNode::make(a, int_const(to, c->value)) : FloorModNode::make(a, int_const(to, c->value));
  }
  if (!is_arith(e) || !fits(e)) return Expr();
  Expr a, b;
  if (const auto* add = e.as<AddNode>()) a = part(add->a), b = part(add->b);
  if (const auto* sub = e.as<SubNode>()) a = part(sub->a), b = part(sub->b);
  if (const auto* mul = e.as<MulNode>()) a = part(mul->a), b = part(mul->b);
  if (!a.defined() || !b.defined()) return Expr();
  if (e.as<AddNode>()) return AddNode::make(a, b);
  if (e.as<SubNode>()) return SubNode::make(a, b);
  return MulNode::make(a, b);
}

Expr Simplifier::mutate_node(const CastNode* op, const Expr& self) {
  Expr value = mutate(op->value);
  if (value.dtype() == op->dtype) return value;
  const DataType from = value.dtype(), to = op->dtype;
  if (from.code == DataType::kInt && to.code == DataType::kInt && from.is_scalar() && to.is_scalar() &&
      to.bits > from.bits && (value.as<AddNode>() || value.as<SubNode>() || value.as<MulNode>() ||
                              value.as<FloorDivNode>() || value.as<FloorModNode>())) {
    Expr widened = widen_index(value, to);
    if (widened.defined()) return mutate(widened);
  }
  Expr folded = fold_cast(op->dtype, value);
  if (folded.defined()) return folded;
  if (value.same_as(op->value)) return self;
  return CastNode::make(op->dtype, value);
}

Expr Simplifier::mutate_node(const CallNode* op, const Expr& self) {
  bool changed = false;
  std::vector<Expr> args;
  if (op->op == Intrinsic::kIfThenElse && op->args.size() == 3) {
    Expr cond = mutate(op->args[0]);
    if (is_const_bool(cond, true)) return mutate(op->args[1]);
    if (is_const_bool(cond, false)) return mutate(op->args[2]);
    size_t n = push_facts(cond, true);
    Expr tv = mutate(op->args[1]);
    pop_facts(n);
    n = push_facts(cond, false);
    Expr fv = mutate(op->args[2]);
    pop_facts(n);
    changed = !cond.same_as(op->args[0]) || !tv.same_as(op->args[1]) || !fv.same_as(op->args[2]);
    args = {cond, tv, fv};
  } else {
    args = mutate_all(op->args, &changed);
  }
  if (op->op == Intrinsic::kLikely && args.size() == 1 && as_const_int(args[0]) && args[0].dtype() == op->dtype)
    return args[0];  // likely(true) is just true
  if (op->op == Intrinsic::kIfThenElse && args.size() == 3) {
    if (is_const_bool(args[0], true)) return args[1];
    if (is_const_bool(args[0], false)) return args[2];
  }
  if (!changed) return self;
  return CallNode::make(op->dtype, op->op, std::move(args));
}

Expr Simplifier::mutate_node(const LetNode* op, const Expr& self) {
  Expr value = mutate(op->value);
  if (!op->var.dtype().is_handle() && (as_const_int(value) || as_const_float(value) || value.as<VarNode>())) {
    Saved saved = push_substitution(op->var.get(), value);
    Expr body = mutate(op->body);
    pop(saved);
    return body;
  }
  Saved saved{op->var.get(), false, Range(), false, Expr()};
  bool pushed = false;
  if (op->var.dtype().is_int() && op->var.dtype().is_scalar()) {
    Interval b = bound(value);
    if (b.is_bounded() && b.max - b.min < dtype_max(op->var.dtype())) {
      saved = push_range(op->var.get(), Range(int_const(op->var.dtype(), b.min), int_const(op->var.dtype(), b.max - b.min + 1)));
      pushed = true;
    }
  }
  Expr body = mutate(op->body);
  if (pushed) pop(saved);
  const VarNode* var = op->var.get();
  if (!expr_uses_var(body, var)) return body;
  if (value.same_as(op->value) && body.same_as(op->body)) return self;
  return LetNode::make(op->var, value, body);
}

Expr Simplifier::mutate_node(const ReduceNode* op, const Expr& self) {
  std::vector<Saved> saved;
  for (const IterVar& iv : op->axis) {
    if (iv.defined() && iv.dom().min.defined() && iv.dom().extent.defined())
      saved.push_back(push_range(iv.var().get(), iv.dom()));
  }
  Expr result = IRMutator::mutate_node(op, self);
  for (auto it = saved.rbegin(); it != saved.rend(); ++it) pop(*it);
  return result;
}

}  // namespace simplify_detail

// ---------------------------------------------------------------- public entry points
std::optional<int64_t> simplify_to_const(const Expr& e, const VarRangeMap& ranges) {
  const Expr simplified = simplify(e, ranges);
  if (const int64_t* c = as_const_int(simplified)) return *c;
  return std::nullopt;
}

Expr simplify(const Expr& e, const VarRangeMap& ranges) {
  if (!e.defined()) return e;
  Simplifier s(ranges);
  return s.mutate(e);
}

Stmt simplify(const Stmt& st, const VarRangeMap& ranges) {
  if (!st.defined()) return st;
  Simplifier s(ranges);
  return s.mutate(st);
}

bool can_prove(const Expr& cond, const VarRangeMap& ranges) {
  if (!cond.defined()) return false;
  Expr r = simplify(cond, ranges);
  const IntImmNode* imm = r.as<IntImmNode>();
  return imm && imm->value != 0;
}

bool fits_in_type(const Expr& e, DataType t, const VarRangeMap& ranges) {
  const ConstBound b = const_bound(e, ranges);
  return within_type(Interval{b.has_min, b.has_max, b.min, b.max}, t);
}

ConstBound const_bound(const Expr& e, const VarRangeMap& ranges) {
  ConstBound result;
  if (!e.defined() || !e.dtype().is_scalar() || !(e.dtype().is_integer() || e.dtype().is_bool())) return result;
  Simplifier s(ranges);
  Interval b = s.bound(s.mutate(e));
  result.has_min = b.has_min;
  result.has_max = b.has_max;
  result.min = b.min;
  result.max = b.max;
  return result;
}

}  // namespace te
