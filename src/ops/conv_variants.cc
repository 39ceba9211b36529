// src/ops/conv_variants.cc — the generalized convolutions: NHWC conv2d (with dilation), grouped
// NCHW conv2d (with dilation), conv2d_transpose (NCHW) and conv3d (NCDHW): their computes and
// the "conv2d_nhwc", "conv2d_grouped", "conv2d_transpose" and "conv3d" templates.
//
// These keep the 2-D NCHW "conv2d" template (the tuned one, with its committed logs) as it is
// and add new operator names. On the CPU, conv2d_grouped with one group (a dilated conv2d) takes
// the conv2d template's blocked structure (conv2d_blocked_llvm, the weight packed in the kernel),
// and conv3d the same structure with a depth axis (conv3d_blocked.cc). The other schedules are
// the plain ones (schedule_plain_llvm/_cuda):
// CPU — the output's innermost axis vectorized (NHWC: the output channels; NCHW/NCDHW: x) in
// tiles of a few rows, the reduction outside the tile so the tile's accumulators stay in
// registers, the outer loops fused and parallel; GPU — a few consecutive outputs per thread,
// accumulated in registers.
//   conv2d_transpose is computed as a convolution of the stride-dilated, (R-1-pad)-padded input
//   with the spatially flipped weight (the dilation inlined by default: zeros are never stored).
#include "ops/templates.h"
#include "te/ops.h"

namespace te::ops {
namespace {

using detail::check_conv_params;
using detail::constant_shape;

// Output size of one spatial dimension; te::Error when the dilated kernel does not fit.
int64_t out_extent(const char* op, const char* dim, int64_t in, int64_t kernel, int64_t stride, int64_t pad,
                   int64_t dilation) {
  const int64_t span = in + 2 * pad - dilation * (kernel - 1);
  if (span < 1)
    fail(op, ": the ", dim, " of the padded input (", in + 2 * pad, ") is smaller than the dilated kernel (",
         dilation * (kernel - 1) + 1, ")");
  return (span - 1) / stride + 1;
}

}  // namespace

Tensor conv2d_nhwc(const Tensor& data, const Tensor& weight, int64_t stride, int64_t pad, int64_t dilation,
                   const std::string& name) {
  const char* op = "conv2d_nhwc";
  if (data.ndim() != 4 || weight.ndim() != 4)
    fail(op, ": data (NHWC) and weight (RSCK) must be 4-D, got ", data.name(), " with ", data.ndim(), " and ",
         weight.name(), " with ", weight.ndim(), " dimensions");
  check_conv_params(op, stride, pad, dilation);
  const std::vector<int64_t> d = constant_shape(op, data), w = constant_shape(op, weight);
  if (w[2] != d[3])
    fail(op, ": ", data.name(), " has ", d[3], " input channels but ", weight.name(), " (RSCK) expects ", w[2]);
  const int64_t oh = out_extent(op, "height", d[1], w[0], stride, pad, dilation);
  const int64_t ow = out_extent(op, "width", d[2], w[1], stride, pad, dilation);
  Tensor input = detail::pad_axes(data, {1, 2}, pad, name);
  IterVar ry = reduce_axis(Range(0, w[0]), "ry"), rx = reduce_axis(Range(0, w[1]), "rx");
  IterVar rc = reduce_axis(Range(0, w[2]), "rc");
  return compute(
      {d[0], oh, ow, w[3]},
      [&](const std::vector<Var>& i) {
        Expr y = i[1] * Expr(stride) + ry * Expr(dilation), x = i[2] * Expr(stride) + rx * Expr(dilation);
        return sum(input(i[0], y, x, rc) * weight(ry, rx, rc, i[3]), {ry, rx, rc});
      },
      name);
}

Tensor conv2d_nchw_grouped(const Tensor& data, const Tensor& weight, int64_t stride, int64_t pad, int64_t dilation,
                           int64_t groups, const std::string& name) {
  const char* op = "conv2d_nchw_grouped";
  if (data.ndim() != 4 || weight.ndim() != 4)
    fail(op, ": data (NCHW) and weight ([K, C/groups, R, S]) must be 4-D, got ", data.name(), " with ", data.ndim(),
         " and ", weight.name(), " with ", weight.ndim(), " dimensions");
  check_conv_params(op, stride, pad, dilation);
  if (groups < 1) fail(op, ": groups = ", groups, " must be at least 1");
  const std::vector<int64_t> d = constant_shape(op, data), w = constant_shape(op, weight);
  if (d[1] % groups != 0 || w[0] % groups != 0)
    fail(op, ": groups = ", groups, " must divide the input channels (", d[1], ") and the filters (", w[0], ")");
  const int64_t cg = d[1] / groups, kg = w[0] / groups;
  if (w[1] != cg)
    fail(op, ": ", weight.name(), " must be [K, C/groups, R, S] with C/groups = ", cg, ", got ", w[1],
         " input channels per filter");
  const int64_t oh = out_extent(op, "height", d[2], w[2], stride, pad, dilation);
  const int64_t ow = out_extent(op, "width", d[3], w[3], stride, pad, dilation);
  Tensor input = detail::pad_axes(data, {2, 3}, pad, name);
  IterVar rc = reduce_axis(Range(0, cg), "rc");
  IterVar ry = reduce_axis(Range(0, w[2]), "ry"), rx = reduce_axis(Range(0, w[3]), "rx");
  return compute(
      {d[0], w[0], oh, ow},
      [&](const std::vector<Var>& i) {
        Expr c = floordiv(i[1], Expr(kg)) * Expr(cg) + rc;
        Expr y = i[2] * Expr(stride) + ry * Expr(dilation), x = i[3] * Expr(stride) + rx * Expr(dilation);
        return sum(input(i[0], c, y, x) * weight(i[1], rc, ry, rx), {rc, ry, rx});
      },
      name);
}

Tensor conv2d_transpose_nchw(const Tensor& data, const Tensor& weight, int64_t stride, int64_t pad,
                             const std::string& name) {
  const char* op = "conv2d_transpose_nchw";
  if (data.ndim() != 4 || weight.ndim() != 4)
    fail(op, ": data (NCHW) and weight ([C, K, R, S]) must be 4-D, got ", data.name(), " with ", data.ndim(), " and ",
         weight.name(), " with ", weight.ndim(), " dimensions");
  check_conv_params(op, stride, pad, 1);
  const std::vector<int64_t> d = constant_shape(op, data), w = constant_shape(op, weight);
  if (w[0] != d[1])
    fail(op, ": ", data.name(), " has ", d[1], " channels but ", weight.name(), " ([C, K, R, S]) expects ", w[0]);
  if (pad > w[2] - 1 || pad > w[3] - 1)
    fail(op, ": pad = ", pad, " must be at most the kernel size - 1 (", std::min(w[2], w[3]) - 1, ")");
  // The input dilated by the stride and padded by kernel - 1 - pad, read through an inlined stage.
  const int64_t bh = w[2] - 1 - pad, bw = w[3] - 1 - pad;
  const int64_t dh = (d[2] - 1) * stride + 1, dw = (d[3] - 1) * stride + 1;
  Tensor dilated = compute(
      {d[0], d[1], dh + 2 * bh, dw + 2 * bw},
      [&](const std::vector<Var>& i) {
        Expr y = i[2] - Expr(bh), x = i[3] - Expr(bw);
        Expr inside = y >= Expr(int64_t(0)) && y < Expr(dh) && x >= Expr(int64_t(0)) && x < Expr(dw) &&
                      floormod(y, Expr(stride)) == Expr(int64_t(0)) && floormod(x, Expr(stride)) == Expr(int64_t(0));
        return if_then_else(inside, data(i[0], i[1], floordiv(y, Expr(stride)), floordiv(x, Expr(stride))),
                            constant(0.0, data.dtype()));
      },
      name + "_dilate");
  const int64_t oh = dh + 2 * bh - w[2] + 1, ow = dw + 2 * bw - w[3] + 1;
  IterVar rc = reduce_axis(Range(0, d[1]), "rc");
  IterVar ry = reduce_axis(Range(0, w[2]), "ry"), rx = reduce_axis(Range(0, w[3]), "rx");
  return compute(
      {d[0], w[1], oh, ow},
      [&](const std::vector<Var>& i) {
        return sum(dilated(i[0], rc, i[2] + ry, i[3] + rx) *
                       weight(rc, i[1], Expr(w[2] - 1) - ry, Expr(w[3] - 1) - rx),
                   {rc, ry, rx});
      },
      name);
}

Tensor conv3d_ncdhw(const Tensor& data, const Tensor& weight, int64_t stride, int64_t pad, int64_t dilation,
                    const std::string& name) {
  const char* op = "conv3d_ncdhw";
  if (data.ndim() != 5 || weight.ndim() != 5)
    fail(op, ": data (NCDHW) and weight (KCTRS) must be 5-D, got ", data.name(), " with ", data.ndim(), " and ",
         weight.name(), " with ", weight.ndim(), " dimensions");
  check_conv_params(op, stride, pad, dilation);
  const std::vector<int64_t> d = constant_shape(op, data), w = constant_shape(op, weight);
  if (w[1] != d[1]) fail(op, ": ", data.name(), " has ", d[1], " input channels but ", weight.name(), " expects ", w[1]);
  const int64_t od = out_extent(op, "depth", d[2], w[2], stride, pad, dilation);
  const int64_t oh = out_extent(op, "height", d[3], w[3], stride, pad, dilation);
  const int64_t ow = out_extent(op, "width", d[4], w[4], stride, pad, dilation);
  Tensor input = detail::pad_axes(data, {2, 3, 4}, pad, name);
  IterVar rc = reduce_axis(Range(0, w[1]), "rc"), rz = reduce_axis(Range(0, w[2]), "rz");
  IterVar ry = reduce_axis(Range(0, w[3]), "ry"), rx = reduce_axis(Range(0, w[4]), "rx");
  return compute(
      {d[0], w[0], od, oh, ow},
      [&](const std::vector<Var>& i) {
        Expr z = i[2] * Expr(stride) + rz * Expr(dilation), y = i[3] * Expr(stride) + ry * Expr(dilation);
        Expr x = i[4] * Expr(stride) + rx * Expr(dilation);
        return sum(input(i[0], rc, z, y, x) * weight(i[1], rc, rz, ry, rx), {rc, rz, ry, rx});
      },
      name);
}

namespace detail {

Tensor pad_axes(const Tensor& data, const std::vector<size_t>& axes, int64_t pad, const std::string& name) {
  if (pad == 0) return data;
  std::vector<Expr> shape = data.shape();
  for (size_t a : axes) shape[a] = shape[a] + Expr(2 * pad);
  return compute(
      shape,
      [&](const std::vector<Var>& i) {
        std::vector<Expr> conds, index(i.begin(), i.end());
        for (size_t a : axes) {
          conds.push_back(i[a] >= Expr(pad) && i[a] < data.shape()[a] + Expr(pad));
          index[a] = i[a] - Expr(pad);
        }
        return if_then_else(all(conds), data(index), constant(0.0, data.dtype()));
      },
      name + "_pad");
}

namespace {

using autotune::Config;
using autotune::Instance;

void check_args(const char* op, const std::vector<int64_t>& args, const std::vector<const char*>& names,
                const std::string& may_be_zero, const Target& target) {
  if (args.size() != names.size()) {
    std::string list;
    for (const char* n : names) list += (list.empty() ? "" : ", ") + std::string(n);
    fail(op, ": expects ", names.size(), " arguments (", list, "), got ", args.size());
  }
  for (size_t i = 0; i < names.size(); ++i) check_arg_at_least(op, names[i], args[i], names[i] == may_be_zero ? 0 : 1);
  if (target.kind != "llvm" && target.kind != "cuda")
    fail(op, ": no schedule for target '", target.kind, "'; use llvm or cuda");
}

// Schedules out (itself the reduction) with its padding/dilation producers the plain way.
Instance schedule_conv(Config& cfg, const char* op, const Target& target, const std::vector<Tensor>& inputs,
                       const Tensor& out) {
  std::vector<Tensor> pads;
  for (const Tensor& t : out.op()->input_tensors())
    if (t.op().as<ComputeOpNode>()) pads.push_back(t);
  Schedule s = create_schedule({out.op()});
  if (target.kind == "cuda") schedule_plain_cuda(cfg, s, out, out, pads, op);
  else schedule_plain_llvm(cfg, s, out, out, pads);
  std::vector<Tensor> args = inputs;
  args.push_back(out);
  return {s, args};
}

Tensor input(const std::vector<int64_t>& shape, const char* name) {
  return placeholder(std::vector<Expr>(shape.begin(), shape.end()), DataType::float32(), name);
}

}  // namespace

Instance conv2d_nhwc_template(Config& cfg, const std::vector<int64_t>& a, const Target& target) {
  check_args("conv2d_nhwc", a, {"n", "h", "w", "c", "k", "r", "s", "stride", "pad", "dilation"}, "pad", target);
  Tensor data = input({a[0], a[1], a[2], a[3]}, "data"), weight = input({a[5], a[6], a[3], a[4]}, "weight");
  return schedule_conv(cfg, "conv2d_nhwc", target, {data, weight}, conv2d_nhwc(data, weight, a[7], a[8], a[9], "conv"));
}

Instance conv2d_grouped_template(Config& cfg, const std::vector<int64_t>& a, const Target& target) {
  check_args("conv2d_grouped", a, {"n", "c", "h", "w", "k", "r", "s", "stride", "pad", "dilation", "groups"}, "pad",
             target);
  if (a[1] % a[10] != 0 || a[4] % a[10] != 0)
    fail("conv2d_grouped: groups = ", a[10], " must divide c = ", a[1], " and k = ", a[4]);
  Tensor data = input({a[0], a[1], a[2], a[3]}, "data"), weight = input({a[4], a[1] / a[10], a[5], a[6]}, "weight");
  Tensor conv = conv2d_nchw_grouped(data, weight, a[7], a[8], a[9], a[10], "conv");  // checks the shape
  // One group is a (dilated) conv2d: the conv2d template's register-blocked CPU structure, the
  // weight packed in the kernel (the plain schedule vectorizes x alone: a third of the FMA peak).
  if (a[10] == 1 && target.kind == "llvm") {
    ConvShape cs{a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8]};
    cs.dilation = a[9];
    return conv2d_blocked_llvm(cfg, cs);
  }
  return schedule_conv(cfg, "conv2d_grouped", target, {data, weight}, conv);
}

Instance conv2d_transpose_template(Config& cfg, const std::vector<int64_t>& a, const Target& target) {
  check_args("conv2d_transpose", a, {"n", "c", "h", "w", "k", "r", "s", "stride", "pad"}, "pad", target);
  Tensor data = input({a[0], a[1], a[2], a[3]}, "data"), weight = input({a[1], a[4], a[5], a[6]}, "weight");
  return schedule_conv(cfg, "conv2d_transpose", target, {data, weight},
                       conv2d_transpose_nchw(data, weight, a[7], a[8], "conv_transpose"));
}

Instance conv3d_template(Config& cfg, const std::vector<int64_t>& a, const Target& target) {
  check_args("conv3d", a, {"n", "c", "d", "h", "w", "k", "t", "r", "s", "stride", "pad"}, "pad", target);
  Tensor data = input({a[0], a[1], a[2], a[3], a[4]}, "data"), weight = input({a[5], a[1], a[6], a[7], a[8]}, "weight");
  Tensor conv = conv3d_ncdhw(data, weight, a[9], a[10], 1, "conv3d");  // checks the shape
  if (target.kind == "llvm")
    return conv3d_blocked_llvm(cfg, Conv3dShape{a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10]});
  return schedule_conv(cfg, "conv3d", target, {data, weight}, conv);
}

}  // namespace detail
}  // namespace te::ops
