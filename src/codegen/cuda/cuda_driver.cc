// Driver-API wrapper: dlopen("libcuda.so.1") at first use, the primary context of each device
// (retained on first use), device memory and copies, cuModuleLoadData of PTX or cubin,
// cuLaunchKernel with its result checked per launch (naming the kernel), and one synchronize
// per function call (cuda_synchronize), or per launch with TE_CUDA_SYNC_EACH_LAUNCH=1. cuda.h is included
// for its types only; libcuda is never linked.
#include "codegen/cuda/cuda_driver.h"

#include <cuda.h>
#include <dlfcn.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <mutex>

#include "te/base.h"

// The exported libraries' launcher (codegen/runtime/c_abi.cc) passes this attribute as a literal.
static_assert(CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES == 8, "c_abi.cc's te_cuda_enter passes 8");

namespace te {
namespace {

struct DriverApi {
  decltype(&cuInit) init = nullptr;
  decltype(&cuDeviceGetCount) device_count = nullptr;
  decltype(&cuDeviceGet) device_get = nullptr;
  decltype(&cuDeviceGetName) device_name = nullptr;
  decltype(&cuDeviceGetAttribute) device_attribute = nullptr;
  decltype(&cuDevicePrimaryCtxRetain) ctx_retain = nullptr;
  decltype(&cuCtxSetCurrent) ctx_set_current = nullptr;
  decltype(&cuModuleLoadData) module_load = nullptr;
  decltype(&cuModuleUnload) module_unload = nullptr;
  decltype(&cuModuleGetFunction) get_function = nullptr;
  decltype(&cuFuncSetAttribute) func_set_attribute = nullptr;
  decltype(&cuMemAlloc) mem_alloc = nullptr;
  decltype(&cuMemFree) mem_free = nullptr;
  decltype(&cuMemcpyHtoD) htod = nullptr;
  decltype(&cuMemcpyDtoH) dtoh = nullptr;
  decltype(&cuMemcpyDtoD) dtod = nullptr;
  decltype(&cuLaunchKernel) launch = nullptr;
  decltype(&cuCtxSynchronize) synchronize = nullptr;
  decltype(&cuGetErrorString) error_string = nullptr;
  int count = 0;
  std::string unavailable;  // non-empty: why no kernel can run
};

std::string error_text(const DriverApi& api, CUresult rc) {
  const char* s = nullptr;
  if (api.error_string) api.error_string(rc, &s);
  return detail::cat(s ? s : "unknown error", " (CUresult ", int(rc), ")");
}

const DriverApi& driver() {
  // Never destroyed, like the contexts below: device arrays may be freed at static destruction.
  static const DriverApi& api = *new DriverApi([] {
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
    sym(a.device_name, "cuDeviceGetName");
    sym(a.device_attribute, "cuDeviceGetAttribute");
    sym(a.ctx_retain, "cuDevicePrimaryCtxRetain");
    sym(a.ctx_set_current, "cuCtxSetCurrent");
    sym(a.module_load, "cuModuleLoadData");
    sym(a.module_unload, "cuModuleUnload");
    sym(a.get_function, "cuModuleGetFunction");
    sym(a.func_set_attribute, "cuFuncSetAttribute");
    sym(a.mem_alloc, "cuMemAlloc_v2");
    sym(a.mem_free, "cuMemFree_v2");
    sym(a.htod, "cuMemcpyHtoD_v2");
    sym(a.dtoh, "cuMemcpyDtoH_v2");
    sym(a.dtod, "cuMemcpyDtoD_v2");
    sym(a.launch, "cuLaunchKernel");
    sym(a.synchronize, "cuCtxSynchronize");
    sym(a.error_string, "cuGetErrorString");
    if (missing) {
      a.unavailable = "no CUDA device available: libcuda.so.1 lacks driver API entry points (driver too old?)";
      return a;
    }
    CUresult rc = a.init(0);
    if (rc == CUDA_SUCCESS) rc = a.device_count(&a.count);
    if (rc != CUDA_SUCCESS || a.count == 0) {
      a.count = 0;
      a.unavailable = "no CUDA device available" + (rc != CUDA_SUCCESS ? ": cuInit failed: " + error_text(a, rc) : std::string());
    }
    return a;
  }());
  return api;
}

void check(const DriverApi& api, CUresult rc, const std::string& what) {
  if (rc != CUDA_SUCCESS) fail(what, " failed: ", error_text(api, rc));
}

// The driver, with `device` checked to exist, and its primary context made current.
const DriverApi& use_device(int device, const std::string& who) {
  const DriverApi& api = driver();
  if (!api.unavailable.empty()) fail(api.unavailable, " (", who, ")");
  if (device < 0 || device >= api.count)
    fail(who, ": CUDA device ", device, " does not exist; this machine has ", api.count,
         " CUDA device(s), numbered from 0 (te.cuda(0))");
  // Never destroyed: arrays freed during static destruction (e.g. at interpreter exit) still
  // find their context.
  static auto* mutex = new std::mutex;
  static auto* contexts = new std::vector<CUcontext>(size_t(api.count), nullptr);
  CUcontext context = nullptr;
  {
    std::lock_guard<std::mutex> lock(*mutex);
    CUcontext& slot = (*contexts)[size_t(device)];
    if (!slot) {
      CUdevice dev = 0;
      check(api, api.device_get(&dev, device), who + ": cuDeviceGet");
      check(api, api.ctx_retain(&slot, dev), who + ": cuDevicePrimaryCtxRetain");
    }
    context = slot;
  }
  check(api, api.ctx_set_current(context), who + ": cuCtxSetCurrent");
  return api;
}

}  // namespace

std::string cuda_unavailable_reason() { return driver().unavailable; }
int cuda_device_count() { return driver().count; }

CudaDeviceInfo cuda_device_info(int device) {
  const DriverApi& api = use_device(device, "cuda_device_info");
  CUdevice dev = 0;
  check(api, api.device_get(&dev, device), "cuDeviceGet");
  CudaDeviceInfo info;
  char name[256] = {};
  check(api, api.device_name(name, sizeof name, dev), "cuDeviceGetName");
  info.name = name;
  auto attribute = [&](CUdevice_attribute a) {
    int v = 0;
    check(api, api.device_attribute(&v, a, dev), "cuDeviceGetAttribute");
    return v;
  };
  info.major = attribute(CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR);
  info.minor = attribute(CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR);
  info.max_threads_per_block = attribute(CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK);
  info.max_shared_memory_per_block = attribute(CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK);
  info.max_shared_memory_per_block_optin = attribute(CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN);
  return info;
}

void* cuda_alloc(int device, size_t bytes) {
  const DriverApi& api = use_device(device, "allocating device memory");
  CUdeviceptr p = 0;
  CUresult rc = api.mem_alloc(&p, std::max<size_t>(bytes, 1));
  if (rc != CUDA_SUCCESS)
    fail("cuMemAlloc of ", bytes, " bytes on cuda(", device, ") failed: ", error_text(api, rc));
  return reinterpret_cast<void*>(p);
}

void cuda_free(int device, void* ptr) noexcept {
  const DriverApi& api = driver();
  if (!ptr || !api.unavailable.empty()) return;
  try {
    use_device(device, "freeing device memory");
  } catch (const Error&) {
    return;  // a destructor cannot report; the memory goes with the context
  }
  api.mem_free(reinterpret_cast<CUdeviceptr>(ptr));
}

void cuda_copy(void* dst, DLDevice dst_device, const void* src, DLDevice src_device, size_t bytes) {
  bool dst_gpu = dst_device.device_type == kDLCUDA, src_gpu = src_device.device_type == kDLCUDA;
  if (!dst_gpu && !src_gpu) fail("cuda_copy: neither side is on a CUDA device");
  const DriverApi& api = use_device(dst_gpu ? dst_device.device_id : src_device.device_id, "copying an array");
  if (bytes == 0) return;
  auto d = [](const void* p) { return reinterpret_cast<CUdeviceptr>(p); };
  if (dst_gpu && src_gpu) {
    check(api, api.dtod(d(dst), d(src), bytes), "cuMemcpyDtoD");
  } else if (dst_gpu) {
    check(api, api.htod(d(dst), src, bytes), "cuMemcpyHtoD");
  } else {
    check(api, api.dtoh(dst, d(src), bytes), "cuMemcpyDtoH");
  }
}

bool cuda_sync_each_launch() {
  static const bool each = [] {
    const char* v = std::getenv("TE_CUDA_SYNC_EACH_LAUNCH");
    return v && std::strcmp(v, "1") == 0;
  }();
  return each;
}

void cuda_synchronize(int device, const std::string& what) {
  const DriverApi& api = use_device(device, what);
  CUresult rc = api.synchronize();
  if (rc != CUDA_SUCCESS)
    fail(what, ": a CUDA fault while the kernels ran (reported by cuCtxSynchronize at the end of the call): ",
         error_text(api, rc), "; set TE_CUDA_SYNC_EACH_LAUNCH=1 to synchronize after every launch and name the "
         "kernel that faulted");
}

CudaKernel::CudaKernel(const std::string& image, const std::string& kernel_name, int device,
                       int64_t dynamic_shared_bytes)
    : kernel_name_(kernel_name), device_(device), dynamic_shared_bytes_(dynamic_shared_bytes) {
  const DriverApi& api = use_device(device, "kernel " + kernel_name);
  CUmodule module = nullptr;
  check(api, api.module_load(&module, image.c_str()), "CUDA kernel " + kernel_name + ": cuModuleLoadData (loading the PTX/cubin)");
  module_ = module;
  CUfunction function = nullptr;
  CUresult rc = api.get_function(&function, module, kernel_name.c_str());
  if (rc != CUDA_SUCCESS) {
    api.module_unload(module);
    module_ = nullptr;
    check(api, rc, "CUDA kernel " + kernel_name + ": cuModuleGetFunction");
  }
  function_ = function;
  if (dynamic_shared_bytes_ > 0) {
    // Above 48 KiB a kernel must opt in to its dynamic shared memory before it is launched.
    rc = api.func_set_attribute(function, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, int(dynamic_shared_bytes_));
    if (rc != CUDA_SUCCESS) {
      api.module_unload(module);
      module_ = nullptr;
      fail("CUDA kernel ", kernel_name, ": cuFuncSetAttribute(CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, ",
           dynamic_shared_bytes_, ") failed: ", error_text(api, rc), "; the device's opt-in maximum of shared memory "
           "per block is smaller: use smaller shared tiles");
    }
  }
}

CudaKernel::~CudaKernel() {
  if (module_) driver().module_unload(static_cast<CUmodule>(module_));
}

void CudaKernel::launch(const std::vector<void*>& device_buffers, const std::vector<int64_t>& scalars,
                        const std::vector<bool>& scalar_is_int64, const int64_t grid[3], const int64_t block[3]) const {
  const DriverApi& api = use_device(device_, "kernel " + kernel_name_);
  const std::string who = "CUDA kernel " + kernel_name_ + ": ";
  for (int d = 0; d < 3; ++d)
    if (grid[d] < 1 || grid[d] > 0x7fffffff)
      fail(who, "grid dimension ", "xyz"[d], " is ", grid[d], "; expected 1..2^31-1");
  std::vector<CUdeviceptr> pointers;
  for (void* p : device_buffers) pointers.push_back(reinterpret_cast<CUdeviceptr>(p));
  std::vector<int32_t> scalars32(scalars.size());
  std::vector<int64_t> scalars64(scalars.begin(), scalars.end());
  std::vector<void*> params;
  for (CUdeviceptr& p : pointers) params.push_back(&p);
  for (size_t i = 0; i < scalars.size(); ++i) {
    scalars32[i] = int32_t(scalars[i]);
    params.push_back(scalar_is_int64[i] ? static_cast<void*>(&scalars64[i]) : static_cast<void*>(&scalars32[i]));
  }
  CUresult rc = api.launch(static_cast<CUfunction>(function_), unsigned(grid[0]), unsigned(grid[1]), unsigned(grid[2]),
                           unsigned(block[0]), unsigned(block[1]), unsigned(block[2]), unsigned(dynamic_shared_bytes_), nullptr,
                           params.data(), nullptr);
  check(api, rc, who + "cuLaunchKernel");
  if (cuda_sync_each_launch())
    check(api, api.synchronize(), who + "execution (cuCtxSynchronize after the launch, TE_CUDA_SYNC_EACH_LAUNCH=1)");
}

void CudaKernel::launch_with_host_buffers(const std::vector<HostBuffer>& buffers, const std::vector<int64_t>& scalars,
                                          const std::vector<bool>& scalar_is_int64, const int64_t grid[3],
                                          const int64_t block[3]) const {
  const DLDevice gpu{kDLCUDA, device_}, cpu{kDLCPU, 0};
  std::vector<void*> device(buffers.size(), nullptr);
  struct Free {
    int dev;
    std::vector<void*>& ptrs;
    ~Free() {
      for (void* p : ptrs) cuda_free(dev, p);
    }
  } free_all{device_, device};
  for (size_t i = 0; i < buffers.size(); ++i) {
    device[i] = cuda_alloc(device_, buffers[i].bytes);
    cuda_copy(device[i], gpu, buffers[i].data, cpu, buffers[i].bytes);
  }
  launch(device, scalars, scalar_is_int64, grid, block);
  cuda_synchronize(device_, "CUDA kernel " + kernel_name_);
  for (size_t i = 0; i < buffers.size(); ++i) cuda_copy(buffers[i].data, cpu, device[i], gpu, buffers[i].bytes);
}

}  // namespace te
