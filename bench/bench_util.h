// bench/bench_util.h — the timing loop and inputs every bench_tuned_cpu table shares, so that
// te and the library it is compared with are always timed the same way.
#pragma once
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "te/te.h"

namespace bench {

// Median seconds per call of `run`: one warm-up call (which also first-touches the outputs),
// then calls batched so that each of 15 repeats lasts at least 20 ms (sub-millisecond kernels
// would otherwise be timed at the clock's resolution).
inline double median_seconds(const std::function<void()>& run) {
  using Clock = std::chrono::steady_clock;
  constexpr int kRepeats = 15;
  constexpr double kMinRepeatSeconds = 0.02;
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

// A float32 array of `shape` with values uniform in [-1, 1), reproducible from `seed`.
inline te::NDArray random_array(const std::vector<int64_t>& shape, uint64_t seed) {
  te::NDArray a = te::NDArray::empty(shape);
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  float* p = a.data_as<float>();
  for (int64_t i = 0; i < a.numel(); ++i) p[i] = dist(rng);
  return a;
}

}  // namespace bench
