// src/lower/tensorize_wmma.h — Stage::tensorize(iv, "wmma"): tile nests become tensor-core
// (WMMA, m16n16k16) operations for target cuda.
#pragma once

#include "te/ir.h"
#include "te/lower.h"

namespace te {

// Rewrites every loop nest marked by Stage::tensorize (kTensorizeWmmaAttr; run after
// storage_flatten, inject_virtual_thread and inject_double_buffer, before simplify). A marked
// nest is loops of extent 16 (extent-1 loops allowed) around one Store, and is one of:
//
//   fill   F[tile(r, c)] = constant              F a "wmma.accumulator" buffer (2 loops)
//   load   F[tile(r, c)] = S[o + r*ld + c]        F "wmma.matrix_a"/"wmma.matrix_b" (float16),
//          (or S[o + r + c*ld]: col-major)         S shared or global, 2 loops
//   mma    C[tile(i, j)] = C[tile(i, j)] + float32(A[tile(i, k)]) * float32(B[tile(k, j)])
//                                                  C accumulator, A matrix_a, B matrix_b, 3 loops
//   store  D[o + r*ld + c] = C[tile(r, c)]        C accumulator, D float32 in shared or global
//          (or float16(C[tile(r, c)]), D float16)  memory (the fragment rounded in registers)
//
// where tile(r, c) = base + r*W + c indexes a fragment buffer whose flat storage has rows of
// W elements (W a multiple of 16, the same in every access) and base starts a 16 x 16 block
// (a row and a column that are multiples of 16, proved from the index). The block is the
// buffer's fragment number (base / 16W) * (W / 16) + (base % W) / 16; the calls are
// Intrinsic::kWmma* (te/ir.h). The memory side needs a leading dimension that is a multiple
// of 16 bytes and a first element 32 bytes aligned (proved from the index).
//
// te::Error, naming the stage, for: tensorize on a target other than cuda (or a cuda target
// whose -arch is older than sm_70, the first with tensor cores), a fragment scope
// other than the three or of the wrong dtype, a marked nest that is none of the four (a
// boundary guard from a split that does not divide, a tile that is not 16 x 16 (x 16), an
// epilogue in the store, float32 inputs), unaligned tiles, and any read or write of a
// fragment buffer outside a tensorized nest.
Stmt tensorize_wmma(const Stmt& s, const Target& target);

}  // namespace te
