// Measurer: builds a batch of configs and runs each candidate in an isolated child process
// (measure_spawn.cc, measure_child.cc), checking its output against a reference computed
// once per Measurer from the task's unscheduled compute.
//
// A batch goes through three steps:
//   1. serially, in the calling thread: instantiate the template (it may be a Python
//      callback, which must not run on other threads), lower, hash the lowered text and drop
//      duplicates; lowering is cheap next to LLVM's O3 and machine code emission;
//   2. in parallel over build_workers threads: compile each lowered function (te::build) and
//      link its object alone into a shared library (link_kernel_object), or to PTX with NVRTC
//      (cuda). Concurrent LLVM builds are safe: one LLVMContext and TargetMachine per module,
//      target initialisation once under std::call_once (src/codegen/llvm/target_machine.cc),
//      IR nodes are immutable with atomic reference counts, NVRTC's cache has a mutex;
//   3. serially: run each candidate in its own te_measure_runner process with the timeout
//      (one at a time, so candidates do not disturb each other's timings).
#include "te/autotune/measure.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <limits>
#include <mutex>
#include <random>
#include <thread>
#include <unordered_set>

#include "autotune/measure_internal.h"
#include "te/runtime.h"
#ifdef TE_WITH_CUDA
#include "codegen/cuda/codegen_cuda.h"
#include "codegen/cuda/cuda_driver.h"
#endif

extern char** environ;

namespace te::autotune {

namespace {
constexpr const char* kErrorNames[] = {"none", "instantiate", "compile", "runtime",
                                       "timeout", "wrong_answer", "duplicate"};
constexpr int kNumErrorKinds = int(sizeof(kErrorNames) / sizeof(kErrorNames[0]));
}  // namespace

Schedule measure_detail::reference_cuda_schedule(const std::vector<Operation>& outputs) {
  constexpr int64_t kThreads = 256;
  Schedule s = create_schedule(outputs);
  for (Stage stage : s->stages) {
    const auto* op = stage->op.as<ComputeOpNode>();
    if (op == nullptr) continue;  // placeholders
    if (op->axis.empty()) fail("reference_cuda_schedule: stage ", op->name, " is a scalar; nothing to bind");
    IterVar all = op->axis[0];
    for (size_t i = 1; i < op->axis.size(); ++i) all = stage.fuse(all, op->axis[i]);
    auto [block, thread] = stage.split(all, kThreads);
    stage.bind(block, thread_axis("blockIdx.x"));
    stage.bind(thread, thread_axis("threadIdx.x"));
  }
  return s;
}

const char* to_string(ErrorKind kind) {
  int i = int(kind);
  TE_ICHECK(i >= 0 && i < kNumErrorKinds, "unknown ErrorKind ", i);
  return kErrorNames[i];
}

ErrorKind error_kind_from_string(const std::string& s) {
  for (int i = 0; i < kNumErrorKinds; ++i)
    if (s == kErrorNames[i]) return ErrorKind(i);
  fail("unknown measurement error kind '", s,
       "'; expected one of none, instantiate, compile, runtime, timeout, wrong_answer, duplicate");
}

double MeasureResult::mean_cost() const {
  if (error != ErrorKind::kNone || costs.empty()) return std::numeric_limits<double>::infinity();
  double sum = 0;
  for (double c : costs) sum += c;
  return sum / double(costs.size());
}

namespace measure_detail {
std::string fnv1a_hex(const std::string& text) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (unsigned char c : text) {
    h ^= c;
    h *= 0x100000001b3ull;
  }
  char out[17];
  std::snprintf(out, sizeof out, "%016llx", static_cast<unsigned long long>(h));
  return out;
}
}  // namespace measure_detail

using namespace measure_detail;

namespace {

using Clock = std::chrono::steady_clock;
double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}
double unix_time() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// First lines of an error message, for logs.
std::string first_lines(const std::string& text, int lines = 8) {
  size_t pos = 0;
  for (int i = 0; i < lines && pos != std::string::npos; ++i) {
    pos = text.find('\n', pos);
    if (pos != std::string::npos) ++pos;
  }
  return pos == std::string::npos ? text : text.substr(0, pos - 1) + "\n...";
}

bool is_input(const Tensor& t) { return t.op().as<PlaceholderOpNode>() != nullptr; }

std::vector<int64_t> constant_shape(const Tensor& t, const std::string& task_name) {
  std::vector<int64_t> shape;
  for (const Expr& d : t.shape()) {
    const int64_t* c = as_const_int(d);
    if (!c) fail("measure: argument ", t.name(), " of task ", task_name, " has a symbolic dimension ", to_string(d),
                 "; tuning needs constant shapes");
    shape.push_back(*c);
  }
  return shape;
}

// Uniform floats in [-1, 1], small ints, random bools: well inside every dtype's range.
void fill_random(NDArray& a, std::mt19937_64& rng) {
  DataType t = a.dtype();
  int64_t n = a.numel();
  std::uniform_real_distribution<double> real(-1.0, 1.0);
  std::uniform_int_distribution<int> small(t.is_uint() ? 0 : -4, 4);
  for (int64_t i = 0; i < n; ++i) {
    char* p = static_cast<char*>(a.data()) + i * t.bytes();
    if (t.is_float() && t.bits == 32) *reinterpret_cast<float*>(p) = float(real(rng));
    else if (t.is_float() && t.bits == 64) *reinterpret_cast<double*>(p) = real(rng);
    else if (t.is_float() && t.bits == 16) {
      // A float16 with a small mantissa: ±(k/8) for k in [0, 8], exactly representable.
      int k = small(rng);
      float f = float(k) / 4.0f;
      uint32_t bits;
      std::memcpy(&bits, &f, 4);
      uint16_t h = uint16_t((bits >> 16) & 0x8000);
      if (f != 0) h |= uint16_t((((bits >> 23) & 0xff) - 127 + 15) << 10 | ((bits >> 13) & 0x3ff));
      *reinterpret_cast<uint16_t*>(p) = h;
    } else if (t.is_bool()) *reinterpret_cast<uint8_t*>(p) = uint8_t(rng() & 1);
    else {
      int64_t v = small(rng);
      std::memcpy(p, &v, size_t(t.bytes()));  // little endian: the low bytes of v
    }
  }
}

void write_bytes(const std::string& path, const NDArray& a) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out.write(static_cast<const char*>(a.data()), std::streamsize(a.nbytes()));
  if (!out) fail("measure: cannot write '", path, "'");
}

// Below this many operations the reference interpreter (the ground truth) is fast enough.
constexpr double kInterpreterMaxOps = 1e7;

// Runs argv (argv[0] searched on PATH) with its output in log_path; its exit status, or -1
// when it could not start or died by a signal.
int run_program(const std::vector<std::string>& argv, const std::string& log_path) {
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&actions, 1, 2);
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = 0;
  int err = posix_spawnp(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (err != 0) return -1;
  int status = 0;
  while (waitpid(pid, &status, 0) < 0)
    if (errno != EINTR) return -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// The fast path to a loadable candidate: the kernel's object file linked alone with
// `ld -shared` (about 10-40 ms), instead of export_shared_library's C wrapper compiled by cc
// with -fopenmp (several hundred ms on a loaded 2-core machine). Its te_parallel_for and
// te_runtime_alloc/free stay undefined and bind to libte's in the runner, which is how
// te::build's kernels run too. False (use export_shared_library) when ld is missing or fails.
bool link_kernel_object(const Module& module, const std::string& library) {
  std::string object = library + ".o", log = library + ".ld.log";
  module.save_object(object);
  int rc = run_program({"ld", "-shared", "-o", library, object}, log);
  std::error_code ignored;
  std::filesystem::remove(object, ignored);
  std::filesystem::remove(log, ignored);
  return rc == 0;
}

// A candidate between the serial and the parallel build steps.
struct Candidate {
  size_t index;  // in the batch
  LoweredFunc func;
  Clock::time_point lower_start;
  double lower_seconds = 0;
  std::string library;  // llvm: the .so; cuda: the PTX file
  RunRequest request;
};

}  // namespace

struct Measurer::Impl {
  Task task;
  MeasureOptions options;
  std::string work_dir;
  std::string runner;
  std::vector<RunArg> run_args;  // shapes, dtypes, input and reference files
  std::vector<std::pair<std::vector<int64_t>, DataType>> signature;
  std::unordered_set<std::string> seen_hashes;
  bool skip_duplicates = true;
  int64_t next_file = 0;

  void check_options() const {
    const MeasureOptions& o = options;
    if (o.number < 1) fail("MeasureOptions: number must be >= 1, got ", o.number);
    if (o.repeat < 1) fail("MeasureOptions: repeat must be >= 1, got ", o.repeat);
    if (!(o.timeout_s > 0)) fail("MeasureOptions: timeout_s must be > 0 seconds, got ", o.timeout_s);
    if (o.min_repeat_ms < 0) fail("MeasureOptions: min_repeat_ms must be >= 0, got ", o.min_repeat_ms);
    if (o.build_workers < 0) fail("MeasureOptions: build_workers must be >= 0 (0: all cores), got ", o.build_workers);
    if (!(o.rtol >= 0 && o.atol >= 0)) fail("MeasureOptions: rtol and atol must be >= 0");
    if (!o.fault.empty() && o.fault != "crash" && o.fault != "hang" && o.fault != "wrong")
      fail("MeasureOptions: fault '", o.fault, "' is unknown; expected \"\", \"crash\", \"hang\" or \"wrong\" (test-only)");
  }

  // Random inputs and the reference outputs, written to files in work_dir.
  void prepare_reference() {
    Instance ref = task.default_instance();
    std::vector<Tensor> placeholders, outputs;
    std::vector<NDArray> inputs, arrays;
    std::mt19937_64 rng(options.seed);
    for (size_t i = 0; i < ref.args.size(); ++i) {
      const Tensor& t = ref.args[i];
      NDArray a = NDArray::empty(constant_shape(t, task.name), t.dtype());
      signature.emplace_back(a.shape(), t.dtype());
      if (is_input(t)) {
        fill_random(a, rng);
        placeholders.push_back(t);
        inputs.push_back(a);
      } else {
        a.fill_poison();
        outputs.push_back(t);
      }
      arrays.push_back(a);
    }
    if (outputs.empty()) fail("measure: task ", task.name, " has no output among its arguments");
    double ops = task.flop;
    for (const NDArray& a : arrays) ops += double(a.numel());
    bool use_interpreter = ops < kInterpreterMaxOps;
    if (!use_interpreter) {
      try {
        // The unscheduled compute through LLVM: the interpreter is too slow for big shapes;
        // without LLVM, a cuda task's reference runs on the GPU in the plainest schedule.
        if (backend_built("llvm")) {
          build(ref.schedule, ref.args, "llvm", "te_reference")(arrays);
        } else if (task.target.kind == "cuda") {
          Schedule gpu = reference_cuda_schedule(ref.schedule->outputs);
          build(gpu, ref.args, "cuda", "te_reference")(arrays);  // host arrays: copied in and out
        } else {
          use_interpreter = true;
        }
      } catch (const Error&) {
        use_interpreter = true;  // no GPU, or a scalar stage: slow but right
      }
    }
    if (use_interpreter) {
      std::vector<NDArray> results = evaluate_reference(placeholders, inputs, outputs);
      size_t k = 0;
      for (size_t i = 0; i < ref.args.size(); ++i)
        if (!is_input(ref.args[i])) arrays[i] = results.at(k++);
    }
    namespace fs = std::filesystem;
    for (size_t i = 0; i < ref.args.size(); ++i) {
      RunArg arg;
      arg.shape = arrays[i].shape();
      arg.dtype = arrays[i].dtype().str();
      std::string path = (fs::path(work_dir) / detail::cat(is_input(ref.args[i]) ? "input_" : "reference_", i, ".bin")).string();
      write_bytes(path, arrays[i]);
      (is_input(ref.args[i]) ? arg.input_path : arg.reference_path) = path;
      run_args.push_back(arg);
    }
  }

  // Step 1: instantiate + lower + dedup. Returns false when result is final (an error).
  bool lower_candidate(const Config& cfg, MeasureResult& result, Candidate& cand) {
    Instance inst;
    try {
      inst = task.instantiate(cfg);
      result.steps_json = inst.schedule.steps_json();
    } catch (const std::exception& e) {
      result.error = ErrorKind::kInstantiate;
      result.error_message = first_lines(e.what());
      return false;
    }
    if (inst.args.size() != signature.size()) {
      result.error = ErrorKind::kInstantiate;
      result.error_message = detail::cat("the template returned ", inst.args.size(), " arguments; the task's default ",
                                         "instance has ", signature.size());
      return false;
    }
    for (size_t i = 0; i < inst.args.size(); ++i) {
      std::vector<int64_t> shape;
      for (const Expr& d : inst.args[i].shape())
        shape.push_back(as_const_int(d) ? *as_const_int(d) : -1);
      if (shape != signature[i].first || inst.args[i].dtype() != signature[i].second) {
        result.error = ErrorKind::kInstantiate;
        result.error_message = detail::cat("argument ", i, " (", inst.args[i].name(), ") of the instantiated template ",
                                           "differs in shape or dtype from the task's default instance");
        return false;
      }
    }
    cand.lower_start = Clock::now();
    try {
      LowerOptions lower_options;
      lower_options.target = task.target;
      cand.func = lower(inst.schedule, inst.args, "te_candidate", lower_options);
    } catch (const std::exception& e) {
      result.error = ErrorKind::kCompile;
      result.error_message = first_lines(e.what());
      result.build_seconds = seconds_since(cand.lower_start);
      return false;
    }
    cand.lower_seconds = seconds_since(cand.lower_start);
    result.code_hash = fnv1a_hex(to_string(cand.func));
    if (!seen_hashes.insert(result.code_hash).second && skip_duplicates) {
      result.error = ErrorKind::kDuplicate;
      result.error_message = "same lowered code as an earlier candidate (" + result.code_hash + ")";
      result.build_seconds = cand.lower_seconds;
      return false;
    }
    return true;
  }

  // Step 2 (any thread): compile to a file in work_dir and fill the run request.
  void compile_candidate(Candidate& cand, int64_t file_id, MeasureResult& result) const {
    auto start = Clock::now();
    namespace fs = std::filesystem;
    try {
      RunRequest& r = cand.request;
      r.target_kind = task.target.kind;
      if (task.target.kind == "cuda") {
#ifdef TE_WITH_CUDA
        CudaKernelSource source = codegen_cuda(cand.func);
        if (source.kernels.size() != 1 || !source.intermediates.empty())
          fail("measure: ", cand.func.name, " runs as ", source.kernels.size(), " CUDA kernels with ",
               source.intermediates.size(), " device intermediates; the tuner measures single-kernel schedules "
               "only (compute_at the intermediate stages inside the output's thread loops, or inline them)");
        std::string ptx = compile_cuda_to_ptx(source.code);
        cand.library = (fs::path(work_dir) / detail::cat("candidate_", file_id, ".ptx")).string();
        std::ofstream(cand.library, std::ios::trunc) << ptx;
        r.ptx_path = cand.library;
        r.kernel_name = source.kernel_name;
        r.dynamic_shared_bytes = source.kernels[0].dynamic_shared_bytes;
        for (int d = 0; d < 3; ++d) {
          const int64_t* g = as_const_int(source.launch.grid[d]);
          if (!g) fail("measure: the grid size ", to_string(source.launch.grid[d]), " is not a constant");
          r.grid[size_t(d)] = *g;
          r.block[size_t(d)] = source.launch.block[d];
        }
#else
        fail("te was built without CUDA (TE_WITH_CUDA=OFF); cannot compile for target cuda");
#endif
      } else {
        cand.library = (fs::path(work_dir) / detail::cat("candidate_", file_id, ".so")).string();
        Module module = build(cand.func, task.target);
        r.library = cand.library;
        r.function = cand.func.name;
        r.raw_kernel = cand.func.size_vars.empty() && link_kernel_object(module, cand.library);
        if (!r.raw_kernel) module.export_shared_library(cand.library);
      }
      r.args = run_args;
      r.parent_pid = int64_t(getpid());
      r.rtol = options.rtol;
      r.atol = options.atol;
      r.number = options.number;
      r.repeat = options.repeat;
      r.min_repeat_ms = options.min_repeat_ms;
    } catch (const std::exception& e) {
      result.error = ErrorKind::kCompile;
      result.error_message = first_lines(e.what());
    }
    result.build_seconds = cand.lower_seconds + seconds_since(start);
  }

  // Step 3: one child process per candidate.
  void run_candidate(const Config& cfg, Candidate& cand, MeasureResult& result) const {
#ifdef TE_WITH_CUDA
    if (task.target.kind == "cuda") {
      if (std::string why = cuda_unavailable_reason(); !why.empty()) {
        result.error = ErrorKind::kRuntime;
        result.error_message = why + "; no GPU here, so cuda candidates cannot run";
        return;
      }
    }
#endif
    if (!options.fault.empty()) {
      int64_t index = cfg.index();
      for (int64_t f : options.fault_indices)
        if (f == index) cand.request.fault = options.fault;
    }
    RunResult run;
    try {
      run = run_in_child(runner, cand.request, work_dir, options.timeout_s);
    } catch (const Error& e) {
      run.error = ErrorKind::kRuntime;
      run.message = e.what();
    }
    result.error = run.error;
    result.error_message = first_lines(run.message);
    result.costs = run.error == ErrorKind::kNone ? run.costs : std::vector<double>{};
    result.timestamp = unix_time();
    std::error_code ignored;
    std::filesystem::remove(cand.library, ignored);
  }
};

namespace {
// Directories of Measurers whose process was killed (a tuning job stopped with kill -9 cannot
// run ~Measurer) are named te_measure_<pid>_*: remove those whose process is gone.
void remove_stale_work_dirs(const std::filesystem::path& tmp) {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(tmp, ec)) {
    std::string name = entry.path().filename().string();
    if (name.rfind("te_measure_", 0) != 0) continue;
    char* end = nullptr;
    long pid = std::strtol(name.c_str() + 11, &end, 10);
    if (pid <= 0 || !end || *end != '_') continue;
    if (::kill(pid_t(pid), 0) != 0 && errno == ESRCH) {
      std::error_code ignored;
      std::filesystem::remove_all(entry.path(), ignored);
    }
  }
}
}  // namespace

Measurer::Measurer(const Task& task, MeasureOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->task = task;
  impl_->options = std::move(options);
  impl_->check_options();
  impl_->runner = find_runner();
  remove_stale_work_dirs(std::filesystem::temp_directory_path());
  std::string dir_template =
      (std::filesystem::temp_directory_path() / detail::cat("te_measure_", getpid(), "_XXXXXX")).string();
  if (!mkdtemp(dir_template.data()))
    fail("measure: cannot create a temporary directory under ", std::filesystem::temp_directory_path().string(), ": ",
         std::strerror(errno));
  impl_->work_dir = dir_template;
  try {
    impl_->prepare_reference();
  } catch (...) {
    std::error_code ignored;
    std::filesystem::remove_all(impl_->work_dir, ignored);
    throw;
  }
}

Measurer::~Measurer() {
  std::error_code ignored;
  if (impl_) std::filesystem::remove_all(impl_->work_dir, ignored);
}

const MeasureOptions& Measurer::options() const { return impl_->options; }
void Measurer::set_skip_duplicates(bool skip) { impl_->skip_duplicates = skip; }

std::vector<MeasureResult> Measurer::measure(const std::vector<Config>& configs) {
  Impl& m = *impl_;
  std::vector<MeasureResult> results(configs.size());
  std::vector<Candidate> candidates;
  for (size_t i = 0; i < configs.size(); ++i) {
    Candidate cand;
    cand.index = i;
    if (m.lower_candidate(configs[i], results[i], cand)) candidates.push_back(std::move(cand));
  }

  int workers = m.options.build_workers > 0 ? m.options.build_workers : int(std::thread::hardware_concurrency());
  workers = std::max(1, std::min<int>(workers, int(candidates.size())));
  int64_t first_file = m.next_file;
  m.next_file += int64_t(candidates.size());
  std::atomic<size_t> next{0};
  auto build_loop = [&] {
    for (size_t k = next++; k < candidates.size(); k = next++)
      m.compile_candidate(candidates[k], first_file + int64_t(k), results[candidates[k].index]);
  };
  if (workers <= 1) {
    build_loop();
  } else {
    std::vector<std::thread> threads;
    for (int w = 0; w < workers; ++w) threads.emplace_back(build_loop);
    for (std::thread& t : threads) t.join();
  }

  for (Candidate& cand : candidates) {
    MeasureResult& result = results[cand.index];
    if (result.error == ErrorKind::kNone) m.run_candidate(configs[cand.index], cand, result);
  }
  double now = unix_time();
  for (MeasureResult& r : results)
    if (r.timestamp == 0) r.timestamp = now;  // candidates that never ran
  return results;
}

}  // namespace te::autotune
