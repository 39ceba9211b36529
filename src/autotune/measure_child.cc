// The runner child's side of measurement (tools/te_measure_runner.cc is only a main() that
// calls run_child): load the candidate, fill inputs from the parent's files, poison the
// outputs, run once and compare with the reference, then warm up and time. It lives in
// libte so that it sees TE_WITH_CUDA and the CUDA driver wrapper. Also the JSON of the
// parent↔child protocol (measure_internal.h).
#include <dlfcn.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstring>
#include <fstream>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>
#include <thread>

#include "autotune/measure_internal.h"
#include "te/runtime.h"
#ifdef TE_WITH_CUDA
#include "codegen/cuda/cuda_driver.h"
#endif

namespace te::autotune::measure_detail {

using nlohmann::json;

// ---------------------------------------------------------------- protocol JSON

std::string request_to_json(const RunRequest& r) {
  json args = json::array();
  for (const RunArg& a : r.args)
    args.push_back({{"shape", a.shape}, {"dtype", a.dtype}, {"input", a.input_path}, {"reference", a.reference_path}});
  json j = {{"target", r.target_kind}, {"library", r.library}, {"function", r.function}, {"raw_kernel", r.raw_kernel},
            {"ptx", r.ptx_path}, {"kernel_name", r.kernel_name}, {"grid", r.grid}, {"block", r.block},
            {"dynamic_shared_bytes", r.dynamic_shared_bytes},
            {"args", args}, {"rtol", r.rtol}, {"atol", r.atol}, {"number", r.number}, {"repeat", r.repeat},
            {"min_repeat_ms", r.min_repeat_ms}, {"fault", r.fault}, {"parent_pid", r.parent_pid}};
  return j.dump();
}

RunRequest request_from_json(const std::string& text) {
  try {
    json j = json::parse(text);
    RunRequest r;
    r.target_kind = j.at("target").get<std::string>();
    r.library = j.at("library").get<std::string>();
    r.function = j.at("function").get<std::string>();
    r.raw_kernel = j.at("raw_kernel").get<bool>();
    r.ptx_path = j.at("ptx").get<std::string>();
    r.kernel_name = j.at("kernel_name").get<std::string>();
    r.grid = j.at("grid").get<std::array<int64_t, 3>>();
    r.block = j.at("block").get<std::array<int64_t, 3>>();
    r.dynamic_shared_bytes = j.at("dynamic_shared_bytes").get<int64_t>();
    for (const json& a : j.at("args"))
      r.args.push_back({a.at("shape").get<std::vector<int64_t>>(), a.at("dtype").get<std::string>(),
                        a.at("input").get<std::string>(), a.at("reference").get<std::string>()});
    r.rtol = j.at("rtol").get<double>();
    r.atol = j.at("atol").get<double>();
    r.number = j.at("number").get<int>();
    r.repeat = j.at("repeat").get<int>();
    r.min_repeat_ms = j.at("min_repeat_ms").get<double>();
    r.fault = j.at("fault").get<std::string>();
    r.parent_pid = j.at("parent_pid").get<int64_t>();
    return r;
  } catch (const json::exception& e) {
    fail("te_measure_runner: malformed request: ", e.what());
  }
}

std::string result_to_json(const RunResult& r) {
  // Costs can be tiny; keep full precision. Infinite/NaN costs cannot occur (they are
  // measured durations), and the message is plain text.
  json j = {{"error", to_string(r.error)}, {"message", r.message}, {"costs", r.costs}};
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

RunResult result_from_json(const std::string& text) {
  try {
    json j = json::parse(text);
    RunResult r;
    r.error = error_kind_from_string(j.at("error").get<std::string>());
    r.message = j.at("message").get<std::string>();
    r.costs = j.at("costs").get<std::vector<double>>();
    return r;
  } catch (const json::exception& e) {
    fail("measure: the runner's output is not a result (", e.what(), "): '", text.substr(0, 200), "'");
  }
}

// ---------------------------------------------------------------- output comparison

namespace {

double half_to_double(uint16_t h) {
  int sign = (h >> 15) & 1, exponent = (h >> 10) & 0x1f, mantissa = h & 0x3ff;
  double v;
  if (exponent == 0) v = std::ldexp(double(mantissa), -24);
  else if (exponent == 31) v = mantissa ? std::nan("") : INFINITY;
  else v = std::ldexp(double(mantissa | 0x400), exponent - 25);
  return sign ? -v : v;
}

double load_float(const void* p, int64_t i, int bits) {
  if (bits == 16) return half_to_double(static_cast<const uint16_t*>(p)[i]);
  if (bits == 32) return static_cast<const float*>(p)[i];
  return static_cast<const double*>(p)[i];
}

}  // namespace

std::string compare_outputs(const void* actual, const void* expected, int64_t numel, DataType dtype, double rtol,
                            double atol) {
  int64_t bad = 0, first_bad = -1;
  double max_error = 0;
  if (dtype.is_float()) {
    for (int64_t i = 0; i < numel; ++i) {
      double a = load_float(actual, i, dtype.bits), e = load_float(expected, i, dtype.bits);
      double err = std::fabs(a - e);
      bool ok = !std::isnan(a) && !std::isnan(e) && err <= atol + rtol * std::fabs(e);
      // Infinities in the same place with the same sign agree (|inf - inf| is NaN).
      if (!ok && std::isinf(a) && a == e) ok = true;
      if (!ok) {
        if (first_bad < 0) first_bad = i;
        ++bad;
        max_error = std::isnan(err) ? INFINITY : std::max(max_error, err);
      }
    }
  } else {
    size_t bytes = size_t(dtype.bytes());
    const char* a = static_cast<const char*>(actual);
    const char* e = static_cast<const char*>(expected);
    for (int64_t i = 0; i < numel; ++i)
      if (std::memcmp(a + i * bytes, e + i * bytes, bytes) != 0) {
        if (first_bad < 0) first_bad = i;
        ++bad;
      }
  }
  if (bad == 0) return "";
  std::ostringstream os;
  os << bad << " of " << numel << " elements differ from the reference (first at flat index " << first_bad;
  if (dtype.is_float()) {
    os << ": got " << load_float(actual, first_bad, dtype.bits) << ", expected "
       << load_float(expected, first_bad, dtype.bits) << "; max error " << max_error << ", rtol " << rtol
       << ", atol " << atol;
  }
  os << ")";
  return os.str();
}

// ---------------------------------------------------------------- the child

namespace {

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) fail("te_measure_runner: cannot read '", path, "'");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void write_result(int fd, const RunResult& result) {
  std::string line = result_to_json(result) + "\n";
  size_t done = 0;
  while (done < line.size()) {
    ssize_t n = ::write(fd, line.data() + done, line.size() - done);
    if (n <= 0) return;  // the parent went away; nothing left to tell it
    done += size_t(n);
  }
}

// Runs the candidate once; returns "" or why the call failed (kRuntime).
using CallFn = std::function<std::string()>;

CallFn load_llvm(const RunRequest& r, std::vector<NDArray>& arrays) {
  void* lib = dlopen(r.library.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!lib) fail("cannot load the candidate library: ", dlerror());
  if (r.raw_kernel) {
    using KernelFn = int32_t (*)(void**, const int64_t*);
    auto kernel = reinterpret_cast<KernelFn>(dlsym(lib, (r.function + "_kernel").c_str()));
    if (!kernel) fail("the candidate library lacks ", r.function, "_kernel");
    auto buffers = std::make_shared<std::vector<void*>>();
    for (NDArray& a : arrays) buffers->push_back(a.data());
    return [kernel, buffers]() -> std::string {
      int64_t no_size_vars[1] = {0};  // shapes are constant when tuning
      int32_t rc = kernel(buffers->data(), no_size_vars);
      if (rc == 0) return "";
      return detail::cat("the kernel returned ", rc, " (a heap allocation inside it failed)");
    };
  }
  using EntryFn = int32_t (*)(DLTensor**, int32_t);
  using LastErrorFn = const char* (*)();
  auto entry = reinterpret_cast<EntryFn>(dlsym(lib, r.function.c_str()));
  auto last_error = reinterpret_cast<LastErrorFn>(dlsym(lib, (r.function + "_last_error").c_str()));
  if (!entry || !last_error) fail("the candidate library lacks ", r.function, " or ", r.function, "_last_error");
  auto tensors = std::make_shared<std::vector<DLTensor*>>();
  for (NDArray& a : arrays) tensors->push_back(a.dltensor());
  return [entry, last_error, tensors]() -> std::string {
    int32_t rc = entry(tensors->data(), int32_t(tensors->size()));
    if (rc == 0) return "";
    return detail::cat("the kernel returned ", rc, ": ", last_error());
  };
}

CallFn load_cuda(const RunRequest& r, std::vector<NDArray>& arrays) {
#ifdef TE_WITH_CUDA
  std::string why = cuda_unavailable_reason();
  if (!why.empty()) fail(why, "; a cuda candidate cannot run on this machine (no GPU)");
  auto kernel = std::make_shared<CudaKernel>(read_file(r.ptx_path), r.kernel_name, 0, r.dynamic_shared_bytes);
  // The arrays live on the device for the whole run. The first call copies the host arrays in
  // (the inputs, and the outputs as poisoned) and all of them back after the kernel (the outputs
  // are checked on the host); the timed calls launch on the device arrays alone, so no transfer
  // is timed. Each call synchronizes: a fault is reported by the call that caused it.
  auto device = std::make_shared<std::vector<NDArray>>();
  auto pointers = std::make_shared<std::vector<void*>>();
  for (const NDArray& a : arrays) {
    device->push_back(NDArray::empty(a.shape(), a.dtype(), Device::cuda(kernel->device())));
    pointers->push_back(device->back().data());
  }
  auto host = std::make_shared<std::vector<NDArray>>(arrays);  // the caller's arrays (shared storage)
  auto first = std::make_shared<bool>(true);
  std::array<int64_t, 3> grid = r.grid, block = r.block;
  std::string what = "kernel " + r.kernel_name;
  return [kernel, device, pointers, host, first, grid, block, what]() -> std::string {
    try {
      if (*first)
        for (size_t i = 0; i < host->size(); ++i) (*device)[i].copy_from((*host)[i]);
      kernel->launch(*pointers, {}, {}, grid.data(), block.data());
      cuda_synchronize(kernel->device(), what);
      if (*first) {
        for (size_t i = 0; i < host->size(); ++i) (*host)[i].copy_from((*device)[i]);
        *first = false;
      }
    } catch (const Error& e) {
      return e.what();
    }
    return "";
  };
#else
  fail("te was built without CUDA (TE_WITH_CUDA=OFF); cannot run a cuda candidate");
#endif
}

RunResult run_request(const RunRequest& r) {
  RunResult result;
  std::vector<NDArray> arrays;
  for (const RunArg& a : r.args) {
    NDArray array = NDArray::empty(a.shape, DataType::parse(a.dtype));
    if (!a.input_path.empty()) {
      std::string bytes = read_file(a.input_path);
      if (bytes.size() != array.nbytes())
        fail("input file '", a.input_path, "' has ", bytes.size(), " bytes, expected ", array.nbytes());
      std::memcpy(array.data(), bytes.data(), bytes.size());
    }
    arrays.push_back(array);
  }
  CallFn call = r.target_kind == "cuda" ? load_cuda(r, arrays) : load_llvm(r, arrays);

  // Test-only faults (MeasureOptions::fault), injected around the first call.
  if (r.fault == "crash") std::raise(SIGSEGV);
  if (r.fault == "hang")
    for (;;) std::this_thread::sleep_for(std::chrono::hours(1));

  for (size_t i = 0; i < r.args.size(); ++i)
    if (!r.args[i].reference_path.empty()) arrays[i].fill_poison();
  if (std::string err = call(); !err.empty()) {
    result.error = ErrorKind::kRuntime;
    result.message = err;
    return result;
  }
  for (size_t i = 0; i < r.args.size(); ++i) {
    const RunArg& a = r.args[i];
    if (a.reference_path.empty()) continue;
    if (r.fault == "wrong" && arrays[i].numel() > 0) {
      DataType t = arrays[i].dtype();
      char* p = static_cast<char*>(arrays[i].data());
      if (t.is_float() && t.bits == 32) *reinterpret_cast<float*>(p) += 1.0f + std::fabs(*reinterpret_cast<float*>(p));
      else p[0] = char(~p[0]);
    }
    std::string expected = read_file(a.reference_path);
    if (expected.size() != arrays[i].nbytes())
      fail("reference file '", a.reference_path, "' has ", expected.size(), " bytes, expected ", arrays[i].nbytes());
    std::string diff =
        compare_outputs(arrays[i].data(), expected.data(), arrays[i].numel(), arrays[i].dtype(), r.rtol, r.atol);
    if (!diff.empty()) {
      result.error = ErrorKind::kWrongAnswer;
      result.message = detail::cat("output ", i, ": ", diff);
      return result;
    }
  }

  // Warm-up, then raise `number` until one repeat lasts min_repeat_ms, then time.
  using Clock = std::chrono::steady_clock;
  auto time_calls = [&](int number, std::string* err) {
    auto start = Clock::now();
    for (int k = 0; k < number && err->empty(); ++k) *err = call();
    return std::chrono::duration<double>(Clock::now() - start).count();
  };
  std::string err;
  time_calls(1, &err);
  int number = std::max(1, r.number);
  if (r.min_repeat_ms > 0) {
    for (int tries = 0; tries < 20 && err.empty(); ++tries) {
      double ms = time_calls(number, &err) * 1e3;
      if (ms >= r.min_repeat_ms) break;
      double scale = ms > 0 ? r.min_repeat_ms / ms * 1.2 : 10.0;
      number = int(std::min(1e8, std::max(number * 2.0, std::ceil(number * scale))));
    }
  }
  for (int k = 0; k < std::max(1, r.repeat) && err.empty(); ++k) result.costs.push_back(time_calls(number, &err) / number);
  if (!err.empty()) {
    result.error = ErrorKind::kRuntime;
    result.message = err;
    result.costs.clear();
  }
  return result;
}

}  // namespace

int run_child(const std::string& request_path, int result_fd) {
  RunResult result;
  try {
    RunRequest request = request_from_json(read_file(request_path));
    // A tuner killed with SIGKILL cannot kill its children: make the kernel (which may loop
    // forever) die with it. The check after prctl closes the race with an earlier death.
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (request.parent_pid != 0 && getppid() != pid_t(request.parent_pid)) return 1;
    result = run_request(request);
  } catch (const std::exception& e) {
    result.error = ErrorKind::kRuntime;
    result.costs.clear();
    result.message = e.what();
  }
  write_result(result_fd, result);
  return 0;
}

}  // namespace te::autotune::measure_detail
