// compute_inline substitution and the reader graph (see schedule_ops_inline.h).
#include "schedule/schedule_ops_inline.h"

#include <unordered_set>

#include "te/ir_functor.h"

namespace te {

namespace {

bool has_reduce(const Expr& e) {
  bool found = false;
  post_order_visit(e, [&](const Expr& x) { found = found || x.as<ReduceNode>() != nullptr; });
  return found;
}

// Replaces reads of inlined stages' outputs by their bodies with the axes bound to the
// read's indices.
class InlineMutator : public IRMutator {
 public:
  InlineMutator(const ScheduleGraph& graph, const std::unordered_map<const StageNode*, std::vector<Expr>>& inlined)
      : graph_(graph), inlined_(inlined) {}

 protected:
  using IRMutator::mutate_node;
  Expr mutate_node(const TensorReadNode* op, const Expr& self) override {
    bool changed = false;
    std::vector<Expr> indices = mutate_all(op->indices, &changed);
    StageNode* producer = graph_.find_stage(op->tensor.op());
    if (producer && producer->attach_type == AttachType::kInline) {
      auto it = inlined_.find(producer);
      TE_ICHECK(it != inlined_.end(), "inlined stage ", producer->op->name, " used before its body was built");
      const auto* compute = producer->op.as<ComputeOpNode>();
      std::unordered_map<const VarNode*, Expr> axis_values;
      for (size_t d = 0; d < compute->axis.size(); ++d) axis_values[compute->axis[d]->var.get()] = indices.at(d);
      return substitute(it->second.at(op->tensor->value_index), axis_values);
    }
    // Stages whose op was replaced (cache_write, rfactor, rewritten readers) keep the
    // tensors the user holds: their storage is named by the origin op's outputs.
    Tensor tensor = op->tensor;
    if (producer && !producer->op.same_as(stage_storage_op(*producer)) && tensor.op().same_as(producer->op))
      tensor = stage_storage_op(*producer).output(tensor->value_index);
    if (!changed && tensor.same_as(op->tensor)) return self;
    return TensorReadNode::make(tensor, indices);
  }

 private:
  const ScheduleGraph& graph_;
  const std::unordered_map<const StageNode*, std::vector<Expr>>& inlined_;
};

}  // namespace

const Operation& stage_storage_op(const StageNode& stage) {
  return stage.origin_op.defined() ? stage.origin_op : stage.op;
}

StageNode* ScheduleGraph::find_stage(const Operation& op) const {
  auto it = stage_of.find(op.get());
  return it == stage_of.end() ? nullptr : it->second;
}

std::vector<const TensorReadNode*> reads_of(const std::vector<Expr>& exprs, const OperationNode* op) {
  std::vector<const TensorReadNode*> reads;
  for (const Expr& e : exprs)
    post_order_visit(e, [&](const Expr& x) {
      if (const auto* r = x.as<TensorReadNode>())
        if (r->tensor.op().get() == op) reads.push_back(r);
    });
  return reads;
}

ScheduleGraph build_schedule_graph(const Schedule& sch) {
  ScheduleGraph graph;
  for (const Stage& stage : sch.stages()) {
    if (stage->origin_op.defined()) graph.stage_of[stage->origin_op.get()] = stage.get();
  }
  // The current op wins over an origin op that another stage took over (cache_write).
  for (const Stage& stage : sch.stages()) graph.stage_of[stage->op.get()] = stage.get();

  // Inlined stages first, in schedule order (producers before consumers), so that an inlined
  // stage reading another inlined stage finds its substituted body.
  std::unordered_map<const StageNode*, std::vector<Expr>> inlined;
  InlineMutator inliner(graph, inlined);
  for (const Stage& stage : sch.stages()) {
    if (stage->attach_type != AttachType::kInline) continue;
    const auto* compute = stage->op.as<ComputeOpNode>();
    if (!compute) fail("compute_inline: stage ", stage->op->name, " is a placeholder; only compute stages can be inlined");
    if (stage->is_output)
      fail("compute_inline: stage ", stage->op->name, " is an output of the schedule; outputs must be computed, not inlined");
    std::vector<Expr> body;
    for (const Expr& e : compute->body) {
      if (has_reduce(e))
        fail("compute_inline: stage ", stage->op->name,
             " is a reduction; only element-wise stages can be inlined (use compute_at instead)");
      body.push_back(inliner.mutate(e));
    }
    inlined[stage.get()] = body;
  }
  for (const Stage& stage : sch.stages()) {
    if (stage->attach_type == AttachType::kInline) continue;
    const auto* compute = stage->op.as<ComputeOpNode>();
    if (!compute) continue;
    std::vector<Expr> body;
    for (const Expr& e : compute->body) body.push_back(inliner.mutate(e));
    graph.bodies[stage.get()] = body;
  }
  // Readers, after substitution: a stage read only through an inlined stage is read by the
  // inlined stage's consumers.
  for (const Stage& consumer : sch.stages()) {
    auto body = graph.bodies.find(consumer.get());
    if (body == graph.bodies.end()) continue;
    std::unordered_set<const StageNode*> producers;
    for (const Expr& e : body->second)
      post_order_visit(e, [&](const Expr& x) {
        if (const auto* r = x.as<TensorReadNode>())
          if (StageNode* p = graph.find_stage(r->tensor.op())) producers.insert(p);
      });
    for (const StageNode* p : producers) graph.consumers[p].push_back(consumer.get());
  }
  return graph;
}

}  // namespace te
