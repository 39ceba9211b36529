// The te::Module node of target cuda: holds the CUDA C (printed at build time, then checked
// against the per-block limits), compiles it with NVRTC on first need (PTX, or a cubin when
// the target's architecture is the device's), and on a machine with a GPU launches it on the
// arrays' device. CUDA arrays are used in place; CPU arrays are copied to the device and back
// (a convenience). Without a GPU a call throws te::Error "no CUDA device available".
#include <map>
#include <mutex>

#include "codegen/cuda/codegen_cuda.h"
#include "codegen/cuda/cuda_driver.h"
#include "codegen/cuda/cuda_limits.h"
#include "codegen/cuda/nvrtc.h"
#include "codegen/runtime/module_node.h"
#include "ir/interpreter.h"

namespace te {
namespace {

class CudaModuleNode : public ModuleNode {
 public:
  CudaKernelSource source;
  NvrtcOptions options;

  std::string get_source(const std::string& format) const override {
    if (format == "cuda" || format == "cu") return source.code;
    if (format == "ptx") return nvrtc_compile(source.code, options, NvrtcOutput::kPtx);
    if (format == "cubin") return nvrtc_compile(source.code, options, NvrtcOutput::kCubin);
    fail("Module::get_source: format '", format, "' is not available for target cuda; expected \"cuda\", "
         "\"ptx\", \"cubin\" or \"lowered\"");
  }
  void save_object(const std::string&) const override {
    fail("save_object: not supported for target cuda; use get_source(\"ptx\"), get_source(\"cubin\") or "
         "get_source(\"cuda\")");
  }
  void export_shared_library(const std::string&) const override {
    fail("export_shared_library: not supported for target cuda; use get_source(\"ptx\"), get_source(\"cubin\") "
         "or get_source(\"cuda\")");
  }

  int32_t run(void** buffers, const int64_t* size_vars, Device device) const override {
    std::string why = cuda_unavailable_reason();
    if (!why.empty()) fail(why, "; kernel ", func.name, " for target cuda cannot run on this machine");
    int device_id = device.is_cuda() ? device.id : 0;
    const CudaKernel& kernel = loaded_kernel(device_id);
    Interpreter interp;
    for (size_t i = 0; i < func.size_vars.size(); ++i)
      interp.bind(func.size_vars[i], Value::from_int(func.size_vars[i].dtype(), size_vars[i]));
    std::vector<int64_t> scalars(size_vars, size_vars + func.size_vars.size());
    std::vector<bool> is_int64;
    for (const Var& v : func.size_vars) is_int64.push_back(v.dtype().bits == 64);
    int64_t grid[3];
    for (int d = 0; d < 3; ++d) grid[d] = interp.eval(source.launch.grid[d]).as_int();
    if (device.is_cuda()) {
      kernel.launch(std::vector<void*>(buffers, buffers + func.args.size()), scalars, is_int64, grid,
                    source.launch.block);
      return 0;
    }
    std::vector<CudaKernel::HostBuffer> host;
    for (size_t i = 0; i < func.args.size(); ++i) {
      int64_t numel = 1;
      for (const Expr& dim : func.args[i].shape) numel *= interp.eval(dim).as_int();
      host.push_back({buffers[i], size_t(numel) * size_t(func.args[i].dtype.bytes())});
    }
    kernel.launch_with_host_buffers(host, scalars, is_int64, grid, source.launch.block);
    return 0;
  }

 private:
  // The kernel loaded on `device`: a cubin when the target's architecture is exactly the
  // device's (no JIT at load), else PTX (the driver JITs it; the device must be at least as new).
  const CudaKernel& loaded_kernel(int device) const {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = kernels_.find(device);
    if (it != kernels_.end()) return *it->second;
    CudaDeviceInfo info = cuda_device_info(device);
    std::string image;
    if (options.arch == info.arch()) {
      image = nvrtc_compile(source.code, options, NvrtcOutput::kCubin);
    } else {
      int want = std::stoi(options.arch.substr(options.arch.find('_') + 1));
      if (want > info.major * 10 + info.minor)
        fail("kernel ", func.name, " was compiled for ", options.arch, " but cuda(", device, ") (", info.name,
             ") is ", info.arch(), "; build it for target 'cuda -arch=", info.arch(), "' (or leave -arch out)");
      image = nvrtc_compile(source.code, options, NvrtcOutput::kPtx);
    }
    auto kernel = std::make_unique<CudaKernel>(image, source.kernel_name, device);
    return *kernels_.emplace(device, std::move(kernel)).first->second;
  }
  mutable std::mutex mutex_;
  mutable std::map<int, std::unique_ptr<CudaKernel>> kernels_;
};

}  // namespace

bool cuda_device_available() { return cuda_unavailable_reason().empty(); }

std::shared_ptr<ModuleNode> build_cuda(const LoweredFunc& func, const Target& target) {
  auto node = std::make_shared<CudaModuleNode>();
  node->func = func;
  node->target = target;
  node->source = codegen_cuda(func);
  check_cuda_limits(func, node->source.launch, cuda_limits(target));
  node->options = nvrtc_options(target);
  return node;
}

}  // namespace te
