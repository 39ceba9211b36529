// src/schedule/int_set.h — interval arithmetic over symbolic integer expressions, the
// vocabulary of bound inference: "which values can this index take while these loop
// variables range over those intervals?"
#pragma once

#include <unordered_map>
#include <vector>

#include "te/ir.h"
#include "ir/simplify.h"

namespace te {

// The closed interval [min, max] of an integer expression. An undefined bound is unbounded
// (min: minus infinity, max: plus infinity), so IntSet() is "every integer".
struct IntSet {
  Expr min, max;  // inclusive; undefined = unbounded on that side

  static IntSet everything() { return IntSet(); }
  static IntSet single_point(Expr point) { return IntSet{point, point}; }
  static IntSet interval(Expr min, Expr max) { return IntSet{std::move(min), std::move(max)}; }
  // [range.min, range.min + range.extent - 1].
  static IntSet from_range(const Range& range);

  bool is_bounded() const { return min.defined() && max.defined(); }
  bool is_everything() const { return !min.defined() && !max.defined(); }
  bool is_single_point() const { return min.defined() && min.same_as(max); }
  // Range(min, max - min + 1), simplified; requires is_bounded().
  Range to_range(const VarRangeMap& ranges = {}) const;
};

// Sets of variables' values: a variable absent from the map stands for itself (a point).
using IntSetMap = std::unordered_map<const VarNode*, IntSet>;

// The set of values e takes when each variable in dom ranges over its set. Conservative:
// where no bound can be derived (non-affine use of a relaxed variable) the result is
// unbounded on that side.
IntSet eval_set(const Expr& e, const IntSetMap& dom);
// Smallest interval containing all of sets (unbounded when any of them is).
IntSet union_set(const std::vector<IntSet>& sets);

// min/max of two index expressions, decided at compile time when their difference is a
// constant (so that unions of stencil reads stay affine).
Expr min_of(const Expr& a, const Expr& b);
Expr max_of(const Expr& a, const Expr& b);

}  // namespace te
