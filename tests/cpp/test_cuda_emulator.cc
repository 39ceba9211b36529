// The CUDA emulator (src/codegen/cuda/cuda_emulator.h) itself: that it computes what the
// schedules mean (also checked by every run_or_skip in the CUDA tests), and that its checks
// fail when they must — a removed barrier is a race, a wrong index an out-of-bounds access, a
// barrier under a thread-dependent branch divergent, a read of unwritten shared memory NaN.
#include "test_cuda_util.h"

#include <cmath>

#include "te/ir_functor.h"

namespace te::testing {
namespace {

struct Matmul {
  Tensor A, B, C;
  Module m;
};

// C = A·B tiled through shared memory (8x8 threads, K in steps of 4), as in CudaSchedules.
Matmul shared_matmul(int N = 32, int M = 24, int K = 16) {
  const int T = 8, KT = 4;
  Matmul r;
  r.A = placeholder({N, K}, DataType::float32(), "A");
  r.B = placeholder({K, M}, DataType::float32(), "B");
  IterVar k = reduce_axis(Range(0, K), "k");
  r.C = compute({N, M}, [&](const std::vector<Var>& i) { return sum(r.A(i[0], k) * r.B(k, i[1]), {k}); }, "C");
  Schedule s = create_schedule({r.C.op()});
  Tensor AS = s.cache_read(r.A, "shared", {r.C.op()});
  Tensor BS = s.cache_read(r.B, "shared", {r.C.op()});
  IterVar tx = thread_axis("threadIdx.x"), ty = thread_axis("threadIdx.y");
  auto [bi, bj, ti, tj] = s[r.C].tile(compute_op(r.C)->axis[0], compute_op(r.C)->axis[1], T, T);
  s[r.C].bind(bi, thread_axis("blockIdx.y"));
  s[r.C].bind(bj, thread_axis("blockIdx.x"));
  s[r.C].bind(ti, ty);
  s[r.C].bind(tj, tx);
  auto [ko, ki] = s[r.C].split(compute_op(r.C)->reduce_axis[0], KT);
  (void)ki;
  s[AS].compute_at(s[r.C], ko);
  s[BS].compute_at(s[r.C], ko);
  for (const Tensor& cache : {AS, BS}) {
    IterVar fused = s[cache].fuse(compute_op(cache)->axis[0], compute_op(cache)->axis[1]);
    auto [rest, lane_x] = s[cache].split(fused, T);
    auto [outer, lane_y] = s[cache].split(rest, T);
    (void)outer;
    s[cache].bind(lane_y, ty);
    s[cache].bind(lane_x, tx);
  }
  r.m = build(s, {r.A, r.B, r.C}, "cuda", "emu_matmul");
  return r;
}

// The module of func with its body rewritten by `mutator`.
Module rebuilt(const Module& m, IRMutator& mutator) {
  LoweredFunc f = m.func();
  f.body = mutator.mutate(f.body);
  return build(f, m.target());
}

std::vector<NDArray> matmul_args(const Matmul& r) {
  auto shape = [](const Tensor& t) { return const_shape(t); };
  NDArray c = NDArray::empty(shape(r.C), DataType::float32());
  c.fill_poison();
  return {random_array(shape(r.A), DataType::float32(), 1), random_array(shape(r.B), DataType::float32(), 2), c};
}

class DropBarriers : public IRMutator {
  Stmt mutate_node(const AttrStmtNode* op, const Stmt& self) override {
    if (op->key == kGpuBarrierAttr) return EvaluateNode::make(make_const(DataType::int32(), 0));
    return IRMutator::mutate_node(op, self);
  }
};

TEST(CudaEmulator, SharedMatmulMatchesReference) {
  Matmul r = shared_matmul();
  std::vector<NDArray> args = matmul_args(r);
  cuda_emulate(r.m, args);
  std::vector<NDArray> expected = evaluate_reference({r.A, r.B}, {args[0], args[1]}, {r.C});
  EXPECT_EQ(compare_arrays(args[2], expected[0], 1e-4, 1e-4), "");
}

TEST(CudaEmulator, MissingBarrierIsARace) {
  Matmul r = shared_matmul();
  DropBarriers drop;
  Module racy = rebuilt(r.m, drop);
  EXPECT_EQ(racy.get_source("cuda").find("__syncthreads"), std::string::npos);
  std::vector<NDArray> args = matmul_args(r);
  EXPECT_TE_ERROR(cuda_emulate(racy, args), "emu_matmul_kernel", "data race on shared buffer", ".shared element",
                  "block (0, 0, 0) thread (", "missing __syncthreads()");
}

// Every thread writes output element floordiv(i, 2): two threads store different values.
TEST(CudaEmulator, TwoThreadsWritingOneGlobalElementIsARace) {
  const int N = 64;
  Tensor A = placeholder({N}, DataType::float32(), "A");
  Tensor B = compute({N}, [&](const std::vector<Var>& i) { return A(i[0]) + 1.0f; }, "B");
  Schedule s = create_schedule({B.op()});
  auto [bo, bi] = s[B].split(compute_op(B)->axis[0], 32);
  s[B].bind(bo, thread_axis("blockIdx.x"));
  s[B].bind(bi, thread_axis("threadIdx.x"));
  Module m = build(s, {A, B}, "cuda", "emu_racy");
  struct HalveIndex : IRMutator {
    Stmt mutate_node(const StoreNode* op, const Stmt& self) override {
      (void)self;
      return StoreNode::make(op->buffer, op->value, floordiv(op->index, 2));
    }
  } halve;
  Module racy = rebuilt(m, halve);
  NDArray a = random_array({N}, DataType::float32(), 3), b = NDArray::empty({N}, DataType::float32());
  EXPECT_TE_ERROR(cuda_emulate(racy, {a, b}), "emu_racy_kernel", "data race on global buffer B element 0",
                  "thread (0, 0, 0) wrote it", "thread (1, 0, 0) wrote another value");
  // Shifted by 16: blocks 0 and 1 both write elements 16..47 — the race is across blocks.
  struct Shift : IRMutator {
    Stmt mutate_node(const StoreNode* op, const Stmt& self) override {
      (void)self;
      return StoreNode::make(op->buffer, op->value, floormod(op->index + 16, 48));
    }
  } shift;
  EXPECT_TE_ERROR(cuda_emulate(rebuilt(m, shift), {a, b}), "data race on global buffer B",
                  "block (0, 0, 0) thread (", "block (1, 0, 0) thread (");
}

TEST(CudaEmulator, OutOfBoundsIsNamed) {
  Matmul r = shared_matmul();
  struct PastTheEnd : IRMutator {
    Stmt mutate_node(const StoreNode* op, const Stmt& self) override {
      if (op->buffer.name() != "C") return IRMutator::mutate_node(op, self);
      return StoreNode::make(op->buffer, op->value, op->index + 32 * 24);  // one past C
    }
  } past;
  std::vector<NDArray> args = matmul_args(r);
  EXPECT_TE_ERROR(cuda_emulate(rebuilt(r.m, past), args), "emu_matmul_kernel", "out-of-bounds write of global buffer C",
                  "element 768 of 768", "block (0, 0, 0) thread (0, 0, 0)");
}

TEST(CudaEmulator, BarrierUnderAThreadDependentBranchIsDivergent) {
  Matmul r = shared_matmul();
  // if (threadIdx.x < 2) __syncthreads();  — the other threads would skip the barrier.
  struct GuardBarrier : IRMutator {
    Var tx;
    Stmt mutate_node(const ForNode* op, const Stmt& self) override {
      if (op->thread_tag == "threadIdx.x" && !tx.defined()) tx = op->loop_var;
      return IRMutator::mutate_node(op, self);
    }
    Stmt mutate_node(const AttrStmtNode* op, const Stmt& self) override {
      if (op->key != kGpuBarrierAttr || !tx.defined()) return IRMutator::mutate_node(op, self);
      return IfThenElseNode::make(tx < 2, self, Stmt());
    }
  } guard;
  std::vector<NDArray> args = matmul_args(r);
  EXPECT_TE_ERROR(cuda_emulate(rebuilt(r.m, guard), args), "barrier in divergent control flow", "thread (0, 0, 0)",
                  "thread (2, 0, 0)");
}

TEST(CudaEmulator, UnwrittenSharedMemoryReadsAsNaN) {
  Matmul r = shared_matmul();
  struct DropSharedStores : IRMutator {
    Stmt mutate_node(const StoreNode* op, const Stmt& self) override {
      if (op->buffer.name().find("shared") == std::string::npos) return IRMutator::mutate_node(op, self);
      return EvaluateNode::make(make_const(DataType::int32(), 0));
    }
  } drop;
  std::vector<NDArray> args = matmul_args(r);
  cuda_emulate(rebuilt(r.m, drop), args);
  const float* c = args[2].data_as<float>();
  for (int64_t i = 0; i < args[2].numel(); ++i) ASSERT_TRUE(std::isnan(c[i])) << i;
}

// Found by the emulator (te_fuzz seeds 17, 225): a shared cache computed inside a stage that
// binds threadIdx.x with extent 1 while the cache's load binds 2 threads. codegen_cuda printed
// the load and its __syncthreads() under `if (threadIdx.x < 1)`: thread 1 skipped the barrier
// and its load, thread 0 read an unwritten element. Now a te::Error at build time.
TEST(CudaEmulator, BarrierInsideANarrowerThreadLoopIsRefused) {
  Tensor in = placeholder({2}, DataType::float32(), "in");
  Tensor T0 = compute({2}, [&](const std::vector<Var>& i) { return in(i[0]) * 2.0f; }, "T0");
  IterVar k = reduce_axis(Range(0, 2), "k");
  Tensor T1 = compute({1}, [&](const std::vector<Var>&) { return sum(T0(k), {k}); }, "T1");
  Schedule s = create_schedule({T1.op()});
  Tensor shared = s.cache_read(T0, "shared", {T1.op()});
  auto [io, ii] = s[T1].split(compute_op(T1)->axis[0], 32);
  (void)io;
  s[T1].bind(ii, thread_axis("threadIdx.x"));
  auto [ko, ki] = s[T1].split(compute_op(T1)->reduce_axis[0], 8);
  (void)ki;
  s[shared].compute_at(s[T1], ko);
  auto [ao, ai] = s[shared].split(compute_op(shared)->axis[0], 32);
  (void)ao;
  s[shared].bind(ai, thread_axis("threadIdx.x"));
  s[T0].compute_at(s[shared], ai);
  EXPECT_TE_ERROR(build(s, {in, T1}, "cuda", "narrow"), "stage T1", "__syncthreads()", "threadIdx.x with extent 1",
                  "the block has 2 threads", "same extent in every stage");
}

// The emulator replays the printed reduction protocol (shuffles, shared slots), not the
// reference: with the combine step removed the result is wrong — the threads of a group store
// different partials (a race on the output) or agree on one partial (wrong numbers) — for each
// of the printer's three ways (xor butterfly, shuffle down with pieces in shared memory,
// interleaved tree).
bool wrong_result(const Module& m, const NDArray& a, NDArray b, const NDArray& expected) {
  b.fill_poison();
  try {
    cuda_emulate(m, {a, b});
  } catch (const Error& e) {
    return std::string(e.what()).find("data race on global buffer B") != std::string::npos;
  }
  return !compare_arrays(b, expected, 1e-4, 1e-4).empty();
}

TEST(CudaEmulator, CrossThreadReductionFollowsTheShuffles) {
  struct DropCombine : IRMutator {
    Stmt mutate_node(const AttrStmtNode* op, const Stmt& self) override {
      if (op->key == kGpuAllreduceCombine)
        return AttrStmtNode::make(op->key, op->value, EvaluateNode::make(make_const(DataType::int32(), 0)));
      return IRMutator::mutate_node(op, self);
    }
  };
  for (int threads : {16, 33}) {
    const int N = 3, M = 2 * threads + 3;
    Tensor A = placeholder({N, M}, DataType::float32(), "A");
    IterVar k = reduce_axis(Range(0, M), "k");
    Tensor B = compute({N}, [&](const std::vector<Var>& i) { return sum(A(i[0], k), {k}); }, "B");
    Schedule s = create_schedule({B.op()});
    auto [ko, ki] = s[B].split(k, threads);
    (void)ko;
    s[B].bind(compute_op(B)->axis[0], thread_axis("blockIdx.x"));
    s[B].bind(ki, thread_axis("threadIdx.x"));
    Module m = build(s, {A, B}, "cuda", "emu_rowsum");
    NDArray a = random_array({N, M}, DataType::float32(), 9), b = NDArray::empty({N}, DataType::float32());
    NDArray expected = evaluate_reference({A}, {a}, {B})[0];
    b.fill_poison();
    cuda_emulate(m, {a, b});
    EXPECT_EQ(compare_arrays(b, expected, 1e-4, 1e-4), "") << threads;
    DropCombine drop;
    EXPECT_TRUE(wrong_result(rebuilt(m, drop), a, b, expected)) << threads;
  }
  // Interleaved: threadIdx.y reduced inside data-parallel threadIdx.x (a tree in shared memory).
  const int N = 8, M = 12;
  Tensor A = placeholder({N, M}, DataType::float32(), "A");
  IterVar k = reduce_axis(Range(0, M), "k");
  Tensor B = compute({N}, [&](const std::vector<Var>& i) { return sum(A(i[0], k), {k}); }, "B");
  Schedule s = create_schedule({B.op()});
  auto [ko, ki] = s[B].split(k, 6);
  (void)ko;
  s[B].bind(compute_op(B)->axis[0], thread_axis("threadIdx.x"));
  s[B].bind(ki, thread_axis("threadIdx.y"));
  Module m = build(s, {A, B}, "cuda", "emu_tree");
  NDArray a = random_array({N, M}, DataType::float32(), 10), b = NDArray::empty({N}, DataType::float32());
  NDArray expected = evaluate_reference({A}, {a}, {B})[0];
  b.fill_poison();
  cuda_emulate(m, {a, b});
  EXPECT_EQ(compare_arrays(b, expected, 1e-4, 1e-4), "");
  DropCombine drop;
  EXPECT_TRUE(wrong_result(rebuilt(m, drop), a, b, expected));
}

TEST(CudaEmulator, Misuse) {
  Tensor A = placeholder({16}, DataType::float32(), "A");
  Tensor B = compute({16}, [&](const std::vector<Var>& i) { return A(i[0]) * 2.0f; }, "B");
  Schedule s = create_schedule({B.op()});
  NDArray a = random_array({16}, DataType::float32(), 4), b = NDArray::empty({16}, DataType::float32());
  if (backend_built("llvm"))  // the GPU machine's te is CUDA-only (scripts/gpu_check.sh)
    EXPECT_TE_ERROR(cuda_emulate(build(s, {A, B}, "llvm", "emu_cpu"), {a, b}), "emu_cpu", "target \"cuda\"");
  s[B].bind(compute_op(B)->axis[0], thread_axis("threadIdx.x"));
  Module m = build(s, {A, B}, "cuda", "emu_small");
  EXPECT_TE_ERROR(cuda_emulate(m, {a}), "emu_small");  // the argument checks of a call
  EXPECT_TE_ERROR(cuda_emulate(m, {a, NDArray::empty({15}, DataType::float32())}), "emu_small");
  Tensor H = placeholder({16}, DataType::float16(), "H");
  Tensor G = compute({16}, [&](const std::vector<Var>& i) { return H(i[0]); }, "G");
  Schedule sh = create_schedule({G.op()});
  sh[G].bind(compute_op(G)->axis[0], thread_axis("threadIdx.x"));
  Module half = build(sh, {H, G}, "cuda", "emu_half");
  NDArray h = NDArray::empty({16}, DataType::float16()), g = NDArray::empty({16}, DataType::float16());
  EXPECT_TE_ERROR(cuda_emulate(half, {h}), "emu_half");  // float16 runs; a missing argument does not
}

// float16 buffers (global and shared): stored rounded to binary16 as a __half store does, so
// the emulated kernel gives the reference interpreter's numbers bit for bit. (Shared and local
// float16 buffers start as NaN, as float32 ones do.)
TEST(CudaEmulator, Float16KernelsRunAndRoundAsHalfStores) {
  // G[i] = H[63 - i] * 3 + 0.1 in float16, H staged in shared memory by the block's threads.
  Tensor H = placeholder({64}, DataType::float16(), "H");
  Tensor G = compute({64}, [&](const std::vector<Var>& i) { return H(63 - i[0]) * Expr(3.0f) + Expr(0.1f); }, "G");
  auto schedule = [&] {
    Schedule s = create_schedule({G.op()});
    Tensor HS = s.cache_read(H, "shared", {G.op()});
    auto [gb, gt] = s[G].split(compute_op(G)->axis[0], 64);
    s[G].bind(gb, thread_axis("blockIdx.x"));
    s[G].bind(gt, thread_axis("threadIdx.x"));
    s[HS].compute_at(s[G], gb);
    s[HS].bind(compute_op(HS)->axis[0], thread_axis("threadIdx.x"));  // one element per thread
    return s;
  };
  NDArray h = random_array({64}, DataType::float16(), 5), g = NDArray::empty({64}, DataType::float16());
  g.fill_poison();
  std::vector<NDArray> expected = evaluate_reference({H}, {h}, {G});
  Module m = build(schedule(), {H, G}, "cuda", "emu_half_ok");
  EXPECT_TRUE(m.get_source("cuda").find("__shared__") != std::string::npos) << m.get_source("cuda");
  cuda_emulate(m, {h, g});
  EXPECT_EQ(compare_arrays(g, expected[0], 0, 0), "");  // the same rounding, bit for bit
}

}  // namespace
}  // namespace te::testing
