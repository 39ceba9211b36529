// src/ops/pooling.cc — 2-D max and average pooling over NCHW and NCHWc (NCHW16c): the computes
// (pool2d, pool2d_nchwc: one definition, the window over axes 2 and 3) and the "max_pool2d" /
// "avg_pool2d" and "max_pool2d_nchwc" / "avg_pool2d_nchwc" templates.
//
// Stages: a padding stage "<name>_pad" when pad > 0 (-inf for max, so padding never wins; 0
// for avg), then for max the window reduction itself, for avg a window sum "<name>_sum" and the
// division (by kernel^2 with count_include_pad, else by the cells inside the input). Both are
// memory-bound: the schedules are the plain ones (schedule_plain_llvm/_cuda) — the output's x
// vectorized on the CPU with the window loops unrolled outside the tile, a few outputs per thread
// on the GPU — with the padding inlined or computed first (a knob on the CPU). The NCHWc
// templates vectorize the 16-channel block instead (schedule_blocked_llvm): every load a whole
// aligned vector and no border inside a vector, as oneDNN's nChw16c kernels.
#include "ops/templates.h"
#include "te/ops.h"

namespace te::ops {

namespace {

// data's index at i with the spatial axes (2 and 3 in NCHW and NCHWc alike) replaced by y, x.
std::vector<Expr> at_hw(const std::vector<Var>& i, const Expr& y, const Expr& x) {
  std::vector<Expr> idx(i.begin(), i.end());
  idx[2] = y;
  idx[3] = x;
  return idx;
}

// The pooling of either layout: the window slides over axes 2 and 3, every other axis (the
// channels, and in NCHWc the block) passes through. `fn` names the caller in errors.
Tensor pool2d_spatial(const char* fn, const Tensor& data, const std::string& kind, int64_t kernel, int64_t stride,
                      int64_t pad, bool count_include_pad, const std::string& name) {
  if (kind != "max" && kind != "avg") fail(fn, ": kind '", kind, "' is not a pooling; use \"max\" or \"avg\"");
  if (kernel < 1) fail(fn, ": kernel = ", kernel, " must be at least 1");
  if (stride < 1) fail(fn, ": stride = ", stride, " must be at least 1");
  if (pad < 0) fail(fn, ": pad = ", pad, " must not be negative");
  if (2 * pad > kernel)
    fail(fn, ": pad = ", pad, " must be at most half the kernel (", kernel, "), or a window could hold only padding");
  const std::vector<Expr>& ds = data.shape();
  const int64_t* h = as_const_int(ds[2]);
  const int64_t* w = as_const_int(ds[3]);
  if (!h || !w) fail(fn, ": the height and width of ", data.name(), " must be constant");
  if (*h + 2 * pad < kernel || *w + 2 * pad < kernel)
    fail(fn, ": the padded input (", *h + 2 * pad, " x ", *w + 2 * pad, ") is smaller than the kernel (", kernel, ")");
  const int64_t oh = (*h + 2 * pad - kernel) / stride + 1, ow = (*w + 2 * pad - kernel) / stride + 1;
  const bool is_max = kind == "max";
  const Expr fill = is_max ? min_value(data.dtype()) : constant(0.0, data.dtype());
  const Tensor input = detail::pad_hw(data, pad, fill, name + "_pad");
  IterVar ry = reduce_axis(Range(0, kernel), "ry"), rx = reduce_axis(Range(0, kernel), "rx");
  auto window = [&](const std::vector<Var>& i) {
    return input(at_hw(i, i[2] * Expr(stride) + ry, i[3] * Expr(stride) + rx));
  };
  std::vector<Expr> shape = ds;
  shape[2] = Expr(oh);
  shape[3] = Expr(ow);
  if (is_max)
    return compute(shape, [&](const std::vector<Var>& i) { return te::max(window(i), std::vector<IterVar>{ry, rx}); }, name);
  Tensor total = compute(shape, [&](const std::vector<Var>& i) { return sum(window(i), {ry, rx}); }, name + "_sum");
  return compute(
      shape,
      [&](const std::vector<Var>& i) {
        const Expr t = total(std::vector<Expr>(i.begin(), i.end()));
        if (count_include_pad) return t / constant(double(kernel * kernel), data.dtype());
        // Cells of the window inside the input, per dimension: min(start + kernel, size) - max(start, 0).
        auto inside = [&](const Var& o, int64_t size) {
          Expr start = o * Expr(stride) - Expr(pad);
          return te::min(start + Expr(kernel), Expr(size)) - te::max(start, Expr(int64_t(0)));
        };
        return t / cast(data.dtype(), inside(i[2], *h) * inside(i[3], *w));
      },
      name);
}

}  // namespace

namespace detail {
Tensor pad_hw(const Tensor& data, int64_t pad, const Expr& fill, const std::string& name) {
  if (pad == 0) return data;
  const std::vector<Expr>& ds = data.shape();
  const int64_t h = *as_const_int(ds[2]), w = *as_const_int(ds[3]);
  std::vector<Expr> shape = ds;
  shape[2] = Expr(h + 2 * pad);
  shape[3] = Expr(w + 2 * pad);
  return compute(
      shape,
      [&](const std::vector<Var>& i) {
        Expr inside = i[2] >= Expr(pad) && i[2] < Expr(h + pad) && i[3] >= Expr(pad) && i[3] < Expr(w + pad);
        return if_then_else(inside, data(at_hw(i, i[2] - Expr(pad), i[3] - Expr(pad))), fill);
      },
      name);
}
}  // namespace detail

Tensor pool2d(const Tensor& data, const std::string& kind, int64_t kernel, int64_t stride, int64_t pad,
              bool count_include_pad, const std::string& name) {
  if (data.ndim() != 4) fail("pool2d: data must be 4-D (NCHW), got ", data.name(), " with ", data.ndim(), " dimensions");
  return pool2d_spatial("pool2d", data, kind, kernel, stride, pad, count_include_pad, name);
}

Tensor pool2d_nchwc(const Tensor& data, const std::string& kind, int64_t kernel, int64_t stride, int64_t pad,
                    bool count_include_pad, const std::string& name) {
  if (data.ndim() != 5)
    fail("pool2d_nchwc: data must be 5-D (NCHWc: [N, C/block, H, W, block]), got ", data.name(), " with ",
         data.ndim(), " dimensions");
  return pool2d_spatial("pool2d_nchwc", data, kind, kernel, stride, pad, count_include_pad, name);
}

namespace detail {
namespace {

using autotune::Config;
using autotune::Instance;

// blocked: the NCHWc operator ("max_pool2d_nchwc", data [n, c/16, h, w, 16]), else NCHW.
Instance pool_template(Config& cfg, const std::vector<int64_t>& args, const Target& target, const char* op_name,
                       const std::string& kind, bool blocked) {
  static const char* names[] = {"n", "c", "h", "w", "kernel", "stride", "pad"};
  if (args.size() != 7) fail(op_name, ": expects 7 arguments (n, c, h, w, kernel, stride, pad), got ", args.size());
  for (size_t i = 0; i < 7; ++i) check_arg_at_least(op_name, names[i], args[i], i == 6 ? 0 : 1);
  if (target.kind != "llvm" && target.kind != "cuda")
    fail(op_name, ": no schedule for target '", target.kind, "'; use llvm or cuda");
  Tensor data = blocked ? placeholder(nchwc_shape(op_name, args[0], args[1], args[2], args[3]), DataType::float32(),
                                      "data_nchwc")
                        : placeholder({args[0], args[1], args[2], args[3]}, DataType::float32(), "data");
  Tensor out = blocked ? pool2d_nchwc(data, kind, args[4], args[5], args[6], true, "pool")
                       : pool2d(data, kind, args[4], args[5], args[6], true, "pool");
  // The stages: the optional padding, the window reduction (avg: the sum feeding the division).
  Tensor reduction = out, pad;
  for (const Tensor& t : out.op()->input_tensors()) {
    if (!t.op().as<ComputeOpNode>()) continue;
    if (kind == "avg") reduction = t;
    else pad = t;
  }
  if (kind == "avg")
    for (const Tensor& t : reduction.op()->input_tensors())
      if (t.op().as<ComputeOpNode>()) pad = t;
  std::vector<Tensor> pads;
  if (pad.defined()) pads.push_back(pad);
  Schedule s = create_schedule({out.op()});
  if (target.kind == "cuda") schedule_plain_cuda(cfg, s, out, reduction, pads, op_name);
  else if (blocked) schedule_blocked_llvm(cfg, s, out, reduction, pads);
  else schedule_plain_llvm(cfg, s, out, reduction, pads);
  return {s, {data, out}};
}

}  // namespace

Instance max_pool2d_template(Config& cfg, const std::vector<int64_t>& args, const Target& target) {
  return pool_template(cfg, args, target, "max_pool2d", "max", false);
}

Instance avg_pool2d_template(Config& cfg, const std::vector<int64_t>& args, const Target& target) {
  return pool_template(cfg, args, target, "avg_pool2d", "avg", false);
}

Instance max_pool2d_nchwc_template(Config& cfg, const std::vector<int64_t>& args, const Target& target) {
  return pool_template(cfg, args, target, "max_pool2d_nchwc", "max", true);
}

Instance avg_pool2d_nchwc_template(Config& cfg, const std::vector<int64_t>& args, const Target& target) {
  return pool_template(cfg, args, target, "avg_pool2d_nchwc", "avg", true);
}

}  // namespace detail
}  // namespace te::ops
