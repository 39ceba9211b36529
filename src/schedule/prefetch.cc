// src/schedule/prefetch.cc — the statement Stage::prefetch asks for (TVM's prefetch): at the
// start of an iteration of a loop, the elements of a tensor that the loop's body reads
// `offset` iterations later, one prefetch per cache line.
//
// The region is found like bound inference finds a consumer's demand: every read of the tensor
// in the body, each index's interval with the loops inside the body relaxed over their ranges
// (the loop itself and the loops outside stay symbolic), unioned per dimension; then the loop
// variable moves `offset` iterations ahead. The statement it becomes, for region
// [min_d, min_d + extent_d) per dimension d and L elements per 64-byte line:
//   for i_0 in [0, extent_0) ... for line in [0, (extent_last + L - 2) / L + 1):
//     prefetch(T[clamp(min_0 + i_0), ..., clamp(min_last + min(line * L, extent_last - 1))])
// — the last dimension (contiguous in memory) one element per line, the last one last so a
// region that straddles one more line than its extent suggests is still covered. Every index is
// clamped inside the tensor's shape: the region of a padded read (guarded by if_then_else), or
// of iterations past the loop's end, may lie outside it, and a prefetch must not form an
// out-of-bounds address. A dimension whose indices cannot be bounded in terms of the outer loops
// (floormod by a symbolic size: a fused axis of symbolic extent) is prefetched whole.
#include "schedule/prefetch.h"

#include <unordered_set>

#include "schedule/int_set.h"
#include "schedule/schedule_util.h"
#include "te/expr_ops.h"
#include "te/ir_functor.h"

namespace te {

namespace {

constexpr int64_t kCacheLineBytes = 64;

// The reads of one tensor in a statement, and the variables the statement binds (loops, lets),
// with the ranges of its loops.
class ReadCollector : public IRVisitor {
 public:
  explicit ReadCollector(const IterVarAttr::Prefetch& request) : request_(request) {}

  std::vector<const TensorReadNode*> reads;
  IntSetMap inner_loops;                          // loop variable → its values
  std::unordered_set<const VarNode*> inner_vars;  // every variable bound inside
  bool produced_inside = false;                   // the tensor is computed inside (compute_at)

 protected:
  void visit_node(const TensorReadNode* op) override {
    if (requested(op->tensor)) reads.push_back(op);
    IRVisitor::visit_node(op);
  }
  void visit_node(const RealizeNode* op) override {
    produced_inside = produced_inside || requested(op->tensor);
    IRVisitor::visit_node(op);
  }
  void visit_node(const ForNode* op) override {
    inner_vars.insert(op->loop_var.get());
    inner_loops[op->loop_var.get()] = IntSet::from_range(Range(op->min, op->extent));
    IRVisitor::visit_node(op);
  }
  void visit_node(const LetStmtNode* op) override {
    inner_vars.insert(op->var.get());
    IRVisitor::visit_node(op);
  }
  void visit_node(const LetNode* op) override {
    inner_vars.insert(op->var.get());
    IRVisitor::visit_node(op);
  }

 private:
  bool requested(const Tensor& t) const {
    const OperationNode* producer = t.op().get();
    const StageNode& stage = *request_.tensor_stage;
    bool same_op = producer == stage.op.get() || (stage.origin_op.defined() && producer == stage.origin_op.get());
    return same_op && t->value_index == request_.value_index;
  }

  const IterVarAttr::Prefetch& request_;
};

std::string offset_word(int64_t offset) {
  return detail::cat(offset, offset == 1 ? " iteration" : " iterations", " ahead");
}

Expr clamp_index(const Expr& index, const Expr& extent) {
  Expr last = cast(index.dtype(), extent) - make_const(index.dtype(), 1);
  return max(min(index, last), make_zero(index.dtype()));
}

}  // namespace

Stmt make_prefetch(const StageNode& stage, const std::vector<Expr>& stage_body, const IterVar& axis,
                   const IterVarAttr::Prefetch& request, const Stmt& body) {
  ReadCollector collector(request);
  collector.visit(body);
  if (collector.reads.empty()) {
    // The stage's computation reads the tensor, but not here: the simplifier proved those
    // reads dead in this loop (a padding branch never taken in this region). Nothing to fetch.
    ReadCollector in_stage(request);
    for (const Expr& e : stage_body) in_stage.visit(e);
    if (!in_stage.reads.empty()) return Stmt();
  }
  const std::string& tensor_name = request.tensor_stage->op->name;
  auto where = [&] {
    return detail::cat("prefetch: stage ", stage.op->name, ", axis ", axis->var.name(), ", tensor ", tensor_name);
  };
  if (collector.reads.empty())
    fail(where(), ": the loop's body reads no element of ", tensor_name,
         " (a cache_read stage or a stage that is not inlined reads it instead); prefetch in the stage that reads it");
  if (collector.produced_inside)
    fail(where(), ": ", tensor_name, " is computed inside this loop (compute_at): what the iteration ",
         offset_word(request.offset), " reads is not computed yet; prefetch what ", tensor_name,
         " reads in its own stage, or prefetch at an axis inside its attach point");
  const Tensor& tensor = collector.reads[0]->tensor;
  size_t ndim = tensor.shape().size();
  std::vector<IntSet> region(ndim);
  auto inner = [&](const VarNode* v) { return collector.inner_vars.count(v) > 0; };
  for (size_t d = 0; d < ndim; ++d) {
    std::vector<IntSet> sets;
    for (const TensorReadNode* read : collector.reads)
      sets.push_back(eval_set(read->indices[d], collector.inner_loops));
    region[d] = union_set(sets);
    // Where the indices give no bound in terms of the outer loops (a floormod by a symbolic size,
    // a data-dependent index), the whole dimension, as bound inference does.
    if (!region[d].is_bounded() || uses_var(region[d].min, inner) || uses_var(region[d].max, inner)) {
      Expr extent = tensor.shape()[d];
      DataType t = collector.reads[0]->indices[d].dtype();
      region[d] = IntSet::interval(make_zero(t), cast(t, extent) - make_const(t, 1));
    }
  }
  // The same region `offset` iterations ahead.
  Expr ahead = axis->var + make_const(axis->var.dtype(), double(request.offset));
  std::unordered_map<const VarNode*, Expr> shift = {{axis->var.get(), ahead}};
  std::vector<Expr> indices(ndim);
  std::vector<std::pair<Var, Expr>> loops;  // outermost first
  for (size_t d = 0; d < ndim; ++d) {
    Expr first = simplify(substitute(region[d].min, shift));
    Expr extent = simplify(region[d].max - region[d].min + make_const(region[d].min.dtype(), 1));
    DataType t = first.dtype();
    Var i(detail::cat("prefetch.", tensor_name, ".", d), t);
    Expr offset_in_region = i;
    if (d + 1 == ndim) {
      int64_t per_line = std::max<int64_t>(1, kCacheLineBytes / std::max(1, tensor.dtype().bytes()));
      Expr line = make_const(t, double(per_line));
      offset_in_region = min(i * line, extent - make_const(t, 1));
      extent = simplify(floordiv(extent + line - make_const(t, 2), line) + make_const(t, 1));
    }
    indices[d] = clamp_index(first + offset_in_region, tensor.shape()[d]);
    loops.emplace_back(i, extent);
  }
  Stmt prefetch = EvaluateNode::make(
      CallNode::make(DataType::int32(), Intrinsic::kPrefetch, {TensorReadNode::make(tensor, indices)}));
  for (size_t d = ndim; d-- > 0;)
    prefetch =
        ForNode::make(loops[d].first, make_zero(loops[d].second.dtype()), loops[d].second, ForKind::kSerial, prefetch);
  return prefetch;
}

}  // namespace te
