// src/lower/inject_virtual_thread.h — virtual threads: loops bound to "vthread" (target cuda).
#pragma once

#include "te/ir.h"

namespace te {

// Most virtual threads one vthread loop may have, and all nested vthread loops together: each
// virtual thread is a copy of the statements that depend on it, so the kernel grows with them.
constexpr int64_t kMaxVirtualThreads = 64;

// Removes every loop bound to "vthread", as TVM's InjectVirtualThread: each thread computes
// the work of all its virtual threads, interleaved. Within the loop's body, the buffers
// allocated there that a virtual thread writes differently ("touched": their stores depend on
// the vthread variable, directly or through other touched buffers, lets or conditions) get one
// slice per virtual thread (extent x n, accesses offset by v * size), so a per-thread register
// tile becomes n strided tiles. Then the statements that do not depend on the vthread run once
// (shared-memory loads of the block's tile, barriers), loops that do not depend on it stay
// loops around their interleaved bodies, and every other statement (a store, a loop or
// condition whose bounds depend on it) is copied once per virtual thread with v = 0..n-1.
// te::Error (naming the stage and loop) for a non-constant extent, more than
// kMaxVirtualThreads virtual threads, a buffer of non-constant size under a vthread loop, and
// a cross-thread reduction that depends on a virtual thread.
Stmt inject_virtual_thread(const Stmt& s);

}  // namespace te
