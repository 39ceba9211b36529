// src/lower/partition_loops.h — a loop whose body is guarded by likely(...) conditions (the tails
// of non-dividing splits) split into a main part where the guards are proved true and removed,
// and a tail that keeps them (Halide's partition_loops, TVM's LoopPartition).
#pragma once

#include "te/ir.h"

namespace te {

// For each serial loop with a constant extent, outside any vectorized loop: the likely(cond)
// guards inside its body whose condition depends on the loop's variable and otherwise only on
// the variables of constant-range loops inside the body. The largest p such that every one of
// them is provably true for iterations [0, p) (interval arithmetic) splits the loop into
// [0, p) with those guards replaced by true, then [p, extent) unchanged. So LLVM sees a main
// loop without branches (a GEMM's row-tile loop over 128 rows in tiles of 6: its register tile
// then stays in registers) and one tail iteration. At most kMaxLoopPartitions loops per
// function are split (each split copies a body).
Stmt partition_loops(const Stmt& s);

constexpr int kMaxLoopPartitions = 16;

}  // namespace te
