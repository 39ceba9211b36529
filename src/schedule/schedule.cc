// src/schedule/schedule.cc — create_schedule, Schedule::operator[] and the helpers every
// primitive shares (schedule_util.h): stage lookup, step recording, data-flow rewriting.
#include "te/ir_functor.h"
#include "te/schedule.h"
#include "schedule/schedule_util.h"

#include <unordered_set>

namespace te {

namespace schedule_detail {

std::string axis_list(const std::vector<IterVar>& axes) {
  std::string out;
  for (size_t i = 0; i < axes.size(); ++i) {
    if (i) out += ", ";
    out += axis_name(axes[i]);
  }
  return out;
}

int find_axis(const std::vector<IterVar>& v, const IterVar& iv) {
  for (size_t i = 0; i < v.size(); ++i)
    if (v[i].same_as(iv)) return int(i);
  return -1;
}

std::vector<IterVar> root_iter_vars(const Operation& op) {
  std::vector<IterVar> roots;
  if (const auto* compute = op.as<ComputeOpNode>()) {
    roots = compute->axis;
    roots.insert(roots.end(), compute->reduce_axis.begin(), compute->reduce_axis.end());
  }
  return roots;
}

Stage make_stage(const Operation& op, ScheduleNode* sch) {
  Stage stage(new StageNode());
  stage->op = op;
  stage->origin_op = op;
  stage->all_iter_vars = root_iter_vars(op);
  stage->leaf_iter_vars = stage->all_iter_vars;
  stage->schedule = sch;
  return stage;
}

int stage_index(const ScheduleNode* sch, const StageNode* stage) {
  for (size_t i = 0; i < sch->stages.size(); ++i)
    if (sch->stages[i].get() == stage) return int(i);
  TE_ICHECK(false, "stage ", stage->op->name, " is not in its schedule");
  return -1;
}

ScheduleNode* owner(const StageNode* stage) {
  TE_ICHECK(stage && stage->schedule, "stage has no owning schedule");
  return stage->schedule;
}

void record_step(const StageNode* stage, Step step) {
  ScheduleNode* sch = owner(stage);
  step.stage = stage_index(sch, stage);
  sch->steps.push_back(std::move(step));
}

int require_leaf(const StageNode* stage, const IterVar& iv, const char* primitive) {
  if (!iv.defined()) fail(primitive, ": axis is undefined (stage ", stage->op->name, ")");
  int pos = find_axis(stage->leaf_iter_vars, iv);
  if (pos >= 0) return pos;
  if (find_axis(stage->all_iter_vars, iv) >= 0)
    fail(primitive, ": axis ", axis_name(iv), " is not a leaf axis of stage ", stage->op->name,
         " (it was already split or fused; leaves: ", axis_list(stage->leaf_iter_vars), ")");
  fail(primitive, ": axis ", axis_name(iv), " is not a leaf axis of stage ", stage->op->name,
       " (leaves: ", axis_list(stage->leaf_iter_vars), ")");
}

StageNode* find_stage(const ScheduleNode* sch, const OperationNode* op) {
  auto it = sch->stage_map.find(op);
  return it == sch->stage_map.end() ? nullptr : it->second.get();
}

void set_stage_op(ScheduleNode* sch, StageNode* stage, const Operation& new_op) {
  Stage handle(stage);
  if (!stage->op.same_as(stage->origin_op)) sch->stage_map.erase(stage->op.get());
  stage->op = new_op;
  sch->stage_map[new_op.get()] = handle;
  sch->stage_map[stage->origin_op.get()] = handle;
}

void reset_loop_state(StageNode* stage) {
  stage->all_iter_vars = root_iter_vars(stage->op);
  stage->leaf_iter_vars = stage->all_iter_vars;
  stage->relations.clear();
  stage->iter_var_attrs.clear();
}

namespace {

// Redirects TensorReads through a tensor map; everything else is kept.
class TensorReadReplacer : public IRMutator {
 public:
  explicit TensorReadReplacer(const std::unordered_map<Tensor, Tensor, TensorHash>& vmap) : vmap_(vmap) {}

 protected:
  Expr mutate_node(const TensorReadNode* op, const Expr& self) override {
    bool changed = false;
    std::vector<Expr> indices = mutate_all(op->indices, &changed);
    auto it = vmap_.find(op->tensor);
    if (it == vmap_.end() && !changed) return self;
    return TensorReadNode::make(it == vmap_.end() ? op->tensor : it->second, std::move(indices));
  }

 private:
  const std::unordered_map<Tensor, Tensor, TensorHash>& vmap_;
};

}  // namespace

Operation replace_reads(const Operation& op, const std::unordered_map<Tensor, Tensor, TensorHash>& vmap) {
  const auto* compute = op.as<ComputeOpNode>();
  if (!compute || vmap.empty()) return op;
  TensorReadReplacer replacer(vmap);
  bool changed = false;
  std::vector<Expr> body;
  for (const Expr& e : compute->body) {
    body.push_back(replacer.mutate(e));
    changed |= !body.back().same_as(e);
  }
  if (!changed) return op;
  // Keep the reduce axes identical even if the rebuilt Reduce nodes are new objects.
  Operation rebuilt = ComputeOpNode::make(compute->name, compute->tag, compute->axis, std::move(body));
  const auto* fresh = rebuilt.as<ComputeOpNode>();
  TE_ICHECK(fresh->reduce_axis.size() == compute->reduce_axis.size(),
            "rewriting reads of ", compute->name, " changed its reduce axes");
  for (size_t i = 0; i < fresh->reduce_axis.size(); ++i)
    TE_ICHECK(fresh->reduce_axis[i].same_as(compute->reduce_axis[i]),
              "rewriting reads of ", compute->name, " changed its reduce axes");
  return rebuilt;
}

void replace_dataflow(ScheduleNode* sch, std::unordered_map<Tensor, Tensor, TensorHash> vmap, size_t first) {
  // Stages are in producer-before-consumer order, so one forward pass sees every consumer
  // after the op it reads was replaced.
  for (size_t i = first; i < sch->stages.size(); ++i) {
    StageNode* stage = sch->stages[i].get();
    Operation old_op = stage->op;
    Operation new_op = replace_reads(old_op, vmap);
    if (new_op.same_as(old_op)) continue;
    set_stage_op(sch, stage, new_op);
    for (int k = 0; k < old_op->num_outputs(); ++k) vmap[old_op.output(k)] = new_op.output(k);
  }
}

std::vector<const StageNode*> stages_attached_to(const ScheduleNode* sch, const StageNode* stage) {
  std::vector<const StageNode*> attached;
  for (const Stage& s : sch->stages)
    if (s->attach_type == AttachType::kScope && s->attach_stage == stage) attached.push_back(s.get());
  return attached;
}

}  // namespace schedule_detail

using namespace schedule_detail;

const std::string& Stage::name() const {
  if (!defined() || !get()->op.defined()) fail("Stage::name: the stage is undefined");
  return get()->op->name;
}

Stage Schedule::operator[](const Operation& op) const {
  if (!defined()) fail("schedule[]: the schedule is undefined; make one with create_schedule");
  if (!op.defined()) fail("schedule[]: the operation is undefined");
  if (StageNode* stage = find_stage(get(), op.get())) return Stage(stage);
  std::string names;
  for (const Stage& s : get()->stages) names += (names.empty() ? "" : ", ") + s->op->name;
  fail("schedule[]: operation ", op->name, " is not in this schedule (stages: ", names,
       "); create the schedule from an output that depends on it");
}

Schedule create_schedule(const std::vector<Operation>& outputs) {
  if (outputs.empty()) fail("create_schedule: no output operations given");
  for (size_t i = 0; i < outputs.size(); ++i)
    if (!outputs[i].defined()) fail("create_schedule: output ", i, " is undefined");
  Schedule sch(new ScheduleNode());
  sch->outputs = outputs;
  std::unordered_set<const OperationNode*> output_set;
  for (const Operation& op : outputs) output_set.insert(op.get());
  for (const Operation& op : post_dfs_order(outputs)) {
    Stage stage = make_stage(op, sch.get());
    stage->is_output = output_set.count(op.get()) > 0;
    sch->stages.push_back(stage);
    sch->stage_map[op.get()] = stage;
  }
  return sch;
}

}  // namespace te
