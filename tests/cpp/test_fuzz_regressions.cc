// Regression tests for the bugs the differential fuzzer (tests/fuzz) found, one test per bug,
// each written as the smallest te program that showed it. The fuzzer's own reproducers are
// also replayed as they were found (tests/fuzz/regressions/*.json, CTest fuzz_regressions).
#include <limits>

#include "te/ops.h"
#include "test_util.h"

namespace te::testing {
namespace {

// Fuzz seeds 5029 and 5056: integer data arithmetic was emitted with LLVM's nsw flag, so an
// int8 sum of squares that wraps (as it does in the reference interpreter) was "known" to be
// non-negative and abs() of it was folded away: the kernel returned -63 where 63 was right.
TEST(FuzzRegressions, Int8ArithmeticWrapsLikeTheReference) {
  Tensor A = placeholder({2, 2}, DataType::int8(), "A");
  IterVar k = reduce_axis(Range(0, 2), "k");
  Tensor S = compute({2}, [&](const std::vector<Var>& i) { return sum(A(i[0], k) * A(i[0], k), {k}); }, "S");
  Tensor B = compute({2}, [&](const std::vector<Var>& i) { return abs(S(i[0])); }, "B");
  Schedule s = create_schedule({B.op()});
  s[S].compute_at(s[B], B.op().as<ComputeOpNode>()->axis[0]);
  Module m = build(s, {A, B}, "llvm", "wrap_abs");
  NDArray a = NDArray::empty({2, 2}, DataType::int8());
  const int8_t values[] = {9, 8, 3, 4};  // 81 + 64 = 145 wraps to -111; 9 + 16 = 25
  for (int i = 0; i < 4; ++i) a.data_as<int8_t>()[i] = values[i];
  NDArray b = NDArray::empty({2}, DataType::int8());
  b.fill_poison();
  m({a, b});
  EXPECT_EQ(b.data_as<int8_t>()[0], 111);
  EXPECT_EQ(b.data_as<int8_t>()[1], 25);
  EXPECT_EQ(compare_arrays(b, evaluate_reference({A}, {a}, {B})[0], 0, 0), "");
}

// The same for int32 elementwise arithmetic: x*x + y*y overflowing int32 wraps, and a
// comparison of the wrapped value must see the wrapped value.
TEST(FuzzRegressions, Int32OverflowWrapsInComparisons) {
  Tensor A = placeholder({4}, DataType::int32(), "A");
  Tensor B = compute({4}, [&](const std::vector<Var>& i) {
    Expr sq = A(i[0]) * A(i[0]) + A(i[0]) * A(i[0]);
    return select(sq < constant(0, DataType::int32()), constant(1, DataType::int32()), constant(0, DataType::int32()));
  }, "B");
  Schedule s = create_schedule({B.op()});
  Module m = build(s, {A, B}, "llvm", "wrap_cmp");
  NDArray a = NDArray::empty({4}, DataType::int32());
  const int32_t values[] = {3, 40000, -40000, 7};  // 2 * 1.6e9 wraps negative
  for (int i = 0; i < 4; ++i) a.data_as<int32_t>()[i] = values[i];
  NDArray b = NDArray::empty({4}, DataType::int32());
  b.fill_poison();
  m({a, b});
  EXPECT_EQ(compare_arrays(b, evaluate_reference({A}, {a}, {B})[0], 0, 0), "");
  EXPECT_EQ(b.data_as<int32_t>()[1], 1);
}

// Fuzz seed 401534: LLVM 19's SLP vectorizer turned the fully unrolled reads of a stack
// buffer (T1, written just before) into masked gathers and scheduled them above the stores
// that fill it, so the kernel read uninitialized stack memory. SLP is now off in te's
// pipeline (target_machine.cc).
TEST(FuzzRegressions, SlpGatherIsNotMovedAboveTheStoresItReads) {
  Tensor in0 = placeholder({3, 11, 2}, DataType::int32(), "in0");
  auto i32 = [](int64_t v) { return constant(v, DataType::int32()); };
  Tensor T0 = compute({3, 11, 2}, [&](const std::vector<Var>& i) {
    return in0(floordiv(i[0], i32(2)), floormod(i[1] * 2 + 1, i32(11)), 1 - i[2]) + 1;
  }, "T0");
  Tensor T1 = compute({3, 11, 2}, [&](const std::vector<Var>& i) { return T0(i[0], i[1], i[2]) * 3 + 1; }, "T1");
  Tensor T2 = compute({3, 11, 2}, [&](const std::vector<Var>& i) {
    return T1(floordiv(i[0], i32(2)), floormod(i[1] * 5 + 4, i32(11)), floormod(i[2] * 4 + 3, i32(2))) + 1;
  }, "T2");
  Schedule s = create_schedule({T2.op()});
  const auto* op = T2.op().as<ComputeOpNode>();
  auto t = s[T2].tile(op->axis[0], op->axis[1], 2, 3);
  s[T2].tile(t[0], op->axis[2], 3, 7);
  s[T0].compute_inline();
  Module m = build(s, {in0, T2}, "llvm", "slp_gather");
  NDArray a = NDArray::empty({3, 11, 2}, DataType::int32());
  for (int i = 0; i < 66; ++i) a.data_as<int32_t>()[i] = (i * 7919) % 41 - 20;
  NDArray out = NDArray::empty({3, 11, 2}, DataType::int32());
  out.fill_poison();
  m({a, out});
  EXPECT_EQ(compare_arrays(out, evaluate_reference({in0}, {a}, {T2})[0], 0, 0), "");
}

// Found by the tuner (depthwise_conv2d(1,96,112,112,3,3,2,1,1), config tile_y=3 parallel=1): a
// stride-2 window read under inlined padding is a vector load under a lane mask; it was a masked
// gather with 64-bit indices, and LLVM 19 gave one AVX-512 vgatherqps the same destination and
// index register — an illegal instruction (SIGILL) in the runner. Masked strided loads are now a
// masked load of the span plus a shuffle, like unmasked ones: no gather, same numbers.
TEST(FuzzRegressions, MaskedStrideTwoLoadIsNotAGather) {
  for (int64_t width : {16, 112}) {
    SCOPED_TRACE(width);
    Tensor data = placeholder({1, 2, width, width}, DataType::float32(), "data");
    Tensor weight = placeholder({2, 1, 3, 3}, DataType::float32(), "weight");
    Tensor out = ops::depthwise_conv2d_nchw(data, weight, 2, 1);
    Schedule s = create_schedule({out.op()});
    for (const Tensor& input : out.op()->input_tensors())
      if (input.name() != "data" && input.name() != "weight") s[input].compute_inline();  // the padding
    const auto* op = out.op().as<ComputeOpNode>();
    s[out].reorder({op->axis[2], op->reduce_axis[0], op->reduce_axis[1], op->axis[3]});
    s[out].vectorize(op->axis[3]);  // a row of outputs: stride-2 loads of the padded input
    s[out].parallel(s[out].fuse(op->axis[0], op->axis[1]));
    Module m = build(s, {data, weight, out}, "llvm", "masked_stride2");
    const std::string ll = m.get_source("ll");
    EXPECT_EQ(ll.find("masked.gather"), std::string::npos);
    EXPECT_NE(ll.find("masked.load"), std::string::npos);
    NDArray d = NDArray::empty({1, 2, width, width}), w = NDArray::empty({2, 1, 3, 3});
    for (int64_t i = 0; i < d.numel(); ++i) d.data_as<float>()[i] = float((i * 37) % 23) - 11.0f;
    for (int64_t i = 0; i < w.numel(); ++i) w.data_as<float>()[i] = float((i * 5) % 7) - 3.0f;
    NDArray o = NDArray::empty({1, 2, width / 2, width / 2});
    o.fill_poison();
    m({d, w, o});
    EXPECT_EQ(compare_arrays(o, evaluate_reference({data, weight}, {d, w}, {out})[0], 1e-5, 1e-5), "");
  }
}

// Fuzz seed 601437: the simplifier rearranged a comparison of data, a - b > c into a > c + b,
// which is wrong when c + b wraps (an argmax's running maximum starts at INT_MIN). Integer
// data wraps, so comparisons that read memory are no longer rearranged.
TEST(FuzzRegressions, ComparisonsOfDataAreNotRearrangedAcrossAWrap) {
  Tensor A = placeholder({4}, DataType::int32(), "A");
  Tensor B = placeholder({1}, DataType::int32(), "B");
  Tensor C = placeholder({1}, DataType::int32(), "C");
  Tensor D = compute({4}, [&](const std::vector<Var>& i) {
    return select(A(i[0]) - B(0) > C(0), constant(1, DataType::int32()), constant(0, DataType::int32()));
  }, "D");
  Module m = build(create_schedule({D.op()}), {A, B, C, D}, "llvm", "cmp_wrap");
  NDArray a = NDArray::empty({4}, DataType::int32()), b = NDArray::empty({1}, DataType::int32());
  NDArray c = NDArray::empty({1}, DataType::int32()), d = NDArray::empty({4}, DataType::int32());
  const int32_t values[] = {0, 7, -3, 100};
  for (int i = 0; i < 4; ++i) a.data_as<int32_t>()[i] = values[i];
  b.data_as<int32_t>()[0] = -5;                                     // A - B = A + 5: no wrap
  c.data_as<int32_t>()[0] = std::numeric_limits<int32_t>::min();  // C + B would wrap to INT_MAX - 4
  d.fill_poison();
  m({a, b, c, d});
  for (int i = 0; i < 4; ++i) EXPECT_EQ(d.data_as<int32_t>()[i], 1) << "element " << i;
  EXPECT_EQ(compare_arrays(d, evaluate_reference({A, B, C}, {a, b, c}, {D})[0], 0, 0), "");
}

}  // namespace
}  // namespace te::testing
