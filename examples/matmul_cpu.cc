// examples/matmul_cpu.cc — the main job (scripts/main.sh): a 1024³ fp32 matmul written as a
// tensor expression, scheduled by hand, compiled by te for this CPU, and timed next to
// oneDNN's dnnl_sgemm in the same process. Exits 1 when te's result differs from oneDNN's.
//
//   usage: matmul_cpu [M N K]      threads: TE_NUM_THREADS (te), OMP_NUM_THREADS (oneDNN)
//
// bench/matmul_cpu.cc has the whole ladder of schedules and OpenBLAS too.
#include <dnnl.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "te/te.h"

namespace {

// An 8×32 tile of C is 16 AVX-512 registers of fp32: small enough to stay in registers for
// the whole k loop, wide enough that each broadcast element of A feeds two FMAs.
constexpr int kTileRows = 8;
constexpr int kPackWidth = 32;  // columns per tile = columns per packed panel of B

struct Matmul {
  te::Tensor a, b, c;
  te::Schedule sched;
};

// What: C[i, j] = sum_k A[i, k] * B[k, j], with B first repacked into 32-column panels
// (packedB[j / 32][k][j % 32]) so that the innermost loop reads it contiguously.
// How: 8×32 tiles of C, each accumulated in a local buffer (rows unrolled, columns
// vectorized, so LLVM keeps it in registers) and copied out; column panels outermost and
// shared among threads.
Matmul define_and_schedule(int m, int n, int k) {
  using te::Expr;
  using te::Var;
  Matmul mm;
  mm.a = te::placeholder({m, k}, te::DataType::float32(), "A");
  mm.b = te::placeholder({k, n}, te::DataType::float32(), "B");
  const te::Tensor a = mm.a, b = mm.b;
  te::IterVar kv = te::reduce_axis(te::Range(0, k), "k");

  const int panels = (n + kPackWidth - 1) / kPackWidth;
  te::Tensor packed = te::compute(
      {panels, k, kPackWidth},
      [&](const std::vector<Var>& i) {
        Expr col = i[0] * kPackWidth + i[2];
        return n % kPackWidth == 0 ? b(i[1], col) : te::if_then_else(col < n, b(i[1], col), Expr(0.0f));
      },
      "packedB");
  mm.c = te::compute(
      {m, n},
      [&](const std::vector<Var>& i) {
        Expr j = i[1];
        return te::sum(a(i[0], kv.var()) * packed(te::floordiv(j, kPackWidth), kv.var(), te::floormod(j, kPackWidth)),
                       {kv});
      },
      "C");

  te::Schedule& s = mm.sched = te::create_schedule({mm.c.op()});
  te::Tensor acc = s.cache_write(mm.c, "local");
  te::Stage out = s[mm.c];
  const auto* out_op = out->op.as<te::ComputeOpNode>();
  auto [io, jo, ii, ji] = out.tile(out_op->axis[0], out_op->axis[1], kTileRows, kPackWidth);
  // Column panels outermost: one 32-column panel of packed B (128 KiB at K=1024) stays in L2
  // while every row tile passes over it; the panels are shared among threads.
  out.reorder({jo, io, ii, ji});
  out.vectorize(ji);
  out.parallel(jo);

  te::Stage acc_stage = s[acc];
  acc_stage.compute_at(out, io);
  const auto* acc_op = acc_stage->op.as<te::ComputeOpNode>();
  acc_stage.reorder({acc_op->reduce_axis[0], acc_op->axis[0], acc_op->axis[1]});
  acc_stage.unroll(acc_op->axis[0]);
  acc_stage.vectorize(acc_op->axis[1]);

  te::Stage pack_stage = s[packed];
  const auto* pack_op = pack_stage->op.as<te::ComputeOpNode>();
  pack_stage.vectorize(pack_op->axis[2]);
  pack_stage.parallel(pack_op->axis[0]);
  return mm;
}

te::NDArray random_matrix(int64_t rows, int64_t cols, uint64_t seed) {
  te::NDArray x = te::NDArray::empty({rows, cols});
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  for (int64_t i = 0; i < x.numel(); ++i) x.data_as<float>()[i] = dist(rng);
  return x;
}

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  int m = 1024, n = 1024, k = 1024;
  if (argc == 4) {
    m = std::atoi(argv[1]), n = std::atoi(argv[2]), k = std::atoi(argv[3]);
  }
  if ((argc != 1 && argc != 4) || m <= 0 || n <= 0 || k <= 0) {
    std::fprintf(stderr, "usage: %s [M N K]   (positive sizes; default 1024 1024 1024)\n", argv[0]);
    return 2;
  }
  const double gflop = 2.0 * m * n * k * 1e-9;
  const int repeats = 10;
  te::NDArray a = random_matrix(m, k, 1), b = random_matrix(k, n, 2);
  te::NDArray c = te::NDArray::empty({m, n}), c_dnnl = te::NDArray::empty({m, n});

  try {
    auto t0 = std::chrono::steady_clock::now();
    Matmul mm = define_and_schedule(m, n, k);
    te::Module kernel = te::build(mm.sched, {mm.a, mm.b, mm.c}, "llvm", "matmul");
    std::printf("te: compiled %dx%dx%d fp32 matmul in %.2f s\n", m, n, k, seconds_since(t0));
    if (std::getenv("TE_PRINT_LOWERED")) std::printf("%s\n", te::to_string(kernel.func()).c_str());

    c.fill_poison();
    kernel({a, b, c});
    auto dnnl = [&] {
      if (dnnl_sgemm('N', 'N', m, n, k, 1.0f, a.data_as<float>(), k, b.data_as<float>(), n, 0.0f,
                     c_dnnl.data_as<float>(), n) != dnnl_success)
        throw std::runtime_error("dnnl_sgemm failed");
    };
    dnnl();

    // Same inputs, different summation orders: allow for rounding that grows with sqrt(K).
    const double atol = 1e-4 * std::sqrt(double(k)), rtol = 1e-4;
    int64_t bad = 0;
    double max_err = 0;
    for (int64_t i = 0; i < c.numel(); ++i) {
      double x = c.data_as<float>()[i], y = c_dnnl.data_as<float>()[i];
      double err = std::fabs(x - y);
      if (!(err <= atol + rtol * std::fabs(y))) ++bad;
      if (!(err <= max_err)) max_err = err;  // NaN sticks
    }

    double te_median = kernel.time_evaluator({a, b, c}, 1, repeats).median;
    dnnl();  // warm-up
    std::vector<double> times;
    for (int r = 0; r < repeats; ++r) {
      auto t = std::chrono::steady_clock::now();
      dnnl();
      times.push_back(seconds_since(t));
    }
    std::sort(times.begin(), times.end());
    double dnnl_median = times[times.size() / 2];

    std::printf("threads: TE_NUM_THREADS=%s OMP_NUM_THREADS=%s (median of %d runs)\n",
                std::getenv("TE_NUM_THREADS") ? std::getenv("TE_NUM_THREADS") : "(all cores)",
                std::getenv("OMP_NUM_THREADS") ? std::getenv("OMP_NUM_THREADS") : "(all cores)", repeats);
    std::printf("te     %8.2f ms  %7.1f GFLOP/s\n", te_median * 1e3, gflop / te_median);
    std::printf("oneDNN %8.2f ms  %7.1f GFLOP/s\n", dnnl_median * 1e3, gflop / dnnl_median);
    std::printf("te / oneDNN speed: %.2f\n", dnnl_median / te_median);
    if (bad) {
      std::printf("check: FAILED, %lld of %lld elements differ from oneDNN (max |error| %g)\n",
                  static_cast<long long>(bad), static_cast<long long>(c.numel()), max_err);
      return 1;
    }
    std::printf("check: te's result matches oneDNN's (max |error| %.2g)\n", max_err);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "matmul_cpu: %s\n", e.what());
    return 1;
  }
  return 0;
}
