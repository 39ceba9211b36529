// CUDA backend: Stage::double_buffer (src/lower/inject_double_buffer.cc). Double-buffered
// shared tiles of the matmuls the CUDA tests share are lowered (two buffers, two barriers in
// all; the next block copied by cp.async on sm_80 and newer, staged in registers below), run in
// the CUDA emulator (GPU semantics: the threads of a block in lockstep at barriers, races and
// bounds checked, asynchronous copies landing at their wait) against the reference,
// NVRTC-compiled, and run on a GPU where there is one; misuse is a te::Error naming the stage.
#include "codegen/cuda/cuda_emulator.h"
#include "lower/inject_double_buffer.h"
#include "te/ir_functor.h"
#include "test_cuda_util.h"

namespace te::testing {
namespace {

LoweredFunc lower_cuda(const Schedule& s, const std::vector<Tensor>& args, const std::string& name,
                       const std::string& target = "cuda") {
  LowerOptions opt;
  opt.target = Target::parse(target);
  return lower(s, args, name, opt);
}

// How many calls of intrinsic op the body makes (statically).
int calls(const Stmt& body, Intrinsic op) {
  int n = 0;
  post_order_visit(body, [&](const Expr& e) {
    if (const auto* call = e.as<CallNode>()) n += call->op == op;
  });
  return n;
}

// The extent of buffer `name`'s allocation (its only one), or -1.
int64_t allocated(const Stmt& body, const std::string& name) {
  int64_t extent = -1;
  post_order_visit(
      body, [](const Expr&) {},
      [&](const Stmt& st) {
        const auto* alloc = st.as<AllocateNode>();
        if (!alloc || alloc->buffer.name() != name) return;
        extent = 1;
        for (const Expr& e : alloc->extents) extent *= *as_const_int(e);
      });
  return extent;
}

int barriers(const Stmt& body) {
  int n = 0;
  post_order_visit(
      body, [](const Expr&) {},
      [&](const Stmt& st) {
        if (const auto* attr = st.as<AttrStmtNode>()) n += attr->key == kGpuBarrierAttr;
      });
  return n;
}

// The register-tile matmul (64 x 64 blocks of 8 x 8 threads, 8 x 8 per thread, k steps of 8)
// with both shared tiles double-buffered for sm_75 (no cp.async): 2 x 512 elements each, 8
// staged per thread, and two barriers in all (after the first copy, at the end of each k step)
// where there were two per k step.
TEST(CudaDoubleBuffer, RegisterTileMatmulMatchesTheReference) {
  const int N = 128, K = 40;
  RegisterTileMatmul mm = register_tile_matmul(N, K, 64, 8, 8);
  const Stmt single = lower_cuda(mm.s, {mm.A, mm.B, mm.C}, "mm_single").body;
  const std::string before = to_string(single);
  // Unbuffered: both copies, one barrier, the reads, one barrier (the second copy does not wait
  // behind a barrier after the first: insert_shared_barriers looks through the allocations).
  EXPECT_EQ(barriers(single), 2) << before;
  mm.s[mm.AS].double_buffer();
  mm.s[mm.BS].double_buffer();
  LoweredFunc f = lower_cuda(mm.s, {mm.A, mm.B, mm.C}, "mm_double", "cuda -arch=sm_75");
  EXPECT_EQ(allocated(f.body, "A.shared"), 2 * 64 * 8) << to_string(f.body);
  EXPECT_EQ(allocated(f.body, "B.shared"), 2 * 8 * 64);
  EXPECT_EQ(allocated(f.body, "A.shared.reg"), 8);  // 512 elements over 64 threads
  EXPECT_EQ(allocated(f.body, "B.shared.reg"), 8);
  EXPECT_EQ(barriers(f.body), 2) << to_string(f.body);
  EXPECT_EQ(calls(f.body, Intrinsic::kCpAsync), 0);
  EXPECT_TRUE(contains(before, "allocate A.shared[float32 * 64 * 8]")) << before;

  Module m = build(mm.s, {mm.A, mm.B, mm.C}, "cuda -arch=sm_75", "mm_double");
  std::string cu = m.get_source("cuda");
  EXPECT_TRUE(contains(cu, "__shared__ __align__(16) float A_shared[1024]")) << cu;
  EXPECT_TRUE(contains(cu, "float A_shared_reg[8]")) << cu;
  EXPECT_EQ(count_of(cu, "__syncthreads()"), 2u) << cu;
  // The staged registers are indexed by constants (the copy's loop unrolled): registers, not
  // local memory.
  EXPECT_TRUE(contains(cu, "A_shared_reg[7] = A[")) << cu;
  expect_ptx_entry(m);
  run_or_skip(m, {mm.A, mm.B}, mm.C, {{N, K}, {K, N}, {N, N}});
}

// The same schedule for sm_80 (and for a target that leaves the architecture to the device):
// each tile's copy goes straight into the other half by cp.async — no registers — one commit
// per k step and the wait at its end, still two barriers in all; the PTX has the asynchronous
// copies, and the emulator (copies landing at the wait) matches the reference.
TEST(CudaDoubleBuffer, AsyncCopiesOnSm80) {
  const int N = 128, K = 40;
  RegisterTileMatmul mm = register_tile_matmul(N, K, 64, 8, 8);
  mm.s[mm.AS].double_buffer();
  mm.s[mm.BS].double_buffer();
  for (const char* target : {"cuda -arch=sm_80", "cuda"}) {
    LoweredFunc f = lower_cuda(mm.s, {mm.A, mm.B, mm.C}, "mm_async", target);
    const std::string ir = to_string(f.body);
    EXPECT_EQ(allocated(f.body, "A.shared"), 2 * 64 * 8) << ir;
    EXPECT_EQ(allocated(f.body, "A.shared.reg"), -1) << ir;
    EXPECT_EQ(calls(f.body, Intrinsic::kCpAsync), 4) << ir;  // A and B, first block and next
    EXPECT_EQ(calls(f.body, Intrinsic::kCpAsyncCommit), 2) << ir;
    EXPECT_EQ(calls(f.body, Intrinsic::kCpAsyncWait), 2) << ir;
    EXPECT_EQ(barriers(f.body), 2) << ir;
  }
  Module m = build(mm.s, {mm.A, mm.B, mm.C}, "cuda -arch=sm_80", "mm_async");
  const std::string cu = m.get_source("cuda");
  EXPECT_TRUE(contains(cu, "te_cp_async<4>(A_shared + (")) << cu;
  EXPECT_TRUE(contains(cu, "te_cp_async_commit();")) << cu;
  EXPECT_TRUE(contains(cu, "te_cp_async_wait<0>();\n            __syncthreads();")) << cu;
  EXPECT_FALSE(contains(cu, "_reg[")) << cu;
  const std::string ptx = m.get_source("ptx");
  EXPECT_TRUE(contains(ptx, "cp.async.ca.shared.global")) << ptx;
  EXPECT_TRUE(contains(ptx, "cp.async.commit_group")) << ptx;
  EXPECT_TRUE(contains(ptx, "cp.async.wait_group 0")) << ptx;
  run_or_skip(m, {mm.A, mm.B}, mm.C, {{N, K}, {K, N}, {N, N}});
}

// Stage::pipeline(S): S buffers of each tile and the copies of the next S - 1 blocks in flight
// — S - 1 groups committed before the loop, one per iteration, and each wait leaving the S - 2
// newest in flight — still two barriers; with tiles of different depths the shallowest decides
// the waits. Every depth matches the reference in the emulator for 1 to 5 k blocks; below
// sm_80 a pipeline runs as double buffering in registers.
TEST(CudaDoubleBuffer, PipelineKeepsStagesMinusOneBlocksInFlight) {
  auto waits = [](const Stmt& body) {
    std::vector<int64_t> counts;
    post_order_visit(body, [&](const Expr& e) {
      if (const auto* call = e.as<CallNode>(); call && call->op == Intrinsic::kCpAsyncWait)
        counts.push_back(*as_const_int(call->args[0]));
    });
    std::sort(counts.begin(), counts.end());
    return counts;
  };
  {
    RegisterTileMatmul mm = register_tile_matmul(128, 40, 64, 8, 8);
    mm.s[mm.AS].pipeline(3);
    mm.s[mm.BS].pipeline(3);
    LoweredFunc f = lower_cuda(mm.s, {mm.A, mm.B, mm.C}, "mm_pipeline", "cuda -arch=sm_90");
    const std::string ir = to_string(f.body);
    EXPECT_EQ(allocated(f.body, "A.shared"), 3 * 64 * 8) << ir;
    EXPECT_EQ(allocated(f.body, "B.shared"), 3 * 8 * 64) << ir;
    EXPECT_EQ(calls(f.body, Intrinsic::kCpAsync), 6) << ir;  // per tile: blocks 0 and 1 first, then L + 2
    EXPECT_EQ(calls(f.body, Intrinsic::kCpAsyncCommit), 3) << ir;
    EXPECT_EQ(waits(f.body), (std::vector<int64_t>{1, 1})) << ir;
    EXPECT_EQ(barriers(f.body), 2) << ir;
    EXPECT_TRUE(contains(mm.s.steps_python(), "s[A_shared].pipeline(3)")) << mm.s.steps_python();
    Schedule replayed = Schedule::replay({mm.C.op()}, Schedule::steps_from_json(mm.s.steps_json()));
    EXPECT_EQ(to_string(lower_cuda(replayed, {mm.A, mm.B, mm.C}, "f").body),
              to_string(lower_cuda(mm.s, {mm.A, mm.B, mm.C}, "f").body));
    Module m = build(mm.s, {mm.A, mm.B, mm.C}, "cuda -arch=sm_90", "mm_pipeline");
    EXPECT_TRUE(contains(m.get_source("cuda"), "te_cp_async_wait<1>();")) << m.get_source("cuda");
    EXPECT_TRUE(contains(m.get_source("ptx"), "cp.async.wait_group 1")) << m.get_source("ptx");
    LoweredFunc old = lower_cuda(mm.s, {mm.A, mm.B, mm.C}, "mm_pipeline", "cuda -arch=sm_75");
    EXPECT_EQ(allocated(old.body, "A.shared"), 2 * 64 * 8);
    EXPECT_EQ(allocated(old.body, "A.shared.reg"), 8);
  }
  {  // a 4-deep tile and a double-buffered one: the waits keep no group in flight
    RegisterTileMatmul mm = register_tile_matmul(128, 40, 64, 8, 8);
    mm.s[mm.AS].pipeline(4);
    mm.s[mm.BS].double_buffer();
    LoweredFunc f = lower_cuda(mm.s, {mm.A, mm.B, mm.C}, "mm_mixed", "cuda -arch=sm_90");
    EXPECT_EQ(allocated(f.body, "A.shared"), 4 * 64 * 8);
    EXPECT_EQ(allocated(f.body, "B.shared"), 2 * 8 * 64);
    EXPECT_EQ(calls(f.body, Intrinsic::kCpAsyncCommit), 4) << to_string(f.body);
    EXPECT_EQ(waits(f.body), (std::vector<int64_t>{0, 2})) << to_string(f.body);
  }
  for (int stages : {3, 4})
    for (int k : {8, 16, 24, 40}) {
      SharedTileMatmul mm = shared_tile_matmul(20, 12, k, 8, 8);
      mm.s[mm.AS].pipeline(stages);
      mm.s[mm.BS].pipeline(stages == 3 ? 2 : stages);
      Module m = mm.build("cuda -arch=sm_90", "mm_pipeline");
      run_or_skip(m, {mm.A, mm.B}, mm.C, {{20, k}, {k, 12}, {20, 12}});
    }
  SharedTileMatmul mm = shared_tile_matmul(16, 16, 16, 8, 4);
  EXPECT_TE_ERROR(mm.s[mm.AS].pipeline(1), "pipeline", "stage A.shared", "1 stages", "2 to 8");
  EXPECT_TE_ERROR(mm.s[mm.AS].pipeline(9), "pipeline", "2 to 8");
  EXPECT_TE_ERROR(mm.s[mm.A].pipeline(3), "pipeline", "stage A", "placeholder");
}

// Lowered for sm_80 with each wait replaced (a broken protocol): the emulator, whose copies
// land at the wait, catches it. Waiting for all but the newest group leaves a block's copy in
// flight while other threads read that half (a race at the landing), and no wait at all leaves
// copies never waited for.
TEST(CudaDoubleBuffer, EmulatorCatchesAMissingWait) {
  RegisterTileMatmul mm = register_tile_matmul(64, 24, 32, 4, 8);
  mm.s[mm.AS].double_buffer();
  mm.s[mm.BS].double_buffer();
  LoweredFunc f = lower_cuda(mm.s, {mm.A, mm.B, mm.C}, "mm_async", "cuda -arch=sm_80");
  class ReplaceWaits : public IRMutator {
   public:
    explicit ReplaceWaits(int keep) : keep_(keep) {}

   protected:
    Stmt mutate_node(const EvaluateNode* op, const Stmt& self) override {
      const auto* call = op->value.as<CallNode>();
      if (!call || call->op != Intrinsic::kCpAsyncWait) return self;
      if (keep_ < 0) return EvaluateNode::make(Expr(0));
      return EvaluateNode::make(
          CallNode::make(DataType::int32(), Intrinsic::kCpAsyncWait, {make_const(DataType::int32(), keep_)}));
    }

   private:
    int keep_;
  };
  NDArray a = random_array({64, 24}, DataType::float32(), 1), b = random_array({24, 64}, DataType::float32(), 2);
  NDArray c = NDArray::empty({64, 64}, DataType::float32());
  const Target target = Target::parse("cuda -arch=sm_80");
  for (int keep : {1, -1}) {
    LoweredFunc broken = f;
    broken.body = ReplaceWaits(keep).mutate(f.body);
    EXPECT_TE_ERROR(cuda_emulate_lowered(broken, target, {a.dltensor(), b.dltensor(), c.dltensor()}), "cuda emulator",
                    keep == 1 ? "data race on shared buffer" : "asynchronous copies it never waited for");
  }
}

// Tails everywhere: N and M not multiples of the tile, K not a multiple of the k step (the
// copies are guarded, the guards replayed for the next block), then a single k step (the loop
// stages nothing), and K shorter than the step.
TEST(CudaDoubleBuffer, GuardedTilesAndShortLoopsMatchTheReference) {
  struct Case {
    int n, m, k, tile, k_tile;
  };
  for (const Case& c : {Case{20, 12, 13, 8, 4}, Case{16, 16, 8, 8, 8}, Case{9, 7, 3, 4, 8}}) {
    SharedTileMatmul mm = shared_tile_matmul(c.n, c.m, c.k, c.tile, c.k_tile);
    mm.s[mm.AS].double_buffer();
    mm.s[mm.BS].double_buffer();
    Module m = mm.build("cuda", "mm_guarded");
    expect_ptx_entry(m);
    run_or_skip(m, {mm.A, mm.B}, mm.C, {{c.n, c.k}, {c.k, c.m}, {c.n, c.m}});
  }
}

// One tile double-buffered, the other not: B's copy keeps its barrier inside the loop.
TEST(CudaDoubleBuffer, OneTileOfTwo) {
  SharedTileMatmul mm = shared_tile_matmul(32, 24, 20, 8, 4);
  mm.s[mm.BS].double_buffer();
  LoweredFunc f = lower_cuda(mm.s, {mm.A, mm.B, mm.C}, "mm_one");
  EXPECT_EQ(allocated(f.body, "B.shared"), 2 * 4 * 8);
  EXPECT_EQ(allocated(f.body, "A.shared"), 8 * 4);
  EXPECT_EQ(barriers(f.body), 3) << to_string(f.body);  // after B's first copy; A's; end of step
  Module m = mm.build("cuda", "mm_one");
  expect_ptx_entry(m);
  run_or_skip(m, {mm.A, mm.B}, mm.C, {{32, 20}, {20, 24}, {32, 24}});
}

// Virtual threads (strided register tiles) with double-buffered tiles.
TEST(CudaDoubleBuffer, WithVirtualThreads) {
  const int N = 64, K = 24;
  RegisterTileMatmul mm = register_tile_matmul(N, K, 32, 4, 8, 2);
  mm.s[mm.AS].double_buffer();
  mm.s[mm.BS].double_buffer();
  Module m = build(mm.s, {mm.A, mm.B, mm.C}, "cuda", "mm_vthread_double");
  expect_ptx_entry(m);
  run_or_skip(m, {mm.A, mm.B}, mm.C, {{N, K}, {K, N}, {N, N}});
}

// The step is recorded, printed and replayed.
TEST(CudaDoubleBuffer, RecordedAndReplayed) {
  SharedTileMatmul mm = shared_tile_matmul(16, 16, 16, 8, 4);
  mm.s[mm.AS].double_buffer();
  EXPECT_TRUE(contains(mm.s.steps_python(), "s[A_shared].double_buffer()")) << mm.s.steps_python();
  Schedule replayed = Schedule::replay({mm.C.op()}, Schedule::steps_from_json(mm.s.steps_json()));
  for (const Stage& stage : replayed.stages())
    EXPECT_EQ(stage->double_buffer, stage.name() == "A.shared") << stage.name();
  EXPECT_EQ(to_string(lower_cuda(replayed, {mm.A, mm.B, mm.C}, "f").body),
            to_string(lower_cuda(mm.s, {mm.A, mm.B, mm.C}, "f").body));
}

TEST(CudaDoubleBuffer, MisuseIsAClearError) {
  {  // not a shared stage
    SharedTileMatmul mm = shared_tile_matmul(16, 16, 16, 8, 4);
    EXPECT_TE_ERROR(mm.s[mm.A].double_buffer(), "double_buffer", "stage A", "placeholder");
    EXPECT_TE_ERROR(mm.s[mm.C].double_buffer(), "double_buffer", "stage C", "scope 'global'", "cache_read");
  }
  {  // computed at a thread loop, not a serial one
    SharedTileMatmul mm = shared_tile_matmul(16, 16, 16, 8, 4);
    Stage out = mm.s[mm.C];
    mm.s[mm.AS].compute_at(out, out->leaf_iter_vars[3]);  // threadIdx.x
    mm.s[mm.AS].double_buffer();
    EXPECT_TE_ERROR(mm.build("cuda", "at_thread"), "double_buffer", "stage A.shared", "thread", "serial loop");
  }
  {  // computed at the root: no loop to stage ahead in
    SharedTileMatmul mm = shared_tile_matmul(16, 16, 16, 8, 4);
    mm.s[mm.AS].compute_root();
    mm.s[mm.AS].double_buffer();
    EXPECT_TE_ERROR(mm.build("cuda", "at_root"), "double_buffer", "stage A.shared", "compute_at");
  }
  {  // another stage computed inside the copy: not a plain copy to stage in registers
    Tensor A = placeholder({16, 16}, DataType::float32(), "A"), B = placeholder({16, 16}, DataType::float32(), "B");
    Tensor P = compute(
        {16, 16}, [&](const std::vector<Var>& i) { return A(i[0], i[1]) + 1.0f; }, "P");
    IterVar k = reduce_axis(Range(0, 16), "k");
    Tensor C = compute(
        {16, 16}, [&](const std::vector<Var>& i) { return sum(P(i[0], k) * B(k, i[1]), {k}); }, "C");
    Schedule s = create_schedule({C.op()});
    Tensor PS = s.cache_read(P, "shared", {C.op()});
    const auto* c = C.op().as<ComputeOpNode>();
    auto [bi, bj, ti, tj] = s[C].tile(c->axis[0], c->axis[1], 8, 8);
    s[C].bind(bi, thread_axis("blockIdx.y"));
    s[C].bind(bj, thread_axis("blockIdx.x"));
    s[C].bind(ti, thread_axis("threadIdx.y"));
    s[C].bind(tj, thread_axis("threadIdx.x"));
    auto [ko, ki] = s[C].split(c->reduce_axis[0], 4);
    (void)ki;
    s[PS].compute_at(s[C], ko);
    s[P].compute_at(s[PS], s[PS]->leaf_iter_vars[0]);
    s[PS].double_buffer();
    EXPECT_TE_ERROR(build(s, {A, B, C}, "cuda", "inside_copy"), "double_buffer", "stage P.shared",
                    "not a nest of loops around one store", "kind Allocate", "cache_read copy of a tensor");
  }
  {  // more registers per thread than the limit: an 8 x 1024 tile copied by 64 threads
    SharedTileMatmul mm = shared_tile_matmul(8, 8, 1024, 8, 1024);
    mm.s[mm.AS].double_buffer();
    EXPECT_TE_ERROR(mm.build("cuda -arch=sm_75", "too_many"), "double_buffer", "stage A.shared", "registers", "128",
                    "limit of 64");
    static_assert(kMaxDoubleBufferRegisters == 64, "the message above names the limit");
    mm.build("cuda -arch=sm_80", "async_copies");  // cp.async stages nothing in registers: no limit
  }
}

// A CPU target drops the mark: the same schedule without thread bindings computes the same.
TEST(CudaDoubleBuffer, CpuTargetIgnoresIt) {
  if (!backend_built("llvm")) GTEST_SKIP() << "te built without LLVM (the GPU machine's CUDA-only build)";
  Tensor A = placeholder({12, 10}, DataType::float32(), "A");
  Tensor B = placeholder({10, 6}, DataType::float32(), "B");
  IterVar k = reduce_axis(Range(0, 10), "k");
  Tensor C = compute(
      {12, 6}, [&](const std::vector<Var>& i) { return sum(A(i[0], k) * B(k, i[1]), {k}); }, "C");
  Schedule s = create_schedule({C.op()});
  Tensor AS = s.cache_read(A, "shared", {C.op()});
  auto [ko, ki] = s[C].split(C.op().as<ComputeOpNode>()->reduce_axis[0], 4);
  (void)ki;
  s[AS].compute_at(s[C], ko);
  s[AS].double_buffer();
  LowerOptions opt;
  opt.target = Target::parse("llvm");
  EXPECT_EQ(allocated(lower(s, {A, B, C}, "cpu", opt).body, "A.shared"), 4);  // one buffer: a row's k block
  Module m = build(s, {A, B, C}, "llvm", "cpu_double");
  NDArray a = random_array({12, 10}, DataType::float32(), 1), b = random_array({10, 6}, DataType::float32(), 2);
  NDArray c = NDArray::empty({12, 6}, DataType::float32());
  c.fill_poison();
  m({a, b, c});
  EXPECT_EQ(compare_arrays(c, evaluate_reference({A, B}, {a, b}, {C})[0]), "");
}

}  // namespace
}  // namespace te::testing
