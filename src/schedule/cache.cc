// src/schedule/cache.cc — cache_read and cache_write. Both add a stage and redirect the data
// flow: tensor identity is (op, value_index), so every op reading a replaced op is rebuilt
// to read its replacement (replace_dataflow in schedule.cc).
#include <unordered_set>

#include "te/ir_functor.h"
#include "te/schedule.h"
#include "schedule/schedule_util.h"

namespace te {

using namespace schedule_detail;

namespace schedule_detail {

namespace {

class AxisRebinder : public IRMutator {
 public:
  AxisRebinder(const std::unordered_map<const VarNode*, Expr>& var_map,
               const std::unordered_map<const IterVarNode*, IterVar>& axis_map)
      : var_map_(var_map), axis_map_(axis_map) {}

 protected:
  Expr mutate_node(const VarNode* op, const Expr& self) override {
    auto it = var_map_.find(op);
    return it == var_map_.end() ? self : it->second;
  }
  Expr mutate_node(const ReduceNode* op, const Expr& self) override {
    bool changed = false;
    std::vector<Expr> source = mutate_all(op->source, &changed);
    Expr condition = op->condition.defined() ? mutate(op->condition) : op->condition;
    changed |= !condition.same_as(op->condition);
    std::vector<IterVar> axis;
    for (const IterVar& iv : op->axis) {
      auto it = axis_map_.find(iv.get());
      axis.push_back(it == axis_map_.end() ? iv : it->second);
      changed |= !axis.back().same_as(iv);
    }
    if (!changed) return self;
    return ReduceNode::make(op->combiner, std::move(source), std::move(axis), condition, op->value_index);
  }

 private:
  const std::unordered_map<const VarNode*, Expr>& var_map_;
  const std::unordered_map<const IterVarNode*, IterVar>& axis_map_;
};

}  // namespace

Expr rebind_axes(const Expr& e, const std::unordered_map<const VarNode*, Expr>& var_map,
                 const std::unordered_map<const IterVarNode*, IterVar>& axis_map) {
  AxisRebinder rebinder(var_map, axis_map);
  return rebinder.mutate(e);
}

IterVar fresh_axis(const IterVar& iv, const std::unordered_map<const VarNode*, Expr>& var_map) {
  Range dom = iv.dom();
  if (!var_map.empty() && dom.min.defined()) dom = Range(substitute(dom.min, var_map), substitute(dom.extent, var_map));
  return IterVar(dom, Var(iv.var().name(), iv.var().dtype()), iv.type(), iv->thread_tag);
}

}  // namespace schedule_detail

namespace {

// The stage producing tensor, and tensor's current identity (its stage's op may have been
// replaced since the user got the handle).
std::pair<StageNode*, Tensor> producer_of(const ScheduleNode* sch, const Tensor& tensor, const char* primitive) {
  if (!sch) fail(primitive, ": the schedule is undefined; make one with create_schedule");
  if (!tensor.defined()) fail(primitive, ": the tensor is undefined");
  StageNode* stage = find_stage(sch, tensor.op().get());
  if (!stage) fail(primitive, ": tensor ", tensor.name(), " is not produced by any stage of this schedule");
  int vi = tensor->value_index;
  if (vi < 0 || vi >= stage->op->num_outputs())
    fail(primitive, ": tensor ", tensor.name(), " has no output ", vi, " in its current stage");
  return {stage, stage->op.output(vi)};
}

bool reads_tensor(const Operation& op, const Tensor& tensor) {
  for (const Tensor& input : op->input_tensors())
    if (input == tensor) return true;
  return false;
}

}  // namespace

Tensor Schedule::cache_read(const Tensor& tensor, const std::string& scope, const std::vector<Operation>& readers) {
  ScheduleNode* sch = get();
  auto [producer, current] = producer_of(sch, tensor, "cache_read");
  if (scope.empty()) fail("cache_read: empty storage scope for tensor ", current.name(), " (use \"shared\", \"local\"...)");
  if (readers.empty()) fail("cache_read: no readers given for tensor ", current.name());
  std::unordered_set<const StageNode*> reader_stages;
  std::vector<int> reader_indices;
  for (const Operation& reader : readers) {
    if (!reader.defined()) fail("cache_read: a reader of ", current.name(), " is undefined");
    StageNode* stage = find_stage(sch, reader.get());
    if (!stage) fail("cache_read: reader ", reader->name, " is not in this schedule");
    if (!reads_tensor(stage->op, current))
      fail("cache_read: reader ", reader->name, " does not read tensor ", current.name(),
           "; readers must be consumers of the cached tensor");
    if (reader_stages.insert(stage).second) reader_indices.push_back(stage_index(sch, stage));
  }

  // The cache: out[ax0, ax1, ...] = tensor[ax0, ax1, ...].
  std::vector<IterVar> axes;
  std::vector<Expr> indices;
  for (size_t d = 0; d < current.shape().size(); ++d) {
    const Expr& extent = current.shape()[d];
    Var v("ax" + std::to_string(d), extent.dtype());
    axes.emplace_back(Range(make_zero(extent.dtype()), extent), v, IterVarType::kDataPar);
    indices.push_back(v);
  }
  Operation cache_op = ComputeOpNode::make(current->op->name + "." + scope, "", axes,
                                           {TensorReadNode::make(current, indices)});
  Tensor cache = cache_op.output(0);

  int producer_index = stage_index(sch, producer);
  Step step;
  step.primitive = "cache_read";
  step.ints = {tensor->value_index};
  step.strs = {scope};
  step.readers = reader_indices;
  record_step(producer, std::move(step));

  Stage cache_stage = make_stage(cache_op, sch);
  cache_stage->scope = scope;
  sch->stages.insert(sch->stages.begin() + producer_index + 1, cache_stage);
  sch->stage_map[cache_op.get()] = cache_stage;

  // Readers read the cache; whoever reads a rewritten reader reads its new op.
  std::unordered_map<Tensor, Tensor, TensorHash> redirected;
  for (size_t i = producer_index + 2; i < sch->stages.size(); ++i) {
    StageNode* stage = sch->stages[i].get();
    std::unordered_map<Tensor, Tensor, TensorHash> vmap = redirected;
    if (reader_stages.count(stage)) vmap[current] = cache;
    Operation old_op = stage->op;
    Operation new_op = replace_reads(old_op, vmap);
    if (new_op.same_as(old_op)) continue;
    set_stage_op(sch, stage, new_op);
    for (int k = 0; k < old_op->num_outputs(); ++k) redirected[old_op.output(k)] = new_op.output(k);
  }
  return cache;
}

Tensor Schedule::cache_write(const Tensor& tensor, const std::string& scope) {
  ScheduleNode* sch = get();
  auto [stage, current] = producer_of(sch, tensor, "cache_write");
  const auto* compute = stage->op.as<ComputeOpNode>();
  if (!compute) fail("cache_write: stage ", stage->op->name, " is a placeholder; only computes can be cached");
  if (scope.empty()) fail("cache_write: empty storage scope for stage ", stage->op->name);
  std::vector<IterVar> roots = root_iter_vars(stage->op);
  // rfactor's mark on its combining axis is not a schedule of the stage.
  bool annotated = false;
  for (const auto& [iv, attr] : stage->iter_var_attrs)
    annotated |= attr.for_kind != ForKind::kSerial || attr.bound_thread.defined() || !attr.pragmas.empty() ||
                 !attr.prefetches.empty() || attr.tensorize_wmma;
  bool untouched = stage->relations.empty() && !annotated &&
                   stage->attach_type == AttachType::kRoot && stage->leaf_iter_vars.size() == roots.size();
  for (size_t i = 0; untouched && i < roots.size(); ++i) untouched = stage->leaf_iter_vars[i].same_as(roots[i]);
  if (!untouched || !stages_attached_to(sch, stage).empty())
    fail("cache_write: stage ", stage->op->name,
         " already has a schedule; call cache_write before split/reorder/fuse/annotations/compute_at on it"
         " or on stages attached to it");

  // The cache computes the original body over fresh axes, so it can be scheduled on its own.
  std::unordered_map<const VarNode*, Expr> var_map;
  std::unordered_map<const IterVarNode*, IterVar> axis_map;
  std::vector<IterVar> cache_axes;
  for (const IterVar& iv : compute->axis) {
    IterVar copy = fresh_axis(iv);
    var_map[iv.var().get()] = copy.var();
    axis_map[iv.get()] = copy;
    cache_axes.push_back(copy);
  }
  for (const IterVar& iv : compute->reduce_axis) {
    IterVar copy = fresh_axis(iv, var_map);
    axis_map[iv.get()] = copy;
    var_map[iv.var().get()] = copy.var();
  }
  std::vector<Expr> cache_body;
  for (const Expr& e : compute->body) cache_body.push_back(rebind_axes(e, var_map, axis_map));
  Operation cache_op = ComputeOpNode::make(compute->name + "." + scope, compute->tag, cache_axes, cache_body);

  // The original op becomes a copy out of the cache over the same axes (so the user's axis
  // handles of this stage stay valid).
  std::vector<Expr> indices;
  for (const IterVar& iv : compute->axis) indices.push_back(iv.var());
  std::vector<Expr> copy_body;
  for (int k = 0; k < cache_op->num_outputs(); ++k)
    copy_body.push_back(TensorReadNode::make(cache_op.output(k), indices));
  Operation copy_op = ComputeOpNode::make(compute->name, compute->tag, compute->axis, copy_body);

  Step step;
  step.primitive = "cache_write";
  step.ints = {tensor->value_index};
  step.strs = {scope};
  record_step(stage, std::move(step));

  Operation old_op = stage->op;
  int index = stage_index(sch, stage);
  set_stage_op(sch, stage, copy_op);
  reset_loop_state(stage);
  Stage cache_stage = make_stage(cache_op, sch);
  cache_stage->scope = scope;
  sch->stages.insert(sch->stages.begin() + index, cache_stage);
  sch->stage_map[cache_op.get()] = cache_stage;

  std::unordered_map<Tensor, Tensor, TensorHash> vmap;
  for (int k = 0; k < old_op->num_outputs(); ++k) vmap[old_op.output(k)] = copy_op.output(k);
  replace_dataflow(sch, vmap, size_t(index) + 2);
  return cache_op.output(tensor->value_index);
}

}  // namespace te
