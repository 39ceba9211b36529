// te/ir_functor.h — the visitor and mutator every pass is written with. Both are generated
// from the node lists in te/ir.h. The mutator returns the very same node when none of its
// children changed (Halide's rule), so passes cost nothing where they do nothing.
#pragma once

#include <functional>
#include <unordered_map>

#include "te/ir.h"

namespace te {

// Walks every node; override visit() for the kinds you care about and call the base to recurse.
class IRVisitor {
 public:
  virtual ~IRVisitor() = default;
  virtual void visit(const Expr& e);
  virtual void visit(const Stmt& s);

 protected:
#define TE_X(name) virtual void visit_node(const name##Node* op);
  TE_EXPR_NODES(TE_X)
  TE_STMT_NODES(TE_X)
#undef TE_X
  // BinaryNode kinds share one default implementation.
  template <ExprKind K>
  void visit_binary(const BinaryNode<K>* op) {
    visit(op->a);
    visit(op->b);
  }
};

// Rebuilds the tree bottom-up; an override returns a new node or the input handle unchanged.
class IRMutator {
 public:
  virtual ~IRMutator() = default;
  virtual Expr mutate(const Expr& e);
  virtual Stmt mutate(const Stmt& s);

 protected:
#define TE_X(name) virtual Expr mutate_node(const name##Node* op, const Expr& self);
  TE_EXPR_NODES(TE_X)
#undef TE_X
#define TE_X(name) virtual Stmt mutate_node(const name##Node* op, const Stmt& self);
  TE_STMT_NODES(TE_X)
#undef TE_X
  template <ExprKind K>
  Expr mutate_binary(const BinaryNode<K>* op, const Expr& self) {
    Expr a = mutate(op->a), b = mutate(op->b);
    if (a.same_as(op->a) && b.same_as(op->b)) return self;
    return BinaryNode<K>::make(a, b);
  }
  std::vector<Expr> mutate_all(const std::vector<Expr>& v, bool* changed);
};

// Calls f on every node after its children (expressions inside statements included).
void post_order_visit(const Expr& e, const std::function<void(const Expr&)>& f);
void post_order_visit(const Stmt& s, const std::function<void(const Expr&)>& fe,
                      const std::function<void(const Stmt&)>& fs = nullptr);

// Replaces variables by expressions (keyed by VarNode address).
Expr substitute(const Expr& e, const std::unordered_map<const VarNode*, Expr>& vmap);
Stmt substitute(const Stmt& s, const std::unordered_map<const VarNode*, Expr>& vmap);

// True when e reads a variable for which pred holds (or, with pred empty, any variable).
bool uses_var(const Expr& e, const std::function<bool(const VarNode*)>& pred);

}  // namespace te
