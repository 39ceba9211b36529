// The LLVM backend's inline exp and float32 tanh (codegen_llvm_expr.cc): compared with the host's
// std::exp / std::tanh over a sweep of float32 bit patterns (every 997th, so every exponent and sign, plus
// the edges: ±0, ±inf, NaN, denormals, the overflow and underflow thresholds) and a float64
// sample, in scalar and vectorized kernels. Bound: 2 ulp (denormal results: 2 units of the
// smallest denormal), NaN in -> NaN out, exact 0 / inf where std::exp gives them.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <functional>
#include <limits>
#include <random>

#include "te/export.h"

#include "test_util.h"

namespace te::testing {
namespace {

// Distance in representable values between a and b (same sign ordering as the bit patterns).
template <typename F, typename I>
int64_t ulp_distance(F a, F b) {
  auto ordered = [](F v) {
    I bits;
    std::memcpy(&bits, &v, sizeof bits);
    return bits < 0 ? int64_t(std::numeric_limits<I>::min()) - int64_t(bits) : int64_t(bits);
  };
  int64_t d = ordered(a) - ordered(b);
  return d < 0 ? -d : d;
}

// out = f(A) with the default schedule (vector_width 0) or split + vectorized.
Module build_unary(const std::function<Expr(Expr)>& f, int64_t n, DataType t, int vector_width,
                   const std::string& name) {
  Tensor A = placeholder({n}, t, "A");
  Tensor C = compute({n}, [&](const std::vector<Var>& i) { return f(A(i[0])); }, "C");
  Schedule sch = create_schedule({C.op()});
  if (vector_width > 0) {
    auto [o, i] = sch[C].split(sch[C]->leaf_iter_vars.back(), vector_width);
    sch[C].vectorize(i);
  }
  return build(sch, {A, C}, "llvm", name);
}

template <typename F, typename I>
void check_unary(const std::vector<F>& xs, DataType t, int64_t max_ulp, const char* name,
                 const std::function<Expr(Expr)>& te_fn, F (*c_fn)(F)) {
  const int64_t n = int64_t(xs.size());
  NDArray a = NDArray::empty({n}, t);
  std::memcpy(a.data_as<F>(), xs.data(), xs.size() * sizeof(F));
  // 4/8: one xmm/ymm vscalef (AVX-512VL); 16: one zmm; 32/64: zmm pieces shuffled back.
  for (int vw : {0, 4, 8, 16, 32, 64}) {
    SCOPED_TRACE(t.str() + " vector width " + std::to_string(vw));
    Module m = build_unary(te_fn, n, t, vw, std::string("k_") + name + "_" + t.str() + "_" + std::to_string(vw));
    // Inline: neither a libm call nor llvm.exp (which the backend would scalarize into calls).
    std::string ir = m.get_source("ll");
    for (const char* call : {"@llvm.exp.", "@expf(", "@exp(", "@tanhf("})
      EXPECT_EQ(ir.find(call), std::string::npos) << call << " in the kernel's IR";
    NDArray out = NDArray::empty({n}, t);
    out.fill_poison();
    m({a, out});
    const F* got = out.data_as<F>();
    int failures = 0;
    int64_t worst = 0;
    for (int64_t k = 0; k < n && failures < 10; ++k) {
      F want = c_fn(xs[k]);
      bool ok;
      if (std::isnan(want)) {
        ok = std::isnan(got[k]);
      } else if (std::isnan(got[k]) || std::isinf(want) || want == 0) {
        ok = got[k] == want;
      } else {
        int64_t d = ulp_distance<F, I>(got[k], want);
        worst = std::max(worst, d);
        ok = d <= max_ulp;
      }
      if (!ok) {
        ++failures;
        ADD_FAILURE() << name << "(" << double(xs[k]) << ") = " << double(got[k]) << ", std::" << name << " gives "
                      << double(want);
      }
    }
    EXPECT_LE(worst, max_ulp);
    std::printf("%s %s vector width %d: worst %lld ulp\n", name, t.str().c_str(), vw, (long long)worst);
  }
}

TEST(CodegenExp, Float32SweepWithin2Ulp) {
  std::vector<float> xs;
  for (uint64_t bits = 0; bits <= 0xFFFFFFFFull; bits += 997) {
    uint32_t b = uint32_t(bits);
    float v;
    std::memcpy(&v, &b, sizeof v);
    xs.push_back(v);
  }
  const float inf = std::numeric_limits<float>::infinity();
  for (float v : {0.0f, -0.0f, inf, -inf, std::numeric_limits<float>::quiet_NaN(), 1.0f, -1.0f,
                  std::numeric_limits<float>::denorm_min(), std::numeric_limits<float>::min(),
                  std::numeric_limits<float>::max(), -std::numeric_limits<float>::max(), 88.7228f,
                  88.72284f, 88.7229f, 89.0f, -87.3365f, -87.34f, -103.9f, -103.972f, -103.98f, -104.0f, -150.0f,
                  0.34657359f, -0.34657359f, 1e-8f, -1e-8f})
    xs.push_back(v);
  // Dense steps across the denormal-result range and around the overflow threshold.
  for (float v = -104.5f; v < -86.0f; v += 0.0137f) xs.push_back(v);
  for (float v = 88.0f; v < 89.5f; v += 0.00071f) xs.push_back(v);
  check_unary<float, int32_t>(xs, DataType::float32(), 2, "exp", [](Expr x) { return exp(x); },
                              [](float x) { return std::exp(x); });
}

TEST(CodegenExp, Float64SampleWithin2Ulp) {
  std::vector<double> xs;
  std::mt19937_64 rng(7);
  std::uniform_real_distribution<double> wide(-760.0, 720.0), narrow(-2.0, 2.0);
  for (int k = 0; k < 200000; ++k) xs.push_back(wide(rng));
  for (int k = 0; k < 50000; ++k) xs.push_back(narrow(rng));
  for (uint64_t bits = 0; bits < 0xFFFFFFFFFFFFFFFFull - (1ull << 44); bits += (1ull << 44) + 12345)
    xs.push_back([&] { double v; std::memcpy(&v, &bits, sizeof v); return v; }());
  const double inf = std::numeric_limits<double>::infinity();
  for (double v : {0.0, -0.0, inf, -inf, std::numeric_limits<double>::quiet_NaN(), 709.78, 709.7827, 709.79, 710.0,
                   -708.39, -708.4, -745.1, -745.13, -745.14, -746.0, 1e-300, -1e-17})
    xs.push_back(v);
  check_unary<double, int64_t>(xs, DataType::float64(), 2, "exp", [](Expr x) { return exp(x); },
                               [](double x) { return std::exp(x); });
}

// With AVX-512 the 2^n of exp is one vscalefps per register (no exponent-bit arithmetic).
TEST(CodegenExp, AvxTargetsScaleWithVscalef) {
  std::vector<std::string> host = host_cpu_features();
  if (std::find(host.begin(), host.end(), "avx512f") == host.end()) GTEST_SKIP() << "no AVX-512F here";
  Module m = build_unary([](Expr x) { return exp(x); }, 64, DataType::float32(), 16, "k_exp_scalef");
  const std::string ll = m.get_source("ll");
  EXPECT_NE(ll.find("llvm.x86.avx512.mask.scalef.ps.512"), std::string::npos) << ll;
  EXPECT_EQ(ll.find("fptosi"), std::string::npos) << ll;  // the two-factor fallback's conversion
  EXPECT_NE(m.get_source("asm").find("vscalefps"), std::string::npos);
}

// float32 tanh: inline polynomial below 0.625, 1 - 2/(exp(2|x|) + 1) above.
TEST(CodegenExp, Float32TanhSweepWithin2Ulp) {
  std::vector<float> xs;
  for (uint64_t bits = 0; bits <= 0xFFFFFFFFull; bits += 997) {
    uint32_t b = uint32_t(bits);
    float v;
    std::memcpy(&v, &b, sizeof v);
    xs.push_back(v);
  }
  const float inf = std::numeric_limits<float>::infinity();
  for (float v : {0.0f, -0.0f, inf, -inf, std::numeric_limits<float>::quiet_NaN(),
                  std::numeric_limits<float>::denorm_min(), 0.625f, -0.625f, 0.62499994f, 9.0f, 10.0f, 50.0f, 1e-20f})
    xs.push_back(v);
  for (float v = -3.0f; v < 3.0f; v += 0.000731f) xs.push_back(v);  // dense around the switch
  check_unary<float, int32_t>(xs, DataType::float32(), 2, "tanh", [](Expr x) { return tanh(x); },
                              [](float x) { return std::tanh(x); });
}

// sigmoid is built on the same exp: saturates to exactly 0 / 1 without NaN at the extremes.
TEST(CodegenExp, SigmoidUsesInlineExpAtExtremes) {
  std::vector<float> xs = {-200.0f, -100.0f, -88.0f, -10.0f, 0.0f, 10.0f, 88.0f, 100.0f, 200.0f,
                           -std::numeric_limits<float>::infinity(), std::numeric_limits<float>::infinity()};
  for (float v = -20.0f; v < 20.0f; v += 0.37f) xs.push_back(v);
  const int64_t n = int64_t(xs.size());
  NDArray a = NDArray::empty({n}, DataType::float32());
  std::memcpy(a.data_as<float>(), xs.data(), xs.size() * sizeof(float));
  for (int vw : {0, 8}) {
    Module m = build_unary([](Expr x) { return sigmoid(x); }, n, DataType::float32(), vw,
                           "k_sigmoid_" + std::to_string(vw));
    NDArray out = NDArray::empty({n}, DataType::float32());
    out.fill_poison();
    m({a, out});
    for (int64_t k = 0; k < n; ++k) {
      double want = 1.0 / (1.0 + std::exp(-double(xs[k])));
      EXPECT_NEAR(out.data_as<float>()[k], want, 2e-7 + 2e-7 * want) << "sigmoid(" << xs[k] << ") vw " << vw;
    }
  }
}

}  // namespace
}  // namespace te::testing
