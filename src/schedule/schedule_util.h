// src/schedule/schedule_util.h — helpers shared by the schedule primitives (schedule.cc,
// stage.cc, cache.cc, rfactor.cc, steps.cc): stage lookup, leaf positions, step recording,
// and the data-flow rewrite that keeps tensor identities consistent when a stage's op is
// replaced. Internal: not part of the public API.
#pragma once

#include <string>
#include <unordered_map>
#include <vector>

#include "te/schedule.h"

namespace te::schedule_detail {

// Name of an axis as users see it ("i", "k.outer").
inline const std::string& axis_name(const IterVar& iv) { return iv.var().name(); }
// "i, j.outer, j.inner" — for error messages.
std::string axis_list(const std::vector<IterVar>& axes);

// Position of iv in v, or -1.
int find_axis(const std::vector<IterVar>& v, const IterVar& iv);

// The axes a fresh stage of op starts with: op axis + reduce_axis (none for placeholders).
std::vector<IterVar> root_iter_vars(const Operation& op);

// A fresh stage for op, owned by sch (not yet inserted anywhere).
Stage make_stage(const Operation& op, ScheduleNode* sch);

// Index of stage in sch->stages; InternalError when absent.
int stage_index(const ScheduleNode* sch, const StageNode* stage);

// The schedule owning stage; InternalError when the stage has none.
ScheduleNode* owner(const StageNode* stage);

// Appends step (with step.stage set to the stage's current index) to the owning schedule.
void record_step(const StageNode* stage, Step step);

// Throws te::Error unless iv is a leaf of stage; returns its leaf position.
// `primitive` and `role` name the call in the message ("split", "axis").
int require_leaf(const StageNode* stage, const IterVar& iv, const char* primitive);

// Replaces stage's op, keeping stage_map in step: the stage stays reachable from its
// origin op and from its current op (older intermediate ops are dropped from the map).
void set_stage_op(ScheduleNode* sch, StageNode* stage, const Operation& new_op);

// Resets a stage's loop state to its op's root axes (no relations, no attributes).
void reset_loop_state(StageNode* stage);

// Tensor identity is (op, value_index): after an op is replaced, every op reading its
// outputs must be rebuilt to read the new op's outputs (and so on transitively). vmap maps
// old tensors to new ones; stages from index `first` on are rewritten, each keeping its
// axis and reduce_axis IterVar objects so its loop state stays valid.
void replace_dataflow(ScheduleNode* sch, std::unordered_map<Tensor, Tensor, TensorHash> vmap,
                      size_t first = 0);

// Rebuilds a compute op with every read of a key of vmap redirected to its value; returns
// op unchanged when it reads none of them.
Operation replace_reads(const Operation& op, const std::unordered_map<Tensor, Tensor, TensorHash>& vmap);

// Stages that are compute_at'ed at an axis of stage (for "primitive X would orphan Y" checks).
std::vector<const StageNode*> stages_attached_to(const ScheduleNode* sch, const StageNode* stage);

// Rewrites e with variables replaced by var_map and the axes of Reduce nodes replaced by
// axis_map (substitute() alone would leave the old IterVars in Reduce::axis).
Expr rebind_axes(const Expr& e, const std::unordered_map<const VarNode*, Expr>& var_map,
                 const std::unordered_map<const IterVarNode*, IterVar>& axis_map);

// A copy of iv with a fresh Var of the same name (and its dom rewritten by var_map).
IterVar fresh_axis(const IterVar& iv, const std::unordered_map<const VarNode*, Expr>& var_map = {});

// The stage for op (origin or current op), or nullptr.
StageNode* find_stage(const ScheduleNode* sch, const OperationNode* op);

}  // namespace te::schedule_detail
