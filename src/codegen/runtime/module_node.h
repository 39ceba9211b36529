// src/codegen/runtime/module_node.h — what a te::Module holds: the lowered function, the
// target, and the compiled kernel's entry point. A backend (src/codegen/llvm) derives from
// ModuleNode; the runtime (module.cc) checks arguments and calls `kernel`.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "te/runtime.h"

namespace te {

// The calling convention of every compiled CPU kernel:
//   int32_t <name>_kernel(void** buffers, const int64_t* size_vars)
// buffers[i] is the data pointer of func.args[i]; size_vars[i] the value of func.size_vars[i].
// Returns 0, or non-zero when a heap allocation inside the kernel failed.
using KernelFn = int32_t (*)(void** buffers, const int64_t* size_vars);

// What an ahead-of-time library needs from a compiled CPU kernel (src/export, c_abi.h).
struct AotObject {
  std::string object;         // position-independent object code defining <name>_kernel
  bool has_parallel = false;  // calls te_parallel_for
  std::string triple, cpu;    // what it was compiled for, e.g. "x86_64-pc-linux-gnu", "sapphirerapids"
  std::string llvm_features;  // the feature string given to LLVM
  std::vector<std::string> enabled_features;  // every feature on for (cpu, llvm_features), implied ones too
};

class ModuleNode {
 public:
  virtual ~ModuleNode() = default;
  LoweredFunc func;
  Target target;
  KernelFn kernel = nullptr;

  // Runs the kernel on packed arguments (see pack_arguments), all on `device`. Backends whose
  // kernel is not a host function (CUDA) override it.
  virtual int32_t run(void** buffers, const int64_t* size_vars, Device device) const {
    (void)device;  // pack_arguments checked it is the CPU
    return kernel(buffers, size_vars);
  }
  virtual std::string get_source(const std::string& format) const = 0;
  virtual void save_object(const std::string& path) const = 0;
  virtual void export_shared_library(const std::string& path) const = 0;
  // te::Error for backends that cannot be exported (the default).
  virtual AotObject aot_object() const;
};

// The enabled features of the host CPU (LLVM names, e.g. "avx512f"); empty without LLVM.
std::vector<std::string> host_cpu_features();

// The symbol of the kernel entry point for a function name ("<name>_kernel").
std::string kernel_symbol(const std::string& func_name);

// Checks args against func (count, dtype, ndim, device, contiguity, data pointer, constant
// and symbolic dimensions) and fills the kernel's inputs; te::Error names the argument.
// Devices: target llvm takes CPU arrays; target cuda takes arrays that all live on one CUDA
// device, or all on the CPU (then copied in and out). *device receives the arguments' device.
void pack_arguments(const LoweredFunc& func, const std::vector<DLTensor*>& args,
                    std::vector<void*>* buffers, std::vector<int64_t>* size_vars,
                    const Target& target = Target(), Device* device = nullptr);

}  // namespace te
