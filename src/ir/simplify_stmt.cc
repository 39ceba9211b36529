// src/ir/simplify_stmt.cc — statement rules of the simplifier and its scoped facts: a For
// adds loop_var in [min, min + extent) while inside it, a LetStmt adds its value's bounds (or
// substitutes a constant/variable value), extent-1 loops are replaced by their body.
#include "ir/simplify_internal.h"

namespace te::simplify_detail {

bool is_no_op(const Stmt& s) {
  if (!s.defined()) return true;
  const EvaluateNode* ev = s.as<EvaluateNode>();
  return ev && (ev->value.as<IntImmNode>() || ev->value.as<FloatImmNode>());
}

Stmt make_no_op() { return EvaluateNode::make(IntImmNode::make(DataType::int32(), 0)); }

Simplifier::Saved Simplifier::push_range(const VarNode* v, const Range& r) {
  Saved saved{v, false, Range(), false, Expr()};
  auto it = ranges_.find(v);
  if (it != ranges_.end()) saved.had_range = true, saved.range = it->second;
  auto sub = substitutions_.find(v);
  if (sub != substitutions_.end()) {
    // A new binding of the same variable hides the outer substitution.
    saved.had_subst = true, saved.subst = sub->second;
    substitutions_.erase(sub);
  }
  ranges_[v] = r;
  var_bounds_.clear();  // other variables' ranges may mention v
  return saved;
}

Simplifier::Saved Simplifier::push_substitution(const VarNode* v, const Expr& value) {
  Saved saved{v, false, Range(), false, Expr()};
  auto it = ranges_.find(v);
  if (it != ranges_.end()) {
    saved.had_range = true, saved.range = it->second;
    ranges_.erase(it);
  }
  auto sub = substitutions_.find(v);
  if (sub != substitutions_.end()) saved.had_subst = true, saved.subst = sub->second;
  substitutions_[v] = value;
  var_bounds_.clear();
  return saved;
}

void Simplifier::pop(const Saved& saved) {
  if (saved.had_range) {
    ranges_[saved.var] = saved.range;
  } else {
    ranges_.erase(saved.var);
  }
  if (saved.had_subst) {
    substitutions_[saved.var] = saved.subst;
  } else {
    substitutions_.erase(saved.var);
  }
  var_bounds_.clear();
}

bool expr_uses_var(const Expr& e, const VarNode* var) {
  bool found = false;
  post_order_visit(e, [&](const Expr& x) {
    if (x.get() == var) found = true;
    if (const LoadNode* op = x.as<LoadNode>()) found = found || op->buffer.get() == var;
  });
  return found;
}

namespace {

bool stmt_uses_var(const Stmt& s, const VarNode* var) {
  bool found = false;
  post_order_visit(s, [&](const Expr& e) {
    if (e.get() == var) found = true;
    // Buffers are handle Vars held directly by Load/Store/Allocate, not as expressions.
    if (const LoadNode* op = e.as<LoadNode>()) found = found || op->buffer.get() == var;
  }, [&](const Stmt& st) {
    if (const StoreNode* op = st.as<StoreNode>()) found = found || op->buffer.get() == var;
    if (const AllocateNode* op = st.as<AllocateNode>()) found = found || op->buffer.get() == var;
  });
  return found;
}

}  // namespace

Stmt Simplifier::mutate_node(const ForNode* op, const Stmt& self) {
  Expr min = mutate(op->min), extent = mutate(op->extent);
  const int64_t* ext = as_const_int(extent);
  if (ext && *ext <= 0) return make_no_op();
  if (ext && *ext == 1 && op->for_kind != ForKind::kThreadBinding) {
    // One iteration: the body with loop_var replaced by min.
    Saved saved = push_substitution(op->loop_var.get(), min);
    Stmt body = mutate(op->body);
    pop(saved);
    return body;
  }
  Saved saved = push_range(op->loop_var.get(), Range(min, extent));
  Stmt body = mutate(op->body);
  pop(saved);
  if (is_no_op(body)) return make_no_op();
  if (min.same_as(op->min) && extent.same_as(op->extent) && body.same_as(op->body)) return self;
  return ForNode::make(op->loop_var, min, extent, op->for_kind, body, op->thread_tag);
}

Stmt Simplifier::mutate_node(const LetStmtNode* op, const Stmt& self) {
  Expr value = mutate(op->value);
  // Handle variables are not substituted: Load/Store hold buffers as Vars, not expressions.
  if (!op->var.dtype().is_handle() && (as_const_int(value) || as_const_float(value) || value.as<VarNode>())) {
    Saved saved = push_substitution(op->var.get(), value);
    Stmt body = mutate(op->body);
    pop(saved);
    return body;
  }
  bool pushed = false;
  Saved saved{op->var.get(), false, Range(), false, Expr()};
  DataType t = op->var.dtype();
  if (t.is_int() && t.is_scalar()) {
    Interval b = bound(value);
    if (b.is_bounded() && b.max - b.min >= 0 && b.max - b.min < dtype_max(t)) {
      saved = push_range(op->var.get(), Range(int_const(t, b.min), int_const(t, b.max - b.min + 1)));
      pushed = true;
    }
  }
  Stmt body = mutate(op->body);
  if (pushed) pop(saved);
  if (!stmt_uses_var(body, op->var.get())) return body;  // values are pure: an unused let goes
  if (value.same_as(op->value) && body.same_as(op->body)) return self;
  return LetStmtNode::make(op->var, value, body);
}

Stmt Simplifier::mutate_node(const IfThenElseNode* op, const Stmt& self) {
  Expr cond = mutate(op->condition);
  if (const IntImmNode* imm = cond.as<IntImmNode>()) {
    if (imm->value != 0) return mutate(op->then_case);
    return op->else_case.defined() ? mutate(op->else_case) : make_no_op();
  }
  size_t n = push_facts(cond, true);
  Stmt then_case = mutate(op->then_case);
  pop_facts(n);
  Stmt else_case;
  if (op->else_case.defined()) {
    n = push_facts(cond, false);
    else_case = mutate(op->else_case);
    pop_facts(n);
  }
  if (else_case.defined() && is_no_op(else_case)) else_case = Stmt();
  if (is_no_op(then_case) && !else_case.defined()) return make_no_op();
  if (is_no_op(then_case)) {
    // if (c) {} else { s }  ->  if (!c) { s }
    return IfThenElseNode::make(rewrite_not(cond), else_case);
  }
  if (cond.same_as(op->condition) && then_case.same_as(op->then_case) && else_case.same_as(op->else_case))
    return self;
  return IfThenElseNode::make(cond, then_case, else_case);
}

Stmt Simplifier::mutate_node(const SeqNode* op, const Stmt& self) {
  std::vector<Stmt> kept;
  kept.reserve(op->seq.size());
  bool changed = false;
  for (const Stmt& s : op->seq) {
    Stmt m = mutate(s);
    changed = changed || !m.same_as(s);
    if (is_no_op(m)) {
      changed = true;
      continue;
    }
    kept.push_back(m);
  }
  if (!changed) return self;
  if (kept.empty()) return make_no_op();
  if (kept.size() == 1) return kept[0];
  return SeqNode::make(std::move(kept));
}

}  // namespace te::simplify_detail
