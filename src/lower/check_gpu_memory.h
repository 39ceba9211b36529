// src/lower/check_gpu_memory.h — lowering-time checks of a CUDA kernel's constant memory
// needs against the device-independent CUDA limits, so that an oversized tile is a te::Error
// naming the limit rather than an NVRTC/ptxas failure or a launch error on the device.
#pragma once

#include <string>

#include "te/ir.h"

namespace te {

// Static __shared__ memory of one block (all shared buffers of the kernel together).
constexpr int64_t kMaxStaticSharedBytes = 48 * 1024;
// Local memory of one thread (CUDA's per-thread limit).
constexpr int64_t kMaxLocalBytesPerThread = 512 * 1024;

// Returns s unchanged, or throws te::Error naming the kernel, the buffers and the limit.
// Runs after storage_flatten (on Allocate nodes); non-constant sizes are left to the backend.
Stmt check_gpu_memory(const Stmt& s, const std::string& kernel);

}  // namespace te
