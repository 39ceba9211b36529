// src/lower/remove_no_op.h — deletes statements that do nothing.
#pragma once

#include "te/ir.h"

namespace te {

// Removes loops with a non-positive constant extent or an empty body, Evaluate statements
// (every expression is pure; a prefetch hint is kept), stores of a load from the same location, and the ifs, lets,
// attributes, allocations and sequences left empty. A body that is all no-ops becomes
// Evaluate(0).
Stmt remove_no_op(const Stmt& s);

// Removes the prefetch hints (Evaluate(prefetch(...)), see Intrinsic::kPrefetch) and the loops
// left empty: for targets whose code generator has no prefetch (CUDA).
Stmt strip_prefetch(const Stmt& s);

// True for Evaluate(prefetch(...)).
bool is_prefetch(const Stmt& s);

// True for the statement remove_no_op leaves for "nothing" (Evaluate of a constant).
bool is_no_op(const Stmt& s);

}  // namespace te
