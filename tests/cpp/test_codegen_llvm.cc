// The LLVM CPU backend on hand-written flat IR: element-wise loops (scalar, vector, gather),
// reductions, integer division semantics and math intrinsics, checked against C++.
#include <cmath>

#include "test_codegen_util.h"

namespace te::testing {
namespace {

TEST(CodegenLLVM, ElementwiseAddScalar) {
  const int n = 1000;
  auto A = buffer_arg("A", DataType::float32(), {Expr(n)});
  auto B = buffer_arg("B", DataType::float32(), {Expr(n)});
  auto C = buffer_arg("C", DataType::float32(), {Expr(n)});
  Var i("i");
  Module m = compile(make_func("add", {A, B, C}, loop(i, n, store(C, load(A, i) + load(B, i), i))));
  NDArray a = random_array({n}, DataType::float32(), 1), b = random_array({n}, DataType::float32(), 2);
  NDArray c = NDArray::empty({n});
  c.fill_poison();
  m({a, b, c});
  for (int k = 0; k < n; ++k) ASSERT_EQ(c.data_as<float>()[k], a.data_as<float>()[k] + b.data_as<float>()[k]) << k;
}

TEST(CodegenLLVM, ElementwiseAddVectorRamp) {
  const int n = 1024, lanes = 8;
  auto A = buffer_arg("A", DataType::float32(), {Expr(n)});
  auto B = buffer_arg("B", DataType::float32(), {Expr(n)});
  auto C = buffer_arg("C", DataType::float32(), {Expr(n)});
  Var io("io");
  Expr idx = ramp(io * lanes, lanes);
  Module m = compile(make_func("vadd", {A, B, C}, loop(io, n / lanes, store(C, load(A, idx) * load(B, idx), idx))));
  EXPECT_NE(m.get_source("ll").find("x float>"), std::string::npos) << "expected vector code";
  NDArray a = random_array({n}, DataType::float32(), 3), b = random_array({n}, DataType::float32(), 4);
  NDArray c = NDArray::empty({n});
  c.fill_poison();
  m({a, b, c});
  for (int k = 0; k < n; ++k) ASSERT_EQ(c.data_as<float>()[k], a.data_as<float>()[k] * b.data_as<float>()[k]) << k;
}

TEST(CodegenLLVM, StridedVectorLoadAndStoreUseGatherScatter) {
  const int n = 64;
  auto A = buffer_arg("A", DataType::int32(), {Expr(2 * n)});
  auto C = buffer_arg("C", DataType::int32(), {Expr(2 * n)});
  Var io("io");
  // C[2*k+1] = A[2*k] + 100 for every k, via stride-2 vectors of 8 lanes.
  Expr src = ramp(io * 16, 8, 2), dst = ramp(io * 16 + 1, 8, 2);
  Expr value = load(A, src) + BroadcastNode::make(Expr(100), 8);
  Module m = compile(make_func("strided", {A, C}, loop(io, n / 8, store(C, value, dst))));
  NDArray a = random_array({2 * n}, DataType::int32(), 5), c = NDArray::empty({2 * n}, DataType::int32());
  c.fill_poison();
  int32_t poison = c.data_as<int32_t>()[0];
  m({a, c});
  for (int k = 0; k < n; ++k) {
    ASSERT_EQ(c.data_as<int32_t>()[2 * k + 1], a.data_as<int32_t>()[2 * k] + 100) << k;
    ASSERT_EQ(c.data_as<int32_t>()[2 * k], poison) << "even elements must be untouched, k=" << k;
  }
}

// Unmasked loads with a small constant stride are one contiguous load of the lanes' span and
// a shuffle (no gather); the span ends at the last lane, so the last window of an exactly sized
// array reads nothing past it.
TEST(CodegenLLVM, SmallStrideVectorLoadsAreContiguousLoadsAndShuffles) {
  for (int stride : {2, 3, 4}) {
    SCOPED_TRACE(stride);
    const int lanes = 16, groups = 5, n = ((groups * lanes) - 1) * stride + 1;
    auto A = buffer_arg("A", DataType::float32(), {Expr(n)});
    auto C = buffer_arg("C", DataType::float32(), {Expr(groups * lanes)});
    Var io("io");
    Expr value = load(A, ramp(io * (lanes * stride), lanes, stride)) * BroadcastNode::make(Expr(2.0f), lanes);
    Module m = compile(make_func("strided_load", {A, C}, loop(io, groups, store(C, value, ramp(io * lanes, lanes)))));
    const std::string ll = m.get_source("ll");
    EXPECT_NE(ll.find("shufflevector"), std::string::npos) << ll;
    EXPECT_EQ(ll.find("masked.gather"), std::string::npos) << ll;
    NDArray a = random_array({n}, DataType::float32(), 7), c = NDArray::empty({groups * lanes});
    c.fill_poison();
    m({a, c});
    for (int k = 0; k < groups * lanes; ++k) ASSERT_EQ(c.data_as<float>()[k], a.data_as<float>()[k * stride] * 2.0f) << k;
  }
}

TEST(CodegenLLVM, MatVecReduction) {
  const int rows = 37, cols = 53;
  auto A = buffer_arg("A", DataType::float32(), {Expr(rows), Expr(cols)});
  auto x = buffer_arg("x", DataType::float32(), {Expr(cols)});
  auto y = buffer_arg("y", DataType::float32(), {Expr(rows)});
  Var i("i"), k("k");
  Stmt body = loop(i, rows, SeqNode::make({store(y, Expr(0.0f), i),
                                           loop(k, cols, store(y, load(y, i) + load(A, i * cols + k) * load(x, k), i))}));
  Module m = compile(make_func("matvec", {A, x, y}, body));
  NDArray a = random_array({rows, cols}, DataType::float32(), 6), xv = random_array({cols}, DataType::float32(), 7);
  NDArray yv = NDArray::empty({rows});
  yv.fill_poison();
  m({a, xv, yv});
  for (int r = 0; r < rows; ++r) {
    double ref = 0;
    for (int c = 0; c < cols; ++c) ref += double(a.data_as<float>()[r * cols + c]) * xv.data_as<float>()[c];
    ASSERT_NEAR(yv.data_as<float>()[r], ref, 1e-4) << r;
  }
}

int64_t ref_floordiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}
int64_t ref_floormod(int64_t a, int64_t b) { return a - ref_floordiv(a, b) * b; }

// out[4*i + {0,1,2,3}] = a/b, a%b, floordiv(a,b), floormod(a,b) for every (a, b) pair.
void check_division(DataType t, Expr (*divisor)(const Expr& b_loaded), int64_t const_divisor) {
  std::vector<int64_t> as = {-9, -8, -7, -1, 0, 1, 7, 8, 9, -100, 100, 13}, bs = {3, -3, 4, -4, 1, -1, 7, -7, 2, 5, -5, 6};
  const int n = int(as.size());
  auto A = buffer_arg("A", t, {Expr(n)});
  auto B = buffer_arg("B", t, {Expr(n)});
  auto O = buffer_arg("O", t, {Expr(4 * n)});
  Var i("i");
  Expr a = load(A, i), b = divisor(load(B, i));
  Stmt body = loop(i, n, SeqNode::make({store(O, DivNode::make(a, b), i * 4), store(O, ModNode::make(a, b), i * 4 + 1),
                                        store(O, FloorDivNode::make(a, b), i * 4 + 2),
                                        store(O, FloorModNode::make(a, b), i * 4 + 3)}));
  Module m = compile(make_func("divmod", {A, B, O}, body));
  NDArray an = NDArray::empty({n}, t), bn = NDArray::empty({n}, t), on = NDArray::empty({4 * n}, t);
  auto put = [&](NDArray& arr, int k, int64_t v) {
    if (t.bits == 8) arr.data_as<int8_t>()[k] = int8_t(v);
    else if (t.bits == 32) arr.data_as<int32_t>()[k] = int32_t(v);
    else arr.data_as<int64_t>()[k] = v;
  };
  auto get = [&](const NDArray& arr, int k) -> int64_t {
    return t.bits == 8 ? arr.data_as<int8_t>()[k] : t.bits == 32 ? arr.data_as<int32_t>()[k] : arr.data_as<int64_t>()[k];
  };
  for (int k = 0; k < n; ++k) put(an, k, as[k]), put(bn, k, bs[k]);
  on.fill_poison();
  m({an, bn, on});
  for (int k = 0; k < n; ++k) {
    int64_t av = as[k], bv = const_divisor ? const_divisor : bs[k];
    SCOPED_TRACE(detail::cat(t.str(), " a=", av, " b=", bv));
    EXPECT_EQ(get(on, 4 * k), av / bv);
    EXPECT_EQ(get(on, 4 * k + 1), av % bv);
    EXPECT_EQ(get(on, 4 * k + 2), ref_floordiv(av, bv));
    EXPECT_EQ(get(on, 4 * k + 3), ref_floormod(av, bv));
  }
}

TEST(CodegenLLVM, IntegerDivisionSemanticsVariableDivisor) {
  for (DataType t : {DataType::int32(), DataType::int64(), DataType::int8()})
    check_division(t, [](const Expr& b) { return b; }, 0);
}
TEST(CodegenLLVM, IntegerDivisionSemanticsConstantDivisors) {
  check_division(DataType::int32(), [](const Expr&) { return Expr(4); }, 4);
  check_division(DataType::int32(), [](const Expr&) { return Expr(3); }, 3);
  check_division(DataType::int32(), [](const Expr&) { return Expr(-3); }, -3);
  check_division(DataType::int64(), [](const Expr&) { return make_const(DataType::int64(), 8); }, 8);
}

TEST(CodegenLLVM, VectorFloorDivModMatchesScalar) {
  const int n = 32;
  auto A = buffer_arg("A", DataType::int32(), {Expr(n)});
  auto O = buffer_arg("O", DataType::int32(), {Expr(2 * n)});
  Var io("io");
  Expr a = load(A, ramp(io * 8, 8));
  Expr b = BroadcastNode::make(Expr(3), 8);
  Stmt body = loop(io, n / 8, SeqNode::make({store(O, FloorDivNode::make(a, b), ramp(io * 8, 8)),
                                             store(O, FloorModNode::make(a, b), ramp(io * 8 + n, 8))}));
  Module m = compile(make_func("vfloordiv", {A, O}, body));
  NDArray an = NDArray::empty({n}, DataType::int32()), on = NDArray::empty({2 * n}, DataType::int32());
  for (int k = 0; k < n; ++k) an.data_as<int32_t>()[k] = k * 7 - 100;
  m({an, on});
  for (int k = 0; k < n; ++k) {
    EXPECT_EQ(on.data_as<int32_t>()[k], ref_floordiv(k * 7 - 100, 3)) << k;
    EXPECT_EQ(on.data_as<int32_t>()[k + n], ref_floormod(k * 7 - 100, 3)) << k;
  }
}

struct MathCase {
  Intrinsic op;
  int arity;
  double (*ref)(double, double, double);
  double lo, hi;  // input range
};
const MathCase kMathCases[] = {
    {Intrinsic::kExp, 1, [](double x, double, double) { return std::exp(x); }, -5, 5},
    {Intrinsic::kLog, 1, [](double x, double, double) { return std::log(x); }, 0.01, 10},
    {Intrinsic::kSqrt, 1, [](double x, double, double) { return std::sqrt(x); }, 0, 10},
    {Intrinsic::kRsqrt, 1, [](double x, double, double) { return 1 / std::sqrt(x); }, 0.1, 10},
    {Intrinsic::kTanh, 1, [](double x, double, double) { return std::tanh(x); }, -4, 4},
    {Intrinsic::kSigmoid, 1, [](double x, double, double) { return 1 / (1 + std::exp(-x)); }, -6, 6},
    {Intrinsic::kErf, 1, [](double x, double, double) { return std::erf(x); }, -3, 3},
    {Intrinsic::kPow, 2, [](double x, double y, double) { return std::pow(x, y); }, 0.1, 3},
    {Intrinsic::kAbs, 1, [](double x, double, double) { return std::fabs(x); }, -5, 5},
    {Intrinsic::kFloor, 1, [](double x, double, double) { return std::floor(x); }, -5, 5},
    {Intrinsic::kCeil, 1, [](double x, double, double) { return std::ceil(x); }, -5, 5},
    {Intrinsic::kRound, 1, [](double x, double, double) { return std::round(x); }, -5, 5},
    {Intrinsic::kFma, 3, [](double x, double y, double z) { return std::fma(x, y, z); }, -2, 2},
};

// out[i] = op(x[i], y[i], z[i]) in dtype t, lanes 1 or 8.
void check_math(const MathCase& mc, DataType t, int lanes) {
  const int n = 64;
  auto X = buffer_arg("X", t, {Expr(n)});
  auto Y = buffer_arg("Y", t, {Expr(n)});
  auto Z = buffer_arg("Z", t, {Expr(n)});
  auto O = buffer_arg("O", t, {Expr(n)});
  Var i("i");
  Expr idx = lanes == 1 ? Expr(i) : ramp(i * lanes, lanes);
  std::vector<Expr> args{load(X, idx), load(Y, idx), load(Z, idx)};
  args.resize(size_t(mc.arity));
  Expr call = CallNode::make(t.with_lanes(lanes), mc.op, args);
  Module m = compile(make_func("math", {X, Y, Z, O}, loop(i, n / lanes, store(O, call, idx))));
  NDArray in[3] = {NDArray::empty({n}, t), NDArray::empty({n}, t), NDArray::empty({n}, t)};
  NDArray out = NDArray::empty({n}, t);
  out.fill_poison();
  std::mt19937_64 rng(42);
  std::uniform_real_distribution<double> dist(mc.lo, mc.hi);
  for (auto& arr : in)
    for (int k = 0; k < n; ++k) {
      double v = dist(rng);
      if (k % 8 == 3 && mc.op == Intrinsic::kRound) v = std::floor(v) + 0.5;  // halves round away from zero
      if (t.bits == 32) arr.data_as<float>()[k] = float(v);
      else arr.data_as<double>()[k] = v;
    }
  m({in[0], in[1], in[2], out});
  auto val = [&](const NDArray& arr, int k) { return t.bits == 32 ? double(arr.data_as<float>()[k]) : arr.data_as<double>()[k]; };
  double tol = t.bits == 32 ? 2e-6 : 1e-13;
  for (int k = 0; k < n; ++k) {
    double ref = mc.ref(val(in[0], k), val(in[1], k), val(in[2], k));
    ASSERT_NEAR(val(out, k), ref, tol * std::max(1.0, std::fabs(ref)))
        << intrinsic_name(mc.op) << " " << t.str() << "x" << lanes << " at " << k << " x=" << val(in[0], k);
  }
}

TEST(CodegenLLVM, MathIntrinsicsMatchCmath) {
  for (const MathCase& mc : kMathCases) {
    check_math(mc, DataType::float32(), 1);
    check_math(mc, DataType::float64(), 1);
    check_math(mc, DataType::float32(), 8);
  }
}

TEST(CodegenLLVM, IntegerAbsMinMaxSelect) {
  const int n = 16;
  auto A = buffer_arg("A", DataType::int32(), {Expr(n)});
  auto O = buffer_arg("O", DataType::int32(), {Expr(3 * n)});
  Var i("i");
  Expr a = load(A, i);
  Stmt body = loop(i, n, SeqNode::make({store(O, CallNode::make(DataType::int32(), Intrinsic::kAbs, {a}), i),
                                        store(O, MinNode::make(a, Expr(2)) + MaxNode::make(a, Expr(-3)), i + n),
                                        store(O, SelectNode::make(LTNode::make(a, Expr(0)), a * 10, a), i + 2 * n)}));
  Module m = compile(make_func("intops", {A, O}, body));
  NDArray an = random_array({n}, DataType::int32(), 9), on = NDArray::empty({3 * n}, DataType::int32());
  m({an, on});
  for (int k = 0; k < n; ++k) {
    int32_t v = an.data_as<int32_t>()[k];
    EXPECT_EQ(on.data_as<int32_t>()[k], std::abs(v));
    EXPECT_EQ(on.data_as<int32_t>()[k + n], std::min(v, 2) + std::max(v, -3));
    EXPECT_EQ(on.data_as<int32_t>()[k + 2 * n], v < 0 ? v * 10 : v);
  }
}

TEST(CodegenLLVM, RejectsTensorLevelAndThreadBoundIR) {
  auto C = buffer_arg("C", DataType::float32(), {Expr(4)});
  Var i("i");
  Stmt bound = ForNode::make(i, Expr(0), Expr(4), ForKind::kThreadBinding, store(C, Expr(1.0f), i), "threadIdx.x");
  EXPECT_TE_ERROR(compile(make_func("bound", {C}, bound)), "threadIdx.x", "bound");
  Var stray("stray");
  EXPECT_TE_ERROR(compile(make_func("stray", {C}, store(C, Expr(1.0f), stray))), "stray");
}

}  // namespace
}  // namespace te::testing
