// src/ops/normalization.cc — softmax and layer_norm over the last axis of [m, n]: computes and
// their tuning templates for "llvm" and "cuda".
//
// Both are a few row reductions followed by element-wise stages over the row:
//   softmax    : <name>_max[i] = max_k x[i, k];  <name>_exp[i, j] = exp(x[i, j] - max[i]);
//                <name>_sum[i] = sum_k exp[i, k];  out[i, j] = exp[i, j] / sum[i]
//   layer_norm : <name>_mean[i] = sum_k x[i, k] / n;  <name>_var[i] = sum_k (x[i, k] - mean[i])^2 / n;
//                <name>_rstd[i] = rsqrt(var[i] + eps);
//                out[i, j] = (x[i, j] - mean[i]) * rstd[i] * gamma[j] + beta[j]
// CPU structure: rows split by tile_i with the outer loop parallel — the only parallel loop —
// and every per-row stage computed at the output's row (a statistic read by two stages, such
// as layer_norm's mean or softmax's exp, may be: both readers are computed there too), columns
// split by tile_j (tile_e for softmax's exp) with the inner loop vectorized. softmax's output
// multiplies by a per-row reciprocal (the template's own stage). Each row reduction is
// vectorized through rfactor (reduce_lanes interleaved accumulators, 32 by default; 1 = a
// serial loop, which is latency-bound) and its lanes folded into 8 by a second rfactor
// (fold_lanes). Knobs also choose whether exp / rstd / the reciprocal are inlined.
// GPU structure: one block per row, its threads (knob "threads") reducing across the row in a
// cross-thread reduction and then writing the row's columns; a kernel has no room for a stage
// at root, so each row's statistics are one multi-valued reduction in registers read only by
// the output: softmax's online (max, sum of exp), layer_norm's Welford (count, mean, M2). Same
// numbers as the public computes, to rounding.

#include <cmath>

#include "ops/templates.h"
#include "te/ops.h"

namespace te::ops {
namespace {

void check_matrix(const char* op, const Tensor& x) {
  if (x.ndim() != 2)
    fail(op, ": input ", x.name(), " must be 2-D [m, n] (normalized over its last axis), got ", x.ndim(),
         " dimensions");
  if (!x.dtype().is_float() || !x.dtype().is_scalar())
    fail(op, ": input ", x.name(), " must be a floating-point tensor, got dtype ", x.dtype().str());
}

struct SoftmaxStages {
  Tensor max, exp, sum, out;
};

SoftmaxStages softmax_stages(const Tensor& x, const std::string& name) {
  check_matrix("softmax", x);
  const Expr m = x.shape()[0], n = x.shape()[1];
  IterVar k1 = reduce_axis(Range(0, n), "k"), k2 = reduce_axis(Range(0, n), "k");
  SoftmaxStages st;
  st.max = compute(
      {m}, [&](const std::vector<Var>& i) { return te::max(x(i[0], k1), std::vector<IterVar>{k1}); },
      name + "_max");
  st.exp = compute(
      {m, n}, [&](const std::vector<Var>& i) { return te::exp(x(i[0], i[1]) - st.max(i[0])); }, name + "_exp");
  st.sum = compute(
      {m}, [&](const std::vector<Var>& i) { return sum(st.exp(i[0], k2), {k2}); }, name + "_sum");
  st.out = compute(
      {m, n}, [&](const std::vector<Var>& i) { return st.exp(i[0], i[1]) / st.sum(i[0]); }, name);
  return st;
}

struct LayerNormStages {
  Tensor mean, var, rstd, out;
};

void check_vector(const Tensor& x, const Tensor& v, const char* what) {
  if (v.ndim() != 1)
    fail("layer_norm: ", what, " ", v.name(), " must be 1-D [n], got ", v.ndim(), " dimensions");
  const int64_t* n = as_const_int(x.shape()[1]);
  const int64_t* len = as_const_int(v.shape()[0]);
  if (n && len && *n != *len)
    fail("layer_norm: ", what, " ", v.name(), " has ", *len, " elements but input ", x.name(), " has ", *n,
         " columns (the normalized axis)");
  if (v.dtype() != x.dtype())
    fail("layer_norm: ", what, " ", v.name(), " has dtype ", v.dtype().str(), " but input ", x.name(), " has ",
         x.dtype().str());
}

LayerNormStages layer_norm_stages(const Tensor& x, const Tensor& gamma, const Tensor& beta, double epsilon,
                                  const std::string& name) {
  check_matrix("layer_norm", x);
  check_vector(x, gamma, "gamma");
  check_vector(x, beta, "beta");
  if (!(epsilon >= 0) || !std::isfinite(epsilon))
    fail("layer_norm: epsilon must be a finite number >= 0, got ", epsilon);
  const DataType dt = x.dtype();
  const Expr m = x.shape()[0], n = x.shape()[1];
  const int64_t* n_const = as_const_int(n);
  // 1/n, folded when n is a constant (an empty row has no output, so 0 is as good as any).
  Expr inv_n = n_const ? constant(*n_const > 0 ? 1.0 / double(*n_const) : 0.0, dt) : constant(1.0, dt) / cast(dt, n);
  IterVar k1 = reduce_axis(Range(0, n), "k"), k2 = reduce_axis(Range(0, n), "k");
  LayerNormStages st;
  st.mean = compute(
      {m}, [&](const std::vector<Var>& i) { return sum(x(i[0], k1) * inv_n, {k1}); }, name + "_mean");
  st.var = compute(
      {m},
      [&](const std::vector<Var>& i) {
        Expr d = x(i[0], k2) - st.mean(i[0]);
        return sum(d * d * inv_n, {k2});
      },
      name + "_var");
  st.rstd = compute(
      {m}, [&](const std::vector<Var>& i) { return rsqrt(st.var(i[0]) + constant(epsilon, dt)); }, name + "_rstd");
  st.out = compute(
      {m, n},
      [&](const std::vector<Var>& i) {
        return (x(i[0], i[1]) - st.mean(i[0])) * st.rstd(i[0]) * gamma(i[1]) + beta(i[1]);
      },
      name);
  return st;
}

}  // namespace

Tensor softmax(const Tensor& x, const std::string& name) { return softmax_stages(x, name).out; }

Tensor layer_norm(const Tensor& x, const Tensor& gamma, const Tensor& beta, double epsilon,
                  const std::string& name) {
  return layer_norm_stages(x, gamma, beta, epsilon, name).out;
}

namespace detail {
namespace {

using autotune::Config;
using autotune::Instance;

// Rows split by tile_i (the outer loop parallel), columns by tile_j (the inner loop
// vectorized): the CPU loop nest of every stage over [m, n] or [m]. Returns the row loop at
// which per-row stages are computed.
struct CpuKnobs {
  std::vector<int64_t> tile_i, tile_j;
  bool vectorize = true, parallel = true;
  bool nontemporal = false;  // the output written by streaming stores
};

// rows_first: the default rows per tile (layer_norm: 4, its statistics interleaved over the
// tile's rows; softmax: 1).
CpuKnobs define_cpu_knobs(Config& cfg, int64_t m, int64_t n, int64_t rows_first = 1) {
  CpuKnobs k;
  // Rows per parallel task (a row of n = 768 floats is 3 KiB per pass).
  k.tile_i = define_split_candidates(cfg, "tile_i", m,
                                     rows_first == 4 ? std::vector<std::vector<int64_t>>{{4}, {1}, {16}}
                                                     : std::vector<std::vector<int64_t>>{{1}, {4}, {16}});
  // 16 lanes: one AVX-512 vector of float32; more lanes unroll the vector loop.
  k.tile_j = define_split_candidates(cfg, "tile_j", n, {{16}, {32}, {64}, {8}, {1}});
  k.nontemporal = define_nontemporal_knob(cfg, placeholder({m, n}, DataType::float32(), "out"));
  return k;
}
struct RowLoops {
  IterVar tile, row;  // the parallel loop over row tiles, the row within a tile
};
RowLoops schedule_cpu_rows(Stage stage, const CpuKnobs& k, const std::vector<int64_t>& tile_j) {
  const ComputeOpNode* op = compute_of(stage);
  std::vector<IterVar> is = split_by(stage, op->axis[0], k.tile_i);
  if (k.parallel) stage.parallel(is[0]);
  if (k.nontemporal) stage.pragma(is[0], "nontemporal");
  if (op->axis.size() == 2) {
    std::vector<IterVar> js = split_by(stage, op->axis[1], tile_j);
    if (k.vectorize) stage.vectorize(js[1]);
  }
  return {is[0], is[1]};
}

// A row reduction vectorized through rfactor: k split by `lanes`, the partial results of the
// `lanes` interleaved columns accumulated in a [lanes] vector (rf, computed at the row, k.inner
// vectorized), then summed (or maxed) across lanes. Floating-point rounding differs from the
// serial order, as in any vectorized reduction. rfactor gives the stage a new op, so its rows
// are split after this; the caller attaches the returned rf stage at the stage's row loop.
// The stages a vectorized row reduction adds: rf (lanes interleaved partial results) and, when
// folded, rf2 (the lanes folded into `fold` lanes by vector adds, so that the final reduction
// across lanes — a serial chain, latency-bound — is `fold` steps instead of `lanes`).
struct RowReduction {
  Tensor rf, rf2;
  // Computes the added stages at the reduction stage's row (call after the row splits).
  // Interleaved rows (the reduction stage computed for a tile of tile_rows rows): its row
  // axis split by tile_rows, the added stage it reads computed at the outer part, so that
  // stage's loops run over all the tile's rows (see vectorize_row_reduction); rf under rf2
  // (folding) stays row by row.
  void attach_interleaved(Schedule& s, const Tensor& t, int64_t tile_rows) const {
    if (!rf.defined()) return;
    Stage st = s[t];
    auto [io, ii] = st.split(compute_of(st)->axis[0], tile_rows);
    (void)ii;
    if (!rf2.defined()) {
      s[rf].compute_at(st, io);
      return;
    }
    s[rf2].compute_at(st, io);
    s[rf].compute_at(s[rf2], compute_of(s[rf2])->axis[0]);  // rf2[i, ki2]: at its row
  }
  void attach(Schedule& s, const Tensor& t) const {
    if (!rf.defined()) return;
    Stage st = s[t];
    if (!rf2.defined()) {
      s[rf].compute_at(st, compute_of(st)->axis[0]);
      return;
    }
    s[rf2].compute_at(st, compute_of(st)->axis[0]);
    s[rf].compute_at(s[rf2], compute_of(s[rf2])->axis[1]);
  }
};
// interleave_rows > 0: the stages are computed for a tile of rows (attach_at) and rf's row
// loop is inside its reduction loop — unrolled when the tile has at most interleave_rows rows —
// so the tile's rows are independent accumulator chains interleaved in one pass (a row's own
// chain is latency-bound on short rows); 0: row by row.
RowReduction vectorize_row_reduction(Schedule& s, const Tensor& t, int64_t lanes, int64_t fold, bool vectorize,
                                     int64_t interleave_rows = 0, int64_t tile_rows = 1) {
  RowReduction r;
  if (lanes <= 1) return r;
  Stage st = s[t];
  auto [ko, ki] = st.split(compute_of(st)->reduce_axis[0], lanes);
  if (interleave_rows > 0) {
    // rf[i, ki] (factor axis last): each row's lanes contiguous for the vector code.
    r.rf = s.rfactor(t, ki, 1);
    Stage rs = s[r.rf];
    const ComputeOpNode* rop = compute_of(rs);  // rf[i, ki] = reduce over ko
    rs.reorder({rop->reduce_axis[0], rop->axis[0], rop->axis[1]});
    if (tile_rows > 1 && tile_rows <= interleave_rows) rs.unroll(rop->axis[0]);
    if (vectorize) rs.vectorize(rop->axis[1]);
  } else {
    r.rf = s.rfactor(t, ki);
    Stage rs = s[r.rf];
    const ComputeOpNode* rop = compute_of(rs);  // rf[ki, i] = reduce over ko
    rs.reorder({rop->axis[1], rop->reduce_axis[0], rop->axis[0]});
    if (vectorize) rs.vectorize(rop->axis[0]);
  }
  if (fold > 1 && lanes > fold && lanes % fold == 0) {
    // t[i] = reduce over the rf lanes k: k = ko2 * fold + ki2, rf2[ki2, i] = reduce over ko2.
    Stage st2 = s[t];
    auto [ko2, ki2] = st2.split(compute_of(st2)->reduce_axis[0], fold);
    const int lane_axis = interleave_rows > 0 ? 1 : 0;  // rf2[i, ki2] when interleaving (as rf)
    r.rf2 = s.rfactor(t, ki2, lane_axis);
    Stage r2 = s[r.rf2];
    const ComputeOpNode* r2op = compute_of(r2);
    r2.reorder({r2op->axis[1 - lane_axis], r2op->reduce_axis[0], r2op->axis[lane_axis]});
    if (vectorize) r2.vectorize(r2op->axis[lane_axis]);
  }
  // The final reduction across the lanes: a shuffle tree (log2 steps, the axis vectorized —
  // rfactor's combining axis, see vectorize_loops) instead of a serial chain.
  if (vectorize) s[t].vectorize(compute_of(s[t])->reduce_axis[0]);
  return r;
}

// Softmax as the CPU template computes it: the public stages, but the output multiplies by a
// per-row reciprocal <name>_rinv = 1 / sum (computed once per row, or inlined: a knob) — a
// vector division costs ~10x a multiplication; at most 1 ulp apart. The compute never depends
// on the config (records replay on the space-mode compute).
SoftmaxStages softmax_llvm_stages(const Tensor& x, Tensor* rinv) {
  SoftmaxStages st = softmax_stages(x, "softmax");
  const Expr m = x.shape()[0], n = x.shape()[1];
  *rinv = compute(
      {m}, [&](const std::vector<Var>& i) { return constant(1.0, x.dtype()) / st.sum(i[0]); }, "softmax_rinv");
  st.out = compute(
      {m, n}, [&](const std::vector<Var>& i) { return st.exp(i[0], i[1]) * (*rinv)(i[0]); }, "softmax");
  return st;
}

// One parallel loop over row tiles; every per-row stage is computed at the output's row (a
// stage read by two stages may be computed there when both are: bound inference takes both
// readers' regions), so a row's statistics and its exp stay in registers / L1 between the
// passes: softmax reads the row for the max, writes exp(x - max) into a one-row buffer, sums
// it, then scales it into the output — oneDNN's passes — or (inline_exp) recomputes exp in the
// sum and in the output instead of buffering it.
Instance softmax_llvm(Config& cfg, int64_t m, int64_t n) {
  CpuKnobs k = define_cpu_knobs(cfg, m, n);
  // exp's vector tile (the one-row buffer's loop).
  const std::vector<int64_t> tile_e = define_split_candidates(cfg, "tile_e", n, {{16}, {32}, {64}, {8}, {1}});
  // 0: exp into a one-row buffer at the output's row; 1: exp recomputed in the sum and the output.
  const bool inline_exp = cfg.define_knob("inline_exp", {0, 1}) == 1;
  // Lanes of the vectorized row reductions (rfactor): 32 and 64 are 2 and 4 independent
  // AVX-512 accumulator chains (a single vmaxps/vaddps chain is latency-bound); 1: serial.
  const int64_t lanes = cfg.define_knob("reduce_lanes", {32, 16, 64, 8, 1});
  // Fold the lanes into 8 by vector operations before the serial reduction across lanes
  // (8 dependent steps instead of `lanes`: it was about half of a 768-wide row's time); 0: no.
  const int64_t fold = cfg.define_knob("fold_lanes", {8, 0});
  // 1: the reciprocal 1 / sum once per row; 0: inlined into every element of the output.
  const bool reciprocal = cfg.define_knob("reciprocal", {1, 0}) == 1;
  k.vectorize = cfg.define_knob("vectorize", {1, 0}) == 1;
  k.parallel = cfg.define_knob("parallel", {1, 0}) == 1;

  Tensor x = placeholder({m, n}, DataType::float32(), "X");
  Tensor rinv;
  SoftmaxStages st = softmax_llvm_stages(x, &rinv);
  Schedule s = create_schedule({st.out.op()});
  // rfactor gives a reduction stage a new op (and fresh loops): first, then the row splits.
  const RowReduction max_rf = vectorize_row_reduction(s, st.max, lanes, fold, k.vectorize);
  const RowReduction sum_rf = vectorize_row_reduction(s, st.sum, lanes, fold, k.vectorize);
  Stage out = s[st.out];
  IterVar row = schedule_cpu_rows(out, k, k.tile_j).row;
  if (reciprocal) {
    s[rinv].compute_at(out, row);
    s[st.sum].compute_at(s[rinv], compute_of(s[rinv])->axis[0]);
  } else {
    s[rinv].compute_inline();
    s[st.sum].compute_at(out, row);
  }
  Stage e = s[st.exp];
  if (inline_exp) {
    e.compute_inline();
    s[st.max].compute_at(out, row);  // read by the sum and the output, both at this row
  } else {
    e.compute_at(out, row);  // read by the sum and the output, both at this row
    const ComputeOpNode* eop = compute_of(e);
    std::vector<IterVar> js = split_by(e, eop->axis[1], tile_e);
    if (k.vectorize) e.vectorize(js[1]);
    s[st.max].compute_at(e, eop->axis[0]);
  }
  max_rf.attach(s, st.max);
  sum_rf.attach(s, st.sum);
  return {s, {x, st.out}};
}

// layer_norm as the CPU template computes it, with fewer vector operations per element than
// the public stages (the loop is bound by them at two threads; same numbers to rounding):
// <name>_var is the sum of squared deviations, scaled by 1/n once per row in rstd (the public
// compute scales every term: one multiplication more per element), and the output is
// (x - mean) * (rstd * gamma) + beta — a subtraction, a multiplication and an fma where
// ((x - mean) * rstd) * gamma + beta takes two multiplications. The compute never depends on
// the config (records replay on the space-mode compute).
LayerNormStages layer_norm_llvm_stages(const Tensor& x, const Tensor& gamma, const Tensor& beta, double epsilon) {
  LayerNormStages st = layer_norm_stages(x, gamma, beta, epsilon, "layer_norm");
  const DataType dt = x.dtype();
  const Expr m = x.shape()[0], n = x.shape()[1];
  const int64_t* n_const = as_const_int(n);
  Expr inv_n = n_const ? constant(*n_const > 0 ? 1.0 / double(*n_const) : 0.0, dt) : constant(1.0, dt) / cast(dt, n);
  IterVar k = reduce_axis(Range(0, n), "k");
  st.var = compute(
      {m},
      [&](const std::vector<Var>& i) {
        Expr d = x(i[0], k) - st.mean(i[0]);
        return sum(d * d, {k});
      },
      "layer_norm_var");
  st.rstd = compute(
      {m}, [&](const std::vector<Var>& i) { return rsqrt(st.var(i[0]) * inv_n + constant(epsilon, dt)); },
      "layer_norm_rstd");
  st.out = compute(
      {m, n},
      [&](const std::vector<Var>& i) {
        return (x(i[0], i[1]) - st.mean(i[0])) * (st.rstd(i[0]) * gamma(i[1])) + beta(i[1]);
      },
      "layer_norm");
  return st;
}

// The same single parallel loop: the mean, the variance (two-pass, centered) and rstd at the
// output's row, then the normalized row.
Instance layer_norm_llvm(Config& cfg, int64_t m, int64_t n) {
  CpuKnobs k = define_cpu_knobs(cfg, m, n, 4);
  // 0: rstd computed once per row (the variance at its row); 1: rsqrt inlined into every
  // element of the output (the variance at the output's row).
  const bool inline_rstd = cfg.define_knob("inline_rstd", {0, 1}) == 1;
  // Lanes of the vectorized row reductions (rfactor) and their folding, as softmax's.
  // Folding to 8 lanes first only adds a pass now that the lanes end in a shuffle tree: no
  // folding first (it was 12-15% slower at 128x768).
  const int64_t lanes = cfg.define_knob("reduce_lanes", {32, 16, 64, 8, 1});
  const int64_t fold = cfg.define_knob("fold_lanes", {0, 8});
  k.vectorize = cfg.define_knob("vectorize", {1, 0}) == 1;
  k.parallel = cfg.define_knob("parallel", {1, 0}) == 1;

  Tensor x = placeholder({m, n}, DataType::float32(), "X");
  Tensor gamma = placeholder({n}, DataType::float32(), "gamma");
  Tensor beta = placeholder({n}, DataType::float32(), "beta");
  LayerNormStages st = layer_norm_llvm_stages(x, gamma, beta, kLayerNormEpsilon);
  Schedule s = create_schedule({st.out.op()});
  // The statistics are computed for the whole row tile, its rows' reductions interleaved (up
  // to 4 rows unrolled: 4 rows x 4 accumulators of 64 lanes fill half the zmm registers).
  const int64_t tile_rows = k.tile_i.back();
  const RowReduction var_rf = vectorize_row_reduction(s, st.var, lanes, fold, k.vectorize, 4, tile_rows);
  const RowReduction mean_rf = vectorize_row_reduction(s, st.mean, lanes, fold, k.vectorize, 4, tile_rows);
  Stage out = s[st.out];
  const IterVar tile = schedule_cpu_rows(out, k, k.tile_j).tile;
  // The mean is read by the variance and the output, both computed in this loop.
  s[st.mean].compute_at(out, tile);
  mean_rf.attach_interleaved(s, st.mean, tile_rows);
  Stage rstd = s[st.rstd];
  if (inline_rstd) {
    rstd.compute_inline();
    s[st.var].compute_at(out, tile);
  } else {
    // The variance's only reader is rstd: computed at an outer part of rstd's rows that spans
    // the tile (a loop of one iteration), so it too covers the tile's rows.
    rstd.compute_at(out, tile);
    auto [io, ii] = rstd.split(compute_of(rstd)->axis[0], tile_rows);
    (void)ii;
    s[st.var].compute_at(rstd, io);
  }
  var_rf.attach_interleaved(s, st.var, tile_rows);
  return {s, {x, gamma, beta, st.out}};
}

// GPU: one kernel, so every stage is computed at (or inlined into) its only consumer. The
// CUDA templates therefore compute each row's statistics in one multi-valued reduction read
// only by the output: softmax's online (max, sum of exp) — the sum rescaled when the max
// grows — and layer_norm's (count, mean, M2) of Welford/Chan, both numerically stable.
Reducer online_softmax_reducer() {
  return Reducer(
      [](const std::vector<Expr>& l, const std::vector<Expr>& r) {
        Expr sum = if_then_else(r[0] > l[0], l[1] * te::exp(l[0] - r[0]) + r[1], l[1] + r[1] * te::exp(r[0] - l[0]));
        return std::vector<Expr>{te::max(l[0], r[0]), sum};
      },
      [](const std::vector<DataType>& t) { return std::vector<Expr>{min_value(t[0]), constant(0.0, t[1])}; },
      "online_softmax");
}
Reducer welford_reducer() {
  return Reducer(
      [](const std::vector<Expr>& l, const std::vector<Expr>& r) {
        Expr count = l[0] + r[0], delta = r[1] - l[1];
        Expr w = if_then_else(count > constant(0.0), r[0] / count, constant(0.0));  // nb / n
        return std::vector<Expr>{count, l[1] + delta * w, l[2] + r[2] + delta * delta * l[0] * w};
      },
      [](const std::vector<DataType>& t) {
        return std::vector<Expr>{constant(0.0, t[0]), constant(0.0, t[1]), constant(0.0, t[2])};
      },
      "welford");
}

// One block per row (blockIdx.x), `threads` threads across the row (threadIdx.x): the row's
// statistics are a cross-thread reduction (each thread folds every threads-th column, then
// warp shuffles and shared memory combine the threads, and every thread ends with the row's
// statistics in registers); then each thread writes every threads-th column of the output, so
// neighbouring threads touch neighbouring columns (coalesced).
void schedule_gpu_rows(Schedule& s, const Tensor& out, const Tensor& stats, int64_t threads, bool unroll) {
  Stage o = s[out];
  const ComputeOpNode* op = compute_of(o);
  IterVar row = op->axis[0];
  o.bind(row, thread_axis("blockIdx.x"));
  auto [jo, ji] = o.split(op->axis[1], threads);
  o.bind(ji, thread_axis("threadIdx.x"));
  if (unroll) o.unroll(jo);
  // A local cache read through the inlined copy stage: the statistics live in each thread's
  // registers, computed at the block's row.
  Tensor local = s.cache_write(stats, "local");
  s[stats].compute_inline();
  Stage l = s[local];
  l.compute_at(o, row);
  auto [ko, ki] = l.split(compute_of(l)->reduce_axis[0], threads);
  l.bind(ki, thread_axis("threadIdx.x"));
  if (unroll) l.unroll(ko);
}
// Threads per row: powers of two below 2n (at least one warp). unroll (0/1): unroll the
// per-thread column loops when they have at most 16 iterations.
struct GpuRowKnobs {
  int64_t threads = 128;
  bool unroll = false;
};
GpuRowKnobs define_gpu_row_knobs(Config& cfg, int64_t n) {
  std::vector<int64_t> choices;
  for (int64_t t : {128, 256, 64, 512, 32, 1024})
    if (t == 32 || t < 2 * n) choices.push_back(t);
  GpuRowKnobs k;
  k.threads = cfg.define_knob("threads", choices);
  // A longer loop stays rolled (the knob then changes nothing: code size, not speed, wins).
  k.unroll = cfg.define_knob("unroll", {0, 1}) == 1 && (n + k.threads - 1) / k.threads <= 16;
  return k;
}

Instance softmax_cuda(Config& cfg, int64_t m, int64_t n) {
  const GpuRowKnobs knobs = define_gpu_row_knobs(cfg, n);
  Tensor x = placeholder({m, n}, DataType::float32(), "X");
  IterVar k = reduce_axis(Range(0, n), "k");
  Reducer online = online_softmax_reducer();
  std::vector<Tensor> stats = compute_multi(
      {m}, [&](const std::vector<Var>& i) { return online({x(i[0], k), constant(1.0)}, {k}); }, "softmax_stats");
  Tensor out = compute(
      {m, n}, [&](const std::vector<Var>& i) { return te::exp(x(i[0], i[1]) - stats[0](i[0])) / stats[1](i[0]); },
      "softmax");
  Schedule s = create_schedule({out.op()});
  schedule_gpu_rows(s, out, stats[0], knobs.threads, knobs.unroll);
  return {s, {x, out}};
}

Instance layer_norm_cuda(Config& cfg, int64_t m, int64_t n) {
  const GpuRowKnobs knobs = define_gpu_row_knobs(cfg, n);
  Tensor x = placeholder({m, n}, DataType::float32(), "X");
  Tensor gamma = placeholder({n}, DataType::float32(), "gamma");
  Tensor beta = placeholder({n}, DataType::float32(), "beta");
  IterVar k = reduce_axis(Range(0, n), "k");
  Reducer welford = welford_reducer();
  std::vector<Tensor> stats = compute_multi(
      {m}, [&](const std::vector<Var>& i) { return welford({constant(1.0), x(i[0], k), constant(0.0)}, {k}); },
      "layer_norm_stats");
  const Expr inv_n = constant(1.0 / double(n)), eps = constant(kLayerNormEpsilon);
  Tensor out = compute(
      {m, n},
      [&](const std::vector<Var>& i) {
        return (x(i[0], i[1]) - stats[1](i[0])) * rsqrt(stats[2](i[0]) * inv_n + eps) * gamma(i[1]) + beta(i[1]);
      },
      "layer_norm");
  Schedule s = create_schedule({out.op()});
  schedule_gpu_rows(s, out, stats[0], knobs.threads, knobs.unroll);
  return {s, {x, gamma, beta, out}};
}

void check_args(const char* op, const std::vector<int64_t>& args) {
  if (args.size() != 2) fail(op, ": expects 2 arguments (m, n), got ", args.size());
  check_arg_at_least(op, "m", args[0], 1);
  check_arg_at_least(op, "n", args[1], 1);
}

}  // namespace

Instance softmax_template(Config& cfg, const std::vector<int64_t>& args, const Target& target) {
  check_args("softmax", args);
  if (target.kind == "cuda") return softmax_cuda(cfg, args[0], args[1]);
  if (target.kind == "llvm") return softmax_llvm(cfg, args[0], args[1]);
  fail("softmax: no schedule for target '", target.kind, "'; use llvm or cuda");
}

Instance layer_norm_template(Config& cfg, const std::vector<int64_t>& args, const Target& target) {
  check_args("layer_norm", args);
  if (target.kind == "cuda") return layer_norm_cuda(cfg, args[0], args[1]);
  if (target.kind == "llvm") return layer_norm_llvm(cfg, args[0], args[1]);
  fail("layer_norm: no schedule for target '", target.kind, "'; use llvm or cuda");
}

}  // namespace detail
}  // namespace te::ops
