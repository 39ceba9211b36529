// bench/matmul_cpu.cc — fp32 matmul C[M,N] = A[M,K] · B[K,N] (1024³ by default): te's ladder
// of hand schedules (the steps of TVM's "how to optimize GEMM on CPU") next to oneDNN's
// dnnl_sgemm and OpenBLAS's cblas_sgemm, in one process at one thread count.
//
//   usage: bench_matmul_cpu [M N K [threads [repeats]]]
//
// `threads` goes to TE_NUM_THREADS (te's pool), OMP_NUM_THREADS (oneDNN) and
// OPENBLAS_NUM_THREADS; the libraries read those when they load, so the program re-executes
// itself once when its environment said otherwise. Measure each thread count in its own
// process (bench/run_matmul_cpu.sh does): switching inside one process gave erratic numbers.
//
// Every row is checked against oneDNN's result on the same inputs, then timed on fresh random
// inputs: median of `repeats` calls after a warm-up. Each te row runs in a child process, so a
// schedule te rejects, a crash in generated code, or a function libte does not have yet shows
// as that row's error and the next row still runs. The te part uses only include/te/te.h.
#include <cblas.h>
#include <dnnl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <thread>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "te/te.h"

namespace {

struct Shape {
  int64_t m = 1024, n = 1024, k = 1024;
  double gflop() const { return 2.0 * double(m) * double(n) * double(k) * 1e-9; }
};

struct Options {
  Shape shape;
  int threads = 1;
  int repeats = 10;
};

// Tile sizes of the ladder. kPackWidth is one AVX-512 vector of fp32; once B is packed the
// j tile is one packed block, so the vectorized inner axis reads contiguous memory. The last
// rung is examples/matmul_cpu.cc's schedule: 8×32 register tiles over 32-column panels.
constexpr int kTile = 32;
constexpr int kSplitK = 4;
constexpr int kPackWidth = 16;
constexpr int kRegisterTileRows = 16;  // rows of the register-resident tile (write-cache rungs)
constexpr int kExampleTileRows = 8, kExamplePackWidth = 32;
// Timing budget per row: slow rows (naive) get fewer repeats instead of minutes.
constexpr double kRowBudgetSeconds = 3.0;

double now_seconds() {
  using Clock = std::chrono::steady_clock;
  return std::chrono::duration<double>(Clock::now().time_since_epoch()).count();
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  size_t h = v.size() / 2;
  return v.size() % 2 ? v[h] : 0.5 * (v[h - 1] + v[h]);
}

void fill_uniform(te::NDArray& a, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  float* p = a.data_as<float>();
  for (int64_t i = 0; i < a.numel(); ++i) p[i] = dist(rng);
}

te::NDArray random_matrix(int64_t rows, int64_t cols, uint64_t seed) {
  te::NDArray a = te::NDArray::empty({rows, cols});
  fill_uniform(a, seed);
  return a;
}

// "" when c matches ref. The tolerance allows for a different summation order over K.
std::string check_against(const te::NDArray& c, const te::NDArray& ref, int64_t k) {
  const float* x = c.data_as<float>();
  const float* y = ref.data_as<float>();
  double atol = 1e-4 * std::sqrt(double(k)), rtol = 1e-4;
  for (int64_t i = 0; i < ref.numel(); ++i) {
    if (!(std::fabs(double(x[i]) - y[i]) <= atol + rtol * std::fabs(y[i]))) {
      char buf[160];
      std::snprintf(buf, sizeof buf, "WRONG: element %lld is %g, oneDNN gives %g",
                    static_cast<long long>(i), double(x[i]), double(y[i]));
      return buf;
    }
  }
  return "";
}

// ------------------------------------------------------------------ baselines
void onednn_gemm(const Shape& s, const te::NDArray& a, const te::NDArray& b, te::NDArray& c) {
  dnnl_status_t status = dnnl_sgemm('N', 'N', s.m, s.n, s.k, 1.0f, a.data_as<float>(), s.k,
                                    b.data_as<float>(), s.n, 0.0f, c.data_as<float>(), s.n);
  if (status != dnnl_success) throw std::runtime_error("dnnl_sgemm failed with status " + std::to_string(status));
}

void openblas_gemm(const Shape& s, const te::NDArray& a, const te::NDArray& b, te::NDArray& c) {
  cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, s.m, s.n, s.k, 1.0f, a.data_as<float>(),
              s.k, b.data_as<float>(), s.n, 0.0f, c.data_as<float>(), s.n);
}

// ------------------------------------------------------------------ te's ladder
struct TeMatmul {
  te::Tensor a, b, c;
  te::Tensor packed_b;  // defined when the rung packs B
  te::Schedule sched;
};

// C = A·B, or with pack_b through packedB[j / w][k][j % w] = B[k][j] (w = pack_width; the
// layout is part of the compute, as in TVM's tutorial), so the inner j loop reads B
// contiguously.
TeMatmul define_matmul(const Shape& s, bool pack_b, int pack_width) {
  using te::Expr;
  using te::Var;
  TeMatmul mm;
  const int m = int(s.m), n = int(s.n), k = int(s.k);
  mm.a = te::placeholder({m, k}, te::DataType::float32(), "A");
  mm.b = te::placeholder({k, n}, te::DataType::float32(), "B");
  te::IterVar kv = te::reduce_axis(te::Range(0, k), "k");
  const te::Tensor& a = mm.a;
  const te::Tensor& b = mm.b;
  if (!pack_b) {
    mm.c = te::compute(
        {m, n}, [&](const std::vector<Var>& i) { return te::sum(a(i[0], kv.var()) * b(kv.var(), i[1]), {kv}); },
        "C");
  } else {
    const int blocks = (n + pack_width - 1) / pack_width;
    mm.packed_b = te::compute(
        {blocks, k, pack_width},
        [&](const std::vector<Var>& i) {
          Expr col = i[0] * pack_width + i[2];
          // Only a partial last block needs the guard.
          return n % pack_width == 0 ? b(i[1], col) : te::if_then_else(col < n, b(i[1], col), Expr(0.0f));
        },
        "packedB");
    const te::Tensor& packed = mm.packed_b;
    mm.c = te::compute(
        {m, n},
        [&](const std::vector<Var>& i) {
          Expr j = i[1];
          return te::sum(a(i[0], kv.var()) * packed(te::floordiv(j, pack_width), kv.var(), te::floormod(j, pack_width)),
                         {kv});
        },
        "C");
  }
  mm.sched = te::create_schedule({mm.c.op()});
  return mm;
}

const te::ComputeOpNode* compute_of(const te::Stage& st) { return st->op.as<te::ComputeOpNode>(); }

// The options each rung adds to the one before it.
struct Ladder {
  bool tiled = false, vectorized = false, permuted = false, packed = false, cached = false,
       parallel = false;
  bool example = false;  // examples/matmul_cpu.cc's tiles and loop order
};

TeMatmul schedule_rung(const Shape& s, const Ladder& l) {
  const int pack_width = l.example ? kExamplePackWidth : kPackWidth;
  TeMatmul mm = define_matmul(s, l.packed, pack_width);
  te::Schedule& sch = mm.sched;
  if (!l.tiled) return mm;
  te::Tensor cache;
  if (l.cached) cache = sch.cache_write(mm.c, "local");
  te::Stage st = sch[mm.c];
  const int tile_i = l.example ? kExampleTileRows : l.cached ? kRegisterTileRows : kTile;
  const int tile_j = l.packed ? pack_width : kTile;
  auto [io, jo, ii, ji] = st.tile(compute_of(st)->axis[0], compute_of(st)->axis[1], tile_i, tile_j);
  // The example's order: column panels outermost, so one panel of packed B stays in L2.
  if (l.example) st.reorder({jo, io, ii, ji});
  if (l.cached) {
    // A 16×16 (8×32) tile of C is accumulated in a local buffer computed inside the tile
    // loop, then copied out. With its rows unrolled and its columns vectorized, LLVM keeps
    // the whole tile in 16 AVX-512 registers across the k loop.
    te::Stage cst = sch[cache];
    cst.compute_at(st, l.example ? io : jo);
    te::IterVar mc = compute_of(cst)->axis[0], nc = compute_of(cst)->axis[1];
    cst.reorder({compute_of(cst)->reduce_axis[0], mc, nc});
    cst.unroll(mc);
    cst.vectorize(nc);
  } else {
    auto [ko, ki] = st.split(compute_of(st)->reduce_axis[0], kSplitK);
    if (l.permuted) st.reorder({io, jo, ko, ii, ki, ji});
    else st.reorder({io, jo, ko, ki, ii, ji});
  }
  if (l.vectorized) st.vectorize(ji);
  if (l.parallel) st.parallel(l.example ? jo : io);
  if (l.packed) {
    te::Stage pst = sch[mm.packed_b];
    pst.vectorize(compute_of(pst)->axis[2]);
    if (l.parallel) pst.parallel(compute_of(pst)->axis[0]);
  }
  return mm;
}

struct Rung {
  const char* name;
  Ladder ladder;
};

std::vector<Rung> ladder_rungs() {
  Ladder l;
  std::vector<Rung> rungs;
  rungs.push_back({"te naive", l});
  l.tiled = true;
  rungs.push_back({"te blocked 32x32, k/4", l});
  l.vectorized = true;
  rungs.push_back({"te + vectorize j", l});
  l.permuted = true;
  rungs.push_back({"te + permute (k outside i)", l});
  l.packed = true;
  rungs.push_back({"te + packed B (j/16)", l});
  l.cached = true;
  rungs.push_back({"te + write cache 16x16 (local)", l});
  l.parallel = true;
  rungs.push_back({"te + parallel outer i", l});
  l.example = true;
  rungs.push_back({"te examples/matmul_cpu 8x32", l});
  return rungs;
}

// ------------------------------------------------------------------ rows
struct Row {
  std::string name;
  double median_s = 0, compile_s = -1;
  std::string check;  // "ok", "reference", "WRONG: ...", or the error
  bool ran = false;
};

// What a te row's child process sends back through a pipe.
struct ChildReport {
  int ran;
  double median_s, compile_s;
  char check[400];
};

struct Problem {
  Shape shape;
  te::NDArray a, b, c_ref;  // verification inputs and oneDNN's answer
};

Row run_te_rung_in_this_process(const Problem& p, const Rung& rung, int repeats, uint64_t seed) {
  Row row;
  row.name = rung.name;
  const Shape& s = p.shape;
  double t0 = now_seconds();
  TeMatmul mm = schedule_rung(s, rung.ladder);
  te::Module mod = te::build(mm.sched, {mm.a, mm.b, mm.c}, "llvm", "matmul");
  row.compile_s = now_seconds() - t0;

  te::NDArray c = te::NDArray::empty({s.m, s.n});
  c.fill_poison();
  double t1 = now_seconds();
  mod({p.a, p.b, c});
  double first_call = now_seconds() - t1;
  std::string bad = check_against(c, p.c_ref, s.k);
  row.check = bad.empty() ? "ok" : bad;

  te::NDArray a = random_matrix(s.m, s.k, seed), b = random_matrix(s.k, s.n, seed + 1);
  int budget_repeats = int(kRowBudgetSeconds / std::max(first_call, 1e-6));
  int n = std::clamp(budget_repeats, 1, repeats);
  te::Module::TimeResult t = mod.time_evaluator({a, b, c}, /*number=*/1, /*repeat=*/n);
  row.median_s = t.median;
  row.ran = true;
  return row;
}

Row run_te_rung(const Problem& p, const Rung& rung, int repeats, uint64_t seed) {
  int fds[2];
  if (pipe(fds) != 0) return Row{rung.name, 0, -1, "te: pipe() failed", false};
  std::fflush(stdout);
  std::fflush(stderr);
  pid_t pid = fork();
  if (pid < 0) return Row{rung.name, 0, -1, "te: fork() failed", false};
  if (pid == 0) {
    close(fds[0]);
    ChildReport report{};
    try {
      Row row = run_te_rung_in_this_process(p, rung, repeats, seed);
      report.ran = 1;
      report.median_s = row.median_s;
      report.compile_s = row.compile_s;
      std::snprintf(report.check, sizeof report.check, "%s", row.check.c_str());
    } catch (const std::exception& e) {
      std::snprintf(report.check, sizeof report.check, "te: %s", e.what());
    }
    ssize_t written = write(fds[1], &report, sizeof report);
    _exit(written == ssize_t(sizeof report) ? 0 : 1);
  }
  close(fds[1]);
  ChildReport report{};
  size_t got = 0;
  while (got < sizeof report) {
    ssize_t r = read(fds[0], reinterpret_cast<char*>(&report) + got, sizeof report - got);
    if (r <= 0) break;
    got += size_t(r);
  }
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (got != sizeof report) {
    std::string why = WIFSIGNALED(status) ? "te: crashed with signal " + std::to_string(WTERMSIG(status)) +
                                                " (" + strsignal(WTERMSIG(status)) + ")"
                                          : "te: exited with status " + std::to_string(WEXITSTATUS(status)) +
                                                " (see stderr)";
    return Row{rung.name, 0, -1, why, false};
  }
  report.check[sizeof report.check - 1] = '\0';
  return Row{rung.name, report.median_s, report.compile_s, report.check, report.ran != 0};
}

using Gemm = void (*)(const Shape&, const te::NDArray&, const te::NDArray&, te::NDArray&);

Row run_baseline(const char* name, Gemm gemm, const Problem& p, int repeats, uint64_t seed) {
  const Shape& s = p.shape;
  Row row;
  row.name = name;
  te::NDArray c = te::NDArray::empty({s.m, s.n});
  c.fill_poison();
  gemm(s, p.a, p.b, c);
  std::string bad = check_against(c, p.c_ref, s.k);
  row.check = bad.empty() ? "ok" : bad;
  te::NDArray a = random_matrix(s.m, s.k, seed), b = random_matrix(s.k, s.n, seed + 1);
  gemm(s, a, b, c);  // warm-up
  std::vector<double> times;
  for (int r = 0; r < repeats; ++r) {
    double t0 = now_seconds();
    gemm(s, a, b, c);
    times.push_back(now_seconds() - t0);
  }
  row.median_s = median(times);
  row.ran = true;
  return row;
}

// ------------------------------------------------------------------ set-up and output
std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("model name", 0) == 0) return line.substr(line.find(':') + 2);
  return "unknown CPU";
}

// Other processes skew timings on a shared 2-core machine: the table says how busy it was.
std::string load_average() {
  std::ifstream in("/proc/loadavg");
  std::string one, five, fifteen;
  in >> one >> five >> fifteen;
  return one.empty() ? "unknown" : one + " " + five + " " + fifteen;
}

const char* env_or(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  return v ? v : fallback;
}

// The libraries read their thread counts when they load: set them and start over once.
void apply_thread_count(int threads, char** argv) {
  std::string want = std::to_string(threads);
  bool changed = false;
  for (const char* name : {"TE_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS"}) {
    const char* current = std::getenv(name);
    if (!current || want != current) {
      setenv(name, want.c_str(), 1);
      changed = true;
    }
  }
  if (changed && !std::getenv("TE_BENCH_REEXECUTED")) {
    setenv("TE_BENCH_REEXECUTED", "1", 1);
    execv("/proc/self/exe", argv);
    std::perror("bench_matmul_cpu: re-executing with the thread count failed; continuing");
  }
}

bool parse_options(int argc, char** argv, Options& o) {
  if (argc > 1 && (std::strcmp(argv[1], "-h") == 0 || std::strcmp(argv[1], "--help") == 0)) return false;
  if (argc != 1 && argc != 4 && argc != 5 && argc != 6) return false;
  try {
    if (argc >= 4) o.shape = Shape{std::stoll(argv[1]), std::stoll(argv[2]), std::stoll(argv[3])};
    if (argc >= 5) o.threads = std::stoi(argv[4]);
    if (argc >= 6) o.repeats = std::stoi(argv[5]);
  } catch (const std::exception&) {
    return false;
  }
  return o.shape.m > 0 && o.shape.n > 0 && o.shape.k > 0 && o.threads > 0 && o.repeats > 0;
}

void print_row(const Row& row, double dnnl_seconds, double gflop) {
  if (!row.ran) {
    std::printf("%-30s %s\n", row.name.c_str(), row.check.c_str());
    return;
  }
  char compile[32] = "";
  if (row.compile_s >= 0) std::snprintf(compile, sizeof compile, "%.2f", row.compile_s);
  std::printf("%-30s %10.2f %9.1f %9.2f %9s  %s\n", row.name.c_str(), row.median_s * 1e3,
              gflop / row.median_s, dnnl_seconds / row.median_s, compile, row.check.c_str());
}

}  // namespace

int main(int argc, char** argv) {
  Options opt;
  if (!parse_options(argc, argv, opt)) {
    std::fprintf(stderr, "usage: %s [M N K [threads [repeats]]]   (default 1024 1024 1024 1 10)\n", argv[0]);
    return 2;
  }
  apply_thread_count(opt.threads, argv);
  const Shape& s = opt.shape;

  const dnnl_version_t* dv = dnnl_version();
  std::printf("matmul fp32 C[M,N] = A[M,K]·B[K,N], M=%lld N=%lld K=%lld, %d thread(s), median of %d runs after a warm-up\n",
              static_cast<long long>(s.m), static_cast<long long>(s.n), static_cast<long long>(s.k), opt.threads,
              opt.repeats);
  std::printf("cpu: %s, load average %s\n", cpu_model().c_str(), load_average().c_str());
  std::printf("env: TE_NUM_THREADS=%s OMP_NUM_THREADS=%s OPENBLAS_NUM_THREADS=%s OPENBLAS_CORETYPE=%s\n",
              env_or("TE_NUM_THREADS", "-"), env_or("OMP_NUM_THREADS", "-"), env_or("OPENBLAS_NUM_THREADS", "-"),
              env_or("OPENBLAS_CORETYPE", "(unset: OpenBLAS picks its kernels itself)"));
  const char* dnnl_runtime = dv->cpu_runtime == DNNL_RUNTIME_OMP ? "OpenMP"
                             : dv->cpu_runtime == DNNL_RUNTIME_SEQ ? "sequential"
                                                                   : "other";
  std::printf("oneDNN %d.%d.%d (%s threads), OpenBLAS kernels: %s\n\n", dv->major, dv->minor, dv->patch,
              dnnl_runtime, openblas_get_corename());

  Problem p;
  p.shape = s;
  p.a = random_matrix(s.m, s.k, 1);
  p.b = random_matrix(s.k, s.n, 2);
  p.c_ref = te::NDArray::empty({s.m, s.n});
  onednn_gemm(s, p.a, p.b, p.c_ref);

  std::printf("%-30s %10s %9s %9s %9s  %s\n", "implementation", "median ms", "GFLOP/s", "vs oneDNN",
              "compile s", "check against oneDNN");
  uint64_t seed = 100;
  // OpenMP and OpenBLAS workers keep spinning for a while after a call; on a 2-core machine
  // they would steal a core from whichever row runs next. A pause before each row lets them
  // go to sleep, so every row (baselines included) starts on idle cores.
  auto settle = [] { std::this_thread::sleep_for(std::chrono::milliseconds(500)); };
  settle();
  Row dnnl = run_baseline("oneDNN dnnl_sgemm", onednn_gemm, p, opt.repeats, seed += 2);
  dnnl.check = "reference";
  print_row(dnnl, dnnl.median_s, s.gflop());
  settle();
  Row openblas = run_baseline("OpenBLAS cblas_sgemm", openblas_gemm, p, opt.repeats, seed += 2);
  print_row(openblas, dnnl.median_s, s.gflop());
  // A row that ran and gave a wrong answer fails the run; a row te could not build does not.
  bool any_wrong = openblas.check != "ok";
  for (const Rung& rung : ladder_rungs()) {
    settle();
    Row row = run_te_rung(p, rung, opt.repeats, seed += 2);
    print_row(row, dnnl.median_s, s.gflop());
    any_wrong = any_wrong || (row.ran && row.check != "ok");
  }
  return any_wrong ? 1 : 0;
}
