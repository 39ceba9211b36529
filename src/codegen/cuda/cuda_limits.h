// src/codegen/cuda/cuda_limits.h — the per-block limits a kernel is checked against at build
// time: threads per block and shared memory per block (static below 48 KiB, dynamic with the
// opt-in above it: codegen_cuda prints the kernel accordingly).
#pragma once

#include <cstdint>
#include <string>

#include "lower/cuda_threads.h"
#include "te/lower.h"

namespace te {

struct CudaLimits {
  int64_t max_threads_per_block = 1024;
  // The opt-in maximum (CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN): 227 KiB on sm_90.
  // Kernels above 48 KiB reach it through dynamic shared memory (codegen_cuda.h).
  int64_t max_shared_memory_per_block = 227 * 1024;
  std::string source = "sm_90 defaults";  // where the numbers come from, for messages
};

// The target's -max-threads-per-block / -max-shared-memory-per-block where given, else CUDA
// device 0's limits (its opt-in shared-memory maximum) when a device is present, else the
// sm_90 defaults.
CudaLimits cuda_limits(const Target& target);

// Bytes of __shared__ memory the kernel's shared buffers take (every shared Allocate; they
// coexist in CUDA); check_cuda_limits adds its cross-thread reductions' slots
// (lower/gpu_allreduce.h gpu_allreduce_shared_arrays).
int64_t shared_memory_bytes(const LoweredFunc& func);

// te::Error naming the kernel, the stage(s) and the amount over the limit, with how to fix it.
// Counted: the shared buffers and the cross-thread reductions' slots, each 16-byte aligned.
void check_cuda_limits(const LoweredFunc& func, const GpuLaunchConfig& launch, const CudaLimits& limits);

}  // namespace te
