// Monotonicity of guard conditions in a loop variable (see lane_guard.h).
#include "lower/lane_guard.h"

#include "te/ir_functor.h"

namespace te {
namespace {

enum class Direction { kConstant, kIncreasing, kDecreasing, kUnknown };

Direction negate(Direction d) {
  if (d == Direction::kIncreasing) return Direction::kDecreasing;
  if (d == Direction::kDecreasing) return Direction::kIncreasing;
  return d;
}

Direction combine(Direction a, Direction b) {
  if (a == Direction::kConstant) return b;
  if (b == Direction::kConstant) return a;
  return a == b ? a : Direction::kUnknown;
}

bool uses(const Expr& e, const VarNode* var) {
  return uses_var(e, [var](const VarNode* v) { return v == var; });
}

// How integer expression e moves when var increases.
Direction direction(const Expr& e, const VarNode* var) {
  if (!uses(e, var)) return Direction::kConstant;
  if (!e.dtype().is_integer() || !e.dtype().is_scalar()) return Direction::kUnknown;
  if (e.get() == var) return Direction::kIncreasing;
  if (const auto* add = e.as<AddNode>()) return combine(direction(add->a, var), direction(add->b, var));
  if (const auto* sub = e.as<SubNode>()) return combine(direction(sub->a, var), negate(direction(sub->b, var)));
  if (const auto* mn = e.as<MinNode>()) return combine(direction(mn->a, var), direction(mn->b, var));
  if (const auto* mx = e.as<MaxNode>()) return combine(direction(mx->a, var), direction(mx->b, var));
  if (const auto* mul = e.as<MulNode>()) {
    const int64_t* ca = as_const_int(mul->a);
    const int64_t* cb = as_const_int(mul->b);
    if (cb) return *cb >= 0 ? direction(mul->a, var) : negate(direction(mul->a, var));
    if (ca) return *ca >= 0 ? direction(mul->b, var) : negate(direction(mul->b, var));
    return Direction::kUnknown;
  }
  auto by_positive_constant = [&](const Expr& a, const Expr& b) {
    const int64_t* c = as_const_int(b);
    return c && *c > 0 ? direction(a, var) : Direction::kUnknown;
  };
  if (const auto* div = e.as<FloorDivNode>()) return by_positive_constant(div->a, div->b);
  if (const auto* div = e.as<DivNode>()) return by_positive_constant(div->a, div->b);
  if (const auto* cast = e.as<CastNode>()) {
    DataType from = cast->value.dtype();
    bool widening = from.is_integer() && cast->dtype.is_int() && cast->dtype.bits > from.bits;
    bool same = from == cast->dtype;
    return widening || same ? direction(cast->value, var) : Direction::kUnknown;
  }
  return Direction::kUnknown;
}

template <ExprKind K>
bool monotone_comparison(const Expr& cond, const VarNode* var) {
  const auto* cmp = cond.as<BinaryNode<K>>();
  if (!cmp) return false;
  return combine(direction(cmp->a, var), negate(direction(cmp->b, var))) != Direction::kUnknown;
}

Expr strip_likely(const Expr& e) {
  const auto* call = e.as<CallNode>();
  return call && call->op == Intrinsic::kLikely ? strip_likely(call->args[0]) : e;
}

}  // namespace

bool is_monotone_condition(const Expr& cond_in, const VarNode* var) {
  Expr cond = strip_likely(cond_in);
  if (!cond.dtype().is_bool() || !cond.dtype().is_scalar()) return false;
  if (!uses(cond, var)) return true;
  if (const auto* both = cond.as<AndNode>())
    return is_monotone_condition(both->a, var) && is_monotone_condition(both->b, var);
  return monotone_comparison<ExprKind::LT>(cond, var) || monotone_comparison<ExprKind::LE>(cond, var) ||
         monotone_comparison<ExprKind::GT>(cond, var) || monotone_comparison<ExprKind::GE>(cond, var);
}

Expr holds_at_both_ends(const Expr& cond_in, const Var& var, const Expr& lo, const Expr& hi) {
  Expr cond = strip_likely(cond_in);
  Expr at_lo = substitute(cond, {{var.get(), lo}});
  Expr at_hi = substitute(cond, {{var.get(), hi}});
  return AndNode::make(at_lo, at_hi);
}

}  // namespace te
