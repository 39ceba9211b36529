// src/schedule/prefetch.h — the statement a Stage::prefetch request becomes (prefetch.cc).
// Internal to schedule_ops.
#pragma once

#include "te/schedule.h"

namespace te {

// The prefetch statement to put first in each iteration of stage's loop over axis, whose body
// is `body`: one prefetch per cache line of what body reads of the requested tensor `offset`
// iterations later. te::Error when the body reads none of it or a region cannot be bounded.
Stmt make_prefetch(const StageNode& stage, const IterVar& axis, const IterVarAttr::Prefetch& request, const Stmt& body);

}  // namespace te
