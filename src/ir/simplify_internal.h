// src/ir/simplify_internal.h — pieces shared by the simplifier's source files (not a public
// API): integer constant folding with the dtype's wraparound, a total structural order on
// expressions, the linear (affine) form of integer index expressions, and intervals.
// Read simplify.cc first; this header only names what the other files provide.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "ir/simplify.h"
#include "te/ir_functor.h"

namespace te::simplify_detail {

// ---------------------------------------------------------------- constants (simplify_fold.cc)
// Smallest / largest value representable by an integer or bool dtype (uint64's max is
// reported as INT64_MAX: values are held as int64).
int64_t dtype_min(DataType t);
int64_t dtype_max(DataType t);
// v reduced to t's width with two's-complement wraparound (sign-extended for int, masked for
// uint, 0/1 for bool).
int64_t wrap_to(DataType t, int64_t v);
// Floor division / modulus of int64 values (b != 0; INT64_MIN / -1 wraps).
int64_t floor_div(int64_t a, int64_t b);
int64_t floor_mod(int64_t a, int64_t b);
// Folds a binary integer/bool arithmetic, comparison or logical node of dtype t (the operand
// dtype for comparisons) over constants. nullopt when it cannot be folded (division by zero).
std::optional<int64_t> fold_int(ExprKind k, DataType t, int64_t a, int64_t b);
// Same for float operands; nullopt when folding could change the result (float16, NaN min/max,
// division by zero, floor div/mod).
std::optional<double> fold_float(ExprKind k, DataType t, double a, double b);
// Folds Cast(t, constant); undefined Expr when it cannot be folded exactly.
Expr fold_cast(DataType t, const Expr& value);
// A constant of the given dtype (IntImm for integers and bool).
Expr int_const(DataType t, int64_t v);
Expr bool_const(bool v);
const double* as_const_float(const Expr& e);
bool is_comparison(ExprKind k);
// The comparison that holds exactly when k does not (integers only: NaN breaks it for floats).
ExprKind negate_comparison(ExprKind k);

// Total structural order (kind, dtype, fields; variables by name, then identity). Returns
// <0, 0, >0. Zero means structurally equal with variables compared by identity.
int compare_expr(const Expr& a, const Expr& b);
inline bool expr_equal(const Expr& a, const Expr& b) { return a.same_as(b) || compare_expr(a, b) == 0; }

// ---------------------------------------------------------------- linear form (simplify_fold.cc)
// sum(coef * term) + constant over an integer dtype. Terms are simplified non-affine
// subexpressions (Vars, FloorDiv, Min, Load, products of non-constants...), each at most once.
struct LinearTerm {
  Expr term;
  int64_t coef;
};
struct LinearForm {
  DataType dtype;
  std::vector<LinearTerm> terms;
  int64_t constant = 0;
  bool is_constant() const { return terms.empty(); }
};
// Whether index arithmetic on t may be put in linear form (scalar signed int).
bool is_linear_dtype(DataType t);
LinearForm to_linear(const Expr& e);
// into += scale * f, merging like terms and dropping zero coefficients.
void add_scaled(LinearForm& into, const LinearForm& f, int64_t scale);
void add_term(LinearForm& into, const Expr& term, int64_t coef);
// Rebuilds a compact expression: terms by decreasing |coef| then structural order, positive
// terms first, negative ones subtracted, constant last. Merges floordiv(x,c)*c + floormod(x,c).
Expr from_linear(LinearForm f);

// ---------------------------------------------------------------- intervals (simplify_bound.cc)
struct Interval {
  bool has_min = false, has_max = false;
  int64_t min = 0, max = 0;  // inclusive
  static Interval point(int64_t v) { return {true, true, v, v}; }
  static Interval everything() { return {}; }
  static Interval of(int64_t lo, int64_t hi) { return {true, true, lo, hi}; }
  bool is_point() const { return has_min && has_max && min == max; }
  bool is_bounded() const { return has_min && has_max; }
};
Interval interval_add(const Interval& a, const Interval& b);
Interval interval_sub(const Interval& a, const Interval& b);
Interval interval_mul(const Interval& a, const Interval& b);
Interval interval_union(const Interval& a, const Interval& b);
// Both bounds known and inside t's range [dtype_min(t), dtype_max(t)].
inline bool within_type(const Interval& b, DataType t) {
  return b.has_min && b.has_max && b.min >= dtype_min(t) && b.max <= dtype_max(t);
}
Interval interval_intersect(const Interval& a, const Interval& b);
// Drops the bounds when the interval does not fit t: the value may have wrapped around.
Interval fit_dtype(const Interval& a, DataType t);
// The range of values a dtype can hold, as far as it is useful for narrow types; unknown for
// 32/64-bit signed integers (using their full range would only invite wraparound reasoning).
Interval dtype_interval(DataType t);

// ---------------------------------------------------------------- the mutator
// One bottom-up pass: children are simplified first, then the node's rules run on the
// simplified operands (rewrite_* take simplified operands and never re-walk them, so the
// pass terminates and costs about one walk plus bound queries). Expressions: simplify.cc;
// bounds: simplify_bound.cc; statements and scoping: simplify_stmt.cc.
class Simplifier : public IRMutator {
 public:
  explicit Simplifier(const VarRangeMap& ranges) : ranges_(ranges) {}
  using IRMutator::mutate;
  // Bounds of an integer expression under the known ranges (any expression, simplified or not).
  Interval bound(const Expr& e);
  // Bounds of sum(coef * term) + constant, in int64 (no wraparound to the terms' dtype).
  Interval bound_linear(const LinearForm& f);

 protected:
  using IRMutator::mutate_node;
#define TE_S(name) Expr mutate_node(const name##Node* op, const Expr& self) override;
  TE_S(Var) TE_S(Add) TE_S(Sub) TE_S(Mul) TE_S(Div) TE_S(Mod) TE_S(FloorDiv) TE_S(FloorMod)
  TE_S(Min) TE_S(Max) TE_S(EQ) TE_S(NE) TE_S(LT) TE_S(LE) TE_S(GT) TE_S(GE) TE_S(And) TE_S(Or)
  TE_S(Not) TE_S(Select) TE_S(Cast) TE_S(Call) TE_S(Ramp) TE_S(Broadcast) TE_S(Let) TE_S(Reduce)
#undef TE_S
#define TE_S(name) Stmt mutate_node(const name##Node* op, const Stmt& self) override;
  TE_S(LetStmt) TE_S(For) TE_S(Seq) TE_S(IfThenElse)
#undef TE_S

 public:
  // Rules on simplified operands; each returns a simplified expression.
  Expr rewrite_binary(ExprKind k, const Expr& a, const Expr& b);
  Expr rewrite_not(const Expr& a);

  // Known conditions, in force while simplifying an if's branches or a select's values
  // (simplify_facts.cc). push_facts returns how many facts it added, for pop_facts.
  size_t push_facts(const Expr& cond, bool holds);
  void pop_facts(size_t count);
  // What the facts say about sum(coef*term) + constant (an int64 difference, see simplify.cc).
  Interval fact_interval(const LinearForm& diff);

 private:
  Expr rewrite_add_sub(ExprKind k, const Expr& a, const Expr& b);
  Expr rewrite_mul(const Expr& a, const Expr& b);
  Expr rewrite_div_mod(ExprKind k, const Expr& a, const Expr& b);
  Expr divide_linear(ExprKind k, const Expr& a, int64_t c);
  Expr modulo_linear(ExprKind k, const Expr& a, int64_t c);
  Expr rewrite_min_max(ExprKind k, const Expr& a, const Expr& b);
  Expr rewrite_compare(ExprKind k, const Expr& a, const Expr& b);
  Expr rewrite_logical(ExprKind k, const Expr& a, const Expr& b);
  Expr rewrite_vector(ExprKind k, const Expr& a, const Expr& b);
  Interval bound_uncached(const Expr& e);
  Interval var_bound(const VarNode* v);
  Expr widen_index(const Expr& e, DataType to);

  // Scoped facts: a range for a variable, or a value that replaces it (let/extent-1 loops).
  struct Saved {
    const VarNode* var;
    bool had_range;
    Range range;
    bool had_subst;
    Expr subst;
  };
  Saved push_range(const VarNode* v, const Range& r);
  Saved push_substitution(const VarNode* v, const Expr& value);
  void pop(const Saved& saved);

  // A comparison known to hold: diff (kind) 0, e.g. i*32 + j - 1000 < 0.
  struct Fact {
    LinearForm diff;
    ExprKind kind;
  };
  std::vector<Fact> facts_;
  VarRangeMap ranges_;
  std::unordered_map<const VarNode*, Expr> substitutions_;
  std::unordered_map<const VarNode*, Interval> var_bounds_;  // cleared whenever ranges_ change
  int bound_depth_ = 0;
};

bool is_no_op(const Stmt& s);
// Whether e reads var, as a value or as the buffer of a Load.
bool expr_uses_var(const Expr& e, const VarNode* var);
Stmt make_no_op();

}  // namespace te::simplify_detail
