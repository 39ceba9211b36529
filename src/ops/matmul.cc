// src/ops/matmul.cc — matmul's compute and its tuning template for "llvm" and "cuda":
// C[i, j] = sum_k A[i, k] * B[k, j], with A stored [k, m] when trans_a and B [n, k] when trans_b
// (NN, NT, TN, TT; template arguments (m, n, k[, trans_a, trans_b])).
//
// CPU structure (the hand schedule of examples/matmul_cpu.cc, made tunable): C is tiled into
// register tiles tile_i x tile_j; B is repacked into 32-column panels (packedB[j / 32][k]
// [j % 32], or the packing is inlined) so the innermost loop reads it contiguously; each tile is
// accumulated in a local buffer (cache_write) with rows unrolled and columns vectorized, or,
// without the cache, C itself accumulates with the k loop blocked outside the row tiles. The
// schedule is the GEMM templates' shared one (gemm_llvm.cc: schedule_gemm_llvm).
// GPU structure: block tiles of C staged through shared memory (cooperative loads of the A
// and B tiles per k block), each thread accumulating a tile_i[2] x tile_j[2] tile of C in
// registers (a "local" cache_write) and storing it once; the "matmul_fp16" template stages
// float16 tiles and accumulates each thread's tile in float32.
#include "ops/templates.h"
#include "te/ops.h"

namespace te::ops {

Tensor matmul(const Tensor& a, const Tensor& b, bool trans_a, bool trans_b, const std::string& name,
              const std::string& out_dtype) {
  if (a.ndim() != 2 || b.ndim() != 2)
    fail("matmul: A and B must be 2-D, got ", a.name(), " with ", a.ndim(), " and ", b.name(), " with ",
         b.ndim(), " dimensions");
  // The reduction extent: A's columns ([m, k]) or rows ([k, m] when trans_a); B's rows ([k, n])
  // or columns ([n, k] when trans_b).
  const Expr a_k = a.shape()[trans_a ? 0 : 1], b_k = b.shape()[trans_b ? 1 : 0];
  const int64_t* ak = as_const_int(a_k);
  const int64_t* bk = as_const_int(b_k);
  if (ak && bk && *ak != *bk)
    fail("matmul: the reduction sizes differ: ", a.name(), " has ", *ak, trans_a ? " rows" : " columns",
         " (trans_a=", trans_a, ") but ", b.name(), " has ", *bk, trans_b ? " columns" : " rows", " (trans_b=",
         trans_b, ")");
  if (a.dtype() != b.dtype())
    fail("matmul: ", a.name(), " is ", a.dtype().str(), " but ", b.name(), " is ", b.dtype().str(),
         "; give both inputs the same dtype");
  const bool half = a.dtype() == DataType::float16();
  DataType out = a.dtype();
  if (!out_dtype.empty()) out = DataType::parse(out_dtype);
  if (out != a.dtype() && !(half && out == DataType::float32()))
    fail("matmul: out_dtype '", out_dtype, "' is not supported for ", a.dtype().str(), " inputs; use ",
         half ? "float16 or float32" : a.dtype().str(), " (or leave it empty for the inputs' dtype)");
  IterVar k = reduce_axis(Range(0, a_k), "k");
  const std::vector<Expr> shape{a.shape()[trans_a ? 1 : 0], b.shape()[trans_b ? 0 : 1]};
  auto lhs = [&](const Var& i) { return trans_a ? a(k, i) : a(i, k); };
  auto rhs = [&](const Var& j) { return trans_b ? b(j, k) : b(k, j); };
  if (!half)
    return compute(
        shape, [&](const std::vector<Var>& i) { return sum(lhs(i[0]) * rhs(i[1]), {k}); }, name);
  // float16: products and sums in float32 (float16 would lose about 3 digits over k ~ 1000 and
  // overflow past 65504); only the result is rounded, once, when out is float16.
  const DataType f32 = DataType::float32();
  Tensor acc = compute(
      shape, [&](const std::vector<Var>& i) { return sum(cast(f32, lhs(i[0])) * cast(f32, rhs(i[1])), {k}); },
      out == f32 ? name : name + "_acc");
  if (out == f32) return acc;
  return compute(
      shape, [&](const std::vector<Var>& i) { return cast(DataType::float16(), acc(i[0], i[1])); }, name);
}

Tensor matmul(const Tensor& a, const Tensor& b, const std::string& name, const std::string& out_dtype) {
  return matmul(a, b, false, false, name, out_dtype);
}

namespace detail {
namespace {

using autotune::Config;
using autotune::Instance;

// The template's arguments: sizes and the stored layouts (A [k, m] when trans_a, B [n, k] when
// trans_b).
struct MatmulShape {
  int64_t m, n, k;
  bool trans_a, trans_b;
};

DataType input_dtype(bool half) { return half ? DataType::float16() : DataType::float32(); }
Tensor input_a(const MatmulShape& sh, bool half = false) {
  return placeholder(sh.trans_a ? std::vector<Expr>{sh.k, sh.m} : std::vector<Expr>{sh.m, sh.k}, input_dtype(half), "A");
}
Tensor input_b(const MatmulShape& sh, bool half = false) {
  return placeholder(sh.trans_b ? std::vector<Expr>{sh.n, sh.k} : std::vector<Expr>{sh.k, sh.n}, input_dtype(half), "B");
}

// The compute the committed records were tuned on (B always read through packedB, in panels
// of kGemmPanelWidth columns; pack_b = 0 inlines the packing), scheduled by the GEMM templates'
// shared CPU schedule (gemm_llvm.cc). For B^T ([n, k]) the packing is the transpose; A^T is
// read in place (a tile's rows at one k are adjacent).
Instance matmul_llvm(Config& cfg, const MatmulShape& sh) {
  const int64_t m = sh.m, n = sh.n, k = sh.k;
  const int64_t panels = (n + kGemmPanelWidth - 1) / kGemmPanelWidth;
  Tensor a = input_a(sh), b = input_b(sh);
  Tensor packed = compute(
      {panels, k, kGemmPanelWidth},
      [&](const std::vector<Var>& i) {
        Expr col = i[0] * kGemmPanelWidth + i[2];
        Expr value = sh.trans_b ? b(col, i[1]) : b(i[1], col);
        return n % kGemmPanelWidth == 0 ? value : if_then_else(col < n, value, constant(0.0));
      },
      "packedB");
  IterVar kv = reduce_axis(Range(0, k), "k");
  Tensor c = compute(
      {m, n},
      [&](const std::vector<Var>& i) {
        Expr lhs = sh.trans_a ? a(kv, i[0]) : a(i[0], kv);
        return sum(lhs * packed(floordiv(i[1], kGemmPanelWidth), kv, floormod(i[1], kGemmPanelWidth)), {kv});
      },
      "C");
  Schedule s = create_schedule({c.op()});
  schedule_gemm_llvm(cfg, s, GemmLlvm{packed, c, Tensor(), false, m, n, k});
  return {s, {a, b, c}};
}

// float16 (half): A and B are float16 and C = float16(sum_k float32(A) * float32(B)) (te::ops::
// matmul's two stages): the same block/thread tiles and shared staging (of float16 tiles, half
// the bytes), with each thread's tile accumulated in float32 in a "local" cache of C_acc
// computed at the thread loop, then rounded once into C.
Instance matmul_cuda(Config& cfg, const MatmulShape& sh, const Target& target, bool half = false) {
  const int64_t m = sh.m, n = sh.n, k = sh.k;
  // {threads, elements per thread} along rows (threadIdx.y) and columns (threadIdx.x).
  std::vector<std::vector<int64_t>> rows = {{8, 4}, {16, 4}, {8, 8}, {16, 2}, {32, 2}, {4, 4},
                                            {8, 2}, {16, 1}, {32, 1}, {8, 1}, {16, 8}};
  std::vector<std::vector<int64_t>> cols = {{16, 4}, {32, 4}, {16, 2}, {32, 2}, {8, 4},
                                            {64, 1}, {32, 1}, {16, 1}, {64, 2}, {16, 8}};
  // The default config (every knob's first choice) is what apply_history_best falls back to
  // and where a short tuning run starts. Where 128 x 128 blocks still make 256 or more of them
  // (two per SM of an H100 and more: 2048² and up), the classic SGEMM tile — 16 x 16 threads
  // of 8 x 8 — goes first; smaller shapes keep the smaller tiles first so the grid fills the GPU.
  if (((m + 127) / 128) * ((n + 127) / 128) >= 256) {
    rows.insert(rows.begin(), rows.back()), rows.pop_back();
    cols.insert(cols.begin(), cols.back()), cols.pop_back();
  }
  const std::vector<int64_t> tile_i = define_split_candidates(cfg, "tile_i", m, rows);
  const std::vector<int64_t> tile_j = define_split_candidates(cfg, "tile_j", n, cols);
  const std::vector<int64_t> tile_k = define_split_candidates(cfg, "tile_k", k, {{8}, {4}, {16}, {32}, {2}, {1}});
  const bool unroll_tile = cfg.define_knob("unroll_tile", {1, 0}) == 1;
  const bool unroll_k = cfg.define_knob("unroll_k", {1, 0}) == 1;

  const int64_t threads = tile_i[1] * tile_j[1];
  if (threads > kMaxThreadsPerBlock)
    fail("matmul cuda: config ", cfg.to_string(), " needs ", threads, " threads per block (",
         tile_i[1], " x ", tile_j[1], "); the limit is ", kMaxThreadsPerBlock);
  const int64_t a_tile = tile_i[1] * tile_i[2] * tile_k[1], b_tile = tile_j[1] * tile_j[2] * tile_k[1];
  const bool double_buffer = define_double_buffer(cfg, "matmul", {a_tile, b_tile}, threads, target);
  const bool strided_j = define_strided_columns(cfg, "matmul", tile_j);
  const int64_t elem_bytes = half ? 2 : 4;
  // 16-byte copies of the shared tiles (appended in the sixteenth session; no cuda log existed).
  const int64_t chunk = 16 / elem_bytes;
  const std::array<bool, 2> chunked =
      define_vector_copy(cfg, "matmul", chunk, {sh.trans_a ? m : k, sh.trans_b ? k : n},
                         {sh.trans_a ? tile_i[1] * tile_i[2] : tile_k[1], sh.trans_b ? tile_k[1] : tile_j[1] * tile_j[2]});
  const int64_t shared_bytes = (a_tile + b_tile) * elem_bytes * (double_buffer ? 2 : 1);
  if (shared_bytes > kMaxSharedBytes)
    fail("matmul cuda: config ", cfg.to_string(), " stages ", shared_bytes,
         " bytes of shared memory per block; the limit is ", kMaxSharedBytes);

  Tensor a = input_a(sh, half), b = input_b(sh, half);
  Tensor c = matmul(a, b, sh.trans_a, sh.trans_b, "C");
  // The reduction stage: C itself (float32), or C_acc, the float32 accumulator C rounds (half).
  Tensor acc = half ? c.op()->input_tensors()[0] : c;
  Schedule s = create_schedule({c.op()});
  // The thread's tile_i[2] x tile_j[2] accumulators: a "local" cache (registers) of the
  // reduction, computed at the thread loop with k outside the tile, so C is written once per
  // element. (Accumulating in C itself, as before, made every k block a read-modify-write of
  // global memory: the barrier between k blocks keeps the compiler from holding C in registers.)
  // For float16, C_acc — then a copy of the accumulators — is inlined into C's rounding.
  Tensor local = s.cache_write(acc, "local");
  if (half) s[acc].compute_inline();
  Tensor a_shared = s.cache_read(a, "shared", {local.op()});
  Tensor b_shared = s.cache_read(b, "shared", {local.op()});

  Stage out = s[c];
  const ComputeOpNode* op = compute_of(out);
  std::vector<IterVar> is = split_by(out, op->axis[0], tile_i);
  const GemmColumns js = split_gemm_columns(out, op->axis[1], tile_j, strided_j);
  order_gemm_tile(out, {}, is, js);
  IterVar tx = thread_axis("threadIdx.x"), ty = thread_axis("threadIdx.y");
  out.bind(is[0], thread_axis("blockIdx.y"));
  out.bind(js.block, thread_axis("blockIdx.x"));
  out.bind(is[1], ty);
  out.bind(js.threads, tx);
  Stage red = s[local];  // the shared tiles are loaded at its k-block loop
  red.compute_at(out, js.threads);
  const ComputeOpNode* acc_op = compute_of(red);
  std::vector<IterVar> ks = split_by(red, acc_op->reduce_axis[0], tile_k);
  red.reorder({ks[0], ks[1], acc_op->axis[0], acc_op->axis[1]});
  if (unroll_tile) {
    unroll_within(red, {{acc_op->axis[1], js.cols_extent}, {acc_op->axis[0], tile_i[2]}});
    unroll_within(out, {{js.cols, js.cols_extent}, {is[2], tile_i[2]}});
  }
  if (unroll_k) red.unroll(ks[1]);

  for (const Tensor& cached : {a_shared, b_shared}) {
    Stage load = s[cached];
    load.compute_at(red, ks[0]);
    const ComputeOpNode* load_op = compute_of(load);
    IterVar row = load_op->axis[1];
    if (chunked[cached.same_as(a_shared) ? 0 : 1]) row = split_copy_chunks(load, row, chunk);
    bind_cooperative_load(load, {load_op->axis[0], row}, {{tx, tile_j[1]}, {ty, tile_i[1]}});
    if (double_buffer) load.double_buffer();
  }
  return {s, {a, b, c}};
}

}  // namespace

autotune::Instance matmul_template(autotune::Config& cfg, const std::vector<int64_t>& args,
                                   const Target& target) {
  // (m, n, k) is NN, the key every record before the layout flags has; (m, n, k, trans_a,
  // trans_b) gives the layouts.
  if (args.size() != 3 && args.size() != 5)
    fail("matmul: expects 3 arguments (m, n, k) or 5 (m, n, k, trans_a, trans_b), got ", args.size());
  const char* names[] = {"m", "n", "k"};
  for (size_t i = 0; i < 3; ++i) check_arg_at_least("matmul", names[i], args[i], 1);
  for (size_t i = 3; i < args.size(); ++i)
    if (args[i] != 0 && args[i] != 1)
      fail("matmul: argument ", i == 3 ? "trans_a" : "trans_b", " = ", args[i], " must be 0 or 1");
  const MatmulShape sh{args[0], args[1], args[2], args.size() == 5 && args[3] == 1, args.size() == 5 && args[4] == 1};
  if (target.kind == "cuda") return matmul_cuda(cfg, sh, target);
  if (target.kind == "llvm") return matmul_llvm(cfg, sh);
  fail("matmul: no schedule for target '", target.kind, "'; use llvm or cuda");
}

autotune::Instance matmul_fp16_template(autotune::Config& cfg, const std::vector<int64_t>& args,
                                        const Target& target) {
  if (args.size() != 3) fail("matmul_fp16: expects 3 arguments (m, n, k), got ", args.size());
  const char* names[] = {"m", "n", "k"};
  for (size_t i = 0; i < 3; ++i) check_arg_at_least("matmul_fp16", names[i], args[i], 1);
  if (target.kind == "cuda") {
    // Tensor cores where the shape is whole 16 x 16 x 16 tiles (8 to 16 times the float32
    // FMA rate of the thread tiles); the thread-tile structure of float32 matmul elsewhere.
    if (wmma_fits(args[0], args[1], args[2])) return matmul_wmma_cuda(cfg, args[0], args[1], args[2], target);
    return matmul_cuda(cfg, MatmulShape{args[0], args[1], args[2], false, false}, target, /*half=*/true);
  }
  fail("matmul_fp16: no schedule for target '", target.kind,
       "'; float16 matmul has a cuda schedule only (use --target cuda, or float32 matmul on llvm)");
}

}  // namespace detail
}  // namespace te::ops
