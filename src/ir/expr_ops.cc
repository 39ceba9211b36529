// src/ir/expr_ops.cc — the operators a user writes inside te::compute: type promotion (rules
// in te/ir.h's header comment), constant folding when both operands are constants, and the
// math / select / cast helpers. Everything here checks user input and throws te::Error.
#include "te/expr_ops.h"

#include <cfloat>
#include <cmath>

namespace te {

namespace {

// Position in the promotion order of te/ir.h (integers ordered by bits, int before uint).
int promotion_rank(DataType t) {
  switch (t.code) {
    case DataType::kBool: return 0;
    case DataType::kInt: return 10 + 4 * (t.bits / 8);
    case DataType::kUInt: return 11 + 4 * (t.bits / 8);
    case DataType::kFloat: return 1000 + t.bits;
    case DataType::kHandle: break;
  }
  return -1;
}

bool is_scalar_const(const Expr& e) {
  return (e.as<IntImmNode>() || e.as<FloatImmNode>()) && e.dtype().is_scalar();
}

double const_as_double(const Expr& e) {
  if (const auto* i = e.as<IntImmNode>()) return double(i->value);
  return e.as<FloatImmNode>()->value;
}

void check_operand(const Expr& e, const char* op) {
  if (!e.defined()) fail("operator ", op, ": an operand is undefined");
  if (e.dtype().is_handle()) fail("operator ", op, ": operand ", to_string(e), " is a buffer handle, not a value");
}

// Converts e to t, broadcasting a scalar to t's lanes.
Expr convert(const Expr& e, DataType t) {
  if (e.dtype() == t) return e;
  if (e.dtype().is_scalar() && t.is_vector()) {
    Expr s = convert(e, t.element_of());
    return BroadcastNode::make(s, t.lanes);
  }
  return cast(t, e);
}

// Integer arithmetic on int64 with two's-complement wraparound (no signed-overflow UB);
// IntImmNode::make then wraps the result to the dtype's bits.
int64_t wrap_add(int64_t a, int64_t b) { return int64_t(uint64_t(a) + uint64_t(b)); }
int64_t wrap_sub(int64_t a, int64_t b) { return int64_t(uint64_t(a) - uint64_t(b)); }
int64_t wrap_mul(int64_t a, int64_t b) { return int64_t(uint64_t(a) * uint64_t(b)); }
int64_t trunc_div(int64_t a, int64_t b) { return (b == -1) ? wrap_sub(0, a) : a / b; }
int64_t trunc_mod(int64_t a, int64_t b) { return (b == -1) ? 0 : a % b; }
int64_t floor_div(int64_t a, int64_t b) {
  int64_t q = trunc_div(a, b);
  return (trunc_mod(a, b) != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}
int64_t floor_mod(int64_t a, int64_t b) {
  int64_t r = trunc_mod(a, b);
  return (r != 0 && ((r < 0) != (b < 0))) ? r + b : r;
}

// uint64 values are held as int64 bit patterns; compare/divide them as unsigned.
bool is_u64(DataType t) { return t.is_uint() && t.bits == 64; }

bool is_integer_zero(const Expr& b) {
  if (!b.dtype().is_integer()) return false;
  if (const auto* bc = b.as<BroadcastNode>()) return is_integer_zero(bc->value);
  const int64_t* v = as_const_int(b);
  return v && *v == 0;
}

// Folds a binary op of two scalar constants of the same dtype; undefined when it cannot.
Expr fold(ExprKind k, const Expr& a, const Expr& b) {
  if (!is_scalar_const(a) || !is_scalar_const(b)) return Expr();
  DataType t = a.dtype();
  DataType boolean = DataType::boolean();
  if (t.is_float()) {
    double x = const_as_double(a), y = const_as_double(b);
    switch (k) {
      case ExprKind::Add: return make_const(t, x + y);
      case ExprKind::Sub: return make_const(t, x - y);
      case ExprKind::Mul: return make_const(t, x * y);
      case ExprKind::Div: return make_const(t, x / y);
      case ExprKind::Mod: return make_const(t, std::fmod(x, y));
      case ExprKind::Min: return make_const(t, std::fmin(x, y));
      case ExprKind::Max: return make_const(t, std::fmax(x, y));
      case ExprKind::EQ: return make_const(boolean, x == y);
      case ExprKind::NE: return make_const(boolean, x != y);
      case ExprKind::LT: return make_const(boolean, x < y);
      case ExprKind::LE: return make_const(boolean, x <= y);
      case ExprKind::GT: return make_const(boolean, x > y);
      case ExprKind::GE: return make_const(boolean, x >= y);
      default: return Expr();
    }
  }
  int64_t x = *as_const_int(a), y = *as_const_int(b);
  if (is_u64(t)) {
    uint64_t ux = uint64_t(x), uy = uint64_t(y);
    switch (k) {
      case ExprKind::Div: case ExprKind::FloorDiv: return IntImmNode::make(t, int64_t(ux / uy));
      case ExprKind::Mod: case ExprKind::FloorMod: return IntImmNode::make(t, int64_t(ux % uy));
      case ExprKind::Min: return IntImmNode::make(t, int64_t(std::min(ux, uy)));
      case ExprKind::Max: return IntImmNode::make(t, int64_t(std::max(ux, uy)));
      case ExprKind::LT: return make_const(boolean, ux < uy);
      case ExprKind::LE: return make_const(boolean, ux <= uy);
      case ExprKind::GT: return make_const(boolean, ux > uy);
      case ExprKind::GE: return make_const(boolean, ux >= uy);
      default: break;
    }
  }
  switch (k) {
    case ExprKind::Add: return IntImmNode::make(t, wrap_add(x, y));
    case ExprKind::Sub: return IntImmNode::make(t, wrap_sub(x, y));
    case ExprKind::Mul: return IntImmNode::make(t, wrap_mul(x, y));
    case ExprKind::Div: return IntImmNode::make(t, trunc_div(x, y));
    case ExprKind::Mod: return IntImmNode::make(t, trunc_mod(x, y));
    case ExprKind::FloorDiv: return IntImmNode::make(t, floor_div(x, y));
    case ExprKind::FloorMod: return IntImmNode::make(t, floor_mod(x, y));
    case ExprKind::Min: return IntImmNode::make(t, std::min(x, y));
    case ExprKind::Max: return IntImmNode::make(t, std::max(x, y));
    case ExprKind::EQ: return make_const(boolean, x == y);
    case ExprKind::NE: return make_const(boolean, x != y);
    case ExprKind::LT: return make_const(boolean, x < y);
    case ExprKind::LE: return make_const(boolean, x <= y);
    case ExprKind::GT: return make_const(boolean, x > y);
    case ExprKind::GE: return make_const(boolean, x >= y);
    case ExprKind::And: return make_const(boolean, x && y);
    case ExprKind::Or: return make_const(boolean, x || y);
    default: return Expr();
  }
}

template <ExprKind K>
Expr binary(Expr a, Expr b, const char* op) {
  check_operand(a, op);
  check_operand(b, op);
  promote_operands(a, b);
  constexpr bool divides = K == ExprKind::Div || K == ExprKind::Mod || K == ExprKind::FloorDiv ||
                           K == ExprKind::FloorMod;
  if (divides && is_integer_zero(b))
    fail("operator ", op, ": integer division by constant zero in ", op, "(", to_string(a), ", ", to_string(b), ")");
  if (Expr folded = fold(K, a, b); folded.defined()) return folded;
  return BinaryNode<K>::make(std::move(a), std::move(b));
}

void require_bool(const Expr& e, const char* op) {
  if (!e.defined()) fail(op, ": an operand is undefined");
  if (!e.dtype().is_bool())
    fail(op, ": expected a bool condition, got ", to_string(e), " of dtype ", e.dtype().str(),
         " (compare it, e.g. x != 0)");
}

// Math functions take floats; integers and bools are computed in float32.
Expr to_float(const Expr& x, const char* fn) {
  if (!x.defined()) fail(fn, ": argument is undefined");
  if (x.dtype().is_handle()) fail(fn, ": argument ", to_string(x), " is a buffer handle");
  if (x.dtype().is_float()) return x;
  return cast(DataType::float32().with_lanes(x.dtype().lanes), x);
}

Expr math1(Intrinsic op, Expr x) {
  x = to_float(x, intrinsic_name(op));
  DataType t = x.dtype();
  return CallNode::make(t, op, {std::move(x)});
}

}  // namespace

// ---------------------------------------------------------------- promotion
DataType promote(DataType a, DataType b) {
  if (a.is_handle() || b.is_handle()) fail("type promotion: cannot combine ", a.str(), " with ", b.str());
  int lanes = a.lanes;
  if (a.lanes != b.lanes) {
    if (a.lanes != 1 && b.lanes != 1)
      fail("type promotion: vector lanes differ (", a.str(), " vs ", b.str(), ")");
    lanes = std::max(a.lanes, b.lanes);
  }
  DataType e = promotion_rank(a) >= promotion_rank(b) ? a.element_of() : b.element_of();
  return e.with_lanes(lanes);
}

void promote_operands(Expr& a, Expr& b) {
  if (a.dtype() == b.dtype()) return;
  bool a_const = is_scalar_const(a), b_const = is_scalar_const(b);
  DataType target;
  if (a_const != b_const) {
    // A constant adapts to the expression beside it, except that a floating constant next to
    // an integer (or bool) expression makes the result float32.
    const Expr& c = a_const ? a : b;
    DataType other = a_const ? b.dtype() : a.dtype();
    if (other.is_handle()) fail("type promotion: cannot combine ", c.dtype().str(), " with a handle");
    if (c.dtype().is_float() && !other.is_float())
      target = DataType::float32().with_lanes(other.lanes);
    else
      target = other;
  } else {
    target = promote(a.dtype(), b.dtype());
  }
  a = convert(a, target);
  b = convert(b, target);
}

// ---------------------------------------------------------------- arithmetic
Expr operator+(Expr a, Expr b) { return binary<ExprKind::Add>(std::move(a), std::move(b), "+"); }
Expr operator-(Expr a, Expr b) { return binary<ExprKind::Sub>(std::move(a), std::move(b), "-"); }
Expr operator*(Expr a, Expr b) { return binary<ExprKind::Mul>(std::move(a), std::move(b), "*"); }
Expr operator/(Expr a, Expr b) { return binary<ExprKind::Div>(std::move(a), std::move(b), "/"); }
Expr operator%(Expr a, Expr b) { return binary<ExprKind::Mod>(std::move(a), std::move(b), "%"); }
Expr truncdiv(Expr a, Expr b) { return binary<ExprKind::Div>(std::move(a), std::move(b), "truncdiv"); }
Expr truncmod(Expr a, Expr b) { return binary<ExprKind::Mod>(std::move(a), std::move(b), "truncmod"); }

Expr floordiv(Expr a, Expr b) {
  check_operand(a, "floordiv");
  check_operand(b, "floordiv");
  promote_operands(a, b);
  if (a.dtype().is_float()) return floor(a / b);
  return binary<ExprKind::FloorDiv>(std::move(a), std::move(b), "floordiv");
}

Expr floormod(Expr a, Expr b) {
  check_operand(a, "floormod");
  check_operand(b, "floormod");
  promote_operands(a, b);
  if (a.dtype().is_float()) return a - floor(a / b) * b;
  return binary<ExprKind::FloorMod>(std::move(a), std::move(b), "floormod");
}

Expr min(Expr a, Expr b) { return binary<ExprKind::Min>(std::move(a), std::move(b), "min"); }
Expr max(Expr a, Expr b) { return binary<ExprKind::Max>(std::move(a), std::move(b), "max"); }

Expr operator-(Expr a) {
  check_operand(a, "unary -");
  if (a.dtype().is_bool()) fail("unary -: operand ", to_string(a), " is bool");
  return make_zero(a.dtype()) - a;
}

// ---------------------------------------------------------------- comparisons and logic
Expr operator==(Expr a, Expr b) { return binary<ExprKind::EQ>(std::move(a), std::move(b), "=="); }
Expr operator!=(Expr a, Expr b) { return binary<ExprKind::NE>(std::move(a), std::move(b), "!="); }
Expr operator<(Expr a, Expr b) { return binary<ExprKind::LT>(std::move(a), std::move(b), "<"); }
Expr operator<=(Expr a, Expr b) { return binary<ExprKind::LE>(std::move(a), std::move(b), "<="); }
Expr operator>(Expr a, Expr b) { return binary<ExprKind::GT>(std::move(a), std::move(b), ">"); }
Expr operator>=(Expr a, Expr b) { return binary<ExprKind::GE>(std::move(a), std::move(b), ">="); }

Expr operator&&(Expr a, Expr b) {
  require_bool(a, "operator&&");
  require_bool(b, "operator&&");
  // A constant side decides or disappears.
  if (is_scalar_const(a)) return is_zero(a) ? convert(a, promote(a.dtype(), b.dtype())) : convert(b, promote(a.dtype(), b.dtype()));
  if (is_scalar_const(b)) return is_zero(b) ? convert(b, promote(a.dtype(), b.dtype())) : convert(a, promote(a.dtype(), b.dtype()));
  return binary<ExprKind::And>(std::move(a), std::move(b), "&&");
}

Expr operator||(Expr a, Expr b) {
  require_bool(a, "operator||");
  require_bool(b, "operator||");
  if (is_scalar_const(a)) return is_zero(a) ? convert(b, promote(a.dtype(), b.dtype())) : convert(a, promote(a.dtype(), b.dtype()));
  if (is_scalar_const(b)) return is_zero(b) ? convert(a, promote(a.dtype(), b.dtype())) : convert(b, promote(a.dtype(), b.dtype()));
  return binary<ExprKind::Or>(std::move(a), std::move(b), "||");
}

Expr operator!(Expr a) {
  require_bool(a, "operator!");
  if (is_scalar_const(a)) return make_const(a.dtype(), is_zero(a) ? 1 : 0);
  return NotNode::make(std::move(a));
}

Expr all(const std::vector<Expr>& conds) {
  Expr r = make_const(DataType::boolean(), 1);
  for (const Expr& c : conds) r = r && c;
  return r;
}

Expr any(const std::vector<Expr>& conds) {
  Expr r = make_const(DataType::boolean(), 0);
  for (const Expr& c : conds) r = r || c;
  return r;
}

// ---------------------------------------------------------------- select, cast
Expr select(Expr cond, Expr t, Expr f) {
  require_bool(cond, "select");
  check_operand(t, "select");
  check_operand(f, "select");
  promote_operands(t, f);
  if (cond.dtype().lanes > t.dtype().lanes) {
    t = convert(t, t.dtype().with_lanes(cond.dtype().lanes));
    f = convert(f, f.dtype().with_lanes(cond.dtype().lanes));
  }
  if (cond.dtype().lanes != 1 && cond.dtype().lanes != t.dtype().lanes)
    fail("select: condition has ", cond.dtype().lanes, " lanes but the values have ", t.dtype().lanes);
  if (is_scalar_const(cond)) return is_zero(cond) ? f : t;
  return SelectNode::make(std::move(cond), std::move(t), std::move(f));
}

Expr if_then_else(Expr cond, Expr t, Expr f) {
  require_bool(cond, "if_then_else");
  check_operand(t, "if_then_else");
  check_operand(f, "if_then_else");
  promote_operands(t, f);
  if (cond.dtype().lanes != 1 && cond.dtype().lanes != t.dtype().lanes)
    fail("if_then_else: condition has ", cond.dtype().lanes, " lanes but the values have ", t.dtype().lanes);
  if (is_scalar_const(cond)) return is_zero(cond) ? f : t;
  DataType type = t.dtype();
  return CallNode::make(type, Intrinsic::kIfThenElse, {std::move(cond), std::move(t), std::move(f)});
}

Expr cast(DataType t, Expr value) {
  if (!value.defined()) fail("cast to ", t.str(), ": value is undefined");
  if (t.is_handle() || value.dtype().is_handle())
    fail("cast: cannot convert ", value.dtype().str(), " to ", t.str(), " (handles are not values)");
  DataType from = value.dtype();
  if (from == t) return value;
  if (from.lanes != t.lanes) {
    if (from.is_scalar()) return BroadcastNode::make(cast(t.element_of(), std::move(value)), t.lanes);
    fail("cast: cannot change lanes from ", from.str(), " to ", t.str());
  }
  if (is_scalar_const(value)) {
    if (t.is_float()) {
      double v = const_as_double(value);
      if (is_u64(from)) v = double(uint64_t(*as_const_int(value)));
      return make_const(t, v);
    }
    if (t.is_bool()) return make_const(t, !is_zero(value));
    if (const int64_t* iv = as_const_int(value)) return IntImmNode::make(t, *iv);
    double v = const_as_double(value);
    // Float to integer folds only where C++ defines it (finite, in range); else left to run time.
    if (std::isfinite(v) && std::fabs(v) < 9.2e18) return IntImmNode::make(t, int64_t(v));
  }
  return CastNode::make(t, std::move(value));
}

// ---------------------------------------------------------------- math
Expr exp(Expr x) { return math1(Intrinsic::kExp, std::move(x)); }
Expr log(Expr x) { return math1(Intrinsic::kLog, std::move(x)); }
Expr sqrt(Expr x) { return math1(Intrinsic::kSqrt, std::move(x)); }
Expr rsqrt(Expr x) { return math1(Intrinsic::kRsqrt, std::move(x)); }
Expr tanh(Expr x) { return math1(Intrinsic::kTanh, std::move(x)); }
Expr sigmoid(Expr x) { return math1(Intrinsic::kSigmoid, std::move(x)); }
Expr erf(Expr x) { return math1(Intrinsic::kErf, std::move(x)); }
Expr floor(Expr x) { return math1(Intrinsic::kFloor, std::move(x)); }
Expr ceil(Expr x) { return math1(Intrinsic::kCeil, std::move(x)); }
Expr round(Expr x) { return math1(Intrinsic::kRound, std::move(x)); }

Expr abs(Expr x) {
  check_operand(x, "abs");
  if (x.dtype().is_uint() || x.dtype().is_bool()) return x;
  if (x.dtype().is_int()) {
    if (const int64_t* v = as_const_int(x)) return IntImmNode::make(x.dtype(), *v < 0 ? wrap_sub(0, *v) : *v);
    DataType t = x.dtype();
    return CallNode::make(t, Intrinsic::kAbs, {std::move(x)});
  }
  return math1(Intrinsic::kAbs, std::move(x));
}

Expr pow(Expr x, Expr y) {
  x = to_float(x, "pow");
  y = to_float(y, "pow");
  promote_operands(x, y);
  DataType t = x.dtype();
  return CallNode::make(t, Intrinsic::kPow, {std::move(x), std::move(y)});
}

Expr fma(Expr a, Expr b, Expr c) {
  a = to_float(a, "fma");
  b = to_float(b, "fma");
  c = to_float(c, "fma");
  promote_operands(a, b);
  promote_operands(a, c);
  promote_operands(b, c);
  DataType t = a.dtype();
  return CallNode::make(t, Intrinsic::kFma, {std::move(a), std::move(b), std::move(c)});
}

// ---------------------------------------------------------------- limits
Expr min_value(DataType t) {
  if (t.lanes > 1) return BroadcastNode::make(min_value(t.element_of()), t.lanes);
  if (t.is_int()) return IntImmNode::make(t, t.bits >= 64 ? INT64_MIN : -(int64_t(1) << (t.bits - 1)));
  if (t.is_uint() || t.is_bool()) return IntImmNode::make(t, 0);
  if (t.is_float()) {
    if (t.bits == 16) return FloatImmNode::make(t, -65504.0);
    if (t.bits == 32) return FloatImmNode::make(t, -double(FLT_MAX));
    return FloatImmNode::make(t, -DBL_MAX);
  }
  fail("min_value: dtype ", t.str(), " has no smallest value");
}

Expr max_value(DataType t) {
  if (t.lanes > 1) return BroadcastNode::make(max_value(t.element_of()), t.lanes);
  if (t.is_int()) return IntImmNode::make(t, t.bits >= 64 ? INT64_MAX : (int64_t(1) << (t.bits - 1)) - 1);
  if (t.is_uint()) return IntImmNode::make(t, t.bits >= 64 ? int64_t(-1) : (int64_t(1) << t.bits) - 1);
  if (t.is_bool()) return IntImmNode::make(t, 1);
  if (t.is_float()) {
    if (t.bits == 16) return FloatImmNode::make(t, 65504.0);
    if (t.bits == 32) return FloatImmNode::make(t, double(FLT_MAX));
    return FloatImmNode::make(t, DBL_MAX);
  }
  fail("max_value: dtype ", t.str(), " has no largest value");
}

}  // namespace te
