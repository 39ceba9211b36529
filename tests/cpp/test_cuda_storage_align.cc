// CUDA backend: storage_align on shared and local cache stages — the padded tiles are
// generated and NVRTC-compiled here, and run against the reference on a GPU.
#include "test_cuda_util.h"

namespace te::testing {
namespace {

// The shared-tile matmul of test_cuda_schedules.cc with both tiles' rows padded off the
// 32 banks: A's 16 x 8 tile to a row stride of 9, B's 8 x 16 tile to 17.
TEST(CudaStorageAlign, MatmulPaddedSharedTiles) {
  const int N = 64, M = 48, K = 40, T = 16, KT = 8;
  SharedTileMatmul mm = shared_tile_matmul(N, M, K, T, KT);
  const Tensor &A = mm.A, &B = mm.B, &C = mm.C;
  mm.s[mm.AS].storage_align(compute_op(mm.AS)->axis[0], 32, 9);
  mm.s[mm.BS].storage_align(compute_op(mm.BS)->axis[0], 32, 17);
  Module m = mm.build("cuda", "matmul_aligned");
  std::string cu = m.get_source("cuda");
  EXPECT_TRUE(contains(cu, "__shared__ __align__(16) float A_shared[144]")) << cu;  // 16 rows x 9
  EXPECT_TRUE(contains(cu, "__shared__ __align__(16) float B_shared[136]")) << cu;  // 8 rows x 17
  EXPECT_TRUE(contains(cu, " * 9)")) << cu;
  EXPECT_TRUE(contains(cu, " * 17)")) << cu;
  expect_ptx_entry(m);
  run_or_skip(m, {A, B}, C, {{N, K}, {K, M}, {N, M}});
}

// A per-thread ("local") 3 x 4 tile of the input with its rows padded to 7 elements.
TEST(CudaStorageAlign, LocalTile) {
  const int N = 30, M = 40;
  Tensor A = placeholder({N, M}, DataType::float32(), "A");
  Tensor B = compute({N, M}, [&](const std::vector<Var>& i) { return A(i[0], i[1]) * 2.0f + 1.0f; }, "B");
  Schedule s = create_schedule({B.op()});
  Tensor AL = s.cache_read(A, "local", {B.op()});
  auto [yo, xo, yi, xi] = s[B].tile(compute_op(B)->axis[0], compute_op(B)->axis[1], 3, 4);
  (void)yi, (void)xi;
  s[B].bind(yo, thread_axis("blockIdx.x"));
  s[B].bind(xo, thread_axis("threadIdx.x"));
  s[AL].compute_at(s[B], xo);
  s[AL].storage_align(compute_op(AL)->axis[0], 8, 7);
  Module m = build(s, {A, B}, "cuda", "local_aligned");
  std::string cu = m.get_source("cuda");
  EXPECT_TRUE(contains(cu, "float A_local[21];  // scope local")) << cu;  // 3 rows x 7
  expect_ptx_entry(m);
  run_or_skip(m, {A}, B, {{N, M}, {N, M}});
}

}  // namespace
}  // namespace te::testing
