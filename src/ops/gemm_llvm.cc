// src/ops/gemm_llvm.cc — the one CPU schedule of the GEMM templates ("matmul", "batch_matmul",
// "dense_bias", "dense_bias_gelu"): every GEMM gets the same choices, the knobs are defined in
// the same order with the same names, and a choice only ever appended (never inserted or
// removed), so every committed record of the three templates keeps its meaning (loaded by
// config and by steps in OpsMatmul.CommittedGemmRecordsLoadByConfigAndSteps).
//
// The structure (see templates.h, GemmLlvm): C is tiled into tile_i x tile_j register tiles
// over B packed into kGemmPanelWidth-column panels (packedB[(b,) j / 32][k][j % 32]) so the
// vectorized inner loop reads one panel row per k and broadcasts one A element per row.
//   cache path (cache_write = 1, or an epilogue: the reduction is computed at the output's
//   tile): the tile_i x tile_j accumulators live in registers for the whole k loop (k split by
//   tile_k outside the tile), then the tile is stored (with the epilogue applied for dense);
//   no-cache path: C itself accumulates, the k blocks outside the row tiles (order 2: panels,
//   k blocks, row tiles — oneDNN's outer k blocking: a tile_k x tile_j block of packed B stays
//   in L1 while every row tile streams its k-slice of A; LLVM keeps the C tile in registers
//   within a k block).
// pack_b: 1 packs B whole before C (its own parallel loop), 0 inlines the packing (C reads B),
// 2 packs B block by block where it is used (the accumulator's k-block loop on the cache path;
// on the no-cache path the k-block loop in order 2, the column-panel loop otherwise), so the
// packed block is written and read while in cache.
#include "ops/templates.h"

namespace te::ops::detail {

namespace {

// The knobs, in the order every GEMM template has always defined them.
struct GemmChoices {
  std::vector<int64_t> tile_i, tile_j, tile_k;
  bool cache = true;
  int64_t pack_mode = 1, order = 0;
  bool unroll_i = true, unroll_k = true, vectorize = true, parallel = true;
  bool prefetch_b = false;
};

GemmChoices define_gemm_knobs(autotune::Config& cfg, int64_t m, int64_t n, int64_t k, bool cache_knob) {
  GemmChoices c;
  // Register tile: 8 rows x 32 columns (two AVX-512 vectors per row) by default; 6 rows
  // (6 x 64 = 24 accumulators, oneDNN's AVX-512 shape) appended.
  c.tile_i = define_split_candidates(cfg, "tile_i", m, {{8}, {4}, {16}, {2}, {1}, {32}, {6}});
  c.tile_j = define_split_candidates(cfg, "tile_j", n, {{32}, {16}, {64}, {8}, {1}});
  // k blocks 256 (dense), 128, 32 and 512 appended in that order.
  c.tile_k = define_split_candidates(cfg, "tile_k", k, {{4}, {1}, {8}, {16}, {64}, {256}, {128}, {32}, {512}});
  // An operator with an epilogue has no cache_write knob: its reduction is always the
  // accumulator of the epilogue's tile (the cache path).
  if (cache_knob) c.cache = cfg.define_knob("cache_write", {1, 0}) == 1;
  c.pack_mode = cfg.define_knob("pack_b", {1, 0, 2});
  // Cache path — 0: column panels outermost (a panel of packed B stays in L2 for every row
  // tile); 1: row tiles outermost; 2: panels and row tiles fused into one parallel loop.
  // No-cache path — 0, 1 as above with C's k blocks inside the tile loops; 2: panels, then k
  // blocks, then row tiles.
  c.order = cfg.define_knob("order", {0, 1, 2});
  c.unroll_i = cfg.define_knob("unroll_i", {1, 0}) == 1;
  c.unroll_k = cfg.define_knob("unroll_k", {1, 0}) == 1;
  c.vectorize = cfg.define_knob("vectorize_j", {1, 0}) == 1;
  c.parallel = cfg.define_knob("parallel", {1, 0}) == 1;
  // Prefetch the next block of B (the rows the loop that packs or reads B reads next), spread
  // over the iterations of the loop inside it (oneDNN's kernels do the same): B's trip from
  // memory, a quarter of the 128-row GEMMs' time when the pack waits on it, overlaps the
  // micro-kernels. Appended last; no effect with pack_b 1 (B packed whole, in its own loop).
  c.prefetch_b = cfg.define_knob("prefetch_b", {0, 1}) == 1;
  return c;
}

// Unrolls the row loop and the inner k loop (bounded), splits a tile wider than a panel into
// whole panels and vectorizes the lanes: the register tile's inner loops.
void schedule_micro_kernel(Stage stage, const GemmChoices& c, const IterVar& rows, const IterVar& k_inner,
                           const IterVar& cols, int64_t m, int64_t k) {
  IterVar lanes = split_panel_tile(stage, cols, c.tile_j.back(), kGemmPanelWidth, c.vectorize);
  std::vector<std::pair<IterVar, int64_t>> unrolled;
  if (c.unroll_i) unrolled.push_back({rows, std::min(c.tile_i.back(), m)});
  if (c.unroll_k) unrolled.push_back({k_inner, std::min(c.tile_k.back(), k)});
  unroll_within(stage, unrolled);
  if (c.vectorize) stage.vectorize(lanes);
}

// prefetch_b: at `at` (the loop of `stage` whose body packs or reads B block by block), the next
// iteration's B spread over the iterations of the leaf right inside it.
void prefetch_next_b_block(Stage stage, const IterVar& at, const Tensor& b) {
  const std::vector<IterVar>& leaves = stage->leaf_iter_vars;
  for (size_t j = 0; j + 1 < leaves.size(); ++j)
    if (leaves[j].get() == at.get()) return stage.prefetch(b, at, 1, leaves[j + 1]);
}

}  // namespace

void schedule_gemm_llvm(autotune::Config& cfg, Schedule& s, const GemmLlvm& g) {
  const size_t b = g.batched ? 1 : 0;  // the batch axis, when there is one, comes first
  const GemmChoices c = define_gemm_knobs(cfg, g.m, g.n, g.k, !g.epilogue.defined());

  Stage pack_stage = s[g.packed];
  const Tensor b_source = g.packed.op()->input_tensors().at(0);  // B (its pack reads nothing else)
  if (c.pack_mode != 0) {
    const ComputeOpNode* pack_op = compute_of(pack_stage);
    if (c.vectorize) pack_stage.vectorize(pack_op->axis.back());
    // A whole-B pack is its own parallel loop (a blocked one runs inside C's parallel loop).
    if (c.parallel && c.pack_mode == 1)
      pack_stage.parallel(g.batched ? pack_stage.fuse(pack_op->axis[0], pack_op->axis[1]) : pack_op->axis[0]);
  } else {
    pack_stage.compute_inline();
  }

  if (c.cache) {
    // The accumulator: a local cache of C (cache_write comes before any other primitive on
    // C), or C itself computed at the epilogue's tile.
    Tensor out_tensor = g.epilogue.defined() ? g.epilogue : g.c;
    Stage acc = g.epilogue.defined() ? s[g.c] : s[s.cache_write(g.c, "local")];
    Stage out = s[out_tensor];
    const ComputeOpNode* op = compute_of(out);
    std::vector<IterVar> is = split_by(out, op->axis[b], c.tile_i), js = split_by(out, op->axis[b + 1], c.tile_j);
    const bool rows_outer = c.order == 1;
    std::vector<IterVar> order = rows_outer ? std::vector<IterVar>{is[0], js[0], is[1], js[1]}
                                            : std::vector<IterVar>{js[0], is[0], is[1], js[1]};
    if (g.batched) order.insert(order.begin(), op->axis[0]);
    out.reorder(order);
    IterVar outer = rows_outer ? is[0] : js[0], tile_loop = rows_outer ? js[0] : is[0];
    if (g.batched) outer = out.fuse(op->axis[0], outer);
    if (c.order == 2) outer = tile_loop = out.fuse(outer, is[0]);
    if (c.vectorize) out.vectorize(js[1]);
    if (c.parallel) out.parallel(outer);

    acc.compute_at(out, tile_loop);
    const ComputeOpNode* acc_op = compute_of(acc);
    std::vector<IterVar> ks = split_by(acc, acc_op->reduce_axis[0], c.tile_k);
    // k outside the tile: the accumulators stay in registers for the whole k loop.
    acc.reorder({ks[0], ks[1], acc_op->axis[b], acc_op->axis[b + 1]});
    // Only the reduction's direct consumer loops can hold the packing (bound inference
    // follows one consumer edge), so here it is repacked per row tile: right when m fits a
    // tile (BERT's 128 rows with order 0).
    if (c.pack_mode == 2) pack_stage.compute_at(acc, ks[0]);
    schedule_micro_kernel(acc, c, acc_op->axis[b], ks[1], acc_op->axis[b + 1], g.m, g.k);
    if (c.prefetch_b && c.pack_mode != 1) prefetch_next_b_block(acc, ks[0], b_source);
    return;
  }

  Stage out = s[g.c];
  const ComputeOpNode* op = compute_of(out);
  std::vector<IterVar> is = split_by(out, op->axis[b], c.tile_i), js = split_by(out, op->axis[b + 1], c.tile_j);
  std::vector<IterVar> ks = split_by(out, op->reduce_axis[0], c.tile_k);
  std::vector<IterVar> order;
  if (c.order == 0) order = {js[0], is[0], ks[0], ks[1], is[1], js[1]};
  if (c.order == 1) order = {is[0], js[0], ks[0], ks[1], is[1], js[1]};
  if (c.order == 2) order = {js[0], ks[0], is[0], ks[1], is[1], js[1]};
  if (g.batched) order.insert(order.begin(), op->axis[0]);
  out.reorder(order);
  schedule_micro_kernel(out, c, is[1], ks[1], js[1], g.m, g.k);
  IterVar outer = c.order == 1 ? is[0] : js[0];
  if (g.batched) outer = out.fuse(op->axis[0], outer);
  if (c.parallel) out.parallel(outer);
  // The column-panel loop (fused with the batch in orders 0 and 2) or, in order 2, the k
  // block inside it.
  IterVar pack_at = c.order == 2 ? ks[0] : (g.batched && c.order == 0 ? outer : js[0]);
  if (c.pack_mode == 2) pack_stage.compute_at(out, pack_at);
  if (c.prefetch_b && c.pack_mode != 1) prefetch_next_b_block(out, c.pack_mode == 2 ? pack_at : ks[0], b_source);
}

}  // namespace te::ops::detail
