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
// tile loops are fused into one parallel loop. The schedule is the GEMM templates' shared one
// (gemm_llvm.cc: schedule_gemm_llvm, with matmul's choices).
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

// The compute the committed records were tuned on (B always read through packedB; pack_b = 0
// inlines it), scheduled by the GEMM templates' shared CPU schedule (gemm_llvm.cc), the batch
// fused with the outer tile loops into the parallel loop.
Instance batch_matmul_llvm(Config& cfg, const Shape& sh) {
  const int64_t m = sh.m, n = sh.n, k = sh.k;
  const int64_t panels = (n + kGemmPanelWidth - 1) / kGemmPanelWidth;
  Tensor a = input_a(sh), b = input_b(sh);
  Tensor packed = compute(
      {sh.batch, panels, k, kGemmPanelWidth},
      [&](const std::vector<Var>& i) {
        Expr col = i[1] * kGemmPanelWidth + i[3];
        Expr value = sh.trans_b ? b(i[0], col, i[2]) : b(i[0], i[2], col);
        return n % kGemmPanelWidth == 0 ? value : if_then_else(col < n, value, constant(0.0));
      },
      "packedB");
  IterVar kv = reduce_axis(Range(0, k), "k");
  Tensor c = compute(
      {sh.batch, m, n},
      [&](const std::vector<Var>& i) {
        Expr lhs = sh.trans_a ? a(i[0], kv, i[1]) : a(i[0], i[1], kv);
        return sum(lhs * packed(i[0], floordiv(i[2], kGemmPanelWidth), kv, floormod(i[2], kGemmPanelWidth)), {kv});
      },
      "C");
  Schedule s = create_schedule({c.op()});
  schedule_gemm_llvm(cfg, s, GemmLlvm{packed, c, Tensor(), true, m, n, k});
  return {s, {a, b, c}};
}

Instance batch_matmul_cuda(Config& cfg, const Shape& sh, const Target& target) {
  // {threads, elements per thread} along rows (threadIdx.y) and columns (threadIdx.x).
  const std::vector<int64_t> tile_i = define_split_candidates(
      cfg, "tile_i", sh.m, {{8, 4}, {16, 4}, {8, 8}, {16, 2}, {32, 2}, {4, 4}, {8, 2}, {16, 1}, {32, 1}, {8, 1}, {16, 8}});
  const std::vector<int64_t> tile_j = define_split_candidates(
      cfg, "tile_j", sh.n, {{16, 4}, {32, 4}, {16, 2}, {32, 2}, {8, 4}, {64, 1}, {32, 1}, {16, 1}, {64, 2}, {16, 8}});
  const std::vector<int64_t> tile_k = define_split_candidates(cfg, "tile_k", sh.k, {{8}, {4}, {16}, {32}, {2}, {1}});
  const bool unroll_tile = cfg.define_knob("unroll_tile", {1, 0}) == 1;
  const bool unroll_k = cfg.define_knob("unroll_k", {1, 0}) == 1;

  const int64_t threads = tile_i[1] * tile_j[1];
  if (threads > kMaxThreadsPerBlock)
    fail("batch_matmul cuda: config ", cfg.to_string(), " needs ", threads, " threads per block (", tile_i[1],
         " x ", tile_j[1], "); the limit is ", kMaxThreadsPerBlock);
  const int64_t a_tile = tile_i[1] * tile_i[2] * tile_k[1], b_tile = tile_j[1] * tile_j[2] * tile_k[1];
  const bool double_buffer = define_double_buffer(cfg, "batch_matmul", {a_tile, b_tile}, threads, target);
  const bool strided_j = define_strided_columns(cfg, "batch_matmul", tile_j);
  // 16-byte copies of the shared tiles (appended in the sixteenth session; no cuda log existed).
  const std::array<bool, 2> chunked = define_vector_copy(
      cfg, "batch_matmul", 4, {sh.trans_a ? sh.m : sh.k, sh.trans_b ? sh.k : sh.n},
      {sh.trans_a ? tile_i[1] * tile_i[2] : tile_k[1], sh.trans_b ? tile_k[1] : tile_j[1] * tile_j[2]});
  const int64_t shared_bytes = (a_tile + b_tile) * 4 * (double_buffer ? 2 : 1);
  if (shared_bytes > kMaxSharedBytes)
    fail("batch_matmul cuda: config ", cfg.to_string(), " stages ", shared_bytes,
         " bytes of shared memory per block; the limit is ", kMaxSharedBytes);

  Tensor a = input_a(sh), b = input_b(sh);
  Tensor c = batch_matmul(a, b, sh.trans_a, sh.trans_b, "C");
  Schedule s = create_schedule({c.op()});
  // Each thread's tile accumulates in a "local" cache (registers) at the thread loop and is
  // stored once (see matmul_cuda); the shared tiles load at its k-block loop.
  Tensor local = s.cache_write(c, "local");
  Tensor a_shared = s.cache_read(a, "shared", {local.op()});
  Tensor b_shared = s.cache_read(b, "shared", {local.op()});

  Stage out = s[c];
  const ComputeOpNode* op = compute_of(out);
  std::vector<IterVar> is = split_by(out, op->axis[1], tile_i);
  const GemmColumns js = split_gemm_columns(out, op->axis[2], tile_j, strided_j);
  order_gemm_tile(out, {op->axis[0]}, is, js);
  IterVar tx = thread_axis("threadIdx.x"), ty = thread_axis("threadIdx.y");
  out.bind(op->axis[0], thread_axis("blockIdx.z"));
  out.bind(is[0], thread_axis("blockIdx.y"));
  out.bind(js.block, thread_axis("blockIdx.x"));
  out.bind(is[1], ty);
  out.bind(js.threads, tx);
  Stage red = s[local];
  red.compute_at(out, js.threads);
  const ComputeOpNode* red_op = compute_of(red);
  std::vector<IterVar> ks = split_by(red, red_op->reduce_axis[0], tile_k);
  red.reorder({red_op->axis[0], ks[0], ks[1], red_op->axis[1], red_op->axis[2]});
  if (unroll_tile) {
    unroll_within(red, {{red_op->axis[2], js.cols_extent}, {red_op->axis[1], tile_i[2]}});
    unroll_within(out, {{js.cols, js.cols_extent}, {is[2], tile_i[2]}});
  }
  if (unroll_k) red.unroll(ks[1]);

  for (const Tensor& cached : {a_shared, b_shared}) {
    Stage load = s[cached];
    load.compute_at(red, ks[0]);
    const ComputeOpNode* load_op = compute_of(load);
    // The batch axis has extent 1 in the staged tile; all three are fused and spread over
    // the block's threads.
    IterVar row = load_op->axis[2];
    if (chunked[cached.same_as(a_shared) ? 0 : 1]) row = split_copy_chunks(load, row, 4);
    bind_cooperative_load(load, {load_op->axis[0], load_op->axis[1], row}, {{tx, tile_j[1]}, {ty, tile_i[1]}});
    if (double_buffer) load.double_buffer();
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
  if (target.kind == "cuda") return batch_matmul_cuda(cfg, sh, target);
  if (target.kind == "llvm") return batch_matmul_llvm(cfg, sh);
  fail("batch_matmul: no schedule for target '", target.kind, "'; use llvm or cuda");
}

}  // namespace detail
}  // namespace te::ops
