// src/ops/depthwise.cc — depthwise NCHW conv2d (channel multiplier 1): the compute and the
// "depthwise_conv2d" template.
//
// Each channel is convolved with its own R x S filter: 2*R*S flops per output against one
// input read, so it is memory-bound, like pooling, and scheduled the plain way
// (schedule_plain_llvm/_cuda): CPU — rows of the output tile vectorized along x, the R x S
// window unrolled outside the tile, (n, c, y-tile) loops fused and parallel, the padding
// inlined or computed first (a knob); GPU — a few consecutive outputs per thread in registers.
#include "ops/templates.h"
#include "te/ops.h"

namespace te::ops {

Tensor depthwise_conv2d_nchw(const Tensor& data, const Tensor& weight, int64_t stride, int64_t pad, int64_t dilation,
                             const std::string& name) {
  if (data.ndim() != 4 || weight.ndim() != 4)
    fail("depthwise_conv2d_nchw: data (NCHW) and weight ([C, 1, R, S]) must be 4-D, got ", data.name(), " with ",
         data.ndim(), " and ", weight.name(), " with ", weight.ndim(), " dimensions");
  if (stride < 1) fail("depthwise_conv2d_nchw: stride = ", stride, " must be at least 1");
  if (pad < 0) fail("depthwise_conv2d_nchw: pad = ", pad, " must not be negative");
  if (dilation < 1) fail("depthwise_conv2d_nchw: dilation = ", dilation, " must be at least 1");
  const std::vector<Expr>& ds = data.shape();
  const std::vector<Expr>& ws = weight.shape();
  std::vector<int64_t> d(4), w(4);
  for (int i = 0; i < 4; ++i) {
    const int64_t* dv = as_const_int(ds[i]);
    const int64_t* wv = as_const_int(ws[i]);
    if (!dv || !wv) fail("depthwise_conv2d_nchw: the shapes of ", data.name(), " and ", weight.name(), " must be constant");
    d[i] = *dv;
    w[i] = *wv;
  }
  if (w[0] != d[1] || w[1] != 1)
    fail("depthwise_conv2d_nchw: ", weight.name(), " must be [C, 1, R, S] with C = ", d[1], " (the channels of ",
         data.name(), ", multiplier 1), got [", w[0], ", ", w[1], ", ", w[2], ", ", w[3], "]");
  const int64_t span_h = d[2] + 2 * pad - dilation * (w[2] - 1), span_w = d[3] + 2 * pad - dilation * (w[3] - 1);
  if (span_h < 1 || span_w < 1)
    fail("depthwise_conv2d_nchw: the padded input (", d[2] + 2 * pad, " x ", d[3] + 2 * pad,
         ") is smaller than the dilated kernel (", dilation * (w[2] - 1) + 1, " x ", dilation * (w[3] - 1) + 1, ")");
  const int64_t oh = (span_h - 1) / stride + 1, ow = (span_w - 1) / stride + 1;
  Tensor input = data;
  if (pad > 0) {
    input = compute(
        {ds[0], ds[1], Expr(d[2] + 2 * pad), Expr(d[3] + 2 * pad)},
        [&](const std::vector<Var>& i) {
          Expr inside = i[2] >= Expr(pad) && i[2] < Expr(d[2] + pad) && i[3] >= Expr(pad) && i[3] < Expr(d[3] + pad);
          return if_then_else(inside, data(i[0], i[1], i[2] - Expr(pad), i[3] - Expr(pad)), constant(0.0, data.dtype()));
        },
        name + "_pad");
  }
  IterVar ry = reduce_axis(Range(0, w[2]), "ry"), rx = reduce_axis(Range(0, w[3]), "rx");
  return compute(
      {ds[0], ds[1], Expr(oh), Expr(ow)},
      [&](const std::vector<Var>& i) {
        Expr y = i[2] * Expr(stride) + ry * Expr(dilation), x = i[3] * Expr(stride) + rx * Expr(dilation);
        return sum(input(i[0], i[1], y, x) * weight(i[1], Expr(int64_t(0)), ry, rx), {ry, rx});
      },
      name);
}

namespace detail {

autotune::Instance depthwise_conv2d_template(autotune::Config& cfg, const std::vector<int64_t>& args,
                                             const Target& target) {
  static const char* names[] = {"n", "c", "h", "w", "r", "s", "stride", "pad", "dilation"};
  if (args.size() != 9)
    fail("depthwise_conv2d: expects 9 arguments (n, c, h, w, r, s, stride, pad, dilation), got ", args.size());
  for (size_t i = 0; i < 9; ++i) check_arg_at_least("depthwise_conv2d", names[i], args[i], i == 7 ? 0 : 1);
  if (target.kind != "llvm" && target.kind != "cuda")
    fail("depthwise_conv2d: no schedule for target '", target.kind, "'; use llvm or cuda");
  Tensor data = placeholder({args[0], args[1], args[2], args[3]}, DataType::float32(), "data");
  Tensor weight = placeholder({args[1], 1, args[4], args[5]}, DataType::float32(), "weight");
  Tensor out = depthwise_conv2d_nchw(data, weight, args[6], args[7], args[8], "depthwise");
  std::vector<Tensor> pads;
  for (const Tensor& t : out.op()->input_tensors())
    if (t.op().as<ComputeOpNode>()) pads.push_back(t);
  Schedule s = create_schedule({out.op()});
  if (target.kind == "cuda") schedule_plain_cuda(cfg, s, out, out, pads, "depthwise_conv2d");
  else schedule_plain_llvm(cfg, s, out, out, pads);
  return {s, {data, weight, out}};
}

}  // namespace detail
}  // namespace te::ops
