// bench/roofline.cc — how far each tuned kernel is from this machine's limits.
//
//   bench_roofline LOG [LOG ...]       (threads: TE_NUM_THREADS, default all cores)
//
// Measures the machine first: peak fp32 FMA throughput (AVX-512 where the CPU has it, else
// AVX2; 16 independent accumulator vectors per thread so the FMA units never wait) and memory
// bandwidth (a STREAM-like triad over arrays far larger than the caches), both with one thread
// per core used. Then, for the best valid record of every workload in the logs (replayed with
// apply_history_best and timed here again), prints GFLOP/s, its fraction of the FMA peak, the
// kernel's arithmetic intensity (flop per byte of its arguments, each read or written once:
// the least traffic any schedule can have) and its fraction of the roofline bound
// min(peak, intensity x bandwidth). For the memory-bound kernels (below the ridge point) what
// matters is the bandwidth: the table also gives the kernel's GB/s over those bytes, its
// fraction of the triad bandwidth, and where its arguments live between the timed runs (they
// are the same arrays every run): "L2" when they fit the threads' L2 caches — then the fraction
// of the triad can exceed 100% and says nothing about DRAM — else "beyond L2", the level of the
// triad's own 384 MiB arrays (L3/DRAM: the VM's L3 is the host's, shared). The triad is also measured over working sets of a few
// sizes, so each level's bandwidth is printed.
#include <immintrin.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <thread>
#include <vector>

#include "te/autotune/log.h"
#include "te/autotune/task.h"
#include "te/ops.h"
#include "te/te.h"

namespace at = te::autotune;

namespace {

using Clock = std::chrono::steady_clock;

int thread_count() {
  const char* env = std::getenv("TE_NUM_THREADS");
  int n = env ? std::atoi(env) : 0;
  return n > 0 ? n : int(std::max(1u, std::thread::hardware_concurrency()));
}

// Runs body(thread index) on n threads at once; returns the wall time.
template <typename F>
double run_threads(int n, F body) {
  std::vector<std::thread> threads;
  auto start = Clock::now();
  for (int t = 0; t < n; ++t) threads.emplace_back(body, t);
  for (std::thread& th : threads) th.join();
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// 16 independent chains of vector FMAs per thread: flop = iterations * 16 chains * lanes * 2.
__attribute__((target("avx512f"))) float fma_avx512(long iterations) {
  __m512 acc[16];
  for (int i = 0; i < 16; ++i) acc[i] = _mm512_set1_ps(float(i));
  const __m512 a = _mm512_set1_ps(0.999f), b = _mm512_set1_ps(0.001f);
  for (long it = 0; it < iterations; ++it)
    for (int i = 0; i < 16; ++i) acc[i] = _mm512_fmadd_ps(acc[i], a, b);
  __m512 sum = acc[0];
  for (int i = 1; i < 16; ++i) sum = _mm512_add_ps(sum, acc[i]);
  float out[16];
  _mm512_storeu_ps(out, sum);
  return out[0] + out[15];  // keeps the chains alive
}

__attribute__((target("avx2,fma"))) float fma_avx2(long iterations) {
  __m256 acc[16];
  for (int i = 0; i < 16; ++i) acc[i] = _mm256_set1_ps(float(i));
  const __m256 a = _mm256_set1_ps(0.999f), b = _mm256_set1_ps(0.001f);
  for (long it = 0; it < iterations; ++it)
    for (int i = 0; i < 16; ++i) acc[i] = _mm256_fmadd_ps(acc[i], a, b);
  float out[8];
  __m256 sum = acc[0];
  for (int i = 1; i < 16; ++i) sum = _mm256_add_ps(sum, acc[i]);
  _mm256_storeu_ps(out, sum);
  return out[0] + out[7];
}

// Best of 5 runs (a peak is a maximum, not a median).
double peak_gflops(int threads, int* lanes_out) {
  const bool avx512 = __builtin_cpu_supports("avx512f");
  const int lanes = avx512 ? 16 : 8;
  const long iterations = 20'000'000;
  std::vector<float> sink(static_cast<size_t>(threads));
  double best = 0;
  for (int r = 0; r < 5; ++r) {
    double seconds = run_threads(threads, [&](int t) {
      sink[size_t(t)] = avx512 ? fma_avx512(iterations) : fma_avx2(iterations);
    });
    best = std::max(best, double(threads) * iterations * 16 * lanes * 2 / seconds / 1e9);
  }
  *lanes_out = lanes;
  return best;
}

// a[i] = b[i] + s * c[i] over 3 arrays of n floats (default 3 x 128 MiB), each thread its own
// slice; 12 bytes per element. Small working sets repeat the triad so a run lasts ~10 ms.
double triad_gbps(int threads, size_t n = size_t(32) << 20) {
  std::vector<float> a(n), b(n, 1.0f), c(n, 2.0f);
  const int passes = int(std::max<size_t>(1, (size_t(32) << 20) / n));
  double best = 0;
  for (int r = 0; r < 5; ++r) {
    double seconds = run_threads(threads, [&](int t) {
      size_t begin = n * size_t(t) / size_t(threads), end = n * size_t(t + 1) / size_t(threads);
      for (int p = 0; p < passes; ++p) {
        for (size_t i = begin; i < end; ++i) a[i] = b[i] + 3.0f * c[i];
        asm volatile("" : : "r"(a.data()) : "memory");  // every pass is real work
      }
    });
    if (r > 0) best = std::max(best, 12.0 * double(n) * passes / seconds / 1e9);  // run 0 faults the pages in
  }
  return best;
}

double tensor_bytes(const te::Tensor& t) {
  double elements = 1;
  for (const te::Expr& e : t.shape()) elements *= double(*te::as_const_int(e));
  return elements * t.dtype().bytes();
}

std::vector<te::NDArray> arrays_for(const std::vector<te::Tensor>& tensors) {
  std::vector<te::NDArray> arrays;
  for (const te::Tensor& t : tensors) {
    std::vector<int64_t> shape;
    for (const te::Expr& e : t.shape()) shape.push_back(*te::as_const_int(e));
    te::NDArray a = te::NDArray::empty(shape, t.dtype());
    float* p = a.data_as<float>();  // the operators of the library are float32
    for (int64_t i = 0; i < a.numel(); ++i) p[i] = float(i % 5) * 0.125f;
    arrays.push_back(a);
  }
  return arrays;
}

int run(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s LOG [LOG ...]\n", argv[0]);
    return 1;
  }
  te::ops::register_builtin_templates();
  const int threads = thread_count();
  int lanes = 0;
  const double peak = peak_gflops(threads, &lanes);
  const double bandwidth = triad_gbps(threads);
  std::printf("machine: %s; %d thread(s): fp32 FMA peak %.1f GFLOP/s (%d-lane vectors), triad bandwidth %.1f GB/s\n"
              "ridge point: %.1f flop/byte\n\n",
              at::hardware_description(te::Target::parse("llvm")).c_str(), threads, peak, lanes, bandwidth,
              peak / bandwidth);
  // The triad per level: working sets within L1, within L2 and far beyond (the cache sizes are
  // lscpu's on the machines of BENCHMARKS.md; the sizes are per thread).
  std::printf("triad bandwidth by working set (3 arrays, all threads):");
  for (size_t kib : {24, 768, 8192, 49152}) {
    const size_t n = kib * 1024 / 12 * size_t(threads);
    std::printf(" %zu KiB/thread %.1f GB/s;", kib, triad_gbps(threads, n));
  }
  std::printf("\n\n");
  // L2 per core (2 MiB on the machines of BENCHMARKS.md): arguments that fit in the threads' L2
  // stay there between the timed runs.
  const double l2_bytes = 2.0 * 1024 * 1024 * threads;
  std::printf("| workload | te ms | GFLOP/s | of FMA peak | flop/byte | roofline bound GFLOP/s | of bound | GB/s | "
              "of triad | data in |\n"
              "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|\n");
  std::set<std::string> seen;
  for (int i = 1; i < argc; ++i) {
    const at::LogContents log = at::read_log(argv[i]);
    for (const at::Record& record : log.records) {
      if (record.target.rfind("llvm", 0) != 0 || !seen.insert(record.workload_key).second) continue;
      const std::optional<at::TemplateKey> key = at::parse_template_key(record.workload_key);
      if (!key || !at::has_template(key->name)) continue;
      const std::string& op = key->name;
      const std::vector<int64_t>& args = key->args;
      at::Task task = at::create_task(op, args, record.target);
      if (!at::best_record(log.records, task.workload_key, task.target.str())) continue;
      at::Instance best = at::apply_history_best(argv[i], task);
      te::Module f = te::build(best.schedule, best.args, "llvm", "kernel");
      const double seconds = f.time_evaluator(arrays_for(best.args), 1, 15, 20).median;
      double bytes = 0;
      for (const te::Tensor& t : best.args) bytes += tensor_bytes(t);
      const double gflops = task.flop / seconds / 1e9, intensity = task.flop / bytes;
      const double bound = std::min(peak, intensity * bandwidth);
      const double gbps = bytes / seconds / 1e9;
      std::printf("| %s | %.3f | %.1f | %.0f%% | %.2f | %.1f | %.0f%% | %.1f | %.0f%% | %s (%.1f MiB) |\n",
                  task.workload_key.c_str(), seconds * 1e3, gflops, 100 * gflops / peak, intensity, bound,
                  100 * gflops / bound, gbps, 100 * gbps / bandwidth, bytes <= l2_bytes ? "L2" : "beyond L2",
                  bytes / (1024.0 * 1024.0));
    }
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(argc, argv);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_roofline: %s\n", e.what());
    return 1;
  }
}
