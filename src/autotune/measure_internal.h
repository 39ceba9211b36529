// src/autotune/measure_internal.h — the pieces of measure.h's Measurer, private to
// src/autotune/measure*.cc and tools/te_measure_runner.cc:
//   measure.cc        : Measurer (reference data, the builder: config → lowered code →
//                       hash → .so or PTX, batches), ErrorKind names
//   measure_spawn.cc  : finding and starting the runner child, timeout, result parsing
//   measure_child.cc  : what the child does (load, check against the reference, time), and
//                       the protocol's JSON
// The parent and the child talk through one JSON request file and one JSON line on the
// child's stdout (RunRequest / RunResult below).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "te/autotune/measure.h"

namespace te::autotune::measure_detail {

// One kernel argument as the child allocates it. Inputs are read from input_path; outputs
// (reference_path set) are poisoned before the call and compared with the reference after.
struct RunArg {
  std::vector<int64_t> shape;
  std::string dtype;           // DataType::str(), e.g. "float32"
  std::string input_path;      // raw bytes, row-major (inputs only)
  std::string reference_path;  // raw bytes of the expected output (outputs only)
};

struct RunRequest {
  std::string target_kind = "llvm";  // "llvm" or "cuda"
  // llvm: a shared library exporting `int32_t <function>(DLTensor**, int32_t)` and
  // `const char* <function>_last_error(void)` (Module::export_shared_library).
  std::string library;
  std::string function;
  // true: the library is just the kernel object linked with `ld -shared`; the child calls
  // `int32_t <function>_kernel(void** buffers, const int64_t* size_vars)` (module_node.h) and
  // te_parallel_for / te_runtime_alloc resolve to libte's, loaded in the child.
  bool raw_kernel = false;
  // cuda: PTX text in ptx_path, kernel <kernel_name>(T*..., size vars), launch shape.
  std::string ptx_path;
  std::string kernel_name;
  std::array<int64_t, 3> grid{1, 1, 1};
  std::array<int64_t, 3> block{1, 1, 1};
  int64_t dynamic_shared_bytes = 0;  // extern __shared__ bytes (kernels above 48 KiB of shared)
  std::vector<RunArg> args;
  double rtol = 1e-3, atol = 1e-4;
  int number = 1, repeat = 3;
  double min_repeat_ms = 0;
  std::string fault;  // test-only: "", "crash", "hang", "wrong"
  int64_t parent_pid = 0;  // the child kills itself when this process dies (PR_SET_PDEATHSIG)
};

struct RunResult {
  ErrorKind error = ErrorKind::kNone;
  std::string message;
  std::vector<double> costs;  // seconds per call, one per repeat
};

std::string request_to_json(const RunRequest& request);
RunRequest request_from_json(const std::string& text);  // te::Error on a malformed request
std::string result_to_json(const RunResult& result);
RunResult result_from_json(const std::string& text);  // te::Error on malformed output

// ---- the child (tools/te_measure_runner.cc calls this from main)
// Reads the request at request_path, runs it and writes one JSON RunResult line to
// result_fd. Returns the process exit code (0 when a result was written).
int run_child(const std::string& request_path, int result_fd);

// ---- the parent
// The reference's schedule on the GPU, for a te without LLVM (the GPU machine's CUDA-only
// build, scripts/gpu_check.sh), where the interpreter would take minutes per conv layer: every
// stage at root, its output axes fused and split into blocks of 256 threads (blockIdx.x,
// threadIdx.x), each reduction serial in its thread. The plainest schedule the CUDA backend
// runs — no shared memory, tiles, virtual threads or cross-thread reductions — so it still
// checks the candidates' schedules. te::Error for a scalar stage (nothing to bind).
Schedule reference_cuda_schedule(const std::vector<Operation>& outputs);

// The runner program: $TE_MEASURE_RUNNER when set (te::Error when it is not an executable),
// else te_measure_runner next to libte (found with dladdr), else on PATH; te::Error saying
// how to fix it when none is found.
std::string find_runner();
// Writes the request into work_dir, starts the runner in its own process group, waits up
// to timeout_s for its result and kills the whole group after that (kTimeout). A child
// that dies by a signal or exits non-zero without a result gives kRuntime.
RunResult run_in_child(const std::string& runner, const RunRequest& request, const std::string& work_dir,
                       double timeout_s);

// ---- the builder (measure.cc)
// 64-bit FNV-1a of text, as 16 hex digits.
std::string fnv1a_hex(const std::string& text);

// Element-wise comparison used by the child: "" when every element of actual is within
// atol + rtol * |expected| (floats; NaN anywhere is wrong) or equal (ints, bools); else a
// message with the number of bad elements, the first bad index and the max error.
std::string compare_outputs(const void* actual, const void* expected, int64_t numel, DataType dtype, double rtol,
                            double atol);

}  // namespace te::autotune::measure_detail
