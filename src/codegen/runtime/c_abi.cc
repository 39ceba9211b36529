// The generated C wrapper of te's shared libraries (see c_abi.h). Each kernel gets
//   int32_t <name>(DLTensor** args, int32_t num_args);  const char* <name>_last_error(void);
// whose checks mirror Module::operator()'s (pack_arguments), so a wrong call returns an error
// code with a message instead of crashing. A constructor checks the CPU features the code
// was compiled for with CPUID/XGETBV before any kernel can run (the wrapper itself is built
// for the baseline ISA, so the check cannot die on an illegal instruction); a library built
// for a missing feature reports it through <prefix>_load_error() and every call returns -2.
#include "codegen/runtime/c_abi.h"

#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <unordered_map>

#include "te/runtime.h"

extern char** environ;

namespace te::c_abi {
namespace {

// CPUID location of an x86 feature: leaf, subleaf, register (0 eax, 1 ebx, 2 ecx, 3 edx),
// bit, and the XCR0 bits the OS must enable for its registers (AVX: 0x6, AVX-512: 0xe6,
// AMX tiles: 0x60000).
struct X86Feature {
  const char* name;
  unsigned leaf, subleaf;
  int reg, bit;
  unsigned xcr0;
};
constexpr unsigned kAvx = 0x6, kAvx512 = 0xe6, kAmx = 0x60000;
constexpr X86Feature kX86Features[] = {
    {"sse", 1, 0, 3, 25, 0}, {"sse2", 1, 0, 3, 26, 0}, {"sse3", 1, 0, 2, 0, 0}, {"pclmul", 1, 0, 2, 1, 0},
    {"ssse3", 1, 0, 2, 9, 0}, {"fma", 1, 0, 2, 12, kAvx}, {"cx16", 1, 0, 2, 13, 0}, {"sse4.1", 1, 0, 2, 19, 0},
    {"sse4.2", 1, 0, 2, 20, 0}, {"movbe", 1, 0, 2, 22, 0}, {"popcnt", 1, 0, 2, 23, 0}, {"aes", 1, 0, 2, 25, 0},
    {"xsave", 1, 0, 2, 26, 0}, {"avx", 1, 0, 2, 28, kAvx}, {"f16c", 1, 0, 2, 29, kAvx}, {"rdrnd", 1, 0, 2, 30, 0},
    {"fsgsbase", 7, 0, 1, 0, 0}, {"bmi", 7, 0, 1, 3, 0}, {"avx2", 7, 0, 1, 5, kAvx}, {"bmi2", 7, 0, 1, 8, 0},
    {"avx512f", 7, 0, 1, 16, kAvx512}, {"avx512dq", 7, 0, 1, 17, kAvx512}, {"rdseed", 7, 0, 1, 18, 0},
    {"adx", 7, 0, 1, 19, 0}, {"avx512ifma", 7, 0, 1, 21, kAvx512}, {"clflushopt", 7, 0, 1, 23, 0},
    {"clwb", 7, 0, 1, 24, 0}, {"avx512cd", 7, 0, 1, 28, kAvx512}, {"sha", 7, 0, 1, 29, 0},
    {"avx512bw", 7, 0, 1, 30, kAvx512}, {"avx512vl", 7, 0, 1, 31, kAvx512}, {"avx512vbmi", 7, 0, 2, 1, kAvx512},
    {"avx512vbmi2", 7, 0, 2, 6, kAvx512}, {"gfni", 7, 0, 2, 8, 0}, {"vaes", 7, 0, 2, 9, kAvx},
    {"vpclmulqdq", 7, 0, 2, 10, kAvx}, {"avx512vnni", 7, 0, 2, 11, kAvx512}, {"avx512bitalg", 7, 0, 2, 12, kAvx512},
    {"avx512vpopcntdq", 7, 0, 2, 14, kAvx512}, {"avx512vp2intersect", 7, 0, 3, 8, kAvx512},
    {"amx-bf16", 7, 0, 3, 22, kAmx}, {"avx512fp16", 7, 0, 3, 23, kAvx512}, {"amx-tile", 7, 0, 3, 24, kAmx},
    {"amx-int8", 7, 0, 3, 25, kAmx}, {"sha512", 7, 1, 0, 0, kAvx}, {"sm3", 7, 1, 0, 1, kAvx},
    {"sm4", 7, 1, 0, 2, kAvx}, {"avxvnni", 7, 1, 0, 4, kAvx}, {"avx512bf16", 7, 1, 0, 5, kAvx512},
    {"cmpccxadd", 7, 1, 0, 7, 0}, {"amx-fp16", 7, 1, 0, 21, kAmx}, {"avxifma", 7, 1, 0, 23, kAvx},
    {"avxvnniint8", 7, 1, 3, 4, kAvx}, {"avxneconvert", 7, 1, 3, 5, kAvx}, {"amx-complex", 7, 1, 3, 8, kAmx},
    {"avxvnniint16", 7, 1, 3, 10, kAvx}, {"prefetchi", 7, 1, 3, 14, 0}, {"usermsr", 7, 1, 3, 15, 0},
    {"lzcnt", 0x80000001u, 0, 2, 5, 0}, {"sse4a", 0x80000001u, 0, 2, 6, 0}, {"prfchw", 0x80000001u, 0, 2, 8, 0},
    {"xop", 0x80000001u, 0, 2, 11, kAvx}, {"fma4", 0x80000001u, 0, 2, 16, kAvx}, {"tbm", 0x80000001u, 0, 2, 21, 0},
};

// Argument checks, the last error and the CPU check, shared by every kernel of a library
// (static: one copy per library, so two te libraries in one process never share state).
const char* kRuntime = R"C(
#include <dlpack/dlpack.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#define TE_HIDDEN __attribute__((visibility("hidden")))
#define TE_API __attribute__((visibility("default")))

typedef struct { int is_var; int64_t value; } TeDim; /* constant, or index of a size variable */
typedef struct {
  const char* name; uint8_t code, bits; uint16_t lanes; int is_bool; int ndim;
  const TeDim* dims; const char* shape_text; const char* dtype_text;
} TeArgSpec;

static _Thread_local char te_error[1024];
static char te_load_error_text[2048];
static int te_cpu_ok = 1;

static void te_shape_text(const DLTensor* t, char* out, size_t cap) {
  size_t n = (size_t)snprintf(out, cap, "[");
  for (int d = 0; d < t->ndim && n < cap; ++d) n += (size_t)snprintf(out + n, cap - n, d ? ", %lld" : "%lld", (long long)t->shape[d]);
  if (n < cap) snprintf(out + n, cap - n, "]");
}

static int te_check_args(const char* kernel, const TeArgSpec* spec, int num_spec, const char* const* var_names,
                         DLTensor** args, int32_t num_args, void** buffers, int64_t* vars, int* bound_arg, int* bound_dim,
                         int device_type, int* device_id) {
  char got[512];
  if (!te_cpu_ok) {
    snprintf(te_error, sizeof te_error, "kernel %s: %s", kernel, te_load_error_text);
    return -2;
  }
  if (num_args != num_spec) {
    snprintf(te_error, sizeof te_error, "kernel %s: expected %d arguments, got %d", kernel, num_spec, (int)num_args);
    return -1;
  }
  if (num_spec > 0 && !args) {
    snprintf(te_error, sizeof te_error, "kernel %s: got a null argument array; expected %d DLTensor pointers", kernel, num_spec);
    return -1;
  }
  for (int i = 0; i < num_spec; ++i) {
    const DLTensor* t = args[i];
#define TE_FAIL(...) do { int n_ = snprintf(te_error, sizeof te_error, "argument %d (%s) of kernel %s: ", i, spec[i].name, kernel); \
    snprintf(te_error + n_, sizeof te_error - (size_t)n_, __VA_ARGS__); return -1; } while (0)
    if (!t) TE_FAIL("got a null DLTensor pointer");
    if (t->device.device_type != device_type)
      TE_FAIL("expected a %s array (device type %d), got device type %d", device_type == kDLCPU ? "CPU" : "CUDA", device_type, (int)t->device.device_type);
    if (i == 0) *device_id = t->device.device_id;
    else if (t->device.device_id != *device_id)
      TE_FAIL("is on device %d but argument 0 is on device %d; put every argument on one device", (int)t->device.device_id, *device_id);
    int dtype_ok = t->dtype.code == spec[i].code && t->dtype.bits == spec[i].bits && t->dtype.lanes == spec[i].lanes;
    if (spec[i].is_bool && t->dtype.bits == 8 && t->dtype.lanes == 1 && (t->dtype.code == 6 /* kDLBool in DLPack >= 0.8 */ || t->dtype.code == kDLUInt)) dtype_ok = 1;
    if (!dtype_ok) TE_FAIL("expected dtype %s, got DLDataType(code=%d, bits=%d, lanes=%d)", spec[i].dtype_text, (int)t->dtype.code, (int)t->dtype.bits, (int)t->dtype.lanes);
    if (t->ndim > 0 && !t->shape) TE_FAIL("the DLTensor has a null shape pointer");
    if (t->ndim != spec[i].ndim) { if (t->ndim >= 0 && t->ndim <= 64) te_shape_text(t, got, sizeof got); else snprintf(got, sizeof got, "?"); TE_FAIL("expected %d dimensions %s, got %d dimensions %s", spec[i].ndim, spec[i].shape_text, t->ndim, got); }
    int64_t numel = 1;
    for (int d = 0; d < t->ndim; ++d) {
      const TeDim* dim = &spec[i].dims[d];
      int64_t n = t->shape[d];
      if (n < 0) { te_shape_text(t, got, sizeof got); TE_FAIL("dimension %d has a negative size in shape %s", d, got); }
      numel = (n != 0 && numel > INT64_MAX / n) ? INT64_MAX : numel * n; /* saturates: no signed overflow */
      if (!dim->is_var) {
        if (dim->value != n) { te_shape_text(t, got, sizeof got); TE_FAIL("expected shape %s, got %s", spec[i].shape_text, got); }
      } else if (bound_arg[dim->value] < 0) {
        vars[dim->value] = n; bound_arg[dim->value] = i; bound_dim[dim->value] = d;
      } else if (vars[dim->value] != n) {
        int b = bound_arg[dim->value];
        te_shape_text(t, got, sizeof got);
        TE_FAIL("expected shape %s with %s = %lld (bound by argument %d (%s) dimension %d), got %s", spec[i].shape_text,
                var_names[dim->value], (long long)vars[dim->value], b, spec[b].name, bound_dim[dim->value], got);
      }
    }
    if (t->strides) {
      int64_t expected = 1;
      for (int d = t->ndim - 1; d >= 0; --d) {
        if (t->shape[d] != 1 && t->strides[d] != expected)
          TE_FAIL("expected a compact row-major array; dimension %d has stride %lld, expected %lld (make it contiguous first)", d, (long long)t->strides[d], (long long)expected);
        expected *= t->shape[d];
      }
    }
    {
      int symbolic = 0;
      for (int d = 0; d < t->ndim; ++d) symbolic |= spec[i].dims[d].is_var;
      /* kernels index arguments of symbolic shape with 32-bit arithmetic (see storage_flatten) */
      if (symbolic && numel > 2147483647) { te_shape_text(t, got, sizeof got); TE_FAIL("shape %s has %lld elements, more than the 2147483647 (2^31-1) that a kernel built for a symbolic shape addresses with 32-bit indices", got, (long long)numel); }
    }
    if (!t->data && numel > 0) TE_FAIL("got a null data pointer");
    buffers[i] = (char*)t->data + t->byte_offset;
    size_t elem = ((size_t)spec[i].bits * spec[i].lanes + 7) / 8;
    if (elem > 1 && ((uintptr_t)buffers[i] % (elem > 64 ? 64 : elem)) != 0)
      TE_FAIL("the data pointer (plus byte_offset) %p is not aligned to the %d-byte elements of %s", buffers[i], (int)elem, spec[i].dtype_text);
#undef TE_FAIL
  }
  return 0;
}

TE_HIDDEN void* te_runtime_alloc(int64_t nbytes) {
  size_t rounded = ((size_t)(nbytes > 0 ? nbytes : 1) + 63) / 64 * 64;
  return aligned_alloc(64, rounded);
}
TE_HIDDEN void te_runtime_free(void* p) { free(p); }
)C";

const char* kCpuCheckHead = R"C(
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
typedef struct { const char* name; unsigned leaf, subleaf; int reg, bit; unsigned xcr0; } TeCpuFeature;
)C";

const char* kCpuCheckBody = R"C(
static int te_cpu_has(const TeCpuFeature* f, unsigned long long xcr0, int osxsave) {
  unsigned r[4] = {0, 0, 0, 0};
  if (__get_cpuid_max(f->leaf & 0x80000000u, 0) < f->leaf) return 0;
  __cpuid_count(f->leaf, f->subleaf, r[0], r[1], r[2], r[3]);
  if (!((r[f->reg] >> f->bit) & 1u)) return 0;
  if (f->xcr0 && (!osxsave || (xcr0 & f->xcr0) != f->xcr0)) return 0; /* the OS does not save these registers */
  return 1;
}
__attribute__((constructor)) static void te_check_cpu(void) {
  unsigned a = 0, b = 0, c = 0, d = 0;
  unsigned long long xcr0 = 0;
  int osxsave = 0;
  if (__get_cpuid(1, &a, &b, &c, &d) && ((c >> 27) & 1u)) {
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    xcr0 = ((unsigned long long)hi << 32) | lo;
    osxsave = 1;
  }
  size_t n = 0;
  for (size_t i = 0; te_required_cpu[i].name; ++i) {
    if (te_cpu_has(&te_required_cpu[i], xcr0, osxsave)) continue;
    if (te_cpu_ok) n = (size_t)snprintf(te_load_error_text, sizeof te_load_error_text,
                                        "this library was built for CPU %s and needs CPU features this machine lacks:", TE_BUILT_FOR_CPU);
    te_cpu_ok = 0;
    if (n < sizeof te_load_error_text) n += (size_t)snprintf(te_load_error_text + n, sizeof te_load_error_text - n, " %s", te_required_cpu[i].name);
  }
  if (!te_cpu_ok && n < sizeof te_load_error_text)
    snprintf(te_load_error_text + n, sizeof te_load_error_text - n, "; export it again for this CPU (target \"llvm\") or a common one (e.g. \"llvm -mcpu=x86-64-v3\")");
}
#endif
)C";


const char* kCudaRuntime = R"C(
#include <dlfcn.h>
#include <pthread.h>
/* The CUDA driver API, opened with dlopen on the first call: the library links no CUDA library
   and loads on machines without one. Types are plain C stand-ins for cuda.h's. */
typedef int TeCuResult;
static struct {
  int ok;
  TeCuResult (*init)(unsigned);
  TeCuResult (*device_count)(int*);
  TeCuResult (*device_get)(int*, int);
  TeCuResult (*ctx_retain)(void**, int);
  TeCuResult (*ctx_push)(void*);
  TeCuResult (*ctx_pop)(void**);
  TeCuResult (*module_load)(void**, const void*);
  TeCuResult (*get_function)(void**, void*, const char*);
  TeCuResult (*func_set_attribute)(void*, int, int);
  TeCuResult (*launch)(void*, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned, unsigned, void*, void**, void**);
  TeCuResult (*synchronize)(void);
  TeCuResult (*error_string)(TeCuResult, const char**);
} te_cu;
static char te_cuda_why[512];
static pthread_once_t te_cuda_once = PTHREAD_ONCE_INIT;
static pthread_mutex_t te_cuda_mutex = PTHREAD_MUTEX_INITIALIZER;

static void te_cuda_load(void) {
  void* lib = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
  if (!lib) {
    const char* e = dlerror();
    snprintf(te_cuda_why, sizeof te_cuda_why, "no CUDA device: the CUDA driver (libcuda.so.1) cannot be loaded (%s)", e ? e : "?");
    return;
  }
#define TE_CU_SYM(field, name) do { *(void**)(&te_cu.field) = dlsym(lib, name); if (!te_cu.field) { \
    snprintf(te_cuda_why, sizeof te_cuda_why, "no CUDA device: the CUDA driver lacks %s (too old?)", name); return; } } while (0)
  TE_CU_SYM(init, "cuInit"); TE_CU_SYM(device_count, "cuDeviceGetCount"); TE_CU_SYM(device_get, "cuDeviceGet");
  TE_CU_SYM(ctx_retain, "cuDevicePrimaryCtxRetain"); TE_CU_SYM(ctx_push, "cuCtxPushCurrent_v2");
  TE_CU_SYM(ctx_pop, "cuCtxPopCurrent_v2"); TE_CU_SYM(module_load, "cuModuleLoadData");
  TE_CU_SYM(get_function, "cuModuleGetFunction"); TE_CU_SYM(launch, "cuLaunchKernel");
  TE_CU_SYM(func_set_attribute, "cuFuncSetAttribute");
  TE_CU_SYM(synchronize, "cuCtxSynchronize"); TE_CU_SYM(error_string, "cuGetErrorString");
#undef TE_CU_SYM
  int count = 0;
  TeCuResult rc = te_cu.init(0);
  if (rc == 0) rc = te_cu.device_count(&count);
  if (rc != 0 || count == 0) {
    snprintf(te_cuda_why, sizeof te_cuda_why, "no CUDA device: the driver reports none (status %d)", (int)rc);
    return;
  }
  te_cu.ok = 1;
}

static const char* te_cu_text(TeCuResult rc) {
  const char* s = 0;
  if (te_cu.error_string) te_cu.error_string(rc, &s);
  return s ? s : "unknown CUDA error";
}

/* The function of a kernel on a device (its module loaded once per device, with the opt-in to
   `shared` bytes of dynamic shared memory when it has any), with the device's primary context
   pushed; the caller pops it. */
static int32_t te_cuda_enter(const char* kernel, const char* ptx, const char* entry, int device, int shared,
                             void** cache, void** fn) {
  pthread_once(&te_cuda_once, te_cuda_load);
  if (!te_cu.ok) { snprintf(te_error, sizeof te_error, "kernel %s: %s", kernel, te_cuda_why); return -4; }
  /* The primary context of each device, retained once for the life of the process. */
  static void* contexts[64];
  int dev = 0, found = 0;
  void* ctx = 0;
  pthread_mutex_lock(&te_cuda_mutex);
  if (device >= 0 && device < 64) {
    if (!contexts[device] && te_cu.device_get(&dev, device) == 0) te_cu.ctx_retain(&contexts[device], dev);
    ctx = contexts[device];
    found = ctx != 0;
  }
  pthread_mutex_unlock(&te_cuda_mutex);
  if (!found) {
    snprintf(te_error, sizeof te_error, "kernel %s: no CUDA device %d on this machine", kernel, device);
    return -4;
  }
  TeCuResult rc = te_cu.ctx_push(ctx);
  if (rc != 0) { snprintf(te_error, sizeof te_error, "kernel %s: cuCtxPushCurrent failed: %s", kernel, te_cu_text(rc)); return -3; }
  pthread_mutex_lock(&te_cuda_mutex);
  if (!cache[device]) {
    void* module = 0;
    void* function = 0;
    rc = te_cu.module_load(&module, ptx);
    if (rc == 0) rc = te_cu.get_function(&function, module, entry);
    /* 8: CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES (checked against cuda.h in cuda_driver.cc) */
    if (rc == 0 && shared > 0) rc = te_cu.func_set_attribute(function, 8, shared);
    if (rc == 0) cache[device] = function;
  }
  *fn = cache[device];
  pthread_mutex_unlock(&te_cuda_mutex);
  if (rc != 0) {
    void* popped;
    te_cu.ctx_pop(&popped);
    snprintf(te_error, sizeof te_error, "kernel %s: loading its PTX on device %d (%d bytes of dynamic shared memory) failed: %s",
             kernel, device, shared, te_cu_text(rc));
    return -3;
  }
  return 0;
}
static int64_t te_floordiv(int64_t a, int64_t b) { int64_t q = a / b; return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q; }
static int64_t te_floormod(int64_t a, int64_t b) { return a - te_floordiv(a, b) * b; }
static int64_t te_min(int64_t a, int64_t b) { return a < b ? a : b; }
static int64_t te_max(int64_t a, int64_t b) { return a > b ? a : b; }
)C";

const char* kParallel = R"C(
#include <omp.h>
typedef int32_t (*TeParallelBody)(int64_t, int64_t, void*);
TE_HIDDEN int32_t te_parallel_for(TeParallelBody body, void* closure, int64_t extent, int32_t num_threads) {
  if (extent <= 0) return 0;
  int threads = num_threads;
  if (threads <= 0) {
    const char* env = getenv("TE_NUM_THREADS");
    threads = env ? atoi(env) : 0;
    if (threads <= 0) threads = omp_get_max_threads();
  }
  if (threads > extent) threads = (int)extent;
  if (threads <= 1 || omp_in_parallel()) return body(0, extent, closure);
  int32_t status = 0;
#pragma omp parallel num_threads(threads)
  {
    int n = omp_get_num_threads(), i = omp_get_thread_num();
    int64_t begin = extent * i / n, end = extent * (i + 1) / n;
    if (begin < end) {
      int32_t rc = body(begin, end, closure);
      if (rc != 0) {
#pragma omp atomic write
        status = rc;
      }
    }
  }
  return status;
}
)C";

std::string shape_text(const std::vector<Expr>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    const int64_t* c = as_const_int(shape[i]);  // "7", not the printer's "7i64"
    s += (i ? ", " : "") + (c ? std::to_string(*c) : to_string(shape[i]));
  }
  return s + "]";
}

void write_file(const std::string& path, const std::string& bytes, const char* what) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) fail(what, ": cannot open '", path, "' for writing");
  out.write(bytes.data(), std::streamsize(bytes.size()));
  if (!out) fail(what, ": writing '", path, "' failed");
}


// A C expression over vars[] for an integer expression of size variables (grid extents).
std::string c_int_expr(const Expr& e, const std::unordered_map<const VarNode*, int>& var_index, const std::string& kernel) {
  auto sub = [&](const Expr& x) { return c_int_expr(x, var_index, kernel); };
  if (const int64_t* c = as_const_int(e)) return "(int64_t)" + std::to_string(*c) + "LL";
  if (const VarNode* v = e.as<VarNode>()) {
    auto it = var_index.find(v);
    if (it == var_index.end()) fail("export: the grid of CUDA kernel ", kernel, " uses ", v->name, ", not a size variable");
    return "vars[" + std::to_string(it->second) + "]";
  }
  if (const auto* n = e.as<AddNode>()) return "(" + sub(n->a) + " + " + sub(n->b) + ")";
  if (const auto* n = e.as<SubNode>()) return "(" + sub(n->a) + " - " + sub(n->b) + ")";
  if (const auto* n = e.as<MulNode>()) return "(" + sub(n->a) + " * " + sub(n->b) + ")";
  if (const auto* n = e.as<DivNode>()) return "(" + sub(n->a) + " / " + sub(n->b) + ")";
  if (const auto* n = e.as<ModNode>()) return "(" + sub(n->a) + " % " + sub(n->b) + ")";
  if (const auto* n = e.as<FloorDivNode>()) return "te_floordiv(" + sub(n->a) + ", " + sub(n->b) + ")";
  if (const auto* n = e.as<FloorModNode>()) return "te_floormod(" + sub(n->a) + ", " + sub(n->b) + ")";
  if (const auto* n = e.as<MinNode>()) return "te_min(" + sub(n->a) + ", " + sub(n->b) + ")";
  if (const auto* n = e.as<MaxNode>()) return "te_max(" + sub(n->a) + ", " + sub(n->b) + ")";
  if (const auto* n = e.as<CastNode>()) return sub(n->value);
  fail("export: the grid extent ", to_string(e), " of CUDA kernel ", kernel,
       " is not an integer expression of size variables that the C wrapper can evaluate");
}

// The launch part of a CUDA kernel's entry (buffers[] and vars[] are checked and filled).
std::string cuda_launch(const Kernel& k, const std::unordered_map<const VarNode*, int>& var_index) {
  const LoweredFunc& func = k.func;
  const std::string& name = func.name;
  std::ostringstream os;
  os << "  int64_t grid[3] = {";
  for (int d = 0; d < 3; ++d) os << (d ? ", " : "") << c_int_expr(k.grid[d], var_index, name);
  os << "};\n  if (grid[0] <= 0 || grid[1] <= 0 || grid[2] <= 0) return 0; /* empty: nothing to launch */\n"
     << "  void* fn = 0;\n  rc = te_cuda_enter(" << c_string(name) << ", " << name << "_ptx, " << c_string(k.cuda_entry)
     << ", device_id, " << k.dynamic_shared_bytes << ", " << name << "_functions, &fn);\n  if (rc != 0) return rc;\n";
  // Kernel parameters: one pointer per buffer, then each size variable as int or long long.
  for (size_t v = 0; v < func.size_vars.size(); ++v)
    os << "  " << (func.size_vars[v].dtype().bits == 64 ? "int64_t" : "int32_t") << " p" << v << " = ("
       << (func.size_vars[v].dtype().bits == 64 ? "int64_t" : "int32_t") << ")vars[" << v << "];\n";
  os << "  void* params[] = {";
  for (size_t i = 0; i < func.args.size(); ++i) os << "&buffers[" << i << "], ";
  for (size_t v = 0; v < func.size_vars.size(); ++v) os << "&p" << v << ", ";
  os << "0};\n"
     << "  TeCuResult cu = te_cu.launch(fn, (unsigned)grid[0], (unsigned)grid[1], (unsigned)grid[2], " << k.block[0]
     << "u, " << k.block[1] << "u, " << k.block[2] << "u, " << k.dynamic_shared_bytes << "u, 0, params, 0);\n"
     << "  if (cu == 0) cu = te_cu.synchronize(); /* errors are reported by this call, not a later one */\n"
     << "  void* popped;\n  te_cu.ctx_pop(&popped);\n"
     << "  if (cu != 0) {\n    snprintf(te_error, sizeof te_error, \"kernel %s: the CUDA launch failed: %s\", "
     << c_string(name) << ", te_cu_text(cu));\n    return -3;\n  }\n  return 0;\n}\n";
  return os.str();
}

std::string kernel_wrapper(const Kernel& k) {
  const LoweredFunc& func = k.func;
  const std::string& name = func.name;
  std::unordered_map<const VarNode*, int> var_index;
  for (size_t i = 0; i < func.size_vars.size(); ++i) var_index[func.size_vars[i].get()] = int(i);
  std::vector<bool> var_bound(func.size_vars.size(), false);
  std::ostringstream os;
  os << "\n/* kernel " << name << " */\n";
  if (k.is_cuda()) {
    os << "static const char " << name << "_ptx[] =\n" << c_string(k.ptx) << ";\nstatic void* " << name
       << "_functions[64];\n";
  } else {
    os << "int32_t " << name << "_kernel(void** buffers, const int64_t* size_vars);\n";
  }
  for (size_t i = 0; i < func.args.size(); ++i) {
    const BufferArg& a = func.args[i];
    os << "static const TeDim " << name << "_dims_" << i << "[] = {";
    for (const Expr& d : a.shape) {
      if (const int64_t* c = as_const_int(d)) {
        os << "{0, " << *c << "LL}, ";
      } else if (const VarNode* v = d.as<VarNode>(); v && var_index.count(v)) {
        os << "{1, " << var_index[v] << "}, ";
        var_bound[var_index[v]] = true;
      } else {
        fail("export: dimension ", to_string(d), " of argument ", i, " (", a.name, ") of kernel ", name,
             " is an expression; the C wrapper checks constant and plain symbolic dimensions only");
      }
    }
    os << "{0, 0}};\n";
  }
  for (size_t v = 0; v < func.size_vars.size(); ++v)
    if (!var_bound[v])
      fail("export: size variable ", func.size_vars[v].name(), " of kernel ", name, " is not a dimension of any argument");
  os << "static const TeArgSpec " << name << "_spec[] = {\n";
  for (size_t i = 0; i < func.args.size(); ++i) {
    const BufferArg& a = func.args[i];
    DLDataType t = to_dlpack(a.dtype);
    os << "  {" << c_string(a.name) << ", " << int(t.code) << ", " << int(t.bits) << ", " << t.lanes << ", "
       << (a.dtype.is_bool() ? 1 : 0) << ", " << a.shape.size() << ", " << name << "_dims_" << i << ", "
       << c_string(shape_text(a.shape)) << ", " << c_string(a.dtype.str()) << "},\n";
  }
  os << "  {0}};\n";
  os << "static const char* const " << name << "_var_names[] = {";
  for (const Var& v : func.size_vars) os << c_string(v.name()) << ", ";
  os << "0};\n";
  size_t nargs = func.args.size(), nvars = func.size_vars.size();
  os << "TE_API const char* " << name << "_last_error(void) { return te_error; }\n"
     << "TE_API int32_t " << name << "(DLTensor** args, int32_t num_args) {\n"
     << "  void* buffers[" << nargs + 1 << "];\n"
     << "  int64_t vars[" << nvars + 1 << "];\n"
     << "  int bound_arg[" << nvars + 1 << "], bound_dim[" << nvars + 1 << "];\n"
     << "  for (int k = 0; k < " << nvars + 1 << "; ++k) { bound_arg[k] = -1; bound_dim[k] = -1; vars[k] = 0; }\n"
     << "  int device_id = 0;\n"
     << "  te_error[0] = 0;\n"
     << "  int32_t rc = te_check_args(" << c_string(name) << ", " << name << "_spec, " << nargs << ", " << name
     << "_var_names, args, num_args, buffers, vars, bound_arg, bound_dim, " << (k.is_cuda() ? "kDLCUDA" : "kDLCPU")
     << ", &device_id);\n"
     << "  if (rc != 0) return rc;\n"
     << "  (void)device_id;\n";
  if (k.is_cuda()) {
    os << cuda_launch(k, var_index);
    return os.str();
  }
  os
     << "  rc = " << name << "_kernel(buffers, vars);\n"
     << "  if (rc != 0) {\n"
     << "    snprintf(te_error, sizeof te_error, \"kernel %s failed (status %d): a heap allocation inside the kernel "
        "failed\", "
     << c_string(name) << ", (int)rc);\n"
     << "    return -3;\n  }\n"
     << "  return 0;\n}\n";
  return os.str();
}

// Runs argv[0] (found on PATH) with argv; returns its exit status, output captured in log.
int run_program(const std::vector<std::string>& argv, const std::string& log_path) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid;
  int err = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (err != 0) return -1;
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    if (errno != EINTR) return -1;
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

}  // namespace

const std::vector<std::string>& checkable_x86_features() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (const X86Feature& f : kX86Features) out.push_back(f.name);
    return out;
  }();
  return names;
}

void check_symbol_name(const std::string& name, const char* what) {
  bool ok = !name.empty() && !(name[0] >= '0' && name[0] <= '9');
  for (char c : name) ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '_');
  if (!ok)
    fail(what, ": kernel name '", name, "' cannot be a C symbol; expected letters, digits and '_' only, ",
         "not starting with a digit");
}

std::string c_string(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    unsigned char u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n\"\n\"";  // one source line per manifest line
    } else if (std::isprint(u)) {
      out += c;
    } else {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\%03o", u);
      out += buf;
    }
  }
  return out + "\"";
}

std::vector<std::string> api_symbols(const Library& lib) {
  std::vector<std::string> out;
  if (!lib.prefix.empty())
    for (const char* s : {"_load_error", "_last_error", "_manifest"}) out.push_back(lib.prefix + s);
  for (const Kernel& k : lib.kernels) {
    out.push_back(k.func.name);
    out.push_back(k.func.name + "_last_error");
  }
  return out;
}

std::string library_source(const Library& lib) {
  if (!lib.prefix.empty()) check_symbol_name(lib.prefix, "export_library (library prefix)");
  bool has_parallel = false;
  for (const Kernel& k : lib.kernels) {
    check_symbol_name(k.func.name, "export_library");
    has_parallel = has_parallel || k.has_parallel;
  }
  std::set<std::string> seen;
  for (const std::string& s : api_symbols(lib))
    if (!seen.insert(s).second)
      fail("export_library: the symbol ", s, " would be defined twice; give every kernel a distinct name (and ",
           "none named like the library's own functions <prefix>_load_error/_last_error/_manifest)");
  std::ostringstream os;
  os << "/* generated by te " << TE_VERSION << ": the C wrapper of a kernel library */\n" << kRuntime;
  os << kCpuCheckHead << "#define TE_BUILT_FOR_CPU " << c_string(lib.cpu_name.empty() ? "(host)" : lib.cpu_name)
     << "\nstatic const TeCpuFeature te_required_cpu[] = {\n";
  for (const std::string& name : lib.cpu_features) {
    const X86Feature* f = nullptr;
    for (const X86Feature& k : kX86Features) f = name == k.name ? &k : f;
    TE_ICHECK(f, "export_library: no CPUID entry for feature ", name, " (filter with checkable_x86_features)");
    os << "  {" << c_string(f->name) << ", " << f->leaf << "u, " << f->subleaf << "u, " << f->reg << ", " << f->bit
       << ", " << f->xcr0 << "u},\n";
  }
  os << "  {0, 0, 0, 0, 0, 0}};\n" << kCpuCheckBody;
  if (has_parallel) os << kParallel;
  bool has_cuda = false;
  for (const Kernel& k : lib.kernels) has_cuda = has_cuda || k.is_cuda();
  if (has_cuda) os << kCudaRuntime;
  for (const Kernel& k : lib.kernels) os << kernel_wrapper(k);
  if (!lib.prefix.empty()) {
    os << "\nTE_API const char* " << lib.prefix << "_load_error(void) { return te_cpu_ok ? 0 : te_load_error_text; }\n"
       << "TE_API const char* " << lib.prefix << "_last_error(void) { return te_error; }\n"
       << "static const char te_manifest_text[] =\n" << c_string(lib.manifest_json) << ";\n"
       << "TE_API const char* " << lib.prefix << "_manifest(void) { return te_manifest_text; }\n";
  }
  return os.str();
}

void link_library(const Library& lib, const std::string& path, const char* what) {
  std::string source = library_source(lib);
  std::string dir_template = (std::filesystem::temp_directory_path() / "te_export_XXXXXX").string();
  if (!mkdtemp(dir_template.data())) fail(what, ": cannot create a temporary directory");
  std::filesystem::path dir(dir_template);
  struct Cleanup {
    std::filesystem::path dir;
    ~Cleanup() {
      std::error_code ignored;
      std::filesystem::remove_all(dir, ignored);
    }
  } cleanup{dir};
  bool has_parallel = false;
  std::vector<std::string> objects;
  for (size_t i = 0; i < lib.kernels.size(); ++i) {
    if (lib.kernels[i].is_cuda()) continue;  // its PTX is in the wrapper
    objects.push_back((dir / ("kernel_" + std::to_string(i) + ".o")).string());
    write_file(objects.back(), lib.kernels[i].object, what);
    has_parallel = has_parallel || lib.kernels[i].has_parallel;
  }
  write_file((dir / "wrapper.c").string(), source, what);
  std::vector<std::string> argv{"cc", "-shared", "-fPIC", "-O2", "-std=gnu11", "-fvisibility=hidden"};
  if (has_parallel) {
    argv.push_back("-fopenmp");
    // libgomp keeps worker threads alive after a parallel region; if a dlclose() of this
    // library unloaded libgomp under them they would crash. nodelete keeps it (and so
    // libgomp) mapped for the life of the process.
    argv.push_back("-Wl,-z,nodelete");
  }
  if (lib.export_only_api) {
    // Only the API is visible: the kernels' internal symbols (<name>_kernel, parallel
    // bodies) cannot clash with another library's or the program's.
    std::string script = "{\n  global:\n";
    for (const std::string& s : api_symbols(lib)) script += "    " + s + ";\n";
    script += "  local: *;\n};\n";
    write_file((dir / "exports.map").string(), script, what);
    argv.push_back("-Wl,--version-script=" + (dir / "exports.map").string());
  }
  argv.insert(argv.end(), {"-o", path, (dir / "wrapper.c").string()});
  argv.insert(argv.end(), objects.begin(), objects.end());
  argv.push_back("-lm");
  std::string log_path = (dir / "cc.log").string();
  int rc = run_program(argv, log_path);
  if (rc != 0) {
    std::ifstream in(log_path);
    std::stringstream ss;
    ss << in.rdbuf();
    fail(what, ": linking '", path, "' with the system C compiler (cc) failed", rc < 0 ? " to start" : "", ":\n",
         ss.str());
  }
}

}  // namespace te::c_abi
