// src/ir/structural_equal.cc — structural equality and hashing of IR trees.
//
// Two trees are equal when they have the same node kinds, dtypes, constants and shape, and
// refer to the same variables. With map_free_vars, a variable of one tree may stand for a
// variable of the other: they are paired on first occurrence (positionally) and must stay
// paired consistently. Variables bound inside the trees (For/Let/LetStmt/Allocate, reduction
// axes, reducer parameters) are always paired that way, so alpha-equivalent code compares
// equal. Tensors and operations are compared by identity.
#include <cstring>
#include <unordered_map>

#include "te/ir_functor.h"

namespace te {

namespace {

class EqualChecker {
 public:
  explicit EqualChecker(bool map_free_vars) : map_free_vars_(map_free_vars) {}

  bool eq(const Expr& a, const Expr& b) {
    if (a.same_as(b)) return true;
    if (!a.defined() || !b.defined()) return false;
    if (a->kind != b->kind || a->dtype != b->dtype) return false;
    switch (a->kind) {
      case ExprKind::IntImm: return a.as<IntImmNode>()->value == b.as<IntImmNode>()->value;
      case ExprKind::FloatImm: {
        double x = a.as<FloatImmNode>()->value, y = b.as<FloatImmNode>()->value;
        return std::memcmp(&x, &y, sizeof x) == 0 || x == y;  // NaN equals NaN, 0 equals -0
      }
      case ExprKind::Var: return var_eq(a.as<VarNode>(), b.as<VarNode>(), map_free_vars_);
#define TE_BIN(name)                                                          \
  case ExprKind::name: {                                                      \
    auto* x = static_cast<const name##Node*>(a.get());                       \
    auto* y = static_cast<const name##Node*>(b.get());                       \
    return eq(x->a, y->a) && eq(x->b, y->b);                                  \
  }
        TE_BIN(Add) TE_BIN(Sub) TE_BIN(Mul) TE_BIN(Div) TE_BIN(Mod) TE_BIN(FloorDiv) TE_BIN(FloorMod)
        TE_BIN(Min) TE_BIN(Max) TE_BIN(EQ) TE_BIN(NE) TE_BIN(LT) TE_BIN(LE) TE_BIN(GT) TE_BIN(GE)
        TE_BIN(And) TE_BIN(Or)
#undef TE_BIN
      case ExprKind::Not: return eq(a.as<NotNode>()->a, b.as<NotNode>()->a);
      case ExprKind::Select: {
        auto *x = a.as<SelectNode>(), *y = b.as<SelectNode>();
        return eq(x->condition, y->condition) && eq(x->true_value, y->true_value) &&
               eq(x->false_value, y->false_value);
      }
      case ExprKind::Cast: return eq(a.as<CastNode>()->value, b.as<CastNode>()->value);
      case ExprKind::Call: {
        auto *x = a.as<CallNode>(), *y = b.as<CallNode>();
        return x->op == y->op && eq_all(x->args, y->args);
      }
      case ExprKind::Load: {
        auto *x = a.as<LoadNode>(), *y = b.as<LoadNode>();
        return var_eq(x->buffer.get(), y->buffer.get(), map_free_vars_) && eq(x->index, y->index);
      }
      case ExprKind::Ramp: {
        auto *x = a.as<RampNode>(), *y = b.as<RampNode>();
        return x->lanes == y->lanes && eq(x->base, y->base) && eq(x->stride, y->stride);
      }
      case ExprKind::Broadcast: {
        auto *x = a.as<BroadcastNode>(), *y = b.as<BroadcastNode>();
        return x->lanes == y->lanes && eq(x->value, y->value);
      }
      case ExprKind::Let: {
        auto *x = a.as<LetNode>(), *y = b.as<LetNode>();
        return eq(x->value, y->value) && bind(x->var, y->var) && eq(x->body, y->body);
      }
      case ExprKind::TensorRead: {
        auto *x = a.as<TensorReadNode>(), *y = b.as<TensorReadNode>();
        return x->tensor == y->tensor && eq_all(x->indices, y->indices);
      }
      case ExprKind::Reduce: {
        auto *x = a.as<ReduceNode>(), *y = b.as<ReduceNode>();
        if (x->value_index != y->value_index || x->axis.size() != y->axis.size()) return false;
        if (!reducer_eq(x->combiner, y->combiner)) return false;
        for (size_t i = 0; i < x->axis.size(); ++i) {
          const IterVar &p = x->axis[i], &q = y->axis[i];
          if (p.type() != q.type() || !eq(p.dom().min, q.dom().min) || !eq(p.dom().extent, q.dom().extent) ||
              !bind(p.var(), q.var()))
            return false;
        }
        return eq_all(x->source, y->source) && eq(x->condition, y->condition);
      }
    }
    return false;
  }

  bool eq(const Stmt& a, const Stmt& b) {
    if (a.same_as(b)) return true;
    if (!a.defined() || !b.defined()) return false;
    if (a->kind != b->kind) return false;
    switch (a->kind) {
      case StmtKind::LetStmt: {
        auto *x = a.as<LetStmtNode>(), *y = b.as<LetStmtNode>();
        return eq(x->value, y->value) && bind(x->var, y->var) && eq(x->body, y->body);
      }
      case StmtKind::AttrStmt: {
        auto *x = a.as<AttrStmtNode>(), *y = b.as<AttrStmtNode>();
        return x->key == y->key && eq(x->value, y->value) && eq(x->body, y->body);
      }
      case StmtKind::For: {
        auto *x = a.as<ForNode>(), *y = b.as<ForNode>();
        return x->for_kind == y->for_kind && x->thread_tag == y->thread_tag && eq(x->min, y->min) &&
               eq(x->extent, y->extent) && bind(x->loop_var, y->loop_var) && eq(x->body, y->body);
      }
      case StmtKind::Store: {
        auto *x = a.as<StoreNode>(), *y = b.as<StoreNode>();
        return var_eq(x->buffer.get(), y->buffer.get(), map_free_vars_) && eq(x->value, y->value) &&
               eq(x->index, y->index);
      }
      case StmtKind::TensorStore: {
        auto *x = a.as<TensorStoreNode>(), *y = b.as<TensorStoreNode>();
        return x->tensor == y->tensor && eq(x->value, y->value) && eq_all(x->indices, y->indices);
      }
      case StmtKind::Realize: {
        auto *x = a.as<RealizeNode>(), *y = b.as<RealizeNode>();
        if (!(x->tensor == y->tensor) || x->scope != y->scope || x->bounds.size() != y->bounds.size()) return false;
        for (size_t i = 0; i < x->bounds.size(); ++i)
          if (!eq(x->bounds[i].min, y->bounds[i].min) || !eq(x->bounds[i].extent, y->bounds[i].extent)) return false;
        return eq(x->body, y->body);
      }
      case StmtKind::Allocate: {
        auto *x = a.as<AllocateNode>(), *y = b.as<AllocateNode>();
        return x->dtype == y->dtype && x->scope == y->scope && eq_all(x->extents, y->extents) &&
               bind(x->buffer, y->buffer) && eq(x->body, y->body);
      }
      case StmtKind::Seq: {
        auto *x = a.as<SeqNode>(), *y = b.as<SeqNode>();
        if (x->seq.size() != y->seq.size()) return false;
        for (size_t i = 0; i < x->seq.size(); ++i)
          if (!eq(x->seq[i], y->seq[i])) return false;
        return true;
      }
      case StmtKind::IfThenElse: {
        auto *x = a.as<IfThenElseNode>(), *y = b.as<IfThenElseNode>();
        return eq(x->condition, y->condition) && eq(x->then_case, y->then_case) && eq(x->else_case, y->else_case);
      }
      case StmtKind::Evaluate: return eq(a.as<EvaluateNode>()->value, b.as<EvaluateNode>()->value);
    }
    return false;
  }

 private:
  bool eq_all(const std::vector<Expr>& a, const std::vector<Expr>& b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i)
      if (!eq(a[i], b[i])) return false;
    return true;
  }

  // Pairs two variables, or checks an existing pairing. allow_new: may a fresh pair be made?
  bool var_eq(const VarNode* x, const VarNode* y, bool allow_new) {
    if (x->dtype != y->dtype) return false;
    auto fx = a_to_b_.find(x);
    auto fy = b_to_a_.find(y);
    if (fx != a_to_b_.end() || fy != b_to_a_.end())
      return fx != a_to_b_.end() && fy != b_to_a_.end() && fx->second == y && fy->second == x;
    if (x == y) return true;
    if (!allow_new) return false;
    a_to_b_[x] = y;
    b_to_a_[y] = x;
    return true;
  }
  // A definition site: the two bound variables become each other's counterpart.
  bool bind(const Var& x, const Var& y) {
    if (x.dtype() != y.dtype()) return false;
    auto fx = a_to_b_.find(x.get());
    auto fy = b_to_a_.find(y.get());
    if (fx != a_to_b_.end() || fy != b_to_a_.end())
      return fx != a_to_b_.end() && fy != b_to_a_.end() && fx->second == y.get() && fy->second == x.get();
    a_to_b_[x.get()] = y.get();
    b_to_a_[y.get()] = x.get();
    return true;
  }

  bool reducer_eq(const CommReducer& x, const CommReducer& y) {
    if (x.same_as(y)) return true;
    if (!x.defined() || !y.defined() || x->lhs.size() != y->lhs.size()) return false;
    for (size_t i = 0; i < x->lhs.size(); ++i)
      if (!bind(x->lhs[i], y->lhs[i]) || !bind(x->rhs[i], y->rhs[i])) return false;
    return eq_all(x->result, y->result) && eq_all(x->identity, y->identity);
  }

  bool map_free_vars_;
  std::unordered_map<const VarNode*, const VarNode*> a_to_b_, b_to_a_;
};

// Hash consistent with EqualChecker(map_free_vars = true): variables contribute the order of
// their first occurrence, not their address, so equal trees hash equally either way.
class Hasher : public IRVisitor {
 public:
  size_t value = 0x9e3779b97f4a7c15ull;

  void visit(const Expr& e) override {
    if (!e.defined()) {
      mix(0xdead);
      return;
    }
    mix(size_t(e->kind) + 1);
    mix(dtype_code(e->dtype));
    switch (e->kind) {
      case ExprKind::IntImm: mix(size_t(e.as<IntImmNode>()->value)); break;
      case ExprKind::FloatImm: {
        double v = e.as<FloatImmNode>()->value;
        if (v == 0) v = 0;  // -0 and 0 compare equal
        mix(std::hash<double>()(v));
        break;
      }
      case ExprKind::Var: mix_var(e.as<VarNode>()); break;
      case ExprKind::Call: mix(size_t(e.as<CallNode>()->op)); break;
      case ExprKind::Load: mix_var(e.as<LoadNode>()->buffer.get()); break;
      case ExprKind::Ramp: mix(size_t(e.as<RampNode>()->lanes)); break;
      case ExprKind::Broadcast: mix(size_t(e.as<BroadcastNode>()->lanes)); break;
      case ExprKind::Let: mix_var(e.as<LetNode>()->var.get()); break;
      case ExprKind::TensorRead: {
        const auto* r = e.as<TensorReadNode>();
        mix(TensorHash()(r->tensor));
        break;
      }
      case ExprKind::Reduce: {
        const auto* r = e.as<ReduceNode>();
        mix(size_t(r->value_index));
        for (const IterVar& iv : r->axis) mix_var(iv.var().get());
        break;
      }
      default: break;
    }
    IRVisitor::visit(e);
  }

  void visit(const Stmt& s) override {
    if (!s.defined()) {
      mix(0xbeef);
      return;
    }
    mix(size_t(s->kind) + 100);
    switch (s->kind) {
      case StmtKind::LetStmt: mix_var(s.as<LetStmtNode>()->var.get()); break;
      case StmtKind::AttrStmt: mix(std::hash<std::string>()(s.as<AttrStmtNode>()->key)); break;
      case StmtKind::For: {
        const auto* f = s.as<ForNode>();
        mix(size_t(f->for_kind));
        mix_var(f->loop_var.get());
        break;
      }
      case StmtKind::Store: mix_var(s.as<StoreNode>()->buffer.get()); break;
      case StmtKind::TensorStore: mix(TensorHash()(s.as<TensorStoreNode>()->tensor)); break;
      case StmtKind::Realize: mix(TensorHash()(s.as<RealizeNode>()->tensor)); break;
      case StmtKind::Allocate: {
        const auto* a = s.as<AllocateNode>();
        mix(dtype_code(a->dtype));
        mix_var(a->buffer.get());
        break;
      }
      case StmtKind::Seq: mix(s.as<SeqNode>()->seq.size()); break;
      default: break;
    }
    IRVisitor::visit(s);
  }

 private:
  static size_t dtype_code(DataType t) { return size_t(t.code) | size_t(t.bits) << 8 | size_t(t.lanes) << 16; }
  void mix(size_t v) { value ^= v + 0x9e3779b97f4a7c15ull + (value << 6) + (value >> 2); }
  void mix_var(const VarNode* v) {
    auto it = var_order_.emplace(v, var_order_.size()).first;
    mix(it->second * 7919 + 17);
  }
  std::unordered_map<const VarNode*, size_t> var_order_;
};

}  // namespace

bool structural_equal(const Expr& a, const Expr& b, bool map_free_vars) {
  return EqualChecker(map_free_vars).eq(a, b);
}

bool structural_equal(const Stmt& a, const Stmt& b, bool map_free_vars) {
  return EqualChecker(map_free_vars).eq(a, b);
}

size_t structural_hash(const Expr& e) {
  Hasher h;
  h.visit(e);
  return h.value;
}

size_t structural_hash(const Stmt& s) {
  Hasher h;
  h.visit(s);
  return h.value;
}

}  // namespace te
