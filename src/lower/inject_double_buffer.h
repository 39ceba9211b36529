// src/lower/inject_double_buffer.h — Stage::double_buffer (target cuda): a shared-memory copy
// whose next block is loaded during the current one's arithmetic.
#pragma once

#include "te/ir.h"
#include "te/lower.h"

namespace te {

// Most elements one thread may stage in registers per double-buffered copy (each becomes a
// register; more would spill to local memory and lose what the prefetch gains).
constexpr int64_t kMaxDoubleBufferRegisters = 64;

// Rewrites every stage marked by Stage::double_buffer (kDoubleBufferScopeAttr around its
// Allocate; run after storage_flatten and inject_virtual_thread, before insert_shared_barriers).
// The stage's copy nest — loops (thread-bound or serial of constant extent), guards, and one
// Store into its shared buffer S — sits first in the body of the innermost enclosing loop L,
// a serial loop (the reader's loop over k blocks). With n = L's extent and `size` S's size:
//
//   allocate S[2 * size], shared; allocate S.reg[r], local
//   copy(L = min) into S[0, size)
//   for L: if (L + 1 < min + n) copy(L + 1) into S.reg         -- global loads issued early
//          the readers, every S[i] read as S[i + (L - min) % 2 * size]
//          if (L + 1 < min + n) S.reg into S[... + (L - min + 1) % 2 * size]
//
// r is the number of the copy's serial iterations per thread (its thread-bound loops are the
// threads); those loops are unrolled so S.reg lives in registers. insert_shared_barriers then
// puts one barrier between the first copy and L and one at the end of L's body, which is all
// the protocol needs: the readers of iteration L and the stores for L + 1 touch different
// halves, and the end barrier separates those stores from the next iteration's reads and from
// the stores two iterations later into the half being read now. te::Error (naming the stage)
// when the stage is not computed inside a serial loop, its copy is not such a nest, the
// registers per thread exceed kMaxDoubleBufferRegisters or are not constant, or the readers
// write the buffer. Other targets: strip_double_buffer drops the mark (a CPU has no
// asynchronous copy to overlap; in the same way cuda drops prefetch).
//
// With async_copies (target cuda for sm_80 and newer, or no -arch), a stage whose copy moves
// global memory into shared memory unchanged (or zero for padding: if_then_else(c, load, 0)),
// 4 or 8 bytes an element or a vectorized 4 / 8 / 16 bytes, skips the registers — the copy is
// issued as cp.async (the global loads go to shared memory without passing through registers):
//
//   copy(L = min) into S[0, size) async; commit; wait(0)
//   for L: if (L + 1 < min + n) copy(L + 1) into S[... + (L - min + 1) % 2 * size] async
//          commit                                           -- this iteration's group
//          the readers, every S[i] read as S[i + (L - min) % 2 * size]
//          wait(0)                                          -- the group has landed
//
// with the same two barriers (insert_shared_barriers counts a wait as a write of shared
// memory): the one at the end of L publishes the landed copy to iteration L + 1's readers and
// keeps iteration L + 1's copy, into the half read now, behind those reads. The copy stores are
// marked kAsyncCopyAttr so vectorize_loops widens them first; lower_async_copies (after it)
// makes each a kCpAsync call, or a plain store where the widened copy is not one cp.async can
// do (then correct and only not overlapped).
Stmt inject_double_buffer(const Stmt& s, bool async_copies);
// Whether a cuda target copies double-buffered stages with cp.async: sm_80 and newer, or an
// architecture left to the device (the generated helper falls back to a plain copy below sm_80).
bool cuda_async_copies(const Target& target);
Stmt lower_async_copies(const Stmt& s);
Stmt strip_double_buffer(const Stmt& s);

}  // namespace te
