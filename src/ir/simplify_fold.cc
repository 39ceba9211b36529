// src/ir/simplify_fold.cc — constant folding with the integer semantics of te/ir.h (trunc
// Div/Mod, floor FloorDiv/FloorMod, wraparound to the dtype width), the structural order of
// expressions, and the linear form used for index arithmetic.
#include <algorithm>
#include <cmath>
#include <limits>

#include "ir/simplify_internal.h"

namespace te::simplify_detail {

int64_t dtype_min(DataType t) {
  if (t.is_bool() || t.is_uint()) return 0;
  if (t.bits >= 64) return std::numeric_limits<int64_t>::min();
  return -(int64_t(1) << (t.bits - 1));
}

int64_t dtype_max(DataType t) {
  if (t.is_bool()) return 1;
  if (t.is_uint()) return t.bits >= 64 ? std::numeric_limits<int64_t>::max() : int64_t((uint64_t(1) << t.bits) - 1);
  if (t.bits >= 64) return std::numeric_limits<int64_t>::max();
  return (int64_t(1) << (t.bits - 1)) - 1;
}

int64_t wrap_to(DataType t, int64_t v) {
  if (t.is_bool()) return v != 0;
  if (t.bits >= 64) return v;
  uint64_t mask = (uint64_t(1) << t.bits) - 1;
  uint64_t u = uint64_t(v) & mask;
  if (t.is_uint()) return int64_t(u);
  uint64_t sign = uint64_t(1) << (t.bits - 1);
  return int64_t(u ^ sign) - int64_t(sign);
}

int64_t floor_div(int64_t a, int64_t b) {
  if (b == -1) return int64_t(0 - uint64_t(a));  // INT64_MIN / -1 wraps
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

int64_t floor_mod(int64_t a, int64_t b) {
  if (b == -1) return 0;
  int64_t r = a % b;
  if (r != 0 && ((r < 0) != (b < 0))) r += b;
  return r;
}

bool is_comparison(ExprKind k) {
  return k == ExprKind::EQ || k == ExprKind::NE || k == ExprKind::LT || k == ExprKind::LE ||
         k == ExprKind::GT || k == ExprKind::GE;
}

ExprKind negate_comparison(ExprKind k) {
  switch (k) {
    case ExprKind::LT: return ExprKind::GE;
    case ExprKind::LE: return ExprKind::GT;
    case ExprKind::GT: return ExprKind::LE;
    case ExprKind::GE: return ExprKind::LT;
    case ExprKind::EQ: return ExprKind::NE;
    case ExprKind::NE: return ExprKind::EQ;
    default: TE_ICHECK(false, "negate_comparison: not a comparison: ", kind_name(k));
  }
  return k;
}

namespace {

std::optional<int64_t> fold_unsigned64(ExprKind k, uint64_t a, uint64_t b) {
  switch (k) {
    case ExprKind::Add: return int64_t(a + b);
    case ExprKind::Sub: return int64_t(a - b);
    case ExprKind::Mul: return int64_t(a * b);
    case ExprKind::Div:
    case ExprKind::FloorDiv: if (b == 0) return std::nullopt; return int64_t(a / b);
    case ExprKind::Mod:
    case ExprKind::FloorMod: if (b == 0) return std::nullopt; return int64_t(a % b);
    case ExprKind::Min: return int64_t(std::min(a, b));
    case ExprKind::Max: return int64_t(std::max(a, b));
    case ExprKind::EQ: return a == b;
    case ExprKind::NE: return a != b;
    case ExprKind::LT: return a < b;
    case ExprKind::LE: return a <= b;
    case ExprKind::GT: return a > b;
    case ExprKind::GE: return a >= b;
    default: return std::nullopt;
  }
}

}  // namespace

std::optional<int64_t> fold_int(ExprKind k, DataType t, int64_t a, int64_t b) {
  if (t.is_bool()) {
    switch (k) {
      case ExprKind::And: return (a != 0) && (b != 0);
      case ExprKind::Or: return (a != 0) || (b != 0);
      case ExprKind::EQ: return (a != 0) == (b != 0);
      case ExprKind::NE: return (a != 0) != (b != 0);
      default: return std::nullopt;
    }
  }
  if (!t.is_integer()) return std::nullopt;
  if (t.is_uint() && t.bits >= 64) {
    auto r = fold_unsigned64(k, uint64_t(a), uint64_t(b));
    return r;
  }
  // Narrower uints are held as non-negative int64, so signed arithmetic is exact for them.
  uint64_t ua = uint64_t(a), ub = uint64_t(b);
  switch (k) {
    case ExprKind::Add: return wrap_to(t, int64_t(ua + ub));
    case ExprKind::Sub: return wrap_to(t, int64_t(ua - ub));
    case ExprKind::Mul: return wrap_to(t, int64_t(ua * ub));
    case ExprKind::Div:
      if (b == 0) return std::nullopt;
      if (b == -1) return wrap_to(t, int64_t(0 - ua));
      return wrap_to(t, a / b);
    case ExprKind::Mod:
      if (b == 0) return std::nullopt;
      if (b == -1) return 0;
      return wrap_to(t, a % b);
    case ExprKind::FloorDiv: if (b == 0) return std::nullopt; return wrap_to(t, floor_div(a, b));
    case ExprKind::FloorMod: if (b == 0) return std::nullopt; return wrap_to(t, floor_mod(a, b));
    case ExprKind::Min: return std::min(a, b);
    case ExprKind::Max: return std::max(a, b);
    case ExprKind::EQ: return a == b;
    case ExprKind::NE: return a != b;
    case ExprKind::LT: return a < b;
    case ExprKind::LE: return a <= b;
    case ExprKind::GT: return a > b;
    case ExprKind::GE: return a >= b;
    default: return std::nullopt;
  }
}

std::optional<double> fold_float(ExprKind k, DataType t, double a, double b) {
  if (!t.is_float() || (t.bits != 32 && t.bits != 64)) return std::nullopt;
  double r;
  switch (k) {
    case ExprKind::Add: r = a + b; break;
    case ExprKind::Sub: r = a - b; break;
    case ExprKind::Mul: r = a * b; break;
    case ExprKind::Div:
      if (b == 0) return std::nullopt;
      r = a / b;
      break;
    case ExprKind::Min:
    case ExprKind::Max:
      if (std::isnan(a) || std::isnan(b)) return std::nullopt;
      if (a == b) return std::nullopt;  // min(-0.0, 0.0): leave the sign of zero alone
      r = (k == ExprKind::Min) ? std::min(a, b) : std::max(a, b);
      break;
    case ExprKind::EQ: return double(a == b);
    case ExprKind::NE: return double(a != b);
    case ExprKind::LT: return double(a < b);
    case ExprKind::LE: return double(a <= b);
    case ExprKind::GT: return double(a > b);
    case ExprKind::GE: return double(a >= b);
    default: return std::nullopt;
  }
  if (t.bits == 32) r = double(float(r));
  return r;
}

Expr int_const(DataType t, int64_t v) { return IntImmNode::make(t, wrap_to(t, v)); }
Expr bool_const(bool v) { return IntImmNode::make(DataType::boolean(), v ? 1 : 0); }

const double* as_const_float(const Expr& e) {
  const FloatImmNode* f = e.as<FloatImmNode>();
  return f ? &f->value : nullptr;
}

Expr fold_cast(DataType t, const Expr& value) {
  if (!t.is_scalar()) return Expr();
  DataType from = value.dtype();
  if (const int64_t* v = as_const_int(value)) {
    if (t.is_integer() || t.is_bool()) return int_const(t, *v);
    if (t.is_float() && (t.bits == 32 || t.bits == 64)) {
      double d = (from.is_uint() && from.bits >= 64) ? double(uint64_t(*v)) : double(*v);
      if (t.bits == 32) d = double(float(d));
      return FloatImmNode::make(t, d);
    }
    return Expr();
  }
  if (const double* f = as_const_float(value)) {
    if (from.bits != 32 && from.bits != 64) return Expr();
    if (t.is_bool()) return bool_const(*f != 0);
    if (t.is_float() && (t.bits == 32 || t.bits == 64)) return FloatImmNode::make(t, t.bits == 32 ? double(float(*f)) : *f);
    if (t.is_integer()) {
      if (!std::isfinite(*f)) return Expr();
      double truncated = std::trunc(*f);
      // Only in-range conversions are folded: out-of-range float->int is not defined.
      if (truncated < double(dtype_min(t)) || truncated > double(dtype_max(t))) return Expr();
      if (truncated >= 9.2e18 || truncated <= -9.2e18) return Expr();
      return int_const(t, int64_t(truncated));
    }
  }
  return Expr();
}

// ---------------------------------------------------------------- structural order
namespace {

int cmp_i(int64_t a, int64_t b) { return a < b ? -1 : (a > b ? 1 : 0); }
int cmp_dtype(DataType a, DataType b) {
  if (int c = cmp_i(a.code, b.code)) return c;
  if (int c = cmp_i(a.bits, b.bits)) return c;
  return cmp_i(a.lanes, b.lanes);
}
int cmp_ptr(const void* a, const void* b) { return a < b ? -1 : (a > b ? 1 : 0); }
int cmp_list(const std::vector<Expr>& a, const std::vector<Expr>& b) {
  if (int c = cmp_i(int64_t(a.size()), int64_t(b.size()))) return c;
  for (size_t i = 0; i < a.size(); ++i)
    if (int c = compare_expr(a[i], b[i])) return c;
  return 0;
}

template <ExprKind K>
int cmp_binary(const Expr& a, const Expr& b) {
  const auto* x = static_cast<const BinaryNode<K>*>(a.get());
  const auto* y = static_cast<const BinaryNode<K>*>(b.get());
  if (int c = compare_expr(x->a, y->a)) return c;
  return compare_expr(x->b, y->b);
}

}  // namespace

int compare_expr(const Expr& a, const Expr& b) {
  if (a.same_as(b)) return 0;
  if (!a.defined() || !b.defined()) return a.defined() ? 1 : -1;
  if (int c = cmp_i(int(a->kind), int(b->kind))) return c;
  if (int c = cmp_dtype(a.dtype(), b.dtype())) return c;
  switch (a->kind) {
    case ExprKind::IntImm: return cmp_i(a.as<IntImmNode>()->value, b.as<IntImmNode>()->value);
    case ExprKind::FloatImm: {
      double x = a.as<FloatImmNode>()->value, y = b.as<FloatImmNode>()->value;
      if (x < y) return -1;
      if (x > y) return 1;
      if (std::signbit(x) != std::signbit(y)) return std::signbit(x) ? -1 : 1;
      return 0;  // NaNs compare equal to each other here: both are the same constant
    }
    case ExprKind::Var: {
      const auto* x = a.as<VarNode>();
      const auto* y = b.as<VarNode>();
      if (int c = x->name.compare(y->name)) return c < 0 ? -1 : 1;
      return cmp_ptr(x, y);
    }
#define TE_CMP_BIN(K) \
  case ExprKind::K: return cmp_binary<ExprKind::K>(a, b);
      TE_CMP_BIN(Add) TE_CMP_BIN(Sub) TE_CMP_BIN(Mul) TE_CMP_BIN(Div) TE_CMP_BIN(Mod)
      TE_CMP_BIN(FloorDiv) TE_CMP_BIN(FloorMod) TE_CMP_BIN(Min) TE_CMP_BIN(Max)
      TE_CMP_BIN(EQ) TE_CMP_BIN(NE) TE_CMP_BIN(LT) TE_CMP_BIN(LE) TE_CMP_BIN(GT) TE_CMP_BIN(GE)
      TE_CMP_BIN(And) TE_CMP_BIN(Or)
#undef TE_CMP_BIN
    case ExprKind::Not: return compare_expr(a.as<NotNode>()->a, b.as<NotNode>()->a);
    case ExprKind::Select: {
      const auto* x = a.as<SelectNode>();
      const auto* y = b.as<SelectNode>();
      if (int c = compare_expr(x->condition, y->condition)) return c;
      if (int c = compare_expr(x->true_value, y->true_value)) return c;
      return compare_expr(x->false_value, y->false_value);
    }
    case ExprKind::Cast: return compare_expr(a.as<CastNode>()->value, b.as<CastNode>()->value);
    case ExprKind::Call: {
      const auto* x = a.as<CallNode>();
      const auto* y = b.as<CallNode>();
      if (int c = cmp_i(int(x->op), int(y->op))) return c;
      return cmp_list(x->args, y->args);
    }
    case ExprKind::Load: {
      const auto* x = a.as<LoadNode>();
      const auto* y = b.as<LoadNode>();
      if (int c = compare_expr(x->buffer, y->buffer)) return c;
      return compare_expr(x->index, y->index);
    }
    case ExprKind::Ramp: {
      const auto* x = a.as<RampNode>();
      const auto* y = b.as<RampNode>();
      if (int c = compare_expr(x->base, y->base)) return c;
      return compare_expr(x->stride, y->stride);
    }
    case ExprKind::Broadcast: return compare_expr(a.as<BroadcastNode>()->value, b.as<BroadcastNode>()->value);
    case ExprKind::TensorRead: {
      const auto* x = a.as<TensorReadNode>();
      const auto* y = b.as<TensorReadNode>();
      if (int c = cmp_ptr(x->tensor.op().get(), y->tensor.op().get())) return c;
      if (int c = cmp_i(x->tensor->value_index, y->tensor->value_index)) return c;
      return cmp_list(x->indices, y->indices);
    }
    default:
      // Let and Reduce bind variables: equal only when they are the same node.
      return cmp_ptr(a.get(), b.get());
  }
}

// ---------------------------------------------------------------- linear form
// Unsigned types are left out: x - y would need coefficients like 255 for uint8.
bool is_linear_dtype(DataType t) { return t.is_scalar() && t.is_int(); }

void add_term(LinearForm& into, const Expr& term, int64_t coef) {
  coef = wrap_to(into.dtype, coef);
  if (coef == 0) return;
  for (size_t i = 0; i < into.terms.size(); ++i) {
    if (expr_equal(into.terms[i].term, term)) {
      int64_t c = wrap_to(into.dtype, int64_t(uint64_t(into.terms[i].coef) + uint64_t(coef)));
      if (c == 0) {
        into.terms.erase(into.terms.begin() + long(i));
      } else {
        into.terms[i].coef = c;
      }
      return;
    }
  }
  into.terms.push_back({term, coef});
}

void add_scaled(LinearForm& into, const LinearForm& f, int64_t scale) {
  for (const LinearTerm& t : f.terms) add_term(into, t.term, int64_t(uint64_t(t.coef) * uint64_t(scale)));
  into.constant = wrap_to(into.dtype, int64_t(uint64_t(into.constant) + uint64_t(f.constant) * uint64_t(scale)));
}

namespace {

void collect_linear(const Expr& e, int64_t scale, LinearForm& out) {
  if (const int64_t* v = as_const_int(e)) {
    out.constant = wrap_to(out.dtype, int64_t(uint64_t(out.constant) + uint64_t(*v) * uint64_t(scale)));
    return;
  }
  if (const AddNode* op = e.as<AddNode>()) {
    collect_linear(op->a, scale, out);
    collect_linear(op->b, scale, out);
    return;
  }
  if (const SubNode* op = e.as<SubNode>()) {
    collect_linear(op->a, scale, out);
    collect_linear(op->b, int64_t(0 - uint64_t(scale)), out);
    return;
  }
  if (const MulNode* op = e.as<MulNode>()) {
    if (const int64_t* c = as_const_int(op->b)) {
      collect_linear(op->a, int64_t(uint64_t(scale) * uint64_t(*c)), out);
      return;
    }
    if (const int64_t* c = as_const_int(op->a)) {
      collect_linear(op->b, int64_t(uint64_t(scale) * uint64_t(*c)), out);
      return;
    }
  }
  add_term(out, e, scale);
}

// floordiv(x, c)*(c*k) + floormod(x, c)*k == x*k, and the same for trunc Div/Mod (C's identity
// a == (a/b)*b + a%b). Index expressions built by split+fuse produce these pairs.
// Whether x - y is a linear form with every coefficient and the constant multiples of c: then
// floormod(x, c) == floormod(y, c) (the simplifier may have rewritten floormod(a*32 + b, 56)
// into floormod(b - a*24, 56) while its floordiv partner kept a*32 + b).
bool congruent_modulo(const Expr& x, const Expr& y, int64_t c) {
  if (x.dtype() != y.dtype()) return false;
  LinearForm diff = to_linear(x);
  add_scaled(diff, to_linear(y), -1);
  if (diff.constant % c != 0) return false;
  for (const LinearTerm& t : diff.terms)
    if (t.coef % c != 0) return false;
  return true;
}

bool merge_div_mod_pair(LinearForm& f) {
  for (size_t i = 0; i < f.terms.size(); ++i) {
    const Expr& d = f.terms[i].term;
    Expr x, c;
    bool floor_kind = false;
    if (const FloorDivNode* op = d.as<FloorDivNode>()) {
      x = op->a, c = op->b, floor_kind = true;
    } else if (const DivNode* op = d.as<DivNode>()) {
      x = op->a, c = op->b;
    } else {
      continue;
    }
    const int64_t* cv = as_const_int(c);
    if (!cv || *cv <= 0) continue;
    for (size_t j = 0; j < f.terms.size(); ++j) {
      const Expr& m = f.terms[j].term;
      Expr mx, mc;
      if (floor_kind) {
        const FloorModNode* op = m.as<FloorModNode>();
        if (!op) continue;
        mx = op->a, mc = op->b;
      } else {
        const ModNode* op = m.as<ModNode>();
        if (!op) continue;
        mx = op->a, mc = op->b;
      }
      const int64_t* mcv = as_const_int(mc);
      if (!mcv || *mcv != *cv) continue;
      if (!expr_equal(mx, x) && !(floor_kind && congruent_modulo(x, mx, *cv))) continue;
      int64_t k = f.terms[j].coef;
      if (f.terms[i].coef != int64_t(uint64_t(k) * uint64_t(*cv))) continue;
      size_t hi = std::max(i, j), lo = std::min(i, j);
      f.terms.erase(f.terms.begin() + long(hi));
      f.terms.erase(f.terms.begin() + long(lo));
      add_scaled(f, to_linear(x), k);
      return true;
    }
  }
  return false;
}

int64_t abs_coef(int64_t c) { return c < 0 ? int64_t(0 - uint64_t(c)) : c; }

Expr scaled_term(const Expr& term, int64_t coef, DataType t) {
  if (coef == 1) return term;
  return MulNode::make(term, int_const(t, coef));
}

}  // namespace

LinearForm to_linear(const Expr& e) {
  LinearForm f;
  f.dtype = e.dtype();
  collect_linear(e, 1, f);
  return f;
}

Expr from_linear(LinearForm f) {
  DataType t = f.dtype;
  // Each merge removes two terms and adds those of a strictly smaller expression.
  for (int guard = 0; guard < 64 && merge_div_mod_pair(f); ++guard) {
  }
  std::stable_sort(f.terms.begin(), f.terms.end(), [](const LinearTerm& x, const LinearTerm& y) {
    uint64_t ax = uint64_t(abs_coef(x.coef)), ay = uint64_t(abs_coef(y.coef));
    if (ax != ay) return ax > ay;
    return compare_expr(x.term, y.term) < 0;
  });
  Expr acc;
  // Positive terms first, then the negative ones subtracted: i*8 + j - k*2 + 3.
  for (const LinearTerm& lt : f.terms) {
    if (lt.coef < 0) continue;
    Expr part = scaled_term(lt.term, lt.coef, t);
    acc = acc.defined() ? AddNode::make(acc, part) : part;
  }
  bool constant_first = false;
  if (!acc.defined() && f.constant > 0 && !f.terms.empty()) {
    acc = int_const(t, f.constant);  // 5 - x rather than x*-1 + 5
    constant_first = true;
  }
  for (const LinearTerm& lt : f.terms) {
    if (lt.coef >= 0) continue;
    int64_t mag = abs_coef(lt.coef);
    if (!acc.defined()) {
      acc = scaled_term(lt.term, lt.coef, t);
    } else if (mag < 0 || wrap_to(t, mag) != mag) {
      acc = AddNode::make(acc, scaled_term(lt.term, lt.coef, t));  // |INT_MIN| is not representable
    } else {
      acc = SubNode::make(acc, scaled_term(lt.term, mag, t));
    }
  }
  if (!acc.defined()) return int_const(t, f.constant);
  if (f.constant == 0 || constant_first) return acc;
  int64_t mag = abs_coef(f.constant);
  if (f.constant < 0 && mag > 0 && wrap_to(t, mag) == mag) return SubNode::make(acc, int_const(t, mag));
  return AddNode::make(acc, int_const(t, f.constant));
}

}  // namespace te::simplify_detail
