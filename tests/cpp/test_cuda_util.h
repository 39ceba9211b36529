// tests/cpp/test_cuda_util.h — helpers of the CUDA backend tests: build for target cuda,
// compile with NVRTC, and run on a GPU when there is one (GTEST_SKIP elsewhere).
#pragma once

#include <cstdlib>
#include <iostream>
#include <string>

#include "codegen/cuda/codegen_cuda.h"
#include "codegen/runtime/module_node.h"
#include "test_util.h"

namespace te::testing {

inline ComputeOpNode const* compute_op(const Tensor& t) { return t.op().as<ComputeOpNode>(); }

// A cache stage's 2-D tile loaded cooperatively: its axes fused and spread over threads x
// threads threads (ty, tx), the rest looped by every thread.
inline void bind_cooperative_load(Schedule& s, const Tensor& cache, int threads, const IterVar& tx, const IterVar& ty) {
  const auto* cc = cache.op().as<ComputeOpNode>();
  IterVar fused = s[cache].fuse(cc->axis[0], cc->axis[1]);
  auto [rest, lane_x] = s[cache].split(fused, threads);
  auto [outer, lane_y] = s[cache].split(rest, threads);
  (void)outer;
  s[cache].bind(lane_y, ty);
  s[cache].bind(lane_x, tx);
}

// The shared-tile matmul schedule the CUDA tests share: C[N, M] = A[N, K] · B[K, M] (float32),
// one T x T block of C per block (blockIdx.y, blockIdx.x) with one element per thread
// (threadIdx.y, threadIdx.x), the reduction split by KT, and the inputs' tiles cached at ko.
// scope "shared": A's T x KT and B's KT x T tiles in shared memory, loaded cooperatively (each
// cache stage fused and spread over the T x T threads). scope "local": only A, one thread's
// row of KT elements in registers (no cooperative load; BS stays undefined). The schedule is
// returned unbuilt, so a test can add primitives (storage_align) before building or lowering.
// Sizes are int, so shapes and indices are int32 (an int64_t shape would make them int64).
struct SharedTileMatmul {
  Tensor A, B, C, AS, BS;
  Schedule s;
  Module build(const std::string& target, const std::string& name) const { return te::build(s, {A, B, C}, target, name); }
};

inline SharedTileMatmul shared_tile_matmul(int N, int M, int K, int T, int KT,
                                           const std::string& scope = "shared") {
  SharedTileMatmul mm;
  mm.A = placeholder({N, K}, DataType::float32(), "A");
  mm.B = placeholder({K, M}, DataType::float32(), "B");
  IterVar k = reduce_axis(Range(0, K), "k");
  const Tensor &A = mm.A, &B = mm.B;
  mm.C = compute({N, M}, [&](const std::vector<Var>& i) { return sum(A(i[0], k) * B(k, i[1]), {k}); }, "C");
  const Tensor& C = mm.C;
  Schedule& s = mm.s;
  s = create_schedule({C.op()});
  const auto* c = C.op().as<ComputeOpNode>();
  mm.AS = s.cache_read(A, scope, {C.op()});
  if (scope == "shared") mm.BS = s.cache_read(B, scope, {C.op()});
  IterVar tx = thread_axis("threadIdx.x"), ty = thread_axis("threadIdx.y");
  auto [bi, bj, ti, tj] = s[C].tile(c->axis[0], c->axis[1], T, T);
  s[C].bind(bi, thread_axis("blockIdx.y"));
  s[C].bind(bj, thread_axis("blockIdx.x"));
  s[C].bind(ti, ty);
  s[C].bind(tj, tx);
  auto [ko, ki] = s[C].split(c->reduce_axis[0], KT);
  (void)ki;
  s[mm.AS].compute_at(s[C], ko);
  if (scope != "shared") return mm;
  s[mm.BS].compute_at(s[C], ko);
  for (const Tensor& cache : {mm.AS, mm.BS}) bind_cooperative_load(s, cache, T, tx, ty);
  return mm;
}

// The register-tile matmul the CUDA tests share: C[N, N] = A[N, K] · B[K, N] (float32) in
// blocks of block x block outputs (blockIdx.y, blockIdx.x) over threads x threads threads
// (threadIdx.y, threadIdx.x), each thread accumulating its register tile in "local" memory
// (CL) over k steps of kstep, whose A and B tiles are staged in shared memory (AS, BS: the
// block's tiles, loaded cooperatively). vthreads > 0 first splits each of the block's axes into
// vthreads virtual threads (bound to "vthread"): each thread then computes vthreads x vthreads
// strided pieces, block / vthreads apart. The schedule is returned unbuilt.
struct RegisterTileMatmul {
  Tensor A, B, C, AS, BS, CL;
  Schedule s;
};

inline RegisterTileMatmul register_tile_matmul(int N, int K, int block, int threads, int kstep, int vthreads = 0) {
  RegisterTileMatmul mm;
  mm.A = placeholder({N, K}, DataType::float32(), "A");
  mm.B = placeholder({K, N}, DataType::float32(), "B");
  const Tensor &A = mm.A, &B = mm.B;
  IterVar r = reduce_axis(Range(0, K), "k");
  mm.C = compute({N, N}, [&](const std::vector<Var>& i) { return sum(A(i[0], r) * B(r, i[1]), {r}); }, "C");
  const Tensor& C = mm.C;
  Schedule& s = mm.s;
  s = create_schedule({C.op()});
  mm.AS = s.cache_read(A, "shared", {C.op()});
  mm.BS = s.cache_read(B, "shared", {C.op()});
  mm.CL = s.cache_write(C, "local");
  const Tensor& CL = mm.CL;
  IterVar tx = thread_axis("threadIdx.x"), ty = thread_axis("threadIdx.y");
  auto [by, yi] = s[C].split(compute_op(C)->axis[0], block);
  auto [bx, xi] = s[C].split(compute_op(C)->axis[1], block);
  std::vector<IterVar> order = {by, bx};
  if (vthreads > 0) {
    auto [vy, yv] = s[C].split_nparts(yi, vthreads);
    auto [vx, xv] = s[C].split_nparts(xi, vthreads);
    s[C].bind(vy, thread_axis("vthread"));
    s[C].bind(vx, thread_axis("vthread"));
    order.insert(order.end(), {vy, vx});
    yi = yv;
    xi = xv;
  }
  auto [ty_axis, yt] = s[C].split_nparts(yi, threads);
  auto [tx_axis, xt] = s[C].split_nparts(xi, threads);
  order.insert(order.end(), {ty_axis, tx_axis, yt, xt});
  s[C].reorder(order);
  s[C].bind(by, thread_axis("blockIdx.y"));
  s[C].bind(bx, thread_axis("blockIdx.x"));
  s[C].bind(ty_axis, ty);
  s[C].bind(tx_axis, tx);
  s[CL].compute_at(s[C], tx_axis);
  auto [ko, ki] = s[CL].split(compute_op(CL)->reduce_axis[0], kstep);
  s[CL].reorder({ko, ki, compute_op(CL)->axis[0], compute_op(CL)->axis[1]});
  for (const Tensor& cache : {mm.AS, mm.BS}) {
    s[cache].compute_at(s[CL], ko);
    bind_cooperative_load(s, cache, threads, tx, ty);
  }
  return mm;
}

// The kernel's PTX, checked to define the kernel's entry point.
// With TE_TEST_PRINT_CUDA=1 the CUDA C is printed too (to read what a schedule generates).
inline std::string expect_ptx_entry(const Module& m) {
  if (const char* print = std::getenv("TE_TEST_PRINT_CUDA"); print && *print == '1')
    std::cout << m.get_source("cuda") << "\n";
  std::string ptx = m.get_source("ptx");
  std::string entry = ".entry " + m.func().name + "_kernel(";
  EXPECT_NE(ptx.find(entry), std::string::npos) << "PTX lacks '" << entry << "'\n" << ptx.substr(0, 2000);
  return ptx;
}

// Runs m on random inputs (every argument but the last is an input) in the CUDA emulator (on
// every machine: numbers, races, bounds) and, where a GPU exists, on the GPU; both are compared
// with the reference interpreter. Without a GPU the launch's error is checked.
inline void run_or_skip(const Module& m, const std::vector<Tensor>& inputs, const Tensor& output,
                        const std::vector<std::vector<int64_t>>& shapes, double rtol = 1e-4) {
  std::vector<NDArray> args;
  for (size_t i = 0; i < inputs.size(); ++i) args.push_back(random_array(shapes[i], inputs[i].dtype(), 17 + i));
  NDArray out = NDArray::empty(shapes.back(), output.dtype());
  out.fill_poison();
  args.push_back(out);
  {
    std::vector<NDArray> in(args.begin(), args.end() - 1);
    std::vector<NDArray> expected = evaluate_reference(inputs, in, {output});
    cuda_emulate(m, args);
    EXPECT_EQ(compare_arrays(out, expected[0], rtol, 1e-4), "") << "CUDA emulator, kernel " << m.func().name;
    out.fill_poison();
  }
  if (!cuda_device_available()) {
    // The codegen + NVRTC part of the test has run; only the launch needs a GPU.
    EXPECT_TE_ERROR(m(args), "no CUDA device available", m.func().name.c_str());
    ::testing::Test::RecordProperty("gpu_run", "skipped: no CUDA device");
    return;
  }
  m(args);
  std::vector<NDArray> in(args.begin(), args.end() - 1);
  std::vector<NDArray> expected = evaluate_reference(inputs, in, {output});
  EXPECT_EQ(compare_arrays(out, expected[0], rtol, 1e-4), "");
}

}  // namespace te::testing
