// Driver-API wrapper: dlopen("libcuda.so.1") at first use, primary context of device 0,
// cuModuleLoadData of PTX, cuLaunchKernel, and an error check after every launch naming the
// kernel. cuda.h is included for its types only; libcuda is never linked.
#include "codegen/cuda/cuda_driver.h"

#include <cuda.h>
#include <dlfcn.h>

#include <algorithm>

#include "te/base.h"

namespace te {
namespace {

struct DriverApi {
  decltype(&cuInit) init = nullptr;
  decltype(&cuDeviceGetCount) device_count = nullptr;
  decltype(&cuDeviceGet) device_get = nullptr;
  decltype(&cuDevicePrimaryCtxRetain) ctx_retain = nullptr;
  decltype(&cuCtxSetCurrent) ctx_set_current = nullptr;
  decltype(&cuModuleLoadData) module_load = nullptr;
  decltype(&cuModuleUnload) module_unload = nullptr;
  decltype(&cuModuleGetFunction) get_function = nullptr;
  decltype(&cuMemAlloc) mem_alloc = nullptr;
  decltype(&cuMemFree) mem_free = nullptr;
  decltype(&cuMemcpyHtoD) htod = nullptr;
  decltype(&cuMemcpyDtoH) dtoh = nullptr;
  decltype(&cuLaunchKernel) launch = nullptr;
  decltype(&cuCtxSynchronize) synchronize = nullptr;
  decltype(&cuGetErrorString) error_string = nullptr;
  CUcontext context = nullptr;
  std::string unavailable;  // non-empty: why no kernel can run
};

std::string error_text(const DriverApi& api, CUresult rc) {
  const char* s = nullptr;
  if (api.error_string) api.error_string(rc, &s);
  return detail::cat(s ? s : "unknown error", " (CUresult ", int(rc), ")");
}

const DriverApi& driver() {
  static const DriverApi api = [] {
    DriverApi a;
    void* lib = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
      a.unavailable = "no CUDA device available: the CUDA driver (libcuda.so.1) is not installed";
      return a;
    }
    bool missing = false;
    auto sym = [&](auto& fn, const char* name) {
      fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(dlsym(lib, name));
      if (!fn) missing = true;
    };
    sym(a.init, "cuInit");
    sym(a.device_count, "cuDeviceGetCount");
    sym(a.device_get, "cuDeviceGet");
    sym(a.ctx_retain, "cuDevicePrimaryCtxRetain");
    sym(a.ctx_set_current, "cuCtxSetCurrent");
    sym(a.module_load, "cuModuleLoadData");
    sym(a.module_unload, "cuModuleUnload");
    sym(a.get_function, "cuModuleGetFunction");
    sym(a.mem_alloc, "cuMemAlloc_v2");
    sym(a.mem_free, "cuMemFree_v2");
    sym(a.htod, "cuMemcpyHtoD_v2");
    sym(a.dtoh, "cuMemcpyDtoH_v2");
    sym(a.launch, "cuLaunchKernel");
    sym(a.synchronize, "cuCtxSynchronize");
    sym(a.error_string, "cuGetErrorString");
    if (missing) {
      a.unavailable = "no CUDA device available: libcuda.so.1 lacks driver API entry points (driver too old?)";
      return a;
    }
    CUresult rc = a.init(0);
    int count = 0;
    if (rc == CUDA_SUCCESS) rc = a.device_count(&count);
    if (rc != CUDA_SUCCESS || count == 0) {
      a.unavailable = "no CUDA device available" + (rc != CUDA_SUCCESS ? ": cuInit failed: " + error_text(a, rc) : std::string());
      return a;
    }
    CUdevice device = 0;
    rc = a.device_get(&device, 0);
    if (rc == CUDA_SUCCESS) rc = a.ctx_retain(&a.context, device);
    if (rc != CUDA_SUCCESS) a.unavailable = "no CUDA device available: device 0 has no context: " + error_text(a, rc);
    return a;
  }();
  return api;
}

void check(const DriverApi& api, CUresult rc, const std::string& kernel, const char* what) {
  if (rc != CUDA_SUCCESS) fail("CUDA kernel ", kernel, ": ", what, " failed: ", error_text(api, rc));
}

}  // namespace

std::string cuda_unavailable_reason() { return driver().unavailable; }

CudaKernel::CudaKernel(const std::string& ptx, const std::string& kernel_name) : kernel_name_(kernel_name) {
  const DriverApi& api = driver();
  if (!api.unavailable.empty()) fail(api.unavailable, " (kernel ", kernel_name, ")");
  check(api, api.ctx_set_current(api.context), kernel_name, "cuCtxSetCurrent");
  CUmodule module = nullptr;
  check(api, api.module_load(&module, ptx.c_str()), kernel_name, "cuModuleLoadData (loading the PTX)");
  module_ = module;
  CUfunction function = nullptr;
  CUresult rc = api.get_function(&function, module, kernel_name.c_str());
  if (rc != CUDA_SUCCESS) {
    api.module_unload(module);
    module_ = nullptr;
    check(api, rc, kernel_name, "cuModuleGetFunction");
  }
  function_ = function;
}

CudaKernel::~CudaKernel() {
  if (module_) driver().module_unload(static_cast<CUmodule>(module_));
}

void CudaKernel::launch_with_host_buffers(const std::vector<HostBuffer>& buffers, const std::vector<int64_t>& scalars,
                                          const std::vector<bool>& scalar_is_int64, const int64_t grid[3],
                                          const int64_t block[3]) const {
  const DriverApi& api = driver();
  check(api, api.ctx_set_current(api.context), kernel_name_, "cuCtxSetCurrent");
  std::vector<CUdeviceptr> device(buffers.size(), 0);
  struct Free {
    const DriverApi& api;
    std::vector<CUdeviceptr>& ptrs;
    ~Free() {
      for (CUdeviceptr p : ptrs)
        if (p) api.mem_free(p);
    }
  } free_all{api, device};
  for (size_t i = 0; i < buffers.size(); ++i) {
    size_t bytes = std::max<size_t>(buffers[i].bytes, 1);
    check(api, api.mem_alloc(&device[i], bytes), kernel_name_, "cuMemAlloc");
    if (buffers[i].bytes) check(api, api.htod(device[i], buffers[i].data, buffers[i].bytes), kernel_name_, "cuMemcpyHtoD");
  }
  std::vector<int32_t> scalars32(scalars.size());
  std::vector<int64_t> scalars64(scalars.begin(), scalars.end());
  std::vector<void*> params;
  for (CUdeviceptr& p : device) params.push_back(&p);
  for (size_t i = 0; i < scalars.size(); ++i) {
    scalars32[i] = int32_t(scalars[i]);
    params.push_back(scalar_is_int64[i] ? static_cast<void*>(&scalars64[i]) : static_cast<void*>(&scalars32[i]));
  }
  for (int d = 0; d < 3; ++d)
    if (grid[d] < 1 || grid[d] > 0x7fffffff)
      fail("CUDA kernel ", kernel_name_, ": grid dimension ", "xyz"[d], " is ", grid[d], "; expected 1..2^31-1");
  CUresult rc = api.launch(static_cast<CUfunction>(function_), unsigned(grid[0]), unsigned(grid[1]), unsigned(grid[2]),
                           unsigned(block[0]), unsigned(block[1]), unsigned(block[2]), 0, nullptr, params.data(), nullptr);
  check(api, rc, kernel_name_, "cuLaunchKernel");
  check(api, api.synchronize(), kernel_name_, "execution (cuCtxSynchronize after the launch)");
  for (size_t i = 0; i < buffers.size(); ++i)
    if (buffers[i].bytes) check(api, api.dtoh(buffers[i].data, device[i], buffers[i].bytes), kernel_name_, "cuMemcpyDtoH");
}

}  // namespace te
