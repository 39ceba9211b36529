// CUDA backend: virtual threads (loops bound to "vthread", src/lower/inject_virtual_thread.cc).
// The classic TVM vthread matmul — each thread computes a strided register tile, one slice
// per virtual thread — is lowered, run through the IR interpreter (thread loops run serially)
// against the reference, NVRTC-compiled, and run on a GPU when there is one.
#include "ir/interpreter.h"
#include "te/ir_functor.h"
#include "test_cuda_util.h"

namespace te::testing {
namespace {

// C[N, N] = A[N, K] · B[K, N]: blocks of 32 x 32, in each a 2 x 2 grid of virtual threads over
// 4 x 4 threads, so thread (ty, tx) computes rows ty*4 + i and ty*4 + 16 + i (and the same
// columns): four 4 x 4 tiles 16 apart, accumulated in "local" memory over k tiles of 8 staged
// in shared memory (loaded cooperatively by the 16 threads, once for all virtual threads).
struct VthreadMatmul : RegisterTileMatmul {
  VthreadMatmul(int n, int k, int vthreads = 2, int block = 32, int threads = 4)
      : RegisterTileMatmul(register_tile_matmul(n, k, block, threads, 8, vthreads)) {}
  LoweredFunc lowered() const {
    LowerOptions opt;
    opt.target = Target::parse("cuda");
    return lower(s, {A, B, C}, "mm_vthread", opt);
  }
};

// Runs a lowered function in the IR interpreter (thread loops run serially, which is exact
// for these kernels: each thread loop nest covers what its threads do between barriers).
std::vector<NDArray> interpret(const LoweredFunc& f, const std::vector<NDArray>& inputs, const std::vector<int64_t>& out_shape) {
  std::vector<NDArray> arrays = inputs;
  NDArray out = NDArray::empty(out_shape, DataType::float32());
  out.fill_poison();
  arrays.push_back(out);
  Interpreter interp;
  for (size_t i = 0; i < f.args.size(); ++i)
    interp.bind_buffer(f.args[i].data, InterpBuffer{arrays[i].data(), DataType::float32(), arrays[i].numel()});
  interp.run(f.body);
  return arrays;
}

TEST(CudaVthread, StridedRegisterTileMatmulMatchesTheReference) {
  const int N = 64, K = 32;
  VthreadMatmul mm(N, K);
  LoweredFunc f = mm.lowered();
  int vthread_loops = 0;
  post_order_visit(
      f.body, [](const Expr&) {},
      [&](const Stmt& s) {
        if (const auto* loop = s.as<ForNode>()) vthread_loops += loop->thread_tag == "vthread";
      });
  EXPECT_EQ(vthread_loops, 0) << to_string(f.body);
  NDArray a = random_array({N, K}, DataType::float32(), 1), b = random_array({K, N}, DataType::float32(), 2);
  std::vector<NDArray> got = interpret(f, {a, b}, {N, N});
  std::vector<NDArray> expected = evaluate_reference({mm.A, mm.B}, {a, b}, {mm.C});
  EXPECT_EQ(compare_arrays(got[2], expected[0], 1e-4, 1e-4), "");

  Module m = build(mm.s, {mm.A, mm.B, mm.C}, "cuda", "mm_vthread");
  std::string cu = m.get_source("cuda");
  // The register tile: 4 x 4 per virtual thread, one slice for each of the 2 x 2.
  EXPECT_TRUE(contains(cu, "float C_local[64]")) << cu;
  // Thread (ty, tx) writes its four tiles 16 rows (1024 elements) and 16 columns apart.
  EXPECT_TRUE(contains(cu, "j_inner_inner_inner) + 1024)] = C_local[")) << cu;
  EXPECT_TRUE(contains(cu, "j_inner_inner_inner) + 16)] = C_local[")) << cu;
  EXPECT_TRUE(contains(cu, "j_inner_inner_inner) + 1040)] = C_local[")) << cu;
  // The shared tiles are the block's (32 x 8), loaded once for all virtual threads.
  EXPECT_TRUE(contains(cu, "__shared__ __align__(16) float A_shared[256]")) << cu;
  EXPECT_TRUE(contains(cu, "__shared__ __align__(16) float B_shared[256]")) << cu;
  const CudaKernelSource src = codegen_cuda(m.func());
  EXPECT_EQ(src.launch.threads_per_block(), 16);  // virtual threads are not launched
  expect_ptx_entry(m);
  run_or_skip(m, {mm.A, mm.B}, mm.C, {{N, K}, {K, N}, {N, N}});
}

// A non-square case with a tail (N not a multiple of the block) and 4 virtual threads per axis.
TEST(CudaVthread, FourVirtualThreadsWithATail) {
  const int N = 72, K = 24;
  VthreadMatmul mm(N, K, 4, 32, 2);
  LoweredFunc f = mm.lowered();
  NDArray a = random_array({N, K}, DataType::float32(), 3), b = random_array({K, N}, DataType::float32(), 4);
  std::vector<NDArray> got = interpret(f, {a, b}, {N, N});
  std::vector<NDArray> expected = evaluate_reference({mm.A, mm.B}, {a, b}, {mm.C});
  EXPECT_EQ(compare_arrays(got[2], expected[0], 1e-4, 1e-4), "");
  Module m = build(mm.s, {mm.A, mm.B, mm.C}, "cuda", "mm_vthread4");
  expect_ptx_entry(m);
  run_or_skip(m, {mm.A, mm.B}, mm.C, {{N, K}, {K, N}, {N, N}});
}

// An element-wise kernel whose inner axis is spread over 4 virtual threads: each thread writes
// 4 elements 64 apart.
TEST(CudaVthread, ElementwiseStridedWrites) {
  const int N = 1024;
  Tensor X = placeholder({N}, DataType::float32(), "X");
  Tensor Y = compute({N}, [&](const std::vector<Var>& i) { return X(i[0]) * 2.0f + 1.0f; }, "Y");
  Schedule s = create_schedule({Y.op()});
  auto [bx, rest] = s[Y].split(compute_op(Y)->axis[0], 256);
  auto [v, tx] = s[Y].split_nparts(rest, 4);
  s[Y].bind(bx, thread_axis("blockIdx.x"));
  s[Y].bind(v, thread_axis("vthread"));
  s[Y].bind(tx, thread_axis("threadIdx.x"));
  Module m = build(s, {X, Y}, "cuda", "scale_vthread");
  std::string cu = m.get_source("cuda");
  EXPECT_EQ(codegen_cuda(m.func()).launch.block[0], 64);
  size_t stores = 0;
  for (size_t p = cu.find("Y["); p != std::string::npos; p = cu.find("Y[", p + 1)) ++stores;
  EXPECT_EQ(stores, 4u) << cu;  // one store per virtual thread
  expect_ptx_entry(m);
  run_or_skip(m, {X}, Y, {{N}, {N}});
}

TEST(CudaVthread, NonConstantAndTooManyVirtualThreadsAreClearErrors) {
  Var n = var("n");
  Tensor X = placeholder({n}, DataType::float32(), "X");
  Tensor Y = compute({n}, [&](const std::vector<Var>& i) { return X(i[0]) + 1.0f; }, "Y");
  Schedule s = create_schedule({Y.op()});
  auto [outer, inner] = s[Y].split(compute_op(Y)->axis[0], 64);
  s[Y].bind(outer, thread_axis("vthread"));
  s[Y].bind(inner, thread_axis("threadIdx.x"));
  EXPECT_TE_ERROR(build(s, {X, Y}, "cuda", "symbolic_vthread"), "stage Y", "bound to vthread",
                  "non-constant extent", "split the axis with a constant nparts");

  Tensor P = placeholder({4096}, DataType::float32(), "P");
  Tensor Q = compute({4096}, [&](const std::vector<Var>& i) { return P(i[0]) + 1.0f; }, "Q");
  Schedule s2 = create_schedule({Q.op()});
  auto [bx, rest] = s2[Q].split(compute_op(Q)->axis[0], 1024);
  auto [v, tx] = s2[Q].split_nparts(rest, 128);
  s2[Q].bind(bx, thread_axis("blockIdx.x"));
  s2[Q].bind(v, thread_axis("vthread"));
  s2[Q].bind(tx, thread_axis("threadIdx.x"));
  EXPECT_TE_ERROR(build(s2, {P, Q}, "cuda", "many_vthreads"), "stage Q", "128 virtual threads",
                  "over the limit of 64", "fewer virtual threads");

  // Nested: 16 x 8 = 128 together.
  Tensor R = placeholder({128, 128}, DataType::float32(), "R");
  Tensor S = compute({128, 128}, [&](const std::vector<Var>& i) { return R(i[0], i[1]) * 3.0f; }, "S");
  Schedule s3 = create_schedule({S.op()});
  auto [vy, ty] = s3[S].split_nparts(compute_op(S)->axis[0], 16);
  auto [vx, tx3] = s3[S].split_nparts(compute_op(S)->axis[1], 8);
  s3[S].reorder({vy, vx, ty, tx3});
  s3[S].bind(vy, thread_axis("vthread"));
  s3[S].bind(vx, thread_axis("vthread"));
  s3[S].bind(ty, thread_axis("threadIdx.y"));
  s3[S].bind(tx3, thread_axis("threadIdx.x"));
  EXPECT_TE_ERROR(build(s3, {R, S}, "cuda", "nested_vthreads"), "8 virtual threads", "128 with the vthread loops",
                  "over the limit of 64");
}

}  // namespace
}  // namespace te::testing
