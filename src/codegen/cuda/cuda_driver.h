// src/codegen/cuda/cuda_driver.h — the CUDA driver API, loaded with dlopen("libcuda.so.1") on
// first use. No CUDA header here; cuda_driver.cc includes cuda.h for its types only.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace te {

// A kernel loaded from PTX into the primary context of device 0.
class CudaKernel {
 public:
  // te::Error "no CUDA device available ..." without a driver or a device; te::Error with the
  // driver's message when the PTX does not load or lacks kernel_name.
  CudaKernel(const std::string& ptx, const std::string& kernel_name);
  ~CudaKernel();
  CudaKernel(const CudaKernel&) = delete;
  CudaKernel& operator=(const CudaKernel&) = delete;

  struct HostBuffer {
    void* data;
    size_t bytes;
  };
  // Stopgap until device arrays exist: copies every host buffer to the device, launches,
  // synchronizes (an error names the kernel), and copies every buffer back.
  // scalars: the size-variable values, each passed as int32 (is_int64 false) or int64.
  void launch_with_host_buffers(const std::vector<HostBuffer>& buffers, const std::vector<int64_t>& scalars,
                                const std::vector<bool>& scalar_is_int64, const int64_t grid[3],
                                const int64_t block[3]) const;

 private:
  std::string kernel_name_;
  void* module_ = nullptr;    // CUmodule
  void* function_ = nullptr;  // CUfunction
};

// Why no kernel can run here ("" when a device is available).
std::string cuda_unavailable_reason();

}  // namespace te
