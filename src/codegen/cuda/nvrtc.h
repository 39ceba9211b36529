// src/codegen/cuda/nvrtc.h — NVRTC with user options: PTX or cubin for an architecture, with
// -use_fast_math and extra flags, cached by (source, arch, options, output), thread-safe.
#pragma once

#include <string>
#include <vector>

#include "te/lower.h"

namespace te {

struct NvrtcOptions {
  std::string arch = "sm_90";  // "sm_NN[a]" (PTX for compute_NN, or a cubin) or "compute_NN" (PTX only)
  bool fast_math = false;
  std::vector<std::string> flags;  // passed to NVRTC as given, e.g. "--maxrregcount=64"
};

enum class NvrtcOutput { kPtx, kCubin };

// The options for target (cuda): its -arch, else $TE_CUDA_ARCH, else CUDA device 0's
// architecture, else sm_90; its -use_fast_math and -Xnvrtc flags.
NvrtcOptions nvrtc_options(const Target& target);

// The NVRTC command line used for (options, output), e.g. {"--gpu-architecture=sm_90", ...}.
std::vector<std::string> nvrtc_command_line(const NvrtcOptions& options, NvrtcOutput output);

// Compiles CUDA C with NVRTC (cached; concurrent calls for one key compile once). A cubin
// needs a real architecture (sm_NN): te::Error for compute_NN. te::Error with the offending
// source lines and NVRTC's log when the source does not compile, or when NVRTC is missing.
std::string nvrtc_compile(const std::string& source, const NvrtcOptions& options, NvrtcOutput output);

// How many compilations the cache holds, and how many NVRTC compilations ran (for tests).
size_t nvrtc_cache_entries();
size_t nvrtc_compilations();

}  // namespace te
