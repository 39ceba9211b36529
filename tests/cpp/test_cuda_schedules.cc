// CUDA backend: the suite's operators with GPU schedules — matmul tiled through shared memory,
// conv2d with simple binds, softmax one row per thread and with a cross-thread reduction —
// printed, compiled by NVRTC, run where a GPU exists.
#include "test_cuda_util.h"

namespace te::testing {
namespace {

TEST(CudaSchedules, MatmulSharedTiles) {
  const int N = 64, M = 48, K = 40, T = 16, KT = 8;
  // Cooperative loads: the 16x8 A tile and the 8x16 B tile spread over the 16x16 threads.
  SharedTileMatmul mm = shared_tile_matmul(N, M, K, T, KT);
  const Tensor &A = mm.A, &B = mm.B, &C = mm.C;
  Module m = mm.build("cuda", "matmul_shared");
  std::string cu = m.get_source("cuda");
  EXPECT_TRUE(contains(cu, "__shared__")) << cu;
  EXPECT_GE(count_of(cu, "__syncthreads();"), 2u) << cu;  // after the loads and after the use
  EXPECT_TRUE(contains(cu, "float A_shared[128]")) << cu;  // the block's 16x8 tile, not one thread's row
  const CudaKernelSource src = codegen_cuda(m.func());
  EXPECT_EQ(src.launch.block[0], T);
  EXPECT_EQ(src.launch.block[1], T);
  EXPECT_TRUE(is_const_int(src.launch.grid[0], (M + T - 1) / T));
  EXPECT_TRUE(is_const_int(src.launch.grid[1], N / T));
  expect_ptx_entry(m);
  run_or_skip(m, {A, B}, C, {{N, K}, {K, M}, {N, M}});
}

TEST(CudaSchedules, Conv2dSimpleBind) {
  const int N = 1, C = 3, H = 13, W = 11, K = 4, R = 3, S = 3, stride = 2, pad = 1;
  const int OH = (H + 2 * pad - R) / stride + 1, OW = (W + 2 * pad - S) / stride + 1;
  Tensor data = placeholder({N, C, H, W}, DataType::float32(), "data");
  Tensor weight = placeholder({K, C, R, S}, DataType::float32(), "weight");
  Tensor padded = compute({N, C, H + 2 * pad, W + 2 * pad}, [&](const std::vector<Var>& i) {
    Expr inside = i[2] >= pad && i[2] < H + pad && i[3] >= pad && i[3] < W + pad;
    return if_then_else(inside, data(i[0], i[1], i[2] - pad, i[3] - pad), constant(0.0));
  }, "pad");
  IterVar rc = reduce_axis(Range(0, C), "rc"), ry = reduce_axis(Range(0, R), "ry"), rx = reduce_axis(Range(0, S), "rx");
  Tensor out = compute({N, K, OH, OW}, [&](const std::vector<Var>& i) {
    return sum(padded(i[0], rc, i[2] * stride + ry, i[3] * stride + rx) * weight(i[1], rc, ry, rx), {rc, ry, rx});
  }, "conv");
  Schedule s = create_schedule({out.op()});
  s[padded].compute_inline();
  const auto& axis = compute_op(out)->axis;
  IterVar nk = s[out].fuse(axis[0], axis[1]);
  s[out].bind(nk, thread_axis("blockIdx.y"));
  s[out].bind(axis[2], thread_axis("blockIdx.x"));
  s[out].bind(axis[3], thread_axis("threadIdx.x"));
  Module m = build(s, {data, weight, out}, "cuda", "conv2d");
  std::string cu = m.get_source("cuda");
  EXPECT_TRUE(contains(cu, " ? ")) << cu;  // the padding's if_then_else
  expect_ptx_entry(m);
  run_or_skip(m, {data, weight}, out, {{N, C, H, W}, {K, C, R, S}, {N, K, OH, OW}});
}

// One pass over the row with an online (max, sum of exp) reducer, then the division; one
// thread per row.
TEST(CudaSchedules, SoftmaxRowPerThread) {
  const int N = 70, M = 31;
  Tensor A = placeholder({N, M}, DataType::float32(), "A");
  IterVar k = reduce_axis(Range(0, M), "k");
  Reducer online_max_sum(
      [](const std::vector<Expr>& lhs, const std::vector<Expr>& rhs) {
        Expr m = te::max(lhs[0], rhs[0]);
        return std::vector<Expr>{m, lhs[1] * exp(lhs[0] - m) + rhs[1] * exp(rhs[0] - m)};
      },
      [](const std::vector<DataType>& t) { return std::vector<Expr>{min_value(t[0]), constant(0.0)}; },
      "online_softmax");
  std::vector<Tensor> stats = compute_multi({N}, [&](const std::vector<Var>& i) {
    return online_max_sum({A(i[0], k), constant(1.0)}, {k});
  }, "stats");
  Tensor out = compute({N, M}, [&](const std::vector<Var>& i) {
    return exp(A(i[0], i[1]) - stats[0](i[0])) / stats[1](i[0]);
  }, "softmax");
  Schedule s = create_schedule({out.op()});
  auto [bx, tx] = s[out].split(compute_op(out)->axis[0], 32);
  s[out].bind(bx, thread_axis("blockIdx.x"));
  s[out].bind(tx, thread_axis("threadIdx.x"));
  s[stats[0]].compute_at(s[out], tx);
  Module m = build(s, {A, out}, "cuda", "softmax");
  std::string cu = m.get_source("cuda");
  EXPECT_TRUE(contains(cu, "expf(")) << cu;
  EXPECT_TRUE(contains(cu, "fmaxf(")) << cu;
  expect_ptx_entry(m);
  run_or_skip(m, {A}, out, {{N, M}, {N, M}});
}

// The same online reducer as a cross-thread reduction: one block per row, 128 threads folding
// every 128th column, combining through warp shuffles and shared memory, then writing the row.
TEST(CudaSchedules, SoftmaxCrossThreadReduction) {
  const int N = 70, M = 1000, T = 128;
  Tensor A = placeholder({N, M}, DataType::float32(), "A");
  IterVar k = reduce_axis(Range(0, M), "k");
  Reducer online_max_sum(
      [](const std::vector<Expr>& lhs, const std::vector<Expr>& rhs) {
        Expr m = te::max(lhs[0], rhs[0]);
        return std::vector<Expr>{m, lhs[1] * exp(lhs[0] - m) + rhs[1] * exp(rhs[0] - m)};
      },
      [](const std::vector<DataType>& t) { return std::vector<Expr>{min_value(t[0]), constant(0.0)}; },
      "online_softmax");
  std::vector<Tensor> stats = compute_multi({N}, [&](const std::vector<Var>& i) {
    return online_max_sum({A(i[0], k), constant(1.0)}, {k});
  }, "stats");
  Tensor out = compute({N, M}, [&](const std::vector<Var>& i) {
    return exp(A(i[0], i[1]) - stats[0](i[0])) / stats[1](i[0]);
  }, "softmax");
  Schedule s = create_schedule({out.op()});
  IterVar row = compute_op(out)->axis[0];
  s[out].bind(row, thread_axis("blockIdx.x"));
  auto [jo, ji] = s[out].split(compute_op(out)->axis[1], T);
  (void)jo;
  s[out].bind(ji, thread_axis("threadIdx.x"));
  Tensor local = s.cache_write(stats[0], "local");  // the row's statistics in registers
  s[stats[0]].compute_inline();
  s[local].compute_at(s[out], row);
  auto [ko, ki] = s[local].split(compute_op(local)->reduce_axis[0], T);
  (void)ko;
  s[local].bind(ki, thread_axis("threadIdx.x"));
  Module m = build(s, {A, out}, "cuda", "softmax_block_row");
  std::string cu = m.get_source("cuda");
  EXPECT_TRUE(contains(cu, "cross-thread reduction over threadIdx.x: 1 group(s) of 128 threads")) << cu;
  EXPECT_EQ(count_of(cu, "__shfl_down_sync("), 10u) << cu;  // 5 offsets x 2 values
  EXPECT_EQ(count_of(cu, "__syncthreads();"), 2u) << cu;
  expect_ptx_entry(m);
  run_or_skip(m, {A}, out, {{N, M}, {N, M}});
}

}  // namespace
}  // namespace te::testing
