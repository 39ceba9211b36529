// src/ops/batch_matmul.cc — batch_matmul's compute and its tuning template for "llvm" and
// "cuda": C[b, i, j] = sum_k A[b, i, k] * B[b, k, j], with A stored as [b, k, i] when trans_a
// and B as [b, j, k] when trans_b (the four layouts NN, NT, TN, TT).
//
// CPU structure (matmul's, per batch): C is tiled into register tiles tile_i x tile_j; B is
// repacked, whatever its layout, into 32-column panels packedB[b][j / 32][k][j % 32] so the
// innermost loop reads it contiguously (for B^T the packing is the transpose; or the packing is
// inlined); each tile is accumulated in a local buffer (cache_write) with rows unrolled and
// columns vectorized. A is read as one broadcast scalar per row and k, so either layout of A is
// read in place (for A^T the tile's rows at one k are even adjacent). The batch and the outer
// tile loops are fused into one parallel loop.
// GPU structure: matmul_cuda's block/thread tiles with the A and B tiles staged in shared
// memory per k block, the batch on blockIdx.z.
#include "ops/templates.h"
#include "te/ops.h"

namespace te::ops {

Tensor batch_matmul(const Tensor& a, const Tensor& b, bool trans_a, bool trans_b, const std::string& name) {
  if (a.ndim() != 3 || b.ndim() != 3)
    fail("batch_matmul: A and B must be 3-D [batch, rows, columns], got ", a.name(), " with ", a.ndim(),
         " and ", b.name(), " with ", b.ndim(), " dimensions");
  const int64_t* ab = as_const_int(a.shape()[0]);
  const int64_t* bb = as_const_int(b.shape()[0]);
  if (ab && bb && *ab != *bb)
    fail("batch_matmul: the batch sizes differ: ", a.name(), " has ", *ab, " and ", b.name(), " has ", *bb);
  // The reduction extent: A's columns ([b, m, k]) or rows ([b, k, m] when trans_a); B's rows
  // ([b, k, n]) or columns ([b, n, k] when trans_b).
  const Expr a_k = a.shape()[trans_a ? 1 : 2], b_k = b.shape()[trans_b ? 2 : 1];
  const int64_t* ak = as_const_int(a_k);
  const int64_t* bk = as_const_int(b_k);
  if (ak && bk && *ak != *bk)
    fail("batch_matmul: the reduction sizes differ: ", a.name(), " has ", *ak, trans_a ? " rows" : " columns",
         " (trans_a=", trans_a, ") but ", b.name(), " has ", *bk, trans_b ? " columns" : " rows",
         " (trans_b=", trans_b, ")");
  const Expr m = a.shape()[trans_a ? 2 : 1], n = b.shape()[trans_b ? 1 : 2];
  IterVar k = reduce_axis(Range(0, a_k), "k");
  return compute(
      {a.shape()[0], m, n},
      [&](const std::vector<Var>& i) {
        Expr lhs = trans_a ? a(i[0], k, i[1]) : a(i[0], i[1], k);
        Expr rhs = trans_b ? b(i[0], i[2], k) : b(i[0], k, i[2]);
        return sum(lhs * rhs, {k});
      },
      name);
}

namespace detail {
namespace {

using autotune::Config;
using autotune::Instance;

const ComputeOpNode* compute_of(const Stage& stage) { return stage->op.as<ComputeOpNode>(); }

// Columns per packed panel of B: one 8x32 register tile of C reads one panel row per k.
constexpr int64_t kPanelWidth = 32;

struct Shape {
  int64_t batch, m, n, k;
  bool trans_a, trans_b;
};

Tensor input_a(const Shape& sh) {
  return placeholder(sh.trans_a ? std::vector<Expr>{sh.batch, sh.k, sh.m} : std::vector<Expr>{sh.batch, sh.m, sh.k},
                     DataType::float32(), "A");
}
Tensor input_b(const Shape& sh) {
  return placeholder(sh.trans_b ? std::vector<Expr>{sh.batch, sh.n, sh.k} : std::vector<Expr>{sh.batch, sh.k, sh.n},
                     DataType::float32(), "B");
}

Instance batch_matmul_llvm(Config& cfg, const Shape& sh) {
  const int64_t m = sh.m, n = sh.n, k = sh.k;
  // Register tile: 8 rows x 32 columns (two AVX-512 vectors per row) by default.
  const std::vector<int64_t> tile_i = define_split_candidates(cfg, "tile_i", m, {{8}, {4}, {16}, {2}, {1}, {32}});
  const std::vector<int64_t> tile_j = define_split_candidates(cfg, "tile_j", n, {{32}, {16}, {64}, {8}, {1}});
  const std::vector<int64_t> tile_k = define_split_candidates(cfg, "tile_k", k, {{4}, {1}, {8}, {16}, {64}});
  const bool cache = cfg.define_knob("cache_write", {1, 0}) == 1;
  const bool pack = cfg.define_knob("pack_b", {1, 0}) == 1;
  // 0: batch and column panels fused into the parallel loop, row tiles inside (a panel of
  // packed B stays in L1/L2 for every row tile); 1: batch and row tiles parallel, panels
  // inside; 2: batch, panels and row tiles all fused into one parallel loop.
  const int64_t order = cfg.define_knob("order", {0, 1, 2});
  const bool unroll_i = cfg.define_knob("unroll_i", {1, 0}) == 1;
  const bool unroll_k = cfg.define_knob("unroll_k", {1, 0}) == 1;
  const bool vectorize = cfg.define_knob("vectorize_j", {1, 0}) == 1;
  const bool parallel = cfg.define_knob("parallel", {1, 0}) == 1;

  const int64_t ti = tile_i.back(), tk = tile_k.back();
  // The compute depends on the arguments only (never on the config), so a record's steps
  // replay on the space-mode compute: B is always read through packedB; pack_b = 0 inlines it.
  const int64_t panels = (n + kPanelWidth - 1) / kPanelWidth;
  Tensor a = input_a(sh), b = input_b(sh);
  Tensor packed = compute(
      {sh.batch, panels, k, kPanelWidth},
      [&](const std::vector<Var>& i) {
        Expr col = i[1] * kPanelWidth + i[3];
        Expr value = sh.trans_b ? b(i[0], col, i[2]) : b(i[0], i[2], col);
        return n % kPanelWidth == 0 ? value : if_then_else(col < n, value, constant(0.0));
      },
      "packedB");
  IterVar kv = reduce_axis(Range(0, k), "k");
  Tensor c = compute(
      {sh.batch, m, n},
      [&](const std::vector<Var>& i) {
        Expr lhs = sh.trans_a ? a(i[0], kv, i[1]) : a(i[0], i[1], kv);
        return sum(lhs * packed(i[0], floordiv(i[2], kPanelWidth), kv, floormod(i[2], kPanelWidth)), {kv});
      },
      "C");

  Schedule s = create_schedule({c.op()});
  Stage pack_stage = s[packed];
  if (pack) {
    const ComputeOpNode* pack_op = compute_of(pack_stage);
    if (vectorize) pack_stage.vectorize(pack_op->axis[3]);
    if (parallel) pack_stage.parallel(pack_stage.fuse(pack_op->axis[0], pack_op->axis[1]));
  } else {
    pack_stage.compute_inline();
  }
  // cache_write comes before any other primitive on C.
  Tensor acc = cache ? s.cache_write(c, "local") : Tensor();
  Stage out = s[c];
  const ComputeOpNode* op = compute_of(out);
  const IterVar batch = op->axis[0];
  std::vector<IterVar> is = split_by(out, op->axis[1], tile_i), js = split_by(out, op->axis[2], tile_j);
  if (cache) {
    const bool rows_outer = order == 1;
    out.reorder(rows_outer ? std::vector<IterVar>{batch, is[0], js[0], is[1], js[1]}
                           : std::vector<IterVar>{batch, js[0], is[0], is[1], js[1]});
    IterVar outer = out.fuse(batch, rows_outer ? is[0] : js[0]);
    IterVar tile_loop = rows_outer ? js[0] : is[0];
    if (order == 2) outer = tile_loop = out.fuse(outer, is[0]);
    if (vectorize) out.vectorize(js[1]);
    if (parallel) out.parallel(outer);

    Stage acc_stage = s[acc];
    acc_stage.compute_at(out, tile_loop);
    const ComputeOpNode* acc_op = compute_of(acc_stage);
    std::vector<IterVar> ks = split_by(acc_stage, acc_op->reduce_axis[0], tile_k);
    // k outside the tile: the ti x tj accumulators stay in registers for the whole k loop.
    acc_stage.reorder({ks[0], ks[1], acc_op->axis[1], acc_op->axis[2]});
    std::vector<std::pair<IterVar, int64_t>> unrolled;
    if (unroll_i) unrolled.push_back({acc_op->axis[1], std::min(ti, m)});
    if (unroll_k) unrolled.push_back({ks[1], std::min(tk, k)});
    unroll_within(acc_stage, unrolled);
    if (vectorize) acc_stage.vectorize(split_panel_tile(acc_stage, acc_op->axis[2], tile_j.back(), kPanelWidth, true));
  } else {
    std::vector<IterVar> ks = split_by(out, op->reduce_axis[0], tile_k);
    if (order == 0) out.reorder({batch, js[0], is[0], ks[0], ks[1], is[1], js[1]});
    if (order == 1) out.reorder({batch, is[0], js[0], ks[0], ks[1], is[1], js[1]});
    if (order == 2) out.reorder({batch, js[0], ks[0], is[0], ks[1], is[1], js[1]});
    std::vector<std::pair<IterVar, int64_t>> unrolled;
    if (unroll_i) unrolled.push_back({is[1], std::min(ti, m)});
    if (unroll_k) unrolled.push_back({ks[1], std::min(tk, k)});
    unroll_within(out, unrolled);
    if (vectorize) out.vectorize(split_panel_tile(out, js[1], tile_j.back(), kPanelWidth, true));
    IterVar outer = out.fuse(batch, order == 1 ? is[0] : js[0]);
    if (parallel) out.parallel(outer);
  }
  return {s, {a, b, c}};
}

Instance batch_matmul_cuda(Config& cfg, const Shape& sh) {
  // {threads, elements per thread} along rows (threadIdx.y) and columns (threadIdx.x).
  const std::vector<int64_t> tile_i = define_split_candidates(
      cfg, "tile_i", sh.m, {{8, 4}, {16, 4}, {8, 8}, {16, 2}, {32, 2}, {4, 4}, {8, 2}, {16, 1}, {32, 1}, {8, 1}});
  const std::vector<int64_t> tile_j = define_split_candidates(
      cfg, "tile_j", sh.n, {{16, 4}, {32, 4}, {16, 2}, {32, 2}, {8, 4}, {64, 1}, {32, 1}, {16, 1}, {64, 2}});
  const std::vector<int64_t> tile_k = define_split_candidates(cfg, "tile_k", sh.k, {{8}, {4}, {16}, {32}, {2}, {1}});
  const bool unroll_tile = cfg.define_knob("unroll_tile", {1, 0}) == 1;
  const bool unroll_k = cfg.define_knob("unroll_k", {1, 0}) == 1;

  const int64_t threads = tile_i[1] * tile_j[1];
  if (threads > kMaxThreadsPerBlock)
    fail("batch_matmul cuda: config ", cfg.to_string(), " needs ", threads, " threads per block (", tile_i[1],
         " x ", tile_j[1], "); the limit is ", kMaxThreadsPerBlock);
  const int64_t shared_bytes = (tile_i[1] * tile_i[2] + tile_j[1] * tile_j[2]) * tile_k[1] * 4;
  if (shared_bytes > kMaxSharedBytes)
    fail("batch_matmul cuda: config ", cfg.to_string(), " stages ", shared_bytes,
         " bytes of shared memory per block; the limit is ", kMaxSharedBytes);

  Tensor a = input_a(sh), b = input_b(sh);
  Tensor c = batch_matmul(a, b, sh.trans_a, sh.trans_b, "C");
  Schedule s = create_schedule({c.op()});
  // C accumulates in place and the shared tiles load at C's own k loop (see matmul_cuda).
  Tensor a_shared = s.cache_read(a, "shared", {c.op()});
  Tensor b_shared = s.cache_read(b, "shared", {c.op()});

  Stage out = s[c];
  const ComputeOpNode* op = compute_of(out);
  std::vector<IterVar> is = split_by(out, op->axis[1], tile_i), js = split_by(out, op->axis[2], tile_j);
  std::vector<IterVar> ks = split_by(out, op->reduce_axis[0], tile_k);
  out.reorder({op->axis[0], is[0], js[0], is[1], js[1], ks[0], ks[1], is[2], js[2]});
  IterVar tx = thread_axis("threadIdx.x"), ty = thread_axis("threadIdx.y");
  out.bind(op->axis[0], thread_axis("blockIdx.z"));
  out.bind(is[0], thread_axis("blockIdx.y"));
  out.bind(js[0], thread_axis("blockIdx.x"));
  out.bind(is[1], ty);
  out.bind(js[1], tx);
  if (unroll_tile) unroll_within(out, {{js[2], tile_j[2]}, {is[2], tile_i[2]}});
  if (unroll_k) out.unroll(ks[1]);

  for (const Tensor& cached : {a_shared, b_shared}) {
    Stage load = s[cached];
    load.compute_at(out, ks[0]);
    const ComputeOpNode* load_op = compute_of(load);
    // The batch axis has extent 1 in the staged tile; all three are fused and spread over
    // the block's threads.
    bind_cooperative_load(load, {load_op->axis[0], load_op->axis[1], load_op->axis[2]},
                          {{tx, tile_j[1]}, {ty, tile_i[1]}});
  }
  return {s, {a, b, c}};
}

}  // namespace

autotune::Instance batch_matmul_template(autotune::Config& cfg, const std::vector<int64_t>& args,
                                         const Target& target) {
  if (args.size() != 6)
    fail("batch_matmul: expects 6 arguments (b, m, n, k, trans_a, trans_b), got ", args.size());
  const char* names[] = {"b", "m", "n", "k"};
  for (size_t i = 0; i < 4; ++i) check_arg_at_least("batch_matmul", names[i], args[i], 1);
  for (size_t i = 4; i < 6; ++i)
    if (args[i] != 0 && args[i] != 1)
      fail("batch_matmul: argument ", i == 4 ? "trans_a" : "trans_b", " = ", args[i], " must be 0 or 1");
  const Shape sh{args[0], args[1], args[2], args[3], args[4] == 1, args[5] == 1};
  if (target.kind == "cuda") return batch_matmul_cuda(cfg, sh);
  if (target.kind == "llvm") return batch_matmul_llvm(cfg, sh);
  fail("batch_matmul: no schedule for target '", target.kind, "'; use llvm or cuda");
}

}  // namespace detail
}  // namespace te::ops
