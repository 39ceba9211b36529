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

// Median seconds per call of `run`: after settle_seconds() of sleep, one warm-up call (which
// also first-touches the outputs and wakes the library's own threads), then calls batched so
// that each of 15 repeats lasts at least 20 ms (sub-millisecond kernels would otherwise be
// timed at the clock's resolution).
inline double median_seconds(const std::function<void()>& run) {
  using Clock = std::chrono::steady_clock;
  constexpr int kRepeats = 15;
  constexpr double kMinRepeatSeconds = 0.02;
  std::this_thread::sleep_for(std::chrono::duration<double>(settle_seconds()));
  run();
  int number = 1;
  for (;;) {
    auto t0 = Clock::now();
    for (int i = 0; i < number; ++i) run();
    if (std::chrono::duration<double>(Clock::now() - t0).count() >= kMinRepeatSeconds || number >= 1 << 20) break;
    number *= 2;
  }
  std::vector<double> times;
  for (int r = 0; r < kRepeats; ++r) {
    auto t0 = Clock::now();
    for (int i = 0; i < number; ++i) run();
    times.push_back(std::chrono::duration<double>(Clock::now() - t0).count() / number);
  }
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

// Median seconds per call of each of `runs`, timed interleaved: each run's batch size is set
// as in median_seconds (calls lasting >= 20 ms), then 15 rounds, in each every run in turn gets
// settle_seconds() of sleep, one warm-up call and its timed batch. A slow spell of the host (these
// VMs have them, seconds long) then hits every library in the round alike instead of one row's
// whole measurement, so the ratios of the medians move less between runs. The GEMM tables use it.
inline std::vector<double> median_seconds_interleaved(const std::vector<std::function<void()>>& runs) {
  using Clock = std::chrono::steady_clock;
  constexpr int kRepeats = 15;
  constexpr double kMinRepeatSeconds = 0.02;
  auto settle = [] { std::this_thread::sleep_for(std::chrono::duration<double>(settle_seconds())); };
  std::vector<int> number(runs.size(), 1);
  for (size_t r = 0; r < runs.size(); ++r) {
    settle();
    runs[r]();
    for (;;) {
      auto t0 = Clock::now();
      for (int i = 0; i < number[r]; ++i) runs[r]();
      if (std::chrono::duration<double>(Clock::now() - t0).count() >= kMinRepeatSeconds || number[r] >= 1 << 20) break;
      number[r] *= 2;
    }
  }
  std::vector<std::vector<double>> times(runs.size());
  for (int repeat = 0; repeat < kRepeats; ++repeat)
    for (size_t r = 0; r < runs.size(); ++r) {
      settle();
      runs[r]();
      auto t0 = Clock::now();
      for (int i = 0; i < number[r]; ++i) runs[r]();
      times[r].push_back(std::chrono::duration<double>(Clock::now() - t0).count() / number[r]);
    }
  std::vector<double> medians;
  for (std::vector<double>& t : times) {
    std::sort(t.begin(), t.end());
    medians.push_back(t[t.size() / 2]);
  }
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
