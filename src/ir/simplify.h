// src/ir/simplify.h — the simplifier: constant folding, canonical affine form for integer
// index arithmetic (sum of coefficient*var terms plus a constant), and bound-aware rewrites
// (floordiv/floormod/min/max/comparisons decided from known variable ranges).
#pragma once

#include <unordered_map>

#include "te/ir.h"

namespace te {

// Known ranges of variables: var ∈ [min, min + extent). Loop variables are added by
// simplify(Stmt) automatically as it walks into For loops.
using VarRangeMap = std::unordered_map<const VarNode*, Range>;

Expr simplify(const Expr& e, const VarRangeMap& ranges = {});
Stmt simplify(const Stmt& s, const VarRangeMap& ranges = {});
// True when cond (bool) is provably true under ranges; false means "unknown or false".
bool can_prove(const Expr& cond, const VarRangeMap& ranges = {});

// Constant bounds of an integer expression under ranges, when they can be derived.
struct ConstBound {
  bool has_min = false, has_max = false;
  int64_t min = 0, max = 0;  // inclusive
};
ConstBound const_bound(const Expr& e, const VarRangeMap& ranges = {});

}  // namespace te
