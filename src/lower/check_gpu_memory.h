// src/lower/check_gpu_memory.h — lowering-time check of a CUDA kernel's constant local memory
// per thread against CUDA's device-independent limit, so that an oversized tile is a te::Error
// naming the limit rather than an NVRTC/ptxas failure or a launch error on the device.
#pragma once

#include <string>

#include "te/ir.h"

namespace te {

// Local memory of one thread (CUDA's per-thread limit).
constexpr int64_t kMaxLocalBytesPerThread = 512 * 1024;
// Registers one lane may hold in wmma fragments (of one buffer): 192 of the 255 a thread has,
// leaving room for addresses and the staged copies.
constexpr int64_t kMaxFragmentBytesPerLane = 192 * 4;

// Returns s unchanged, or throws te::Error naming the kernel, the buffer and the limit.
// Runs after storage_flatten (on Allocate nodes); non-constant sizes are left to the backend.
Stmt check_gpu_memory(const Stmt& s, const std::string& kernel);

}  // namespace te
