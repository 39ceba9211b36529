// te/ops.h — the operator library: compute definitions, default schedules and tuning
// templates shared by the `autotune` command, Python and the tests. Each operator registers
// an autotune template under its name (see te/autotune/task.h) with named integer
// arguments, so `autotune --op matmul --shape m=1024,n=1024,k=1024` and
// create_task("matmul", {1024, 1024, 1024}) mean the same task.
#pragma once
#include <cstdint>
#include <string>
#include <vector>
#include "te/operation.h"
#include "te/schedule.h"

namespace te::ops {

// C[m, n] = sum_k A[m, k] * B[k, n]. A and B share one dtype (te::Error otherwise). float16
// inputs accumulate in float32 (sum_k float32(A) * float32(B)); out_dtype "" or "float16" then
// gives two stages, `<name>_acc` (the float32 sum) and `<name>` = float16(<name>_acc), and
// "float32" one stage `<name>` (the float32 sum). Other inputs: out_dtype "" or their dtype.
Tensor matmul(const Tensor& a, const Tensor& b, const std::string& name = "C", const std::string& out_dtype = "");
// The same with A given as [k, m] when trans_a and B as [n, k] when trans_b (NT: B is a PyTorch
// Linear weight or K in Q.K^T). Both flags are required, so matmul(a, b, "C") stays the NN one.
Tensor matmul(const Tensor& a, const Tensor& b, bool trans_a, bool trans_b, const std::string& name = "C",
              const std::string& out_dtype = "");
// Without this, matmul(a, b, "C", "float32") would convert both string literals to bool (a
// standard conversion beats std::string's) and silently pick the transposed overload.
inline Tensor matmul(const Tensor& a, const Tensor& b, const char* name, const char* out_dtype) {
  return matmul(a, b, std::string(name), std::string(out_dtype));
}
// C[b, i, j] = sum_k A[b, i, k] * B[b, k, j], with A given as [b, k, i] when trans_a and B as
// [b, j, k] when trans_b (NN, NT, TN, TT). te::Error for inputs that are not 3-D or whose batch
// or reduction sizes differ.
Tensor batch_matmul(const Tensor& a, const Tensor& b, bool trans_a = false, bool trans_b = false,
                    const std::string& name = "C");
// out[i, j] = exp(x[i, j] - max_k x[i, k]) / sum_k exp(x[i, k] - max_k x[i, k]) over the last
// axis of a 2-D float tensor [m, n] (numerically stable). Stages: <name>_max, <name>_exp,
// <name>_sum, then <name>. te::Error unless x is 2-D and floating point.
Tensor softmax(const Tensor& x, const std::string& name = "softmax");
// out[i, j] = (x[i, j] - mean_i) * rsqrt(var_i + epsilon) * gamma[j] + beta[j] over the last
// axis of a 2-D float tensor [m, n], with the biased (population) variance of the row. Stages:
// <name>_mean, <name>_var (two-pass, centered), <name>_rstd, then <name>. te::Error unless x is
// 2-D, gamma and beta are 1-D of x's last size, all three share x's float dtype, and
// epsilon >= 0.
Tensor layer_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, double epsilon = 1e-5,
                  const std::string& name = "layer_norm");
// out[n, k, y, x] = sum_{c, r, s} data[n, c, y*stride + r*dilation - pad, ...] * weight[k, c, r, s]
// (zero padding through if_then_else).
Tensor conv2d_nchw(const Tensor& data, const Tensor& weight, int64_t stride, int64_t pad,
                   int64_t dilation = 1, const std::string& name = "conv");

// relu(conv2d_nchw(data, weight) + bias[k]) as one compute stage over the convolution (the
// epilogue fuses into the convolution's output tile). bias is [k].
Tensor conv2d_nchw_bias_relu(const Tensor& data, const Tensor& weight, const Tensor& bias, int64_t stride,
                             int64_t pad, int64_t dilation = 1, const std::string& name = "conv_bias_relu");
// out[i, j] = act(sum_k data[i, k] * weight[k, j] + bias[j]): a dense (fully connected) layer with
// weight stored [k, n] (as matmul's B) and activation "none", "relu" or "gelu" (PyTorch's erf
// form 0.5 x (1 + erf(x / sqrt(2))), erf as a rational function within 3.2e-7 of it in float32, so
// that the epilogue vectorizes). Stages: <name>_mm, then <name>. te::Error on mismatched shapes
// or an unknown activation.
Tensor dense(const Tensor& data, const Tensor& weight, const Tensor& bias, const std::string& activation = "none",
             const std::string& name = "dense");
// The same with a PyTorch Linear weight: weight stored [n, k] (out_features, in_features), so
// out = act(data @ weight^T + bias). The CPU kernel's panel packing absorbs the transpose.
Tensor linear(const Tensor& data, const Tensor& weight, const Tensor& bias, const std::string& activation = "none",
              const std::string& name = "linear");
// 2-D pooling over NCHW data with a kernel x kernel window, stride and symmetric zero-based padding:
// "max" (padding never wins: padded cells are -inf) or "avg". Average pooling divides by
// kernel*kernel when count_include_pad (PyTorch's default, and the "avg_pool2d" template's
// semantics: padded cells count as zeros), else by the number of cells inside the input.
// te::Error for a non-4-D input, kernel/stride < 1, pad < 0 or pad >= kernel.
Tensor pool2d(const Tensor& data, const std::string& kind, int64_t kernel, int64_t stride, int64_t pad,
              bool count_include_pad = true, const std::string& name = "pool");
// Depthwise NCHW conv2d, channel multiplier 1: out[n, c, y, x] = sum_{r, s}
// data[n, c, y*stride + r*dilation - pad, x*stride + s*dilation - pad] * weight[c, 0, r, s], zero
// padding. weight is [C, 1, R, S].
Tensor depthwise_conv2d_nchw(const Tensor& data, const Tensor& weight, int64_t stride, int64_t pad,
                             int64_t dilation = 1, const std::string& name = "depthwise");

// NHWC conv2d: data [N, H, W, C], weight [R, S, C, K] (RSCK/HWIO), zero padding, dilation.
Tensor conv2d_nhwc(const Tensor& data, const Tensor& weight, int64_t stride, int64_t pad, int64_t dilation = 1,
                   const std::string& name = "conv");
// Grouped NCHW conv2d: weight [K, C/groups, R, S]; filter k sees the input channels of its group
// (k / (K/groups)). groups must divide C and K. groups = C = K is depthwise; groups = 1 is conv2d_nchw.
Tensor conv2d_nchw_grouped(const Tensor& data, const Tensor& weight, int64_t stride, int64_t pad, int64_t dilation,
                           int64_t groups, const std::string& name = "conv");
// Transposed NCHW conv2d (the gradient of conv2d with respect to its input; PyTorch's
// ConvTranspose2d without output_padding or dilation): data [N, C, H, W], weight [C, K, R, S],
// output [N, K, (H-1)*stride - 2*pad + R, (W-1)*stride - 2*pad + S]; pad <= kernel - 1. Stages:
// <name>_dilate (the input dilated by the stride and padded), then <name>.
Tensor conv2d_transpose_nchw(const Tensor& data, const Tensor& weight, int64_t stride, int64_t pad,
                             const std::string& name = "conv_transpose");
// NCDHW conv3d: data [N, C, D, H, W], weight [K, C, T, R, S], the same stride, padding and
// dilation in all three dimensions.
Tensor conv3d_ncdhw(const Tensor& data, const Tensor& weight, int64_t stride, int64_t pad, int64_t dilation = 1,
                    const std::string& name = "conv3d");

// The CPU ("llvm") conv2d kernels take their weight pre-packed in blocks of
// kConv2dChannelBlock filters, OIHW16o: packed[kb, c, r, s, kk] = weight[kb*16 + kk, c, r, s],
// zero where kb*16 + kk >= K; shape [ceil(K/16), C, R, S, 16]. Weights are constants in
// inference, so the transform runs once (build this compute as its own kernel), and its time
// is reported apart from the convolution's, as oneDNN's reorders are. CUDA kernels take KCRS.
constexpr int64_t kConv2dChannelBlock = 16;
Tensor conv2d_pack_weight(const Tensor& weight, const std::string& name = "weight_packed");

// Depthwise conv2d and pooling in the blocked layout NCHW{b}c (oneDNN's nChw16c): data
// [N, C/b, H, W, b] (channel c at [c / b][.., c % b]), output blocked the same way, b taken from
// data's last dimension; the CPU templates use b = kNchwcBlock (one AVX-512 vector). Semantics
// as depthwise_conv2d_nchw / pool2d. The depthwise weight is pre-packed [C/b, R, S, b]
// (depthwise_pack_weight: weight[c, 0, r, s] at [c / b, r, s, c % b]; te::Error unless b divides C).
constexpr int64_t kNchwcBlock = 16;
Tensor depthwise_conv2d_nchwc(const Tensor& data, const Tensor& weight, int64_t stride, int64_t pad,
                              int64_t dilation = 1, const std::string& name = "depthwise");
Tensor depthwise_pack_weight(const Tensor& weight, int64_t block = kNchwcBlock,
                             const std::string& name = "weight_nchwc");
Tensor pool2d_nchwc(const Tensor& data, const std::string& kind, int64_t kernel, int64_t stride, int64_t pad,
                    bool count_include_pad = true, const std::string& name = "pool");
// The layout transforms (each a compute to build as its own kernel, timed apart from the
// operator): NCHW -> NCHW{block}c (te::Error unless block divides C) and NCHW{b}c -> NCHW.
// schedule_layout_transform gives either (and depthwise_pack_weight) a CPU schedule: the outer
// two axes fused and parallel, the innermost vectorized; NCHW{b}c -> NCHW with planes of a
// multiple of 4 pixels as a transpose (the b channels a serial loop around a vector of the
// plane's pixels, h and w fused).
Tensor nchw_to_nchwc(const Tensor& data, int64_t block, const std::string& name = "data_nchwc");
Tensor nchwc_to_nchw(const Tensor& data, const std::string& name = "data_nchw");
Schedule schedule_layout_transform(const Tensor& transform);
// The blocked ("NCHWc") conv2d, oneDNN's nChw16c / TVM's conv2d_NCHWc layouts, in and out:
//   data   [N, C/cb, H, W, cb]            (input channel c at [c / cb][.., c % cb])
//   weight [K/kb, C/cb, R, S, cb, kb]     (OIHW{cb}i{kb}o)
//   out    [N, K/kb, OH, OW, kb]
//   out[n, ko, y, x, kk] = sum_{ci, r, s, c} data[n, ci, y*stride + r*dilation - pad,
//                                                 x*stride + s*dilation - pad, c] * weight[ko, ci, r, s, c, kk]
// The blocks cb and kb come from the shapes (data's and weight's last dimensions); zero
// padding is a separate "pad" stage when pad > 0. te::Error for ranks, blocks or channel
// counts that do not match, naming both tensors.
Tensor conv2d_nchwc(const Tensor& data, const Tensor& weight, int64_t stride, int64_t pad, int64_t dilation = 1,
                    const std::string& name = "conv");
// The layout transforms around it (each a compute to build as its own kernel; they are timed
// apart from the convolution): NCHW -> NCHW{block}c (te::Error unless block divides C),
// NCHW{b}c -> NCHW, and the weight KCRS -> OIHW{in_block}i{out_block}o (te::Error unless
// in_block divides C and out_block divides K).
Tensor conv2d_nchwc_pack_weight(const Tensor& weight, int64_t in_block, int64_t out_block,
                                const std::string& name = "weight_nchwc");

// One tunable operator as the command line sees it.
struct OpInfo {
  std::string name;                      // also the template name
  std::string description;
  std::vector<std::string> arg_names;    // e.g. {"m", "n", "k"}
  std::vector<int64_t> default_args;     // the default workload
  std::vector<std::string> targets;      // targets it has schedules for: "llvm", "cuda"
  // 0: every argument is required. Otherwise the arguments after the first required_args are
  // optional: parse_shape leaves them out when all are at their defaults, so the workload keys
  // written before they existed (e.g. matmul(m,n,k) before trans_a/trans_b) stay valid.
  size_t required_args = 0;
};

// Every operator (registering their templates on first call).
const std::vector<OpInfo>& list_ops();
const OpInfo& find_op(const std::string& name);  // te::Error listing the known names
// "m=512,k=256" over the op's defaults. te::Error naming an unknown or malformed entry.
std::vector<int64_t> parse_shape(const OpInfo& op, const std::string& text);
// Makes sure the built-in templates are registered (idempotent).
void register_builtin_templates();

// One workload of a named set: an operator of list_ops() with all its arguments.
struct Workload {
  std::string label;              // e.g. "C6" for ResNet-18's sixth conv layer
  std::string op;                 // an OpInfo name
  std::vector<int64_t> args;      // in OpInfo::arg_names order
};
// A named list of workloads that `autotune --workloads NAME` tunes in one job.
struct WorkloadSet {
  std::string name;               // "resnet18-conv", "bert-gemm"
  std::string description;
  std::vector<Workload> workloads;
};
const std::vector<WorkloadSet>& workload_sets();
const WorkloadSet& find_workload_set(const std::string& name);  // te::Error listing the names

}  // namespace te::ops
