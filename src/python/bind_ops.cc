// src/python/bind_ops.cc — te._core._ops: the operator library (include/te/ops.h) from Python:
// its computes, the CPU conv2d weight layout transform, and the operators and workload sets that
// `autotune --list-ops` shows. The user-facing module is python/te/ops.py.
#include "python/bindings.h"
#include "te/ops.h"

namespace te::python {

namespace {

py::dict op_info(const ops::OpInfo& op) {
  py::dict shape;
  for (size_t i = 0; i < op.arg_names.size() && i < op.default_args.size(); ++i)
    shape[py::str(op.arg_names[i])] = op.default_args[i];
  py::dict d;
  d["name"] = op.name;
  d["description"] = op.description;
  d["arg_names"] = op.arg_names;
  d["default_shape"] = shape;
  d["targets"] = op.targets;
  return d;
}

}  // namespace

void bind_ops(py::module_& m) {
  py::module_ o = m.def_submodule("_ops", "The operator library's C++ side; use it through te.ops.");
  // name (and out_dtype) stay positional (te.ops.matmul(A, B, "C") as before); the layout flags
  // are keyword-only.
  o.def("matmul",
        [](const Tensor& a, const Tensor& b, const std::string& name, const std::string& out_dtype, bool trans_a,
           bool trans_b) { return ops::matmul(a, b, trans_a, trans_b, name, out_dtype); },
        py::arg("a"), py::arg("b"), py::arg("name") = "C", py::arg("out_dtype") = "", py::kw_only(),
        py::arg("trans_a") = false, py::arg("trans_b") = false,
        "C[m, n] = sum_k A[m, k] * B[k, n] as a compute (te.Tensor); A is [k, m] when trans_a, B is [n, k] when "
        "trans_b. float16 A and B accumulate in float32 (sum_k float32(A) * float32(B)); out_dtype '' or "
        "'float16' rounds the result to float16 in a second stage '<name>' over '<name>_acc', 'float32' keeps "
        "the float32 sum as one stage.");
  o.def("batch_matmul", &ops::batch_matmul, py::arg("a"), py::arg("b"), py::arg("trans_a") = false,
        py::arg("trans_b") = false, py::arg("name") = "C",
        "C[b, i, j] = sum_k A[b, i, k] * B[b, k, j] as a compute; A is [b, k, i] when trans_a, B is [b, j, k] "
        "when trans_b.");
  o.def("softmax", &ops::softmax, py::arg("x"), py::arg("name") = "softmax",
        "Numerically stable softmax over the last axis of a 2-D float tensor, as a compute.");
  o.def("layer_norm", &ops::layer_norm, py::arg("x"), py::arg("gamma"), py::arg("beta"), py::arg("epsilon") = 1e-5,
        py::arg("name") = "layer_norm",
        "(x - mean) * rsqrt(var + epsilon) * gamma + beta over the last axis of a 2-D float tensor, as a compute.");
  o.def("conv2d_nchw", &ops::conv2d_nchw, py::arg("data"), py::arg("weight"), py::arg("stride") = 1,
        py::arg("pad") = 0, py::arg("dilation") = 1, py::arg("name") = "conv",
        "NCHW 2-D convolution of data [N, C, H, W] with weight [K, C, R, S], zero padding, as a compute.");
  o.def("conv2d_pack_weight", &ops::conv2d_pack_weight, py::arg("weight"), py::arg("name") = "weight_packed",
        "The CPU conv2d kernels' weight layout OIHW16o as a compute of weight [K, C, R, S]: "
        "packed[kb, c, r, s, kk] = weight[kb*16 + kk, c, r, s], zero beyond K; build it once per weight.");
  o.def("conv2d_nchwc", &ops::conv2d_nchwc, py::arg("data"), py::arg("weight"), py::arg("stride") = 1,
        py::arg("pad") = 0, py::arg("dilation") = 1, py::arg("name") = "conv",
        "Blocked conv2d as a compute: data [N, C/cb, H, W, cb], weight [K/kb, C/cb, R, S, cb, kb] -> "
        "[N, K/kb, OH, OW, kb] (oneDNN's nChw16c / TVM's conv2d_NCHWc layouts; blocks from the shapes).");
  o.def("nchw_to_nchwc", &ops::nchw_to_nchwc, py::arg("data"), py::arg("block"), py::arg("name") = "data_nchwc",
        "NCHW -> NCHW{block}c ([N, C/block, H, W, block]) as a compute; block must divide C.");
  o.def("nchwc_to_nchw", &ops::nchwc_to_nchw, py::arg("data"), py::arg("name") = "data_nchw",
        "NCHW{b}c -> NCHW as a compute.");
  o.def("conv2d_nchwc_pack_weight", &ops::conv2d_nchwc_pack_weight, py::arg("weight"), py::arg("in_block"),
        py::arg("out_block"), py::arg("name") = "weight_nchwc",
        "KCRS -> [K/out_block, C/in_block, R, S, in_block, out_block] (conv2d_nchwc's weight) as a compute; "
        "the blocks must divide C and K.");
  o.def("conv2d_nchw_bias_relu", &ops::conv2d_nchw_bias_relu, py::arg("data"), py::arg("weight"), py::arg("bias"),
        py::arg("stride") = 1, py::arg("pad") = 0, py::arg("dilation") = 1, py::arg("name") = "conv_bias_relu",
        "relu(conv2d_nchw(data, weight) + bias[k]) as a compute; the epilogue fuses into the convolution's tile.");
  o.def("dense", &ops::dense, py::arg("data"), py::arg("weight"), py::arg("bias"), py::arg("activation") = "none",
        py::arg("name") = "dense",
        "act(data[m, k] @ weight[k, n] + bias[n]) as a compute; activation 'none', 'relu' or 'gelu' (erf form; erf as a rational function within 3.2e-7).");
  o.def("linear", &ops::linear, py::arg("data"), py::arg("weight"), py::arg("bias"), py::arg("activation") = "none",
        py::arg("name") = "linear",
        "act(data[m, k] @ weight[n, k]^T + bias[n]) as a compute: dense with a PyTorch Linear weight [out, in].");
  o.def("pool2d", &ops::pool2d, py::arg("data"), py::arg("kind"), py::arg("kernel"), py::arg("stride"),
        py::arg("pad") = 0, py::arg("count_include_pad") = true, py::arg("name") = "pool",
        "NCHW max ('max') or average ('avg') pooling with a kernel x kernel window as a compute; average pooling "
        "divides by kernel^2 when count_include_pad, else by the cells inside the input.");
  o.def("depthwise_conv2d_nchw", &ops::depthwise_conv2d_nchw, py::arg("data"), py::arg("weight"),
        py::arg("stride") = 1, py::arg("pad") = 0, py::arg("dilation") = 1, py::arg("name") = "depthwise",
        "Depthwise NCHW conv2d (multiplier 1) of data [N, C, H, W] with weight [C, 1, R, S] as a compute.");
  // The blocked (NCHW16c) depthwise conv2d and pooling, and their layout transforms.
  o.attr("nchwc_block") = ops::kNchwcBlock;
  o.def("depthwise_conv2d_nchwc", &ops::depthwise_conv2d_nchwc, py::arg("data"), py::arg("weight"),
        py::arg("stride") = 1, py::arg("pad") = 0, py::arg("dilation") = 1, py::arg("name") = "depthwise",
        "Depthwise conv2d of NCHWc data [N, C/b, H, W, b] with a packed weight [C/b, R, S, b] as a compute.");
  o.def("depthwise_pack_weight", &ops::depthwise_pack_weight, py::arg("weight"), py::arg("block") = ops::kNchwcBlock,
        py::arg("name") = "weight_nchwc",
        "The depthwise weight [C, 1, R, S] packed as [C/block, R, S, block], as a compute.");
  o.def("pool2d_nchwc", &ops::pool2d_nchwc, py::arg("data"), py::arg("kind"), py::arg("kernel"), py::arg("stride"),
        py::arg("pad") = 0, py::arg("count_include_pad") = true, py::arg("name") = "pool",
        "pool2d over NCHWc data [N, C/b, H, W, b] as a compute (output blocked the same way).");
  o.def("nchw_to_nchwc", &ops::nchw_to_nchwc, py::arg("data"), py::arg("block"), py::arg("name") = "data_nchwc",
        "The layout transform NCHW -> NCHW{block}c as a compute (block must divide C).");
  o.def("nchwc_to_nchw", &ops::nchwc_to_nchw, py::arg("data"), py::arg("name") = "data_nchw",
        "The layout transform NCHW{b}c -> NCHW as a compute.");
  o.def("schedule_layout_transform", &ops::schedule_layout_transform, py::arg("transform"),
        "A CPU schedule for a layout transform compute: outer axes parallel, innermost vectorized.");
  o.def("conv2d_nhwc", &ops::conv2d_nhwc, py::arg("data"), py::arg("weight"), py::arg("stride") = 1,
        py::arg("pad") = 0, py::arg("dilation") = 1, py::arg("name") = "conv",
        "NHWC conv2d of data [N, H, W, C] with weight [R, S, C, K] as a compute.");
  o.def("conv2d_nchw_grouped", &ops::conv2d_nchw_grouped, py::arg("data"), py::arg("weight"), py::arg("stride") = 1,
        py::arg("pad") = 0, py::arg("dilation") = 1, py::arg("groups") = 1, py::arg("name") = "conv",
        "Grouped NCHW conv2d with weight [K, C/groups, R, S] as a compute.");
  o.def("conv2d_transpose_nchw", &ops::conv2d_transpose_nchw, py::arg("data"), py::arg("weight"),
        py::arg("stride") = 1, py::arg("pad") = 0, py::arg("name") = "conv_transpose",
        "Transposed NCHW conv2d (PyTorch ConvTranspose2d, no output_padding) with weight [C, K, R, S] as a compute.");
  o.def("conv3d_ncdhw", &ops::conv3d_ncdhw, py::arg("data"), py::arg("weight"), py::arg("stride") = 1,
        py::arg("pad") = 0, py::arg("dilation") = 1, py::arg("name") = "conv3d",
        "NCDHW conv3d of data [N, C, D, H, W] with weight [K, C, T, R, S] as a compute.");
  o.attr("conv2d_channel_block") = ops::kConv2dChannelBlock;
  o.def("list_ops", [] {
    py::list out;
    for (const ops::OpInfo& op : ops::list_ops()) out.append(op_info(op));
    return out;
  }, "Every tunable operator: name, description, arg_names, default_shape, targets.");
  o.def("workload_sets", [] {
    py::dict out;
    for (const ops::WorkloadSet& set : ops::workload_sets()) {
      py::list workloads;
      for (const ops::Workload& w : set.workloads) {
        py::dict d;
        d["label"] = w.label;
        d["op"] = w.op;
        d["args"] = w.args;
        workloads.append(d);
      }
      out[py::str(set.name)] = workloads;
    }
    return out;
  }, "The named workload sets of `autotune --workloads`: {name: [{label, op, args}, ...]}.");
}

}  // namespace te::python
