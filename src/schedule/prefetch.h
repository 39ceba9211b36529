// src/schedule/prefetch.h — the statement a Stage::prefetch request becomes (prefetch.cc).
// Internal to schedule_ops.
#pragma once

#include "te/schedule.h"

namespace te {

// The prefetch statement to put first in each iteration of stage's loop over axis, whose body
// is `body`: one prefetch per cache line of what body reads of the requested tensor `offset`
// iterations later. stage_body: the stage's computation with its inlined producers. Undefined
// when the stage reads the tensor but this body does not (reads simplified away here);
// te::Error when the stage never reads it (another, non-inlined stage does), or when the body
// computes it (compute_at).
Stmt make_prefetch(const StageNode& stage, const std::vector<Expr>& stage_body, const IterVar& axis,
                   const IterVarAttr::Prefetch& request, const Stmt& body);

// A request with a spread loop: `body` (of the loop over axis) with the same region split into
// rows (the leading dimensions flattened), each iteration of the spread loops — the leaves from
// just inside axis down to the spread leaf, outermost first, with their extents — prefetching
// its share of the rows first in the innermost spread loop's body. So the next block's lines
// trickle in while the current block is computed, instead of one burst that the loop waits on.
Stmt spread_prefetch(const StageNode& stage, const std::vector<Expr>& stage_body, const IterVar& axis,
                     const IterVarAttr::Prefetch& request, const Stmt& body,
                     const std::vector<std::pair<IterVar, Expr>>& spread_loops);

}  // namespace te
