// src/lower/vectorize_loops.h — For kVectorized loops become vector statements.
#pragma once

#include "te/ir.h"

namespace te {

// The largest vector width vectorize_loops produces.
constexpr int kMaxVectorLanes = 64;

// A vectorized loop with a constant extent (at most kMaxVectorLanes, else te::Error) has its
// variable replaced by Ramp(min, 1, lanes) and every expression depending on it widened.
// A body that cannot be vectorized safely (inner loop, allocation, condition depending on the
// variable, a store whose lanes could collide, a read of a location another lane writes...)
// keeps the loop, as a serial one. A non-constant extent gives a serial loop. Inner first.
// if_then_else depending on the variable is widened only with masked_if_then_else (for a code
// generator that masks each side's loads by the lanes taking it: the LLVM backend), and not
// when a side divides integers by a variable.
// With lane_reductions (the LLVM backend), a vectorized reduction axis — a store
// `t[c] = t[c] op e` (op +, min or max; c independent of the variable, t not otherwise read or
// written in the loop) — becomes `t[c] = t[c] op reduce_op(e widened)`: the lanes combined by
// a shuffle tree (Intrinsic::kReduce*), a reassociation the schedule asked for by vectorizing
// the axis (rfactor's lanes are already reassociated). Without it such a loop stays serial.
Stmt vectorize_loops(const Stmt& s, bool masked_if_then_else = false, bool lane_reductions = false);

}  // namespace te
