// te/lower.h — from a schedule to a flat loop program (LoweredFunc) that a code generator
// prints. The ordered pass list lives in src/lower/lower.cc.
#pragma once

#include "te/schedule.h"

namespace te {

// A kernel argument: a tensor passed as a buffer. Its data pointer is `data` (a handle Var)
// inside the body; shape entries may be symbolic Vars, bound from the caller's arrays.
struct BufferArg {
  std::string name;
  Var data;
  DataType dtype;
  std::vector<Expr> shape;
  Tensor tensor;
};

struct LoweredFunc {
  std::string name;
  std::vector<BufferArg> args;
  // The symbolic size variables, in the order a kernel receives their values. Each one
  // appears as a dimension of at least one argument (checked by lower()).
  std::vector<Var> size_vars;
  Stmt body;  // flat IR: Load/Store on args' data vars and Allocate'd buffers
};

// Parsed target string: "llvm", "llvm -mcpu=znver4 -mattr=+avx512f", "cuda",
// "cuda -arch=sm_80 -use_fast_math -Xnvrtc=--maxrregcount=64 -max-shared-memory-per-block=49152".
struct Target {
  std::string kind = "llvm";  // "llvm" or "cuda"
  std::string mcpu;           // empty: the host CPU
  std::string mattr;          // empty: the host's features
  int num_threads = 0;        // 0: all cores
  // Target cuda only. arch: "sm_NN" (PTX + cubin) or "compute_NN" (PTX only); empty: $TE_CUDA_ARCH,
  // else the architecture of CUDA device 0, else sm_90. nvrtc_flags are passed to NVRTC as given.
  // The two limits (0: the device's, else sm_90's) are checked at build time.
  std::string arch;
  bool fast_math = false;
  std::vector<std::string> nvrtc_flags;
  int64_t max_threads_per_block = 0;
  int64_t max_shared_memory_per_block = 0;
  static Target parse(const std::string& s);  // te::Error naming the bad part
  std::string str() const;
  // The NN of -arch=sm_NN / compute_NN, else of $TE_CUDA_ARCH; 0 when neither names one (the
  // device decides at build time: lowering assumes sm_90, the default without a device).
  int cuda_arch_number() const;
};

struct LowerOptions {
  // Stop before target passes (for printing): no target checks, no CUDA kernel split, no loop
  // partitioning — the loops are the schedule's.
  bool simple_mode = false;
  Target target;
};

// Runs the ordered pass list. te::Error for user errors (e.g. bind on a CPU target).
LoweredFunc lower(const Schedule& sch, const std::vector<Tensor>& args, const std::string& name,
                  const LowerOptions& options = {});
// Readable text of a lowered function (what te.lower prints).
std::string to_string(const LoweredFunc& f);

}  // namespace te
