// src/codegen/cuda/cuda_limits.h — the per-block limits a kernel is checked against at build
// time: threads per block and static shared memory per block.
#pragma once

#include <cstdint>
#include <string>

#include "lower/cuda_threads.h"
#include "te/lower.h"

namespace te {

struct CudaLimits {
  int64_t max_threads_per_block = 1024;
  int64_t max_shared_memory_per_block = 48 * 1024;  // static __shared__ without the opt-in
  std::string source = "sm_90 defaults";           // where the numbers come from, for messages
};

// The target's -max-threads-per-block / -max-shared-memory-per-block where given, else CUDA
// device 0's limits when a device is present, else the sm_90 defaults.
CudaLimits cuda_limits(const Target& target);

// Bytes of __shared__ memory the kernel declares (every shared Allocate; they coexist in CUDA).
int64_t shared_memory_bytes(const LoweredFunc& func);

// te::Error naming the kernel, the stage(s) and the amount over the limit, with how to fix it.
void check_cuda_limits(const LoweredFunc& func, const GpuLaunchConfig& launch, const CudaLimits& limits);

}  // namespace te
