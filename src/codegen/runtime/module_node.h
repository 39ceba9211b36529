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
};

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
