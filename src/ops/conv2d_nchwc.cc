// src/ops/conv2d_nchwc.cc — the blocked conv2d (NCHW[x]c data, OIHW[x]i[y]o weights, NCHW[y]c
// output: oneDNN's nChw16c and TVM's conv2d_NCHWc), its layout transforms and its tuning
// template "conv2d_nchwc" for "llvm" and "cuda".
//
// Why a separate operator: "conv2d" takes NCHW data and returns NCHW, so its CPU kernel
// unpacks each NCHW16c tile into NCHW — at C = 64 that unpack costs 30-50% of a 1x1 layer's
// arithmetic. oneDNN keeps its blocked layouts from layer to layer; so does this operator, and
// the transforms in and out are kernels of their own, timed apart (bench_tuned_cpu).
//
// CPU structure: the output is tiled over (ko, y, x) (ko in whole blocks of kb channels); each
// tile accumulates in a "local" cache computed at the tile, so its tk x ty x tx vectors of kb
// channels are the register accumulators of the micro-kernel: per (ci, r, s, c), one weight
// vector per ko block and ty*tx broadcast input scalars (a 1x1 layer is a GEMM per pixel row).
// The reduction runs outside the tile; the tile is then copied out contiguously (same layout).
// GPU structure: the plain schedule (schedule_plain_cuda), correct rather than fast.
#include "ops/templates.h"
#include "te/ops.h"

namespace te::ops {
namespace {

// `block` ("the input channel block", "ic_block", ...) must be >= 1 and divide `channels`.
void check_block(const char* op, const char* block_name, int64_t channels, int64_t block, const std::string& tensor) {
  if (block < 1) fail(op, ": ", block_name, " = ", block, " must be at least 1");
  if (channels % block != 0)
    fail(op, ": ", block_name, " ", block, " does not divide the ", channels, " channels of ", tensor,
         "; pick a block that divides them (e.g. ", channels, " itself) or pad the channels first");
}

}  // namespace

Tensor conv2d_nchwc(const Tensor& data, const Tensor& weight, int64_t stride, int64_t pad, int64_t dilation,
                    const std::string& name) {
  if (data.ndim() != 5 || weight.ndim() != 6)
    fail("conv2d_nchwc: data must be 5-D [N, C/cb, H, W, cb] and weight 6-D [K/kb, C/cb, R, S, cb, kb], got ",
         data.name(), " with ", data.ndim(), " and ", weight.name(), " with ", weight.ndim(), " dimensions");
  if (stride < 1) fail("conv2d_nchwc: stride = ", stride, " must be at least 1");
  if (pad < 0) fail("conv2d_nchwc: pad = ", pad, " must not be negative");
  if (dilation < 1) fail("conv2d_nchwc: dilation = ", dilation, " must be at least 1");
  const std::vector<Expr>& ds = data.shape();
  const std::vector<Expr>& ws = weight.shape();
  for (size_t axis : {size_t(1), size_t(4)}) {
    const int64_t* d = as_const_int(ds[axis]);
    const int64_t* w = as_const_int(ws[axis]);
    if (d && w && *d != *w)
      fail("conv2d_nchwc: ", data.name(), " has ", *d, axis == 1 ? " input channel blocks" : " channels per block",
           " but ", weight.name(), " expects ", *w, " (data [N, C/cb, H, W, cb], weight [K/kb, C/cb, R, S, cb, kb])");
  }
  const Expr out_h = detail::conv_output_extent("conv2d_nchwc", ds[2], ws[2], stride, pad, dilation, "height");
  const Expr out_w = detail::conv_output_extent("conv2d_nchwc", ds[3], ws[3], stride, pad, dilation, "width");
  const Tensor padded = detail::zero_pad_spatial(data, pad, 2);
  IterVar rc = reduce_axis(Range(0, ws[1]), "rc");
  IterVar ry = reduce_axis(Range(0, ws[2]), "ry");
  IterVar rx = reduce_axis(Range(0, ws[3]), "rx");
  IterVar rb = reduce_axis(Range(0, ws[4]), "rb");
  return compute(
      {ds[0], ws[0], out_h, out_w, ws[5]},
      [&](const std::vector<Var>& i) {
        Expr y = i[2] * Expr(stride) + ry * Expr(dilation);
        Expr x = i[3] * Expr(stride) + rx * Expr(dilation);
        return sum(padded(i[0], rc, y, x, rb) * weight(i[1], rc, ry, rx, rb, i[4]), {rc, ry, rx, rb});
      },
      name);
}

Tensor nchw_to_nchwc(const Tensor& data, int64_t block, const std::string& name) {
  if (data.ndim() != 4)
    fail("nchw_to_nchwc: data must be 4-D NCHW, got ", data.name(), " with ", data.ndim(), " dimensions");
  const int64_t c = detail::constant_dim("nchw_to_nchwc", data, 1, "the channel count");
  check_block("nchw_to_nchwc", "the channel block", c, block, data.name());
  const std::vector<Expr>& ds = data.shape();
  return compute(
      {ds[0], Expr(c / block), ds[2], ds[3], Expr(block)},
      [&](const std::vector<Var>& i) { return data(i[0], i[1] * Expr(block) + i[4], i[2], i[3]); }, name);
}

Tensor nchwc_to_nchw(const Tensor& data, const std::string& name) {
  if (data.ndim() != 5)
    fail("nchwc_to_nchw: data must be 5-D [N, C/b, H, W, b], got ", data.name(), " with ", data.ndim(),
         " dimensions");
  const int64_t block = detail::constant_dim("nchwc_to_nchw", data, 4, "the channel block");
  const std::vector<Expr>& ds = data.shape();
  return compute(
      {ds[0], ds[1] * Expr(block), ds[2], ds[3]},
      [&](const std::vector<Var>& i) {
        return data(i[0], floordiv(i[1], block), i[2], i[3], floormod(i[1], block));
      },
      name);
}

Tensor conv2d_nchwc_pack_weight(const Tensor& weight, int64_t in_block, int64_t out_block, const std::string& name) {
  const char* op = "conv2d_nchwc_pack_weight";
  if (weight.ndim() != 4)
    fail(op, ": the weight must be 4-D (KCRS), got ", weight.name(), " with ", weight.ndim(), " dimensions");
  const int64_t k = detail::constant_dim(op, weight, 0, "the number of filters");
  const int64_t c = detail::constant_dim(op, weight, 1, "the number of input channels");
  check_block(op, "the input channel block", c, in_block, weight.name());
  check_block(op, "the output channel block", k, out_block, weight.name());
  const std::vector<Expr>& ws = weight.shape();
  return compute(
      {Expr(k / out_block), Expr(c / in_block), ws[2], ws[3], Expr(in_block), Expr(out_block)},
      [&](const std::vector<Var>& i) {
        return weight(i[0] * Expr(out_block) + i[5], i[1] * Expr(in_block) + i[4], i[2], i[3]);
      },
      name);
}

namespace detail {
namespace {

using autotune::Config;
using autotune::Instance;

struct NchwcShape {
  ConvShape cs;
  int64_t ic_block, oc_block;
};

NchwcShape nchwc_shape(const std::vector<int64_t>& args) {
  const char* op = "conv2d_nchwc";
  if (args.size() != 11)
    fail(op, ": expects 11 arguments (n, c, h, w, k, r, s, stride, pad, ic_block, oc_block), got ", args.size());
  NchwcShape ns{conv_shape(op, std::vector<int64_t>(args.begin(), args.begin() + 9)), args[9], args[10]};
  check_block(op, "ic_block", ns.cs.c, ns.ic_block, "the data");
  check_block(op, "oc_block", ns.cs.k, ns.oc_block, "the output");
  return ns;
}

struct NchwcCompute {
  Tensor data, weight, padded, out;  // padded is undefined without padding
};

NchwcCompute make_nchwc(const NchwcShape& ns) {
  const ConvShape& cs = ns.cs;
  NchwcCompute nc;
  nc.data = placeholder({cs.n, cs.c / ns.ic_block, cs.h, cs.w, ns.ic_block}, DataType::float32(), "data");
  nc.weight = placeholder({cs.k / ns.oc_block, cs.c / ns.ic_block, cs.r, cs.s, ns.ic_block, ns.oc_block},
                          DataType::float32(), "weight");
  nc.out = conv2d_nchwc(nc.data, nc.weight, cs.stride, cs.pad, 1, "conv");
  for (const Tensor& input : nc.out.op()->input_tensors())
    if (input.op().as<ComputeOpNode>()) nc.padded = input;
  return nc;
}

// CPU schedule (see the file comment). Knobs, first choice the default:
//   tile_k   output-channel blocks per tile (2, 1, 4): 2 blocks x 1 row x up to 14 columns =
//            28 accumulators of the 32 vector registers, 2 weight vectors and 14 broadcasts
//            per 28 FMAs (C6: 0.70 ms against 0.78 for 1 block x 2 rows);
//   tile_y / tile_x  output rows (1, 2, 4, 7) / columns per tile (tile_x: the largest divisor
//            of the width in [4, 14] first, as conv2d's);
//   tile_c   input-channel blocks per step of the outer reduction loop;
//   reduce_order 0: (ci_outer, r, s, ci_inner, c), 1: (ci_outer, ci_inner, r, s, c);
//   order    0: channel tiles outside row tiles (weights stay in cache), 1: row tiles outside;
//   inline_pad (first: a separate pad pass cost 5-25% at stride 2 and never won), unroll (the
//   tile's accumulators).
// The outer loops are always parallel (no knob, unlike conv2d's): the kernel is meant for the
// benchmark's thread count, and a serial candidate only wins when the tuning machine is loaded.
Instance conv2d_nchwc_llvm(Config& cfg, const NchwcShape& ns) {
  const ConvShape& cs = ns.cs;
  const int64_t oh = cs.out_h(), ow = cs.out_w(), kblocks = cs.k / ns.oc_block, cblocks = cs.c / ns.ic_block;
  const std::vector<int64_t> tile_k = define_split_candidates(cfg, "tile_k", kblocks, {{2}, {1}, {4}});
  const std::vector<int64_t> tile_y = define_split_candidates(cfg, "tile_y", oh, {{1}, {2}, {4}, {7}});
  const std::vector<int64_t> tile_x =
      define_split_candidates(cfg, "tile_x", ow, {{register_x_tile(ow)}, {7}, {14}, {8}, {4}, {16}, {28}, {6}});
  const std::vector<int64_t> tile_c = define_split_candidates(cfg, "tile_c", cblocks, {{1}, {2}, {4}, {8}, {16}});
  const int64_t reduce_order = cfg.define_knob("reduce_order", {0, 1});
  const int64_t order = cfg.define_knob("order", {0, 1});
  const bool inline_pad = cfg.define_knob("inline_pad", {1, 0}) == 1;
  const bool unroll = cfg.define_knob("unroll", {1, 0}) == 1;

  NchwcCompute nc = make_nchwc(ns);
  Schedule s = create_schedule({nc.out.op()});
  if (nc.padded.defined()) {
    Stage pad_stage = s[nc.padded];
    const ComputeOpNode* pad_op = compute_of(pad_stage);
    if (inline_pad) {
      pad_stage.compute_inline();
    } else {
      pad_stage.vectorize(pad_op->axis[4]);
      pad_stage.parallel(pad_stage.fuse(pad_op->axis[0], pad_op->axis[1]));
    }
  }
  Tensor acc = s.cache_write(nc.out, "local");

  Stage out = s[nc.out];
  const ComputeOpNode* op = compute_of(out);
  const std::vector<IterVar> tiled =
      tile_conv_output(out, op->axis[0], op->axis[1], op->axis[2], op->axis[3], tile_k, tile_y, tile_x, order);
  // n and the two tile loops outside x fused: ResNet's deep layers have few channel tiles.
  out.parallel(out.fuse(out.fuse(tiled[0], tiled[1]), tiled[2]));
  out.vectorize(op->axis[4]);

  Stage acc_stage = s[acc];
  acc_stage.compute_at(out, tiled[3]);
  const ComputeOpNode* aop = compute_of(acc_stage);
  std::vector<IterVar> cis = split_by(acc_stage, aop->reduce_axis[0], tile_c);
  const IterVar &ry = aop->reduce_axis[1], &rx = aop->reduce_axis[2], &rb = aop->reduce_axis[3];
  std::vector<IterVar> order_acc = reduce_order == 0 ? std::vector<IterVar>{cis[0], ry, rx, cis[1], rb}
                                                     : std::vector<IterVar>{cis[0], cis[1], ry, rx, rb};
  // The tile's loops as (y, x, ko, kk): the ko blocks of one pixel innermost, so each broadcast
  // input is used by its tile_k FMAs at once and dies (with ko outermost LLVM keeps the
  // broadcasts of a whole row live across the blocks and spills accumulators: 2x slower).
  for (size_t a : {0, 2, 3, 1, 4}) order_acc.push_back(aop->axis[a]);
  acc_stage.reorder(order_acc);
  acc_stage.vectorize(aop->axis[4]);
  if (unroll)
    unroll_within(acc_stage, {{aop->axis[1], std::min(tile_k.back(), kblocks)},
                              {aop->axis[3], std::min(tile_x.back(), ow)},
                              {aop->axis[2], std::min(tile_y.back(), oh)}});
  return {s, {nc.data, nc.weight, nc.out}};
}

Instance conv2d_nchwc_cuda(Config& cfg, const NchwcShape& ns) {
  NchwcCompute nc = make_nchwc(ns);
  Schedule s = create_schedule({nc.out.op()});
  std::vector<Tensor> pads;
  if (nc.padded.defined()) pads.push_back(nc.padded);
  schedule_plain_cuda(cfg, s, nc.out, nc.out, pads, "conv2d_nchwc");
  return {s, {nc.data, nc.weight, nc.out}};
}

}  // namespace

autotune::Instance conv2d_nchwc_template(autotune::Config& cfg, const std::vector<int64_t>& args,
                                         const Target& target) {
  const NchwcShape ns = nchwc_shape(args);
  if (target.kind == "cuda") return conv2d_nchwc_cuda(cfg, ns);
  if (target.kind == "llvm") return conv2d_nchwc_llvm(cfg, ns);
  fail("conv2d_nchwc: no schedule for target '", target.kind, "'; use llvm or cuda");
}

}  // namespace detail
}  // namespace te::ops
