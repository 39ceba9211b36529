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

#include <optional>
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

// The region of a tensor that a loop's body reads some iterations ahead: per dimension its first
// index and its extent.
struct PrefetchRegion {
  Tensor tensor;
  std::vector<Expr> first, extent;
};

// The region of the requested tensor that `body` reads `offset` iterations of `axis` ahead. None
// when the stage reads the tensor but this body does not (reads simplified away here), or the
// tensor is a scalar.
std::optional<PrefetchRegion> region_ahead(const StageNode& stage, const std::vector<Expr>& stage_body,
                                           const IterVar& axis, const IterVarAttr::Prefetch& request,
                                           const Stmt& body) {
  ReadCollector collector(request);
  collector.visit(body);
  if (collector.reads.empty()) {
    // The stage's computation reads the tensor, but not here: the simplifier proved those
    // reads dead in this loop (a padding branch never taken in this region). Nothing to fetch.
    ReadCollector in_stage(request);
    for (const Expr& e : stage_body) in_stage.visit(e);
    if (!in_stage.reads.empty()) return std::nullopt;
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
  PrefetchRegion region{collector.reads[0]->tensor, {}, {}};
  size_t ndim = region.tensor.shape().size();
  if (ndim == 0) return std::nullopt;  // a scalar: one element, nothing worth a hint
  auto inner = [&](const VarNode* v) { return collector.inner_vars.count(v) > 0; };
  // The same region `offset` iterations ahead.
  Expr ahead = axis->var + make_const(axis->var.dtype(), double(request.offset));
  std::unordered_map<const VarNode*, Expr> shift = {{axis->var.get(), ahead}};
  for (size_t d = 0; d < ndim; ++d) {
    std::vector<IntSet> sets;
    for (const TensorReadNode* read : collector.reads)
      sets.push_back(eval_set(read->indices[d], collector.inner_loops));
    IntSet range = union_set(sets);
    // Where the indices give no bound in terms of the outer loops (a floormod by a symbolic size,
    // a data-dependent index), the whole dimension, as bound inference does.
    if (!range.is_bounded() || uses_var(range.min, inner) || uses_var(range.max, inner)) {
      DataType t = collector.reads[0]->indices[d].dtype();
      range = IntSet::interval(make_zero(t), cast(t, region.tensor.shape()[d]) - make_const(t, 1));
    }
    region.first.push_back(simplify(substitute(range.min, shift)));
    region.extent.push_back(simplify(range.max - range.min + make_const(range.min.dtype(), 1)));
  }
  return region;
}

int64_t elements_per_line(const Tensor& tensor) {
  return std::max<int64_t>(1, kCacheLineBytes / std::max(1, tensor.dtype().bytes()));
}

// Cache lines of the region's last (contiguous) dimension: one more than its extent suggests,
// so a row that straddles a line boundary is still covered.
Expr lines_per_row(const PrefetchRegion& region) {
  const Expr& extent = region.extent.back();
  DataType t = extent.dtype();
  Expr line = make_const(t, double(elements_per_line(region.tensor)));
  return simplify(floordiv(extent + line - make_const(t, 2), line) + make_const(t, 1));
}

// prefetch(T[...]) of line `line` of the row whose leading indices (relative to the region's
// first) are `row`; every index clamped inside the tensor.
Stmt prefetch_line(const PrefetchRegion& region, const std::vector<Expr>& row, const Expr& line) {
  size_t ndim = region.first.size();
  std::vector<Expr> indices(ndim);
  const Tensor& tensor = region.tensor;
  for (size_t d = 0; d + 1 < ndim; ++d) indices[d] = clamp_index(region.first[d] + row[d], tensor.shape()[d]);
  const Expr& extent = region.extent.back();
  DataType t = extent.dtype();
  Expr in_row = min(line * make_const(t, double(elements_per_line(tensor))), extent - make_const(t, 1));
  indices[ndim - 1] = clamp_index(region.first[ndim - 1] + in_row, tensor.shape()[ndim - 1]);
  return EvaluateNode::make(
      CallNode::make(DataType::int32(), Intrinsic::kPrefetch, {TensorReadNode::make(tensor, indices)}));
}

Stmt loop_over(const Var& v, const Expr& extent, const Stmt& body) {
  return ForNode::make(v, make_zero(extent.dtype()), extent, ForKind::kSerial, body);
}

// Puts `first` before the body of the loop over `var` inside `stmt`.
class PrependToLoop : public IRMutator {
 public:
  PrependToLoop(const VarNode* var, Stmt first) : var_(var), first_(std::move(first)) {}
  bool found = false;

 protected:
  Stmt mutate_node(const ForNode* op, const Stmt& self) override {
    if (op->loop_var.get() != var_) return IRMutator::mutate_node(op, self);
    found = true;
    return ForNode::make(op->loop_var, op->min, op->extent, op->for_kind, SeqNode::make({first_, op->body}),
                         op->thread_tag);
  }

 private:
  const VarNode* var_;
  Stmt first_;
};

}  // namespace

Stmt make_prefetch(const StageNode& stage, const std::vector<Expr>& stage_body, const IterVar& axis,
                   const IterVarAttr::Prefetch& request, const Stmt& body) {
  std::optional<PrefetchRegion> region = region_ahead(stage, stage_body, axis, request, body);
  if (!region) return Stmt();
  const std::string& name = region->tensor.op()->name;
  size_t ndim = region->first.size();
  std::vector<Var> row;
  for (size_t d = 0; d + 1 < ndim; ++d)
    row.emplace_back(detail::cat("prefetch.", name, ".", d), region->extent[d].dtype());
  Var line(detail::cat("prefetch.", name, ".", ndim - 1), region->extent.back().dtype());
  Stmt prefetch = loop_over(line, lines_per_row(*region), prefetch_line(*region, {row.begin(), row.end()}, line));
  for (size_t d = ndim - 1; d-- > 0;) prefetch = loop_over(row[d], region->extent[d], prefetch);
  return prefetch;
}

Stmt spread_prefetch(const StageNode& stage, const std::vector<Expr>& stage_body, const IterVar& axis,
                     const IterVarAttr::Prefetch& request, const Stmt& body,
                     const std::vector<std::pair<IterVar, Expr>>& spread_loops) {
  std::optional<PrefetchRegion> region = region_ahead(stage, stage_body, axis, request, body);
  if (!region) return body;
  const std::string& name = region->tensor.op()->name;
  size_t ndim = region->first.size();
  // Rows: the region's leading dimensions flattened (one row when the tensor is 1-D); t: the
  // iteration of the spread loops, flattened (E in all).
  DataType t_type = spread_loops.back().first->var.dtype();
  Expr t = make_zero(t_type), iterations = make_const(t_type, 1);
  for (const auto& [leaf, extent] : spread_loops) {
    t = t * cast(t_type, extent) + leaf->var;
    iterations = iterations * cast(t_type, extent);
  }
  Expr rows = make_const(t_type, 1);
  for (size_t d = 0; d + 1 < ndim; ++d) rows = rows * cast(t_type, region->extent[d]);
  rows = simplify(rows);
  // Iteration t prefetches rows [t * rows / E, (t + 1) * rows / E): every row once, spread evenly
  // (with fewer rows than iterations, every (E / rows)-th iteration fetches one).
  Expr first_row = floordiv(t * rows, iterations);
  Expr end_row = floordiv((t + make_const(t_type, 1)) * rows, iterations);
  Var local(detail::cat("prefetch.", name, ".row"), t_type);
  Expr flat = first_row + local;
  // The flat row index back to the leading dimensions' indices, the last fastest.
  std::vector<Expr> row(ndim > 0 ? ndim - 1 : 0);
  Expr rest = flat;
  for (size_t d = row.size(); d-- > 0;) {
    Expr extent = cast(t_type, region->extent[d]);
    row[d] = cast(region->extent[d].dtype(), d == 0 ? rest : floormod(rest, extent));
    rest = floordiv(rest, extent);
  }
  Var line(detail::cat("prefetch.", name, ".line"), region->extent.back().dtype());
  Stmt lines = loop_over(line, lines_per_row(*region), prefetch_line(*region, row, line));
  Stmt chunk = loop_over(local, simplify(end_row - first_row), lines);
  PrependToLoop prepend(spread_loops.back().first->var.get(), chunk);
  Stmt out = prepend.mutate(body);
  if (!prepend.found)
    fail("prefetch: stage ", stage.op->name, ", axis ", axis->var.name(), ": the loop over ",
         spread_loops.back().first->var.name(), " to spread the prefetch over is not inside it");
  return out;
}

}  // namespace te
