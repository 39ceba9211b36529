// inject_virtual_thread: loops bound to "vthread" become interleaved copies inside each real
// thread (TVM's InjectVirtualThread, simplified to what te's lowering produces). Runs after
// storage_flatten (buffers are flat, so a per-virtual-thread slice is an index offset) and
// before insert_shared_barriers (the barriers then see the interleaved code).
#include "lower/inject_virtual_thread.h"

#include <unordered_map>
#include <unordered_set>

#include "ir/simplify.h"
#include "lower/stage_name.h"
#include "te/expr_ops.h"
#include "te/ir_functor.h"

namespace te {
namespace {

// The variables and buffers whose values depend on the vthread variable v.
struct Touched {
  std::unordered_set<const VarNode*> vars, buffers;

  bool expr(const Expr& e) const {
    bool found = false;
    post_order_visit(e, [&](const Expr& x) {
      if (const auto* var = x.as<VarNode>()) found = found || vars.count(var);
      if (const auto* load = x.as<LoadNode>()) found = found || buffers.count(load->buffer.get());
    });
    return found;
  }
  // True when s reads or writes anything touched (then it is copied per virtual thread).
  bool stmt(const Stmt& s) const {
    bool found = false;
    post_order_visit(
        s,
        [&](const Expr& x) {
          if (const auto* var = x.as<VarNode>()) found = found || vars.count(var);
          if (const auto* load = x.as<LoadNode>()) found = found || buffers.count(load->buffer.get());
        },
        [&](const Stmt& st) {
          if (const auto* store = st.as<StoreNode>()) found = found || buffers.count(store->buffer.get());
        });
    return found;
  }
};

// Fixpoint of the dependence on v: a store is touched when its index or value is, or when a
// loop bound or condition around it is (control dependence); a let or loop variable when its
// value or bounds are.
class TouchedAnalysis : public IRVisitor {
 public:
  Touched touched;
  bool changed = false;
  int control = 0;  // > 0: inside a loop or condition that depends on v

 protected:
  void mark_var(const Var& v) {
    if (touched.vars.insert(v.get()).second) changed = true;
  }
  void visit_node(const StoreNode* op) override {
    if ((control > 0 || touched.expr(op->index) || touched.expr(op->value)) &&
        touched.buffers.insert(op->buffer.get()).second)
      changed = true;
    IRVisitor::visit_node(op);
  }
  void visit_node(const LetStmtNode* op) override {
    if (touched.expr(op->value)) mark_var(op->var);
    IRVisitor::visit_node(op);
  }
  void visit_node(const ForNode* op) override {
    bool dep = touched.expr(op->min) || touched.expr(op->extent);
    if (dep) mark_var(op->loop_var);
    control += dep;
    IRVisitor::visit_node(op);
    control -= dep;
  }
  void visit_node(const IfThenElseNode* op) override {
    bool dep = touched.expr(op->condition);
    control += dep;
    IRVisitor::visit_node(op);
    control -= dep;
  }
};

Touched analyze(const Stmt& body, const Var& v) {
  TouchedAnalysis a;
  a.touched.vars.insert(v.get());
  do {
    a.changed = false;
    a.visit(body);
  } while (a.changed);
  return a.touched;
}

// Gives each touched buffer allocated in the body one slice per virtual thread.
class ExpandAllocations : public IRMutator {
 public:
  ExpandAllocations(const Touched& t, const Var& v, Expr min, int64_t n, std::string loop)
      : touched_(t), v_(v), min_(std::move(min)), n_(n), loop_(std::move(loop)) {}

 protected:
  Stmt mutate_node(const AllocateNode* op, const Stmt& self) override {
    if (!touched_.buffers.count(op->buffer.get())) return IRMutator::mutate_node(op, self);
    int64_t size = 1;
    for (const Expr& e : op->extents) {
      const std::optional<int64_t> c = simplify_to_const(e);
      if (!c)
        fail("stage ", op->buffer.name(), ": its buffer (scope ", op->scope, ") under the vthread loop ", loop_,
             " has the non-constant extent ", to_string(e), "; each virtual thread needs its own slice, so it must "
             "have a constant size (split the axes it is computed at by constant factors)");
      size *= *c;
    }
    sizes_[op->buffer.get()] = size;
    Stmt body = mutate(op->body);
    return AllocateNode::make(op->buffer, op->dtype, {make_const(DataType::int64(), double(size * n_))}, op->scope,
                              body);
  }
  Expr mutate_node(const LoadNode* op, const Expr& self) override {
    Expr index = mutate(op->index);
    auto it = sizes_.find(op->buffer.get());
    if (it == sizes_.end()) return index.same_as(op->index) ? self : LoadNode::make(op->dtype, op->buffer, index);
    return LoadNode::make(op->dtype, op->buffer, offset(index, it->second));
  }
  Stmt mutate_node(const StoreNode* op, const Stmt& self) override {
    Stmt st = IRMutator::mutate_node(op, self);
    auto it = sizes_.find(op->buffer.get());
    if (it == sizes_.end()) return st;
    const auto* store = st.as<StoreNode>();
    return StoreNode::make(store->buffer, store->value, offset(store->index, it->second));
  }

 private:
  // index + (v - min) * size, in the index's type (a vector index gets it broadcast).
  Expr offset(const Expr& index, int64_t size) const {
    DataType t = index.dtype().element_of();
    Expr lane = v_ - min_;
    if (lane.dtype() != t) lane = CastNode::make(t, lane);
    Expr off = lane * make_const(t, double(size));
    if (index.dtype().lanes > 1) off = BroadcastNode::make(off, index.dtype().lanes);
    return index + off;
  }
  const Touched& touched_;
  Var v_;
  Expr min_;
  int64_t n_;
  std::string loop_;
  std::unordered_map<const VarNode*, int64_t> sizes_;
};

// Pushes the virtual threads down to the statements that depend on them.
class Interleave {
 public:
  Interleave(const Touched& t, const Var& v, Expr min, int64_t n, std::string loop)
      : touched_(t), v_(v), min_(std::move(min)), n_(n), loop_(std::move(loop)) {}

  Stmt run(const Stmt& s) const {
    if (!touched_.stmt(s)) return s;  // the same for every virtual thread: once
    if (const auto* op = s.as<ForNode>()) {
      if (touched_.expr(op->min) || touched_.expr(op->extent)) return copies(s);
      return ForNode::make(op->loop_var, op->min, op->extent, op->for_kind, run(op->body), op->thread_tag);
    }
    if (const auto* op = s.as<SeqNode>()) {
      std::vector<Stmt> seq;
      for (const Stmt& c : op->seq) seq.push_back(run(c));
      return SeqNode::make(seq);
    }
    if (const auto* op = s.as<AllocateNode>())
      return AllocateNode::make(op->buffer, op->dtype, op->extents, op->scope, run(op->body));
    if (const auto* op = s.as<IfThenElseNode>()) {
      if (touched_.expr(op->condition)) return copies(s);
      return IfThenElseNode::make(op->condition, run(op->then_case),
                                  op->else_case.defined() ? run(op->else_case) : Stmt());
    }
    if (const auto* op = s.as<LetStmtNode>()) {
      if (touched_.expr(op->value)) return copies(s);
      return LetStmtNode::make(op->var, op->value, run(op->body));
    }
    if (const auto* op = s.as<AttrStmtNode>()) {
      if (op->key == kGpuAllreduceAttr)
        fail(stage_label(s), ": a cross-thread reduction depends on the vthread loop ", loop_,
             "; bind that axis to threadIdx or blockIdx (or leave it a serial loop) instead of vthread");
      return AttrStmtNode::make(op->key, op->value, run(op->body));
    }
    return copies(s);  // Store, Evaluate
  }

 private:
  static std::string stage_label(const Stmt& s) {
    std::string stage = stage_of(s);
    return stage.empty() ? std::string("a stage") : "stage " + stage;
  }
  Stmt copies(const Stmt& s) const {
    std::vector<Stmt> seq;
    for (int64_t k = 0; k < n_; ++k)
      seq.push_back(substitute(s, {{v_.get(), min_ + make_const(v_.dtype(), double(k))}}));
    return SeqNode::make(seq);
  }
  const Touched& touched_;
  Var v_;
  Expr min_;
  int64_t n_;
  std::string loop_;
};

class VirtualThreadInjector : public IRMutator {
 protected:
  Stmt mutate_node(const ForNode* op, const Stmt& self) override {
    if (op->for_kind != ForKind::kThreadBinding || op->thread_tag != "vthread") return IRMutator::mutate_node(op, self);
    std::string stage = stage_of(op->body);
    std::string where = detail::cat(stage.empty() ? std::string("a stage") : "stage " + stage, ": loop ",
                                    op->loop_var.name(), " bound to vthread");
    Expr extent = simplify(op->extent);
    const int64_t* n = as_const_int(extent);
    if (!n)
      fail(where, " has the non-constant extent ", to_string(extent), "; virtual threads are unrolled into each "
           "thread, so their number must be a constant: split the axis with a constant nparts and bind that part");
    if (*n < 1) return EvaluateNode::make(make_zero(DataType::int32()));
    if (*n > kMaxVirtualThreads || *n * product_ > kMaxVirtualThreads)
      fail(where, " has ", *n, " virtual threads", product_ > 1 ? detail::cat(" (", *n * product_, " with the vthread loops around it)") : std::string(),
           ", over the limit of ", kMaxVirtualThreads, " (each one is a copy of the code in every thread); use fewer "
           "virtual threads and more threadIdx threads or a serial loop");
    product_ *= *n;
    Stmt body = mutate(op->body);  // inner vthread loops first
    product_ /= *n;
    Touched touched = analyze(body, op->loop_var);
    body = ExpandAllocations(touched, op->loop_var, op->min, *n, op->loop_var.name()).mutate(body);
    return Interleave(touched, op->loop_var, op->min, *n, op->loop_var.name()).run(body);
  }

 private:
  int64_t product_ = 1;
};

}  // namespace

Stmt inject_virtual_thread(const Stmt& s) { return VirtualThreadInjector().mutate(s); }

}  // namespace te
