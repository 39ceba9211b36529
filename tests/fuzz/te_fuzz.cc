// te_fuzz — the differential fuzzer (see tests/fuzz/README.md).
//
//   te_fuzz --cases 300 --seed 1 --out fuzz_out/     bounded run (CTest)
//   te_fuzz --seconds 3600 --out fuzz_out/           long run
//   te_fuzz --replay fuzz_out/case_123.json          rerun one reproducer in this process
//   te_fuzz --replay-dir tests/fuzz/regressions      rerun every reproducer of a folder
//   te_fuzz --print 42                               show the case of one seed (program, schedule, IR)
//
// Each case runs in a forked child, so that a crash or a hang is caught and reported like a
// wrong number. A failing case is shrunk (fewer stages, smaller extents, no size variable,
// fewer schedule steps) and written out as <out>/case_<seed>.json (replayable) and
// <out>/case_<seed>.txt (the program, the schedule as Python, the lowered IR, the error).
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

#include "fuzz_program.h"
#include "test_util.h"

namespace te::fuzz {
namespace {

enum Outcome { kOk = 0, kSkip = 10, kBuildError = 11, kRunError = 12, kMismatch = 13, kGenerateError = 14, kRefused = 15, kCrash = 100, kHang = 101 };

const char* outcome_name(int o) {
  switch (o) {
    case kOk: return "ok";
    case kSkip: return "skipped (schedule rejected)";
    case kBuildError: return "build of a legal schedule failed";
    case kRunError: return "calling the kernel failed";
    case kMismatch: return "wrong numbers";
    case kGenerateError: return "program generation failed";
    case kRefused: return "refused by the CUDA backend or emulator (te::Error)";
    case kCrash: return "crash";
    case kHang: return "hang";
  }
  return "?";
}

// Element-wise comparison with a tolerance scaled by the output's magnitude: a float
// reduction reassociated by a schedule (split, rfactor, vectorize) rounds differently.
// Integers (wrapping on overflow in both the kernel and the reference) must match exactly.
std::string compare(const NDArray& got, const NDArray& want, double rtol, double atol) {
  if (!want.dtype().is_float()) return testing::compare_arrays(got, want, 0, 0);
  double scale = 1;
  for (int64_t i = 0; i < want.numel(); ++i) {
    double v = want.dtype().bits == 32 ? want.data_as<float>()[i] : want.data_as<double>()[i];
    if (std::isfinite(v)) scale = std::max(scale, std::fabs(v));
  }
  return testing::compare_arrays(got, want, rtol, atol * scale);
}

// The CUDA emulator's statement budget per case (--emulate-statements): a case over it is a
// clean refusal, so big GPU cases (every thread interpreted) stay well within the timeout.
int64_t g_emulate_statements = 5'000'000;

// --self-test: a fault injected into every kernel output of a program with a reduction, so the
// harness itself is shown to catch, shrink and replay a wrong number.
bool g_inject_fault = false;

bool has_reduction(const Program& p) {
  for (const Operation& op : post_dfs_order([&] {
         std::vector<Operation> ops;
         for (const Tensor& t : p.outputs) ops.push_back(t.op());
         return ops;
       }()))
    if (const auto* c = op.as<ComputeOpNode>(); c && !c->reduce_axis.empty()) return true;
  return false;
}

struct Result {
  int outcome = kOk;
  std::string message;
  std::string steps_json;  // the schedule the case ran (for the reproducer)
};

// The whole case, in this process. `steps_out` receives the schedule's steps before the
// build, so that a crashing build still leaves them behind.
int run_case(const FuzzCase& c, std::string& message, const std::function<void(const std::string&)>& steps_out) {
  Program p;
  try {
    p = generate_program(c);
  } catch (const std::exception& e) {
    message = e.what();
    return kGenerateError;
  }
  Schedule s;
  try {
    s = make_schedule(c, p);
  } catch (const Error& e) {
    message = e.what();
    return kSkip;
  }
  steps_out(s.steps_json());
  std::vector<Tensor> args = p.inputs;
  args.insert(args.end(), p.outputs.begin(), p.outputs.end());
  Module m;
  try {
    m = build(s, args, c.target, "fuzz");
    if (c.target == "cuda" && m.get_source("ptx").find(".entry") == std::string::npos)
      throw std::runtime_error("NVRTC produced PTX without an entry point");
  } catch (const Error& e) {
    // The CUDA backend states limits the random GPU schedules can meet (one kernel per build:
    // buffers of constant size, equal grids): a te::Error naming them is a clean refusal.
    message = e.what();
    return c.target == "cuda" ? kRefused : kBuildError;
  } catch (const std::exception& e) {
    message = e.what();
    return kBuildError;
  }
  // CUDA cases run in the CUDA emulator (te::cuda_emulate: GPU semantics, races, bounds), so a
  // GPU schedule is checked numerically without a GPU.
  std::vector<NDArray> inputs;
  for (size_t i = 0; i < p.inputs.size(); ++i)
    inputs.push_back(testing::random_array(p.input_shapes[i], p.inputs[i].dtype(), c.program_seed * 31 + i));
  std::vector<NDArray> expected;
  try {
    expected = evaluate_reference(p.inputs, inputs, p.outputs);
  } catch (const std::exception& e) {
    message = std::string("reference interpreter failed: ") + e.what();
    return kGenerateError;
  }
  std::vector<NDArray> call = inputs, outs;
  for (const NDArray& e : expected) {
    outs.push_back(NDArray::empty(e.shape(), e.dtype()));
    outs.back().fill_poison();
    call.push_back(outs.back());
  }
  try {
    CudaEmulateOptions emulate;
    emulate.max_statements = g_emulate_statements;
    if (c.target == "cuda") cuda_emulate(m, call, emulate);
    else m(call);
  } catch (const Error& e) {
    message = e.what();
    // The statement budget is the emulator's stated limit: a clean refusal.
    if (c.target == "cuda" && message.find("max_statements") != std::string::npos)
      return kRefused;
    return kRunError;
  } catch (const std::exception& e) {
    message = e.what();
    return kRunError;
  }
  if (g_inject_fault && has_reduction(p)) {
    NDArray& o = outs.back();
    if (o.dtype() == DataType::float32()) o.data_as<float>()[0] += 1;
    else if (o.dtype() == DataType::float64()) o.data_as<double>()[0] += 1;
    else if (o.dtype() == DataType::int32()) o.data_as<int32_t>()[0] += 1;
    else if (o.dtype() == DataType::int8()) o.data_as<int8_t>()[0] += 1;
  }
  for (size_t o = 0; o < outs.size(); ++o) {
    std::string diff = compare(outs[o], expected[o], p.rtol, p.atol);
    if (!diff.empty()) {
      message = "output " + p.outputs[o].name() + ": " + diff;
      return kMismatch;
    }
  }
  return kOk;
}

// Runs the case in a forked child with a wall-clock limit.
Result run_forked(const FuzzCase& c, int timeout_s) {
  int fds[2];
  if (pipe(fds) != 0) throw std::runtime_error("pipe failed");
  std::fflush(nullptr);
  pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    close(fds[0]);
    auto write_all = [&](const std::string& s) {
      for (size_t off = 0; off < s.size();) {
        ssize_t n = write(fds[1], s.data() + off, s.size() - off);
        if (n <= 0) return;
        off += size_t(n);
      }
    };
    std::string message;
    int outcome = run_case(c, message, [&](const std::string& steps) { write_all("S" + std::to_string(steps.size()) + "\n" + steps); });
    write_all("M" + message);
    close(fds[1]);
    std::fflush(nullptr);
    _exit(outcome);
  }
  close(fds[1]);
  std::string data;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  bool hung = false;
  char buf[4096];
  for (;;) {
    int left = int(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now()).count());
    if (left <= 0) {
      hung = true;
      break;
    }
    pollfd pfd{fds[0], POLLIN, 0};
    if (poll(&pfd, 1, left) <= 0) continue;
    ssize_t n = read(fds[0], buf, sizeof buf);
    if (n <= 0) break;
    data.append(buf, size_t(n));
  }
  close(fds[0]);
  if (hung) kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  Result r;
  if (!data.empty() && data[0] == 'S') {
    size_t nl = data.find('\n');
    size_t len = std::stoul(data.substr(1, nl - 1));
    r.steps_json = data.substr(nl + 1, len);
    data = data.substr(nl + 1 + len);
  }
  if (!data.empty() && data[0] == 'M') r.message = data.substr(1);
  if (hung) {
    r.outcome = kHang;
    r.message = "no result within " + std::to_string(timeout_s) + " s";
  } else if (WIFSIGNALED(status)) {
    r.outcome = kCrash;
    r.message = std::string("killed by signal ") + strsignal(WTERMSIG(status));
  } else {
    r.outcome = WEXITSTATUS(status);
  }
  return r;
}

bool is_failure(int outcome) { return outcome != kOk && outcome != kSkip && outcome != kRefused; }

// Shrinks a failing case while it keeps failing the same way.
FuzzCase shrink(FuzzCase c, Result& failure, int timeout_s) {
  int tries = 0;
  auto still_fails = [&](const FuzzCase& cand) {
    if (++tries > 200) return false;
    Result r = run_forked(cand, timeout_s);
    if (r.outcome != failure.outcome) return false;
    failure.message = r.message;
    if (!r.steps_json.empty()) failure.steps_json = r.steps_json;
    return true;
  };
  // Pin the schedule as steps (replayed from JSON), if replay reproduces the failure.
  FuzzCase pinned = c;
  pinned.steps_json = failure.steps_json;
  if (!failure.steps_json.empty() && still_fails(pinned)) c = pinned;
  // Fewer stages: regenerate the random schedule for the smaller program, or keep the steps.
  for (int k = 1; k < c.num_stages; ++k) {
    FuzzCase cand = c;
    cand.num_stages = k;
    cand.steps_json.clear();
    if (still_fails(cand)) {
      cand.steps_json = failure.steps_json;
      c = cand;
      break;
    }
  }
  for (int cap : {1, 2, 3, 4, 5, 6, 8, 12, 16, 24, 32}) {
    if (cap >= c.extent_cap) break;
    FuzzCase cand = c;
    cand.extent_cap = cap;
    if (still_fails(cand)) {
      c = cand;
      break;
    }
  }
  if (c.symbolic) {
    FuzzCase cand = c;
    cand.symbolic = false;
    if (still_fails(cand)) c = cand;
  }
  // Drop schedule steps one at a time.
  if (!c.steps_json.empty()) {
    nlohmann::json steps = nlohmann::json::parse(c.steps_json);
    for (size_t i = 0; i < steps.size();) {
      nlohmann::json fewer = steps;
      fewer.erase(fewer.begin() + long(i));
      FuzzCase cand = c;
      cand.steps_json = fewer.dump();
      if (still_fails(cand)) {
        steps = fewer;
        c = cand;
      } else {
        ++i;
      }
    }
  }
  return c;
}

// The readable side of a reproducer, computed in a child (lowering may be what crashes).
std::string describe(const FuzzCase& c, int timeout_s) {
  char path[] = "/tmp/te_fuzz_describe_XXXXXX";
  int fd = mkstemp(path);
  if (fd < 0) return "(could not describe)";
  close(fd);
  std::fflush(nullptr);
  pid_t pid = fork();
  if (pid == 0) {
    alarm(unsigned(timeout_s));  // a hanging lowering ends the description, not the run
    std::ofstream f(path);
    try {
      Program p = generate_program(c);
      f << "program:\n" << p.text << std::flush;
      Schedule s = make_schedule(c, p);
      f << "\nschedule (python):\n" << s.steps_python() << std::flush;
      std::vector<Tensor> args = p.inputs;
      args.insert(args.end(), p.outputs.begin(), p.outputs.end());
      f << "\ninput shapes:";
      for (const auto& shape : p.input_shapes) {
        f << " (";
        for (int64_t d : shape) f << d << ",";
        f << ")";
      }
      f << "\n\nlowered:\n" << to_string(lower(s, args, "fuzz")) << std::flush;
    } catch (const std::exception& e) {
      f << "\n(stopped: " << e.what() << ")\n";
    }
    f.close();
    _exit(0);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  std::remove(path);
  return ss.str();
}

std::string read_file(const std::string& path) {
  std::ifstream f(path);
  if (!f) throw Error("cannot read " + path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

int replay(const std::string& path) {
  FuzzCase c = FuzzCase::from_json(read_file(path));
  std::string message;
  int o = run_case(c, message, [](const std::string&) {});
  std::printf("%s: %s%s%s\n", path.c_str(), outcome_name(o), message.empty() ? "" : ": ", message.c_str());
  return is_failure(o) ? 1 : 0;
}

// The harness's own test: with the fault injected, a run must report wrong numbers, shrink
// the case to fewer stages or smaller extents, and its reproducer must replay the failure.
int self_test(const std::string& out, int timeout_s) {
  g_inject_fault = true;
  for (uint64_t seed = 1; seed < 200; ++seed) {
    FuzzCase c = random_case(seed, false);
    if (c.num_stages < 3) continue;
    Result r = run_forked(c, timeout_s);
    if (r.outcome != kMismatch) continue;
    FuzzCase small = shrink(c, r, timeout_s);
    std::filesystem::create_directories(out);
    const std::string path = out + "/selftest_" + std::to_string(seed) + ".json";
    std::ofstream(path) << small.to_json() << "\n";
    std::string message;
    int replayed = run_case(FuzzCase::from_json(read_file(path)), message, [](const std::string&) {});
    const bool smaller = small.num_stages < c.num_stages || small.extent_cap < c.extent_cap;
    std::printf("self-test: seed %llu: injected fault caught (%s); shrunk to %d stages, extent cap %d; replay: %s\n",
                (unsigned long long)seed, r.message.c_str(), small.num_stages, small.extent_cap, outcome_name(replayed));
    return replayed == kMismatch && smaller ? 0 : 1;
  }
  std::printf("self-test: no seed produced the injected mismatch\n");
  return 1;
}

int usage() {
  std::fprintf(stderr,
               "usage: te_fuzz [--seed N] [--cases N] [--seconds S] [--out DIR] [--timeout S] [--no-cuda]\n"
               "               [--emulate-statements N] [--verbose]\n"
               "       te_fuzz --replay CASE.json | --replay-dir DIR | --print SEED\n");
  return 2;
}

int main_impl(int argc, char** argv) {
  uint64_t seed = 1;
  long cases = 0;
  double seconds = 0;
  int timeout_s = 120;
  std::string out = "fuzz_out";
  bool with_cuda = TE_FUZZ_WITH_CUDA, verbose = false, self = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) throw Error("te_fuzz: " + a + " needs a value");
      return argv[++i];
    };
    if (a == "--seed") seed = std::stoull(next());
    else if (a == "--cases") cases = std::stol(next());
    else if (a == "--seconds") seconds = std::stod(next());
    else if (a == "--out") out = next();
    else if (a == "--timeout") timeout_s = std::stoi(next());
    else if (a == "--no-cuda") with_cuda = false;
    else if (a == "--emulate-statements") g_emulate_statements = std::stoll(next());
    else if (a == "--verbose") verbose = true;
    else if (a == "--replay") return replay(next());
    else if (a == "--self-test") self = true;
    else if (a == "--print") {  // the case of one master seed, readable
      FuzzCase c = random_case(std::stoull(next()), with_cuda);
      std::printf("%s\n%s", c.to_json().c_str(), describe(c, timeout_s).c_str());
      return 0;
    }
    else if (a == "--replay-dir") {
      std::string dir = next();
      int failed = 0, n = 0;
      for (const auto& e : std::filesystem::directory_iterator(dir))
        if (e.path().extension() == ".json") failed += replay(e.path().string()), ++n;
      std::printf("replayed %d reproducers, %d failed\n", n, failed);
      return failed ? 1 : (n ? 0 : 1);
    } else return usage();
  }
  if (self) return self_test(out, timeout_s);
  if (cases <= 0 && seconds <= 0) return usage();
  const auto start = std::chrono::steady_clock::now();
  auto elapsed = [&] { return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count(); };
  std::map<std::string, std::map<int, long>> counts;  // target -> outcome -> n
  long run = 0, failures = 0;
  for (uint64_t s = seed;; ++s) {
    if (cases > 0 && run >= cases) break;
    if (seconds > 0 && elapsed() >= seconds) break;
    FuzzCase c = random_case(s, with_cuda);
    Result r = run_forked(c, timeout_s);
    ++run;
    ++counts[c.target][r.outcome];
    if (verbose)
      std::printf("seed %llu (%s %s, %d stages): %s%s%s\n", (unsigned long long)s, c.target.c_str(), c.dtype.c_str(), c.num_stages,
                  outcome_name(r.outcome), r.outcome == kOk ? "" : ": ", r.outcome == kOk ? "" : r.message.substr(0, 300).c_str());
    if (!is_failure(r.outcome)) continue;
    ++failures;
    std::printf("seed %llu: %s: %s\n  shrinking...\n", (unsigned long long)s, outcome_name(r.outcome), r.message.substr(0, 400).c_str());
    std::fflush(stdout);
    FuzzCase small = shrink(c, r, timeout_s);
    std::filesystem::create_directories(out);
    const std::string base = out + "/case_" + std::to_string(s);
    std::ofstream(base + ".json") << small.to_json() << "\n";
    std::ofstream(base + ".txt") << "outcome: " << outcome_name(r.outcome) << "\nmessage: " << r.message << "\nreplay: te_fuzz --replay "
                                 << base << ".json\n\n" << describe(small, timeout_s);
    std::printf("  reproducer: %s.json (%d stages, extent cap %d, %s)\n", base.c_str(), small.num_stages, small.extent_cap, outcome_name(r.outcome));
    std::fflush(stdout);
  }
  std::printf("te_fuzz: %ld cases in %.0f s (seeds %llu..%llu), %ld failed\n", run, elapsed(), (unsigned long long)seed,
              (unsigned long long)(seed + uint64_t(run) - 1), failures);
  for (const auto& [target, by] : counts) {
    std::printf("  %s:", target.c_str());
    for (const auto& [o, n] : by) std::printf(" %s=%ld", outcome_name(o), n);
    std::printf("\n");
  }
  return failures ? 1 : 0;
}

}  // namespace
}  // namespace te::fuzz

int main(int argc, char** argv) {
  try {
    return te::fuzz::main_impl(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "te_fuzz: %s\n", e.what());
    return 2;
  }
}
