// src/schedule/rfactor.cc — Schedule::rfactor (TVM semantics). For C = reduce over k with k
// split into (ko, ki), rfactor(C, ki) makes
//   C.rf[..., ki, ...] = reduce over ko (and the other reduce axes) of body[k = ko*f + ki]
//                        where ko*f + ki < extent(k)
//   C[...]             = reduce over ki.v of C.rf[..., ki.v, ...]
// The rfactor stage gets fresh axes (it is scheduled independently) and is inserted before C;
// C's stage starts over with its new op. Supported: a root reduce axis, or one half of a
// single split of a root reduce axis; single-valued reducers.
#include "te/ir_functor.h"
#include "te/schedule.h"
#include "schedule/schedule_util.h"

namespace te {

using namespace schedule_detail;

namespace {

bool is_true(const Expr& cond) { return !cond.defined() || is_const_int(cond, 1); }

Expr ceil_div(const Expr& a, int64_t b) {
  if (const int64_t* v = as_const_int(a)) return make_const(a.dtype(), double((*v + b - 1) / b));
  return floordiv(a + make_const(a.dtype(), double(b - 1)), make_const(a.dtype(), double(b)));
}

// How the rfactored axis relates to its root reduce axis.
struct RfactorAxis {
  IterVar root;               // the compute's reduce axis that axis comes from
  const IterVarRelation* split = nullptr;  // null when axis is the root itself
  bool axis_is_outer = false;
  IterVar sibling;            // the other half of the split
  Expr outer_extent, inner_extent;
  bool needs_guard = false;   // outer_extent * inner_extent may exceed the root's extent
};

RfactorAxis analyze_axis(const StageNode* stage, const ComputeOpNode* compute, const IterVar& axis) {
  RfactorAxis info;
  const std::string& name = stage->op->name;
  if (find_axis(compute->reduce_axis, axis) >= 0) {
    info.root = axis;
    return info;
  }
  for (const IterVarRelation& rel : stage->relations)
    if (rel.kind == IterVarRelation::kSplit && (rel.outer.same_as(axis) || rel.inner.same_as(axis))) info.split = &rel;
  if (!info.split || find_axis(compute->reduce_axis, info.split->parent) < 0)
    fail("rfactor: axis ", axis_name(axis), " of stage ", name,
         " must be a reduce axis of the compute or one half of a split of one (deeper splits and fused axes "
         "are not supported)");
  info.root = info.split->parent;
  info.axis_is_outer = info.split->outer.same_as(axis);
  info.sibling = info.axis_is_outer ? info.split->inner : info.split->outer;
  if (find_axis(stage->leaf_iter_vars, info.sibling) < 0)
    fail("rfactor: axis ", axis_name(info.sibling), " of stage ", name, " (the other half of the split of ",
         axis_name(info.root), ") was split or fused again; rfactor supports one level of split");
  const Expr& extent = info.root.dom().extent;
  TE_ICHECK(extent.defined(), "reduce axis ", axis_name(info.root), " has no extent");
  DataType t = extent.dtype();
  int64_t parts = info.split->factor > 0 ? info.split->factor : info.split->nparts;
  Expr other = ceil_div(extent, parts);
  if (info.split->factor > 0) {
    info.inner_extent = make_const(t, double(parts));
    info.outer_extent = other;
  } else {
    info.outer_extent = make_const(t, double(parts));
    info.inner_extent = other;
  }
  const int64_t* e = as_const_int(extent);
  const int64_t* o = as_const_int(info.outer_extent);
  const int64_t* i = as_const_int(info.inner_extent);
  info.needs_guard = !(e && o && i && *o * *i == *e);
  return info;
}

}  // namespace

Tensor Schedule::rfactor(const Tensor& tensor, const IterVar& axis, int factor_axis) {
  ScheduleNode* sch = get();
  if (!sch) fail("rfactor: the schedule is undefined; make one with create_schedule");
  if (!tensor.defined()) fail("rfactor: the tensor is undefined");
  StageNode* stage = find_stage(sch, tensor.op().get());
  if (!stage) fail("rfactor: tensor ", tensor.name(), " is not produced by any stage of this schedule");
  const std::string& name = stage->op->name;
  const auto* compute = stage->op.as<ComputeOpNode>();
  if (!compute || compute->reduce_axis.empty())
    fail("rfactor: stage ", name, " is not a reduction; rfactor needs a compute whose body reduces");
  if (compute->body.size() > 1) fail("rfactor of a multi-valued reducer is not supported yet (stage ", name, ")");
  int pos = require_leaf(stage, axis, "rfactor");
  if (axis.type() != IterVarType::kCommReduce)
    fail("rfactor: axis ", axis_name(axis), " of stage ", name, " is not a reduction axis");
  int ndim = int(compute->axis.size());
  int factor_pos = factor_axis >= 0 ? factor_axis : ndim + 1 + factor_axis;
  if (factor_pos < 0 || factor_pos > ndim)
    fail("rfactor: factor_axis ", factor_axis, " is out of range for stage ", name, " with ", ndim,
         " dimensions (expected -", ndim + 1, " .. ", ndim, ")");
  if (auto attached = stages_attached_to(sch, stage); !attached.empty())
    fail("rfactor: stage ", attached.front()->op->name, " is computed at an axis of ", name,
         "; call rfactor before compute_at");
  RfactorAxis info = analyze_axis(stage, compute, axis);
  const auto* reduce = compute->body[0].as<ReduceNode>();
  TE_ICHECK(reduce, "compute ", name, " has reduce axes but no top-level Reduce");

  // Fresh spatial axes, with the factored axis inserted at factor_pos.
  std::unordered_map<const VarNode*, Expr> var_map;
  std::unordered_map<const IterVarNode*, IterVar> axis_map;
  std::vector<IterVar> rf_axes;
  for (const IterVar& iv : compute->axis) {
    IterVar copy = fresh_axis(iv);
    var_map[iv.var().get()] = copy.var();
    rf_axes.push_back(copy);
  }
  const Expr& root_extent = info.root.dom().extent;
  DataType t = root_extent.dtype();
  Expr factored_extent = !info.split ? root_extent : (info.axis_is_outer ? info.outer_extent : info.inner_extent);
  IterVar factored(Range(make_zero(t), factored_extent), Var(axis_name(axis), t), IterVarType::kDataPar);
  rf_axes.insert(rf_axes.begin() + factor_pos, factored);

  // Reduce axes of the rfactor op: the untouched roots (fresh) and the split's other half.
  std::vector<IterVar> rf_reduce;
  Expr root_value, guard;
  for (const IterVar& r : compute->reduce_axis) {
    if (!r.same_as(info.root)) {
      IterVar copy = fresh_axis(r, var_map);
      rf_reduce.push_back(copy);
      var_map[r.var().get()] = copy.var();
      continue;
    }
    if (!info.split) {
      root_value = factored.var();
    } else {
      Expr sibling_extent = info.axis_is_outer ? info.inner_extent : info.outer_extent;
      IterVar sibling(Range(make_zero(t), sibling_extent), Var(axis_name(info.sibling), t), IterVarType::kCommReduce);
      rf_reduce.push_back(sibling);
      Expr outer = info.axis_is_outer ? Expr(factored.var()) : Expr(sibling.var());
      Expr inner = info.axis_is_outer ? Expr(sibling.var()) : Expr(factored.var());
      root_value = outer * info.inner_extent + inner;
      if (info.needs_guard) guard = root_value < root_extent;
    }
    if (!is_zero(r.dom().min)) root_value = root_value + r.dom().min;
  }
  var_map[info.root.var().get()] = root_value;

  Expr source = rebind_axes(reduce->source[0], var_map, axis_map);
  Expr condition = is_true(reduce->condition) ? Expr() : rebind_axes(reduce->condition, var_map, axis_map);
  if (guard.defined()) condition = condition.defined() ? (guard && condition) : guard;
  Expr rf_body;
  if (!rf_reduce.empty()) {
    rf_body = ReduceNode::make(reduce->combiner, {source}, rf_reduce,
                               condition.defined() ? condition : make_const(DataType::boolean(), 1), 0);
  } else {
    // Nothing left to reduce: each element is one term (or the identity where excluded).
    rf_body = condition.defined() ? if_then_else(condition, source, reduce->combiner->identity[0]) : source;
  }
  Operation rf_op = ComputeOpNode::make(name + ".rf", "", rf_axes, {rf_body});
  Tensor rf = rf_op.output(0);

  // The original op reduces the partial results over the factored dimension.
  IterVar combine_axis = reduce_axis(Range(make_zero(t), factored_extent), axis_name(axis) + ".v");
  std::vector<Expr> rf_indices;
  for (const IterVar& iv : compute->axis) rf_indices.push_back(iv.var());
  rf_indices.insert(rf_indices.begin() + factor_pos, combine_axis.var());
  Expr combined = ReduceNode::make(reduce->combiner, {TensorReadNode::make(rf, rf_indices)}, {combine_axis},
                                   make_const(DataType::boolean(), 1), 0);
  Operation repl_op = ComputeOpNode::make(name, compute->tag, compute->axis, {combined});

  Step step;
  step.primitive = "rfactor";
  step.iters = {pos};
  step.ints = {factor_axis, tensor->value_index};
  record_step(stage, std::move(step));

  Operation old_op = stage->op;
  int index = stage_index(sch, stage);
  set_stage_op(sch, stage, repl_op);
  reset_loop_state(stage);
  stage->iter_var_attrs[combine_axis.get()].combines_lanes = true;
  Stage rf_stage = make_stage(rf_op, sch);
  sch->stages.insert(sch->stages.begin() + index, rf_stage);
  sch->stage_map[rf_op.get()] = rf_stage;
  replace_dataflow(sch, {{old_op.output(0), repl_op.output(0)}}, size_t(index) + 2);
  return rf;
}

}  // namespace te
