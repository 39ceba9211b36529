// src/ops/dense.cc — dense layers with bias and a fused activation: the compute and the
// "dense_bias" / "dense_bias_gelu" templates, each a single kernel.
//
// out[i, j] = act(sum_k A[i, k] * B[k, j] + bias[j]), B stored [k, n] as matmul's B, or [n, k] as
// a PyTorch Linear weight (`linear`; template argument trans_b = 1), the packing into panels
// absorbing the transpose (weights are
// constants, so the CPU kernel's 32-column panel packing is the same one-time layout choice as
// matmul's), act = identity, relu or gelu (PyTorch's default, the erf form 0.5 x (1 + erf(x /
// sqrt 2)), with erf as a rational function — see gelu_erf). The epilogue is fused into the
// output tile: the matmul stage is the tile's local accumulator and the bias and activation are
// applied as the tile is stored.
// CPU structure: matmul's (8x32 register tiles over packed B panels, k outside the tile, tiles
// in parallel; gemm_llvm.cc's schedule_gemm_llvm, matmul's choices), the reduction computed at
// the epilogue's tile. GPU structure: the plain
// schedule (per-thread local accumulators; see schedule_plain_cuda).
#include <cmath>

#include "ops/templates.h"
#include "te/ops.h"

namespace te::ops {

namespace {

// erf(x) as x P(x^2) / Q(x^2) on [-4, 4] (clamped outside, where |1 - |erf|| < 2e-8): a least-
// squares rational fit made for te (Chebyshev-spaced points, reweighted toward the worst error);
// in float32 within 3.2e-7 of erf everywhere (tests/cpp/test_ops_fused.cc checks 5e-7). te::erf
// is a scalar libm call per element (the LLVM backend has no vector libm), which made the GELU
// epilogue cost more than a BERT-sized GEMM; this is only mul/add/div/min/max, so it vectorizes.
Expr rational_erf(const Expr& x) {
  static const double p[] = {1.128378678, 0.214035969, 0.05244561967, 0.004296641456, 0.0001555985429,
                             -1.990015847e-06, 1.920591239e-08};
  static const double q[] = {1.0, 0.523012099, 0.1208373554, 0.01555874063, 0.001098823853};
  const DataType t = x.dtype();
  Expr xc = te::max(te::min(x, constant(4.0, t)), constant(-4.0, t));
  Expr z = xc * xc;
  Expr num = constant(p[6], t), den = constant(q[4], t);
  for (int i = 5; i >= 0; --i) num = num * z + constant(p[i], t);
  for (int i = 3; i >= 0; --i) den = den * z + constant(q[i], t);
  return xc * num / den;
}

Expr apply_activation(const Expr& x, const std::string& activation) {
  if (activation.empty() || activation == "none") return x;
  if (activation == "relu") return te::max(x, constant(0.0, x.dtype()));
  if (activation == "gelu")
    return constant(0.5, x.dtype()) * x * (constant(1.0, x.dtype()) + rational_erf(x * constant(M_SQRT1_2, x.dtype())));
  fail("dense: unknown activation '", activation, "'; use none, relu or gelu");
}

void check_activation(const std::string& activation) {
  if (!(activation.empty() || activation == "none" || activation == "relu" || activation == "gelu"))
    fail("dense: unknown activation '", activation, "'; use none, relu or gelu");
}

}  // namespace

namespace {

// dense (weight [k, n]) and linear (weight [n, k]): the matmul stage, then the epilogue.
Tensor dense_impl(const Tensor& data, const Tensor& weight, const Tensor& bias, const std::string& activation,
                  const std::string& name, bool trans_b, const char* op) {
  check_activation(activation);
  const char* layout = trans_b ? "weight [n, k]" : "weight [k, n]";
  if (data.ndim() != 2 || weight.ndim() != 2 || bias.ndim() != 1)
    fail(op, ": data [m, k] and ", layout, " must be 2-D and bias [n] 1-D, got ", data.name(), " with ", data.ndim(),
         ", ", weight.name(), " with ", weight.ndim(), " and ", bias.name(), " with ", bias.ndim(), " dimensions");
  const int64_t* dk = as_const_int(data.shape()[1]);
  const int64_t* wk = as_const_int(weight.shape()[trans_b ? 1 : 0]);
  if (dk && wk && *dk != *wk)
    fail(op, ": the reduction sizes differ: ", data.name(), " has ", *dk, " columns but ", weight.name(), " has ",
         *wk, trans_b ? " columns (the weight is [n, k])" : " rows (the weight is [k, n])");
  const int64_t* wn = as_const_int(weight.shape()[trans_b ? 0 : 1]);
  const int64_t* bn = as_const_int(bias.shape()[0]);
  if (wn && bn && *wn != *bn)
    fail(op, ": ", bias.name(), " has ", *bn, " elements but ", weight.name(), " has ", *wn, " outputs (", layout, ")");
  Tensor mm = matmul(data, weight, false, trans_b, name + "_mm");
  return compute(
      {data.shape()[0], weight.shape()[trans_b ? 0 : 1]},
      [&](const std::vector<Var>& i) { return apply_activation(mm(i[0], i[1]) + bias(i[1]), activation); }, name);
}

}  // namespace

Tensor dense(const Tensor& data, const Tensor& weight, const Tensor& bias, const std::string& activation,
             const std::string& name) {
  return dense_impl(data, weight, bias, activation, name, false, "dense");
}

Tensor linear(const Tensor& data, const Tensor& weight, const Tensor& bias, const std::string& activation,
              const std::string& name) {
  return dense_impl(data, weight, bias, activation, name, true, "linear");
}

namespace detail {
namespace {

using autotune::Config;
using autotune::Instance;

// The CPU compute: matmul's, reading B through 32-column panels (packedB[j / 32][k][j % 32],
// inlined when pack_b = 0), then the epilogue.
struct DenseCompute {
  Tensor a, b, bias, packed, mm, out;
};

DenseCompute make_dense_llvm(int64_t m, int64_t n, int64_t k, bool trans_b, const std::string& activation) {
  DenseCompute d;
  d.a = placeholder({m, k}, DataType::float32(), "A");
  d.b = placeholder(trans_b ? std::vector<Expr>{n, k} : std::vector<Expr>{k, n}, DataType::float32(), "B");
  d.bias = placeholder({n}, DataType::float32(), "bias");
  const int64_t panels = (n + kGemmPanelWidth - 1) / kGemmPanelWidth;
  d.packed = compute(
      {panels, k, kGemmPanelWidth},
      [&](const std::vector<Var>& i) {
        Expr col = i[0] * kGemmPanelWidth + i[2];
        // A Linear weight [n, k] is transposed by the packing (the kernel reads panels either way).
        Expr value = trans_b ? d.b(col, i[1]) : d.b(i[1], col);
        return n % kGemmPanelWidth == 0 ? value : if_then_else(col < n, value, constant(0.0));
      },
      "packedB");
  IterVar kv = reduce_axis(Range(0, k), "k");
  d.mm = compute(
      {m, n},
      [&](const std::vector<Var>& i) {
        return sum(d.a(i[0], kv) * d.packed(floordiv(i[1], kGemmPanelWidth), kv, floormod(i[1], kGemmPanelWidth)), {kv});
      },
      "dense_mm");
  d.out = compute(
      {m, n}, [&](const std::vector<Var>& i) { return apply_activation(d.mm(i[0], i[1]) + d.bias(i[1]), activation); },
      "dense");
  return d;
}

// The GEMM templates' shared CPU schedule (gemm_llvm.cc), the matmul stage the accumulator of
// the epilogue's tile (the bias and activation applied as the tile is stored).
Instance dense_llvm(Config& cfg, int64_t m, int64_t n, int64_t k, bool trans_b, const std::string& activation) {
  DenseCompute d = make_dense_llvm(m, n, k, trans_b, activation);
  Schedule s = create_schedule({d.out.op()});
  schedule_gemm_llvm(cfg, s, GemmLlvm{d.packed, d.mm, d.out, false, m, n, k});
  return {s, {d.a, d.b, d.bias, d.out}};
}

Instance dense_cuda(Config& cfg, int64_t m, int64_t n, int64_t k, bool trans_b, const std::string& activation,
                    const char* op_name) {
  Tensor a = placeholder({m, k}, DataType::float32(), "A");
  Tensor b = placeholder(trans_b ? std::vector<Expr>{n, k} : std::vector<Expr>{k, n}, DataType::float32(), "B");
  Tensor bias = placeholder({n}, DataType::float32(), "bias");
  Tensor out = trans_b ? linear(a, b, bias, activation, "dense") : dense(a, b, bias, activation, "dense");
  Tensor mm = out.op()->input_tensors()[0];
  for (const Tensor& t : out.op()->input_tensors())
    if (t.op().as<ComputeOpNode>()) mm = t;
  Schedule s = create_schedule({out.op()});
  schedule_plain_cuda(cfg, s, out, mm, {}, op_name);
  return {s, {a, b, bias, out}};
}

Instance dense_template(Config& cfg, const std::vector<int64_t>& args, const Target& target, const char* op_name,
                        const std::string& activation) {
  // (m, n, k): weight [k, n], the key of every record before the layout flag; (m, n, k,
  // trans_b): trans_b = 1 takes a PyTorch Linear weight [n, k].
  if (args.size() != 3 && args.size() != 4)
    fail(op_name, ": expects 3 arguments (m, n, k) or 4 (m, n, k, trans_b), got ", args.size());
  const char* names[] = {"m", "n", "k"};
  for (size_t i = 0; i < 3; ++i) check_arg_at_least(op_name, names[i], args[i], 1);
  if (args.size() == 4 && args[3] != 0 && args[3] != 1)
    fail(op_name, ": argument trans_b = ", args[3], " must be 0 or 1");
  const bool trans_b = args.size() == 4 && args[3] == 1;
  if (target.kind == "cuda") return dense_cuda(cfg, args[0], args[1], args[2], trans_b, activation, op_name);
  if (target.kind == "llvm") return dense_llvm(cfg, args[0], args[1], args[2], trans_b, activation);
  fail(op_name, ": no schedule for target '", target.kind, "'; use llvm or cuda");
}

}  // namespace

Instance dense_bias_template(Config& cfg, const std::vector<int64_t>& args, const Target& target) {
  return dense_template(cfg, args, target, "dense_bias", "none");
}

Instance dense_bias_gelu_template(Config& cfg, const std::vector<int64_t>& args, const Target& target) {
  return dense_template(cfg, args, target, "dense_bias_gelu", "gelu");
}

}  // namespace detail
}  // namespace te::ops
