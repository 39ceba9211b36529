// The tensor-core structure of the matmul_fp16 cuda template (knob tensor_core = 1): warps of
// 16 x 16 wmma tiles (Stage::tensorize, src/lower/tensorize_wmma.h) over float16 tiles staged
// in shared memory, float32 accumulators, rounded to float16 through each warp's slot.
#include <algorithm>

#include "lower/inject_double_buffer.h"
#include "ops/templates.h"
#include "te/ops.h"

namespace te::ops::detail {
namespace {

using autotune::Config;
using autotune::Instance;

constexpr int64_t kTile = 16;  // the wmma tile (m = n = k = 16)

// {warps, fragments per warp} along rows or columns: the block covers warps * fragments * 16
// rows (columns). Only blocks that divide the extent are offered: a partial 16 x 16 tile would
// need guards, which a wmma tile cannot have.
std::vector<int64_t> define_warp_tile(Config& cfg, const std::string& name, int64_t extent) {
  std::vector<std::vector<int64_t>> tiles;
  for (const std::vector<int64_t>& t :
       {std::vector<int64_t>{2, 4}, {4, 2}, {2, 2}, {4, 1}, {1, 4}, {2, 1}, {1, 2}, {1, 1}})
    if ((extent / kTile) % (t[0] * t[1]) == 0) tiles.push_back(t);
  return define_split_candidates(cfg, name, extent / kTile, tiles);
}

}  // namespace

bool wmma_fits(int64_t m, int64_t n, int64_t k) { return m % kTile == 0 && n % kTile == 0 && k % kTile == 0; }

Instance matmul_wmma_cuda(Config& cfg, int64_t m, int64_t n, int64_t k, const Target& target) {
  const std::vector<int64_t> wi = define_warp_tile(cfg, "wmma_i", m), wj = define_warp_tile(cfg, "wmma_j", n);
  std::vector<int64_t> k_frags;  // 32, 64 or 16 deep, where that divides k
  for (int64_t f : {2, 4, 1})
    if ((k / kTile) % f == 0) k_frags.push_back(f);
  const WmmaTiles t{wi[1], wi[2], wj[1], wj[2], cfg.define_knob("wmma_k", k_frags)};
  // Buffers of the shared tiles: 2 (double buffering), 3 or 4 (a deeper pipeline, Stage::pipeline:
  // cp.async copies of the next blocks in flight on sm_80 and newer, run as 2 below), 1.
  const int64_t stages = cfg.define_knob("stages", {2, 3, 4, 1});
  const bool async_copies = cuda_async_copies(target);  // else staged in registers, at most 2 buffers
  const int64_t buffers = async_copies ? stages : std::min<int64_t>(stages, 2);
  // Rows of the shared tiles padded by 8 float16 (16 bytes): a fragment load reads 8 rows of
  // 16 bytes at a time, which at a row stride of 64 or 256 bytes share banks (4- to 8-way
  // conflicts); at stride + 16 bytes they fall on distinct banks, and every 16 x 16 block still
  // starts 32-byte aligned.
  const int64_t pad = cfg.define_knob("pad_shared", {8, 0});
  const int64_t block_m = t.warps_i * t.frags_i * kTile, block_n = t.warps_j * t.frags_j * kTile;
  const int64_t block_k = t.k_frags * kTile, warps = t.warps_i * t.warps_j, threads = 32 * warps;
  TE_ICHECK(m % block_m == 0 && n % block_n == 0 && k % block_k == 0, "matmul_fp16: wmma blocks divide the shape");
  if (threads > kMaxThreadsPerBlock)
    fail("matmul_fp16 cuda: config ", cfg.to_string(), " needs ", threads, " threads per block; the limit is ",
         kMaxThreadsPerBlock);
  // Shared memory: the float16 tiles, once per buffer, and a 1 KiB slot per warp (the float16
  // rounding of the accumulators, codegen_cuda's te_wmma_scratch). Over 48 KiB the tiles go to
  // dynamic shared memory (up to the device's opt-in limit, checked at build time).
  const int64_t shared = (block_m * (block_k + pad) + block_k * (block_n + pad)) * 2 * buffers + warps * 1024;
  if (shared > kMaxWmmaSharedBytes)
    fail("matmul_fp16 cuda: config ", cfg.to_string(), " stages ", shared, " bytes of shared memory; the limit is ",
         kMaxWmmaSharedBytes);
  for (int64_t elements : {block_m * block_k, block_k * block_n})
    if (buffers == 2 && !async_copies && (elements + threads - 1) / threads > kMaxDoubleBufferRegisters)
      fail("matmul_fp16 cuda: config ", cfg.to_string(), " double-buffers ", elements, " elements over ", threads,
           " threads in registers (no cp.async below sm_80), over the limit of ", kMaxDoubleBufferRegisters, " each");

  Tensor a = placeholder({m, k}, DataType::float16(), "A");
  Tensor b = placeholder({k, n}, DataType::float16(), "B");
  Tensor c = matmul(a, b, false, false, "C");  // float16(C_acc), C_acc the float32 reduction
  Tensor acc = c.op()->input_tensors()[0];
  Schedule s = create_schedule({c.op()});
  Tensor frag_c = s.cache_write(acc, "wmma.accumulator");
  s[acc].compute_inline();
  Tensor a_shared = s.cache_read(a, "shared", {frag_c.op()});
  Tensor b_shared = s.cache_read(b, "shared", {frag_c.op()});
  if (pad) {
    s[a_shared].storage_align(compute_of(s[a_shared])->axis[0], block_k, pad);
    s[b_shared].storage_align(compute_of(s[b_shared])->axis[0], block_n, pad);
  }
  Tensor frag_a = s.cache_read(a_shared, "wmma.matrix_a", {frag_c.op()});
  Tensor frag_b = s.cache_read(b_shared, "wmma.matrix_b", {frag_c.op()});

  // C: blocks, warps (threadIdx.z rows, threadIdx.y columns), the warp's fragments, a 16 x 16
  // tile rounded and stored by the warp.
  Stage out = s[c];
  const ComputeOpNode* op = compute_of(out);
  std::vector<IterVar> is = split_by(out, op->axis[0], {-1, t.warps_i, t.frags_i, kTile});
  std::vector<IterVar> js = split_by(out, op->axis[1], {-1, t.warps_j, t.frags_j, kTile});
  out.reorder({is[0], js[0], is[1], js[1], is[2], js[2], is[3], js[3]});
  IterVar tx = thread_axis("threadIdx.x"), ty = thread_axis("threadIdx.y"), tz = thread_axis("threadIdx.z");
  out.bind(is[0], thread_axis("blockIdx.y"));
  out.bind(js[0], thread_axis("blockIdx.x"));
  out.bind(is[1], tz);
  out.bind(js[1], ty);
  out.tensorize(is[3], "wmma");

  // The warp's accumulators: k blocks (the shared tiles), k fragments (the wmma.matrix_a/b
  // fragments), then frags_i x frags_j multiply-accumulates.
  Stage red = s[frag_c];
  red.compute_at(out, js[1]);
  const ComputeOpNode* red_op = compute_of(red);
  std::vector<IterVar> ks = split_by(red, red_op->reduce_axis[0], {-1, t.k_frags, kTile});
  auto [ri, rii] = red.split(red_op->axis[0], kTile);
  auto [rj, rjj] = red.split(red_op->axis[1], kTile);
  red.reorder({ks[0], ks[1], ri, rj, rii, rjj, ks[2]});
  red.tensorize(rii, "wmma");

  for (const Tensor& tile : {a_shared, b_shared}) {
    Stage load = s[tile];
    load.compute_at(red, ks[0]);
    const ComputeOpNode* load_op = compute_of(load);
    // 16-byte moves (8 float16; rows are multiples of 16 elements), spread over every thread;
    // the row is split into chunks before fusing (split_copy_chunks), as the CUDA-core GEMMs do.
    const IterVar chunks = split_copy_chunks(load, load_op->axis[1], 8);
    bind_cooperative_load(load, {load_op->axis[0], chunks}, {{tx, 32}, {ty, t.warps_j}, {tz, t.warps_i}});
    if (stages == 2) load.double_buffer();
    if (stages > 2) load.pipeline(stages);
  }
  Stage fa = s[frag_a], fb = s[frag_b];
  fa.compute_at(red, ks[1]);
  fb.compute_at(red, ks[1]);
  auto [fai, faii] = fa.split(compute_of(fa)->axis[0], kTile);
  (void)fai;
  fa.tensorize(faii, "wmma");
  const ComputeOpNode* fb_op = compute_of(fb);
  auto [fbj, fbjj] = fb.split(fb_op->axis[1], kTile);
  fb.reorder({fbj, fb_op->axis[0], fbjj});
  fb.tensorize(fb_op->axis[0], "wmma");
  return {s, {a, b, c}};
}

}  // namespace te::ops::detail
