// The te::Module node of target cuda: holds the CUDA C (printed at build time), compiles it
// to PTX with NVRTC on first need, and on a machine with a GPU launches it through the driver
// API. Calling it copies the host arrays to the device and back (a stopgap until te has
// device arrays); without a GPU a call throws te::Error "no CUDA device available".
#include <mutex>

#include "codegen/cuda/codegen_cuda.h"
#include "codegen/cuda/cuda_driver.h"
#include "codegen/runtime/module_node.h"
#include "ir/interpreter.h"

namespace te {
namespace {

class CudaModuleNode : public ModuleNode {
 public:
  CudaKernelSource source;

  std::string get_source(const std::string& format) const override {
    if (format == "cuda" || format == "cu") return source.code;
    if (format == "ptx") return compile_cuda_to_ptx(source.code);
    fail("Module::get_source: format '", format, "' is not available for target cuda; expected \"cuda\", "
         "\"ptx\" or \"lowered\"");
  }
  void save_object(const std::string&) const override {
    fail("save_object: not supported for target cuda; use get_source(\"ptx\") or get_source(\"cuda\")");
  }
  void export_shared_library(const std::string&) const override {
    fail("export_shared_library: not supported for target cuda; use get_source(\"ptx\") or get_source(\"cuda\")");
  }

  int32_t run(void** buffers, const int64_t* size_vars) const override {
    std::string why = cuda_unavailable_reason();
    if (!why.empty()) fail(why, "; kernel ", func.name, " for target cuda cannot run on this machine");
    const CudaKernel& kernel = loaded_kernel();
    Interpreter interp;
    for (size_t i = 0; i < func.size_vars.size(); ++i)
      interp.bind(func.size_vars[i], Value::from_int(func.size_vars[i].dtype(), size_vars[i]));
    std::vector<CudaKernel::HostBuffer> host;
    for (size_t i = 0; i < func.args.size(); ++i) {
      int64_t numel = 1;
      for (const Expr& dim : func.args[i].shape) numel *= interp.eval(dim).as_int();
      host.push_back({buffers[i], size_t(numel) * size_t(func.args[i].dtype.bytes())});
    }
    std::vector<int64_t> scalars(size_vars, size_vars + func.size_vars.size());
    std::vector<bool> is_int64;
    for (const Var& v : func.size_vars) is_int64.push_back(v.dtype().bits == 64);
    int64_t grid[3];
    for (int d = 0; d < 3; ++d) grid[d] = interp.eval(source.launch.grid[d]).as_int();
    kernel.launch_with_host_buffers(host, scalars, is_int64, grid, source.launch.block);
    return 0;
  }

 private:
  const CudaKernel& loaded_kernel() const {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!kernel_) kernel_ = std::make_unique<CudaKernel>(compile_cuda_to_ptx(source.code), source.kernel_name);
    return *kernel_;
  }
  mutable std::mutex mutex_;
  mutable std::unique_ptr<CudaKernel> kernel_;
};

}  // namespace

bool cuda_device_available() { return cuda_unavailable_reason().empty(); }

std::shared_ptr<ModuleNode> build_cuda(const LoweredFunc& func, const Target& target) {
  auto node = std::make_shared<CudaModuleNode>();
  node->func = func;
  node->target = target;
  node->source = codegen_cuda(func);
  return node;
}

}  // namespace te
