// src/te/operation.cc — placeholder, compute, the ComputeOp invariants, post_dfs_order and
// the small constructors (var, constant). Reductions live in reduce.cc.
#include "te/operation.h"

#include <unordered_set>

#include "te/ir_functor.h"

namespace te {

namespace {

// Names of the compute axes: TVM takes them from the lambda's argument names; in C++ we use
// the conventional i, j, k, l, m, n and then ax6, ax7, ...
std::string axis_name(size_t dim) {
  static const char* kNames[] = {"i", "j", "k", "l", "m", "n"};
  if (dim < 6) return kNames[dim];
  return "ax" + std::to_string(dim);
}

// A dimension must be an integer expression; a constant one must not be negative.
void check_dimension(const Expr& dim, size_t index, const std::string& what, const std::string& name) {
  if (!dim.defined()) fail(what, " ", name, ": dimension ", index, " is undefined");
  if (!dim.dtype().is_integer() || !dim.dtype().is_scalar())
    fail(what, " ", name, ": dimension ", index, " must be a scalar integer expression, got ",
         dim.dtype().str(), " (", dim, ")");
  if (const int64_t* v = as_const_int(dim); v && *v < 0)
    fail(what, " ", name, ": dimension ", index, " is ", *v, "; dimensions must be >= 0");
}

// Finds a ReduceNode anywhere inside e (nullptr when there is none).
const ReduceNode* find_reduce(const Expr& e) {
  const ReduceNode* found = nullptr;
  post_order_visit(e, [&](const Expr& node) {
    if (!found) found = node.as<ReduceNode>();
  });
  return found;
}

bool same_axes(const std::vector<IterVar>& a, const std::vector<IterVar>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (!a[i].same_as(b[i])) return false;
  return true;
}

bool same_exprs(const std::vector<Expr>& a, const std::vector<Expr>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (!a[i].same_as(b[i]) && !structural_equal(a[i], b[i])) return false;
  return true;
}

// Checks the reduction structure of a compute body and returns its reduce axes: either no
// entry contains a Reduce, or every entry IS a Reduce (at the top) over the same axes with the
// same combiner — the entries of one multi-valued reducer.
std::vector<IterVar> check_reductions(const std::string& name, const std::vector<Expr>& body) {
  const ReduceNode* first = nullptr;
  for (size_t i = 0; i < body.size(); ++i) {
    const ReduceNode* top = body[i].as<ReduceNode>();
    if (!top) {
      if (find_reduce(body[i]))
        fail("compute ", name, ": reduction must be the top-level expression of compute ", name,
             " (a reduction nested inside other arithmetic is not allowed; compute the reduction in "
             "its own stage and use its result)");
      if (first) fail("compute ", name, ": output ", i, " is not a reduction but output 0 is; all outputs "
                      "of a compute with a reduction must be reductions over the same axes");
      continue;
    }
    for (const Expr& src : top->source)
      if (find_reduce(src))
        fail("compute ", name, ": reduction must be the top-level expression of compute ", name,
             " (a reduction inside the source of another reduction is not allowed)");
    if (top->condition.defined() && find_reduce(top->condition))
      fail("compute ", name, ": reduction must be the top-level expression of compute ", name,
           " (found a reduction inside a reduction's condition)");
    if (i > 0 && !first)
      fail("compute ", name, ": output ", i, " is a reduction but output 0 is not; all outputs "
           "of a compute with a reduction must be reductions over the same axes");
    if (!first) {
      first = top;
      continue;
    }
    if (!top->combiner.same_as(first->combiner) || !same_axes(top->axis, first->axis) ||
        !same_exprs(top->source, first->source))
      fail("compute ", name, ": output ", i, " must be value ", i, " of the same reduction as output 0 "
           "(same reducer, sources and axes), as returned together by one call of a multi-valued Reducer");
  }
  if (!first) return {};
  for (const IterVar& iv : first->axis) {
    if (!iv.defined()) fail("compute ", name, ": a reduction axis is undefined");
    if (iv.type() != IterVarType::kCommReduce)
      fail("compute ", name, ": reduction over axis ", iv.var().name(),
           ", which is not a reduce axis; create it with te::reduce_axis");
  }
  return first->axis;
}

}  // namespace

Var var(const std::string& name, DataType t) { return Var(name, t); }

Expr constant(double value, DataType t) {
  if (t.is_handle()) fail("constant: dtype ", t.str(), " cannot hold a constant value");
  return make_const(t, value);
}

Tensor placeholder(std::vector<Expr> shape, DataType dtype, const std::string& name) {
  for (size_t d = 0; d < shape.size(); ++d) check_dimension(shape[d], d, "placeholder", name);
  if (dtype.is_handle() || dtype.is_vector())
    fail("placeholder ", name, ": dtype must be a scalar number or bool type, got ", dtype.str());
  auto* node = new PlaceholderOpNode();
  node->name = name;
  node->shape = std::move(shape);
  node->dtype = dtype;
  return Operation(node).output(0);
}

std::vector<Expr> ComputeOpNode::output_shape(int i) const {
  TE_ICHECK(i >= 0 && i < num_outputs(), "compute ", name, " has no output ", i);
  std::vector<Expr> shape;
  shape.reserve(axis.size());
  for (const IterVar& iv : axis) shape.push_back(iv.dom().extent);
  return shape;
}

std::vector<Tensor> ComputeOpNode::input_tensors() const {
  std::vector<Tensor> inputs;
  std::unordered_set<Tensor, TensorHash> seen;
  auto collect = [&](const Expr& node) {
    if (const auto* read = node.as<TensorReadNode>())
      if (seen.insert(read->tensor).second) inputs.push_back(read->tensor);
  };
  for (const Expr& e : body) post_order_visit(e, collect);
  // Reads in the extents of reduce axes are unusual but possible; count them too.
  for (const IterVar& iv : reduce_axis) {
    post_order_visit(iv.dom().min, collect);
    post_order_visit(iv.dom().extent, collect);
  }
  return inputs;
}

Operation ComputeOpNode::make(std::string name, std::string tag, std::vector<IterVar> axis,
                              std::vector<Expr> body) {
  if (body.empty()) fail("compute ", name, ": the body has no outputs");
  for (size_t i = 0; i < body.size(); ++i) {
    if (!body[i].defined()) fail("compute ", name, ": output ", i, " of the body is undefined");
    if (body[i].dtype().is_vector() || body[i].dtype().is_handle())
      fail("compute ", name, ": output ", i, " has dtype ", body[i].dtype().str(),
           "; a compute body must be a scalar number or bool");
  }
  for (size_t d = 0; d < axis.size(); ++d) {
    if (!axis[d].defined()) fail("compute ", name, ": axis ", d, " is undefined");
    if (axis[d].type() != IterVarType::kDataPar)
      fail("compute ", name, ": axis ", d, " (", axis[d].var().name(), ") must be a data-parallel axis");
    if (!axis[d].dom().extent.defined()) fail("compute ", name, ": axis ", axis[d].var().name(), " has no range");
  }
  std::vector<IterVar> reduce_axis = check_reductions(name, body);
  for (const IterVar& r : reduce_axis)
    for (const IterVar& a : axis)
      if (r.same_as(a)) fail("compute ", name, ": axis ", a.var().name(), " is both a data-parallel and a reduce axis");
  auto* node = new ComputeOpNode();
  node->name = std::move(name);
  node->tag = std::move(tag);
  node->axis = std::move(axis);
  node->reduce_axis = std::move(reduce_axis);
  node->body = std::move(body);
  return Operation(node);
}

namespace {
std::vector<IterVar> make_compute_axes(const std::vector<Expr>& shape, const std::string& name) {
  std::vector<IterVar> axes;
  for (size_t d = 0; d < shape.size(); ++d) {
    check_dimension(shape[d], d, "compute", name);
    Var v(axis_name(d), shape[d].dtype());
    axes.emplace_back(Range(make_zero(shape[d].dtype()), shape[d]), v, IterVarType::kDataPar);
  }
  return axes;
}
std::vector<Var> axis_vars(const std::vector<IterVar>& axes) {
  std::vector<Var> vars;
  for (const IterVar& iv : axes) vars.push_back(iv.var());
  return vars;
}
}  // namespace

Tensor compute(std::vector<Expr> shape, const ComputeFn& fn, const std::string& name, const std::string& tag) {
  if (!fn) fail("compute ", name, ": no body function given");
  std::vector<IterVar> axes = make_compute_axes(shape, name);
  Expr body = fn(axis_vars(axes));
  if (!body.defined()) fail("compute ", name, ": the body function returned an undefined expression");
  return ComputeOpNode::make(name, tag, std::move(axes), {std::move(body)}).output(0);
}

std::vector<Tensor> compute_multi(std::vector<Expr> shape, const MultiComputeFn& fn, const std::string& name,
                                  const std::string& tag) {
  if (!fn) fail("compute ", name, ": no body function given");
  std::vector<IterVar> axes = make_compute_axes(shape, name);
  std::vector<Expr> body = fn(axis_vars(axes));
  Operation op = ComputeOpNode::make(name, tag, std::move(axes), std::move(body));
  std::vector<Tensor> outputs;
  for (int i = 0; i < op->num_outputs(); ++i) outputs.push_back(op.output(i));
  return outputs;
}

std::vector<Operation> post_dfs_order(const std::vector<Operation>& outputs) {
  std::vector<Operation> order;
  std::unordered_set<const OperationNode*> visited;
  // Iterative DFS (deep chains of element-wise ops must not overflow the stack).
  struct Frame {
    Operation op;
    std::vector<Tensor> inputs;
    size_t next = 0;
  };
  for (const Operation& out : outputs) {
    if (!out.defined()) fail("post_dfs_order: an output operation is undefined");
    if (!visited.insert(out.get()).second) continue;
    std::vector<Frame> stack;
    stack.push_back({out, out->input_tensors()});
    while (!stack.empty()) {
      Frame& top = stack.back();
      if (top.next < top.inputs.size()) {
        Operation child = top.inputs[top.next++].op();
        if (visited.insert(child.get()).second) stack.push_back({child, child->input_tensors()});
        continue;
      }
      order.push_back(top.op);
      stack.pop_back();
    }
  }
  return order;
}

}  // namespace te
