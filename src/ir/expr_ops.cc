// The operators a user writes inside compute bodies: promotion to a common dtype (rules in
// te/ir.h), folding of constant operands, math intrinsics and min/max values per dtype.
#include "te/expr_ops.h"

#include <cmath>
#include <limits>

namespace te {

namespace {
// Rank in the promotion order bool < int8 < uint8 < int16 < int32 < int64 < float16 < f32 < f64.
int promotion_rank(DataType t) {
  if (t.is_bool()) return 0;
  if (t.is_float()) return 100 + t.bits;
  if (t.is_uint()) return 1 + 2 * t.bits;  // uint8 between int8 and int16
  return 2 * t.bits;
}

bool is_const(const Expr& e) { return e.as<IntImmNode>() || e.as<FloatImmNode>(); }

double const_value(const Expr& e) {
  if (const IntImmNode* i = e.as<IntImmNode>()) return double(i->value);
  return e.as<FloatImmNode>()->value;
}

void require_defined(const Expr& e, const char* what) {
  if (!e.defined()) fail(what, ": an operand is undefined");
}

// Converts a scalar operand to `lanes` lanes (for vector code built by passes).
Expr match_lanes(Expr e, int lanes) {
  if (e.dtype().lanes == lanes) return e;
  if (e.dtype().lanes == 1) return BroadcastNode::make(e, lanes);
  fail("operands with ", e.dtype().lanes, " and ", lanes, " lanes cannot be combined");
}

int64_t floordiv_i(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}
int64_t floormod_i(int64_t a, int64_t b) { return a - floordiv_i(a, b) * b; }

template <ExprKind K>
Expr fold_or_make(Expr a, Expr b) {
  const IntImmNode* ia = a.as<IntImmNode>();
  const IntImmNode* ib = b.as<IntImmNode>();
  DataType t = a.dtype();
  if (ia && ib) {
    int64_t x = ia->value, y = ib->value;
    switch (K) {
      case ExprKind::Add: return IntImmNode::make(t, x + y);
      case ExprKind::Sub: return IntImmNode::make(t, x - y);
      case ExprKind::Mul: return IntImmNode::make(t, x * y);
      case ExprKind::Div: if (y != 0) return IntImmNode::make(t, x / y); break;
      case ExprKind::Mod: if (y != 0) return IntImmNode::make(t, x % y); break;
      case ExprKind::FloorDiv: if (y != 0) return IntImmNode::make(t, floordiv_i(x, y)); break;
      case ExprKind::FloorMod: if (y != 0) return IntImmNode::make(t, floormod_i(x, y)); break;
      case ExprKind::Min: return IntImmNode::make(t, std::min(x, y));
      case ExprKind::Max: return IntImmNode::make(t, std::max(x, y));
      case ExprKind::EQ: return IntImmNode::make(DataType::boolean(), x == y);
      case ExprKind::NE: return IntImmNode::make(DataType::boolean(), x != y);
      case ExprKind::LT: return IntImmNode::make(DataType::boolean(), x < y);
      case ExprKind::LE: return IntImmNode::make(DataType::boolean(), x <= y);
      case ExprKind::GT: return IntImmNode::make(DataType::boolean(), x > y);
      case ExprKind::GE: return IntImmNode::make(DataType::boolean(), x >= y);
      case ExprKind::And: return IntImmNode::make(DataType::boolean(), x && y);
      case ExprKind::Or: return IntImmNode::make(DataType::boolean(), x || y);
      default: break;
    }
  }
  const FloatImmNode* fa = a.as<FloatImmNode>();
  const FloatImmNode* fb = b.as<FloatImmNode>();
  if (fa && fb) {
    double x = fa->value, y = fb->value;
    switch (K) {
      case ExprKind::Add: return FloatImmNode::make(t, x + y);
      case ExprKind::Sub: return FloatImmNode::make(t, x - y);
      case ExprKind::Mul: return FloatImmNode::make(t, x * y);
      case ExprKind::Div: return FloatImmNode::make(t, x / y);
      case ExprKind::Min: return FloatImmNode::make(t, std::min(x, y));
      case ExprKind::Max: return FloatImmNode::make(t, std::max(x, y));
      case ExprKind::EQ: return IntImmNode::make(DataType::boolean(), x == y);
      case ExprKind::NE: return IntImmNode::make(DataType::boolean(), x != y);
      case ExprKind::LT: return IntImmNode::make(DataType::boolean(), x < y);
      case ExprKind::LE: return IntImmNode::make(DataType::boolean(), x <= y);
      case ExprKind::GT: return IntImmNode::make(DataType::boolean(), x > y);
      case ExprKind::GE: return IntImmNode::make(DataType::boolean(), x >= y);
      default: break;
    }
  }
  // Cheap identities that keep index expressions readable (exact for every dtype).
  if (K == ExprKind::Add && t.is_integer()) {
    if (is_zero(b)) return a;
    if (is_zero(a)) return b;
  }
  if (K == ExprKind::Sub && t.is_integer() && is_zero(b)) return a;
  if (K == ExprKind::Mul && t.is_integer()) {
    if (is_one(b)) return a;
    if (is_one(a)) return b;
    if (is_zero(a) || is_zero(b)) return make_zero(t);
  }
  if ((K == ExprKind::Div || K == ExprKind::FloorDiv) && t.is_integer() && is_one(b)) return a;
  return BinaryNode<K>::make(std::move(a), std::move(b));
}

template <ExprKind K>
Expr binary(Expr a, Expr b, const char* what) {
  require_defined(a, what);
  require_defined(b, what);
  promote_operands(a, b);
  return fold_or_make<K>(std::move(a), std::move(b));
}

Expr to_bool(Expr e, const char* what) {
  require_defined(e, what);
  if (e.dtype().element_of().is_bool()) return e;
  if (e.dtype().is_handle()) fail(what, ": a handle is not a condition");
  return fold_or_make<ExprKind::NE>(e, make_zero(e.dtype()));
}

Expr to_float(Expr x) {
  if (x.dtype().element_of().is_float()) return x;
  return cast(DataType::float32().with_lanes(x.dtype().lanes), x);
}

Expr math1(Intrinsic op, Expr x, const char* what) {
  require_defined(x, what);
  x = to_float(x);
  if (const FloatImmNode* f = x.as<FloatImmNode>()) {
    double v = f->value, r;
    switch (op) {
      case Intrinsic::kExp: r = std::exp(v); break;
      case Intrinsic::kLog: r = std::log(v); break;
      case Intrinsic::kSqrt: r = std::sqrt(v); break;
      case Intrinsic::kFloor: r = std::floor(v); break;
      case Intrinsic::kCeil: r = std::ceil(v); break;
      case Intrinsic::kRound: r = std::round(v); break;
      default: return CallNode::make(x.dtype(), op, {x});
    }
    return FloatImmNode::make(x.dtype(), r);
  }
  DataType t = x.dtype();
  return CallNode::make(t, op, {std::move(x)});
}
}  // namespace

DataType promote(DataType a, DataType b) {
  if (a.lanes != b.lanes && a.lanes != 1 && b.lanes != 1)
    fail("cannot combine ", a.str(), " and ", b.str(), ": different vector lanes");
  int lanes = std::max(a.lanes, b.lanes);
  if (a.is_handle() || b.is_handle()) fail("cannot do arithmetic on a handle (", a.str(), ", ", b.str(), ")");
  DataType ea = a.element_of(), eb = b.element_of();
  DataType r = promotion_rank(ea) >= promotion_rank(eb) ? ea : eb;
  return r.with_lanes(lanes);
}

void promote_operands(Expr& a, Expr& b) {
  DataType ta = a.dtype(), tb = b.dtype();
  if (ta.element_of() != tb.element_of()) {
    DataType target;
    bool ca = is_const(a), cb = is_const(b);
    if (ca != cb) {
      // A constant adapts to the other side, unless it is a float meeting an integer
      // expression: i * 0.5 must not truncate 0.5, so it becomes float32.
      const Expr& var_side = ca ? b : a;
      const Expr& const_side = ca ? a : b;
      DataType vt = var_side.dtype().element_of();
      if (const_side.dtype().is_float() && !vt.is_float())
        target = DataType::float32();
      else
        target = vt;
    } else {
      target = promote(ta, tb).element_of();
    }
    if (ta.element_of() != target) a = cast(target.with_lanes(ta.lanes), a);
    if (tb.element_of() != target) b = cast(target.with_lanes(tb.lanes), b);
  }
  int lanes = std::max(a.dtype().lanes, b.dtype().lanes);
  a = match_lanes(a, lanes);
  b = match_lanes(b, lanes);
}

Expr operator+(Expr a, Expr b) { return binary<ExprKind::Add>(std::move(a), std::move(b), "+"); }
Expr operator-(Expr a, Expr b) { return binary<ExprKind::Sub>(std::move(a), std::move(b), "-"); }
Expr operator*(Expr a, Expr b) { return binary<ExprKind::Mul>(std::move(a), std::move(b), "*"); }
Expr operator/(Expr a, Expr b) { return binary<ExprKind::Div>(std::move(a), std::move(b), "/"); }
Expr operator%(Expr a, Expr b) {
  require_defined(a, "%");
  require_defined(b, "%");
  promote_operands(a, b);
  if (a.dtype().element_of().is_float()) fail("% needs integer operands, got ", a.dtype().str());
  return fold_or_make<ExprKind::Mod>(a, b);
}
Expr operator-(Expr a) {
  require_defined(a, "unary -");
  if (const IntImmNode* i = a.as<IntImmNode>()) return IntImmNode::make(a.dtype(), -i->value);
  if (const FloatImmNode* f = a.as<FloatImmNode>()) return FloatImmNode::make(a.dtype(), -f->value);
  return make_zero(a.dtype()) - a;
}
Expr operator==(Expr a, Expr b) { return binary<ExprKind::EQ>(std::move(a), std::move(b), "=="); }
Expr operator!=(Expr a, Expr b) { return binary<ExprKind::NE>(std::move(a), std::move(b), "!="); }
Expr operator<(Expr a, Expr b) { return binary<ExprKind::LT>(std::move(a), std::move(b), "<"); }
Expr operator<=(Expr a, Expr b) { return binary<ExprKind::LE>(std::move(a), std::move(b), "<="); }
Expr operator>(Expr a, Expr b) { return binary<ExprKind::GT>(std::move(a), std::move(b), ">"); }
Expr operator>=(Expr a, Expr b) { return binary<ExprKind::GE>(std::move(a), std::move(b), ">="); }
Expr operator&&(Expr a, Expr b) {
  a = to_bool(std::move(a), "&&");
  b = to_bool(std::move(b), "&&");
  if (is_zero(a) || is_zero(b)) return IntImmNode::make(DataType::boolean(), 0);
  if (is_one(a) && a.dtype().is_scalar()) return b;
  if (is_one(b) && b.dtype().is_scalar()) return a;
  promote_operands(a, b);
  return fold_or_make<ExprKind::And>(a, b);
}
Expr operator||(Expr a, Expr b) {
  a = to_bool(std::move(a), "||");
  b = to_bool(std::move(b), "||");
  if ((is_one(a) && a.dtype().is_scalar()) || (is_one(b) && b.dtype().is_scalar()))
    return IntImmNode::make(DataType::boolean(), 1);
  if (is_zero(a)) return b;
  if (is_zero(b)) return a;
  promote_operands(a, b);
  return fold_or_make<ExprKind::Or>(a, b);
}
Expr operator!(Expr a) {
  a = to_bool(std::move(a), "!");
  if (const IntImmNode* i = a.as<IntImmNode>()) return IntImmNode::make(DataType::boolean(), !i->value);
  return NotNode::make(a);
}

Expr floordiv(Expr a, Expr b) {
  require_defined(a, "floordiv");
  require_defined(b, "floordiv");
  promote_operands(a, b);
  if (a.dtype().element_of().is_float()) return floor(a / b);
  return fold_or_make<ExprKind::FloorDiv>(a, b);
}
Expr floormod(Expr a, Expr b) {
  require_defined(a, "floormod");
  require_defined(b, "floormod");
  promote_operands(a, b);
  if (a.dtype().element_of().is_float()) fail("floormod needs integer operands, got ", a.dtype().str());
  return fold_or_make<ExprKind::FloorMod>(a, b);
}
Expr truncdiv(Expr a, Expr b) { return a / b; }
Expr truncmod(Expr a, Expr b) { return a % b; }
Expr min(Expr a, Expr b) { return binary<ExprKind::Min>(std::move(a), std::move(b), "min"); }
Expr max(Expr a, Expr b) { return binary<ExprKind::Max>(std::move(a), std::move(b), "max"); }

Expr select(Expr cond, Expr t, Expr f) {
  cond = to_bool(std::move(cond), "select");
  require_defined(t, "select");
  require_defined(f, "select");
  promote_operands(t, f);
  if (const IntImmNode* c = cond.as<IntImmNode>()) return c->value ? t : f;
  return SelectNode::make(cond, t, f);
}

Expr if_then_else(Expr cond, Expr t, Expr f) {
  cond = to_bool(std::move(cond), "if_then_else");
  require_defined(t, "if_then_else");
  require_defined(f, "if_then_else");
  promote_operands(t, f);
  if (const IntImmNode* c = cond.as<IntImmNode>()) return c->value ? t : f;
  DataType type = t.dtype();
  return CallNode::make(type, Intrinsic::kIfThenElse, {cond, t, f});
}

Expr cast(DataType t, Expr value) {
  require_defined(value, "cast");
  if (t.lanes == 1 && value.dtype().lanes > 1) t = t.with_lanes(value.dtype().lanes);
  if (value.dtype() == t) return value;
  if (t.is_handle() || value.dtype().is_handle()) fail("cannot cast ", value.dtype().str(), " to ", t.str());
  if (t.is_scalar()) {
    if (const IntImmNode* i = value.as<IntImmNode>()) {
      if (t.is_float()) return FloatImmNode::make(t, double(i->value));
      return IntImmNode::make(t, i->value);
    }
    if (const FloatImmNode* f = value.as<FloatImmNode>()) {
      if (t.is_float()) return FloatImmNode::make(t, f->value);
      if (t.is_bool()) return IntImmNode::make(t, f->value != 0);
      if (std::isfinite(f->value)) return IntImmNode::make(t, int64_t(std::trunc(f->value)));
    }
  }
  return CastNode::make(t, std::move(value));
}

Expr all(const std::vector<Expr>& conds) {
  Expr r = IntImmNode::make(DataType::boolean(), 1);
  for (const Expr& c : conds) r = r && c;
  return r;
}
Expr any(const std::vector<Expr>& conds) {
  Expr r = IntImmNode::make(DataType::boolean(), 0);
  for (const Expr& c : conds) r = r || c;
  return r;
}

Expr exp(Expr x) { return math1(Intrinsic::kExp, std::move(x), "exp"); }
Expr log(Expr x) { return math1(Intrinsic::kLog, std::move(x), "log"); }
Expr sqrt(Expr x) { return math1(Intrinsic::kSqrt, std::move(x), "sqrt"); }
Expr rsqrt(Expr x) { return math1(Intrinsic::kRsqrt, std::move(x), "rsqrt"); }
Expr tanh(Expr x) { return math1(Intrinsic::kTanh, std::move(x), "tanh"); }
Expr sigmoid(Expr x) { return math1(Intrinsic::kSigmoid, std::move(x), "sigmoid"); }
Expr erf(Expr x) { return math1(Intrinsic::kErf, std::move(x), "erf"); }
Expr floor(Expr x) { return math1(Intrinsic::kFloor, std::move(x), "floor"); }
Expr ceil(Expr x) { return math1(Intrinsic::kCeil, std::move(x), "ceil"); }
Expr round(Expr x) { return math1(Intrinsic::kRound, std::move(x), "round"); }
Expr pow(Expr x, Expr y) {
  require_defined(x, "pow");
  require_defined(y, "pow");
  x = to_float(x);
  promote_operands(x, y);
  DataType t = x.dtype();
  return CallNode::make(t, Intrinsic::kPow, {x, y});
}
Expr abs(Expr x) {
  require_defined(x, "abs");
  DataType t = x.dtype();
  if (t.element_of().is_uint() || t.element_of().is_bool()) return x;
  if (const IntImmNode* i = x.as<IntImmNode>()) return IntImmNode::make(t, i->value < 0 ? -i->value : i->value);
  if (const FloatImmNode* f = x.as<FloatImmNode>()) return FloatImmNode::make(t, std::fabs(f->value));
  return CallNode::make(t, Intrinsic::kAbs, {x});
}
Expr fma(Expr a, Expr b, Expr c) {
  require_defined(a, "fma");
  require_defined(b, "fma");
  require_defined(c, "fma");
  promote_operands(a, b);
  promote_operands(a, c);
  promote_operands(b, c);
  if (!a.dtype().element_of().is_float()) return a * b + c;
  DataType t = a.dtype();
  return CallNode::make(t, Intrinsic::kFma, {a, b, c});
}

Expr min_value(DataType t) {
  DataType e = t.element_of();
  Expr v;
  if (e.is_float()) {
    double lo = e.bits == 64 ? -std::numeric_limits<double>::max()
                : e.bits == 16 ? -65504.0 : double(-std::numeric_limits<float>::max());
    v = FloatImmNode::make(e, lo);
  } else if (e.is_uint() || e.is_bool()) {
    v = IntImmNode::make(e, 0);
  } else {
    v = IntImmNode::make(e, e.bits >= 64 ? std::numeric_limits<int64_t>::min() : -(int64_t(1) << (e.bits - 1)));
  }
  return t.lanes > 1 ? BroadcastNode::make(v, t.lanes) : v;
}

Expr max_value(DataType t) {
  DataType e = t.element_of();
  Expr v;
  if (e.is_float()) {
    double hi = e.bits == 64 ? std::numeric_limits<double>::max()
                : e.bits == 16 ? 65504.0 : double(std::numeric_limits<float>::max());
    v = FloatImmNode::make(e, hi);
  } else if (e.is_bool()) {
    v = IntImmNode::make(e, 1);
  } else if (e.is_uint()) {
    v = IntImmNode::make(e, e.bits >= 64 ? -1 : int64_t((uint64_t(1) << e.bits) - 1));
  } else {
    v = IntImmNode::make(e, e.bits >= 64 ? std::numeric_limits<int64_t>::max() : (int64_t(1) << (e.bits - 1)) - 1);
  }
  return t.lanes > 1 ? BroadcastNode::make(v, t.lanes) : v;
}

}  // namespace te
