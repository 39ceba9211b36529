// te::Module: argument checking, calling a compiled kernel, timing, and build() — the
// entry from a schedule (or a lowered function) to a callable kernel.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <numeric>
#include <unordered_map>

#include "codegen/runtime/module_node.h"
#include "ir/interpreter.h"
#ifdef TE_WITH_LLVM
#include "codegen/llvm/llvm_module.h"
#endif
#ifdef TE_WITH_CUDA
#include "codegen/cuda/codegen_cuda.h"
#endif

namespace te {
namespace {

// DLPack >= 0.8 spells bool as code 6 (kDLBool); Debian's dlpack.h (0.6) predates it.
constexpr uint8_t kDLBoolCode = 6;


std::string shape_text(const std::vector<Expr>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + to_string(shape[i]);
  return s + "]";
}
std::string shape_text(const DLTensor* t) {
  std::string s = "[";
  for (int i = 0; i < t->ndim; ++i) s += (i ? ", " : "") + std::to_string(t->shape[i]);
  return s + "]";
}
std::string dlpack_dtype_text(DLDataType t) {
  try {
    return from_dlpack(t).str();
  } catch (const Error&) {
    return detail::cat("DLDataType(code=", int(t.code), ", bits=", int(t.bits), ", lanes=", t.lanes, ")");
  }
}
bool dtype_matches(DLDataType got, DataType expected) {
  DLDataType want = to_dlpack(expected);
  if (got.code == want.code && got.bits == want.bits && got.lanes == want.lanes) return true;
  // Frameworks disagree on how to spell bool: accept one-byte bool or uint8 storage.
  return expected.is_bool() && got.bits == 8 && got.lanes == 1 &&
         (got.code == kDLBoolCode || got.code == kDLUInt);
}

// Target llvm: every argument on the CPU. Target cuda: every argument on the device of
// argument 0, which is a CUDA device or the CPU (the copy-in/copy-out convenience path).
// `where` makes the message prefix, only on failure: building it eagerly (ostringstreams) was
// most of a call's overhead (~1 us for a 4-argument kernel, 10% of a 10 us layer_norm).
template <typename Where>
void check_argument_device(const LoweredFunc& func, const std::vector<DLTensor*>& args, size_t i,
                           const Target& target, const Where& where) {
  DLDevice got = args[i]->device;
  if (target.kind != "cuda") {
    if (got.device_type != kDLCPU)
      fail(where(), "expected a CPU array, got an array on ", device_text(got), "; a kernel for target ",
           target.kind, " reads CPU memory: copy it with .numpy() or te.nd.array(x, device=te.cpu()), "
           "or build the kernel for target cuda");
    return;
  }
  if (got.device_type != kDLCPU && got.device_type != kDLCUDA)
    fail(where(), "got an array on ", device_text(got), "; a kernel for target cuda takes CUDA arrays "
         "(te.nd.array(x, device=te.cuda(0))) or CPU arrays (copied in and out)");
  if (i == 0 || !args[0]) return;
  DLDevice first = args[0]->device;
  if (got.device_type != first.device_type || got.device_id != first.device_id)
    fail(where(), "lives on ", device_text(got), " but argument 0 (", func.args[0].name, ") on ", device_text(first),
         "; a CUDA kernel takes all its arrays on one CUDA device (te.nd.array(x, device=te.cuda(0))) "
         "or all on the CPU (copied in and out)");
}

struct Binding {
  int64_t value;
  int arg, dim;
};

}  // namespace

std::string kernel_symbol(const std::string& func_name) { return func_name + "_kernel"; }

AotObject ModuleNode::aot_object() const {
  fail("export_library: kernel ", func.name, " is built for target ", target.str(),
       "; only CPU kernels (target llvm) can be exported into a library yet");
}

#ifndef TE_WITH_LLVM
std::vector<std::string> host_cpu_features() { return {}; }
#endif

void pack_arguments(const LoweredFunc& func, const std::vector<DLTensor*>& args,
                    std::vector<void*>* buffers, std::vector<int64_t>* size_vars, const Target& target,
                    Device* device) {
  const std::string& kernel = func.name;
  if (args.size() != func.args.size())
    fail("kernel ", kernel, ": expected ", func.args.size(), " arguments, got ", args.size());
  std::unordered_map<const VarNode*, Binding> bound;
  auto where = [&](size_t i) {
    return detail::cat("argument ", i, " (", func.args[i].name, ") of kernel ", kernel, ": ");
  };
  buffers->assign(args.size(), nullptr);
  std::vector<std::pair<size_t, int>> deferred;  // dims given by expressions, checked last
  for (size_t i = 0; i < args.size(); ++i) {
    const BufferArg& expect = func.args[i];
    const DLTensor* t = args[i];
    if (!t) fail(where(i), "got a null DLTensor pointer");
    check_argument_device(func, args, i, target, [&] { return where(i); });
    if (!dtype_matches(t->dtype, expect.dtype))
      fail(where(i), "expected dtype ", expect.dtype.str(), ", got ", dlpack_dtype_text(t->dtype));
    if (t->ndim != int(expect.shape.size()))
      fail(where(i), "expected ", expect.shape.size(), " dimensions ", shape_text(expect.shape),
           ", got ", t->ndim, " dimensions ", shape_text(t));
    if (t->ndim > 0 && !t->shape) fail(where(i), "the DLTensor has a null shape pointer");
    for (int d = 0; d < t->ndim; ++d) {
      const Expr& dim = expect.shape[d];
      int64_t got = t->shape[d];
      if (const int64_t* c = as_const_int(dim)) {
        if (*c != got) fail(where(i), "expected shape ", shape_text(expect.shape), ", got ", shape_text(t));
      } else if (const VarNode* v = dim.as<VarNode>()) {
        auto it = bound.find(v);
        if (it == bound.end()) {
          bound.emplace(v, Binding{got, int(i), d});
        } else if (it->second.value != got) {
          const Binding& b = it->second;
          fail(where(i), "expected shape ", shape_text(expect.shape), " with ", v->name, " = ", b.value,
               " (bound by argument ", b.arg, " (", func.args[b.arg].name, ") dimension ", b.dim,
               "), got ", shape_text(t));
        }
      } else {
        deferred.emplace_back(i, d);
      }
    }
    if (t->strides) {
      int64_t expected_stride = 1;
      for (int d = t->ndim - 1; d >= 0; --d) {
        if (t->shape[d] != 1 && t->strides[d] != expected_stride)
          fail(where(i), "expected a compact row-major array; dimension ", d, " has stride ",
               t->strides[d], ", expected ", expected_stride);
        expected_stride *= t->shape[d];
      }
    }
    int64_t numel = 1;
    bool symbolic = false;
    for (int d = 0; d < t->ndim; ++d) {
      numel = t->shape[d] > 0 && numel > std::numeric_limits<int64_t>::max() / t->shape[d] ? -1 : numel * t->shape[d];
      symbolic = symbolic || !as_const_int(expect.shape[d]);
      if (numel < 0) fail(where(i), "shape ", shape_text(t), " has more elements than int64 holds");
    }
    // Kernels index an argument of symbolic shape with 32-bit arithmetic (storage_flatten
    // widens constant shapes beyond 2^31-1 only): refuse what would overflow it.
    if (symbolic && numel > std::numeric_limits<int32_t>::max())
      fail(where(i), "shape ", shape_text(t), " has ", numel, " elements, more than the 2147483647 (2^31-1) that a kernel ",
           "built for a symbolic shape addresses with 32-bit indices; build it for this constant shape (te then indexes ",
           "with 64 bits) or process the tensor in parts");
    if (!t->data && numel > 0) fail(where(i), "got a null data pointer");
    (*buffers)[i] = static_cast<char*>(t->data) + t->byte_offset;
  }
  if (device) *device = args.empty() ? Device::cpu() : Device{static_cast<DLDeviceType>(args[0]->device.device_type),
                                                               args[0]->device.device_id};
  size_vars->clear();
  for (const Var& v : func.size_vars) {
    auto it = bound.find(v.get());
    if (it == bound.end())
      fail("kernel ", kernel, ": size variable ", v.name(), " is not a dimension of any argument");
    if (v.dtype().bits == 32 && it->second.value > std::numeric_limits<int32_t>::max())
      fail("kernel ", kernel, ": size variable ", v.name(), " = ", it->second.value, " (argument ", it->second.arg,
           " dimension ", it->second.dim, ") does not fit its dtype int32 (at most 2147483647); declare it with te::var(\"",
           v.name(), "\", DataType::int64())");
    size_vars->push_back(it->second.value);
  }
  if (!deferred.empty()) {
    Interpreter interp;
    for (const Var& v : func.size_vars) interp.bind(v, Value::from_int(v.dtype(), bound.at(v.get()).value));
    for (auto [i, d] : deferred) {
      int64_t want = interp.eval(func.args[i].shape[d]).as_int();
      if (want != args[i]->shape[d])
        fail(where(i), "expected shape ", shape_text(func.args[i].shape), " (dimension ", d, " = ", want,
             "), got ", shape_text(args[i]));
    }
  }
}

void Module::operator()(const std::vector<DLTensor*>& args) const {
  if (!node_) fail("Module: calling an empty module (build one with te::build)");
  std::vector<void*> buffers;
  std::vector<int64_t> size_vars;
  Device device;
  pack_arguments(node_->func, args, &buffers, &size_vars, node_->target, &device);
  int32_t rc = node_->run(buffers.data(), size_vars.data(), device);
  if (rc != 0)
    fail("kernel ", node_->func.name, " failed (status ", rc, "): a heap allocation inside the kernel failed");
}

void Module::operator()(const std::vector<NDArray>& args) const {
  std::vector<DLTensor*> tensors;
  for (size_t i = 0; i < args.size(); ++i) {
    if (!args[i].defined())
      fail("argument ", i, " of kernel ", node_ ? node_->func.name : "?", ": got an undefined NDArray");
    tensors.push_back(const_cast<DLTensor*>(args[i].dltensor()));
  }
  (*this)(tensors);
}

const LoweredFunc& Module::func() const {
  if (!node_) fail("Module: empty module");
  return node_->func;
}
const Target& Module::target() const {
  if (!node_) fail("Module: empty module");
  return node_->target;
}
std::string Module::get_source(const std::string& format) const {
  if (!node_) fail("Module: empty module");
  if (format == "lowered") return to_string(node_->func);
  return node_->get_source(format);
}
void Module::save_object(const std::string& path) const {
  if (!node_) fail("Module: empty module");
  node_->save_object(path);
}
void Module::export_shared_library(const std::string& path) const {
  if (!node_) fail("Module: empty module");
  node_->export_shared_library(path);
}

Module::TimeResult Module::time_evaluator(const std::vector<NDArray>& args, int number, int repeat,
                                          double min_repeat_ms) const {
  if (number < 1) fail("time_evaluator: number must be >= 1, got ", number);
  if (repeat < 1) fail("time_evaluator: repeat must be >= 1, got ", repeat);
  if (!node_) fail("Module: empty module");
  std::vector<DLTensor*> tensors;
  for (const NDArray& a : args) tensors.push_back(const_cast<DLTensor*>(a.dltensor()));
  std::vector<void*> buffers;
  std::vector<int64_t> size_vars;
  Device device;
  pack_arguments(node_->func, tensors, &buffers, &size_vars, node_->target, &device);  // checked once, then timed raw
  auto call = [&] {
    if (node_->run(buffers.data(), size_vars.data(), device) != 0)
      fail("kernel ", node_->func.name, " failed: a heap allocation inside the kernel failed");
  };
  using Clock = std::chrono::steady_clock;
  call();  // warm-up: page faults, caches, thread pool start
  TimeResult result{};
  for (int r = 0; r < repeat; ++r) {
    double elapsed_s = 0;
    while (true) {
      auto start = Clock::now();
      for (int k = 0; k < number; ++k) call();
      elapsed_s = std::chrono::duration<double>(Clock::now() - start).count();
      if (elapsed_s * 1e3 >= min_repeat_ms) break;
      // Too short to time reliably: grow number towards min_repeat_ms and measure again.
      double per_call = std::max(elapsed_s / number, 1e-9);
      number = std::max(int(std::ceil(min_repeat_ms * 1e-3 / per_call * 1.1)), number * 2);
    }
    result.results.push_back(elapsed_s / number);
  }
  const auto& v = result.results;
  result.mean = std::accumulate(v.begin(), v.end(), 0.0) / double(v.size());
  std::vector<double> sorted = v;
  std::sort(sorted.begin(), sorted.end());
  size_t n = sorted.size();
  result.median = n % 2 ? sorted[n / 2] : 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]);
  double var = 0;
  for (double x : v) var += (x - result.mean) * (x - result.mean);
  result.std = std::sqrt(var / double(n));
  return result;
}

Module build(const LoweredFunc& func, const Target& target) {
  if (target.kind == "cuda") {
#ifdef TE_WITH_CUDA
    return Module(build_cuda(func, target));
#else
    fail("build: te was built without CUDA (TE_WITH_CUDA=OFF); cannot compile for target cuda");
#endif
  }
  if (target.kind != "llvm")
    fail("build: target kind '", target.kind, "' is not supported by the CPU backend; expected 'llvm'");
#ifdef TE_WITH_LLVM
  return Module(build_llvm(func, target));
#else
  fail("build: te was built without LLVM (TE_WITH_LLVM=OFF); cannot compile for target llvm");
#endif
}

bool backend_built(const std::string& kind) {
#ifdef TE_WITH_LLVM
  if (kind == "llvm") return true;
#endif
#ifdef TE_WITH_CUDA
  if (kind == "cuda") return true;
#endif
  return false;
}

Module build(const Schedule& sch, const std::vector<Tensor>& args, const std::string& target,
             const std::string& name) {
  LowerOptions options;
  options.target = Target::parse(target);
  LoweredFunc func = lower(sch, args, name, options);
  return build(func, options.target);
}

}  // namespace te
