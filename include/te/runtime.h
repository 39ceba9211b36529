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

// A contiguous array on the CPU, 64-byte aligned. Copies share storage.
class NDArray {
 public:
  NDArray() = default;
  static NDArray empty(const std::vector<int64_t>& shape, DataType dtype = DataType::float32());
  bool defined() const { return storage_ != nullptr; }
  void* data() const { return tensor_.data; }
  template <typename T>
  T* data_as() const {
    return static_cast<T*>(tensor_.data);
  }
  const std::vector<int64_t>& shape() const { return shape_; }
  DataType dtype() const { return from_dlpack(tensor_.dtype); }
  int64_t numel() const;
  size_t nbytes() const;
  // The DLTensor view of this array (valid while the array lives).
  DLTensor* dltensor() { return &tensor_; }
  const DLTensor* dltensor() const { return &tensor_; }
  // Fills every element with NaN (floats) or a poison pattern (ints), before a test run.
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

// The reference interpreter: evaluates the unscheduled compute of `outputs` on `inputs`
// (placeholders in order of `placeholders`), with symbolic sizes bound from the inputs.
std::vector<NDArray> evaluate_reference(const std::vector<Tensor>& placeholders,
                                        const std::vector<NDArray>& inputs,
                                        const std::vector<Tensor>& outputs);

}  // namespace te
