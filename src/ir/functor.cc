// src/ir/functor.cc — default IRVisitor / IRMutator behaviour for every node kind, and the
// small generic walks built on them (post_order_visit, substitute, uses_var).
//
// Binding sites (the loop variable of a For, the variable of a Let/LetStmt, the buffer of an
// Allocate/Load/Store) are not visited as expressions: only uses are, as in TVM.
#include "te/ir_functor.h"

namespace te {

// ---------------------------------------------------------------- visitor
void IRVisitor::visit(const Expr& e) {
  if (!e.defined()) return;
  switch (e->kind) {
#define TE_X(name)                                               \
  case ExprKind::name:                                           \
    visit_node(static_cast<const name##Node*>(e.get()));         \
    return;
    TE_EXPR_NODES(TE_X)
#undef TE_X
  }
}

void IRVisitor::visit(const Stmt& s) {
  if (!s.defined()) return;
  switch (s->kind) {
#define TE_X(name)                                               \
  case StmtKind::name:                                           \
    visit_node(static_cast<const name##Node*>(s.get()));         \
    return;
    TE_STMT_NODES(TE_X)
#undef TE_X
  }
}

void IRVisitor::visit_node(const IntImmNode*) {}
void IRVisitor::visit_node(const FloatImmNode*) {}
void IRVisitor::visit_node(const VarNode*) {}
#define TE_BIN(name) \
  void IRVisitor::visit_node(const name##Node* op) { visit_binary(op); }
TE_BIN(Add)
TE_BIN(Sub)
TE_BIN(Mul)
TE_BIN(Div)
TE_BIN(Mod)
TE_BIN(FloorDiv)
TE_BIN(FloorMod)
TE_BIN(Min)
TE_BIN(Max)
TE_BIN(EQ)
TE_BIN(NE)
TE_BIN(LT)
TE_BIN(LE)
TE_BIN(GT)
TE_BIN(GE)
TE_BIN(And)
TE_BIN(Or)
#undef TE_BIN
void IRVisitor::visit_node(const NotNode* op) { visit(op->a); }
void IRVisitor::visit_node(const SelectNode* op) {
  visit(op->condition);
  visit(op->true_value);
  visit(op->false_value);
}
void IRVisitor::visit_node(const CastNode* op) { visit(op->value); }
void IRVisitor::visit_node(const CallNode* op) {
  for (const Expr& a : op->args) visit(a);
}
void IRVisitor::visit_node(const LoadNode* op) { visit(op->index); }
void IRVisitor::visit_node(const RampNode* op) {
  visit(op->base);
  visit(op->stride);
}
void IRVisitor::visit_node(const BroadcastNode* op) { visit(op->value); }
void IRVisitor::visit_node(const LetNode* op) {
  visit(op->value);
  visit(op->body);
}
void IRVisitor::visit_node(const TensorReadNode* op) {
  for (const Expr& i : op->indices) visit(i);
}
void IRVisitor::visit_node(const ReduceNode* op) {
  for (const IterVar& iv : op->axis) {
    visit(iv.dom().min);
    visit(iv.dom().extent);
  }
  for (const Expr& s : op->source) visit(s);
  visit(op->condition);
}

void IRVisitor::visit_node(const LetStmtNode* op) {
  visit(op->value);
  visit(op->body);
}
void IRVisitor::visit_node(const AttrStmtNode* op) {
  visit(op->value);
  visit(op->body);
}
void IRVisitor::visit_node(const ForNode* op) {
  visit(op->min);
  visit(op->extent);
  visit(op->body);
}
void IRVisitor::visit_node(const StoreNode* op) {
  visit(op->value);
  visit(op->index);
}
void IRVisitor::visit_node(const TensorStoreNode* op) {
  visit(op->value);
  for (const Expr& i : op->indices) visit(i);
}
void IRVisitor::visit_node(const RealizeNode* op) {
  for (const Range& r : op->bounds) {
    visit(r.min);
    visit(r.extent);
  }
  visit(op->body);
}
void IRVisitor::visit_node(const AllocateNode* op) {
  for (const Expr& e : op->extents) visit(e);
  visit(op->body);
}
void IRVisitor::visit_node(const SeqNode* op) {
  for (const Stmt& s : op->seq) visit(s);
}
void IRVisitor::visit_node(const IfThenElseNode* op) {
  visit(op->condition);
  visit(op->then_case);
  visit(op->else_case);
}
void IRVisitor::visit_node(const EvaluateNode* op) { visit(op->value); }

// ---------------------------------------------------------------- mutator
Expr IRMutator::mutate(const Expr& e) {
  if (!e.defined()) return e;
  switch (e->kind) {
#define TE_X(name) \
  case ExprKind::name: return mutate_node(static_cast<const name##Node*>(e.get()), e);
    TE_EXPR_NODES(TE_X)
#undef TE_X
  }
  return e;
}

Stmt IRMutator::mutate(const Stmt& s) {
  if (!s.defined()) return s;
  switch (s->kind) {
#define TE_X(name) \
  case StmtKind::name: return mutate_node(static_cast<const name##Node*>(s.get()), s);
    TE_STMT_NODES(TE_X)
#undef TE_X
  }
  return s;
}

std::vector<Expr> IRMutator::mutate_all(const std::vector<Expr>& v, bool* changed) {
  std::vector<Expr> out;
  out.reserve(v.size());
  for (const Expr& e : v) {
    out.push_back(mutate(e));
    if (!out.back().same_as(e)) *changed = true;
  }
  return out;
}

Expr IRMutator::mutate_node(const IntImmNode*, const Expr& self) { return self; }
Expr IRMutator::mutate_node(const FloatImmNode*, const Expr& self) { return self; }
Expr IRMutator::mutate_node(const VarNode*, const Expr& self) { return self; }
#define TE_BIN(name) \
  Expr IRMutator::mutate_node(const name##Node* op, const Expr& self) { return mutate_binary(op, self); }
TE_BIN(Add)
TE_BIN(Sub)
TE_BIN(Mul)
TE_BIN(Div)
TE_BIN(Mod)
TE_BIN(FloorDiv)
TE_BIN(FloorMod)
TE_BIN(Min)
TE_BIN(Max)
TE_BIN(EQ)
TE_BIN(NE)
TE_BIN(LT)
TE_BIN(LE)
TE_BIN(GT)
TE_BIN(GE)
TE_BIN(And)
TE_BIN(Or)
#undef TE_BIN

Expr IRMutator::mutate_node(const NotNode* op, const Expr& self) {
  Expr a = mutate(op->a);
  return a.same_as(op->a) ? self : NotNode::make(a);
}
Expr IRMutator::mutate_node(const SelectNode* op, const Expr& self) {
  Expr c = mutate(op->condition), t = mutate(op->true_value), f = mutate(op->false_value);
  if (c.same_as(op->condition) && t.same_as(op->true_value) && f.same_as(op->false_value)) return self;
  return SelectNode::make(c, t, f);
}
Expr IRMutator::mutate_node(const CastNode* op, const Expr& self) {
  Expr v = mutate(op->value);
  return v.same_as(op->value) ? self : CastNode::make(op->dtype, v);
}
Expr IRMutator::mutate_node(const CallNode* op, const Expr& self) {
  bool changed = false;
  std::vector<Expr> args = mutate_all(op->args, &changed);
  return changed ? CallNode::make(op->dtype, op->op, std::move(args)) : self;
}
Expr IRMutator::mutate_node(const LoadNode* op, const Expr& self) {
  Expr index = mutate(op->index);
  if (index.same_as(op->index)) return self;
  return LoadNode::make(op->dtype.with_lanes(index.dtype().lanes), op->buffer, index);
}
Expr IRMutator::mutate_node(const RampNode* op, const Expr& self) {
  Expr base = mutate(op->base), stride = mutate(op->stride);
  if (base.same_as(op->base) && stride.same_as(op->stride)) return self;
  return RampNode::make(base, stride, op->lanes);
}
Expr IRMutator::mutate_node(const BroadcastNode* op, const Expr& self) {
  Expr v = mutate(op->value);
  return v.same_as(op->value) ? self : BroadcastNode::make(v, op->lanes);
}
Expr IRMutator::mutate_node(const LetNode* op, const Expr& self) {
  Expr value = mutate(op->value), body = mutate(op->body);
  if (value.same_as(op->value) && body.same_as(op->body)) return self;
  return LetNode::make(op->var, value, body);
}
Expr IRMutator::mutate_node(const TensorReadNode* op, const Expr& self) {
  bool changed = false;
  std::vector<Expr> idx = mutate_all(op->indices, &changed);
  return changed ? TensorReadNode::make(op->tensor, std::move(idx)) : self;
}
Expr IRMutator::mutate_node(const ReduceNode* op, const Expr& self) {
  bool changed = false;
  std::vector<IterVar> axis;
  for (const IterVar& iv : op->axis) {
    Expr mn = mutate(iv.dom().min), ext = mutate(iv.dom().extent);
    if (mn.same_as(iv.dom().min) && ext.same_as(iv.dom().extent)) {
      axis.push_back(iv);
    } else {
      // Same variable, new range: the axis keeps its identity as an index.
      axis.push_back(IterVar(Range(mn, ext), iv.var(), iv.type(), iv->thread_tag));
      changed = true;
    }
  }
  std::vector<Expr> source = mutate_all(op->source, &changed);
  Expr cond = mutate(op->condition);
  changed |= !cond.same_as(op->condition);
  if (!changed) return self;
  return ReduceNode::make(op->combiner, std::move(source), std::move(axis), cond, op->value_index);
}

Stmt IRMutator::mutate_node(const LetStmtNode* op, const Stmt& self) {
  Expr value = mutate(op->value);
  Stmt body = mutate(op->body);
  if (value.same_as(op->value) && body.same_as(op->body)) return self;
  return LetStmtNode::make(op->var, value, body);
}
Stmt IRMutator::mutate_node(const AttrStmtNode* op, const Stmt& self) {
  Expr value = mutate(op->value);
  Stmt body = mutate(op->body);
  if (value.same_as(op->value) && body.same_as(op->body)) return self;
  return AttrStmtNode::make(op->key, value, body);
}
Stmt IRMutator::mutate_node(const ForNode* op, const Stmt& self) {
  Expr mn = mutate(op->min), ext = mutate(op->extent);
  Stmt body = mutate(op->body);
  if (mn.same_as(op->min) && ext.same_as(op->extent) && body.same_as(op->body)) return self;
  return ForNode::make(op->loop_var, mn, ext, op->for_kind, body, op->thread_tag);
}
Stmt IRMutator::mutate_node(const StoreNode* op, const Stmt& self) {
  Expr value = mutate(op->value), index = mutate(op->index);
  if (value.same_as(op->value) && index.same_as(op->index)) return self;
  return StoreNode::make(op->buffer, value, index);
}
Stmt IRMutator::mutate_node(const TensorStoreNode* op, const Stmt& self) {
  Expr value = mutate(op->value);
  bool changed = !value.same_as(op->value);
  std::vector<Expr> idx = mutate_all(op->indices, &changed);
  return changed ? TensorStoreNode::make(op->tensor, value, std::move(idx)) : self;
}
Stmt IRMutator::mutate_node(const RealizeNode* op, const Stmt& self) {
  bool changed = false;
  std::vector<Range> bounds;
  for (const Range& r : op->bounds) {
    Expr mn = mutate(r.min), ext = mutate(r.extent);
    changed |= !mn.same_as(r.min) || !ext.same_as(r.extent);
    bounds.emplace_back(mn, ext);
  }
  Stmt body = mutate(op->body);
  changed |= !body.same_as(op->body);
  return changed ? RealizeNode::make(op->tensor, std::move(bounds), op->scope, body) : self;
}
Stmt IRMutator::mutate_node(const AllocateNode* op, const Stmt& self) {
  bool changed = false;
  std::vector<Expr> extents = mutate_all(op->extents, &changed);
  Stmt body = mutate(op->body);
  changed |= !body.same_as(op->body);
  return changed ? AllocateNode::make(op->buffer, op->dtype, std::move(extents), op->scope, body) : self;
}
Stmt IRMutator::mutate_node(const SeqNode* op, const Stmt& self) {
  bool changed = false;
  std::vector<Stmt> seq;
  seq.reserve(op->seq.size());
  for (const Stmt& s : op->seq) {
    seq.push_back(mutate(s));
    changed |= !seq.back().same_as(s);
  }
  return changed ? SeqNode::make(std::move(seq)) : self;
}
Stmt IRMutator::mutate_node(const IfThenElseNode* op, const Stmt& self) {
  Expr c = mutate(op->condition);
  Stmt t = mutate(op->then_case), e = mutate(op->else_case);
  if (c.same_as(op->condition) && t.same_as(op->then_case) && e.same_as(op->else_case)) return self;
  return IfThenElseNode::make(c, t, e);
}
Stmt IRMutator::mutate_node(const EvaluateNode* op, const Stmt& self) {
  Expr v = mutate(op->value);
  return v.same_as(op->value) ? self : EvaluateNode::make(v);
}

// ---------------------------------------------------------------- generic walks
namespace {

class PostOrderVisitor : public IRVisitor {
 public:
  PostOrderVisitor(const std::function<void(const Expr&)>& fe, const std::function<void(const Stmt&)>& fs)
      : fe_(fe), fs_(fs) {}
  void visit(const Expr& e) override {
    if (!e.defined()) return;
    IRVisitor::visit(e);
    if (fe_) fe_(e);
  }
  void visit(const Stmt& s) override {
    if (!s.defined()) return;
    IRVisitor::visit(s);
    if (fs_) fs_(s);
  }

 private:
  const std::function<void(const Expr&)>& fe_;
  const std::function<void(const Stmt&)>& fs_;
};

class Substituter : public IRMutator {
 public:
  explicit Substituter(const std::unordered_map<const VarNode*, Expr>& vmap) : vmap_(vmap) {}

 protected:
  Expr mutate_node(const VarNode* op, const Expr& self) override {
    auto it = vmap_.find(op);
    return it == vmap_.end() ? self : it->second;
  }
  // A buffer handle is renamed only when it is mapped to another variable.
  Var buffer_of(const Var& buffer) {
    auto it = vmap_.find(buffer.get());
    if (it == vmap_.end()) return buffer;
    const auto* v = it->second.as<VarNode>();
    TE_ICHECK(v, "substitute: buffer ", buffer.name(), " mapped to a non-variable");
    return Var(v);
  }
  Expr mutate_node(const LoadNode* op, const Expr& self) override {
    Expr index = mutate(op->index);
    Var buffer = buffer_of(op->buffer);
    if (index.same_as(op->index) && buffer.same_as(op->buffer)) return self;
    return LoadNode::make(op->dtype.with_lanes(index.dtype().lanes), buffer, index);
  }
  Stmt mutate_node(const StoreNode* op, const Stmt& self) override {
    Expr value = mutate(op->value), index = mutate(op->index);
    Var buffer = buffer_of(op->buffer);
    if (value.same_as(op->value) && index.same_as(op->index) && buffer.same_as(op->buffer)) return self;
    return StoreNode::make(buffer, value, index);
  }

 private:
  const std::unordered_map<const VarNode*, Expr>& vmap_;
};

}  // namespace

void post_order_visit(const Expr& e, const std::function<void(const Expr&)>& f) {
  std::function<void(const Stmt&)> none;
  PostOrderVisitor(f, none).visit(e);
}

void post_order_visit(const Stmt& s, const std::function<void(const Expr&)>& fe,
                      const std::function<void(const Stmt&)>& fs) {
  PostOrderVisitor(fe, fs).visit(s);
}

Expr substitute(const Expr& e, const std::unordered_map<const VarNode*, Expr>& vmap) {
  if (vmap.empty()) return e;
  return Substituter(vmap).mutate(e);
}

Stmt substitute(const Stmt& s, const std::unordered_map<const VarNode*, Expr>& vmap) {
  if (vmap.empty()) return s;
  return Substituter(vmap).mutate(s);
}

bool uses_var(const Expr& e, const std::function<bool(const VarNode*)>& pred) {
  bool found = false;
  post_order_visit(e, [&](const Expr& x) {
    if (found) return;
    if (const auto* v = x.as<VarNode>()) found = !pred || pred(v);
  });
  return found;
}

}  // namespace te
