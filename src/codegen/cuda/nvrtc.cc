// NVRTC wrapper: CUDA C → PTX. libnvrtc is loaded with dlopen on first use (never linked), so
// libte builds and runs on machines without the CUDA toolkit; nvrtc.h supplies types only.
#include <dlfcn.h>
#include <nvrtc.h>

#include <cstdlib>
#include <mutex>
#include <regex>
#include <set>
#include <sstream>
#include <unordered_map>

#include "codegen/cuda/codegen_cuda.h"

namespace te {
namespace {

struct NvrtcApi {
  decltype(&nvrtcCreateProgram) create = nullptr;
  decltype(&nvrtcCompileProgram) compile = nullptr;
  decltype(&nvrtcGetProgramLogSize) log_size = nullptr;
  decltype(&nvrtcGetProgramLog) log = nullptr;
  decltype(&nvrtcGetPTXSize) ptx_size = nullptr;
  decltype(&nvrtcGetPTX) ptx = nullptr;
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

}  // namespace

std::string default_cuda_arch() {
  const char* v = std::getenv("TE_CUDA_ARCH");
  return v && *v ? v : "sm_90";
}

std::string compile_cuda_to_ptx(const std::string& source, const std::string& arch) {
  std::regex arch_form(R"((sm|compute)_(\d+)[a-z]?)");
  std::smatch m;
  if (!std::regex_match(arch, m, arch_form))
    fail("compile_cuda_to_ptx: bad architecture '", arch, "'; expected sm_<NN> such as sm_90 or sm_80");
  const NvrtcApi& api = nvrtc_api();
  if (!api.load_error.empty()) fail(api.load_error);

  static std::mutex cache_mutex;
  static std::unordered_map<std::string, std::string> cache;  // (arch, source) → PTX
  std::string key = arch + "\n" + source;
  {
    std::lock_guard<std::mutex> lock(cache_mutex);
    if (auto it = cache.find(key); it != cache.end()) return it->second;
  }
  // PTX is emitted for the virtual architecture (the driver JITs it for the device).
  std::string arch_option = "--gpu-architecture=compute_" + m[2].str();
  std::string include_option = "--include-path=" + cuda_home() + "/include";
  std::vector<const char*> options = {arch_option.c_str(), include_option.c_str(), "--std=c++17"};

  nvrtcProgram program = nullptr;
  nvrtcResult rc = api.create(&program, source.c_str(), "te_kernel.cu", 0, nullptr, nullptr);
  if (rc != NVRTC_SUCCESS) fail("NVRTC: nvrtcCreateProgram failed: ", api.error_string(rc));
  struct Destroy {
    const NvrtcApi& api;
    nvrtcProgram* p;
    ~Destroy() { api.destroy(p); }
  } destroy{api, &program};
  rc = api.compile(program, int(options.size()), options.data());
  size_t log_size = 0;
  api.log_size(program, &log_size);
  std::string log(log_size, '\0');
  if (log_size > 1) api.log(program, log.data());
  while (!log.empty() && (log.back() == '\0' || log.back() == '\n')) log.pop_back();
  if (rc != NVRTC_SUCCESS)
    fail("NVRTC could not compile the generated CUDA C for ", arch, " (", api.error_string(rc), ").\n",
         "Offending source lines:\n", offending_lines(source, log), "NVRTC log:\n", log);
  size_t ptx_size = 0;
  rc = api.ptx_size(program, &ptx_size);
  if (rc != NVRTC_SUCCESS) fail("NVRTC: nvrtcGetPTXSize failed: ", api.error_string(rc));
  std::string ptx(ptx_size, '\0');
  rc = api.ptx(program, ptx.data());
  if (rc != NVRTC_SUCCESS) fail("NVRTC: nvrtcGetPTX failed: ", api.error_string(rc));
  while (!ptx.empty() && ptx.back() == '\0') ptx.pop_back();
  std::lock_guard<std::mutex> lock(cache_mutex);
  cache.emplace(std::move(key), ptx);
  return ptx;
}

}  // namespace te
