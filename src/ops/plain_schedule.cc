// src/ops/plain_schedule.cc — the schedule shared by the operators whose templates are "plain"
// (pooling, depthwise conv2d, the conv2d variants, and the CUDA side of the fused-epilogue
// operators): one output stage, at most one reduction stage feeding it (or the output itself
// being the reduction), and padding stages; and its NCHWc form for blocked depthwise conv2d and
// pooling. See templates.h (schedule_plain_llvm/_cuda, schedule_blocked_llvm).
#include <algorithm>

#include "ops/templates.h"

namespace te::ops::detail {

using autotune::Config;

namespace {

// The accumulator of the reduction: with an epilogue the reduction stage itself (computed at
// the output's tile; on cuda through a "local" cache so that it is per thread), else a
// "local" cache of the output (the output stage becomes the copy-out).
Stage accumulator(Schedule& s, const Tensor& out, const Tensor& reduction, bool gpu) {
  if (!reduction.defined()) return Stage();
  if (reduction.op().get() == out.op().get()) return s[s.cache_write(out, "local")];
  if (!gpu) return s[reduction];
  // Storage at global scope inside a kernel would be shared by the block's threads; a local
  // cache read through the inlined copy is per thread: registers.
  Tensor local = s.cache_write(reduction, "local");
  s[reduction].compute_inline();
  return s[local];
}

// Reduce axes outermost, then the spatial axes of the tile, so the tile's accumulators stay
// in registers across the whole reduction.
void reduction_inside_tile(Stage acc) {
  const ComputeOpNode* op = compute_of(acc);
  std::vector<IterVar> order(op->reduce_axis.begin(), op->reduce_axis.end());
  order.insert(order.end(), op->axis.begin(), op->axis.end());
  acc.reorder(order);
}

// The padding stages: computed while reading (inline_pad), or a padded copy first — rows of the
// innermost axis as vectors in pieces of 16 (masked loads at the borders), the outermost
// `parallel_axes` axes fused and parallel.
void schedule_pads_llvm(Schedule& s, const std::vector<Tensor>& pads, bool inline_pad, bool vectorize, bool parallel,
                        size_t parallel_axes) {
  for (const Tensor& pad : pads) {
    Stage p = s[pad];
    if (inline_pad) {
      p.compute_inline();
      continue;
    }
    const ComputeOpNode* pop = compute_of(p);
    if (vectorize && pop->axis.size() > 2) p.vectorize(p.split(pop->axis.back(), 16).second);
    if (!parallel) continue;
    IterVar fused = pop->axis[0];
    for (size_t a = 1; a < parallel_axes; ++a) fused = p.fuse(fused, pop->axis[a]);
    p.parallel(fused);
  }
}

}  // namespace

void schedule_plain_llvm(Config& cfg, Schedule& s, const Tensor& out, const Tensor& reduction,
                         const std::vector<Tensor>& pads) {
  const ComputeOpNode* op = compute_of(s[out]);
  const size_t rank = op->axis.size();
  TE_ICHECK(rank >= 2, "schedule_plain_llvm needs a rank >= 2 output");
  auto extent = [&](size_t a) { return *as_const_int(op->axis[a]->dom.extent); };
  // The innermost axis is vectorized (16 floats = one AVX-512 register), the one before it
  // split into a few rows of accumulators.
  // Rows that 16 does not divide (7, 14, 28, 56 in CNNs) get the whole row as one vector
  // first (LLVM splits it into AVX-512 registers, the last one partial): a 16-wide tile would
  // leave a guarded tail that stays scalar.
  const int64_t row = extent(rank - 1);
  constexpr int64_t kMaxRowVector = 64;  // the widest vector te's vectorizer makes
  std::vector<std::vector<int64_t>> x_choices{{16}, {8}, {32}, {4}, {1}};
  if (row <= kMaxRowVector && row % 16 != 0) x_choices.insert(x_choices.begin(), {row});
  else if (row <= kMaxRowVector) x_choices.push_back({row});
  const std::vector<int64_t> tile_x = define_split_candidates(cfg, "tile_x", row, x_choices);
  const std::vector<int64_t> tile_y = define_split_candidates(cfg, "tile_y", extent(rank - 2), {{2}, {1}, {4}, {8}});
  const bool parallel = cfg.define_knob("parallel", {1, 0}) == 1;
  const bool vectorize = cfg.define_knob("vectorize", {1, 0}) == 1;
  const bool unroll = cfg.define_knob("unroll", {1, 0}) == 1;
  // 1: padding computed while reading (branches in the inner loop); 0: a padded copy first.
  const bool inline_pad = cfg.define_knob("inline_pad", {1, 0}) == 1;
  const bool nontemporal = define_nontemporal_knob(cfg, out);
  // Row tiles ahead whose input rows each row tile prefetches first (0: none). The first load of
  // each input row of a window waits on memory: the hardware prefetcher follows a row but
  // cannot guess where the next one starts (NCHW max pool B8: 3.0 → 2.4 ms with 2).
  const int64_t prefetch_ahead = cfg.define_knob("prefetch", {0, 2, 4});

  schedule_pads_llvm(s, pads, inline_pad, vectorize, parallel, 2);
  // The data the output's loops read (the computation's first input): its padded copy, or,
  // with the padding computed while reading, what the padding reads.
  Tensor data = (reduction.defined() ? reduction : out).op()->input_tensors().at(0);
  auto is_pad = [&](const Tensor& t) { return std::find(pads.begin(), pads.end(), t) != pads.end(); };
  while (inline_pad && is_pad(data)) data = data.op()->input_tensors().at(0);
  Stage acc = accumulator(s, out, reduction, false);
  Stage o = s[out];
  op = compute_of(o);
  std::vector<IterVar> ys = split_by(o, op->axis[rank - 2], tile_y), xs = split_by(o, op->axis[rank - 1], tile_x);
  std::vector<IterVar> order(op->axis.begin(), op->axis.end() - 2);
  order.insert(order.end(), {ys[0], xs[0], ys[1], xs[1]});
  o.reorder(order);
  // The outer loops down to the row tiles fused into one parallel loop.
  IterVar outer = order.front();
  for (size_t a = 1; a < rank - 1; ++a) outer = o.fuse(outer, order[a]);
  if (parallel) o.parallel(outer);
  if (nontemporal) o.pragma(outer, "nontemporal");
  if (prefetch_ahead > 0) o.prefetch(data, outer, prefetch_ahead);
  if (vectorize) o.vectorize(xs[1]);
  if (!acc.defined()) {
    if (unroll) unroll_within(o, {{ys[1], tile_y.back()}});
    return;
  }
  acc.compute_at(o, xs[0]);
  reduction_inside_tile(acc);
  const ComputeOpNode* aop = compute_of(acc);
  if (vectorize) acc.vectorize(aop->axis[rank - 1]);
  if (unroll) {
    std::vector<std::pair<IterVar, int64_t>> unrolled{{aop->axis[rank - 2], tile_y.back()}};
    const IterVar& last_r = aop->reduce_axis.back();
    unrolled.push_back({last_r, *as_const_int(last_r->dom.extent)});
    unroll_within(acc, unrolled);
  }
}

namespace {

// The default register tile along an NCHWc output row: the largest divisor of the width in
// [4, 8] (7 for 7/14/28, 8 for 56/112: no tail), else 8.
int64_t blocked_x_tile(int64_t width) {
  for (int64_t f = 8; f >= 4; --f)
    if (width % f == 0) return f;
  return 8;
}

}  // namespace

void schedule_blocked_llvm(Config& cfg, Schedule& s, const Tensor& out, const Tensor& reduction,
                           const std::vector<Tensor>& pads) {
  const ComputeOpNode* op = compute_of(s[out]);
  TE_ICHECK(op->axis.size() == 5, "schedule_blocked_llvm needs an NCHWc output [n, cb, oh, ow, block]");
  auto extent = [&](size_t a) { return *as_const_int(op->axis[a]->dom.extent); };
  const int64_t ow = extent(3), oh = extent(2);
  // Output positions per register tile: tile_y rows x tile_x columns of one channel block, each
  // a vector accumulator (up to 32 registers).
  const std::vector<int64_t> tile_x =
      define_split_candidates(cfg, "tile_x", ow, {{blocked_x_tile(ow)}, {4}, {8}, {7}, {14}, {2}, {1}, {16}});
  const std::vector<int64_t> tile_y = define_split_candidates(cfg, "tile_y", oh, {{2}, {1}, {4}});
  const bool parallel = cfg.define_knob("parallel", {1, 0}) == 1;
  const bool unroll = cfg.define_knob("unroll", {1, 0}) == 1;
  // 1: padding computed while reading (the border test is per position, the same for every lane
  // of a vector); 0: a padded copy first.
  const bool inline_pad = cfg.define_knob("inline_pad", {1, 0}) == 1;
  const bool nontemporal = define_nontemporal_knob(cfg, out);

  schedule_pads_llvm(s, pads, inline_pad, true, parallel, 3);
  Stage acc = accumulator(s, out, reduction, false);
  Stage o = s[out];
  op = compute_of(o);  // a cache_write replaced the output's operation
  std::vector<IterVar> ys = split_by(o, op->axis[2], tile_y), xs = split_by(o, op->axis[3], tile_x);
  o.reorder({op->axis[0], op->axis[1], ys[0], xs[0], ys[1], xs[1], op->axis[4]});
  // (n, channel block, row tile): enough parallel work even for one image of 32 channels.
  IterVar outer = o.fuse(o.fuse(op->axis[0], op->axis[1]), ys[0]);
  if (parallel) o.parallel(outer);
  if (nontemporal) o.pragma(outer, "nontemporal");
  o.vectorize(op->axis[4]);
  if (!acc.defined()) return;
  acc.compute_at(o, xs[0]);
  reduction_inside_tile(acc);
  const ComputeOpNode* aop = compute_of(acc);
  acc.vectorize(aop->axis[4]);
  if (unroll) {
    // The tile first (its accumulators become registers), then the window taps.
    std::vector<std::pair<IterVar, int64_t>> unrolled{{aop->axis[3], tile_x.back()}, {aop->axis[2], tile_y.back()}};
    for (size_t r = aop->reduce_axis.size(); r-- > 0;)
      unrolled.push_back({aop->reduce_axis[r], *as_const_int(aop->reduce_axis[r]->dom.extent)});
    unroll_within(acc, unrolled, 256);
  }
}

void schedule_plain_cuda(Config& cfg, Schedule& s, const Tensor& out, const Tensor& reduction,
                         const std::vector<Tensor>& pads, const std::string& op_name) {
  const std::vector<int64_t> threads_choice{128, 64, 256, 32, 512, 1024};
  const int64_t threads = threads_choice[size_t(cfg.define_knob("threads", {0, 1, 2, 3, 4, 5}))];
  // Consecutive outputs along the innermost axis per thread (they share input reads).
  const std::vector<int64_t> elems_choice{1, 2, 4};
  const int64_t elems = elems_choice[size_t(cfg.define_knob("elems", {0, 1, 2}))];
  const bool unroll = cfg.define_knob("unroll", {1, 0}) == 1;
  if (threads > kMaxThreadsPerBlock)
    fail(op_name, " cuda: config ", cfg.to_string(), " needs ", threads, " threads per block; the limit is ",
         kMaxThreadsPerBlock);
  // The padding is computed while reading (a kernel has no room for a stage at root).
  for (const Tensor& pad : pads) s[pad].compute_inline();
  Stage acc = accumulator(s, out, reduction, true);
  Stage o = s[out];
  const ComputeOpNode* op = compute_of(o);
  const size_t rank = op->axis.size();
  auto [x_outer, x_inner] = o.split(op->axis[rank - 1], elems);
  IterVar fused = op->axis.front();
  for (size_t a = 1; a + 1 < rank; ++a) fused = o.fuse(fused, op->axis[a]);
  if (rank > 1) fused = o.fuse(fused, x_outer);
  auto [block, thread] = o.split(fused, threads);
  o.bind(block, thread_axis("blockIdx.x"));
  o.bind(thread, thread_axis("threadIdx.x"));
  if (!acc.defined()) {
    if (unroll) o.unroll(x_inner);
    return;
  }
  if (unroll) o.unroll(x_inner);
  acc.compute_at(o, thread);
  reduction_inside_tile(acc);
  if (unroll) {
    const ComputeOpNode* aop = compute_of(acc);
    std::vector<std::pair<IterVar, int64_t>> unrolled{{aop->axis.back(), elems}};
    const IterVar& last_r = aop->reduce_axis.back();
    unrolled.push_back({last_r, *as_const_int(last_r->dom.extent)});
    unroll_within(acc, unrolled);
  }
}

}  // namespace te::ops::detail
