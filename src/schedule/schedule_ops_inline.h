// src/schedule/schedule_ops_inline.h — the view of a schedule shared by bound inference and
// loop-nest building: each stage's body with the compute_inline'd stages substituted in,
// and who reads whom after that substitution.
#pragma once

#include <unordered_map>
#include <vector>

#include "te/schedule.h"

namespace te {

struct ScheduleGraph {
  // Stage of an operation (current op and origin op both map to the stage).
  std::unordered_map<const OperationNode*, StageNode*> stage_of;
  // Body of every non-inlined compute stage's op, with reads of inlined stages replaced by
  // the inlined expressions (recursively).
  std::unordered_map<const StageNode*, std::vector<Expr>> bodies;
  // Non-inlined stages whose (substituted) body reads an output of the key stage, in
  // schedule order.
  std::unordered_map<const StageNode*, std::vector<StageNode*>> consumers;

  StageNode* find_stage(const Operation& op) const;
};

// Builds the graph; te::Error when a stage that cannot be inlined (a reduction, an output)
// is marked compute_inline.
ScheduleGraph build_schedule_graph(const Schedule& sch);

// The op whose output tensors name a stage's storage: the origin op (the one the user
// holds), even when cache_write/rfactor/read rewriting replaced the stage's op. Bodies in
// ScheduleGraph read these tensors, and schedule_ops realizes and stores them.
const Operation& stage_storage_op(const StageNode& stage);

// Every TensorRead of any output of op inside exprs, in visiting order.
std::vector<const TensorReadNode*> reads_of(const std::vector<Expr>& exprs, const OperationNode* op);

}  // namespace te
