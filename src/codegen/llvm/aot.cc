// Ahead-of-time outputs of the LLVM backend: an object file with <name>_kernel, and a
// shared library that adds a generated C wrapper with the DLPack entry point
//   int32_t <name>(DLTensor** args, int32_t num_args);  const char* <name>_last_error(void);
// The wrapper repeats Module::operator()'s checks. Parallel loops in the library run on
// OpenMP (the wrapper defines te_parallel_for with `#pragma omp parallel`, built with
// -fopenmp), so the library needs libgomp but never libte. The system C compiler links it,
// started with posix_spawnp and an argument vector (no shell).
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <llvm/IR/LLVMContext.h>
#include <llvm/IRReader/IRReader.h>
#include <llvm/Support/SourceMgr.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <unordered_map>

#include "codegen/llvm/llvm_module_node.h"

extern char** environ;

namespace te::llvm_backend {
namespace {

void check_symbol_name(const std::string& name, const char* what) {
  bool ok = !name.empty() && !(name[0] >= '0' && name[0] <= '9');
  for (char c : name) ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '_');
  if (!ok)
    fail(what, ": kernel name '", name, "' cannot be a C symbol; expected letters, digits and '_' only, ",
         "not starting with a digit");
}

void write_file(const std::string& path, const std::string& bytes, const char* what) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) fail(what, ": cannot open '", path, "' for writing");
  out.write(bytes.data(), std::streamsize(bytes.size()));
  if (!out) fail(what, ": writing '", path, "' failed");
}

// A C string literal holding s.
std::string c_string(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    if (std::isprint(static_cast<unsigned char>(c))) out += c;
    else out += '?';
  }
  return out + "\"";
}

// Generic argument checks, shared by every generated wrapper (static: one copy per library).
const char* kWrapperRuntime = R"C(
#include <dlpack/dlpack.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#define TE_HIDDEN __attribute__((visibility("hidden")))

typedef struct { int is_var; int64_t value; } TeDim; /* constant, or index of a size variable */
typedef struct {
  const char* name; uint8_t code, bits; uint16_t lanes; int is_bool; int ndim;
  const TeDim* dims; const char* shape_text; const char* dtype_text;
} TeArgSpec;

static _Thread_local char te_error[1024];

static void te_shape_text(const DLTensor* t, char* out, size_t cap) {
  size_t n = (size_t)snprintf(out, cap, "[");
  for (int d = 0; d < t->ndim && n < cap; ++d) n += (size_t)snprintf(out + n, cap - n, d ? ", %lld" : "%lld", (long long)t->shape[d]);
  if (n < cap) snprintf(out + n, cap - n, "]");
}

static int te_check_args(const char* kernel, const TeArgSpec* spec, int num_spec, const char* const* var_names,
                         DLTensor** args, int32_t num_args, void** buffers, int64_t* vars, int* bound_arg, int* bound_dim) {
  char got[512];
  if (num_args != num_spec) {
    snprintf(te_error, sizeof te_error, "kernel %s: expected %d arguments, got %d", kernel, num_spec, (int)num_args);
    return -1;
  }
  for (int i = 0; i < num_spec; ++i) {
    const DLTensor* t = args ? args[i] : NULL;
#define TE_FAIL(...) do { int n_ = snprintf(te_error, sizeof te_error, "argument %d (%s) of kernel %s: ", i, spec[i].name, kernel); \
    snprintf(te_error + n_, sizeof te_error - (size_t)n_, __VA_ARGS__); return -1; } while (0)
    if (!t) TE_FAIL("got a null DLTensor pointer");
    if (t->device.device_type != kDLCPU) TE_FAIL("expected a CPU array (device type %d), got device type %d", (int)kDLCPU, (int)t->device.device_type);
    int dtype_ok = t->dtype.code == spec[i].code && t->dtype.bits == spec[i].bits && t->dtype.lanes == spec[i].lanes;
    if (spec[i].is_bool && t->dtype.bits == 8 && t->dtype.lanes == 1 && (t->dtype.code == 6 /* kDLBool in DLPack >= 0.8 */ || t->dtype.code == kDLUInt)) dtype_ok = 1;
    if (!dtype_ok) TE_FAIL("expected dtype %s, got DLDataType(code=%d, bits=%d, lanes=%d)", spec[i].dtype_text, (int)t->dtype.code, (int)t->dtype.bits, (int)t->dtype.lanes);
    if (t->ndim > 0 && !t->shape) TE_FAIL("the DLTensor has a null shape pointer");
    if (t->ndim != spec[i].ndim) { te_shape_text(t, got, sizeof got); TE_FAIL("expected %d dimensions %s, got %d dimensions %s", spec[i].ndim, spec[i].shape_text, t->ndim, got); }
    int64_t numel = 1;
    for (int d = 0; d < t->ndim; ++d) {
      const TeDim* dim = &spec[i].dims[d];
      int64_t n = t->shape[d];
      numel *= n;
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
          TE_FAIL("expected a compact row-major array; dimension %d has stride %lld, expected %lld", d, (long long)t->strides[d], (long long)expected);
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

const char* kWrapperParallel = R"C(
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
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + to_string(shape[i]);
  return s + "]";
}

std::string wrapper_source(const LoweredFunc& func, bool has_parallel) {
  const std::string& name = func.name;
  std::unordered_map<const VarNode*, int> var_index;
  for (size_t i = 0; i < func.size_vars.size(); ++i) var_index[func.size_vars[i].get()] = int(i);
  std::vector<bool> var_bound(func.size_vars.size(), false);
  std::ostringstream os;
  os << "/* generated by te for kernel " << name << " */\n" << kWrapperRuntime;
  if (has_parallel) os << kWrapperParallel;
  os << "\nint32_t " << name << "_kernel(void** buffers, const int64_t* size_vars);\n";
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
        fail("export_shared_library: dimension ", to_string(d), " of argument ", i, " (", a.name, ") of kernel ", name,
             " is an expression; the C wrapper checks constant and plain symbolic dimensions only");
      }
    }
    os << "{0, 0}};\n";
  }
  for (size_t k = 0; k < func.size_vars.size(); ++k)
    if (!var_bound[k])
      fail("export_shared_library: size variable ", func.size_vars[k].name(), " of kernel ", name,
           " is not a dimension of any argument");
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
  os << "const char* " << name << "_last_error(void) { return te_error; }\n"
     << "int32_t " << name << "(DLTensor** args, int32_t num_args) {\n"
     << "  void* buffers[" << nargs + 1 << "];\n"
     << "  int64_t vars[" << nvars + 1 << "];\n"
     << "  int bound_arg[" << nvars + 1 << "], bound_dim[" << nvars + 1 << "];\n"
     << "  for (int k = 0; k < " << nvars + 1 << "; ++k) { bound_arg[k] = -1; bound_dim[k] = -1; vars[k] = 0; }\n"
     << "  te_error[0] = 0;\n"
     << "  if (te_check_args(" << c_string(name) << ", " << name << "_spec, " << nargs << ", " << name
     << "_var_names, args, num_args, buffers, vars, bound_arg, bound_dim) != 0) return -1;\n"
     << "  int32_t rc = " << name << "_kernel(buffers, vars);\n"
     << "  if (rc != 0) snprintf(te_error, sizeof te_error, \"kernel %s failed (status %d): a heap allocation inside "
        "the kernel failed\", "
     << c_string(name) << ", (int)rc);\n"
     << "  return rc;\n}\n";
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

std::string LLVMModuleNode::object_code() const {
  llvm::LLVMContext ctx;
  llvm::SMDiagnostic diag;
  std::unique_ptr<llvm::Module> m = llvm::parseIR(llvm::MemoryBufferRef(optimized_ir, func.name), diag, ctx);
  TE_ICHECK(m, "re-parsing the optimized IR failed: ", diag.getMessage().str());
  auto machine = create_target_machine(cpu, /*pic=*/true);
  return emit_machine_code(*m, *machine, /*assembly=*/false);
}

void LLVMModuleNode::save_object(const std::string& path) const {
  check_symbol_name(func.name, "save_object");
  write_file(path, object_code(), "save_object");
}

void LLVMModuleNode::export_shared_library(const std::string& path) const {
  check_symbol_name(func.name, "export_shared_library");
  std::string wrapper = wrapper_source(func, has_parallel);
  std::string dir_template = (std::filesystem::temp_directory_path() / "te_export_XXXXXX").string();
  if (!mkdtemp(dir_template.data())) fail("export_shared_library: cannot create a temporary directory");
  std::filesystem::path dir(dir_template);
  write_file((dir / "kernel.o").string(), object_code(), "export_shared_library");
  write_file((dir / "wrapper.c").string(), wrapper, "export_shared_library");
  std::vector<std::string> argv{"cc", "-shared", "-fPIC", "-O2", "-std=gnu11"};
  if (has_parallel) {
    argv.push_back("-fopenmp");
    // libgomp keeps worker threads alive after a parallel region; if a dlclose() of this
    // library unloaded libgomp under them they would crash. nodelete keeps it (and so
    // libgomp) mapped for the life of the process.
    argv.push_back("-Wl,-z,nodelete");
  }
  argv.insert(argv.end(), {"-o", path, (dir / "wrapper.c").string(), (dir / "kernel.o").string(), "-lm"});
  std::string log_path = (dir / "cc.log").string();
  int rc = run_program(argv, log_path);
  std::string log;
  if (rc != 0) {
    std::ifstream in(log_path);
    std::stringstream ss;
    ss << in.rdbuf();
    log = ss.str();
  }
  std::error_code ignored;
  std::filesystem::remove_all(dir, ignored);
  if (rc != 0)
    fail("export_shared_library: linking '", path, "' with the system C compiler (cc) failed",
         rc < 0 ? " to start" : "", ":\n", log);
}

}  // namespace te::llvm_backend
