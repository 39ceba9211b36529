// src/lower/cuda_threads.h — the GPU target passes (target "cuda"), run by lower() after the
// common passes: thread-extent inference and checks, and shared-memory barrier insertion.
// The launch configuration they infer is what the CUDA backend (src/codegen/cuda) launches with.
#pragma once

#include <string>
#include <vector>

#include "te/ir.h"

namespace te {

// Grid and block extents of one kernel, indexed x/y/z. Block extents are constants; grid
// extents may be expressions of the function's size variables (evaluated at call time).
struct GpuLaunchConfig {
  Expr grid[3];
  int64_t block[3] = {1, 1, 1};
  int64_t threads_per_block() const { return block[0] * block[1] * block[2]; }
};

// The thread tags te accepts in bind(): "blockIdx.x" → (true, 0), "threadIdx.y" → (false, 1).
// Returns false for "vthread" and unknown tags.
bool parse_thread_tag(const std::string& tag, bool* is_block, int* dim);

// Checks the thread bindings of a flat kernel body (te::Error naming the stage and loop):
// at least one bind, every loop outside thread scope bound, the same extent for a blockIdx
// axis in every stage, constant threadIdx extents with at most 1024 threads per block, no
// parallel loops; every cross-thread reduction (te/ir.h kGpuAllreduceAttr) reached by all threads
// alike, never inside a loop bound to a thread dimension it reduces. Returns the launch configuration; a threadIdx axis gets the largest extent
// any stage binds it with (stages binding fewer threads are guarded by the backend).
GpuLaunchConfig infer_gpu_launch(const Stmt& body, const std::string& func_name);

// The host/device split of a function lowered for target cuda. The body's root level (its
// Seq statements and the global-scope Allocates around them) is host code: each global
// Allocate there is an intermediate the host allocates on the device, and each other root
// statement is one kernel, launched in order (a kernel boundary is a grid-wide barrier, so a
// stage may read what an earlier root stage wrote). A body without root-level intermediates
// and with a single root statement is one kernel, as before.
struct GpuIntermediate {
  Var buffer;
  DataType dtype;
  std::vector<Expr> extents;  // may use the function's size variables
};
struct GpuKernelPart {
  Stmt body;
  GpuLaunchConfig launch;
  std::string stage;  // the stage it computes (first stage written), for messages
};
struct GpuKernelSplit {
  std::vector<GpuIntermediate> intermediates;
  std::vector<GpuKernelPart> kernels;
  bool single() const { return kernels.size() == 1 && intermediates.empty(); }
};
// Splits and checks every kernel with infer_gpu_launch (te::Error naming the kernel and stage,
// e.g. a root stage whose loops are not bound). Root-level barriers are dropped (kernel
// boundaries synchronize the whole grid).
GpuKernelSplit split_gpu_kernels(const Stmt& body, const std::string& func_name);

// The AttrStmt key of a block-wide barrier (__syncthreads()); its body is Evaluate(0).
inline constexpr const char* kGpuBarrierAttr = "gpu_barrier";
Stmt make_gpu_barrier();

// Inserts barriers around shared-memory traffic: before the first statement that reads a
// shared buffer after statements that write it (looking through sequences and allocations, so
// several tiles copied one after another share one barrier before their readers), and at the
// end of a loop body that both writes and reads one (so the next iteration's writes wait for
// this one's readers).
Stmt insert_shared_barriers(const Stmt& body);

}  // namespace te
