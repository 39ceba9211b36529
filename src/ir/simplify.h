// src/ir/simplify.h — the simplifier: constant folding, canonical affine form for integer
// index arithmetic (sum of coefficient*var terms plus a constant), and bound-aware rewrites
// (floordiv/floormod/min/max/comparisons decided from known variable ranges).
//
// What callers may rely on (tests/cpp/test_ir_simplify.cc checks each):
//   - results are exact: integer folding follows te/ir.h (trunc vs floor, wraparound); floats
//     fold only when both operands are constants (plus x*1, x/1);
//   - signed integer sums come back in one deterministic order: larger |coefficient| first,
//     then by structure (variable names), constant last — i*8 + j - k*2 + 3;
//   - simplify(Stmt) knows loop_var in [min, min + extent) inside each For, the bounds of each
//     LetStmt value, and an if's condition (true in then, false in else; likely() looked
//     through); extent-1 loops are replaced by their body, extent <= 0 loops by a no-op
//     (Evaluate(0)), constant/variable lets are substituted, no-op Seq entries dropped;
//   - a widening integer cast of index arithmetic (int64(y*56 + x), int64(floordiv(p, 14)*14))
//     is distributed over its +, -, * and floordiv/floormod by positive constants where the
//     bounds show no narrow intermediate can wrap, so storage flattening's per-dimension casts
//     do not hide floordiv(p, w)*w + floormod(p, w) = p (a fused axis); a floordiv/floormod pair
//     also folds when the floormod's operand differs by a multiple of the divisor;
//   - it terminates (one bottom-up pass) and costs about one walk plus bound queries.
// Implementation: simplify.cc (read first), simplify_fold.cc, simplify_bound.cc,
// simplify_facts.cc, simplify_stmt.cc; shared declarations in simplify_internal.h.
#pragma once

#include <unordered_map>

#include <optional>

#include "te/ir.h"

namespace te {

// Known ranges of variables: var ∈ [min, min + extent). Loop variables are added by
// simplify(Stmt) automatically as it walks into For loops.
using VarRangeMap = std::unordered_map<const VarNode*, Range>;

Expr simplify(const Expr& e, const VarRangeMap& ranges = {});
Stmt simplify(const Stmt& s, const VarRangeMap& ranges = {});
// The integer constant e simplifies to, if it does. (Not as_const_int(simplify(e)): that
// points into the temporary result, freed at the end of the statement when simplify built a
// new node.)
std::optional<int64_t> simplify_to_const(const Expr& e, const VarRangeMap& ranges = {});
// True when cond (bool) is provably true under ranges; false means "unknown or false".
bool can_prove(const Expr& cond, const VarRangeMap& ranges = {});

// Constant bounds of an integer expression under ranges, when they can be derived.
struct ConstBound {
  bool has_min = false, has_max = false;
  int64_t min = 0, max = 0;  // inclusive
};
ConstBound const_bound(const Expr& e, const VarRangeMap& ranges = {});
// True when every value of e under ranges is provably representable in t (e.g. an int32 index
// part that can be widened to int64 without changing its value: it never wraps).
bool fits_in_type(const Expr& e, DataType t, const VarRangeMap& ranges = {});

}  // namespace te
