// src/ops/conv3d_blocked.cc — the CPU schedule of the "conv3d" template: conv2d's blocked
// structure (conv2d.cc, conv2d_llvm) with a depth axis. The plain schedule vectorized x alone and
// reached 31–42% of the FMA peak on the ansor-ops C3D layer; here the accumulators are a
// register tile of tk/16 blocks of 16 output channels x ty rows x tx pixels, as in conv2d.
//
//   wpack[kb, c, t, r, s, kk]       = weight[kb*16 + kk, c, t, r, s]   (0 past the last filter)
//   blk[n, kb, z, y, x, kk]         = sum_{c, t, r, s} padded[n, c, z*st + t, y*st + r, x*st + s]
//                                                      * wpack[kb, c, t, r, s, kk]
//   out[n, k, z, y, x]              = blk[n, k / 16, z, y, x, k % 16]
//
// The weight arrives in KCTRS (the operator's signature) and is packed by a stage of the kernel
// (one parallel loop over the filter blocks, a small share of the time: C3D's weight is 432 KiB
// against 1.4 GFLOP). The output is tiled over (k, y, x) inside (n, z); each tile's blocked
// convolution is computed at the tile with the reduction outside it, then unpacked.
#include "ops/templates.h"
#include "te/ops.h"

namespace te::ops::detail {

autotune::Instance conv3d_blocked_llvm(autotune::Config& cfg, const Conv3dShape& cs) {
  const int64_t od = cs.out_extent(cs.d, cs.t), oh = cs.out_extent(cs.h, cs.r), ow = cs.out_extent(cs.w, cs.s);
  const std::vector<int64_t> tile_k = define_split_candidates(cfg, "tile_k", cs.k, {{16}, {32}, {64}});
  const std::vector<int64_t> tile_y = define_split_candidates(cfg, "tile_y", oh, {{2}, {1}, {4}, {7}});
  const std::vector<int64_t> tile_x =
      define_split_candidates(cfg, "tile_x", ow, {{register_x_tile(ow)}, {7}, {14}, {8}, {4}, {16}, {28}});
  const std::vector<int64_t> tile_c = define_split_candidates(cfg, "tile_c", cs.c, {{16}, {8}, {32}, {4}, {1}});
  // 0: (c_outer, t, r, s, c_inner), 1: (c_outer, c_inner, t, r, s) — both outside the tile.
  const int64_t reduce_order = cfg.define_knob("reduce_order", {0, 1});
  // 0: channel tiles outside the row tiles; 1: row tiles outside (as conv2d's "order").
  const int64_t order = cfg.define_knob("order", {0, 1});
  const bool inline_pad = cfg.define_knob("inline_pad", {0, 1}) == 1;
  const bool unroll = cfg.define_knob("unroll", {1, 0}) == 1;
  const bool parallel = cfg.define_knob("parallel", {1, 0}) == 1;
  // 1: the unpack into NCDHW vectorized along x (contiguous stores, strided reads of the tile).
  const bool vectorize_unpack = cfg.define_knob("vectorize_unpack", {1, 0}) == 1;

  const int64_t block = kConv2dChannelBlock, blocks = (cs.k + block - 1) / block;
  Tensor data = placeholder({cs.n, cs.c, cs.d, cs.h, cs.w}, DataType::float32(), "data");
  Tensor weight = placeholder({cs.k, cs.c, cs.t, cs.r, cs.s}, DataType::float32(), "weight");
  Tensor wpack = compute(
      {blocks, cs.c, cs.t, cs.r, cs.s, block},
      [&](const std::vector<Var>& i) {
        Expr f = i[0] * block + i[5];
        Expr w = weight(f, i[1], i[2], i[3], i[4]);
        return cs.k % block == 0 ? w : if_then_else(f < cs.k, w, constant(0.0, weight.dtype()));
      },
      "weight_packed");
  Tensor input = pad_axes(data, {2, 3, 4}, cs.pad, "conv3d");
  IterVar rc = reduce_axis(Range(0, cs.c), "rc"), rz = reduce_axis(Range(0, cs.t), "rz");
  IterVar ry = reduce_axis(Range(0, cs.r), "ry"), rx = reduce_axis(Range(0, cs.s), "rx");
  const int64_t st = cs.stride;
  Tensor blk = compute(
      {cs.n, blocks, od, oh, ow, block},
      [&](const std::vector<Var>& i) {
        return sum(input(i[0], rc, i[2] * st + rz, i[3] * st + ry, i[4] * st + rx) * wpack(i[1], rc, rz, ry, rx, i[5]),
                   {rc, rz, ry, rx});
      },
      "conv3d_blk");
  Tensor out = compute(
      {cs.n, cs.k, od, oh, ow},
      [&](const std::vector<Var>& i) {
        return blk(i[0], floordiv(i[1], block), i[2], i[3], i[4], floormod(i[1], block));
      },
      "conv3d");

  Schedule s = create_schedule({out.op()});
  Stage pack = s[wpack];
  pack.vectorize(compute_of(pack)->axis[5]);
  if (parallel) pack.parallel(compute_of(pack)->axis[0]);
  if (cs.pad > 0) {
    Stage pad_stage = s[input];
    const ComputeOpNode* pad_op = compute_of(pad_stage);
    if (inline_pad)
      pad_stage.compute_inline();
    else if (parallel)
      pad_stage.parallel(pad_stage.fuse(pad_op->axis[0], pad_op->axis[1]));
  }

  Stage o = s[out];
  const ComputeOpNode* op = compute_of(o);
  std::vector<IterVar> ks = split_by(o, op->axis[1], tile_k), ys = split_by(o, op->axis[3], tile_y),
                       xs = split_by(o, op->axis[4], tile_x);
  const IterVar &n = op->axis[0], &z = op->axis[2];
  std::vector<IterVar> tiles = order == 0 ? std::vector<IterVar>{n, z, ks[0], ys[0], xs[0], ks[1], ys[1], xs[1]}
                                          : std::vector<IterVar>{n, z, ys[0], ks[0], xs[0], ks[1], ys[1], xs[1]};
  o.reorder(tiles);
  if (parallel) o.parallel(o.fuse(o.fuse(n, z), tiles[2]));
  if (vectorize_unpack) o.vectorize(xs[1]);

  Stage b = s[blk];
  b.compute_at(o, xs[0]);
  const ComputeOpNode* bop = compute_of(b);
  std::vector<IterVar> cs_axes = split_by(b, bop->reduce_axis[0], tile_c);
  const IterVar &bz = bop->reduce_axis[1], &by = bop->reduce_axis[2], &bx = bop->reduce_axis[3];
  std::vector<IterVar> order_blk = reduce_order == 0 ? std::vector<IterVar>{cs_axes[0], bz, by, bx, cs_axes[1]}
                                                     : std::vector<IterVar>{cs_axes[0], cs_axes[1], bz, by, bx};
  // n, z, y, x, kb, kk: the channel blocks innermost, so each broadcast input feeds the tile's
  // tk/16 FMAs at once (conv2d_llvm's order).
  for (const IterVar& axis : {bop->axis[0], bop->axis[2], bop->axis[3], bop->axis[4], bop->axis[1], bop->axis[5]})
    order_blk.push_back(axis);
  b.reorder(order_blk);
  b.vectorize(bop->axis[5]);
  if (unroll) {
    const int64_t blocks_per_tile = std::max<int64_t>(1, std::min(tile_k.back(), cs.k) / block);
    unroll_within(b, {{bop->axis[1], blocks_per_tile},
                      {bop->axis[4], std::min(tile_x.back(), ow)},
                      {bop->axis[3], std::min(tile_y.back(), oh)}});
  }
  return {s, {data, weight, out}};
}

}  // namespace te::ops::detail
