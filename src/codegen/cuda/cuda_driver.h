// src/codegen/cuda/cuda_driver.h — the CUDA driver API, loaded with dlopen("libcuda.so.1") on
// first use: devices, device memory, copies, kernels. No CUDA header here; cuda_driver.cc
// includes cuda.h for its types only. Every function throws te::Error (never crashes) when no
// driver or device is present, naming why.
#pragma once

#include <dlpack/dlpack.h>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace te {

// Why no kernel can run here ("" when at least one device is available).
std::string cuda_unavailable_reason();
int cuda_device_count();  // 0 without a driver or a device

struct CudaDeviceInfo {
  std::string name;
  int major = 0, minor = 0;                      // compute capability
  int64_t max_threads_per_block = 0;
  int64_t max_shared_memory_per_block = 0;        // static __shared__ (48 KiB on every sm_70+)
  int64_t max_shared_memory_per_block_optin = 0;  // with cudaFuncAttributeMaxDynamicSharedMemorySize
  std::string arch() const { return "sm_" + std::to_string(major * 10 + minor); }
};
// te::Error when the device does not exist (naming how many there are).
CudaDeviceInfo cuda_device_info(int device);

// Device memory of `device` (its primary context). cuda_alloc(…, 0) returns a valid pointer.
void* cuda_alloc(int device, size_t bytes);
void cuda_free(int device, void* ptr) noexcept;
// Copies bytes between any two of: CPU memory, device memory (synchronous).
void cuda_copy(void* dst, DLDevice dst_device, const void* src, DLDevice src_device, size_t bytes);

// Waits for the work queued on `device` (its primary context) and turns an asynchronous fault
// into te::Error "<what>: ...", what naming the kernels that ran (e.g. "function mm (kernels
// mm_kernel0, mm_kernel1)"), with the hint TE_CUDA_SYNC_EACH_LAUNCH=1 to pin it to one.
void cuda_synchronize(int device, const std::string& what);
// True when TE_CUDA_SYNC_EACH_LAUNCH=1: every launch synchronizes (a debugging switch).
bool cuda_sync_each_launch();

// A kernel loaded from PTX or a cubin into the primary context of `device`.
class CudaKernel {
 public:
  // te::Error "no CUDA device available ..." without a driver or a device; te::Error with the
  // driver's message when the image does not load or lacks kernel_name.
  // dynamic_shared_bytes > 0: the kernel declares `extern __shared__` memory of that size
  // (CudaKernelInfo::dynamic_shared_bytes); its opt-in (CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES)
  // is set here, once, and every launch passes the bytes.
  CudaKernel(const std::string& image, const std::string& kernel_name, int device, int64_t dynamic_shared_bytes = 0);
  ~CudaKernel();
  CudaKernel(const CudaKernel&) = delete;
  CudaKernel& operator=(const CudaKernel&) = delete;

  // Launches on device pointers (asynchronously) and checks cuLaunchKernel's result, naming the
  // kernel. A fault while the kernel runs is reported by the next cuda_synchronize (the caller
  // synchronizes once per function call); with TE_CUDA_SYNC_EACH_LAUNCH=1 every launch
  // synchronizes and a fault names this kernel.
  // scalars: the size-variable values, each passed as int32 (is_int64 false) or int64.
  void launch(const std::vector<void*>& device_buffers, const std::vector<int64_t>& scalars,
              const std::vector<bool>& scalar_is_int64, const int64_t grid[3], const int64_t block[3]) const;

  struct HostBuffer {
    void* data;
    size_t bytes;
  };
  // The convenience path for CPU arrays: copies every host buffer to the device, launches,
  // synchronizes (an asynchronous fault names the kernel), and copies every buffer back.
  void launch_with_host_buffers(const std::vector<HostBuffer>& buffers, const std::vector<int64_t>& scalars,
                                const std::vector<bool>& scalar_is_int64, const int64_t grid[3],
                                const int64_t block[3]) const;
  int device() const { return device_; }

 private:
  std::string kernel_name_;
  int device_ = 0;
  int64_t dynamic_shared_bytes_ = 0;
  void* module_ = nullptr;    // CUmodule
  void* function_ = nullptr;  // CUfunction
};

}  // namespace te
