// End to end: every math intrinsic, min/max, select, if_then_else (padding without
// out-of-bounds reads), comparisons and logical ops, in scalar and vectorized schedules,
// checked against <cmath> and against te::evaluate_reference.
#include <cmath>
#include <functional>

#include "test_util.h"

namespace te::testing {
namespace {

constexpr int kN = 37;  // not a multiple of the vector width: tails are exercised

// Runs out = f(A, B) on the default schedule (vector_width 0) or split + vectorized.
NDArray run(const std::vector<Tensor>& inputs, const std::vector<NDArray>& arrays, const Tensor& out,
            int vector_width) {
  Schedule sch = create_schedule({out.op()});
  if (vector_width > 0) {
    auto [o, i] = sch[out].split(sch[out]->leaf_iter_vars.back(), vector_width);
    sch[out].vectorize(i);
  }
  std::vector<Tensor> args = inputs;
  args.push_back(out);
  Module m = build(sch, args, "llvm", "k_" + out.name());
  NDArray result = NDArray::empty(const_shape(out), out.dtype());
  result.fill_poison();
  std::vector<NDArray> call = arrays;
  call.push_back(result);
  m(call);
  NDArray ref = evaluate_reference(inputs, arrays, {out}).at(0);
  std::string diff = compare_arrays(result, ref, 1e-5, 1e-6);
  EXPECT_EQ(diff, "") << out.name() << " vw " << vector_width << " vs reference";
  return result;
}

// x in [lo, hi] spread over kN points (deterministic, includes halves for round()).
NDArray linspace(double lo, double hi, DataType t = DataType::float32()) {
  NDArray a = NDArray::empty({kN}, t);
  for (int i = 0; i < kN; ++i) {
    double v = lo + (hi - lo) * i / (kN - 1);
    if (t == DataType::float32()) a.data_as<float>()[i] = float(v);
    else a.data_as<double>()[i] = v;
  }
  return a;
}
double at(const NDArray& a, int i) {
  return a.dtype() == DataType::float32() ? double(a.data_as<float>()[i]) : a.data_as<double>()[i];
}

struct UnaryCase {
  const char* name;
  std::function<Expr(Expr)> te_fn;
  std::function<double(double)> c_fn;
  double lo, hi;
};

TEST(E2eMath, UnaryFunctionsMatchCmath) {
  std::vector<UnaryCase> cases = {
      {"exp", [](Expr x) { return exp(x); }, [](double x) { return std::exp(x); }, -5, 5},
      {"log", [](Expr x) { return log(x); }, [](double x) { return std::log(x); }, 0.01, 50},
      {"sqrt", [](Expr x) { return sqrt(x); }, [](double x) { return std::sqrt(x); }, 0, 50},
      {"rsqrt", [](Expr x) { return rsqrt(x); }, [](double x) { return 1 / std::sqrt(x); }, 0.05, 50},
      {"tanh", [](Expr x) { return tanh(x); }, [](double x) { return std::tanh(x); }, -6, 6},
      {"sigmoid", [](Expr x) { return sigmoid(x); }, [](double x) { return 1 / (1 + std::exp(-x)); }, -8, 8},
      {"erf", [](Expr x) { return erf(x); }, [](double x) { return std::erf(x); }, -3, 3},
      {"abs", [](Expr x) { return abs(x); }, [](double x) { return std::fabs(x); }, -4, 4},
      {"floor", [](Expr x) { return floor(x); }, [](double x) { return std::floor(x); }, -4.5, 4.5},
      {"ceil", [](Expr x) { return ceil(x); }, [](double x) { return std::ceil(x); }, -4.5, 4.5},
      {"round", [](Expr x) { return round(x); }, [](double x) { return std::round(x); }, -4.5, 4.5},
  };
  for (DataType t : {DataType::float32(), DataType::float64()}) {
    for (const UnaryCase& c : cases) {
      SCOPED_TRACE(std::string(c.name) + " " + t.str());
      Tensor A = placeholder({kN}, t, "A");
      Tensor C = compute({kN}, [&](const std::vector<Var>& i) { return c.te_fn(A(i[0])); }, c.name);
      ASSERT_EQ(C.dtype(), t);
      NDArray a = linspace(c.lo, c.hi, t);
      for (int vw : {0, 8}) {
        NDArray out = run({A}, {a}, C, vw);
        double tol = t == DataType::float32() ? 2e-6 : 1e-12;
        for (int i = 0; i < kN; ++i) {
          double want = c.c_fn(at(a, i));
          EXPECT_NEAR(at(out, i), want, tol * (1 + std::fabs(want))) << "x = " << at(a, i) << " vw " << vw;
        }
      }
    }
  }
}

TEST(E2eMath, RoundIsHalfAwayFromZero) {
  Tensor A = placeholder({6}, DataType::float32(), "A");
  Tensor C = compute({6}, [&](const std::vector<Var>& i) { return round(A(i[0])); }, "C");
  NDArray a = NDArray::empty({6});
  float in[] = {0.5f, 1.5f, 2.5f, -0.5f, -2.5f, 2.4999f};
  float want[] = {1, 2, 3, -1, -3, 2};
  for (int i = 0; i < 6; ++i) a.data_as<float>()[i] = in[i];
  for (int vw : {0, 4}) {
    NDArray out = run({A}, {a}, C, vw);
    for (int i = 0; i < 6; ++i) EXPECT_EQ(out.data_as<float>()[i], want[i]) << in[i];
  }
}

TEST(E2eMath, BinaryAndTernaryFunctions) {
  Tensor A = placeholder({kN}, DataType::float32(), "A"), B = placeholder({kN}, DataType::float32(), "B");
  Tensor D = placeholder({kN}, DataType::float32(), "D");
  NDArray a = linspace(0.1, 4), b = linspace(-2, 3), d = linspace(5, -5);
  Tensor P = compute({kN}, [&](const std::vector<Var>& i) { return pow(A(i[0]), B(i[0])); }, "P");
  Tensor F = compute({kN}, [&](const std::vector<Var>& i) { return fma(A(i[0]), B(i[0]), D(i[0])); }, "F");
  Tensor MN = compute({kN}, [&](const std::vector<Var>& i) { return min(A(i[0]), B(i[0])); }, "MN");
  Tensor MX = compute({kN}, [&](const std::vector<Var>& i) { return max(A(i[0]), B(i[0])); }, "MX");
  for (int vw : {0, 8}) {
    NDArray p = run({A, B}, {a, b}, P, vw), f = run({A, B, D}, {a, b, d}, F, vw);
    NDArray mn = run({A, B}, {a, b}, MN, vw), mx = run({A, B}, {a, b}, MX, vw);
    for (int i = 0; i < kN; ++i) {
      double x = at(a, i), y = at(b, i), z = at(d, i);
      EXPECT_NEAR(at(p, i), std::pow(x, y), 1e-5 * (1 + std::pow(x, y))) << x << "^" << y;
      EXPECT_NEAR(at(f, i), x * y + z, 1e-5);
      EXPECT_EQ(at(mn, i), std::min(float(x), float(y)));
      EXPECT_EQ(at(mx, i), std::max(float(x), float(y)));
    }
  }
}

TEST(E2eMath, IntegerAbsMinMaxAndIntMathPromotion) {
  Tensor A = placeholder({kN}, DataType::int32(), "A");
  NDArray a = NDArray::empty({kN}, DataType::int32());
  for (int i = 0; i < kN; ++i) a.data_as<int32_t>()[i] = i * 3 - 50;
  Tensor C = compute({kN}, [&](const std::vector<Var>& i) { return abs(A(i[0])) + min(A(i[0]), 4) * max(A(i[0]), -2); }, "C");
  ASSERT_EQ(C.dtype(), DataType::int32());
  // Math on ints casts to float32 first.
  Tensor S = compute({kN}, [&](const std::vector<Var>& i) { return sqrt(abs(A(i[0]))); }, "S");
  ASSERT_EQ(S.dtype(), DataType::float32());
  for (int vw : {0, 8}) {
    NDArray c = run({A}, {a}, C, vw), s = run({A}, {a}, S, vw);
    for (int i = 0; i < kN; ++i) {
      int x = a.data_as<int32_t>()[i];
      EXPECT_EQ(c.data_as<int32_t>()[i], std::abs(x) + std::min(x, 4) * std::max(x, -2));
      EXPECT_FLOAT_EQ(s.data_as<float>()[i], std::sqrt(float(std::abs(x))));
    }
  }
}

TEST(E2eMath, SelectComparisonsAndLogic) {
  Tensor A = placeholder({kN}, DataType::float32(), "A"), B = placeholder({kN}, DataType::float32(), "B");
  NDArray a = linspace(-3, 3), b = linspace(2, -2);
  using Cmp = std::function<Expr(Expr, Expr)>;
  std::vector<std::pair<Cmp, std::function<bool(float, float)>>> cmps = {
      {[](Expr x, Expr y) { return x < y; }, [](float x, float y) { return x < y; }},
      {[](Expr x, Expr y) { return x <= y; }, [](float x, float y) { return x <= y; }},
      {[](Expr x, Expr y) { return x > y; }, [](float x, float y) { return x > y; }},
      {[](Expr x, Expr y) { return x >= y; }, [](float x, float y) { return x >= y; }},
      {[](Expr x, Expr y) { return x == y; }, [](float x, float y) { return x == y; }},
      {[](Expr x, Expr y) { return x != y; }, [](float x, float y) { return x != y; }},
  };
  for (size_t c = 0; c < cmps.size(); ++c) {
    Tensor C = compute({kN}, [&](const std::vector<Var>& i) {
      Expr x = A(i[0]), y = B(i[0]);
      Expr logic = (cmps[c].first(x, y) && !(x > 2.5f)) || x < -2.5f;
      return select(logic, x * 10.0f, y);
    }, "cmp" + std::to_string(c));
    for (int vw : {0, 8}) {
      NDArray out = run({A, B}, {a, b}, C, vw);
      for (int i = 0; i < kN; ++i) {
        float x = a.data_as<float>()[i], y = b.data_as<float>()[i];
        bool logic = (cmps[c].second(x, y) && !(x > 2.5f)) || x < -2.5f;
        EXPECT_EQ(out.data_as<float>()[i], logic ? x * 10.0f : y) << "cmp " << c << " i " << i;
      }
    }
  }
}

TEST(E2eMath, BoolOutputOfComparison) {
  Tensor A = placeholder({kN}, DataType::int32(), "A");
  NDArray a = NDArray::empty({kN}, DataType::int32());
  for (int i = 0; i < kN; ++i) a.data_as<int32_t>()[i] = (i * 7) % 10;
  Tensor C = compute({kN}, [&](const std::vector<Var>& i) { return A(i[0]) >= 5 && A(i[0]) != 7; }, "C");
  ASSERT_EQ(C.dtype(), DataType::boolean());
  for (int vw : {0, 8}) {
    NDArray out = run({A}, {a}, C, vw);
    for (int i = 0; i < kN; ++i) {
      int x = a.data_as<int32_t>()[i];
      EXPECT_EQ(out.data_as<uint8_t>()[i], uint8_t(x >= 5 && x != 7)) << i;
    }
  }
}

// Pad: P[i] = A[i-1] for 1 <= i <= n, else 0; P has n+2 elements. Reading A[-1] or A[n] would
// be out of bounds; the guarded branch must give exactly 0 there (an unguarded read would show
// up as garbage in the padded elements), inlined, vectorized and computed at the consumer.
TEST(E2eMath, IfThenElsePaddingReadsOnlyInBounds) {
  const int n = 29;
  Tensor A = placeholder({n}, DataType::float32(), "A");
  Tensor P = compute({n + 2}, [&](const std::vector<Var>& i) {
    return if_then_else(i[0] >= 1 && i[0] <= n, A(i[0] - 1), Expr(0.0f));
  }, "P");
  Tensor Q = compute({n + 2}, [&](const std::vector<Var>& i) { return P(i[0]) * 2.0f; }, "Q");
  NDArray a = random_array({n}, DataType::float32(), 3);
  for (int schedule = 0; schedule < 4; ++schedule) {
    SCOPED_TRACE(schedule);
    Schedule sch = create_schedule({Q.op()});
    if (schedule == 1) sch[P].compute_inline();
    if (schedule >= 2) {
      auto [o, in] = sch[Q].split(sch[Q]->leaf_iter_vars[0], 8);
      sch[Q].vectorize(in);
      if (schedule == 2) sch[P].compute_inline();
      else sch[P].compute_at(sch[Q], o);
    }
    Module m = build(sch, {A, Q}, "llvm", "pad");
    NDArray q = NDArray::empty({n + 2});
    q.fill_poison();
    m({a, q});
    for (int i = 0; i < n + 2; ++i) {
      float want = (i >= 1 && i <= n) ? 2 * a.data_as<float>()[i - 1] : 0.0f;
      EXPECT_EQ(q.data_as<float>()[i], want) << i;
    }
    EXPECT_EQ(compare_arrays(q, evaluate_reference({A}, {a}, {Q})[0]), "");
  }
}

// if_then_else must not evaluate the untaken branch: the index A[i - 1] with i = 0 would be
// -1, and an integer division by a data-dependent zero in the untaken branch must not trap.
TEST(E2eMath, IfThenElseDoesNotEvaluateUntakenBranch) {
  const int n = 16;
  Tensor A = placeholder({n}, DataType::int32(), "A");
  NDArray a = NDArray::empty({n}, DataType::int32());
  for (int i = 0; i < n; ++i) a.data_as<int32_t>()[i] = i % 4;  // zeros every 4th
  Tensor C = compute({n}, [&](const std::vector<Var>& i) {
    return if_then_else(A(i[0]) != 0, 100 / A(i[0]), Expr(-1));
  }, "C");
  for (int vw : {0, 4}) {
    NDArray out = run({A}, {a}, C, vw);
    for (int i = 0; i < n; ++i) {
      int x = i % 4;
      EXPECT_EQ(out.data_as<int32_t>()[i], x ? 100 / x : -1) << i;
    }
  }
}

TEST(E2eMath, SpecialValuesPropagate) {
  Tensor A = placeholder({4}, DataType::float32(), "A");
  NDArray a = NDArray::empty({4});
  float in[] = {0.0f, -1.0f, INFINITY, 1.0f};
  for (int i = 0; i < 4; ++i) a.data_as<float>()[i] = in[i];
  Tensor L = compute({4}, [&](const std::vector<Var>& i) { return log(A(i[0])); }, "L");
  Schedule sch = create_schedule({L.op()});
  Module m = build(sch, {A, L}, "llvm", "logs");
  NDArray out = NDArray::empty({4});
  m({a, out});
  EXPECT_TRUE(std::isinf(out.data_as<float>()[0]) && out.data_as<float>()[0] < 0);
  EXPECT_TRUE(std::isnan(out.data_as<float>()[1]));
  EXPECT_TRUE(std::isinf(out.data_as<float>()[2]));
  EXPECT_EQ(out.data_as<float>()[3], 0.0f);
}

}  // namespace
}  // namespace te::testing
