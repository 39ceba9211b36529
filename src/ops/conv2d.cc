// src/ops/conv2d.cc — NCHW conv2d's compute and its tuning template for "llvm" and "cuda".
//
// CPU structure: weights repacked into blocks of 16 output channels, the convolution computed
// per (k, y, x) output tile in the blocked layout NCHW16c, whose tk/16 x ty x tx vectors of 16
// channels are the register accumulators, then unpacked into the NCHW output (see conv2d_llvm).
// GPU structure: blocks over (n*k, y, x) tiles, threads over the inner tiles, each thread
// accumulating a ki x yi x xi tile in registers (a "local" cache_write, stored once); per block
// of input channels the block's (padded) input window and weights are staged in shared memory
// by cooperative loads.
#include "ops/templates.h"
#include "te/ops.h"

namespace te::ops {

Tensor conv2d_nchw(const Tensor& data, const Tensor& weight, int64_t stride, int64_t pad,
                   int64_t dilation, const std::string& name) {
  if (data.ndim() != 4 || weight.ndim() != 4)
    fail("conv2d_nchw: data (NCHW) and weight (KCRS) must be 4-D, got ", data.name(), " with ",
         data.ndim(), " and ", weight.name(), " with ", weight.ndim(), " dimensions");
  if (stride < 1) fail("conv2d_nchw: stride = ", stride, " must be at least 1");
  if (pad < 0) fail("conv2d_nchw: pad = ", pad, " must not be negative");
  if (dilation < 1) fail("conv2d_nchw: dilation = ", dilation, " must be at least 1");
  const int64_t* data_c = as_const_int(data.shape()[1]);
  const int64_t* weight_c = as_const_int(weight.shape()[1]);
  if (data_c && weight_c && *data_c != *weight_c)
    fail("conv2d_nchw: ", data.name(), " has ", *data_c, " input channels but ", weight.name(), " expects ",
         *weight_c);
  const std::vector<Expr>& ds = data.shape();
  const std::vector<Expr>& ws = weight.shape();
  const Expr out_h = detail::conv_output_extent("conv2d_nchw", ds[2], ws[2], stride, pad, dilation, "height");
  const Expr out_w = detail::conv_output_extent("conv2d_nchw", ds[3], ws[3], stride, pad, dilation, "width");
  const Tensor padded = detail::zero_pad_spatial(data, pad, 2);
  IterVar rc = reduce_axis(Range(0, ws[1]), "rc");
  IterVar ry = reduce_axis(Range(0, ws[2]), "ry");
  IterVar rx = reduce_axis(Range(0, ws[3]), "rx");
  return compute(
      {ds[0], ws[0], out_h, out_w},
      [&](const std::vector<Var>& i) {
        Expr y = i[2] * Expr(stride) + ry * Expr(dilation);
        Expr x = i[3] * Expr(stride) + rx * Expr(dilation);
        return sum(padded(i[0], rc, y, x) * weight(i[1], rc, ry, rx), {rc, ry, rx});
      },
      name);
}

Tensor conv2d_nchw_bias_relu(const Tensor& data, const Tensor& weight, const Tensor& bias, int64_t stride,
                             int64_t pad, int64_t dilation, const std::string& name) {
  if (bias.ndim() != 1)
    fail("conv2d_nchw_bias_relu: bias must be 1-D [k], got ", bias.name(), " with ", bias.ndim(), " dimensions");
  Tensor conv = conv2d_nchw(data, weight, stride, pad, dilation, name + "_conv");
  const int64_t* k = as_const_int(weight.shape()[0]);
  const int64_t* bk = as_const_int(bias.shape()[0]);
  if (k && bk && *k != *bk)
    fail("conv2d_nchw_bias_relu: ", bias.name(), " has ", *bk, " elements but ", weight.name(), " has ", *k,
         " filters");
  return compute(
      conv.shape(),
      [&](const std::vector<Var>& i) {
        return te::max(conv(i[0], i[1], i[2], i[3]) + bias(i[1]), constant(0.0, conv.dtype()));
      },
      name);
}

Tensor conv2d_pack_weight(const Tensor& weight, const std::string& name) {
  if (weight.ndim() != 4)
    fail("conv2d_pack_weight: the weight must be 4-D (KCRS), got ", weight.name(), " with ", weight.ndim(),
         " dimensions");
  const int64_t filters = detail::constant_dim("conv2d_pack_weight", weight, 0, "the number of filters");
  const int64_t blocks = (filters + kConv2dChannelBlock - 1) / kConv2dChannelBlock;
  const std::vector<Expr>& ws = weight.shape();
  return compute(
      {Expr(blocks), ws[1], ws[2], ws[3], Expr(kConv2dChannelBlock)},
      [&](const std::vector<Var>& i) {
        Expr f = i[0] * kConv2dChannelBlock + i[4];
        Expr w = weight(f, i[1], i[2], i[3]);
        return filters % kConv2dChannelBlock == 0 ? w : if_then_else(f < filters, w, constant(0.0, weight.dtype()));
      },
      name);
}

namespace detail {

Expr conv_output_extent(const char* op, const Expr& in, const Expr& kernel, int64_t stride, int64_t pad,
                        int64_t dilation, const char* dim) {
  const int64_t* in_c = as_const_int(in);
  const int64_t* kernel_c = as_const_int(kernel);
  if (in_c && kernel_c && *in_c + 2 * pad - dilation * (*kernel_c - 1) < 1)
    fail(op, ": the ", dim, " of the padded input (", *in_c + 2 * pad, ") is smaller than the kernel (",
         dilation * (*kernel_c - 1) + 1, "); the output would be empty");
  return floordiv(in + Expr(2 * pad) - Expr(dilation) * (kernel - 1) - 1, Expr(stride)) + 1;
}

Tensor zero_pad_spatial(const Tensor& data, int64_t pad, size_t h_axis) {
  if (pad == 0) return data;
  const std::vector<Expr>& ds = data.shape();
  const size_t w_axis = h_axis + 1;
  std::vector<Expr> shape = ds;
  shape[h_axis] = ds[h_axis] + Expr(2 * pad);
  shape[w_axis] = ds[w_axis] + Expr(2 * pad);
  return compute(
      shape,
      [&](const std::vector<Var>& i) {
        Expr inside = i[h_axis] >= Expr(pad) && i[h_axis] < ds[h_axis] + Expr(pad) && i[w_axis] >= Expr(pad) &&
                      i[w_axis] < ds[w_axis] + Expr(pad);
        std::vector<Expr> at(i.begin(), i.end());
        at[h_axis] = i[h_axis] - Expr(pad);
        at[w_axis] = i[w_axis] - Expr(pad);
        return if_then_else(inside, data(at), constant(0.0, data.dtype()));
      },
      "pad");
}

int64_t register_x_tile(int64_t width) {
  for (int64_t f = 14; f >= 4; --f)
    if (width % f == 0) return f;
  return 14;
}

std::vector<IterVar> tile_conv_output(Stage stage, const IterVar& n, const IterVar& k, const IterVar& y,
                                      const IterVar& x, const std::vector<int64_t>& tile_k,
                                      const std::vector<int64_t>& tile_y, const std::vector<int64_t>& tile_x,
                                      int64_t order) {
  std::vector<IterVar> ks = split_by(stage, k, tile_k);
  std::vector<IterVar> ys = split_by(stage, y, tile_y);
  std::vector<IterVar> xs = split_by(stage, x, tile_x);
  std::vector<IterVar> axes = order == 0 ? std::vector<IterVar>{n, ks[0], ys[0], xs[0], ks[1], ys[1], xs[1]}
                                         : std::vector<IterVar>{n, ys[0], ks[0], xs[0], ks[1], ys[1], xs[1]};
  stage.reorder(axes);
  return axes;
}

ConvShape conv_shape(const char* op, const std::vector<int64_t>& args) {
  static const char* names[] = {"n", "c", "h", "w", "k", "r", "s", "stride", "pad"};
  if (args.size() != 9) fail(op, ": expects 9 arguments (n, c, h, w, k, r, s, stride, pad), got ", args.size());
  for (size_t i = 0; i < 9; ++i) check_arg_at_least(op, names[i], args[i], i == 8 ? 0 : 1);
  ConvShape cs{args[0], args[1], args[2], args[3], args[4], args[5], args[6], args[7], args[8]};
  if (cs.h + 2 * cs.pad < cs.r || cs.w + 2 * cs.pad < cs.s)
    fail(op, ": the kernel (r=", cs.r, ", s=", cs.s, ") is larger than the padded input (",
         cs.h + 2 * cs.pad, " x ", cs.w + 2 * cs.pad, ")");
  return cs;
}

namespace {

using autotune::Config;
using autotune::Instance;

struct ConvCompute {
  Tensor data, weight, padded, out;  // padded is undefined without padding
};

ConvCompute make_conv(const ConvShape& cs) {
  ConvCompute cc;
  cc.data = placeholder({cs.n, cs.c, cs.h, cs.w}, DataType::float32(), "data");
  cc.weight = placeholder({cs.k, cs.c, cs.r, cs.s}, DataType::float32(), "weight");
  cc.out = conv2d_nchw(cc.data, cc.weight, cs.stride, cs.pad, 1, "conv");
  for (const Tensor& input : cc.out.op()->input_tensors())
    if (input.op().as<ComputeOpNode>()) cc.padded = input;
  return cc;
}

// The CPU compute, in the blocked layouts of oneDNN and TVM's x86 conv2d_NCHWc: the weights
// arrive pre-packed in blocks of kConv2dChannelBlock output channels (OIHW16o, made once by
// conv2d_pack_weight: weights are constants in inference, and oneDNN's own timings exclude the
// same reorder), the convolution is computed in the blocked layout NCHW16c (the channels of a
// block innermost) and the NCHW output is unpacked from it:
//   conv_blk[n, kb, y, x, kk]  = sum_{c, r, s} padded[n, c, y*stride + r, x*stride + s] * wpack[kb, c, r, s, kk]
//   conv[n, k, y, x]           = conv_blk[n, k / 16, y, x, k % 16]
// With bias_relu the unpack also applies the epilogue (conv2d_bias_relu):
//   conv[n, k, y, x]           = max(conv_blk[n, k / 16, y, x, k % 16] + bias[k], 0)
// With pack_inside the weight arrives in KCRS and wpack is a stage of the kernel (conv2d_pack_weight).
struct BlockedConv {
  Tensor data, weight, wpack, bias, padded, blocked, out;  // padded is undefined without padding,
                                                           // bias without bias_relu, weight without pack_inside
};

BlockedConv make_blocked_conv(const ConvShape& cs, bool bias_relu, bool pack_inside) {
  BlockedConv bc;
  bc.data = placeholder({cs.n, cs.c, cs.h, cs.w}, DataType::float32(), "data");
  const int64_t blocks = (cs.k + kConv2dChannelBlock - 1) / kConv2dChannelBlock;
  if (pack_inside) {
    bc.weight = placeholder({cs.k, cs.c, cs.r, cs.s}, DataType::float32(), "weight");
    bc.wpack = conv2d_pack_weight(bc.weight, "weight_packed");
  } else {
    bc.wpack = placeholder({blocks, cs.c, cs.r, cs.s, kConv2dChannelBlock}, DataType::float32(), "weight_packed");
  }
  const Tensor input = zero_pad_spatial(bc.data, cs.pad, 2);
  if (cs.pad > 0) bc.padded = input;
  IterVar rc = reduce_axis(Range(0, cs.c), "rc");
  IterVar ry = reduce_axis(Range(0, cs.r), "ry");
  IterVar rx = reduce_axis(Range(0, cs.s), "rx");
  bc.blocked = compute(
      {cs.n, blocks, cs.out_h(), cs.out_w(), kConv2dChannelBlock},
      [&](const std::vector<Var>& i) {
        Expr y = i[2] * cs.stride + ry * cs.dilation, x = i[3] * cs.stride + rx * cs.dilation;
        return sum(input(i[0], rc, y, x) * bc.wpack(i[1], rc, ry, rx, i[4]), {rc, ry, rx});
      },
      "conv_blk");
  if (bias_relu) bc.bias = placeholder({cs.k}, DataType::float32(), "bias");
  bc.out = compute(
      {cs.n, cs.k, cs.out_h(), cs.out_w()},
      [&](const std::vector<Var>& i) {
        Expr v = bc.blocked(i[0], floordiv(i[1], kConv2dChannelBlock), i[2], i[3], floormod(i[1], kConv2dChannelBlock));
        return bias_relu ? te::max(v + bc.bias(i[1]), constant(0.0)) : v;
      },
      "conv");
  return bc;
}

// A width tile for the GPU threads: the largest divisor of the width in [8, 16], else 16.
int64_t preferred_x_tile(int64_t width) {
  for (int64_t f = 16; f >= 8; --f)
    if (width % f == 0) return f;
  return 16;
}

// The width of the blocked tile whose unpack is one vector per channel when unpack_rows is set:
// the whole row up to 64 pixels (te's widest vector), else its largest divisor up to 64 that
// is a multiple of 4 (the narrowest register transpose), else of 1.
int64_t conv_unpack_width(int64_t ow) {
  if (ow <= 64) return ow;
  for (int64_t multiple : {4, 1})
    for (int64_t width = 64; width >= multiple; --width)
      if (ow % width == 0 && width % multiple == 0) return width;
  return 1;
}

// CPU schedule: the NCHW output is tiled over (k, y, x); each tile's blocked convolution is
// computed at the tile (compute_at), so its tk/16 x ty x tx vectors of 16 channels are the
// register accumulators of the micro-kernel: per (c, r, s), one or more weight vectors and ty*tx
// broadcast inputs, ty*tx*tk/16 FMAs. The reduction runs outside the tile; the tile is then
// unpacked into the output.
Instance conv2d_llvm(Config& cfg, const ConvShape& cs, bool bias_relu, bool pack_inside = false) {
  const int64_t oh = cs.out_h(), ow = cs.out_w();
  // Output channels per tile, in whole blocks of 16 (other sizes would break the blocks).
  const std::vector<int64_t> tile_k = define_split_candidates(cfg, "tile_k", cs.k, {{16}, {32}, {64}});
  const std::vector<int64_t> tile_y = define_split_candidates(cfg, "tile_y", oh, {{2}, {1}, {4}, {7}});
  const std::vector<int64_t> tile_x =
      define_split_candidates(cfg, "tile_x", ow, {{register_x_tile(ow)}, {7}, {14}, {8}, {4}, {16}, {28}});
  const std::vector<int64_t> tile_c = define_split_candidates(cfg, "tile_c", cs.c, {{16}, {8}, {32}, {64}, {4}, {1}});
  // 0: (c_outer, r, s, c_inner), 1: (c_outer, c_inner, r, s) — both outside the tile.
  const int64_t reduce_order = cfg.define_knob("reduce_order", {0, 1});
  // 0: channel tiles outside the row tiles (a tile's weights stay in cache over the rows);
  // 1: row tiles outside (an input row block stays in cache over the channels).
  const int64_t order = cfg.define_knob("order", {0, 1});
  const bool inline_pad = cfg.define_knob("inline_pad", {0, 1}) == 1;
  const bool unroll = cfg.define_knob("unroll", {1, 0}) == 1;
  const bool parallel = cfg.define_knob("parallel", {1, 0}) == 1;
  // Unpacking a tile into NCHW: 1 vectorizes along x (contiguous stores, strided loads from the
  // blocked tile), 0 copies element by element, 2 is 1 with the 16 channels of a block as the
  // serial loop around the x vector — a transpose, which the LLVM backend emits as register
  // tile transposes (codegen_llvm_transpose.cc) where tx is a multiple of 4. The unpack costs
  // about as much as the arithmetic on the 1x1 layers (C = 64: 4 FMAs per 16 outputs).
  const int64_t vectorize_unpack = cfg.define_knob("vectorize_unpack", {0, 1, 2});
  // 1: the blocked tile spans a whole row piece (unpack_width: 56 of a 56-wide row, 56 of 112)
  // and its register tiles of tile_x pixels are a loop inside it, so the unpack transposes rows
  // of 56 (8-lane tiles) however narrow the register tile (7 or 14 pixels: no 4-lane tiles);
  // 2: the same with the register tiles inside the outer input-channel loop, so one chunk of
  // input rows is read along the whole row piece before the next (C3: 0.19 -> 0.17 ms).
  const int64_t unpack_rows = cfg.define_knob("unpack_rows", {0, 1, 2});
  const int64_t unpack_width = conv_unpack_width(ow);

  BlockedConv bc = make_blocked_conv(cs, bias_relu, pack_inside);
  Schedule s = create_schedule({bc.out.op()});
  if (pack_inside) {  // its own loop before the convolution: blocks of filters in parallel, 16 lanes
    Stage pack = s[bc.wpack];
    const ComputeOpNode* pack_op = compute_of(pack);
    pack.vectorize(pack_op->axis[4]);
    if (parallel) pack.parallel(pack_op->axis[0]);
  }
  if (bc.padded.defined()) {
    Stage pad_stage = s[bc.padded];
    if (inline_pad) {
      pad_stage.compute_inline();
    } else if (parallel) {
      const ComputeOpNode* pad_op = compute_of(pad_stage);
      pad_stage.parallel(pad_stage.fuse(pad_op->axis[0], pad_op->axis[1]));
    }
  }

  Stage out = s[bc.out];
  const ComputeOpNode* op = compute_of(out);
  const std::vector<int64_t> out_tile_x =
      unpack_rows != 0 ? std::vector<int64_t>{ow / unpack_width, unpack_width} : tile_x;
  const std::vector<IterVar> tiled =
      tile_conv_output(out, op->axis[0], op->axis[1], op->axis[2], op->axis[3], tile_k, tile_y, out_tile_x, order);
  if (parallel) out.parallel(out.fuse(tiled[0], tiled[1]));
  if (vectorize_unpack == 2) {
    auto [k_block, k_lane] = out.split(tiled[4], kConv2dChannelBlock);
    out.reorder({k_block, tiled[5], k_lane, tiled[6]});
  }
  if (vectorize_unpack != 0) out.vectorize(tiled[6]);

  Stage blk = s[bc.blocked];
  blk.compute_at(out, tiled[3]);
  const ComputeOpNode* bop = compute_of(blk);
  std::vector<IterVar> cs_axes = split_by(blk, bop->reduce_axis[0], tile_c);
  const IterVar &ry = bop->reduce_axis[1], &rx = bop->reduce_axis[2];
  std::vector<IterVar> order_blk = reduce_order == 0 ? std::vector<IterVar>{cs_axes[0], ry, rx, cs_axes[1]}
                                                     : std::vector<IterVar>{cs_axes[0], cs_axes[1], ry, rx};
  IterVar register_x = bop->axis[3];
  if (unpack_rows != 0 && tile_x.back() < unpack_width) {  // register tiles of tile_x pixels
    auto [x_outer, x_inner] = blk.split(bop->axis[3], tile_x.back());
    order_blk.insert(order_blk.begin() + (unpack_rows == 2 ? 1 : 0), x_outer);
    register_x = x_inner;
  }
  // n, y, x, kb, kk: the channel blocks innermost, so each broadcast input feeds the tile's
  // tk/16 FMAs at once (with kb outside x, LLVM keeps a whole row of broadcasts live across
  // the blocks: 28 accumulators + 14 broadcasts spilled on every reduction step).
  for (const IterVar& axis : {bop->axis[0], bop->axis[2], register_x, bop->axis[1], bop->axis[4]})
    order_blk.push_back(axis);
  blk.reorder(order_blk);
  blk.vectorize(bop->axis[4]);
  if (unroll) {
    const int64_t blocks_per_tile = std::max<int64_t>(1, std::min(tile_k.back(), cs.k) / kConv2dChannelBlock);
    unroll_within(blk, {{bop->axis[1], blocks_per_tile},
                        {register_x, std::min(tile_x.back(), ow)},
                        {bop->axis[2], std::min(tile_y.back(), oh)}});
  }
  if (bias_relu) return {s, {bc.data, bc.wpack, bc.bias, bc.out}};
  return {s, {bc.data, pack_inside ? bc.weight : bc.wpack, bc.out}};
}

Instance conv2d_cuda(Config& cfg, const ConvShape& cs, const Target& target) {
  const int64_t oh = cs.out_h(), ow = cs.out_w();
  // {threads, elements per thread} per output dimension.
  // Appended in the fourteenth session (no cuda log existed): register tiles of 4-8 channels x
  // 4 pixels (16-32 outputs per thread), so each value read from shared memory feeds 4-8 FMAs
  // (the earlier largest, 4 x 2 x 2, fed 2-4).
  const std::vector<int64_t> tile_k = define_split_candidates(
      cfg, "tile_k", cs.k, {{8, 2}, {16, 1}, {4, 4}, {8, 1}, {16, 2}, {32, 1}, {4, 2}, {2, 2}, {8, 4}, {4, 8}});
  const std::vector<int64_t> tile_y =
      define_split_candidates(cfg, "tile_y", oh, {{4, 1}, {2, 1}, {7, 1}, {1, 1}, {4, 2}, {8, 1}, {2, 2}});
  const std::vector<int64_t> tile_x = define_split_candidates(
      cfg, "tile_x", ow, {{preferred_x_tile(ow), 1}, {8, 1}, {16, 1}, {4, 1}, {8, 2}, {32, 1}, {7, 2}, {4, 2}, {4, 4}, {7, 4}});
  const std::vector<int64_t> tile_c = define_split_candidates(cfg, "tile_c", cs.c, {{8}, {4}, {16}, {2}, {1}, {32}});
  const bool unroll = cfg.define_knob("unroll", {1, 0}) == 1;

  const int64_t threads = tile_k[1] * tile_y[1] * tile_x[1];
  if (threads > kMaxThreadsPerBlock)
    fail("conv2d cuda: config ", cfg.to_string(), " needs ", threads, " threads per block (", tile_k[1], " x ",
         tile_y[1], " x ", tile_x[1], "); the limit is ", kMaxThreadsPerBlock);
  const int64_t window_h = (tile_y[1] * tile_y[2] - 1) * cs.stride + cs.r;
  const int64_t window_w = (tile_x[1] * tile_x[2] - 1) * cs.stride + cs.s;
  const int64_t window_tile = tile_c[1] * window_h * window_w;
  const int64_t weight_tile = tile_c[1] * tile_k[1] * tile_k[2] * cs.r * cs.s;
  const bool double_buffer = define_double_buffer(cfg, "conv2d", {window_tile, weight_tile}, threads, target);
  const int64_t shared_bytes = 4 * (window_tile + weight_tile) * (double_buffer ? 2 : 1);
  if (shared_bytes > kMaxSharedBytes)
    fail("conv2d cuda: config ", cfg.to_string(), " stages ", shared_bytes,
         " bytes of shared memory per block; the limit is ", kMaxSharedBytes);

  ConvCompute cc = make_conv(cs);
  Schedule s = create_schedule({cc.out.op()});
  // Each thread's tile_k[2] x tile_y[2] x tile_x[2] outputs accumulate in a "local" cache
  // (registers) at the thread loop and are stored once (see matmul_cuda); the shared window and
  // weights load at its channel-block loop.
  Tensor local = s.cache_write(cc.out, "local");
  const Tensor input = cc.padded.defined() ? cc.padded : cc.data;
  Tensor input_shared = s.cache_read(input, "shared", {local.op()});
  Tensor weight_shared = s.cache_read(cc.weight, "shared", {local.op()});
  // The zero padding is computed while loading the shared window.
  if (cc.padded.defined()) s[cc.padded].compute_inline();

  Stage out = s[cc.out];
  const ComputeOpNode* op = compute_of(out);
  std::vector<IterVar> ks = split_by(out, op->axis[1], tile_k);
  std::vector<IterVar> ys = split_by(out, op->axis[2], tile_y);
  std::vector<IterVar> xs = split_by(out, op->axis[3], tile_x);
  out.reorder({op->axis[0], ks[0], ys[0], xs[0], ks[1], ys[1], xs[1], ks[2], ys[2], xs[2]});
  IterVar block_nk = out.fuse(op->axis[0], ks[0]);
  IterVar tz = thread_axis("threadIdx.z"), ty = thread_axis("threadIdx.y"), tx = thread_axis("threadIdx.x");
  out.bind(block_nk, thread_axis("blockIdx.z"));
  out.bind(ys[0], thread_axis("blockIdx.y"));
  out.bind(xs[0], thread_axis("blockIdx.x"));
  out.bind(ks[1], tz);
  out.bind(ys[1], ty);
  out.bind(xs[1], tx);

  Stage red = s[local];
  red.compute_at(out, xs[1]);
  const ComputeOpNode* red_op = compute_of(red);
  std::vector<IterVar> cs_axes = split_by(red, red_op->reduce_axis[0], tile_c);
  const IterVar& ry = red_op->reduce_axis[1];
  const IterVar& rx = red_op->reduce_axis[2];
  red.reorder({red_op->axis[0], cs_axes[0], cs_axes[1], ry, rx, red_op->axis[1], red_op->axis[2], red_op->axis[3]});
  if (unroll) {
    unroll_within(red, {{red_op->axis[3], tile_x[2]}, {red_op->axis[2], tile_y[2]}, {red_op->axis[1], tile_k[2]},
                        {rx, cs.s}});
    unroll_within(out, {{xs[2], tile_x[2]}, {ys[2], tile_y[2]}, {ks[2], tile_k[2]}});
  }

  for (const Tensor& cached : {input_shared, weight_shared}) {
    Stage load = s[cached];
    load.compute_at(red, cs_axes[0]);
    const ComputeOpNode* load_op = compute_of(load);
    bind_cooperative_load(load, load_op->axis, {{tx, tile_x[1]}, {ty, tile_y[1]}, {tz, tile_k[1]}});
    if (double_buffer) load.double_buffer();
  }
  return {s, {cc.data, cc.weight, cc.out}};
}

// conv2d_bias_relu on cuda: the plain conv2d_nchw compute with the epilogue, one thread per
// few outputs accumulating in registers (see schedule_plain_cuda).
Instance conv2d_bias_relu_cuda(Config& cfg, const ConvShape& cs) {
  ConvCompute cc = make_conv(cs);
  Tensor bias = placeholder({cs.k}, DataType::float32(), "bias");
  Tensor out = compute(
      {cs.n, cs.k, cs.out_h(), cs.out_w()},
      [&](const std::vector<Var>& i) { return te::max(cc.out(i[0], i[1], i[2], i[3]) + bias(i[1]), constant(0.0)); },
      "conv_bias_relu");
  Schedule s = create_schedule({out.op()});
  std::vector<Tensor> pads;
  if (cc.padded.defined()) pads.push_back(cc.padded);
  schedule_plain_cuda(cfg, s, out, cc.out, pads, "conv2d_bias_relu");
  return {s, {cc.data, cc.weight, bias, out}};
}

}  // namespace

autotune::Instance conv2d_template(autotune::Config& cfg, const std::vector<int64_t>& args,
                                   const Target& target) {
  const ConvShape cs = conv_shape("conv2d", args);
  if (target.kind == "cuda") return conv2d_cuda(cfg, cs, target);
  if (target.kind == "llvm") return conv2d_llvm(cfg, cs, false);
  fail("conv2d: no schedule for target '", target.kind, "'; use llvm or cuda");
}

autotune::Instance conv2d_blocked_llvm(autotune::Config& cfg, const ConvShape& cs) {
  return conv2d_llvm(cfg, cs, /*bias_relu=*/false, /*pack_inside=*/true);
}

autotune::Instance conv2d_bias_relu_template(autotune::Config& cfg, const std::vector<int64_t>& args,
                                             const Target& target) {
  const ConvShape cs = conv_shape("conv2d_bias_relu", args);
  if (target.kind == "cuda") return conv2d_bias_relu_cuda(cfg, cs);
  if (target.kind == "llvm") return conv2d_llvm(cfg, cs, true);
  fail("conv2d_bias_relu: no schedule for target '", target.kind, "'; use llvm or cuda");
}

}  // namespace detail
}  // namespace te::ops
