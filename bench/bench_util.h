// bench/bench_util.h — the timing loop and inputs every bench_tuned_cpu table shares, so that
// te and the library it is compared with are always timed the same way.
#pragma once
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "te/ops.h"
#include "te/te.h"

namespace bench {

// How long the threads of the library timed before go on spinning after its last call, and
// so how long median_seconds first waits: OpenBLAS's pthread workers poll (sched_yield) for
// 2^28 TSC cycles (THREAD_TIMEOUT, about 0.1 s here), libgomp's (oneDNN) for GOMP_SPINCOUNT
// spins, te's pool for 20000 pauses. Timed while another library's threads still spin, a
// 2-thread kernel loses up to 20% of one core (measured: bench/gemm_configs.py's header), so
// whichever library came second looked slower than it is.
// BENCH_SETTLE_SECONDS overrides it (0: the old back-to-back timing, to compare).
inline double settle_seconds() {
  static const double seconds = [] {
    const char* env = std::getenv("BENCH_SETTLE_SECONDS");
    return env ? std::atof(env) : 0.25;
  }();
  return seconds;
}

constexpr int kRepeats = 15;               // timed repeats per measurement; the median is kept
constexpr double kMinRepeatSeconds = 0.02;  // one repeat's batch of calls lasts at least this

inline void settle() { std::this_thread::sleep_for(std::chrono::duration<double>(settle_seconds())); }

// Seconds one batch of `number` calls of `run` takes.
inline double batch_seconds(const std::function<void()>& run, int number) {
  auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < number; ++i) run();
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

// After settle_seconds() of sleep and one warm-up call (which also first-touches the outputs and
// wakes the library's own threads): the number of calls, doubled from 1, that makes a batch last
// kMinRepeatSeconds (sub-millisecond kernels would otherwise be timed at the clock's resolution).
inline int calls_per_repeat(const std::function<void()>& run) {
  settle();
  run();
  int number = 1;
  while (batch_seconds(run, number) < kMinRepeatSeconds && number < 1 << 20) number *= 2;
  return number;
}

inline double median_of(std::vector<double> times) {
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

// Median seconds per call of `run`: calls_per_repeat, then kRepeats batches back to back.
inline double median_seconds(const std::function<void()>& run) {
  const int number = calls_per_repeat(run);
  std::vector<double> times;
  for (int r = 0; r < kRepeats; ++r) times.push_back(batch_seconds(run, number) / number);
  return median_of(times);
}

// Median seconds per call of each of `runs`, timed interleaved: each run's batch size is set by
// calls_per_repeat, then kRepeats rounds, in each every run in turn gets settle_seconds() of
// sleep, one warm-up call and its timed batch. A slow spell of the host (these VMs have them,
// seconds long) then hits every library in the round alike instead of one row's whole
// measurement, so the ratios of the medians move less between runs. The GEMM tables use it.
inline std::vector<double> median_seconds_interleaved(const std::vector<std::function<void()>>& runs) {
  std::vector<int> number;
  for (const auto& run : runs) number.push_back(calls_per_repeat(run));
  std::vector<std::vector<double>> times(runs.size());
  for (int repeat = 0; repeat < kRepeats; ++repeat)
    for (size_t r = 0; r < runs.size(); ++r) {
      settle();
      runs[r]();
      times[r].push_back(batch_seconds(runs[r], number[r]) / number[r]);
    }
  std::vector<double> medians;
  for (const std::vector<double>& t : times) medians.push_back(median_of(t));
  return medians;
}

// A float32 array of `shape` with values uniform in [-1, 1), reproducible from `seed`.
inline te::NDArray random_array(const std::vector<int64_t>& shape, uint64_t seed) {
  te::NDArray a = te::NDArray::empty(shape);
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  float* p = a.data_as<float>();
  for (int64_t i = 0; i < a.numel(); ++i) p[i] = dist(rng);
  return a;
}

// "" when every element of got[0, n) agrees with ref within 1e-5 * reduction + 1e-4 (relative to
// 1 + |ref|: the error of a float32 sum grows with its length); else the first difference.
inline std::string compare_close(const float* got, const float* ref, int64_t n, int64_t reduction,
                                 const std::string& what) {
  const double tolerance = 1e-5 * double(reduction) + 1e-4;
  for (int64_t i = 0; i < n; ++i)
    if (!(std::fabs(double(got[i]) - double(ref[i])) <= tolerance * (1 + std::fabs(double(ref[i])))))
      return "MISMATCH vs " + what + " at " + std::to_string(i) + ": te " + std::to_string(got[i]) + " vs " +
             std::to_string(ref[i]);
  return "";
}

// The constant shape of t.
inline std::vector<int64_t> const_shape(const te::Tensor& t) {
  std::vector<int64_t> shape;
  for (const te::Expr& e : t.shape()) shape.push_back(*te::as_const_int(e));
  return shape;
}

// The bytes of a kernel's arguments, each read or written once (the least traffic any schedule has).
inline double argument_bytes(const std::vector<te::Tensor>& args) {
  double bytes = 0;
  for (const te::Tensor& t : args) {
    double elements = 1;
    for (int64_t d : const_shape(t)) elements *= double(d);
    bytes += elements * t.dtype().bytes();
  }
  return bytes;
}

// The label of workload (op, args) in the set `preferred` when it is there, else in the first set
// that has it; "" in none.
inline std::string workload_label(const std::string& op, const std::vector<int64_t>& args,
                                  const std::string& preferred = "") {
  std::string first;
  for (const te::ops::WorkloadSet& set : te::ops::workload_sets())
    for (const te::ops::Workload& w : set.workloads)
      if (w.op == op && w.args == args) {
        if (set.name == preferred) return w.label;
        if (first.empty()) first = w.label;
      }
  return first;
}

}  // namespace bench
