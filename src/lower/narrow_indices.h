// src/lower/narrow_indices.h — int64 index arithmetic narrowed to int32 where every value fits
// (TVM's NarrowDataType, for the CUDA target).
#pragma once

#include "te/ir.h"

namespace te {

// The operator library builds its computes with int64 shapes, so every loop variable, index
// and address computation of its kernels is int64 — `long long` in CUDA C, where 64-bit
// integer multiplies take several instructions and 64-bit divisions (floordiv/floormod of fused
// loop variables) are emulated. When the kernel has no symbolic sizes, no 64-bit integer data
// and every int64 expression in it provably stays within int32 (interval arithmetic over the
// constant loop ranges, every sub-expression checked, so no intermediate result can wrap), the
// whole body is rewritten with int32 variables, constants and casts; otherwise it is returned
// unchanged. The values computed are the same, so the result is exact either way.
Stmt narrow_indices(const Stmt& body, bool has_size_vars);

}  // namespace te
