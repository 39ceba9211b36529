// The te::Module node of target cuda: holds the CUDA C (printed at build time, then checked
// against the per-block limits), compiles it with NVRTC on first need (PTX, or a cubin when
// the target's architecture is the device's), and on a machine with a GPU launches it on the
// arrays' device. CUDA arrays are used in place; CPU arrays are copied to the device and back
// (a convenience). A split function's kernels are launched in order on the
// device's stream, with its intermediates allocated per call. Launches do not synchronize:
// each launch's return code is checked (naming the kernel), and the call synchronizes once at
// its end (before CPU arrays are copied back), so a fault names the function's kernels
// (TE_CUDA_SYNC_EACH_LAUNCH=1 synchronizes after each launch to name the one that faulted). Without a GPU a call throws te::Error "no CUDA device available".
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
    const std::vector<std::unique_ptr<CudaKernel>>& kernels = loaded_kernels(device_id);
    Interpreter interp;
    for (size_t i = 0; i < func.size_vars.size(); ++i)
      interp.bind(func.size_vars[i], Value::from_int(func.size_vars[i].dtype(), size_vars[i]));
    auto bytes_of = [&](const std::vector<Expr>& shape, DataType dtype) {
      int64_t numel = 1;
      for (const Expr& dim : shape) numel *= interp.eval(dim).as_int();
      return size_t(numel) * size_t(dtype.bytes()) * size_t(dtype.lanes);
    };
    // Device memory this call owns (CPU arguments' copies, intermediates), freed on every exit.
    struct Owned {
      int dev;
      std::vector<void*> ptrs;
      bool launched = false;  // kernels may still run (an error left the call early): wait first
      ~Owned() {
        if (launched && !ptrs.empty()) {
          try {
            cuda_synchronize(dev, "");
          } catch (const Error&) {  // the error that left the call is the one reported
          }
        }
        for (void* p : ptrs) cuda_free(dev, p);
      }
    } owned{device_id, {}};
    const DLDevice gpu{kDLCUDA, device_id}, cpu{kDLCPU, 0};
    std::vector<void*> args(buffers, buffers + func.args.size());
    std::vector<size_t> arg_bytes;
    if (!device.is_cuda()) {  // CPU arrays: copy in, run on the copies, copy back
      for (size_t i = 0; i < func.args.size(); ++i) {
        arg_bytes.push_back(bytes_of(func.args[i].shape, func.args[i].dtype));
        owned.ptrs.push_back(cuda_alloc(device_id, arg_bytes[i]));
        args[i] = owned.ptrs.back();
        cuda_copy(args[i], gpu, buffers[i], cpu, arg_bytes[i]);
      }
    }
    std::vector<void*> intermediates;
    for (const GpuIntermediate& im : source.intermediates) {
      owned.ptrs.push_back(cuda_alloc(device_id, bytes_of(im.extents, im.dtype)));
      intermediates.push_back(owned.ptrs.back());
    }
    for (size_t k = 0; k < kernels.size(); ++k) {
      const CudaKernelInfo& info = source.kernels[k];
      std::vector<void*> ptrs;
      for (int b : info.buffers) ptrs.push_back(b >= 0 ? args[size_t(b)] : intermediates[size_t(-1 - b)]);
      std::vector<int64_t> scalars;
      std::vector<bool> is_int64;
      for (int v : info.size_vars) {
        scalars.push_back(size_vars[v]);
        is_int64.push_back(func.size_vars[size_t(v)].dtype().bits == 64);
      }
      int64_t grid[3];
      for (int d = 0; d < 3; ++d) grid[d] = interp.eval(info.launch.grid[d]).as_int();
      owned.launched = true;
      kernels[k]->launch(ptrs, scalars, is_int64, grid, info.launch.block);  // asynchronous
    }
    // One synchronize per call: an asynchronous fault is reported here, naming the kernels.
    std::string names;
    for (const CudaKernelInfo& info : source.kernels) names += (names.empty() ? "" : ", ") + info.name;
    cuda_synchronize(device_id, detail::cat("function ", func.name, " (kernel", source.kernels.size() > 1 ? "s " : " ",
                                            names, ") on cuda(", device_id, ")"));
    if (!device.is_cuda())
      for (size_t i = 0; i < func.args.size(); ++i) cuda_copy(buffers[i], cpu, args[i], gpu, arg_bytes[i]);
    return 0;
  }

 private:
  // The kernels loaded on `device`: a cubin when the target's architecture is exactly the
  // device's (no JIT at load), else PTX (the driver JITs it; the device must be at least as new).
  const std::vector<std::unique_ptr<CudaKernel>>& loaded_kernels(int device) const {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = kernels_.find(device);
    if (it != kernels_.end()) return it->second;
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
    std::vector<std::unique_ptr<CudaKernel>> loaded;
    for (const CudaKernelInfo& k : source.kernels) loaded.push_back(std::make_unique<CudaKernel>(image, k.name, device, k.dynamic_shared_bytes));
    return kernels_.emplace(device, std::move(loaded)).first->second;
  }
  mutable std::mutex mutex_;
  mutable std::map<int, std::vector<std::unique_ptr<CudaKernel>>> kernels_;
};

}  // namespace

const CudaKernelSource* cuda_module_source(const ModuleNode& node, std::string* arch) {
  const auto* cuda = dynamic_cast<const CudaModuleNode*>(&node);
  if (!cuda) return nullptr;
  if (arch) *arch = cuda->options.arch;
  return &cuda->source;
}

bool cuda_device_available() { return cuda_unavailable_reason().empty(); }

std::shared_ptr<ModuleNode> build_cuda(const LoweredFunc& func, const Target& target) {
  auto node = std::make_shared<CudaModuleNode>();
  node->func = func;
  node->target = target;
  node->source = codegen_cuda(func);
  CudaLimits limits = cuda_limits(target);
  if (node->source.kernels.size() == 1 && node->source.intermediates.empty()) {
    check_cuda_limits(func, node->source.launch, limits);
  } else {
    for (const CudaKernelInfo& k : node->source.kernels) {  // each kernel against the per-block limits
      LoweredFunc kf = func;
      kf.name = k.name;
      kf.body = k.body;
      check_cuda_limits(kf, k.launch, limits);
    }
  }
  node->options = nvrtc_options(target);
  return node;
}

}  // namespace te
