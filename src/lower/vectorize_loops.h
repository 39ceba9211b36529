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
Stmt vectorize_loops(const Stmt& s);

}  // namespace te
