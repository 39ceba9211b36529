// src/lower/lane_guard.h — when a guard inside a vectorized loop holds for every lane.
#pragma once

#include "te/ir.h"

namespace te {

// True when cond (a bool scalar) is a conjunction of comparisons whose sides change
// monotonically with var (sums, differences, products by constants, min/max, division by
// positive constants, widening casts), possibly wrapped in likely(). For such a condition the
// set of var values where it holds within an interval is itself an interval, so it holds on
// all of [lo, hi] exactly when it holds at lo and at hi.
bool is_monotone_condition(const Expr& cond, const VarNode* var);

// cond at var = lo and at var = hi, joined by And (likely() wrappers removed).
Expr holds_at_both_ends(const Expr& cond, const Var& var, const Expr& lo, const Expr& hi);

}  // namespace te
