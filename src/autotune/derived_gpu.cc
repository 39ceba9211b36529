// src/autotune/derived_gpu.cc — GPU ("cuda") structures of the derived space, following the
// patterns of tests/cpp/test_cuda_schedules.cc (shared tiles with cooperative loads).
//
// Anchor (prefix = the anchor's name):
//   tile_<axis>  spatial axes: [-1, thread, inner2, inner3] (kCandidates: thread a power of
//                two capped so that the block never exceeds 1024 threads, inner sizes 1/2/4,
//                or 1/2 with three or more non-trivial axes); reduction axes: [-1, r1, r2]
//                (r1 a power of two <= 16, r2 in 1/2/4, r1*r2 <= 16).
//   vthread      1/2: with 2, each spatial axis whose inner2 is even gets a vthread level
//                between the block and thread loops of the copy-out stage: the block's tile
//                is the same, but a thread owns 2 pieces of inner2/2 x inner3 elements,
//                thread x inner elements apart, instead of one contiguous piece (TVM's
//                strided register tiles; src/lower/inject_virtual_thread.cc unrolls them
//                inside the thread, and the local accumulator gets one slice per virtual
//                thread). Other axes stay as with 1.
//   unroll       0/16/64: unroll the innermost inner3/r2 loops within that product.
//   stage_inputs 1/0: stage the anchor's inputs in shared memory (see below) or not.
//   double_buffer 0/1: with staged inputs, double-buffer their shared tiles
//                (Stage::double_buffer: the next r0 step's copy in flight during this one —
//                cp.async on sm_80 and newer, registers below); over
//                kMaxDoubleBufferRegisters per thread, or without staged inputs, the config is
//                invalid.
// Structure: the copy-out stage (the anchor itself when it is the output, else the fused
// consumer, with the anchor's copy inlined) is split per axis into block/thread/inner, the
// block parts fused and bound to blockIdx.x, the thread parts fused and bound to threadIdx.x.
// The reduction runs in an accumulator made by cache_write:
//   stage_inputs=0: "local", computed at the thread loop: r0.. r1.. inner2.. r2.. inner3..
//                   over one thread's tile, inputs read from global memory;
//   stage_inputs=1: "shared", computed at the block loop over the block's tile, with its own
//                   thread loop (bound to threadIdx.x) outside r0.. r1.. inner2.. r2..
//                   inner3..; each input is cached in "shared" at the last r0 loop and
//                   loaded cooperatively (axes fused, split by the block's thread count, the
//                   inner part bound to threadIdx.x), as in test_cuda_schedules.cc.
//   (The usual register tile — "local" at the thread loop with shared input caches inside it
//   — needs bound inference to relax thread loops of the stages a stage is nested in, not
//   only of its direct parent; src/schedule/bound.cc does not yet, so the input tiles would
//   be per thread.)
// Checked after scheduling (te::Error, the search skips the config): the shared buffers fit
// in 48 KiB (static shared memory per block).
//
// Reduction to a scalar (no spatial axis): one block; the reduction axes fused, split by a
// thread-count knob (threads: 32..1024), the inner part bound to threadIdx.x — a cross-thread
// reduction. A scalar element-wise consumer cannot be bound and is refused.
//
// Element-wise root stage: all axes fused, split by a thread-count knob (threads: 32..1024),
// bound to blockIdx.x / threadIdx.x.
#include <algorithm>
#include <cmath>

#include "autotune/derived_space.h"
#include "ir/simplify.h"
#include "lower/inject_double_buffer.h"

namespace te::autotune::derived {
namespace {

constexpr int64_t kMaxThreadsPerBlock = 1024;
constexpr int64_t kMaxSharedBytes = 48 * 1024;

std::vector<std::vector<int64_t>> spatial_candidates(int64_t extent, int nontrivial_axes) {
  // Per-axis thread cap: the largest power of two whose nontrivial_axes-th power <= 1024.
  int64_t thread_cap = 1;
  if (extent > 1) {
    double root = std::pow(double(kMaxThreadsPerBlock), 1.0 / std::max(nontrivial_axes, 1));
    while (thread_cap * 2 <= int64_t(root + 1e-9)) thread_cap *= 2;
  }
  const std::vector<int64_t> inner = nontrivial_axes >= 3 ? std::vector<int64_t>{1, 2} : std::vector<int64_t>{1, 2, 4};
  std::vector<std::vector<int64_t>> candidates;
  for (int64_t t = 1; t <= thread_cap; t *= 2)
    for (int64_t a : inner)
      for (int64_t b : inner)
        if (t * a * b <= extent) candidates.push_back({-1, t, a, b});
  return candidates;
}

std::vector<std::vector<int64_t>> reduce_candidates(int64_t extent) {
  const int64_t limit = std::min<int64_t>(16, extent);
  std::vector<std::vector<int64_t>> candidates;
  for (int64_t r1 = 1; r1 <= 16; r1 *= 2)
    for (int64_t r2 : {1, 2, 4})
      if (r1 * r2 <= limit) candidates.push_back({-1, r1, r2});
  return candidates;
}

// The elements of each shared tile (te::Error when one is not constant).
std::vector<int64_t> shared_elements(const Schedule& sch, const std::vector<Tensor>& caches) {
  BoundMap bounds = infer_bound(sch);
  std::vector<int64_t> sizes;
  for (const Tensor& cache : caches) {
    const auto* op = sch[cache]->op.as<ComputeOpNode>();
    int64_t elements = 1;
    for (const IterVar& iv : op->axis) {
      auto it = bounds.find(iv.get());
      const std::optional<int64_t> extent = it == bounds.end() ? std::nullopt : simplify_to_const(it->second.extent);
      if (!extent)
        fail("derived space for cuda: the shared tile of ", cache.name(),
             " has a non-constant size; this config cannot be staged in shared memory");
      elements *= *extent;
    }
    sizes.push_back(elements);
  }
  return sizes;
}

// A reduction to a scalar: one block, its threads splitting the (fused) reduction axes — a
// cross-thread reduction (each thread folds every threads-th element, then warp shuffles and
// shared memory combine the threads; see src/codegen/cuda).
void schedule_scalar_reduction_gpu(Config& cfg, Plan& plan) {
  Stage anchor = plan.anchor;
  const std::string name = anchor->op->name;
  const auto* op = anchor->op.as<ComputeOpNode>();
  if (plan.fused_consumer.defined())
    fail("derived space for cuda: stage ", name, " reduces to a scalar read by element-wise stage ",
         plan.fused_consumer->op->name, ", which (a scalar too) has no loop to bind to GPU threads; tune it for "
         "llvm, or fold the element-wise part into the reduction's output");
  int64_t total = 1;
  for (const IterVar& iv : op->reduce_axis) total *= const_extent(iv, name);
  std::vector<int64_t> choices;
  for (int64_t t = 32; t <= kMaxThreadsPerBlock; t *= 2)
    if (t == 32 || t <= next_pow2(total)) choices.push_back(t);
  const int64_t threads = cfg.define_knob(prefix(plan, anchor) + ".threads", choices);
  IterVar all = fuse_all(anchor, op->reduce_axis);
  auto [rest, lane] = anchor.split(all, threads);
  (void)rest;
  anchor.bind(lane, thread_axis("threadIdx.x"));
}

}  // namespace

void schedule_anchor_gpu(Config& cfg, Plan& plan) {
  Stage anchor = plan.anchor;
  const std::string name = anchor->op->name;
  const auto* op = anchor->op.as<ComputeOpNode>();
  const size_t num_spatial = op->axis.size(), num_reduce = op->reduce_axis.size();
  if (num_spatial == 0) return schedule_scalar_reduction_gpu(cfg, plan);

  // ---- knobs
  int nontrivial = 0;
  for (const IterVar& iv : op->axis) nontrivial += const_extent(iv, name) > 1;
  std::vector<std::vector<int64_t>> spatial_sizes, reduce_sizes;
  for (size_t i = 0; i < num_spatial; ++i) {
    SplitOptions options;
    options.policy = SplitPolicy::kCandidates;
    options.candidates = spatial_candidates(const_extent(op->axis[i], name), nontrivial);
    spatial_sizes.push_back(cfg.define_split(axis_knob(plan, anchor, "tile", op->axis[i], i),
                                             const_extent(op->axis[i], name), 4, options));
  }
  for (size_t r = 0; r < num_reduce; ++r) {
    SplitOptions options;
    options.policy = SplitPolicy::kCandidates;
    options.candidates = reduce_candidates(const_extent(op->reduce_axis[r], name));
    reduce_sizes.push_back(cfg.define_split(axis_knob(plan, anchor, "tile", op->reduce_axis[r], num_spatial + r),
                                            const_extent(op->reduce_axis[r], name), 3, options));
  }
  const int64_t unroll = cfg.define_knob(prefix(plan, anchor) + ".unroll", {0, 16, 64});
  const bool stage_inputs = cfg.define_knob(prefix(plan, anchor) + ".stage_inputs", {1, 0}) != 0;
  const int64_t vthread = cfg.define_knob(prefix(plan, anchor) + ".vthread", {1, 2});
  const bool double_buffer = cfg.define_knob(prefix(plan, anchor) + ".double_buffer", {0, 1}) != 0;
  if (double_buffer && !stage_inputs)
    fail("derived space for cuda: stage ", name, ": double_buffer applies to staged inputs (stage_inputs 1)");

  int64_t threads = 1;
  for (const auto& sizes : spatial_sizes) threads *= sizes[1];
  if (threads > kMaxThreadsPerBlock)
    fail("derived space for cuda: stage ", name, " would use ", threads, " threads per block, more than ",
         kMaxThreadsPerBlock);

  // ---- caches (before any loop primitive on the anchor)
  Schedule& sch = plan.schedule;
  std::vector<Tensor> inputs = op->input_tensors();
  Tensor accumulator = sch.cache_write(anchor->op.output(0), stage_inputs ? "shared" : "local");
  Stage compute = sch[accumulator];
  std::vector<Tensor> shared;
  if (stage_inputs) {
    shared.push_back(accumulator);  // counted in the shared-memory check
    for (const Tensor& input : inputs) shared.push_back(sch.cache_read(input, "shared", {compute->op}));
  }
  Stage outer = anchor;  // the copy out of the accumulator
  if (plan.fused_consumer.defined()) {
    anchor.compute_inline();
    outer = plan.fused_consumer;
  }

  // ---- the copy-out stage: block / thread / inner per axis
  const auto* outer_op = outer->op.as<ComputeOpNode>();
  TE_ICHECK(outer_op->axis.size() == num_spatial, "derived space: copy-out stage of ", name, " has another rank");
  std::vector<IterVar> block, virtual_threads, thread, inner;
  for (size_t i = 0; i < num_spatial; ++i) {
    const std::vector<int64_t>& s = spatial_sizes[i];
    const int64_t v = s[2] % vthread == 0 ? vthread : 1;
    std::vector<IterVar> parts = v > 1 ? split_by_sizes(outer, outer_op->axis[i], {-1, v, s[1], s[2] / v * s[3]})
                                       : split_by_sizes(outer, outer_op->axis[i], {-1, s[1], s[2] * s[3]});
    block.push_back(parts[0]);
    if (v > 1) virtual_threads.push_back(parts[1]);
    thread.push_back(parts[parts.size() - 2]);
    inner.push_back(parts.back());
  }
  std::vector<IterVar> order = block;
  order.insert(order.end(), virtual_threads.begin(), virtual_threads.end());
  order.insert(order.end(), thread.begin(), thread.end());
  order.insert(order.end(), inner.begin(), inner.end());
  outer.reorder(order);
  IterVar block_fused = fuse_all(outer, block);
  outer.bind(block_fused, thread_axis("blockIdx.x"));
  for (const IterVar& v : virtual_threads) outer.bind(v, thread_axis("vthread"));
  IterVar thread_fused = fuse_all(outer, thread);
  outer.bind(thread_fused, thread_axis("threadIdx.x"));

  // ---- the accumulator: [threads] r0 r1 inner2 r2 inner3
  // Bound inference relaxes thread loops only within the stage a cache is attached to, so
  // with input staging the accumulator covers the block's tile (at the block loop, in shared
  // memory) and binds its own thread loop; the input caches attached at its r0 loop then
  // hold the whole block's tiles. Without staging it is a per-thread local tile.
  compute.compute_at(outer, stage_inputs ? block_fused : thread_fused);
  const auto* compute_op = compute->op.as<ComputeOpNode>();
  std::vector<IterVar> own_threads, r0, r1, r2, i2, i3;
  std::vector<int64_t> r2_extent, i3_extent;
  for (size_t r = 0; r < num_reduce; ++r) {
    std::vector<IterVar> parts = split_by_sizes(compute, compute_op->reduce_axis[r], reduce_sizes[r]);
    r0.push_back(parts[0]);
    r1.push_back(parts[1]);
    r2.push_back(parts[2]);
    r2_extent.push_back(reduce_sizes[r][2]);
  }
  for (size_t i = 0; i < num_spatial; ++i) {
    const std::vector<int64_t>& s = spatial_sizes[i];
    std::vector<IterVar> parts = stage_inputs ? split_by_sizes(compute, compute_op->axis[i], {-1, s[2], s[3]})
                                              : split_by_sizes(compute, compute_op->axis[i], {-1, s[3]});
    if (stage_inputs) own_threads.push_back(parts[0]);
    i2.push_back(parts[parts.size() - 2]);
    i3.push_back(parts.back());
    i3_extent.push_back(s[3]);
  }
  std::vector<IterVar> inner_order = own_threads;
  for (const auto* level : {&r0, &r1, &i2, &r2, &i3})
    inner_order.insert(inner_order.end(), level->begin(), level->end());
  compute.reorder(inner_order);
  if (stage_inputs) compute.bind(fuse_all(compute, own_threads), thread_axis("threadIdx.x"));

  // ---- shared input caches: loaded once per r0 step by all threads of the block
  for (size_t c = 1; c < shared.size(); ++c) {
    Stage load = sch[shared[c]];
    load.compute_at(compute, r0.back());
    const auto* load_op = load->op.as<ComputeOpNode>();
    IterVar all = fuse_all(load, load_op->axis);
    auto [rest, lane] = load.split(all, threads);
    (void)rest;
    load.bind(lane, thread_axis("threadIdx.x"));
  }

  std::vector<IterVar> unroll_leaves = r2;
  std::vector<int64_t> unroll_extents = r2_extent;
  unroll_leaves.insert(unroll_leaves.end(), i3.begin(), i3.end());
  unroll_extents.insert(unroll_extents.end(), i3_extent.begin(), i3_extent.end());
  if (unroll > 0) unroll_innermost(compute, unroll_leaves, unroll_extents, unroll);

  int64_t bytes = 0;
  if (!shared.empty()) {
    std::vector<int64_t> elements = shared_elements(sch, shared);
    for (size_t c = 0; c < shared.size(); ++c) {
      // shared[0] is the accumulator; the inputs' tiles get a second buffer when double-buffered.
      const bool doubled = double_buffer && c > 0;
      if (doubled && (elements[c] + threads - 1) / threads > kMaxDoubleBufferRegisters)
        fail("derived space for cuda: stage ", name, ": double-buffering the shared tile of ", shared[c].name(),
             " (", elements[c], " elements over ", threads, " threads) needs more than ", kMaxDoubleBufferRegisters,
             " registers per thread");
      if (doubled) sch[shared[c]].double_buffer();
      bytes += elements[c] * shared[c].dtype().bytes() * (doubled ? 2 : 1);
    }
  }
  if (bytes > kMaxSharedBytes)
    fail("derived space for cuda: stage ", name, " would keep ", bytes, " bytes in shared memory, more than ",
         kMaxSharedBytes, "; smaller thread/inner/reduction tiles are needed");
}

void schedule_elementwise_gpu(Config& cfg, Plan& plan, Stage stage) {
  const auto* op = stage->op.as<ComputeOpNode>();
  if (op->axis.empty())
    fail("derived space for cuda: stage ", stage->op->name, " is a scalar; nothing to bind to GPU threads");
  int64_t total = 1;
  for (const IterVar& iv : op->axis) total *= const_extent(iv, stage->op->name);
  std::vector<int64_t> choices;
  for (int64_t t = 32; t <= kMaxThreadsPerBlock; t *= 2)
    if (t == 32 || t <= next_pow2(total)) choices.push_back(t);
  int64_t threads = cfg.define_knob(prefix(plan, stage) + ".threads", choices);
  IterVar all = fuse_all(stage, op->axis);
  auto [block, lane] = stage.split(all, threads);
  stage.bind(block, thread_axis("blockIdx.x"));
  stage.bind(lane, thread_axis("threadIdx.x"));
}

}  // namespace te::autotune::derived
