// CUDA backend: cross-thread reductions (a reduction axis bound to threadIdx). Every schedule
// is generated and NVRTC-compiled here; on a GPU it also runs and is compared with the
// reference interpreter. Because the kernels cannot run without a GPU, the emitted CUDA C is
// also checked structurally: which of the three combine strategies (xor butterfly, shuffle
// down + shared pieces, shared-memory tree) a layout gets, its barriers and its lane guards.
#include "test_cuda_util.h"

namespace te::testing {
namespace {

// B[i] = reduce over k of A[i, k]; one block per row, `threads` threads along the row.
struct RowReduce {
  Tensor A, B;
  Schedule s;
};
RowReduce row_reduce(int N, int M, int threads, Expr (*reducer)(Expr, std::vector<IterVar>, Expr),
                     bool bind_rows = true) {
  RowReduce r;
  r.A = placeholder({N, M}, DataType::float32(), "A");
  IterVar k = reduce_axis(Range(0, M), "k");
  r.B = compute({N}, [&](const std::vector<Var>& i) { return reducer(r.A(i[0], k), {k}, Expr()); }, "B");
  r.s = create_schedule({r.B.op()});
  auto [ko, ki] = r.s[r.B].split(k, threads);
  (void)ko;
  if (bind_rows) r.s[r.B].bind(compute_op(r.B)->axis[0], thread_axis("blockIdx.x"));
  r.s[r.B].bind(ki, thread_axis("threadIdx.x"));
  return r;
}

Expr sum_fn(Expr a, std::vector<IterVar> k, Expr w) { return sum(std::move(a), std::move(k), std::move(w)); }
Expr max_fn(Expr a, std::vector<IterVar> k, Expr w) { return te::max(std::move(a), std::move(k), std::move(w)); }
Expr min_fn(Expr a, std::vector<IterVar> k, Expr w) { return te::min(std::move(a), std::move(k), std::move(w)); }
Expr prod_fn(Expr a, std::vector<IterVar> k, Expr w) { return prod(std::move(a), std::move(k), std::move(w)); }

// Extents 1, 7, 32, 33, 100 and 1024 threads per row, rows not a multiple of the threads.
class CudaReduceExtent : public ::testing::TestWithParam<int> {};

TEST_P(CudaReduceExtent, RowSum) {
  const int T = GetParam(), N = 5, M = 3 * T + 5;
  RowReduce r = row_reduce(N, M, T, sum_fn);
  Module m = build(r.s, {r.A, r.B}, "cuda", "row_sum_" + std::to_string(T));
  std::string cu = m.get_source("cuda");
  EXPECT_TRUE(contains(cu, "cross-thread reduction over threadIdx.x: 1 group(s) of " + std::to_string(T))) << cu;
  if (T == 1) {
    EXPECT_FALSE(contains(cu, "__shfl")) << cu;
  } else if (T == 32) {  // one full warp: a butterfly, no shared memory, no barrier
    EXPECT_TRUE(contains(cu, "__shfl_xor_sync(0xffffffffu, B_red[0], 16);")) << cu;
    EXPECT_TRUE(contains(cu, "__shfl_xor_sync(0xffffffffu, B_red[0], 1);")) << cu;
    EXPECT_FALSE(contains(cu, "__syncthreads")) << cu;
  } else {
    EXPECT_TRUE(contains(cu, "__shfl_down_sync(")) << cu;
    // A partial warp names only its existing lanes; a combine only takes a lane of its group.
    if (T % 32 != 0) EXPECT_TRUE(contains(cu, "te_warp_mask = " + std::to_string(T) + " - (te_tid & ~31) >= 32")) << cu;
    else EXPECT_FALSE(contains(cu, "te_warp_mask")) << cu;
    EXPECT_TRUE(contains(cu, "if (te_lane + 1 < 32 && te_red + 1 < " + std::to_string(T) + ")")) << cu;
    if (T < 32) {  // the group is inside one warp: its first lane broadcasts, no shared memory
      EXPECT_TRUE(contains(cu, "__shfl_sync(")) << cu;
      EXPECT_FALSE(contains(cu, "__shared__")) << cu;
    } else {  // pieces of several warps meet in shared memory between two barriers
      EXPECT_TRUE(contains(cu, "__shared__ float te_red_shared[" + std::to_string((T + 31) / 32) + "]")) << cu;
      EXPECT_EQ(count_of(cu, "__syncthreads();"), 2u) << cu;
    }
  }
  expect_ptx_entry(m);
  run_or_skip(m, {r.A}, r.B, {{N, M}, {N}});
}

INSTANTIATE_TEST_SUITE_P(Threads, CudaReduceExtent, ::testing::Values(1, 7, 32, 33, 100, 1024));

TEST(CudaReduce, BuiltinReducers) {
  struct Case {
    const char* name;
    Expr (*fn)(Expr, std::vector<IterVar>, Expr);
    int M;
  };
  // prod over few elements keeps the value in float range.
  for (const Case& c : {Case{"max", max_fn, 300}, Case{"min", min_fn, 45}, Case{"prod", prod_fn, 12}}) {
    SCOPED_TRACE(c.name);
    RowReduce r = row_reduce(9, c.M, 64, c.fn);
    Module m = build(r.s, {r.A, r.B}, "cuda", std::string("row_") + c.name);
    expect_ptx_entry(m);
    run_or_skip(m, {r.A}, r.B, {{9, c.M}, {9}});
  }
}

// Every dtype crosses the shuffles: __half and 64-bit types natively, 8/16-bit integers and
// bool through int. max is exact, so a GPU run must match bit for bit.
TEST(CudaReduce, DtypesThroughShuffles) {
  for (DataType t : {DataType::float16(), DataType::float64(), DataType::int8(), DataType::int16(),
                     DataType::int64(), DataType::uint8()}) {
    for (int threads : {16, 48}) {
      SCOPED_TRACE(t.str() + " x" + std::to_string(threads));
      Tensor A = placeholder({5, 77}, t, "A");
      IterVar k = reduce_axis(Range(0, 77), "k");
      Tensor B = compute({5}, [&](const std::vector<Var>& i) { return te::max(A(i[0], k), std::vector<IterVar>{k}); }, "B");
      Schedule s = create_schedule({B.op()});
      auto [ko, ki] = s[B].split(k, threads);
      (void)ko;
      s[B].bind(compute_op(B)->axis[0], thread_axis("blockIdx.x"));
      s[B].bind(ki, thread_axis("threadIdx.x"));
      Module m = build(s, {A, B}, "cuda", "max_" + t.str() + "_" + std::to_string(threads));
      std::string cu = m.get_source("cuda");
      bool native = t.is_float() || t.bits >= 32;
      EXPECT_EQ(contains(cu, "(int)(B_red[0])"), !native) << cu;
      expect_ptx_entry(m);
      // The host fills random float16/int16 arrays for no test yet: those only compile here.
      if (t != DataType::float16() && t != DataType::int16()) run_or_skip(m, {A}, B, {{5, 77}, {5}}, 0.0);
    }
  }
}

// A two-valued reducer (argmax: index and value) across 48 threads (groups straddle warps)
// and a user reducer (largest absolute value) with its own identity; both in one kernel, their
// results in each thread's registers ("local" caches computed at the block's row).
TEST(CudaReduce, ArgmaxAndUserReducer) {
  const int N = 6, M = 200;
  Tensor A = placeholder({N, M}, DataType::float32(), "A");
  IterVar k = reduce_axis(Range(0, M), "k"), k2 = reduce_axis(Range(0, M), "k2");
  Reducer argmax(
      [](const std::vector<Expr>& x, const std::vector<Expr>& y) {
        // Ties go to the smaller index, so the combine is commutative.
        Expr take_y = y[1] > x[1] || (y[1] == x[1] && y[0] < x[0]);
        return std::vector<Expr>{select(take_y, y[0], x[0]), select(take_y, y[1], x[1])};
      },
      [](const std::vector<DataType>& t) { return std::vector<Expr>{make_const(t[0], -1), min_value(t[1])}; },
      "argmax");
  Reducer abs_max([](const std::vector<Expr>& x, const std::vector<Expr>& y) { return std::vector<Expr>{te::max(x[0], y[0])}; },
                  [](const std::vector<DataType>& t) { return std::vector<Expr>{make_const(t[0], 0)}; }, "abs_max");
  std::vector<Tensor> am = compute_multi({N}, [&](const std::vector<Var>& i) {
    return argmax({Expr(k), A(i[0], k)}, {k});
  }, "am");
  Tensor amax = compute({N}, [&](const std::vector<Var>& i) { return abs_max(abs(A(i[0], k2)), {k2}); }, "amax");
  Tensor out = compute({N}, [&](const std::vector<Var>& i) {
    return cast(DataType::float32(), am[0](i[0])) + am[1](i[0]) * 10.0f + amax(i[0]);
  }, "out");
  Schedule s = create_schedule({out.op()});
  IterVar row = compute_op(out)->axis[0];
  s[out].bind(row, thread_axis("blockIdx.x"));
  for (const Tensor& t : {am[0], amax}) {
    Tensor local = s.cache_write(t, "local");
    s[t].compute_inline();
    s[local].compute_at(s[out], row);
    auto [ko, ki] = s[local].split(compute_op(local)->reduce_axis[0], 48);
    (void)ko;
    s[local].bind(ki, thread_axis("threadIdx.x"));
  }
  Module m = build(s, {A, out}, "cuda", "argmax_absmax");
  std::string cu = m.get_source("cuda");
  EXPECT_TRUE(contains(cu, "__shfl_down_sync(te_warp_mask, am_local_red0[0], 1)")) << cu;  // the index
  EXPECT_TRUE(contains(cu, "__shfl_down_sync(te_warp_mask, am_local_red1[0], 1)")) << cu;  // the value
  EXPECT_TRUE(contains(cu, "am_local_v0[1];  // scope local")) << cu;  // one row per block
  expect_ptx_entry(m);
  run_or_skip(m, {A}, out, {{N, M}, {N}});
}

// B[i] = sum over k of A[i, k] with threadIdx.y reducing (TY threads along the row) while
// threadIdx.x indexes TX rows: groups are interleaved in the block's thread order, so the
// combine is a tree in shared memory (TX * TY slots).
RowReduce row_sum_y(int N, int M, int TX, int TY) {
  RowReduce r;
  r.A = placeholder({N, M}, DataType::float32(), "A");
  IterVar k = reduce_axis(Range(0, M), "k");
  r.B = compute({N}, [&](const std::vector<Var>& i) { return sum(r.A(i[0], k), {k}); }, "B");
  r.s = create_schedule({r.B.op()});
  auto [bo, bi] = r.s[r.B].split(compute_op(r.B)->axis[0], TX);
  auto [ko, ki] = r.s[r.B].split(k, TY);
  (void)ko;
  r.s[r.B].bind(bo, thread_axis("blockIdx.x"));
  r.s[r.B].bind(bi, thread_axis("threadIdx.x"));
  r.s[r.B].bind(ki, thread_axis("threadIdx.y"));
  return r;
}

TEST(CudaReduce, ThreadIdxYWithThreadIdxXRows) {
  const int N = 37, M = 75;
  RowReduce r = row_sum_y(N, M, 8, 12);
  Module m = build(r.s, {r.A, r.B}, "cuda", "row_sum_y");
  std::string cu = m.get_source("cuda");
  EXPECT_TRUE(contains(cu, "cross-thread reduction over threadIdx.y: 8 group(s) of 12 threads")) << cu;
  EXPECT_TRUE(contains(cu, "__shared__ float te_red_shared[96]")) << cu;
  EXPECT_FALSE(contains(cu, "__shfl")) << cu;
  EXPECT_TRUE(contains(cu, "if (te_red < 8 && te_red + 8 < 12)")) << cu;  // 12 is not a power of two
  expect_ptx_entry(m);
  run_or_skip(m, {r.A}, r.B, {{N, M}, {N}});
}

// The reduction's own shared slots count against the shared-memory limit: a 32 x 32 tree
// takes 1024 floats (4096 bytes) with no shared buffer of the schedule's.
TEST(CudaReduceLimits, ReductionSlotsCountAgainstTheSharedMemoryLimit) {
  RowReduce r = row_sum_y(64, 100, 32, 32);
  EXPECT_NO_THROW(build(r.s, {r.A, r.B}, "cuda -max-shared-memory-per-block=4096", "row_sum_tree"));
  EXPECT_TE_ERROR(build(r.s, {r.A, r.B}, "cuda -max-shared-memory-per-block=4095", "row_sum_tree"),
                  "kernel row_sum_tree", "4096 bytes", "stage B (cross-thread reduction slots): 4096 bytes",
                  "1 bytes over the limit of 4095 bytes");
  // A one-warp butterfly needs no slots: it fits a 1-byte limit.
  RowReduce warp = row_reduce(4, 64, 32, sum_fn);
  EXPECT_NO_THROW(build(warp.s, {warp.A, warp.B}, "cuda -max-shared-memory-per-block=1", "row_sum_warp"));
}

// A kernel whose shared buffer fills the 48 KiB of static shared memory by itself: with the
// reduction's (static) slots the static total would exceed 48 KiB (ptxas refuses it), so the
// buffer moves to dynamic shared memory and the slots stay static.
TEST(CudaReduceLimits, SlotsStayStaticWhenTheBuffersGoDynamic) {
  const int N = 2, M = 12288, T = 1024;  // a row of A: 48 KiB of floats; 1024 threads: 32 slots
  Tensor A = placeholder({N, M}, DataType::float32(), "A");
  IterVar k = reduce_axis(Range(0, M), "k");
  Tensor B = compute({N}, [&](const std::vector<Var>& i) { return sum(A(i[0], k), {k}); }, "B");
  Schedule s = create_schedule({B.op()});
  Tensor AS = s.cache_read(A, "shared", {B.op()});
  IterVar tx = thread_axis("threadIdx.x");
  auto [ko, ki] = s[B].split(k, T);
  (void)ko;
  s[B].bind(compute_op(B)->axis[0], thread_axis("blockIdx.x"));
  s[B].bind(ki, tx);
  s[AS].compute_at(s[B], compute_op(B)->axis[0]);
  auto [lo, li] = s[AS].split(compute_op(AS)->axis[1], T);
  (void)lo;
  s[AS].bind(li, tx);
  Module m = build(s, {A, B}, "cuda -arch=sm_90", "row_sum_dynamic");
  std::string cu = m.get_source("cuda");
  EXPECT_TRUE(contains(cu, "float* const A_shared = (float*)(te_dynamic_shared + 0);")) << cu;
  EXPECT_TRUE(contains(cu, "__shared__ float te_red_shared[32]")) << cu;
  EXPECT_EQ(cuda_module_source(*m.node(), nullptr)->kernels[0].dynamic_shared_bytes, 49152);
  EXPECT_GT(m.get_source("cubin").size(), 4u);  // ptxas: the static part is within 48 KiB
  run_or_skip(m, {A}, B, {{N, M}, {N}}, 1e-3);
}

// TVM's pattern: rfactor the inner part of the reduction, bind the final stage's reduction to
// threadIdx.x, compute the partials per thread at that axis; rows along threadIdx.y.
TEST(CudaReduce, RfactorThenBindReduction) {
  const int N = 50, M = 333, TX = 16, TY = 8;
  Tensor A = placeholder({N, M}, DataType::float32(), "A");
  IterVar k = reduce_axis(Range(0, M), "k");
  Tensor B = compute({N}, [&](const std::vector<Var>& i) { return sum(A(i[0], k), {k}); }, "B");
  Schedule s = create_schedule({B.op()});
  auto [ko, ki] = s[B].split(k, TX);
  (void)ko;
  Tensor BF = s.rfactor(B, ki);
  auto [xo, xi] = s[B].split(s[B]->leaf_iter_vars[0], TY);
  s[B].bind(xo, thread_axis("blockIdx.x"));
  s[B].bind(xi, thread_axis("threadIdx.y"));
  IterVar red = s[B]->leaf_iter_vars.back();
  s[B].bind(red, thread_axis("threadIdx.x"));
  // The partials in registers: a "local" cache of the rfactor stage (whose own storage is
  // global, shared by all threads, so bound inference would size it for the whole block).
  Tensor BL = s.cache_write(BF, "local");
  s[BF].compute_inline();
  s[BL].compute_at(s[B], red);
  Module m = build(s, {A, B}, "cuda", "rfactor_rows");
  std::string cu = m.get_source("cuda");
  EXPECT_TRUE(contains(cu, "B_rf_local[1];  // scope local")) << cu;
  EXPECT_TRUE(contains(cu, "8 group(s) of 16 threads")) << cu;
  EXPECT_TRUE(contains(cu, "__shfl_xor_sync(0xffffffffu, B_red[0], 8, 16)")) << cu;
  expect_ptx_entry(m);
  run_or_skip(m, {A}, B, {{N, M}, {N}});
}

// Reducing over both threadIdx.x and threadIdx.y (a 4 x 24 group, 96 threads).
TEST(CudaReduce, TwoThreadDims) {
  const int N = 3, H = 9, W = 50;
  Tensor A = placeholder({N, H, W}, DataType::float32(), "A");
  IterVar ry = reduce_axis(Range(0, H), "ry"), rx = reduce_axis(Range(0, W), "rx");
  Tensor B = compute({N}, [&](const std::vector<Var>& i) { return sum(A(i[0], ry, rx), {ry, rx}); }, "B");
  Schedule s = create_schedule({B.op()});
  auto [yo, yi] = s[B].split(ry, 4);
  auto [xo, xi] = s[B].split(rx, 24);
  (void)yo, (void)xo;
  s[B].bind(compute_op(B)->axis[0], thread_axis("blockIdx.x"));
  s[B].bind(xi, thread_axis("threadIdx.x"));
  s[B].bind(yi, thread_axis("threadIdx.y"));
  Module m = build(s, {A, B}, "cuda", "sum_xy");
  std::string cu = m.get_source("cuda");
  EXPECT_TRUE(contains(cu, "over threadIdx.x, threadIdx.y: 1 group(s) of 96 threads")) << cu;
  expect_ptx_entry(m);
  run_or_skip(m, {A}, B, {{N, H, W}, {N}});
}

// Softmax with one block per row: the row's (max, sum of exp) in one two-valued online
// reducer as a cross-thread reduction with 7 threads, the normalization with 32 (the
// reduction's idle lanes contribute the identity).
TEST(CudaReduce, SoftmaxFewerReduceThreads) {
  const int N = 10, M = 61;
  Tensor A = placeholder({N, M}, DataType::float32(), "A");
  IterVar k = reduce_axis(Range(0, M), "k");
  Reducer online(
      [](const std::vector<Expr>& l, const std::vector<Expr>& r) {
        Expr sum = if_then_else(r[0] > l[0], l[1] * exp(l[0] - r[0]) + r[1], l[1] + r[1] * exp(r[0] - l[0]));
        return std::vector<Expr>{te::max(l[0], r[0]), sum};
      },
      [](const std::vector<DataType>& t) { return std::vector<Expr>{min_value(t[0]), constant(0.0, t[1])}; },
      "online_softmax");
  std::vector<Tensor> stats = compute_multi({N}, [&](const std::vector<Var>& i) {
    return online({A(i[0], k), constant(1.0)}, {k});
  }, "stats");
  Tensor out = compute({N, M}, [&](const std::vector<Var>& i) {
    return exp(A(i[0], i[1]) - stats[0](i[0])) / stats[1](i[0]);
  }, "out");
  Schedule s = create_schedule({out.op()});
  IterVar row = compute_op(out)->axis[0];
  s[out].bind(row, thread_axis("blockIdx.x"));
  auto [jo, ji] = s[out].split(compute_op(out)->axis[1], 32);
  (void)jo;
  s[out].bind(ji, thread_axis("threadIdx.x"));
  Tensor local = s.cache_write(stats[0], "local");
  s[stats[0]].compute_inline();
  s[local].compute_at(s[out], row);
  auto [ko, ki] = s[local].split(compute_op(local)->reduce_axis[0], 7);
  (void)ko;
  s[local].bind(ki, thread_axis("threadIdx.x"));
  Module m = build(s, {A, out}, "cuda", "softmax_7_32");
  std::string cu = m.get_source("cuda");
  EXPECT_TRUE(contains(cu, "if (threadIdx.x < 7)")) << cu;
  EXPECT_TRUE(contains(cu, "1 group(s) of 32 threads")) << cu;
  EXPECT_TRUE(contains(cu, "__shfl_xor_sync(0xffffffffu, stats_local_red1[0], 16);")) << cu;
  expect_ptx_entry(m);
  run_or_skip(m, {A}, out, {{N, M}, {N, M}});
}

TEST(CudaReduceErrors, ReductionBoundToBlockIdx) {
  RowReduce r = row_reduce(4, 64, 16, sum_fn);
  IterVar ko = r.s[r.B]->leaf_iter_vars[1];
  r.s[r.B].bind(ko, thread_axis("blockIdx.y"));
  EXPECT_TE_ERROR(build(r.s, {r.A, r.B}, "cuda", "bad"), "stage B", "bound to blockIdx.y", "rfactor");
}

TEST(CudaReduceErrors, ThreadsDisagreeOnTheElement) {
  // B reduces over threadIdx.x but is computed inside C's loop bound to threadIdx.x: each
  // thread would want a different row of B from the same reduction.
  Tensor A = placeholder({32, 32}, DataType::float32(), "A");
  IterVar k = reduce_axis(Range(0, 32), "k");
  Tensor B = compute({32}, [&](const std::vector<Var>& i) { return sum(A(i[0], k), {k}); }, "B");
  Tensor C = compute({32}, [&](const std::vector<Var>& i) { return B(i[0]) * 2.0f; }, "C");
  Schedule s = create_schedule({C.op()});
  IterVar c = compute_op(C)->axis[0];
  s[C].bind(c, thread_axis("threadIdx.x"));
  s[B].compute_at(s[C], c);
  s[B].bind(compute_op(B)->reduce_axis[0], thread_axis("threadIdx.x"));
  EXPECT_TE_ERROR(build(s, {A, C}, "cuda", "bad"), "stage B", "bound to threadIdx.x", "disagree");
}

TEST(CudaReduceErrors, IdleThreadsAroundTheReduction) {
  // The reduction sits in a threadIdx.y loop of extent 2 while the block has 4 rows of threads.
  Tensor A = placeholder({8, 16}, DataType::float32(), "A");
  IterVar k = reduce_axis(Range(0, 16), "k");
  Tensor B = compute({8}, [&](const std::vector<Var>& i) { return sum(A(i[0], k), {k}); }, "B");
  Tensor C = compute({8}, [&](const std::vector<Var>& i) { return B(i[0]) + 1.0f; }, "C");
  Tensor D = compute({8}, [&](const std::vector<Var>& i) { return C(i[0]) * 3.0f; }, "D");
  Schedule s = create_schedule({D.op()});
  auto [co, ci] = s[C].split(compute_op(C)->axis[0], 2);
  (void)co;
  s[C].bind(ci, thread_axis("threadIdx.y"));
  s[B].compute_at(s[C], ci);
  s[B].bind(compute_op(B)->reduce_axis[0], thread_axis("threadIdx.x"));
  auto [dq, dr] = s[D].split(compute_op(D)->axis[0], 4);
  s[D].bind(dq, thread_axis("blockIdx.x"));
  s[D].bind(dr, thread_axis("threadIdx.y"));
  s[C].compute_at(s[D], dq);
  EXPECT_TE_ERROR(build(s, {A, D}, "cuda", "bad"), "stage B", "extent 2", "4");
}

TEST(CudaReduceErrors, CpuTargetsRefuseIt) {
  if (!backend_built("llvm")) GTEST_SKIP() << "te built without LLVM (the GPU machine's CUDA-only build)";
  RowReduce r = row_reduce(4, 64, 16, sum_fn);
  EXPECT_TE_ERROR(build(r.s, {r.A, r.B}, "llvm", "cpu"), "stage B", "blockIdx.x", "target cuda");
  // Lowered for printing only (no target checks), the LLVM backend still refuses it (rows
  // unbound, so the reduction is the first GPU construct it meets).
  r = row_reduce(4, 64, 16, sum_fn, false);
  LowerOptions options;
  options.simple_mode = true;
  options.target = Target::parse("llvm");
  LoweredFunc f = lower(r.s, {r.A, r.B}, "cpu_simple", options);
  EXPECT_TRUE(contains(to_string(f), "gpu_allreduce")) << to_string(f);
  EXPECT_TE_ERROR(build(f, Target::parse("llvm")), "cross-thread reduction", "target cuda");
}

}  // namespace
}  // namespace te::testing
