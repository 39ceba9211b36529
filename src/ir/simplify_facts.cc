// src/ir/simplify_facts.cc — conditions known to hold while the simplifier is inside an if's
// branch or a select's value: a guard repeated inside itself folds away, and
// min(i*32 + j, 999) under `if (i*32 + j < 1000)` becomes i*32 + j.
#include "ir/simplify_internal.h"

namespace te::simplify_detail {

namespace {

// The values of d allowed by "d (k) 0".
Interval allowed(ExprKind k) {
  switch (k) {
    case ExprKind::LT: return Interval{false, true, 0, -1};
    case ExprKind::LE: return Interval{false, true, 0, 0};
    case ExprKind::GT: return Interval{true, false, 1, 0};
    case ExprKind::GE: return Interval{true, false, 0, 0};
    case ExprKind::EQ: return Interval::point(0);
    default: return Interval::everything();
  }
}

template <ExprKind K>
bool comparison_operands(const Expr& e, Expr* a, Expr* b) {
  const BinaryNode<K>* op = e.as<BinaryNode<K>>();
  if (!op) return false;
  *a = op->a, *b = op->b;
  return true;
}

}  // namespace

size_t Simplifier::push_facts(const Expr& cond, bool holds) {
  if (!cond.defined() || !cond.dtype().is_scalar()) return 0;
  if (const CallNode* call = cond.as<CallNode>()) {
    if (call->op == Intrinsic::kLikely && call->args.size() == 1) return push_facts(call->args[0], holds);
    return 0;
  }
  if (const NotNode* op = cond.as<NotNode>()) return push_facts(op->a, !holds);
  // a && b holds: both hold. a || b fails: both fail.
  if (const AndNode* op = cond.as<AndNode>(); op && holds) return push_facts(op->a, true) + push_facts(op->b, true);
  if (const OrNode* op = cond.as<OrNode>(); op && !holds) return push_facts(op->a, false) + push_facts(op->b, false);
  Expr a, b;
  ExprKind k = cond->kind;
  bool is_cmp = comparison_operands<ExprKind::LT>(cond, &a, &b) || comparison_operands<ExprKind::LE>(cond, &a, &b) ||
                comparison_operands<ExprKind::GT>(cond, &a, &b) || comparison_operands<ExprKind::GE>(cond, &a, &b) ||
                comparison_operands<ExprKind::EQ>(cond, &a, &b) || comparison_operands<ExprKind::NE>(cond, &a, &b);
  if (!is_cmp || !is_linear_dtype(a.dtype())) return 0;
  if (!holds) k = negate_comparison(k);
  if (k == ExprKind::NE) return 0;  // not an interval
  Fact fact;
  fact.kind = k;
  fact.diff.dtype = DataType::int64();
  add_scaled(fact.diff, to_linear(a), 1);
  add_scaled(fact.diff, to_linear(b), -1);
  facts_.push_back(std::move(fact));
  return 1;
}

void Simplifier::pop_facts(size_t count) {
  TE_ICHECK(count <= facts_.size(), "simplifier facts popped more than pushed");
  facts_.resize(facts_.size() - count);
}

Interval Simplifier::fact_interval(const LinearForm& diff) {
  Interval result;
  for (const Fact& f : facts_) {
    // diff == f.diff + delta, or diff == delta - f.diff, for a constant delta.
    LinearForm shifted = diff;
    add_scaled(shifted, f.diff, -1);
    if (shifted.is_constant()) {
      result = interval_intersect(result, interval_add(allowed(f.kind), Interval::point(shifted.constant)));
      continue;
    }
    LinearForm mirrored = diff;
    add_scaled(mirrored, f.diff, 1);
    if (mirrored.is_constant())
      result = interval_intersect(result, interval_sub(Interval::point(mirrored.constant), allowed(f.kind)));
  }
  return result;
}

}  // namespace te::simplify_detail
