// src/lower/partition_loops.cc — see partition_loops.h. A guard's condition is only ever
// replaced by true where can_prove shows it holds for every iteration of the main part and every
// value of the inner loops it reads, so the split cannot change what runs.
#include "lower/partition_loops.h"

#include <unordered_set>

#include "ir/simplify.h"
#include "te/expr_ops.h"
#include "te/ir_functor.h"

namespace te {
namespace {

// The likely(...) calls in a loop body whose condition reads `loop_var` and otherwise only
// variables of constant-range loops inside the body (whose ranges are collected).
class GuardCollector : public IRVisitor {
 public:
  explicit GuardCollector(const VarNode* loop_var) : loop_var_(loop_var) {}
  std::vector<const CallNode*> guards;
  VarRangeMap inner_ranges;

 protected:
  void visit_node(const ForNode* op) override {
    if (as_const_int(op->min) && as_const_int(op->extent)) inner_ranges[op->loop_var.get()] = Range(op->min, op->extent);
    IRVisitor::visit_node(op);
  }
  void visit_node(const CallNode* op) override {
    if (op->op == Intrinsic::kLikely && op->args.size() == 1) candidates_.push_back(op);
    IRVisitor::visit_node(op);
  }

 public:
  // After the walk: the candidates whose variables are the loop's and the inner loops'.
  void keep_partitionable() {
    for (const CallNode* call : candidates_) {
      bool reads_loop_var = false, other = false;
      for (const VarNode* v : vars_of(call->args[0])) {
        if (v == loop_var_) reads_loop_var = true;
        else if (!inner_ranges.count(v)) other = true;
      }
      if (reads_loop_var && !other) guards.push_back(call);
    }
  }

 private:
  static std::vector<const VarNode*> vars_of(const Expr& e) {
    struct Vars : IRVisitor {
      std::vector<const VarNode*> found;
      void visit_node(const VarNode* op) override { found.push_back(op); }
    } vars;
    vars.visit(e);
    return vars.found;
  }
  const VarNode* loop_var_;
  std::vector<const CallNode*> candidates_;
};

// likely(cond) → true for the guards in `proved`.
class RemoveGuards : public IRMutator {
 public:
  explicit RemoveGuards(const std::unordered_set<const CallNode*>& proved) : proved_(proved) {}

 protected:
  Expr mutate_node(const CallNode* op, const Expr& self) override {
    if (proved_.count(op)) return make_const(DataType::boolean(), 1.0);
    return IRMutator::mutate_node(op, self);
  }

 private:
  const std::unordered_set<const CallNode*>& proved_;
};

class PartitionLoops : public IRMutator {
 protected:
  Stmt mutate_node(const ForNode* op, const Stmt& self) override {
    if (op->for_kind == ForKind::kVectorized) return self;  // the vectorizer widens what is inside
    Stmt body = mutate(op->body);                          // inner loops first
    Stmt loop = body.same_as(op->body)
                    ? self
                    : ForNode::make(op->loop_var, op->min, op->extent, op->for_kind, body, op->thread_tag);
    const int64_t* min = as_const_int(op->min);
    const int64_t* extent = as_const_int(op->extent);
    if (op->for_kind != ForKind::kSerial || !min || *min != 0 || !extent || *extent < 2 ||
        partitions_ >= kMaxLoopPartitions)
      return loop;
    GuardCollector collector(op->loop_var.get());
    collector.visit(body);
    collector.keep_partitionable();
    if (collector.guards.empty()) return loop;
    // The largest p for which every guard holds on [0, p): can_prove is monotone in the range.
    auto all_hold = [&](int64_t p) {
      VarRangeMap ranges = collector.inner_ranges;
      ranges[op->loop_var.get()] = Range(make_const(op->extent.dtype(), 0), make_const(op->extent.dtype(), double(p)));
      for (const CallNode* guard : collector.guards)
        if (!can_prove(guard->args[0], ranges)) return false;
      return true;
    };
    int64_t lo = 0, hi = *extent;  // all_hold(lo) is taken as true (an empty range); find the last true
    if (all_hold(hi)) return loop;  // the simplifier left guards it could not fold, all true: keep it simple
    while (hi - lo > 1) {
      int64_t mid = lo + (hi - lo) / 2;
      (all_hold(mid) ? lo : hi) = mid;
    }
    if (lo == 0) return loop;
    ++partitions_;
    std::unordered_set<const CallNode*> proved(collector.guards.begin(), collector.guards.end());
    DataType t = op->extent.dtype();
    Stmt main_body = simplify(RemoveGuards(proved).mutate(body));
    Stmt main = ForNode::make(op->loop_var, make_const(t, 0), make_const(t, double(lo)), op->for_kind, main_body,
                              op->thread_tag);
    Var tail_var(op->loop_var.name() + ".tail", t);
    Stmt tail_body = substitute(body, {{op->loop_var.get(), tail_var + make_const(t, double(lo))}});
    Stmt tail = ForNode::make(tail_var, make_const(t, 0), make_const(t, double(*extent - lo)), op->for_kind,
                              simplify(tail_body), op->thread_tag);
    return SeqNode::make({main, tail});
  }

 private:
  int partitions_ = 0;
};

}  // namespace

Stmt partition_loops(const Stmt& s) { return PartitionLoops().mutate(s); }

}  // namespace te
