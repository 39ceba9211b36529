// te/runtime.h — arrays and compiled kernels. NDArray is an aligned, reference-counted
// buffer that converts to a DLPack DLTensor; Module is a compiled function that checks its
// arguments (count, dtype, shape, symbolic sizes bound consistently) before running.
#pragma once

#include <dlpack/dlpack.h>

#include <memory>
#include <string>
#include <vector>

#include "te/lower.h"

namespace te {

DLDataType to_dlpack(DataType t);
DataType from_dlpack(DLDataType t);  // te::Error for types te does not support

// Where an array lives: the CPU, or a CUDA device (its memory is allocated through the CUDA
// driver, loaded at run time; te::Error where there is none).
struct Device {
  DLDeviceType type = kDLCPU;
  int id = 0;
  static Device cpu(int id = 0) { return {kDLCPU, id}; }
  static Device cuda(int id = 0) { return {kDLCUDA, id}; }
  bool is_cpu() const { return type == kDLCPU; }
  bool is_cuda() const { return type == kDLCUDA; }
  DLDevice dl() const { return DLDevice{type, id}; }
  std::string str() const;  // "cpu(0)", "cuda(1)"
  bool operator==(const Device& o) const { return type == o.type && id == o.id; }
  bool operator!=(const Device& o) const { return !(*this == o); }
};
std::string device_text(DLDevice d);  // "cpu(0)", "cuda(0)", "device type 7 (0)"
// CUDA devices: how many (0 without a driver, a device, or a CUDA-enabled te build), and the
// name of one (te::Error when it does not exist).
int cuda_device_count();
std::string cuda_device_name(int index);

// A contiguous array on the CPU (64-byte aligned) or a CUDA device. Copies share storage.
// data() of a CUDA array is a device pointer: read it with copy_to_host / copy_to(Device::cpu()).
class NDArray {
 public:
  NDArray() = default;
  static NDArray empty(const std::vector<int64_t>& shape, DataType dtype = DataType::float32(),
                       Device device = Device::cpu());
  // Wraps a DLPack tensor without copying (CPU or CUDA, compact row-major, a dtype te
  // supports; te::Error otherwise, and then the tensor is not taken). Takes ownership: the
  // deleter runs when the last NDArray sharing it is destroyed.
  static NDArray from_dlpack(DLManagedTensor* managed);
  bool defined() const { return storage_ != nullptr; }
  Device device() const { return Device{static_cast<DLDeviceType>(tensor_.device.device_type), tensor_.device.device_id}; }
  // A copy of this array on `device` (a new array, even on the same device).
  NDArray copy_to(Device device) const;
  // Copies src (same shape and dtype, any device) into this array.
  void copy_from(const NDArray& src);
  // Copies nbytes() bytes between this array (any device) and CPU memory.
  void copy_from_host(const void* host, size_t bytes);
  void copy_to_host(void* host, size_t bytes) const;
  void* data() const { return tensor_.data; }
  template <typename T>
  T* data_as() const {
    return static_cast<T*>(tensor_.data);
  }
  const std::vector<int64_t>& shape() const { return shape_; }
  DataType dtype() const { return te::from_dlpack(tensor_.dtype); }
  int64_t numel() const;
  size_t nbytes() const;
  // The DLTensor view of this array (valid while the array lives).
  DLTensor* dltensor() { return &tensor_; }
  const DLTensor* dltensor() const { return &tensor_; }
  // Fills every element with NaN (floats) or a poison pattern (ints), before a test run
  // (on any device).
  void fill_poison();

 private:
  std::shared_ptr<void> storage_;
  std::vector<int64_t> shape_;
  DLTensor tensor_{};
};

class ModuleNode;
// A compiled kernel. Calling it checks arguments and throws te::Error naming the argument.
class Module {
 public:
  Module() = default;
  explicit Module(std::shared_ptr<ModuleNode> node) : node_(std::move(node)) {}
  void operator()(const std::vector<DLTensor*>& args) const;
  void operator()(const std::vector<NDArray>& args) const;
  const LoweredFunc& func() const;
  const Target& target() const;
  // "ll" (LLVM IR), "asm" (assembly), "lowered" (the loop IR).
  std::string get_source(const std::string& format = "ll") const;
  // Ahead-of-time outputs: an object file, and a shared library with the C entry point
  //   int32_t <name>(DLTensor** args, int32_t num_args);   // 0 on success
  //   const char* <name>_last_error(void);
  void save_object(const std::string& path) const;
  void export_shared_library(const std::string& path) const;
  // Median/mean/std of repeat runs, each `number` calls, after one warm-up call (seconds).
  struct TimeResult {
    double mean, median, std;
    std::vector<double> results;
  };
  TimeResult time_evaluator(const std::vector<NDArray>& args, int number = 1, int repeat = 3,
                            double min_repeat_ms = 0) const;
  std::shared_ptr<ModuleNode> node() const { return node_; }

 private:
  std::shared_ptr<ModuleNode> node_;
};

// Lowers and compiles. target: "llvm [-mcpu=...] [-mattr=...]".
Module build(const Schedule& sch, const std::vector<Tensor>& args, const std::string& target = "llvm",
             const std::string& name = "default_function");
Module build(const LoweredFunc& func, const Target& target);
// Whether this te was built with the backend of target kind `kind` ("llvm": TE_WITH_LLVM,
// "cuda": TE_WITH_CUDA); build() for a kind built without raises te::Error. A GPU machine
// without LLVM builds te CUDA-only (scripts/gpu_check.sh), and tests skip their CPU parts there.
bool backend_built(const std::string& kind);

// The CUDA emulator (src/codegen/cuda/cuda_emulator.h): runs a module built for target "cuda" on
// host arrays, on the CPU, with GPU semantics (every block, its threads in lockstep at barriers,
// cross-thread reductions as the printed shuffles) and checks every shared/global access for
// races and bounds (te::Error naming kernel, buffer, element and threads). It verifies the
// lowered schedule, not the NVRTC-compiled binary. Slow: use small shapes.
struct CudaEmulateOptions {
  // The most statements executed (all threads together) before a te::Error says the run is too
  // big to emulate (the fuzzer's guard against slow cases); 0: no limit.
  int64_t max_statements = 0;
};
void cuda_emulate(const Module& m, const std::vector<NDArray>& args, const CudaEmulateOptions& options = {});
void cuda_emulate(const Module& m, const std::vector<DLTensor*>& args, const CudaEmulateOptions& options = {});

// The reference interpreter: evaluates the unscheduled compute of `outputs` on `inputs`
// (placeholders in order of `placeholders`), with symbolic sizes bound from the inputs.
std::vector<NDArray> evaluate_reference(const std::vector<Tensor>& placeholders,
                                        const std::vector<NDArray>& inputs,
                                        const std::vector<Tensor>& outputs);

}  // namespace te
