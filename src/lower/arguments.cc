// Argument list of a lowered function: buffers, size variables, free-variable check.
#include "lower/arguments.h"

#include <unordered_set>

#include "te/ir_functor.h"

namespace te {

std::vector<BufferArg> make_buffer_args(const std::vector<Tensor>& tensors) {
  std::vector<BufferArg> args;
  for (size_t i = 0; i < tensors.size(); ++i) {
    const Tensor& t = tensors[i];
    if (!t.defined()) fail("lower: argument ", i, " is an undefined tensor; expected a tensor from placeholder or compute");
    for (size_t j = 0; j < i; ++j)
      if (tensors[j] == t)
        fail("lower: tensor ", t.name(), " appears twice in the argument list (positions ", j, " and ", i,
             "); pass each tensor once");
    BufferArg arg;
    arg.name = t.name();
    if (t.op()->num_outputs() > 1) arg.name += ".v" + std::to_string(t->value_index);
    arg.data = Var(arg.name, DataType::handle());
    arg.dtype = t.dtype();
    arg.shape = t.shape();
    arg.tensor = t;
    args.push_back(std::move(arg));
  }
  return args;
}

std::vector<Var> collect_size_vars(const std::vector<BufferArg>& args) {
  std::vector<Var> size_vars;
  std::unordered_set<const VarNode*> seen;
  for (const BufferArg& arg : args)
    for (const Expr& dim : arg.shape)
      post_order_visit(dim, [&](const Expr& e) {
        if (const auto* v = e.as<VarNode>())
          if (seen.insert(v).second) size_vars.push_back(Var(v));
      });
  return size_vars;
}

namespace {

// Walks the body with the set of variables in scope; the first unbound one is reported.
class FreeVarChecker : public IRVisitor {
 public:
  FreeVarChecker(const std::vector<BufferArg>& args, const std::vector<Var>& size_vars) {
    for (const BufferArg& arg : args) bound_.insert(arg.data.get());
    for (const Var& v : size_vars) bound_.insert(v.get());
  }

 protected:
  void visit_node(const VarNode* op) override { check(op); }
  void visit_node(const LoadNode* op) override {
    check(op->buffer.get());
    visit(op->index);
  }
  void visit_node(const StoreNode* op) override {
    check(op->buffer.get());
    visit(op->value);
    visit(op->index);
  }
  void visit_node(const ForNode* op) override {
    visit(op->min);
    visit(op->extent);
    scoped(op->loop_var, op->body);
  }
  void visit_node(const LetStmtNode* op) override {
    visit(op->value);
    scoped(op->var, op->body);
  }
  void visit_node(const LetNode* op) override {
    visit(op->value);
    bool inserted = bound_.insert(op->var.get()).second;
    visit(op->body);
    if (inserted) bound_.erase(op->var.get());
  }
  void visit_node(const AllocateNode* op) override {
    for (const Expr& e : op->extents) visit(e);
    scoped(op->buffer, op->body);
  }

 private:
  void scoped(const Var& v, const Stmt& body) {
    bool inserted = bound_.insert(v.get()).second;
    visit(body);
    if (inserted) bound_.erase(v.get());
  }
  void check(const VarNode* v) {
    if (bound_.count(v)) return;
    if (v->dtype.is_handle())
      fail("lower: buffer ", v->name, " is used but is neither allocated nor an argument; pass its tensor in the argument list");
    fail("variable ", v->name,
         " is used by the compute but is not a dimension of any argument; pass a tensor that has it as a dimension");
  }
  std::unordered_set<const VarNode*> bound_;
};

}  // namespace

void check_free_vars(const Stmt& body, const std::vector<BufferArg>& args, const std::vector<Var>& size_vars) {
  FreeVarChecker(args, size_vars).visit(body);
}

}  // namespace te
