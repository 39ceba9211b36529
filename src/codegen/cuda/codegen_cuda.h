// src/codegen/cuda/codegen_cuda.h — lowered IR (target cuda) → CUDA C source, and the NVRTC
// and driver-API wrappers. No CUDA header is included here; all CUDA libraries are loaded
// with dlopen at run time, so libte links none of them.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "lower/cuda_threads.h"
#include "te/lower.h"

namespace te {

class ModuleNode;

// One __global__ kernel of a function and what the host passes it.
struct CudaKernelInfo {
  std::string name;  // "<name>_kernel" (one kernel), else "<name>_kernel0", "<name>_kernel1", ...
  GpuLaunchConfig launch;
  Stmt body;
  std::string stage;  // the root stage it computes (split functions)
  // Its buffer parameters: i >= 0 is func.args[i], i < 0 the intermediate -1 - i.
  std::vector<int> buffers;
  std::vector<int> size_vars;  // indices into func.size_vars, in parameter order
  // Bytes of `extern __shared__` memory it is launched with (cuLaunchKernel's sharedMemBytes,
  // and the CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES opt-in set when it is loaded); 0
  // when its shared buffers fit the 48 KiB of static __shared__ memory and are printed static.
  int64_t dynamic_shared_bytes = 0;
};

// Shared buffers totalling more than this many bytes per kernel cannot be static __shared__
// arrays (48 KiB on every architecture); above it a kernel carves them out of one
// `extern __shared__` array (dynamic shared memory, up to the device's opt-in maximum).
constexpr int64_t kCudaStaticSharedBytes = 48 * 1024;

struct CudaKernelSource {
  std::string code;  // a complete translation unit with every kernel
  std::vector<CudaKernelInfo> kernels;  // in launch order
  std::vector<GpuIntermediate> intermediates;  // allocated on the device by the host per call
  std::string kernel_name;  // the first kernel's (the only one of a single-kernel function)
  GpuLaunchConfig launch;   // the first kernel's
};

// Prints func (lowered for target cuda) as CUDA C. A function whose lowered body is one
// kernel (split_gpu_kernels) becomes `<name>_kernel` with one `T* __restrict__` parameter per
// buffer argument, then one int (int64: long long) per size variable, in func's order. A split
// function becomes `<name>_kernel0`, `<name>_kernel1`, ... (launched in that order), each
// taking the buffers (arguments, then intermediates) and size variables it uses.
CudaKernelSource codegen_cuda(const LoweredFunc& func);

// The architecture NVRTC compiles for: $TE_CUDA_ARCH when set (e.g. "sm_80"), else CUDA device
// 0's, else sm_90. (nvrtc.h has the full interface: options, cubin.)
std::string default_cuda_arch();
// Compiles CUDA C to PTX with NVRTC for arch ("sm_90" → -arch=compute_90). Results are cached
// by (source, arch, options). te::Error when NVRTC cannot be loaded or the source does not compile
// (with NVRTC's log and the offending source lines).
std::string compile_cuda_to_ptx(const std::string& source, const std::string& arch = default_cuda_arch());

// A te::Module node for target cuda: get_source("cuda") / ("ptx"); calling it needs a GPU.
std::shared_ptr<ModuleNode> build_cuda(const LoweredFunc& func, const Target& target);

// The CUDA C a module built for target cuda holds (the kernels, their launch configurations
// and dynamic shared memory), and in *arch the architecture its PTX is compiled for; nullptr
// for a module of another target. export_library embeds this module's PTX
// (get_source("ptx")) and launch metadata rather than printing the function again.
const CudaKernelSource* cuda_module_source(const ModuleNode& node, std::string* arch);

// True when libcuda.so.1 loads and reports at least one device.
bool cuda_device_available();

}  // namespace te
