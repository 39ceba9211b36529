// unroll_loops: For kUnrolled with a small constant extent → a Seq of body copies.
#include "lower/unroll_loops.h"

#include "lower/stage_name.h"
#include "te/ir_functor.h"

namespace te {
namespace {

// Number of IR nodes (statements and expressions) in a statement, stopping past `limit`.
class NodeCounter : public IRVisitor {
 public:
  explicit NodeCounter(int64_t limit) : limit_(limit) {}
  void visit(const Expr& e) override {
    if (++count < limit_) IRVisitor::visit(e);
  }
  void visit(const Stmt& s) override {
    if (++count < limit_) IRVisitor::visit(s);
  }
  int64_t count = 0;

 private:
  int64_t limit_;
};

class UnrollLoops : public IRMutator {
 protected:
  Stmt mutate_node(const ForNode* op, const Stmt& self) override {
    Stmt body = mutate(op->body);  // inner loops first
    if (op->for_kind != ForKind::kUnrolled) {
      if (body.same_as(op->body)) return self;
      return ForNode::make(op->loop_var, op->min, op->extent, op->for_kind, body, op->thread_tag);
    }
    const int64_t* extent = as_const_int(op->extent);
    if (extent && *extent > kMaxUnrollRequest) {
      std::string stage = stage_of(body);
      fail("unroll: axis ", op->loop_var.name(), stage.empty() ? "" : " of stage " + stage, " has ", *extent,
           " iterations; unrolling more than ", kMaxUnrollRequest,
           " is refused (split the axis and unroll the inner part)");
    }
    // Non-constant or too long to be worth copying: a plain loop computes the same.
    if (!extent || *extent > kMaxUnrollExtent)
      return ForNode::make(op->loop_var, op->min, op->extent, ForKind::kSerial, body);
    if (*extent <= 0) return EvaluateNode::make(Expr(0));
    NodeCounter counter(kMaxUnrolledNodes + 1);
    counter.visit(body);
    if (counter.count * *extent > kMaxUnrolledNodes) {
      std::string stage = stage_of(body);
      fail("unroll: axis ", op->loop_var.name(), stage.empty() ? "" : " of stage " + stage, " would copy a body of ",
           counter.count > kMaxUnrolledNodes ? "more than " : "", counter.count, " IR nodes ", *extent,
           " times, more than the limit of ", kMaxUnrolledNodes,
           " unrolled nodes (nested unrolled loops multiply); unroll fewer or shorter axes");
    }
    std::vector<Stmt> copies;
    const int64_t* const_min = as_const_int(op->min);
    DataType t = op->loop_var.dtype();
    for (int64_t k = 0; k < *extent; ++k) {
      Expr value = const_min ? make_const(t, double(*const_min + k))
                   : k == 0  ? op->min
                             : AddNode::make(op->min, make_const(op->min.dtype(), double(k)));
      copies.push_back(substitute(body, {{op->loop_var.get(), value}}));
    }
    return SeqNode::make(copies);
  }
};

}  // namespace

Stmt unroll_loops(const Stmt& s) { return UnrollLoops().mutate(s); }

}  // namespace te
