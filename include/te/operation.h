// te/operation.h — tensor expressions: placeholder, compute, reduce_axis, reductions and
// user-defined commutative reducers. The "what" of an operator; schedules are the "how".
#pragma once

#include <functional>

#include "te/expr_ops.h"

namespace te {

struct PlaceholderOpNode : OperationNode {
  static constexpr OpKind kOpKind = OpKind::kPlaceholder;
  std::vector<Expr> shape;
  DataType dtype;
  OpKind op_kind() const override { return kOpKind; }
  int num_outputs() const override { return 1; }
  DataType output_dtype(int) const override { return dtype; }
  std::vector<Expr> output_shape(int) const override { return shape; }
  std::vector<Tensor> input_tensors() const override { return {}; }
};

// out[axis...] = body[value_index]. With reductions, every body entry is a ReduceNode over
// the same reduce_axis (several entries = a multi-valued reducer such as argmax).
struct ComputeOpNode : OperationNode {
  static constexpr OpKind kOpKind = OpKind::kCompute;
  std::vector<IterVar> axis;         // one kDataPar IterVar per output dimension
  std::vector<IterVar> reduce_axis;  // the kCommReduce IterVars of the body's ReduceNodes
  std::vector<Expr> body;
  OpKind op_kind() const override { return kOpKind; }
  int num_outputs() const override { return int(body.size()); }
  DataType output_dtype(int i) const override { return body.at(i).dtype(); }
  std::vector<Expr> output_shape(int i) const override;
  std::vector<Tensor> input_tensors() const override;  // distinct tensors read by body, in order

  static Operation make(std::string name, std::string tag, std::vector<IterVar> axis,
                        std::vector<Expr> body);
};

// A symbolic size or scalar parameter, bound when a kernel is called.
Var var(const std::string& name, DataType t = DataType::int32());
// A constant of the given dtype.
Expr constant(double value, DataType t = DataType::float32());

Tensor placeholder(std::vector<Expr> shape, DataType dtype = DataType::float32(),
                   const std::string& name = "placeholder");

using ComputeFn = std::function<Expr(const std::vector<Var>&)>;
using MultiComputeFn = std::function<std::vector<Expr>(const std::vector<Var>&)>;
// C = compute({n, m}, [](auto& i) { return A(i[0], i[1]) + 1; }, "C").
Tensor compute(std::vector<Expr> shape, const ComputeFn& fn, const std::string& name = "compute",
               const std::string& tag = "");
// Several outputs of one op (e.g. argmax's (index, value)); all share the loop nest.
std::vector<Tensor> compute_multi(std::vector<Expr> shape, const MultiComputeFn& fn,
                                  const std::string& name = "compute", const std::string& tag = "");

IterVar reduce_axis(Range dom, const std::string& name = "rv");
// thread_axis("threadIdx.x") or thread_axis(Range(0, 32), "threadIdx.x"); tags checked.
IterVar thread_axis(const std::string& tag, Range dom = Range());

// Reductions over axis with an optional condition (only iterations where it holds count).
Expr sum(Expr source, std::vector<IterVar> axis, Expr where = Expr());
Expr max(Expr source, std::vector<IterVar> axis, Expr where = Expr());
Expr min(Expr source, std::vector<IterVar> axis, Expr where = Expr());
Expr prod(Expr source, std::vector<IterVar> axis, Expr where = Expr());

// User-defined commutative reducer, like tvm.te.comm_reducer. fcombine receives the
// accumulated values (lhs) and the new values (rhs) and returns the combined values;
// fidentity gives the identity for each value's dtype.
class Reducer {
 public:
  using CombineFn = std::function<std::vector<Expr>(const std::vector<Expr>& lhs,
                                                    const std::vector<Expr>& rhs)>;
  using IdentityFn = std::function<std::vector<Expr>(const std::vector<DataType>& dtypes)>;
  Reducer(CombineFn fcombine, IdentityFn fidentity, std::string name = "reduce");
  // One ReduceNode per value (all sharing the same combiner and axes).
  std::vector<Expr> operator()(std::vector<Expr> sources, std::vector<IterVar> axis,
                               Expr where = Expr()) const;
  Expr operator()(Expr source, std::vector<IterVar> axis, Expr where = Expr()) const;

 private:
  CombineFn fcombine_;
  IdentityFn fidentity_;
  std::string name_;
};

// Every operation reachable from outputs (inputs first), without duplicates.
std::vector<Operation> post_dfs_order(const std::vector<Operation>& outputs);

}  // namespace te
