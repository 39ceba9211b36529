// narrow_indices: int64 index arithmetic to int32 where every value provably fits (see the
// header). Two walks: IndexRanges proves the fit (interval arithmetic, every integer
// sub-expression, loop and let variables scoped), Narrow rewrites.
#include "lower/narrow_indices.h"

#include <limits>
#include <optional>
#include <unordered_map>

#include "te/ir_functor.h"

namespace te {
namespace {

using Wide = __int128;

struct Interval {
  Wide lo = 0, hi = 0;  // inclusive
};

bool is_int64(DataType t) { return t.is_int() && t.bits == 64; }
bool is_wide_int(DataType t) { return (t.is_int() || t.is_uint()) && t.bits == 64; }

constexpr Wide kInt32Min = std::numeric_limits<int32_t>::min(), kInt32Max = std::numeric_limits<int32_t>::max();
// Intervals past this are not tracked (no int128 overflow in the products below).
constexpr Wide kHuge = Wide(1) << 62;

std::optional<Interval> type_range(DataType t) {
  if (t.is_bool()) return Interval{0, 1};
  if (t.is_int() && t.bits < 64) return Interval{-(Wide(1) << (t.bits - 1)), (Wide(1) << (t.bits - 1)) - 1};
  if (t.is_uint() && t.bits < 64) return Interval{0, (Wide(1) << t.bits) - 1};
  return std::nullopt;
}

Wide floor_div(Wide a, Wide b) {
  Wide q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

// Proves that every int64 expression of a statement stays within int32. `ok` turns false at
// the first one that may not (or whose range is unknown); the walk then stops caring.
class IndexRanges : public IRVisitor {
 public:
  bool ok = true;

  using IRVisitor::visit;
  void visit(const Expr& e) override {
    if (ok) range(e);
  }

 protected:
  void visit_node(const ForNode* op) override {
    std::optional<Interval> lo = range(op->min), ext = range(op->extent);
    if (!ok) return;
    if (!lo || !ext) return fail();
    scope_[op->loop_var.get()] = Interval{lo->lo, lo->hi + std::max<Wide>(ext->hi - 1, 0)};
    visit(op->body);
    scope_.erase(op->loop_var.get());
  }
  void visit_node(const LetStmtNode* op) override {
    std::optional<Interval> v = range(op->value);
    if (!ok) return;
    if (v) scope_.insert_or_assign(op->var.get(), Interval{v->lo, v->hi});
    visit(op->body);
    scope_.erase(op->var.get());
  }
  void visit_node(const AllocateNode* op) override {
    if (is_wide_int(op->dtype)) return fail();  // 64-bit integer data: left alone
    IRVisitor::visit_node(op);
  }
  void visit_node(const StoreNode* op) override {
    if (is_wide_int(op->value.dtype())) return fail();
    IRVisitor::visit_node(op);
  }

 private:
  std::unordered_map<const VarNode*, Interval> scope_;

  void fail() { ok = false; }

  // The values an expression takes, for integer and bool expressions (all lanes together);
  // nullopt for others, or when unknown. Every child is visited (and checked) first.
  std::optional<Interval> range(const Expr& e) {
    if (!ok || !e.defined()) return std::nullopt;
    std::optional<Interval> r = compute(e);
    DataType t = e.dtype();
    if (!(t.is_int() || t.is_uint() || t.is_bool())) return std::nullopt;
    if (is_wide_int(t)) {
      if (!r || r->lo < kInt32Min || r->hi > kInt32Max || !t.is_int()) {
        fail();
        return std::nullopt;
      }
      return r;
    }
    if (!r) return type_range(t);  // a narrower integer holds its type's values
    return r;
  }

  std::optional<Interval> compute(const Expr& e) {
    if (const auto* imm = e.as<IntImmNode>()) return Interval{imm->value, imm->value};
    if (const auto* v = e.as<VarNode>()) {
      auto it = scope_.find(v);
      if (it != scope_.end()) return it->second;
      return std::nullopt;
    }
    if (const auto* c = e.as<CastNode>()) {
      std::optional<Interval> v = range(c->value);
      std::optional<Interval> target = type_range(c->dtype);
      // A cast to a narrower integer may wrap: its own type's range, not the value's.
      if (v && (!target || (v->lo >= target->lo && v->hi <= target->hi))) return v;
      return target;
    }
    if (const auto* r = e.as<RampNode>()) {
      std::optional<Interval> b = range(r->base), s = range(r->stride);
      if (!b || !s) return std::nullopt;
      Wide last = Wide(r->lanes - 1);
      return Interval{b->lo + std::min<Wide>(0, s->lo * last), b->hi + std::max<Wide>(0, s->hi * last)};
    }
    if (const auto* b = e.as<BroadcastNode>()) return range(b->value);
    if (const auto* s = e.as<SelectNode>()) {
      range(s->condition);
      return join(range(s->true_value), range(s->false_value));
    }
    if (const auto* l = e.as<LetNode>()) {
      std::optional<Interval> v = range(l->value);
      if (v) scope_.insert_or_assign(l->var.get(), Interval{v->lo, v->hi});
      std::optional<Interval> body = range(l->body);
      scope_.erase(l->var.get());
      return body;
    }
    if (const auto* load = e.as<LoadNode>()) {
      range(load->index);
      if (is_wide_int(load->dtype)) fail();  // 64-bit integer data: left alone
      return std::nullopt;
    }
    if (const auto* call = e.as<CallNode>()) {
      std::vector<std::optional<Interval>> args;
      for (const Expr& a : call->args) args.push_back(range(a));
      if (call->op == Intrinsic::kIfThenElse && args.size() == 3) return join(args[1], args[2]);
      if (call->op == Intrinsic::kLikely) return Interval{0, 1};
      return std::nullopt;
    }
    if (const auto* n = e.as<NotNode>()) {
      range(n->a);
      return Interval{0, 1};
    }
    BinaryOperands operands = binary_operands(e);
    if (operands.a) {
      std::optional<Interval> a = range(*operands.a), b = range(*operands.b);
      if (e.dtype().is_bool()) return Interval{0, 1};
      if (!a || !b) return std::nullopt;
      return binary(e->kind, *a, *b);
    }
    // Anything else (floats): visit the children for the indices inside them.
    IRVisitor::visit(e);
    return std::nullopt;
  }

  static std::optional<Interval> join(std::optional<Interval> a, std::optional<Interval> b) {
    if (!a || !b) return std::nullopt;
    return Interval{std::min(a->lo, b->lo), std::max(a->hi, b->hi)};
  }

  static std::optional<Interval> checked(Interval r) {
    if (r.lo < -kHuge || r.hi > kHuge) return std::nullopt;
    return r;
  }

  static std::optional<Interval> binary(ExprKind kind, Interval a, Interval b) {
    switch (kind) {
      case ExprKind::Add:
        return checked({a.lo + b.lo, a.hi + b.hi});
      case ExprKind::Sub:
        return checked({a.lo - b.hi, a.hi - b.lo});
      case ExprKind::Mul: {
        Wide p[4] = {a.lo * b.lo, a.lo * b.hi, a.hi * b.lo, a.hi * b.hi};
        return checked({std::min({p[0], p[1], p[2], p[3]}), std::max({p[0], p[1], p[2], p[3]})});
      }
      case ExprKind::Min:
        return Interval{std::min(a.lo, b.lo), std::min(a.hi, b.hi)};
      case ExprKind::Max:
        return Interval{std::max(a.lo, b.lo), std::max(a.hi, b.hi)};
      case ExprKind::FloorDiv:
      case ExprKind::Div: {
        if (b.lo != b.hi || b.lo <= 0) return std::nullopt;  // a positive constant divisor only
        if (kind == ExprKind::FloorDiv) return Interval{floor_div(a.lo, b.lo), floor_div(a.hi, b.lo)};
        return Interval{a.lo / b.lo, a.hi / b.lo};  // truncation is monotonic too
      }
      case ExprKind::FloorMod:
      case ExprKind::Mod: {
        if (b.lo <= 0) return std::nullopt;
        if (a.lo >= 0 && a.hi < b.lo) return a;  // already below the divisor
        if (kind == ExprKind::FloorMod) return Interval{0, b.hi - 1};
        return a.lo >= 0 ? Interval{0, b.hi - 1} : Interval{-(b.hi - 1), b.hi - 1};
      }
      default:
        return std::nullopt;
    }
  }
};

// Rewrites int64 variables, constants, casts and calls as int32 (after IndexRanges proved it).
class Narrow : public IRMutator {
 protected:
  Expr mutate_node(const VarNode* op, const Expr& self) override {
    if (!is_int64(op->dtype)) return self;
    return narrow_var(Var(op));
  }
  Expr mutate_node(const IntImmNode* op, const Expr& self) override {
    if (!is_int64(op->dtype)) return self;
    return IntImmNode::make(DataType::int32().with_lanes(op->dtype.lanes), op->value);
  }
  Expr mutate_node(const CastNode* op, const Expr& self) override {
    Expr value = mutate(op->value);
    DataType t = is_int64(op->dtype) ? DataType::int32().with_lanes(op->dtype.lanes) : op->dtype;
    if (value.dtype() == t) return value;
    if (value.same_as(op->value) && t == op->dtype) return self;
    return CastNode::make(t, value);
  }
  Expr mutate_node(const CallNode* op, const Expr& self) override {
    bool changed = false;
    std::vector<Expr> args = mutate_all(op->args, &changed);
    DataType t = is_int64(op->dtype) ? DataType::int32().with_lanes(op->dtype.lanes) : op->dtype;
    if (!changed && t == op->dtype) return self;
    return CallNode::make(t, op->op, args);
  }
  Expr mutate_node(const LetNode* op, const Expr& self) override {
    Expr value = mutate(op->value);
    return LetNode::make(narrow_var(op->var), value, mutate(op->body));
  }
  Stmt mutate_node(const ForNode* op, const Stmt&) override {
    return ForNode::make(narrow_var(op->loop_var), mutate(op->min), mutate(op->extent), op->for_kind, mutate(op->body),
                         op->thread_tag);
  }
  Stmt mutate_node(const LetStmtNode* op, const Stmt&) override {
    Expr value = mutate(op->value);
    return LetStmtNode::make(narrow_var(op->var), value, mutate(op->body));
  }

 private:
  std::unordered_map<const VarNode*, Var> vars_;

  // The int32 variable standing for an int64 one (the same for every use); others unchanged.
  Var narrow_var(const Var& v) {
    if (!is_int64(v.dtype())) return v;
    auto it = vars_.find(v.get());
    if (it != vars_.end()) return it->second;
    Var narrow(v.name(), DataType::int32().with_lanes(v.dtype().lanes));
    vars_.emplace(v.get(), narrow);
    return narrow;
  }
};

}  // namespace

Stmt narrow_indices(const Stmt& body, bool has_size_vars) {
  if (has_size_vars || !body.defined()) return body;
  IndexRanges ranges;
  ranges.visit(body);
  if (!ranges.ok) return body;
  return Narrow().mutate(body);
}

}  // namespace te
