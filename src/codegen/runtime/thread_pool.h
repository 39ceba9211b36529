// src/codegen/runtime/thread_pool.h — the parallel runtime that generated kernels call.
// A kParallel loop is outlined by the code generator into a body function over a range of
// iterations; the kernel then calls te_parallel_for, which splits [0, extent) statically
// into one chunk per thread. Two backends: a small persistent pool (default) and libgomp's
// GOMP_parallel (loaded at run time); see src/codegen/README.md for the measurement.
#pragma once

#include <cstdint>

extern "C" {
// Runs iterations [begin, end) of an outlined loop body; returns 0, or non-zero on failure
// (a failed heap allocation inside the body).
typedef int32_t (*TeParallelBody)(int64_t begin, int64_t end, void* closure);
// Calls body on static chunks of [0, extent) on up to num_threads threads (0: the default,
// see te::runtime::resolve_num_threads). Nested calls run serially. Returns the first
// non-zero status of a chunk, else 0.
int32_t te_parallel_for(TeParallelBody body, void* closure, int64_t extent, int32_t num_threads);
// Heap storage for large or symbolic-size Allocate nodes: 64-byte aligned, nullptr on failure.
void* te_runtime_alloc(int64_t nbytes);
void te_runtime_free(void* ptr);
}

namespace te::runtime {

enum class ParallelBackend { kPool, kGomp };
// The backend used by te_parallel_for. Default: kPool, or env TE_PARALLEL_BACKEND=gomp|pool.
ParallelBackend parallel_backend();
void set_parallel_backend(ParallelBackend backend);  // kGomp throws te::Error if libgomp is missing
// requested > 0: requested; else env TE_NUM_THREADS when set and positive; else
// std::thread::hardware_concurrency().
int resolve_num_threads(int requested);

}  // namespace te::runtime
