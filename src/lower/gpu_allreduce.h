// src/lower/gpu_allreduce.h — the one reader of a cross-thread reduction statement (te/ir.h
// kGpuAllreduceAttr, built by src/schedule/schedule_ops.cc make_cross_thread) and of the plan
// by which it is expanded for a launch. The CUDA printer (src/codegen/cuda), the CUDA emulator
// that replays the printed protocol, and the shared-memory limit check all read the statement
// and its plan through these two functions, so they can never disagree on its meaning.
#pragma once

#include <string>
#include <vector>

#include "lower/cuda_threads.h"
#include "te/ir.h"

namespace te {

// The part of a kGpuAllreduceAttr statement with the given key, or nullptr.
const AttrStmtNode* allreduce_part(const AttrStmtNode* allreduce, const char* key);

// One reduced value: each thread's partial in red[0], the other operand of a combine in
// other[0] (both one-element "local" buffers allocated around the statement).
struct GpuAllreduceValue {
  Var red, other;
  DataType dtype;
};

struct GpuAllreduce {
  int mask = 0;  // bit d set when threadIdx.{x,y,z}[d] is reduced
  std::vector<GpuAllreduceValue> values;
  const AttrStmtNode* partial = nullptr;  // each thread's partial into red[0] (may be absent)
  const AttrStmtNode* combine = nullptr;  // red[0] = combine(red[0], other[0])
  const AttrStmtNode* result = nullptr;   // the outputs, from red[0] (may be absent)
};

// Decodes op (key kGpuAllreduceAttr); a malformed statement is an internal error naming who.
GpuAllreduce decode_gpu_allreduce(const AttrStmtNode* op, const char* who);

// How a reduction over the threads in `mask` is carried out in a block of `launch`, by how the
// groups (threads differing only in the reduced dimensions) lie in the block's linear thread
// order, x fastest. print_cuda_allreduce (src/codegen/cuda/cuda_allreduce.cc) prints it; the emulator replays it.
enum class GpuAllreduceWay {
  kSingle,       // groups of one thread: nothing to combine
  kButterfly,    // consecutive groups, size divides 32: __shfl_xor_sync butterfly
  kShuffleDown,  // consecutive groups of any size: __shfl_down_sync, pieces meet in shared slots
  kSharedTree,   // a reduced dimension inside a data-parallel one: a tree in shared memory
};
struct GpuAllreducePlan {
  GpuAllreduceWay way = GpuAllreduceWay::kSingle;
  int64_t group = 1;   // G: threads per group
  int64_t groups = 1;  // NG: groups per block
  int64_t pieces = 1;  // kShuffleDown: the most warps one group touches
  // Shared-memory elements per reduced value: NG * pieces for kShuffleDown over several warps
  // (none when every group is in one warp: a shuffle broadcasts), one per thread for a tree.
  int64_t shared_slots = 0;
};
GpuAllreducePlan plan_gpu_allreduce(int mask, const GpuLaunchConfig& launch);

// One static __shared__ array of a cross-thread reduction's slots (one per reduced value of
// each reduction whose plan has shared_slots), as print_cuda_allreduce declares it. They count
// against the kernel's shared memory (src/codegen/cuda/cuda_limits.cc) and stay static arrays
// when the kernel's own shared buffers go dynamic (codegen_cuda.cc).
struct GpuAllreduceSharedArray {
  std::string stage;  // the reduction's output stage, for messages
  DataType dtype;
  int64_t elements = 0;
  int64_t bytes() const { return elements * dtype.bytes(); }
};
std::vector<GpuAllreduceSharedArray> gpu_allreduce_shared_arrays(const Stmt& kernel_body, const GpuLaunchConfig& launch);

}  // namespace te
