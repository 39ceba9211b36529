// src/lower/unroll_loops.h — For kUnrolled loops become copies of their body.
#pragma once

#include "te/ir.h"

namespace te {

// Loops with more iterations than this stay serial loops.
constexpr int64_t kMaxUnrollExtent = 64;
// Asking to unroll more iterations than this is a user error (te::Error).
constexpr int64_t kMaxUnrollRequest = 1024;
// Nested unrolled loops multiply: an unrolled loop whose copies would hold more IR nodes than
// this (about a compile of minutes and a kernel of megabytes) is a te::Error, not a hang.
constexpr int64_t kMaxUnrolledNodes = 1 << 18;

// A constant-extent unrolled loop (up to kMaxUnrollExtent) becomes a Seq of body copies with
// the loop variable replaced by min + k. Larger or non-constant extents stay serial loops.
Stmt unroll_loops(const Stmt& s);

}  // namespace te
