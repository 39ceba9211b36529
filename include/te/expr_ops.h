// te/expr_ops.h — what a user writes inside te::compute: operators with type promotion
// (rules in te/ir.h), math functions, casts, select/if_then_else, reductions.
#pragma once

#include <functional>

#include "te/ir.h"

namespace te {

// Operands are promoted to a common dtype first (see te/ir.h), then constant-folded when both
// are constants. Integer `/` and `%` truncate (C semantics); use floordiv/floormod for floor.
Expr operator+(Expr a, Expr b);
Expr operator-(Expr a, Expr b);
Expr operator*(Expr a, Expr b);
Expr operator/(Expr a, Expr b);
Expr operator%(Expr a, Expr b);
Expr operator-(Expr a);
Expr operator==(Expr a, Expr b);
Expr operator!=(Expr a, Expr b);
Expr operator<(Expr a, Expr b);
Expr operator<=(Expr a, Expr b);
Expr operator>(Expr a, Expr b);
Expr operator>=(Expr a, Expr b);
Expr operator&&(Expr a, Expr b);
Expr operator||(Expr a, Expr b);
Expr operator!(Expr a);
Expr floordiv(Expr a, Expr b);
Expr floormod(Expr a, Expr b);
Expr truncdiv(Expr a, Expr b);
Expr truncmod(Expr a, Expr b);
Expr min(Expr a, Expr b);
Expr max(Expr a, Expr b);
Expr select(Expr cond, Expr t, Expr f);         // both sides may be evaluated
Expr if_then_else(Expr cond, Expr t, Expr f);   // only the taken side is evaluated
Expr cast(DataType t, Expr value);
Expr all(const std::vector<Expr>& conds);       // logical and of all (true when empty)
Expr any(const std::vector<Expr>& conds);

// Math (float operands; integer operands are cast to float32 first).
Expr exp(Expr x);
Expr log(Expr x);
Expr sqrt(Expr x);
Expr rsqrt(Expr x);
Expr tanh(Expr x);
Expr sigmoid(Expr x);
Expr erf(Expr x);
Expr pow(Expr x, Expr y);
Expr abs(Expr x);  // also for ints
Expr floor(Expr x);
Expr ceil(Expr x);
Expr round(Expr x);  // half away from zero
Expr fma(Expr a, Expr b, Expr c);

// Smallest / largest finite value of a dtype (identities of max / min reductions).
Expr min_value(DataType t);
Expr max_value(DataType t);

// Binary promotion: the dtype both operands are converted to.
DataType promote(DataType a, DataType b);
// Converts a and b to their promoted dtype (constants adapt to the other side).
void promote_operands(Expr& a, Expr& b);

}  // namespace te
