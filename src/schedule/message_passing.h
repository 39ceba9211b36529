// src/schedule/message_passing.h — interpreting a stage's split/fuse relations (TVM's
// message passing): ranges pass DOWN from the root axes to the derived ones, index values
// pass UP from the loop variables of the leaves to the root axes.
//
// Convention: every derived IterVar (made by split or fuse) ranges over [0, extent). A root
// axis may have a non-zero min (the region of a compute_at stage); its loop, when it is a
// leaf, still runs over [0, extent) and the root index is loop variable + min. So the values
// passed up are offsets from each IterVar's min, and only the final root index adds the min.
#pragma once

#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "ir/simplify.h"
#include "te/schedule.h"

namespace te {

using IterVarValueMap = std::unordered_map<const IterVarNode*, Expr>;

// The op's axes and reduce axes (the IterVars its body is written in); none for placeholders.
std::vector<IterVar> root_iter_vars(const StageNode& stage);
bool is_reduce_root(const StageNode& stage, const IterVarNode* iv);

// Fills the ranges of every derived IterVar of stage from its parents'. The root axes'
// ranges must already be in *bounds.
void pass_down_domain(const StageNode& stage, BoundMap* bounds);

// Offset of every IterVar computable from leaf_offsets (leaves, derived axes and roots),
// unsimplified.
IterVarValueMap pass_up_offsets(const StageNode& stage, const BoundMap& bounds, const IterVarValueMap& leaf_offsets);

// Root index of every root axis whose leaves all have a value in leaf_offsets (offsets
// from the leaves' mins, i.e. the loop variables). Results are simplified under ranges.
IterVarValueMap pass_up_index(const StageNode& stage, const BoundMap& bounds,
                              const IterVarValueMap& leaf_offsets, const VarRangeMap& ranges);

// True when the split's factor (or nparts) provably divides its parent's extent, so the
// split creates no tail iterations.
bool split_is_exact(const IterVarRelation& rel, const BoundMap& bounds);

// For every IterVar of stage, the root axes it is derived from (a root maps to itself).
using RootSourceMap = std::unordered_map<const IterVarNode*, std::vector<const IterVarNode*>>;
RootSourceMap root_sources(const StageNode& stage);

// Root axes whose index may run past their extent because a split below them has a tail.
std::unordered_set<const IterVarNode*> roots_with_tail(const StageNode& stage, const BoundMap& bounds);

// For every split with a tail: "offset of its parent < extent of its parent" (the tail
// iterations must not run). Checking each split's parent, not only the roots, matters when
// a derived axis is split again: its tail would otherwise alias the next outer iteration.
// Splits of reduction axes are skipped unless include_reduce; splits whose parent has no
// offset in offsets are skipped.
std::vector<Expr> split_tail_conditions(const StageNode& stage, const BoundMap& bounds,
                                        const IterVarValueMap& offsets, bool include_reduce);

// Looks up a range, with an InternalError naming the stage when it is missing.
const Range& bound_of(const BoundMap& bounds, const IterVar& iv, const StageNode& stage);

}  // namespace te
