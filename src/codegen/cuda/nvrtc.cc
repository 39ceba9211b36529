// NVRTC wrapper: CUDA C → PTX or cubin, with the user's options, cached. libnvrtc is loaded with dlopen on first use (never linked), so
// libte builds and runs on machines without the CUDA toolkit; nvrtc.h supplies types only.
#include <dlfcn.h>
#include <nvrtc.h>

#include <atomic>
#include <cstdlib>
#include <future>
#include <mutex>
#include <regex>
#include <set>
#include <sstream>
#include <unordered_map>

#include "codegen/cuda/codegen_cuda.h"
#include "codegen/cuda/cuda_driver.h"
#include "codegen/cuda/nvrtc.h"

namespace te {
namespace {

struct NvrtcApi {
  decltype(&nvrtcCreateProgram) create = nullptr;
  decltype(&nvrtcCompileProgram) compile = nullptr;
  decltype(&nvrtcGetProgramLogSize) log_size = nullptr;
  decltype(&nvrtcGetProgramLog) log = nullptr;
  decltype(&nvrtcGetPTXSize) ptx_size = nullptr;
  decltype(&nvrtcGetPTX) ptx = nullptr;
  decltype(&nvrtcGetCUBINSize) cubin_size = nullptr;  // optional (CUDA >= 11.1)
  decltype(&nvrtcGetCUBIN) cubin = nullptr;
  decltype(&nvrtcDestroyProgram) destroy = nullptr;
  decltype(&nvrtcGetErrorString) error_string = nullptr;
  std::string load_error;  // non-empty when libnvrtc could not be loaded
};

std::string cuda_home() {
  for (const char* var : {"CUDA_HOME", "CUDA_PATH"})
    if (const char* v = std::getenv(var); v && *v) return v;
  return "/usr/local/cuda";
}

const NvrtcApi& nvrtc_api() {
  static const NvrtcApi api = [] {
    NvrtcApi a;
    void* lib = nullptr;
    std::string home = cuda_home();
    for (std::string name : {std::string("libnvrtc.so"), std::string("libnvrtc.so.13"), std::string("libnvrtc.so.12"),
                             home + "/lib64/libnvrtc.so", home + "/lib/libnvrtc.so"}) {
      lib = dlopen(name.c_str(), RTLD_NOW | RTLD_LOCAL);
      if (lib) break;
    }
    if (!lib) {
      a.load_error = "NVRTC not found (dlopen of libnvrtc.so failed, also tried " + home +
                     "/lib64); install the CUDA toolkit, or set CUDA_HOME or LD_LIBRARY_PATH to it";
      return a;
    }
    auto sym = [&](auto& fn, const char* name) {
      fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(dlsym(lib, name));
      if (!fn && a.load_error.empty()) a.load_error = std::string("NVRTC found but lacks ") + name;
    };
    sym(a.create, "nvrtcCreateProgram");
    sym(a.compile, "nvrtcCompileProgram");
    sym(a.log_size, "nvrtcGetProgramLogSize");
    sym(a.log, "nvrtcGetProgramLog");
    sym(a.ptx_size, "nvrtcGetPTXSize");
    sym(a.ptx, "nvrtcGetPTX");
    sym(a.destroy, "nvrtcDestroyProgram");
    sym(a.error_string, "nvrtcGetErrorString");
    a.cubin_size = reinterpret_cast<decltype(a.cubin_size)>(dlsym(lib, "nvrtcGetCUBINSize"));
    a.cubin = reinterpret_cast<decltype(a.cubin)>(dlsym(lib, "nvrtcGetCUBIN"));
    if (!a.cubin_size) a.cubin = nullptr;
    return a;
  }();
  return api;
}

// The source lines NVRTC's log points at ("kernel.cu(12): error: ..."), numbered, with one
// line of context each side.
std::string offending_lines(const std::string& source, const std::string& log) {
  std::vector<std::string> lines;
  std::istringstream in(source);
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  std::set<int> wanted;
  std::regex where(R"(\((\d+)\): (error|warning))");
  for (auto it = std::sregex_iterator(log.begin(), log.end(), where); it != std::sregex_iterator(); ++it) {
    int n = std::stoi((*it)[1]);
    for (int k = n - 1; k <= n + 1; ++k)
      if (k >= 1 && k <= int(lines.size())) wanted.insert(k);
  }
  std::string out;
  for (int k : wanted) out += detail::cat("  ", k, " | ", lines[k - 1], "\n");
  return out;
}

// The architecture's number and suffix: "sm_90a" → ("90a"); te::Error for a malformed one.
std::string arch_number(const std::string& arch, const char* who) {
  static const std::regex arch_form(R"((sm|compute)_(\d+[a-z]?))");
  std::smatch m;
  if (!std::regex_match(arch, m, arch_form))
    fail(who, ": bad architecture '", arch, "'; expected sm_<NN> such as sm_90 or sm_80 (or compute_<NN>)");
  return m[2].str();
}

struct CacheEntry {
  std::shared_future<std::string> result;
};
std::mutex cache_mutex;
std::unordered_map<std::string, CacheEntry> cache;  // key: output, options, source
std::atomic<size_t> compilations{0};

std::string compile_uncached(const std::string& source, const NvrtcOptions& options, NvrtcOutput output) {
  const NvrtcApi& api = nvrtc_api();
  if (!api.load_error.empty()) fail(api.load_error);
  if (output == NvrtcOutput::kCubin && !api.cubin)
    fail("NVRTC: this NVRTC lacks nvrtcGetCUBIN (CUDA < 11.1); use PTX (get_source(\"ptx\"))");
  std::vector<std::string> line = nvrtc_command_line(options, output);
  std::vector<const char*> argv;
  for (const std::string& s : line) argv.push_back(s.c_str());
  ++compilations;

  nvrtcProgram program = nullptr;
  nvrtcResult rc = api.create(&program, source.c_str(), "te_kernel.cu", 0, nullptr, nullptr);
  if (rc != NVRTC_SUCCESS) fail("NVRTC: nvrtcCreateProgram failed: ", api.error_string(rc));
  struct Destroy {
    const NvrtcApi& api;
    nvrtcProgram* p;
    ~Destroy() { api.destroy(p); }
  } destroy{api, &program};
  rc = api.compile(program, int(argv.size()), argv.data());
  size_t log_size = 0;
  api.log_size(program, &log_size);
  std::string log(log_size, '\0');
  if (log_size > 1) api.log(program, log.data());
  while (!log.empty() && (log.back() == '\0' || log.back() == '\n')) log.pop_back();
  if (rc != NVRTC_SUCCESS) {
    std::string flags;
    for (const std::string& s : line) flags += " " + s;
    fail("NVRTC could not compile the generated CUDA C for ", options.arch, " (", api.error_string(rc), ").\n",
         "Options:", flags, "\nOffending source lines:\n", offending_lines(source, log), "NVRTC log:\n", log);
  }
  size_t size = 0;
  bool cubin = output == NvrtcOutput::kCubin;
  rc = cubin ? api.cubin_size(program, &size) : api.ptx_size(program, &size);
  if (rc != NVRTC_SUCCESS) fail("NVRTC: getting the ", cubin ? "cubin" : "PTX", " size failed: ", api.error_string(rc));
  std::string image(size, '\0');
  rc = cubin ? api.cubin(program, image.data()) : api.ptx(program, image.data());
  if (rc != NVRTC_SUCCESS) fail("NVRTC: getting the ", cubin ? "cubin" : "PTX", " failed: ", api.error_string(rc));
  if (!cubin)
    while (!image.empty() && image.back() == '\0') image.pop_back();
  return image;
}

}  // namespace

std::string default_cuda_arch() {
  const char* v = std::getenv("TE_CUDA_ARCH");
  if (v && *v) return v;
  if (cuda_device_count() > 0) return cuda_device_info(0).arch();
  return "sm_90";
}

NvrtcOptions nvrtc_options(const Target& target) {
  NvrtcOptions o;
  o.arch = target.arch.empty() ? default_cuda_arch() : target.arch;
  o.fast_math = target.fast_math;
  o.flags = target.nvrtc_flags;
  return o;
}

std::vector<std::string> nvrtc_command_line(const NvrtcOptions& options, NvrtcOutput output) {
  std::string number = arch_number(options.arch, "NVRTC");
  if (output == NvrtcOutput::kCubin && options.arch.rfind("sm_", 0) != 0)
    fail("NVRTC: a cubin needs a real architecture (sm_", number, "), got '", options.arch,
         "'; build for target 'cuda -arch=sm_", number, "' or ask for PTX");
  // PTX is emitted for the virtual architecture (the driver JITs it for the device); a cubin
  // is machine code for exactly the real one.
  std::vector<std::string> line = {
      output == NvrtcOutput::kCubin ? "--gpu-architecture=sm_" + number : "--gpu-architecture=compute_" + number,
      "--include-path=" + cuda_home() + "/include", "--std=c++17"};
  if (options.fast_math) line.push_back("--use_fast_math");
  for (const std::string& f : options.flags) line.push_back(f);
  return line;
}

std::string nvrtc_compile(const std::string& source, const NvrtcOptions& options, NvrtcOutput output) {
  std::string key = std::to_string(int(output));
  for (const std::string& s : nvrtc_command_line(options, output)) key += "\x1f" + s;
  key += "\x1e" + source;
  std::promise<std::string> promise;
  std::shared_future<std::string> result;
  {
    std::lock_guard<std::mutex> lock(cache_mutex);
    auto it = cache.find(key);
    if (it != cache.end()) {
      result = it->second.result;
    } else {
      cache.emplace(key, CacheEntry{promise.get_future().share()});
    }
  }
  if (result.valid()) return result.get();  // compiled, or being compiled by another thread
  try {
    std::string image = compile_uncached(source, options, output);
    promise.set_value(image);
    return image;
  } catch (...) {
    promise.set_exception(std::current_exception());  // threads waiting on it rethrow it
    std::lock_guard<std::mutex> lock(cache_mutex);
    cache.erase(key);  // a later call tries again (and reports the error again)
    throw;
  }
}

size_t nvrtc_cache_entries() {
  std::lock_guard<std::mutex> lock(cache_mutex);
  return cache.size();
}
size_t nvrtc_compilations() { return compilations.load(); }

std::string compile_cuda_to_ptx(const std::string& source, const std::string& arch) {
  NvrtcOptions options;
  options.arch = arch;
  return nvrtc_compile(source, options, NvrtcOutput::kPtx);
}

}  // namespace te
