// vectorize_loops: a For kVectorized over a constant extent becomes one vector statement.
// The loop variable is replaced by Ramp(min, 1, lanes); every expression that depends on it is
// widened bottom-up (scalars next to vectors are broadcast). When widening could change the
// program's meaning, the loop is kept as a serial loop instead: correct first.
#include "lower/vectorize_loops.h"

#include <algorithm>
#include <unordered_map>
#include <unordered_set>

#include "lower/lane_guard.h"
#include "ir/simplify.h"
#include "lower/stage_name.h"
#include "te/ir_functor.h"

namespace te {
namespace {

Expr broadcast_to(const Expr& e, int lanes) {
  if (e.dtype().lanes == lanes) return e;
  TE_ICHECK(e.dtype().is_scalar(), "cannot broadcast ", e.dtype().str(), " to ", lanes, " lanes");
  return BroadcastNode::make(e, lanes);
}

// Widens the body of one vectorized loop. `failed()` reports a construct it refuses.
class Vectorizer : public IRMutator {
 public:
  // ranges: the enclosing loops' and the vectorized loop's own (for lanes_fit).
  Vectorizer(const Var& var, const Expr& min, int lanes, bool masked_if_then_else, bool lane_reductions,
             const VarRangeMap& ranges)
      : var_(var), lanes_(lanes), ranges_(ranges),
        ramp_(RampNode::make(min, make_const(var.dtype(), 1), lanes)),
        masked_if_then_else_(masked_if_then_else), lane_reductions_(lane_reductions) {}

  bool failed() const { return failed_; }
  // Guards dropped from the vector code: it is only valid where each holds on every lane.
  const std::vector<Expr>& guards() const { return guards_; }

  // Lanes of different iterations must touch different memory: each buffer that is stored
  // is stored through injective Ramp indices, and read only at exactly those indices.
  bool memory_is_lane_private() const {
    // A reduced buffer is touched only by its reduction store (and that store's own read).
    for (const VarNode* buffer : reduced_) {
      if (std::count(reduced_.begin(), reduced_.end(), buffer) > 1 || stores_.count(buffer)) return false;
      for (const auto& load : loads_)
        if (load.first == buffer) return false;
    }
    for (const auto& [buffer, index] : loads_) {
      auto range = stores_.equal_range(buffer);
      if (range.first == range.second) continue;
      bool same = false;
      for (auto it = range.first; it != range.second && !same; ++it)
        same = structural_equal(it->second, index);
      if (!same) return false;
    }
    return true;
  }

  Expr mutate(const Expr& e) override {
    if (failed_) return e;
    // A vector before widening comes from an inner vectorized loop: lanes would multiply.
    if (e.defined() && e.dtype().is_vector()) return refuse(e);
    return IRMutator::mutate(e);
  }
  Stmt mutate(const Stmt& s) override {
    if (failed_) return s;
    return IRMutator::mutate(s);
  }

 protected:
  Expr mutate_node(const VarNode* op, const Expr& self) override {
    if (op == var_.get()) return ramp_;
    auto it = widened_vars_.find(op);
    return it != widened_vars_.end() ? it->second : self;
  }

#define TE_VECTORIZE_BINARY(name) \
  Expr mutate_node(const name##Node* op, const Expr& self) override { return widen_binary(op, self); }
  TE_VECTORIZE_BINARY(Add)
  TE_VECTORIZE_BINARY(Sub)
  TE_VECTORIZE_BINARY(Mul)
  TE_VECTORIZE_BINARY(Div)
  TE_VECTORIZE_BINARY(Mod)
  TE_VECTORIZE_BINARY(FloorDiv)
  TE_VECTORIZE_BINARY(FloorMod)
  TE_VECTORIZE_BINARY(Min)
  TE_VECTORIZE_BINARY(Max)
  TE_VECTORIZE_BINARY(EQ)
  TE_VECTORIZE_BINARY(NE)
  TE_VECTORIZE_BINARY(LT)
  TE_VECTORIZE_BINARY(LE)
  TE_VECTORIZE_BINARY(GT)
  TE_VECTORIZE_BINARY(GE)
  TE_VECTORIZE_BINARY(And)
  TE_VECTORIZE_BINARY(Or)
#undef TE_VECTORIZE_BINARY

  Expr mutate_node(const SelectNode* op, const Expr& self) override {
    Expr c = mutate(op->condition), t = mutate(op->true_value), f = mutate(op->false_value);
    if (c.same_as(op->condition) && t.same_as(op->true_value) && f.same_as(op->false_value)) return self;
    return SelectNode::make(broadcast_to(c, lanes_), broadcast_to(t, lanes_), broadcast_to(f, lanes_));
  }
  Expr mutate_node(const CastNode* op, const Expr& self) override {
    Expr v = mutate(op->value);
    if (v.same_as(op->value)) return self;
    // A widening integer cast of a ramp is a ramp of the wider type: index arithmetic flattened
    // to int64 keeps its per-dimension parts in int32 under a cast (`int64(l) + ...`), and a
    // store index must stay a ramp to be seen as contiguous. Exact only where no narrow lane
    // wraps (the scalar loop would wrap in int32, the wide ramp would not): the first and last
    // lanes (a ramp is monotone) must be bounded inside the narrow type by the loop ranges.
    const auto* ramp = v.as<RampNode>();
    const DataType from = op->value.dtype(), to = op->dtype;
    if (ramp && from.code == DataType::kInt && to.code == DataType::kInt && to.bits > from.bits &&
        lanes_fit(*ramp, from)) {
      const int64_t* stride = as_const_int(ramp->stride);
      Expr wide_stride = stride ? make_const(to, *stride) : CastNode::make(to, ramp->stride);
      return RampNode::make(CastNode::make(to, ramp->base), wide_stride, ramp->lanes);
    }
    return CastNode::make(op->dtype.with_lanes(v.dtype().lanes), v);
  }
  Expr mutate_node(const CallNode* op, const Expr& self) override {
    // One line per lane / a warp-wide operation: the loop stays scalar.
    if (op->op == Intrinsic::kPrefetch || is_wmma(op->op) || is_async_copy(op->op)) return refuse(self);
    bool changed = false;
    std::vector<Expr> args = mutate_all(op->args, &changed);
    if (!changed) return self;
    // if_then_else must not evaluate the untaken side (it guards out-of-bounds reads); a
    // lane-wise version evaluates both. Allowed only where the code generator masks each
    // side's loads by the lanes that take it (masked_if_then_else: the LLVM backend, see
    // emit_if_then_else) and neither side divides integers by a variable (a lane dividing by
    // zero would trap even though it is not taken).
    if (op->op == Intrinsic::kIfThenElse &&
        (!masked_if_then_else_ || has_integer_division(args[1]) || has_integer_division(args[2])))
      return refuse(self);
    for (Expr& a : args) a = broadcast_to(a, lanes_);
    return CallNode::make(op->dtype.with_lanes(lanes_), op->op, args);
  }
  Expr mutate_node(const LoadNode* op, const Expr& self) override {
    Expr index = mutate(op->index);
    loads_.emplace_back(op->buffer.get(), index);
    if (index.same_as(op->index)) return self;
    return LoadNode::make(op->dtype.with_lanes(index.dtype().lanes), op->buffer, index);
  }
  Expr mutate_node(const LetNode* op, const Expr& self) override {
    inner_bound_.insert(op->var.get());
    Expr value = mutate(op->value);
    Var var = rebind(op->var, value);
    Expr body = mutate(op->body);
    widened_vars_.erase(op->var.get());
    if (value.same_as(op->value) && body.same_as(op->body)) return self;
    return LetNode::make(var, value, body);
  }
  Expr mutate_node(const TensorReadNode* op, const Expr& self) override { return refuse(self); }
  Expr mutate_node(const ReduceNode* op, const Expr& self) override { return refuse(self); }

  Stmt mutate_node(const StoreNode* op, const Stmt& self) override {
    if (lane_reductions_) {
      Stmt reduced = reduction_store(op);
      if (reduced.defined() || failed_) return reduced.defined() ? reduced : self;
    }
    Expr value = mutate(op->value), index = mutate(op->index);
    if (failed_) return self;
    // Every lane must write its own element: a store index that does not depend on the
    // variable (all lanes, one element) or is not a Ramp with a non-zero constant stride
    // (lanes may collide) is left to a serial loop.
    const auto* ramp = index.as<RampNode>();
    const int64_t* stride = ramp ? as_const_int(ramp->stride) : nullptr;
    if (!stride || *stride == 0) return refuse(self);
    stores_.emplace(op->buffer.get(), index);
    return StoreNode::make(op->buffer, broadcast_to(value, lanes_), index);
  }
  Stmt mutate_node(const LetStmtNode* op, const Stmt& self) override {
    inner_bound_.insert(op->var.get());
    Expr value = mutate(op->value);
    Var var = rebind(op->var, value);
    Stmt body = mutate(op->body);
    widened_vars_.erase(op->var.get());
    if (value.same_as(op->value) && body.same_as(op->body)) return self;
    return LetStmtNode::make(var, value, body);
  }
  Stmt mutate_node(const AttrStmtNode* op, const Stmt& self) override {
    Expr value = mutate(op->value);
    if (value.defined() && value.dtype().is_vector()) return refuse(self);
    return IRMutator::mutate_node(op, self);
  }
  Stmt mutate_node(const IfThenElseNode* op, const Stmt& self) override {
    Expr condition = mutate(op->condition);
    if (condition.dtype().is_scalar()) return IRMutator::mutate_node(op, self);
    // Lanes could take different paths. A guard that holds on all lanes when it holds at the
    // first and the last one (a non-dividing split's tail guard) is checked once outside the
    // vector code instead: see VectorizeLoops. Anything else stays serial.
    bool uses_inner_binding = uses_var(op->condition, [this](const VarNode* v) { return inner_bound_.count(v) > 0; });
    bool reads_memory = false;  // memory could change between the check and the use
    post_order_visit(op->condition, [&reads_memory](const Expr& e) { reads_memory |= e.as<LoadNode>() != nullptr; });
    if (op->else_case.defined() || uses_inner_binding || reads_memory ||
        !is_monotone_condition(op->condition, var_.get()))
      return refuse(self);
    guards_.push_back(op->condition);
    return mutate(op->then_case);
  }
  Stmt mutate_node(const ForNode* op, const Stmt& self) override { return refuse(self); }
  Stmt mutate_node(const AllocateNode* op, const Stmt& self) override { return refuse(self); }
  Stmt mutate_node(const TensorStoreNode* op, const Stmt& self) override { return refuse(self); }
  Stmt mutate_node(const RealizeNode* op, const Stmt& self) override { return refuse(self); }

 private:
  // `t[c] = t[c] op e` or `t[c] = e op t[c]` (op +, min, max; c not depending on the variable,
  // e does): the lanes of e combined by Intrinsic::kReduce*, then into t[c] once. Undefined
  // when the store is not of that form (the caller then widens it as any store).
  Stmt reduction_store(const StoreNode* op) {
    const Expr& v = op->value;
    if (!v.dtype().is_scalar() || v.dtype().is_bool()) return Stmt();
    Intrinsic reduce;
    if (v->kind == ExprKind::Add) reduce = Intrinsic::kReduceAdd;
    else if (v->kind == ExprKind::Min) reduce = Intrinsic::kReduceMin;
    else if (v->kind == ExprKind::Max) reduce = Intrinsic::kReduceMax;
    else return Stmt();
    BinaryOperands ops = binary_operands(v);
    auto is_self = [op](const Expr& e) {
      const auto* load = e.as<LoadNode>();
      return load && load->buffer.same_as(op->buffer) && structural_equal(load->index, op->index);
    };
    const bool self_first = is_self(*ops.a);
    if (!self_first && !is_self(*ops.b)) return Stmt();
    const Expr& e = self_first ? *ops.b : *ops.a;
    bool reads_target = false;
    post_order_visit(e, [&](const Expr& x) {
      const auto* load = x.as<LoadNode>();
      reads_target |= load && load->buffer.same_as(op->buffer);
    });
    if (reads_target) return Stmt();
    Expr index = mutate(op->index);
    if (failed_ || !index.same_as(op->index)) return Stmt();  // c depends on the variable
    Expr widened = mutate(e);
    if (failed_ || widened.dtype().is_scalar()) return Stmt();  // e does not: not a reduction over the axis
    reduced_.push_back(op->buffer.get());
    Expr lanes = CallNode::make(v.dtype(), reduce, {widened});
    Expr self = self_first ? *ops.a : *ops.b;
    Expr combined = v->kind == ExprKind::Add ? (self_first ? AddNode::make(self, lanes) : AddNode::make(lanes, self))
                    : v->kind == ExprKind::Min ? (self_first ? MinNode::make(self, lanes) : MinNode::make(lanes, self))
                    : (self_first ? MaxNode::make(self, lanes) : MaxNode::make(lanes, self));
    return StoreNode::make(op->buffer, combined, op->index);
  }

  template <ExprKind K>
  Expr widen_binary(const BinaryNode<K>* op, const Expr& self) {
    Expr a = mutate(op->a), b = mutate(op->b);
    if (a.same_as(op->a) && b.same_as(op->b)) return self;
    if (failed_) return self;
    // Keep indices as Ramps (dense vector accesses) where the algebra allows it. A Broadcast
    // (made below, or by the division rule) counts as its scalar.
    const auto* ra = a.as<RampNode>();
    const auto* rb = b.as<RampNode>();
    if (const auto* ba = a.as<BroadcastNode>()) a = ba->value;
    if (const auto* bb = b.as<BroadcastNode>()) b = bb->value;
    bool a_scalar = a.dtype().is_scalar(), b_scalar = b.dtype().is_scalar();
    if (a_scalar && b_scalar) return BroadcastNode::make(BinaryNode<K>::make(a, b), lanes_);
    if constexpr (K == ExprKind::FloorDiv || K == ExprKind::FloorMod || K == ExprKind::Div || K == ExprKind::Mod) {
      // A ramp that stays inside one period of a constant divisor — a fused axis split into
      // vector lanes, floordiv(ramp(x*8, 1, 8), 32) = broadcast(floordiv(x, 4)),
      // floormod(...) = ramp(floormod(x, 4)*8, 1, 8) — as the simplifier proves it.
      if (ra && b_scalar && as_const_int(b)) {
        Expr folded = simplify(BinaryNode<K>::make(a, BroadcastNode::make(b, lanes_)), ranges_);
        if (folded.as<RampNode>() || folded.as<BroadcastNode>()) return folded;
      }
    }
    if constexpr (K == ExprKind::Add) {
      if (ra && b_scalar) return RampNode::make(AddNode::make(ra->base, b), ra->stride, lanes_);
      if (rb && a_scalar) return RampNode::make(AddNode::make(a, rb->base), rb->stride, lanes_);
      if (ra && rb)
        return RampNode::make(AddNode::make(ra->base, rb->base), AddNode::make(ra->stride, rb->stride), lanes_);
    } else if constexpr (K == ExprKind::Sub) {
      if (ra && b_scalar) return RampNode::make(SubNode::make(ra->base, b), ra->stride, lanes_);
      if (rb && a_scalar)
        return RampNode::make(SubNode::make(a, rb->base), SubNode::make(make_zero(rb->stride.dtype()), rb->stride), lanes_);
      if (ra && rb)
        return RampNode::make(SubNode::make(ra->base, rb->base), SubNode::make(ra->stride, rb->stride), lanes_);
    } else if constexpr (K == ExprKind::Mul) {
      if (ra && b_scalar) return RampNode::make(MulNode::make(ra->base, b), MulNode::make(ra->stride, b), lanes_);
      if (rb && a_scalar) return RampNode::make(MulNode::make(a, rb->base), MulNode::make(a, rb->stride), lanes_);
    }
    return BinaryNode<K>::make(broadcast_to(a, lanes_), broadcast_to(b, lanes_));
  }

  // A let whose value became a vector binds a new vector variable of the same name.
  Var rebind(const Var& var, const Expr& value) {
    if (!value.defined() || value.dtype().is_scalar()) return var;
    Var widened(var.name(), value.dtype());
    widened_vars_[var.get()] = widened;
    return widened;
  }

  bool lanes_fit(const RampNode& ramp, DataType narrow) const {
    if (narrow.bits > 32) return false;  // a 64-bit part has nothing wider to widen into
    const Expr steps = make_const(ramp.stride.dtype(), ramp.lanes - 1);
    const Expr last = AddNode::make(ramp.base, MulNode::make(ramp.stride, steps));
    return fits_in_type(ramp.base, narrow, ranges_) && fits_in_type(last, narrow, ranges_);
  }

  template <typename T>
  T refuse(const T& self) {
    failed_ = true;
    return self;
  }

  Var var_;
  int lanes_;
  const VarRangeMap& ranges_;
  Expr ramp_;
  bool failed_ = false;
  bool masked_if_then_else_ = false;
  bool lane_reductions_ = false;
  std::vector<const VarNode*> reduced_;  // buffers of the reduction stores made
  static bool has_integer_division(const Expr& e) {
    bool found = false;
    post_order_visit(e, [&found](const Expr& x) {
      const Expr* divisor = nullptr;
      if (const auto* d = x.as<DivNode>()) divisor = &d->b;
      else if (const auto* m = x.as<ModNode>()) divisor = &m->b;
      else if (const auto* fd = x.as<FloorDivNode>()) divisor = &fd->b;
      else if (const auto* fm = x.as<FloorModNode>()) divisor = &fm->b;
      if (divisor && !divisor->dtype().is_float()) {
        const int64_t* c = as_const_int(*divisor);
        if (!c || *c == 0) found = true;
      }
    });
    return found;
  }
  std::unordered_map<const VarNode*, Expr> widened_vars_;
  std::unordered_set<const VarNode*> inner_bound_;  // let variables bound inside the loop
  std::vector<Expr> guards_;
  std::vector<std::pair<const VarNode*, Expr>> loads_;
  std::unordered_multimap<const VarNode*, Expr> stores_;
};


class VectorizeLoops : public IRMutator {
 public:
  VectorizeLoops(bool masked_if_then_else, bool lane_reductions)
      : masked_if_then_else_(masked_if_then_else), lane_reductions_(lane_reductions) {}

 protected:
  bool masked_if_then_else_, lane_reductions_;
  VarRangeMap ranges_;  // of the loops around the statement being mutated
  Stmt mutate_node(const ForNode* op, const Stmt& self) override {
    ranges_[op->loop_var.get()] = Range(op->min, op->extent);
    Stmt result = vectorize_for(op, self);
    ranges_.erase(op->loop_var.get());
    return result;
  }
  Stmt vectorize_for(const ForNode* op, const Stmt& self) {
    Stmt body = mutate(op->body);  // inner loops first
    if (op->for_kind != ForKind::kVectorized) {
      if (body.same_as(op->body)) return self;
      return ForNode::make(op->loop_var, op->min, op->extent, op->for_kind, body, op->thread_tag);
    }
    auto serial = [&] { return ForNode::make(op->loop_var, op->min, op->extent, ForKind::kSerial, body); };
    const int64_t* extent = as_const_int(op->extent);
    if (!extent || *extent <= 1) return serial();
    if (*extent > kMaxVectorLanes) {
      std::string stage = stage_of(body);
      fail("vectorize: axis ", op->loop_var.name(), stage.empty() ? "" : " of stage " + stage, " has ",
           *extent, " iterations, more than the ", kMaxVectorLanes,
           " vector lanes supported; split it by a factor of at most ", kMaxVectorLanes,
           " and vectorize the inner axis");
    }
    Vectorizer vectorizer(op->loop_var, op->min, int(*extent), masked_if_then_else_, lane_reductions_, ranges_);
    Stmt vectorized = vectorizer.mutate(body);
    if (vectorizer.failed() || !vectorizer.memory_is_lane_private()) return serial();
    if (vectorizer.guards().empty()) return vectorized;
    // Guarded body (e.g. the tail of a non-dividing split): vector code where every guard
    // holds on all lanes, the original guarded serial loop elsewhere.
    Expr last = AddNode::make(op->min, make_const(op->min.dtype(), double(*extent - 1)));
    Expr all_lanes;
    for (const Expr& guard : vectorizer.guards()) {
      Expr both = holds_at_both_ends(guard, op->loop_var, op->min, last);
      all_lanes = all_lanes.defined() ? AndNode::make(all_lanes, both) : both;
    }
    Expr likely = CallNode::make(DataType::boolean(), Intrinsic::kLikely, {all_lanes});
    return IfThenElseNode::make(likely, vectorized, serial());
  }
};

}  // namespace

Stmt vectorize_loops(const Stmt& s, bool masked_if_then_else, bool lane_reductions) {
  return VectorizeLoops(masked_if_then_else, lane_reductions).mutate(s);
}

}  // namespace te
