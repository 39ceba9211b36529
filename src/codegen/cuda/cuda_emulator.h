// src/codegen/cuda/cuda_emulator.h — runs the device IR of a function lowered for target cuda
// on the CPU with GPU semantics, and checks it for shared/global memory races (the public entry
// points, te::cuda_emulate, are declared in te/runtime.h).
//
// What it executes is the IR codegen_cuda prints, kernel by kernel (split_gpu_kernels): every
// block of the grid in turn, the block's threads in lockstep at barriers. A statement without a
// barrier or cross-thread reduction inside runs thread by thread to completion; one with a
// barrier inside is walked by the whole block at once, and its loop bounds and conditions must
// be uniform over the block ("barrier in divergent control flow" otherwise, a GPU bug). Cross-
// thread reductions (te/ir.h kGpuAllreduceAttr) follow print_cuda_allreduce (cuda_allreduce.cc) step by
// step: the same shuffles (xor butterfly, shuffle down, broadcast), the same shared slots and
// barriers, an undefined shuffle source (a lane that does not exist) poisoned with NaN.
//
// Race checker: per element of every shared and global buffer, the thread that last wrote it
// and the threads that read it in the current barrier interval. A read of an element another
// thread wrote in the same interval, a write of an element another thread read or wrote in the
// same interval (with a different value), and a write/read or write/write pair between two
// blocks of one launch are te::Errors naming the kernel, the buffer, the element and both
// threads (a read in one block then a write in another is not tracked). Out-of-bounds
// accesses are te::Errors too; shared and local memory starts as NaN (integers 0xAB bytes), so
// a read of what nobody wrote shows up in the comparison.
#pragma once

#include <vector>

#include "te/runtime.h"

namespace te {

// Runs func on host arrays (one per argument, as the CUDA module takes them). te::Error for a
// race, an out-of-bounds access, divergent barriers or device arrays. float16 elements are
// stored rounded to binary16 (as a __half store does) and read back exactly.
void cuda_emulate_lowered(const LoweredFunc& func, const Target& target, const std::vector<DLTensor*>& args,
                          const CudaEmulateOptions& options = {});

}  // namespace te
