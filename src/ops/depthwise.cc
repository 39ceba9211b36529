// src/ops/depthwise.cc — depthwise conv2d (channel multiplier 1) over NCHW and NCHWc
// (NCHW16c): the computes (one definition, the window over axes 2 and 3), the weight pack
// [C, 1, R, S] -> [C/16, R, S, 16], and the "depthwise_conv2d" / "depthwise_conv2d_nchwc"
// templates (the NCHWc one vectorizes the 16-channel block: schedule_blocked_llvm).
//
// Each channel is convolved with its own R x S filter: 2*R*S flops per output against one
// input read, so it is memory-bound, like pooling, and scheduled the plain way
// (schedule_plain_llvm/_cuda): CPU — rows of the output tile vectorized along x, the R x S
// window unrolled outside the tile, (n, c, y-tile) loops fused and parallel, the padding
// inlined or computed first (a knob); GPU — a few consecutive outputs per thread in registers.
#include <functional>

#include "ops/templates.h"
#include "te/ops.h"

namespace te::ops {

namespace {

// The depthwise convolution of either layout: the window slides over axes 2 and 3 of data
// (already checked by the caller), weight_at(i, ry, rx) is the filter tap of output index i.
Tensor depthwise_spatial(const char* fn, const Tensor& data, int64_t r, int64_t s, int64_t stride, int64_t pad,
                         int64_t dilation, const std::function<Expr(const std::vector<Var>&, const IterVar&,
                                                                    const IterVar&)>& weight_at,
                         const std::string& name) {
  detail::check_conv_params(fn, stride, pad, dilation);
  const std::vector<Expr>& ds = data.shape();
  const int64_t h = *as_const_int(ds[2]), w = *as_const_int(ds[3]);
  const int64_t span_h = h + 2 * pad - dilation * (r - 1), span_w = w + 2 * pad - dilation * (s - 1);
  if (span_h < 1 || span_w < 1)
    fail(fn, ": the padded input (", h + 2 * pad, " x ", w + 2 * pad, ") is smaller than the dilated kernel (",
         dilation * (r - 1) + 1, " x ", dilation * (s - 1) + 1, ")");
  std::vector<Expr> shape = ds;
  shape[2] = Expr((span_h - 1) / stride + 1);
  shape[3] = Expr((span_w - 1) / stride + 1);
  const Tensor input = detail::pad_hw(data, pad, constant(0.0, data.dtype()), name + "_pad");
  IterVar ry = reduce_axis(Range(0, r), "ry"), rx = reduce_axis(Range(0, s), "rx");
  return compute(
      shape,
      [&](const std::vector<Var>& i) {
        std::vector<Expr> at(i.begin(), i.end());
        at[2] = i[2] * Expr(stride) + ry * Expr(dilation);
        at[3] = i[3] * Expr(stride) + rx * Expr(dilation);
        return sum(input(at) * weight_at(i, ry, rx), {ry, rx});
      },
      name);
}

}  // namespace

Tensor depthwise_conv2d_nchw(const Tensor& data, const Tensor& weight, int64_t stride, int64_t pad, int64_t dilation,
                             const std::string& name) {
  if (data.ndim() != 4 || weight.ndim() != 4)
    fail("depthwise_conv2d_nchw: data (NCHW) and weight ([C, 1, R, S]) must be 4-D, got ", data.name(), " with ",
         data.ndim(), " and ", weight.name(), " with ", weight.ndim(), " dimensions");
  const std::vector<int64_t> d = detail::constant_shape("depthwise_conv2d_nchw", data),
                             w = detail::constant_shape("depthwise_conv2d_nchw", weight);
  if (w[0] != d[1] || w[1] != 1)
    fail("depthwise_conv2d_nchw: ", weight.name(), " must be [C, 1, R, S] with C = ", d[1], " (the channels of ",
         data.name(), ", multiplier 1), got [", w[0], ", ", w[1], ", ", w[2], ", ", w[3], "]");
  return depthwise_spatial(
      "depthwise_conv2d_nchw", data, w[2], w[3], stride, pad, dilation,
      [&](const std::vector<Var>& i, const IterVar& ry, const IterVar& rx) {
        return weight(i[1], Expr(int64_t(0)), ry, rx);
      },
      name);
}

Tensor depthwise_conv2d_nchwc(const Tensor& data, const Tensor& weight, int64_t stride, int64_t pad,
                              int64_t dilation, const std::string& name) {
  if (data.ndim() != 5 || weight.ndim() != 4)
    fail("depthwise_conv2d_nchwc: data must be 5-D ([N, C/block, H, W, block]) and weight 4-D ([C/block, R, S, "
         "block], depthwise_pack_weight), got ",
         data.name(), " with ", data.ndim(), " and ", weight.name(), " with ", weight.ndim(), " dimensions");
  const std::vector<int64_t> d = detail::constant_shape("depthwise_conv2d_nchwc", data),
                             w = detail::constant_shape("depthwise_conv2d_nchwc", weight);
  if (w[0] != d[1] || w[3] != d[4])
    fail("depthwise_conv2d_nchwc: ", weight.name(), " must be [C/block, R, S, block] = [", d[1], ", R, S, ", d[4],
         "] to match ", data.name(), " [", d[0], ", ", d[1], ", ", d[2], ", ", d[3], ", ", d[4], "], got [", w[0],
         ", ", w[1], ", ", w[2], ", ", w[3], "]");
  return depthwise_spatial(
      "depthwise_conv2d_nchwc", data, w[1], w[2], stride, pad, dilation,
      [&](const std::vector<Var>& i, const IterVar& ry, const IterVar& rx) { return weight(i[1], ry, rx, i[4]); },
      name);
}

Tensor depthwise_pack_weight(const Tensor& weight, int64_t block, const std::string& name) {
  if (weight.ndim() != 4)
    fail("depthwise_pack_weight: the weight must be 4-D ([C, 1, R, S]), got ", weight.name(), " with ",
         weight.ndim(), " dimensions");
  const std::vector<int64_t> w = detail::constant_shape("depthwise_pack_weight", weight);
  if (w[1] != 1)
    fail("depthwise_pack_weight: ", weight.name(), " must be [C, 1, R, S] (channel multiplier 1), got a second "
         "dimension of ", w[1]);
  if (block < 1 || w[0] % block != 0)
    fail("depthwise_pack_weight: the block (", block, ") must divide the channels of ", weight.name(), " (", w[0],
         "); pad the channels to a multiple of ", block);
  return compute(
      {Expr(w[0] / block), Expr(w[2]), Expr(w[3]), Expr(block)},
      [&](const std::vector<Var>& i) { return weight(i[0] * Expr(block) + i[3], Expr(int64_t(0)), i[1], i[2]); },
      name);
}

namespace detail {

// blocked: the NCHWc operator ("depthwise_conv2d_nchwc": data [n, c/16, h, w, 16], weight
// [c/16, r, s, 16]), else NCHW.
autotune::Instance depthwise_template(autotune::Config& cfg, const std::vector<int64_t>& args, const Target& target,
                                      const char* op_name, bool blocked) {
  static const char* names[] = {"n", "c", "h", "w", "r", "s", "stride", "pad", "dilation"};
  if (args.size() != 9)
    fail(op_name, ": expects 9 arguments (n, c, h, w, r, s, stride, pad, dilation), got ", args.size());
  for (size_t i = 0; i < 9; ++i) check_arg_at_least(op_name, names[i], args[i], i == 7 ? 0 : 1);
  if (target.kind != "llvm" && target.kind != "cuda")
    fail(op_name, ": no schedule for target '", target.kind, "'; use llvm or cuda");
  Tensor data, weight, out;
  if (blocked) {
    data = placeholder(nchwc_shape(op_name, args[0], args[1], args[2], args[3]), DataType::float32(), "data_nchwc");
    weight = placeholder({args[1] / kNchwcBlock, args[4], args[5], kNchwcBlock}, DataType::float32(), "weight_nchwc");
    out = depthwise_conv2d_nchwc(data, weight, args[6], args[7], args[8], "depthwise");
  } else {
    data = placeholder({args[0], args[1], args[2], args[3]}, DataType::float32(), "data");
    weight = placeholder({args[1], 1, args[4], args[5]}, DataType::float32(), "weight");
    out = depthwise_conv2d_nchw(data, weight, args[6], args[7], args[8], "depthwise");
  }
  std::vector<Tensor> pads;
  for (const Tensor& t : out.op()->input_tensors())
    if (t.op().as<ComputeOpNode>()) pads.push_back(t);
  Schedule s = create_schedule({out.op()});
  if (target.kind == "cuda") schedule_plain_cuda(cfg, s, out, out, pads, op_name);
  else if (blocked) schedule_blocked_llvm(cfg, s, out, out, pads);
  else schedule_plain_llvm(cfg, s, out, out, pads);
  return {s, {data, weight, out}};
}

autotune::Instance depthwise_conv2d_template(autotune::Config& cfg, const std::vector<int64_t>& args,
                                             const Target& target) {
  return depthwise_template(cfg, args, target, "depthwise_conv2d", false);
}

autotune::Instance depthwise_conv2d_nchwc_template(autotune::Config& cfg, const std::vector<int64_t>& args,
                                                   const Target& target) {
  return depthwise_template(cfg, args, target, "depthwise_conv2d_nchwc", true);
}

}  // namespace detail
}  // namespace te::ops
