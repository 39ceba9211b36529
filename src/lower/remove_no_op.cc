// remove_no_op: statements with no effect are deleted. Every expression in the IR is pure
// (intrinsics have no side effects), so only stores, allocations, prefetch hints,
// tensor-core operations and asynchronous copies matter.
#include "lower/remove_no_op.h"

#include "te/ir_functor.h"

namespace te {
namespace {

// A tensor-core operation or an asynchronous copy (or its commit / wait): the call is the effect.
bool is_effect_call(const Stmt& s) {
  const auto* eval = s.as<EvaluateNode>();
  const auto* call = eval ? eval->value.as<CallNode>() : nullptr;
  return call && (is_wmma(call->op) || is_async_copy(call->op));
}

Stmt no_op() { return EvaluateNode::make(Expr(0)); }

class RemoveNoOp : public IRMutator {
 public:
  explicit RemoveNoOp(bool keep_prefetch) : keep_prefetch_(keep_prefetch) {}

 protected:
  Stmt mutate_node(const ForNode* op, const Stmt& self) override {
    const int64_t* extent = as_const_int(op->extent);
    if (extent && *extent <= 0) return no_op();
    Stmt body = mutate(op->body);
    if (is_no_op(body)) return no_op();
    if (body.same_as(op->body)) return self;
    return ForNode::make(op->loop_var, op->min, op->extent, op->for_kind, body, op->thread_tag);
  }
  Stmt mutate_node(const EvaluateNode* op, const Stmt& self) override {
    // Tensor-core operations and asynchronous copies are the statement's effect (they write
    // fragments and memory).
    return is_no_op(self) || (keep_prefetch_ && is_prefetch(self)) || is_effect_call(self) ? self : no_op();
  }
  Stmt mutate_node(const StoreNode* op, const Stmt& self) override {
    const auto* load = op->value.as<LoadNode>();
    if (load && load->buffer.same_as(op->buffer) && structural_equal(load->index, op->index)) return no_op();
    return self;
  }
  Stmt mutate_node(const SeqNode* op, const Stmt& self) override {
    std::vector<Stmt> kept;
    bool changed = false;
    for (const Stmt& s : op->seq) {
      Stmt m = mutate(s);
      changed |= !m.same_as(s);
      if (is_no_op(m)) changed = true;
      else kept.push_back(m);
    }
    if (!changed) return self;
    if (kept.empty()) return no_op();
    return SeqNode::make(kept);
  }
  Stmt mutate_node(const IfThenElseNode* op, const Stmt& self) override {
    Stmt then_case = mutate(op->then_case);
    Stmt else_case = op->else_case.defined() ? mutate(op->else_case) : Stmt();
    bool then_empty = is_no_op(then_case);
    bool else_empty = !else_case.defined() || is_no_op(else_case);
    if (then_empty && else_empty) return no_op();
    if (then_empty) return IfThenElseNode::make(NotNode::make(op->condition), else_case);
    if (else_case.defined() && else_empty) else_case = Stmt();
    if (then_case.same_as(op->then_case) && else_case.same_as(op->else_case)) return self;
    return IfThenElseNode::make(op->condition, then_case, else_case);
  }
  Stmt mutate_node(const LetStmtNode* op, const Stmt& self) override {
    Stmt body = mutate(op->body);
    if (is_no_op(body)) return no_op();
    if (body.same_as(op->body)) return self;
    return LetStmtNode::make(op->var, op->value, body);
  }
  Stmt mutate_node(const AttrStmtNode* op, const Stmt& self) override {
    Stmt body = mutate(op->body);
    if (is_no_op(body)) return no_op();
    if (body.same_as(op->body)) return self;
    return AttrStmtNode::make(op->key, op->value, body);
  }
  Stmt mutate_node(const AllocateNode* op, const Stmt& self) override {
    Stmt body = mutate(op->body);
    if (is_no_op(body)) return no_op();
    if (body.same_as(op->body)) return self;
    return AllocateNode::make(op->buffer, op->dtype, op->extents, op->scope, body);
  }

 private:
  bool keep_prefetch_;
};

}  // namespace

bool is_no_op(const Stmt& s) {
  if (!s.defined()) return true;
  const auto* eval = s.as<EvaluateNode>();
  return eval && (eval->value.as<IntImmNode>() || eval->value.as<FloatImmNode>());
}

bool is_prefetch(const Stmt& s) {
  const auto* eval = s.as<EvaluateNode>();
  const auto* call = eval ? eval->value.as<CallNode>() : nullptr;
  return call && call->op == Intrinsic::kPrefetch;
}

Stmt remove_no_op(const Stmt& s) { return RemoveNoOp(true).mutate(s); }

Stmt strip_prefetch(const Stmt& s) { return RemoveNoOp(false).mutate(s); }

}  // namespace te
