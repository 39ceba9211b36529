// CUDA backend: Stage::tensorize(iv, "wmma") (src/lower/tensorize_wmma.cc). Tensor-core
// matmuls (float16 inputs, float32 accumulation; float32 or float16 results; row- and
// column-major operands; double-buffered shared tiles) are lowered to nvcuda::wmma calls, run
// in the CUDA emulator against the reference, NVRTC-compiled to PTX with wmma.mma, and run on a
// GPU where there is one; misuse is a te::Error naming the stage.
#include "te/ir_functor.h"
#include "te/ops.h"
#include "test_cuda_util.h"

namespace te::testing {
namespace {

// C[M, N] = sum_k float32(A[M, K]) * float32(B[K, N]) (B stored [N, K] when trans_b), rounded
// to float16 when out16. Blocks of warps_i x warps_j warps (threadIdx.z, threadIdx.y), each
// warp frags x frags fragments of 16 x 16, k blocks of k_frags x 16 staged in shared memory by
// all threads (threadIdx.x = the 32 lanes), then into wmma.matrix_a / matrix_b fragments.
struct WmmaOptions {
  int64_t warps_i = 2, warps_j = 2, frags = 2, k_frags = 2;
  bool trans_b = false, out16 = false, double_buffer = false;
  bool tensorize_store = true;
};
struct WmmaMatmul {
  Tensor A, B, C;
  Schedule s;
  Tensor CF, AS, BS, AF, BF;
};

WmmaMatmul wmma_matmul(int64_t M, int64_t N, int64_t K, const WmmaOptions& o) {
  WmmaMatmul mm;
  mm.A = placeholder({M, K}, DataType::float16(), "A");
  mm.B = placeholder(o.trans_b ? std::vector<Expr>{N, K} : std::vector<Expr>{K, N}, DataType::float16(), "B");
  mm.C = ops::matmul(mm.A, mm.B, false, o.trans_b, "C", o.out16 ? "float16" : "float32");
  Tensor acc = o.out16 ? mm.C.op()->input_tensors()[0] : mm.C;
  Schedule& s = mm.s = create_schedule({mm.C.op()});
  mm.CF = s.cache_write(acc, "wmma.accumulator");
  if (o.out16) s[acc].compute_inline();
  mm.AS = s.cache_read(mm.A, "shared", {mm.CF.op()});
  mm.BS = s.cache_read(mm.B, "shared", {mm.CF.op()});
  mm.AF = s.cache_read(mm.AS, "wmma.matrix_a", {mm.CF.op()});
  mm.BF = s.cache_read(mm.BS, "wmma.matrix_b", {mm.CF.op()});

  const int64_t warp_tile = o.frags * 16;
  Stage c = s[mm.C];
  const auto* cop = compute_op(mm.C);
  auto [bi, ri] = c.split(cop->axis[0], o.warps_i * warp_tile);
  auto [wi, ti] = c.split(ri, warp_tile);
  auto [fi, ii] = c.split(ti, 16);
  auto [bj, rj] = c.split(cop->axis[1], o.warps_j * warp_tile);
  auto [wj, tj] = c.split(rj, warp_tile);
  auto [fj, jj] = c.split(tj, 16);
  c.reorder({bi, bj, wi, wj, fi, fj, ii, jj});
  c.bind(bi, thread_axis("blockIdx.y"));
  c.bind(bj, thread_axis("blockIdx.x"));
  c.bind(wi, thread_axis("threadIdx.z"));
  c.bind(wj, thread_axis("threadIdx.y"));
  if (o.tensorize_store) c.tensorize(ii, "wmma");

  Stage cf = s[mm.CF];
  cf.compute_at(c, wj);
  const auto* fop = compute_op(mm.CF);
  auto [ko, kr] = cf.split(fop->reduce_axis[0], o.k_frags * 16);
  auto [km, ki] = cf.split(kr, 16);
  auto [cio, cii] = cf.split(fop->axis[0], 16);
  auto [cjo, cji] = cf.split(fop->axis[1], 16);
  cf.reorder({ko, km, cio, cjo, cii, cji, ki});
  cf.tensorize(cii, "wmma");

  IterVar tx = thread_axis("threadIdx.x"), ty = thread_axis("threadIdx.y"), tz = thread_axis("threadIdx.z");
  for (const Tensor& tile : {mm.AS, mm.BS}) {
    Stage st = s[tile];
    st.compute_at(cf, ko);
    const auto* top = compute_op(tile);
    IterVar fused = st.fuse(top->axis[0], top->axis[1]);
    auto [r1, lane] = st.split(fused, 32);
    auto [r2, wy] = st.split(r1, o.warps_j);
    auto [r3, wz] = st.split(r2, o.warps_i);
    (void)r3;
    st.bind(lane, tx);
    st.bind(wy, ty);
    st.bind(wz, tz);
    if (o.double_buffer) st.double_buffer();
  }
  Stage af = s[mm.AF], bf = s[mm.BF];
  af.compute_at(cf, km);
  bf.compute_at(cf, km);
  const auto* aop = compute_op(mm.AF);
  auto [aio, aii] = af.split(aop->axis[0], 16);
  (void)aio;
  af.tensorize(aii, "wmma");
  const auto* bop = compute_op(mm.BF);
  if (o.trans_b) {  // BF[n, k]: a column-major B tile
    auto [bno, bni] = bf.split(bop->axis[0], 16);
    (void)bno;
    bf.tensorize(bni, "wmma");
  } else {  // BF[k, n]
    auto [bjo, bji] = bf.split(bop->axis[1], 16);
    bf.reorder({bjo, bop->axis[0], bji});
    bf.tensorize(bop->axis[0], "wmma");
  }
  return mm;
}

// C[32, 256] = A[32, 16] B[16, 256] with fragments loaded straight from global memory and the
// warps' tiles bound to threadIdx.x (2) and threadIdx.y (16): one warp whose lanes would each
// run the wmma operations of another tile.
WmmaMatmul lanes_as_warps() {
  WmmaMatmul mm;
  mm.A = placeholder({32, 16}, DataType::float16(), "A");
  mm.B = placeholder({16, 256}, DataType::float16(), "B");
  mm.C = ops::matmul(mm.A, mm.B, false, false, "C", "float32");
  Schedule& s = mm.s = create_schedule({mm.C.op()});
  mm.CF = s.cache_write(mm.C, "wmma.accumulator");
  mm.AF = s.cache_read(mm.A, "wmma.matrix_a", {mm.CF.op()});
  mm.BF = s.cache_read(mm.B, "wmma.matrix_b", {mm.CF.op()});
  Stage c = s[mm.C];
  const auto* cop = compute_op(mm.C);
  auto [wi, ii] = c.split(cop->axis[0], 16);
  auto [wj, jj] = c.split(cop->axis[1], 16);
  c.reorder({wi, wj, ii, jj});
  c.bind(wi, thread_axis("threadIdx.x"));
  c.bind(wj, thread_axis("threadIdx.y"));
  c.tensorize(ii, "wmma");
  Stage cf = s[mm.CF];
  cf.compute_at(c, wj);
  const auto* fop = compute_op(mm.CF);
  cf.tensorize(fop->axis[0], "wmma");
  for (const Tensor& f : {mm.AF, mm.BF}) {
    s[f].compute_at(c, wj);
    s[f].tensorize(compute_op(f)->axis[0], "wmma");
  }
  return mm;
}

std::vector<std::vector<int64_t>> shapes_of(int64_t M, int64_t N, int64_t K, bool trans_b) {
  return {{M, K}, trans_b ? std::vector<int64_t>{N, K} : std::vector<int64_t>{K, N}, {M, N}};
}

// The 64 x 64 x 64 case, one block of 2 x 2 warps with 2 x 2 fragments each, read line by
// line: fragments declared per warp, fill, loads from shared memory, mma, store to C.
TEST(CudaWmma, MatmulLowersToWmmaCallsAndMatchesTheReference) {
  WmmaMatmul mm = wmma_matmul(64, 64, 64, {});
  Module m = build(mm.s, {mm.A, mm.B, mm.C}, "cuda", "wmma_mm");
  const std::string cu = m.get_source("cuda");
  EXPECT_TRUE(contains(cu, "#include <mma.h>")) << cu;
  EXPECT_TRUE(contains(cu,
                       "nvcuda::wmma::fragment<nvcuda::wmma::accumulator, 16, 16, 16, float> "
                       "C_wmma_accumulator[4];"))
      << cu;
  EXPECT_TRUE(contains(cu,
                       "nvcuda::wmma::fragment<nvcuda::wmma::matrix_a, 16, 16, 16, __half, "
                       "nvcuda::wmma::row_major> A_shared_wmma_matrix_a[2];"))
      << cu;
  EXPECT_EQ(count_of(cu, "nvcuda::wmma::fill_fragment("), 1u) << cu;
  EXPECT_EQ(count_of(cu, "nvcuda::wmma::load_matrix_sync("), 2u) << cu;
  EXPECT_EQ(count_of(cu, "nvcuda::wmma::mma_sync("), 1u) << cu;
  EXPECT_EQ(count_of(cu, "nvcuda::wmma::store_matrix_sync(&C["), 1u) << cu;
  EXPECT_TRUE(contains(cu, "__shared__ __align__(32) __half A_shared[2048]")) << cu;  // wmma needs 32 bytes
  EXPECT_TRUE(contains(cu, "float* __restrict__ C")) << cu;
  EXPECT_FALSE(contains(cu, "const float* __restrict__ C")) << cu;  // written by store_matrix_sync
  EXPECT_EQ(count_of(cu, "__syncthreads()"), 2u) << cu;             // the loads wait for the copies
  const std::string ptx = expect_ptx_entry(m);
  EXPECT_TRUE(contains(ptx, "wmma.mma.sync")) << ptx.substr(0, 3000);
  EXPECT_TRUE(contains(ptx, "wmma.load.a.sync")) << ptx.substr(0, 3000);
  run_or_skip(m, {mm.A, mm.B}, mm.C, shapes_of(64, 64, 64, false));
}

// Several blocks in both directions, three k blocks, one-fragment warps and four-fragment k
// blocks; then float16 output (rounded through each warp's shared slot), column-major B
// (trans_b) and double-buffered shared tiles.
TEST(CudaWmma, TileShapesLayoutsAndDoubleBuffering) {
  struct Case {
    int64_t M, N, K;
    WmmaOptions o;
  };
  WmmaOptions small_warps;
  small_warps.frags = 1;
  small_warps.k_frags = 4;
  WmmaOptions out16;
  out16.out16 = true;
  WmmaOptions trans_b;
  trans_b.trans_b = true;
  WmmaOptions buffered;
  buffered.double_buffer = true;
  buffered.warps_i = 1;
  WmmaOptions all = buffered;
  all.trans_b = all.out16 = true;
  for (const Case& c : {Case{128, 192, 96, {}}, Case{64, 96, 128, small_warps}, Case{64, 64, 32, out16},
                        Case{64, 128, 64, trans_b}, Case{64, 128, 96, buffered}, Case{32, 64, 64, all}}) {
    SCOPED_TRACE(detail::cat(c.M, "x", c.N, "x", c.K, " frags ", c.o.frags, " out16 ", c.o.out16, " trans_b ",
                             c.o.trans_b, " double_buffer ", c.o.double_buffer));
    WmmaMatmul mm = wmma_matmul(c.M, c.N, c.K, c.o);
    Module m = build(mm.s, {mm.A, mm.B, mm.C}, "cuda", "wmma_case");
    const std::string cu = m.get_source("cuda");
    if (c.o.trans_b) EXPECT_TRUE(contains(cu, "__half, nvcuda::wmma::col_major> B_shared_wmma_matrix_b")) << cu;
    if (c.o.out16) {
      EXPECT_TRUE(contains(cu, "__shared__ __align__(32) float te_wmma_scratch[")) << cu;
      EXPECT_TRUE(contains(cu, "te_h[te_e] = __floats2half2_rn(te_slot[te_l * 8 + 2 * te_e]")) << cu;
    }
    // The copies here move one float16 (2 bytes) each, too small for cp.async: staged in
    // registers even for sm_80 and newer (the template's 16-byte copies use cp.async).
    if (c.o.double_buffer) EXPECT_TRUE(contains(cu, "A_shared_reg[")) << cu;
    expect_ptx_entry(m);
    run_or_skip(m, {mm.A, mm.B}, mm.C, shapes_of(c.M, c.N, c.K, c.o.trans_b), c.o.out16 ? 2e-3 : 1e-4);
  }
}

TEST(CudaWmma, RecordedAndReplayed) {
  WmmaMatmul mm = wmma_matmul(64, 64, 64, {});
  EXPECT_TRUE(contains(mm.s.steps_python(), ".tensorize(")) << mm.s.steps_python();
  Schedule again = Schedule::replay({mm.C.op()}, mm.s.steps());
  EXPECT_EQ(build(again, {mm.A, mm.B, mm.C}, "cuda", "wmma_mm").get_source("cuda"),
            build(mm.s, {mm.A, mm.B, mm.C}, "cuda", "wmma_mm").get_source("cuda"));
}

TEST(CudaWmma, MisuseIsAClearError) {
  {
    WmmaMatmul mm = wmma_matmul(64, 64, 64, {});
    EXPECT_TE_ERROR(mm.s[mm.C].tensorize(mm.s[mm.C]->leaf_iter_vars.back(), "mma"), "tensorize",
                    "unknown intrinsic 'mma'", "wmma");
    EXPECT_TE_ERROR(mm.s[mm.C].tensorize(mm.s[mm.C]->leaf_iter_vars[0], "wmma"), "tensorize", "is bound");
  }
  {  // CPU targets have no tensor cores.
    Tensor A = placeholder({32, 32}, DataType::float16(), "A");
    Tensor B = placeholder({32, 32}, DataType::float16(), "B");
    Tensor C = ops::matmul(A, B, false, false, "C", "float32");
    Schedule s = create_schedule({C.op()});
    auto [io, ii] = s[C].split(compute_op(C)->axis[0], 16);
    (void)io;
    s[C].tensorize(ii, "wmma");
    EXPECT_TE_ERROR(build(s, {A, B, C}, "llvm", "f"), "tensorize", "stage C", "needs target cuda");
  }
  {  // An architecture without tensor cores.
    WmmaMatmul mm = wmma_matmul(64, 64, 64, {});
    EXPECT_TE_ERROR(build(mm.s, {mm.A, mm.B, mm.C}, "cuda -arch=sm_61", "f"), "tensor cores", "sm_70",
                    "-arch is sm_61");
  }
  {  // Too many accumulators per warp for the registers.
    WmmaOptions o;
    o.frags = 8;  // 64 fragments of 8 floats per lane
    o.warps_i = o.warps_j = 1;
    WmmaMatmul mm = wmma_matmul(128, 128, 32, o);
    EXPECT_TE_ERROR(build(mm.s, {mm.A, mm.B, mm.C}, "cuda", "f"), "wmma fragments of C.wmma.accumulator",
                    "512 registers per lane", "fewer fragments per warp");
  }
  {  // The accumulator copied out by plain loops: a fragment is not addressable.
    WmmaOptions o;
    o.tensorize_store = false;
    WmmaMatmul mm = wmma_matmul(64, 64, 64, o);
    EXPECT_TE_ERROR(build(mm.s, {mm.A, mm.B, mm.C}, "cuda", "f"), "stage C.wmma.accumulator",
                    "read outside a tensorized tile");
  }
  {  // 8-wide tiles
    WmmaMatmul mm = wmma_matmul(64, 64, 64, {});
    Stage af = mm.s[mm.AF];
    const auto* aop = compute_op(mm.AF);
    af.split(aop->axis[1], 8);
    EXPECT_TE_ERROR(build(mm.s, {mm.A, mm.B, mm.C}, "cuda", "f"), "tensorize", "stage A.shared.wmma.matrix_a",
                    "inside the tensorized axis runs 2", "serial loops of extent 16");
  }
  {  // 56 rows: the last tile is guarded
    WmmaMatmul mm = wmma_matmul(56, 64, 64, {});
    EXPECT_TE_ERROR(build(mm.s, {mm.A, mm.B, mm.C}, "cuda", "f"), "tensorize", "boundary guard");
  }
  {  // float32 inputs: no float32 fragments
    Tensor A = placeholder({32, 32}, DataType::float32(), "A");
    Tensor B = placeholder({32, 32}, DataType::float32(), "B");
    Tensor C = ops::matmul(A, B, "C");
    Schedule s = create_schedule({C.op()});
    Tensor AF = s.cache_read(A, "wmma.matrix_a", {C.op()});
    (void)AF;
    EXPECT_TE_ERROR(build(s, {A, B, C}, "cuda", "f"), "stage A.wmma.matrix_a", "is float32",
                    "float16 inputs, float32 accumulation");
  }
  {  // Tiles indexed by threadIdx.x: the lanes of a warp run different operations.
    WmmaMatmul mm = lanes_as_warps();
    Module m = build(mm.s, {mm.A, mm.B, mm.C}, "cuda", "f");
    expect_ptx_entry(m);  // it compiles; only running it shows the problem
    std::vector<NDArray> args{random_array({32, 16}, DataType::float16(), 1),
                              random_array({16, 256}, DataType::float16(), 2),
                              NDArray::empty({32, 256}, DataType::float32())};
    EXPECT_TE_ERROR(cuda_emulate(m, args), "cuda emulator", "wmma_load runs with other operands",
                    "first lane of its warp", "do not use threadIdx.x in a tensorized stage");
  }
}

}  // namespace
}  // namespace te::testing
