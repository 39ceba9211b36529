// End to end over every dtype of issue 2: compute + build (LLVM JIT) + run, checked against
// te::evaluate_reference and against values computed by hand here. Also the promotion rules
// of te/ir.h and integer division semantics (truncating / and % vs floordiv/floormod).
#include <cmath>
#include <cstring>

#include "test_util.h"

namespace te::testing {
namespace {

// IEEE half <-> float, by hand (no compiler _Float16 needed).
float half_to_float(uint16_t h) {
  uint32_t sign = uint32_t(h >> 15) << 31, exponent = (h >> 10) & 0x1f, mantissa = h & 0x3ff;
  if (exponent == 0) return (sign ? -1.f : 1.f) * std::ldexp(float(mantissa), -24);
  if (exponent == 31) return mantissa ? NAN : (sign ? -INFINITY : INFINITY);
  uint32_t bits = sign | ((exponent + 112) << 23) | (mantissa << 13);
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}
uint16_t float_to_half(float f) {  // exact for the small values used here
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  uint16_t sign = uint16_t((bits >> 31) << 15);
  if (f == 0) return sign;
  int exponent = int((bits >> 23) & 0xff) - 127 + 15;
  return uint16_t(sign | (exponent << 10) | ((bits >> 13) & 0x3ff));
}

double get(const NDArray& a, int64_t i) {
  DataType t = a.dtype();
  if (t == DataType::float32()) return a.data_as<float>()[i];
  if (t == DataType::float64()) return a.data_as<double>()[i];
  if (t == DataType::float16()) return half_to_float(a.data_as<uint16_t>()[i]);
  if (t == DataType::int8()) return a.data_as<int8_t>()[i];
  if (t == DataType::int16()) return a.data_as<int16_t>()[i];
  if (t == DataType::int32()) return a.data_as<int32_t>()[i];
  if (t == DataType::int64()) return double(a.data_as<int64_t>()[i]);
  if (t == DataType::uint8() || t == DataType::boolean()) return a.data_as<uint8_t>()[i];
  throw Error("get: dtype " + t.str());
}
void set(NDArray& a, int64_t i, double v) {
  DataType t = a.dtype();
  if (t == DataType::float32()) a.data_as<float>()[i] = float(v);
  else if (t == DataType::float64()) a.data_as<double>()[i] = v;
  else if (t == DataType::float16()) a.data_as<uint16_t>()[i] = float_to_half(float(v));
  else if (t == DataType::int8()) a.data_as<int8_t>()[i] = int8_t(v);
  else if (t == DataType::int16()) a.data_as<int16_t>()[i] = int16_t(v);
  else if (t == DataType::int32()) a.data_as<int32_t>()[i] = int32_t(v);
  else if (t == DataType::int64()) a.data_as<int64_t>()[i] = int64_t(v);
  else if (t == DataType::uint8()) a.data_as<uint8_t>()[i] = uint8_t(v);
  else if (t == DataType::boolean()) a.data_as<uint8_t>()[i] = uint8_t(v != 0);
  else throw Error("set: dtype " + t.str());
}
NDArray from_values(const std::vector<double>& values, DataType t) {
  NDArray a = NDArray::empty({int64_t(values.size())}, t);
  for (size_t i = 0; i < values.size(); ++i) set(a, int64_t(i), values[i]);
  return a;
}

// Builds out over inputs with the default schedule (and a vectorized one when vector_width > 0),
// runs it and returns the output; checks it equals evaluate_reference exactly (or within tol).
NDArray run_checked(const std::vector<Tensor>& inputs, const std::vector<NDArray>& arrays,
                    const Tensor& out, int vector_width = 0, double tol = 0) {
  Schedule sch = create_schedule({out.op()});
  if (vector_width > 0) {
    auto [o, i] = sch[out].split(sch[out]->leaf_iter_vars.back(), vector_width);
    sch[out].vectorize(i);
  }
  std::vector<Tensor> args = inputs;
  args.push_back(out);
  Module m = build(sch, args, "llvm", "k_" + out.name());
  std::vector<int64_t> shape = arrays.at(0).shape();
  NDArray result = NDArray::empty(shape, out.dtype());
  result.fill_poison();
  std::vector<NDArray> call = arrays;
  call.push_back(result);
  m(call);
  NDArray ref = evaluate_reference(inputs, arrays, {out}).at(0);
  EXPECT_EQ(ref.dtype(), out.dtype());
  for (int64_t i = 0; i < result.numel(); ++i)
    EXPECT_NEAR(get(result, i), get(ref, i), tol) << out.name() << " element " << i << " (vs reference)";
  return result;
}

const std::vector<DataType> kAllTypes = {DataType::float32(), DataType::float64(), DataType::float16(),
                                         DataType::int8(),    DataType::int16(),   DataType::int32(),
                                         DataType::int64(),   DataType::uint8(),   DataType::boolean()};

TEST(E2eDtypes, ParseAndStrRoundTrip) {
  for (DataType t : kAllTypes) EXPECT_EQ(DataType::parse(t.str()), t) << t.str();
}

TEST(E2eDtypes, ElementwiseAddEveryType) {
  for (DataType t : kAllTypes) {
    SCOPED_TRACE(t.str());
    const int n = 19;
    Tensor A = placeholder({n}, t, "A"), B = placeholder({n}, t, "B");
    Tensor C = t.is_bool() ? compute({n}, [&](const std::vector<Var>& i) { return A(i[0]) || B(i[0]); }, "C")
                           : compute({n}, [&](const std::vector<Var>& i) { return A(i[0]) + B(i[0]); }, "C");
    ASSERT_EQ(C.dtype(), t);
    std::vector<double> av, bv;
    for (int i = 0; i < n; ++i) {
      av.push_back(t.is_bool() ? (i % 3 == 0) : t.is_uint() ? i : i - 9);
      bv.push_back(t.is_bool() ? (i % 2 == 0) : t.is_float() ? 0.5 * i : 2 * i);
    }
    for (int vw : {0, 8}) {
      NDArray out = run_checked({A, B}, {from_values(av, t), from_values(bv, t)}, C, vw);
      for (int i = 0; i < n; ++i) {
        double want = t.is_bool() ? double(av[i] != 0 || bv[i] != 0) : av[i] + bv[i];
        EXPECT_EQ(get(out, i), want) << "element " << i << " vw " << vw;
      }
    }
  }
}

TEST(E2eDtypes, IntegerWrapAroundInNarrowTypes) {
  Tensor A = placeholder({4}, DataType::int8(), "A");
  Tensor C = compute({4}, [&](const std::vector<Var>& i) { return A(i[0]) * 2; }, "C");
  ASSERT_EQ(C.dtype(), DataType::int8());
  NDArray out = run_checked({A}, {from_values({100, -100, 64, 3}, DataType::int8())}, C);
  EXPECT_EQ(get(out, 0), -56);  // 200 wraps to -56
  EXPECT_EQ(get(out, 1), 56);
  EXPECT_EQ(get(out, 2), -128);
  EXPECT_EQ(get(out, 3), 6);
}

TEST(E2eDtypes, FloatToIntCastTruncates) {
  std::vector<double> in = {2.7, -2.7, 0.5, -0.5, 100.9, -100.9};
  for (DataType to : {DataType::int8(), DataType::int16(), DataType::int32(), DataType::int64()}) {
    SCOPED_TRACE(to.str());
    for (DataType from : {DataType::float32(), DataType::float64()}) {
      Tensor A = placeholder({6}, from, "A");
      Tensor C = compute({6}, [&](const std::vector<Var>& i) { return cast(to, A(i[0])); }, "C");
      ASSERT_EQ(C.dtype(), to);
      NDArray out = run_checked({A}, {from_values(in, from)}, C);
      for (int i = 0; i < 6; ++i) EXPECT_EQ(get(out, i), std::trunc(in[i])) << i;
    }
  }
}

TEST(E2eDtypes, IntToFloatAndBoolCasts) {
  Tensor A = placeholder({5}, DataType::int32(), "A");
  std::vector<double> in = {-3, 0, 1, 7, 1 << 20};
  Tensor F = compute({5}, [&](const std::vector<Var>& i) { return cast(DataType::float64(), A(i[0])) / 2.0; }, "F");
  EXPECT_EQ(F.dtype(), DataType::float64());
  NDArray f = run_checked({A}, {from_values(in, DataType::int32())}, F);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(get(f, i), in[i] / 2.0);
  // int → bool is "!= 0"; bool → int32 is 0/1.
  Tensor B = compute({5}, [&](const std::vector<Var>& i) { return cast(DataType::boolean(), A(i[0])); }, "B");
  EXPECT_EQ(B.dtype(), DataType::boolean());
  NDArray b = run_checked({A}, {from_values(in, DataType::int32())}, B);
  for (int i = 0; i < 5; ++i) EXPECT_EQ(get(b, i), in[i] != 0 ? 1 : 0) << i;
  Tensor P = placeholder({4}, DataType::boolean(), "P");
  Tensor I = compute({4}, [&](const std::vector<Var>& i) { return cast(DataType::int32(), P(i[0])) * 5; }, "I");
  NDArray r = run_checked({P}, {from_values({1, 0, 1, 1}, DataType::boolean())}, I);
  EXPECT_EQ(get(r, 0), 5);
  EXPECT_EQ(get(r, 1), 0);
  // float → bool: 0.25 is true.
  Tensor X = placeholder({3}, DataType::float32(), "X");
  Tensor XB = compute({3}, [&](const std::vector<Var>& i) { return cast(DataType::boolean(), X(i[0])); }, "XB");
  NDArray xb = run_checked({X}, {from_values({0.25, 0, -1}, DataType::float32())}, XB);
  EXPECT_EQ(get(xb, 0), 1);
  EXPECT_EQ(get(xb, 1), 0);
  EXPECT_EQ(get(xb, 2), 1);
}

TEST(E2eDtypes, Float16ArithmeticAndCasts) {
  Tensor A = placeholder({8}, DataType::float16(), "A");
  Tensor C = compute({8}, [&](const std::vector<Var>& i) { return A(i[0]) * 2.0 + 1.0; }, "C");
  EXPECT_EQ(C.dtype(), DataType::float16());  // constants adapt to float16
  std::vector<double> in = {0, 0.5, -1.5, 3, 0.25, -8, 100, 512};
  for (int vw : {0, 4}) {
    NDArray out = run_checked({A}, {from_values(in, DataType::float16())}, C, vw);
    for (int i = 0; i < 8; ++i) EXPECT_EQ(get(out, i), in[i] * 2 + 1) << i;
  }
  Tensor F = compute({8}, [&](const std::vector<Var>& i) { return cast(DataType::float32(), A(i[0])) + 0.125f; }, "F");
  NDArray f = run_checked({A}, {from_values(in, DataType::float16())}, F);
  for (int i = 0; i < 8; ++i) EXPECT_EQ(get(f, i), in[i] + 0.125) << i;
}

TEST(E2eDtypes, PromotionRulesOfIrHeader) {
  auto ph = [](DataType t) { return placeholder({1}, t, "p"); };
  auto dt = [](Expr e) { return e.dtype(); };
  Expr zero = Expr(0);
  Expr b = ph(DataType::boolean())(zero), i8 = ph(DataType::int8())(zero), u8 = ph(DataType::uint8())(zero);
  Expr i16 = ph(DataType::int16())(zero), i32 = ph(DataType::int32())(zero), i64 = ph(DataType::int64())(zero);
  Expr f16 = ph(DataType::float16())(zero), f32 = ph(DataType::float32())(zero), f64 = ph(DataType::float64())(zero);
  EXPECT_EQ(dt(i8 + i16), DataType::int16());
  EXPECT_EQ(dt(i8 + u8), DataType::uint8());
  EXPECT_EQ(dt(u8 + i16), DataType::int16());
  EXPECT_EQ(dt(i32 + i64), DataType::int64());
  EXPECT_EQ(dt(i64 + f16), DataType::float16());
  EXPECT_EQ(dt(f16 + f32), DataType::float32());
  EXPECT_EQ(dt(f32 * f64), DataType::float64());
  EXPECT_EQ(dt(b + i8), DataType::int8());
  EXPECT_EQ(dt(i32 + f32), DataType::float32());
  EXPECT_EQ(dt(f16 + 1.0), DataType::float16());
  EXPECT_EQ(dt(i32 * 2), DataType::int32());
  EXPECT_EQ(dt(i8 * 2), DataType::int8());
  EXPECT_EQ(dt(i64 + 1), DataType::int64());
  EXPECT_EQ(dt(i32 * 0.5), DataType::float32());
  EXPECT_EQ(dt(i64 * 0.5), DataType::float32());
  EXPECT_EQ(dt(f64 + 1.0), DataType::float64());
  EXPECT_EQ(dt(i32 < f32), DataType::boolean());
  EXPECT_EQ(promote(DataType::int16(), DataType::uint8()), DataType::int16());
  EXPECT_EQ(promote(DataType::boolean(), DataType::float16()), DataType::float16());
}

TEST(E2eDtypes, MixedExpressionNumbers) {
  Tensor I = placeholder({4}, DataType::int32(), "I");
  Tensor F = placeholder({4}, DataType::float64(), "F");
  Tensor U = placeholder({4}, DataType::uint8(), "U");
  Tensor C = compute({4}, [&](const std::vector<Var>& i) { return I(i[0]) * 0.5 + F(i[0]) + U(i[0]); }, "C");
  ASSERT_EQ(C.dtype(), DataType::float64());
  std::vector<double> iv = {3, -5, 7, 0}, fv = {0.25, 1.5, -2, 8}, uv = {200, 1, 0, 255};
  NDArray out = run_checked({I, F, U}, {from_values(iv, DataType::int32()), from_values(fv, DataType::float64()),
                                       from_values(uv, DataType::uint8())}, C);
  for (int i = 0; i < 4; ++i) EXPECT_DOUBLE_EQ(get(out, i), iv[i] * 0.5 + fv[i] + uv[i]) << i;
  // uint8 + int8 gives uint8 (wraps); uint8 with int16 gives int16 (no wrap).
  Tensor S = placeholder({4}, DataType::int16(), "S");
  Tensor D = compute({4}, [&](const std::vector<Var>& i) { return U(i[0]) + S(i[0]); }, "D");
  ASSERT_EQ(D.dtype(), DataType::int16());
  std::vector<double> sv = {100, -2, 1, 1000};
  NDArray d = run_checked({U, S}, {from_values(uv, DataType::uint8()), from_values(sv, DataType::int16())}, D);
  for (int i = 0; i < 4; ++i) EXPECT_EQ(get(d, i), uv[i] + sv[i]) << i;
}

TEST(E2eDtypes, TruncatingVersusFloorDivision) {
  std::vector<double> av = {7, -7, 7, -7, 0, -1, 9, -9};
  std::vector<double> bv = {2, 2, -2, -2, 3, 3, 4, -4};
  for (DataType t : {DataType::int8(), DataType::int16(), DataType::int32(), DataType::int64()}) {
    SCOPED_TRACE(t.str());
    Tensor A = placeholder({8}, t, "A"), B = placeholder({8}, t, "B");
    auto args = std::vector<NDArray>{from_values(av, t), from_values(bv, t)};
    Tensor D = compute({8}, [&](const std::vector<Var>& i) { return A(i[0]) / B(i[0]); }, "D");
    Tensor M = compute({8}, [&](const std::vector<Var>& i) { return A(i[0]) % B(i[0]); }, "M");
    Tensor FD = compute({8}, [&](const std::vector<Var>& i) { return floordiv(A(i[0]), B(i[0])); }, "FD");
    Tensor FM = compute({8}, [&](const std::vector<Var>& i) { return floormod(A(i[0]), B(i[0])); }, "FM");
    for (int vw : {0, 4}) {
      NDArray d = run_checked({A, B}, args, D, vw), m = run_checked({A, B}, args, M, vw);
      NDArray fd = run_checked({A, B}, args, FD, vw), fm = run_checked({A, B}, args, FM, vw);
      for (int i = 0; i < 8; ++i) {
        int64_t a = int64_t(av[i]), b = int64_t(bv[i]);
        int64_t floor_q = (a / b) - ((a % b != 0) && ((a < 0) != (b < 0)) ? 1 : 0);
        EXPECT_EQ(get(d, i), double(a / b)) << a << "/" << b;
        EXPECT_EQ(get(m, i), double(a % b)) << a << "%" << b;
        EXPECT_EQ(get(fd, i), double(floor_q)) << "floordiv " << a << "," << b;
        EXPECT_EQ(get(fm, i), double(a - floor_q * b)) << "floormod " << a << "," << b;
      }
    }
  }
}

TEST(E2eDtypes, DivisionByConstantsOnNegativeValues) {
  // Constant divisors take the simplifier's / codegen's fast paths (shifts for powers of two).
  Tensor A = placeholder({8}, DataType::int32(), "A");
  std::vector<double> av = {-9, -8, -7, -1, 0, 1, 7, 8};
  NDArray a = from_values(av, DataType::int32());
  Tensor D = compute({8}, [&](const std::vector<Var>& i) { return A(i[0]) / 4; }, "D");
  Tensor M = compute({8}, [&](const std::vector<Var>& i) { return A(i[0]) % 4; }, "M");
  Tensor FD = compute({8}, [&](const std::vector<Var>& i) { return floordiv(A(i[0]), 4); }, "FD");
  Tensor FM = compute({8}, [&](const std::vector<Var>& i) { return floormod(A(i[0]), 4); }, "FM");
  NDArray d = run_checked({A}, {a}, D), m = run_checked({A}, {a}, M, 4);
  NDArray fd = run_checked({A}, {a}, FD, 4), fm = run_checked({A}, {a}, FM);
  for (int i = 0; i < 8; ++i) {
    int a_i = int(av[i]);
    EXPECT_EQ(get(d, i), a_i / 4);
    EXPECT_EQ(get(m, i), a_i % 4);
    EXPECT_EQ(get(fd, i), std::floor(a_i / 4.0));
    EXPECT_EQ(get(fm, i), a_i - 4 * std::floor(a_i / 4.0));
  }
  // Constant folding follows the same rules.
  EXPECT_EQ(*as_const_int(Expr(7) / Expr(-2)), -3);
  EXPECT_EQ(*as_const_int(Expr(-7) % Expr(2)), -1);
  EXPECT_EQ(*as_const_int(floordiv(Expr(-7), Expr(2))), -4);
  EXPECT_EQ(*as_const_int(floormod(Expr(-7), Expr(2))), 1);
}

TEST(E2eDtypes, ReductionsInIntegerAndHalfTypes) {
  const int n = 6, k = 5;
  for (DataType t : {DataType::int8(), DataType::int64(), DataType::float64(), DataType::uint8()}) {
    SCOPED_TRACE(t.str());
    Tensor A = placeholder({n, k}, t, "A");
    IterVar r = reduce_axis(Range(0, k), "r");
    Tensor S = compute({n}, [&](const std::vector<Var>& i) { return sum(A(i[0], r), {r}); }, "S");
    Tensor X = compute({n}, [&](const std::vector<Var>& i) { return max(A(i[0], r), std::vector<IterVar>{r}); }, "X");
    NDArray a = NDArray::empty({n, k}, t);
    for (int i = 0; i < n * k; ++i) set(a, i, t.is_uint() ? (i * 7) % 11 : (i * 7) % 11 - 5);
    Schedule sch = create_schedule({S.op(), X.op()});
    Module m = build(sch, {A, S, X}, "llvm", "red");
    NDArray s = NDArray::empty({n}, t), x = NDArray::empty({n}, t);
    m({a, s, x});
    auto ref = evaluate_reference({A}, {a}, {S, X});
    for (int i = 0; i < n; ++i) {
      double want_sum = 0, want_max = -1e9;
      for (int j = 0; j < k; ++j) want_sum += get(a, i * k + j), want_max = std::max(want_max, get(a, i * k + j));
      EXPECT_EQ(get(s, i), want_sum);
      EXPECT_EQ(get(ref[0], i), want_sum);
      EXPECT_EQ(get(x, i), want_max);
      EXPECT_EQ(get(ref[1], i), want_max);
    }
  }
}


// uint8 must use unsigned compare / divide / extend / int-to-float (200 is not -56).
TEST(E2eDtypes, Uint8IsUnsignedEverywhere) {
  std::vector<double> av = {200, 255, 3, 128, 0, 100, 129, 254};
  std::vector<double> bv = {3, 100, 200, 2, 1, 7, 128, 255};
  Tensor A = placeholder({8}, DataType::uint8(), "A"), B = placeholder({8}, DataType::uint8(), "B");
  auto args = std::vector<NDArray>{from_values(av, DataType::uint8()), from_values(bv, DataType::uint8())};
  Tensor D = compute({8}, [&](const std::vector<Var>& i) { return A(i[0]) / B(i[0]); }, "D");
  Tensor M = compute({8}, [&](const std::vector<Var>& i) { return A(i[0]) % B(i[0]); }, "M");
  Tensor G = compute({8}, [&](const std::vector<Var>& i) { return A(i[0]) > B(i[0]); }, "G");
  Tensor X = compute({8}, [&](const std::vector<Var>& i) { return max(A(i[0]), B(i[0])); }, "X");
  Tensor W = compute({8}, [&](const std::vector<Var>& i) { return cast(DataType::int32(), A(i[0])) - 1; }, "W");
  Tensor F = compute({8}, [&](const std::vector<Var>& i) { return cast(DataType::float32(), A(i[0])); }, "F");
  Tensor H = compute({8}, [&](const std::vector<Var>& i) { return floordiv(A(i[0]), 16); }, "H");
  for (int vw : {0, 8}) {
    NDArray d = run_checked({A, B}, args, D, vw), m = run_checked({A, B}, args, M, vw);
    NDArray g = run_checked({A, B}, args, G, vw), x = run_checked({A, B}, args, X, vw);
    NDArray w = run_checked({A}, {args[0]}, W, vw), f = run_checked({A}, {args[0]}, F, vw);
    NDArray h = run_checked({A}, {args[0]}, H, vw);
    for (int i = 0; i < 8; ++i) {
      unsigned a = unsigned(av[i]), b = unsigned(bv[i]);
      EXPECT_EQ(get(d, i), a / b) << a << "/" << b << " vw " << vw;
      EXPECT_EQ(get(m, i), a % b) << a << "%" << b;
      EXPECT_EQ(get(g, i), a > b ? 1 : 0) << a << ">" << b;
      EXPECT_EQ(get(x, i), std::max(a, b));
      EXPECT_EQ(get(w, i), double(a) - 1);
      EXPECT_EQ(get(f, i), double(a));
      EXPECT_EQ(get(h, i), double(a / 16));
    }
  }
}

TEST(E2eDtypes, NarrowingAndSignChangingCasts) {
  Tensor A = placeholder({4}, DataType::int32(), "A");
  std::vector<double> av = {-1, 300, -129, 65535};
  Tensor U = compute({4}, [&](const std::vector<Var>& i) { return cast(DataType::uint8(), A(i[0])); }, "U");
  Tensor S = compute({4}, [&](const std::vector<Var>& i) { return cast(DataType::int8(), A(i[0])); }, "S");
  Tensor H = compute({4}, [&](const std::vector<Var>& i) { return cast(DataType::int16(), A(i[0])); }, "H");
  for (int vw : {0, 4}) {
    NDArray u = run_checked({A}, {from_values(av, DataType::int32())}, U, vw);
    NDArray s8 = run_checked({A}, {from_values(av, DataType::int32())}, S, vw);
    NDArray h = run_checked({A}, {from_values(av, DataType::int32())}, H, vw);
    for (int i = 0; i < 4; ++i) {
      int32_t a = int32_t(av[i]);
      EXPECT_EQ(get(u, i), double(uint8_t(a))) << a;
      EXPECT_EQ(get(s8, i), double(int8_t(a))) << a;
      EXPECT_EQ(get(h, i), double(int16_t(a))) << a;
    }
  }
}

TEST(E2eDtypes, Float16MathAndSelect) {
  Tensor A = placeholder({16}, DataType::float16(), "A");
  std::vector<double> in;
  for (int i = 0; i < 16; ++i) in.push_back((i - 8) * 0.25);
  Tensor C = compute({16}, [&](const std::vector<Var>& i) {
    Expr x = A(i[0]);
    return select(x > 0.0, sqrt(x), exp(x)) + max(x, Expr(0.5)) + tanh(x);
  }, "C");
  ASSERT_EQ(C.dtype(), DataType::float16());
  for (int vw : {0, 8}) {
    NDArray out = run_checked({A}, {from_values(in, DataType::float16())}, C, vw, 2e-3);
    for (int i = 0; i < 16; ++i) {
      double x = in[i];
      double want = (x > 0 ? std::sqrt(x) : std::exp(x)) + std::max(x, 0.5) + std::tanh(x);
      EXPECT_NEAR(get(out, i), want, 4e-3 * (1 + std::fabs(want))) << x << " vw " << vw;
    }
  }
}

}  // namespace
}  // namespace te::testing
