// evaluate_reference against hand-written loops: broadcast, matmul, symbolic sizes,
// reductions with conditions, if_then_else padding, multi-valued reducers, chains, errors.
#include <cmath>
#include <limits>

#include "test_util.h"

namespace te {
namespace {

using testing::random_array;

float at(const NDArray& a, int64_t i) { return a.data_as<float>()[i]; }

TEST(TeReference, ElementwiseBroadcast) {
  Tensor A = placeholder({7, 13}, DataType::float32(), "A");
  Tensor bias = placeholder({13}, DataType::float32(), "bias");
  Tensor B = compute({7, 13}, [&](const std::vector<Var>& i) { return A(i[0], i[1]) + bias(i[1]); }, "B");
  NDArray a = random_array({7, 13}, DataType::float32(), 1), b = random_array({13}, DataType::float32(), 2);
  std::vector<NDArray> out = evaluate_reference({A, bias}, {a, b}, {B});
  ASSERT_EQ(out.size(), 1u);
  ASSERT_EQ(out[0].shape(), (std::vector<int64_t>{7, 13}));
  for (int i = 0; i < 7; ++i)
    for (int j = 0; j < 13; ++j) EXPECT_FLOAT_EQ(at(out[0], i * 13 + j), at(a, i * 13 + j) + at(b, j));
}

TEST(TeReference, Matmul) {
  const int N = 37, M = 29, K = 23;
  Tensor A = placeholder({N, K}, DataType::float32(), "A");
  Tensor B = placeholder({K, M}, DataType::float32(), "B");
  IterVar k = reduce_axis(Range(0, K), "k");
  Tensor C = compute({N, M}, [&](const std::vector<Var>& i) { return sum(A(i[0], k) * B(k, i[1]), {k}); }, "C");
  NDArray a = random_array({N, K}, DataType::float32(), 3), b = random_array({K, M}, DataType::float32(), 4);
  NDArray c = evaluate_reference({A, B}, {a, b}, {C})[0];
  for (int i = 0; i < N; ++i)
    for (int j = 0; j < M; ++j) {
      double acc = 0;
      for (int kk = 0; kk < K; ++kk) acc += double(at(a, i * K + kk)) * at(b, kk * M + j);
      EXPECT_NEAR(at(c, i * M + j), acc, 1e-4);
    }
}

TEST(TeReference, SymbolicSizeBoundFromInputs) {
  Var n = var("n");
  Tensor A = placeholder({n, 3}, DataType::float32(), "A");
  Tensor B = compute({n, 3}, [&](const std::vector<Var>& i) { return A(i[0], i[1]) * 2.0f + cast(DataType::float32(), i[0]); }, "B");
  for (int64_t size : {5, 31}) {
    NDArray a = random_array({size, 3}, DataType::float32(), uint64_t(size));
    NDArray b = evaluate_reference({A}, {a}, {B})[0];
    ASSERT_EQ(b.shape(), (std::vector<int64_t>{size, 3}));
    for (int64_t i = 0; i < size * 3; ++i) EXPECT_FLOAT_EQ(at(b, i), at(a, i) * 2.0f + float(i / 3));
  }
}

TEST(TeReference, InputErrors) {
  Var n = var("n");
  Tensor A = placeholder({n, 4}, DataType::float32(), "A");
  Tensor B = placeholder({n}, DataType::float32(), "B");
  Tensor C = compute({n, 4}, [&](const std::vector<Var>& i) { return A(i[0], i[1]) + B(i[0]); }, "C");
  NDArray a = random_array({6, 4}, DataType::float32(), 1);
  EXPECT_TE_ERROR(evaluate_reference({A, B}, {a, random_array({5}, DataType::float32(), 2)}, {C}),
                  "input 1 (B)", "dimension 0");
  EXPECT_TE_ERROR(evaluate_reference({A, B}, {a}, {C}), "1 input arrays for 2 placeholders");
  EXPECT_TE_ERROR(evaluate_reference({A, B}, {a, random_array({6}, DataType::int32(), 2)}, {C}),
                  "input 1 (B)", "float32", "int32");
  EXPECT_TE_ERROR(evaluate_reference({A, B}, {random_array({6, 5}, DataType::float32(), 1), random_array({6}, DataType::float32(), 2)}, {C}),
                  "input 0 (A)", "dimension 1");
  EXPECT_TE_ERROR(evaluate_reference({A}, {a}, {C}), "placeholder B", "not among the inputs");
  Tensor D = compute({4}, [&](const std::vector<Var>& i) { return A(i[0] + 5, i[0]); }, "D");
  EXPECT_TE_ERROR(evaluate_reference({A}, {a}, {D}), "reads A[", "outside its shape");
}

TEST(TeReference, ReductionWithCondition) {
  // Lower-triangular row sums: S[i] = sum_{k <= i} A[i, k]; rows where nothing counts stay 0.
  const int N = 13;
  Tensor A = placeholder({N, N}, DataType::float32(), "A");
  IterVar k = reduce_axis(Range(0, N), "k");
  Tensor S = compute({N}, [&](const std::vector<Var>& i) { return sum(A(i[0], k), {k}, k <= i[0] - 3); }, "S");
  Tensor M = compute({N}, [&](const std::vector<Var>& i) {
    return te::max(A(i[0], k), std::vector<IterVar>{k}, k <= i[0] - 3);
  }, "M");
  NDArray a = random_array({N, N}, DataType::float32(), 5);
  std::vector<NDArray> out = evaluate_reference({A}, {a}, {S, M});
  for (int i = 0; i < N; ++i) {
    double acc = 0;
    float mx = std::numeric_limits<float>::lowest();
    for (int kk = 0; kk <= i - 3; ++kk) {
      acc += at(a, i * N + kk);
      mx = std::max(mx, at(a, i * N + kk));
    }
    EXPECT_NEAR(at(out[0], i), acc, 1e-5);
    EXPECT_EQ(at(out[1], i), mx);
  }
}

TEST(TeReference, PaddingWithIfThenElse) {
  const int H = 7, W = 5, P = 1;
  Tensor A = placeholder({H, W}, DataType::float32(), "A");
  Tensor Apad = compute({H + 2 * P, W + 2 * P}, [&](const std::vector<Var>& i) {
    Expr inside = i[0] >= P && i[0] < H + P && i[1] >= P && i[1] < W + P;
    return if_then_else(inside, A(i[0] - P, i[1] - P), constant(0.0));
  }, "Apad");
  // 3x3 box filter with stride 2 over the padded input.
  IterVar ry = reduce_axis(Range(0, 3), "ry"), rx = reduce_axis(Range(0, 3), "rx");
  const int OH = (H + 2 * P - 3) / 2 + 1, OW = (W + 2 * P - 3) / 2 + 1;
  Tensor B = compute({OH, OW}, [&](const std::vector<Var>& i) {
    return sum(Apad(i[0] * 2 + ry, i[1] * 2 + rx), {ry, rx});
  }, "B");
  NDArray a = random_array({H, W}, DataType::float32(), 6);
  NDArray b = evaluate_reference({A}, {a}, {B})[0];
  for (int y = 0; y < OH; ++y)
    for (int x = 0; x < OW; ++x) {
      double acc = 0;
      for (int dy = 0; dy < 3; ++dy)
        for (int dx = 0; dx < 3; ++dx) {
          int sy = y * 2 + dy - P, sx = x * 2 + dx - P;
          if (sy >= 0 && sy < H && sx >= 0 && sx < W) acc += at(a, sy * W + sx);
        }
      EXPECT_NEAR(at(b, y * OW + x), acc, 1e-5);
    }
}

TEST(TeReference, ArgmaxMultiValued) {
  const int N = 6, K = 31;
  Tensor A = placeholder({N, K}, DataType::float32(), "A");
  IterVar k = reduce_axis(Range(0, K), "k");
  Reducer argmax(
      [](const std::vector<Expr>& lhs, const std::vector<Expr>& rhs) {
        Expr take_rhs = rhs[1] > lhs[1];
        return std::vector<Expr>{select(take_rhs, rhs[0], lhs[0]), select(take_rhs, rhs[1], lhs[1])};
      },
      [](const std::vector<DataType>& t) { return std::vector<Expr>{make_const(t[0], -1), min_value(t[1])}; },
      "argmax");
  std::vector<Tensor> outs = compute_multi({N}, [&](const std::vector<Var>& i) {
    return argmax({Expr(k), A(i[0], k)}, {k});
  }, "argmax");
  NDArray a = random_array({N, K}, DataType::float32(), 7);
  std::vector<NDArray> res = evaluate_reference({A}, {a}, {outs[1], outs[0]});
  for (int i = 0; i < N; ++i) {
    int best = -1;
    float best_value = std::numeric_limits<float>::lowest();
    for (int kk = 0; kk < K; ++kk)
      if (at(a, i * K + kk) > best_value) best_value = at(a, i * K + kk), best = kk;
    EXPECT_EQ(res[1].data_as<int32_t>()[i], best);
    EXPECT_EQ(at(res[0], i), best_value);
  }
}

TEST(TeReference, ChainAndIntegerTypes) {
  Tensor A = placeholder({10}, DataType::int32(), "A");
  Tensor B = compute({10}, [&](const std::vector<Var>& i) { return A(i[0]) * 3; }, "B");
  Tensor C = compute({9}, [&](const std::vector<Var>& i) { return B(i[0]) - B(i[0] + 1); }, "C");
  Tensor D = compute({9}, [&](const std::vector<Var>& i) { return cast(DataType::float32(), C(i[0])) * 0.5f; }, "D");
  NDArray a = random_array({10}, DataType::int32(), 8);
  std::vector<NDArray> out = evaluate_reference({A}, {a}, {D, C});
  const int32_t* x = a.data_as<int32_t>();
  for (int i = 0; i < 9; ++i) {
    EXPECT_EQ(out[1].data_as<int32_t>()[i], x[i] * 3 - x[i + 1] * 3);
    EXPECT_FLOAT_EQ(at(out[0], i), float(x[i] * 3 - x[i + 1] * 3) * 0.5f);
  }
}

}  // namespace
}  // namespace te
