// src/codegen/runtime/c_abi.h — the stable C ABI of te's ahead-of-time shared libraries:
// the generated C that wraps compiled kernel objects (DLPack argument checks, thread-local
// last error, the CPU-feature check run when the library is loaded, te_parallel_for on
// OpenMP, te_runtime_alloc/free), and linking it with the system C compiler. No LLVM here:
// the backend hands over object code; src/export adds the header and the manifest.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "te/lower.h"

namespace te::c_abi {

// Status codes every exported kernel returns (also #defined in the generated header).
constexpr int32_t kOk = 0;
constexpr int32_t kErrorArgument = -1;  // wrong count, null, device, dtype, ndim, shape, strides, alignment
constexpr int32_t kErrorCpu = -2;       // the running CPU lacks a feature the library was built for
constexpr int32_t kErrorKernel = -3;    // the kernel failed while running (allocation, CUDA launch)
constexpr int32_t kErrorDevice = -4;    // no CUDA device (no driver, or none on this machine)

struct Kernel {
  LoweredFunc func;
  std::string object;         // relocatable, position-independent object code defining <name>_kernel
  bool has_parallel = false;  // calls te_parallel_for
  // A CUDA kernel instead (object empty): PTX embedded in the library, loaded and launched
  // through the driver API (libcuda.so.1 opened with dlopen on the first call), arguments on
  // one CUDA device. Grid extents are expressions of func.size_vars.
  std::string ptx, cuda_entry;
  Expr grid[3];
  int64_t block[3] = {1, 1, 1};
  // Bytes of dynamic (`extern __shared__`) memory: the launcher opts in once per device
  // (CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES) and passes them to every launch.
  int64_t dynamic_shared_bytes = 0;
  bool is_cuda() const { return !ptx.empty(); }
  static Kernel cpu(LoweredFunc func, std::string object, bool has_parallel) {
    Kernel k;
    k.func = std::move(func);
    k.object = std::move(object);
    k.has_parallel = has_parallel;
    return k;
  }
};

struct Library {
  // Library-level symbols: <prefix>_load_error, <prefix>_last_error, <prefix>_manifest.
  // Empty: none (the single-kernel Module::export_shared_library).
  std::string prefix;
  std::vector<Kernel> kernels;
  // x86 features (LLVM names) the code was compiled for; checked by a constructor when the
  // library is loaded. Names without a known CPUID bit are left out by the caller
  // (checkable_x86_features()).
  std::vector<std::string> cpu_features;
  std::string cpu_name;       // the -mcpu it was built for, named in the refusal message
  std::string manifest_json;  // embedded, returned by <prefix>_manifest()
  bool export_only_api = false;  // hide every symbol but the API (a linker version script)
};

// The names of the x86 features the generated load-time check knows the CPUID bit of.
const std::vector<std::string>& checkable_x86_features();
// The symbols a library exports (kernel entries, their _last_error, the prefix's functions).
std::vector<std::string> api_symbols(const Library& lib);
// The generated C source of the wrapper. te::Error for a kernel name that is no C identifier,
// a symbolic dimension that is an expression, or clashing symbols.
std::string library_source(const Library& lib);
// Writes the objects and the wrapper to a temporary directory and links `path` with cc.
// `what` prefixes error messages (e.g. "export_library").
void link_library(const Library& lib, const std::string& path, const char* what);

// te::Error unless name is a C identifier.
void check_symbol_name(const std::string& name, const char* what);
// A C string literal holding s (escapes quotes, backslashes and control characters).
std::string c_string(const std::string& s);

}  // namespace te::c_abi
