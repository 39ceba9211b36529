// src/ops/templates.h — the tuning templates of the operator library (internal to src/ops).
// Each is an autotune::TemplateFn: it defines its knobs on cfg (every knob on every call, so
// the space is the same for all configs), builds the compute for args and schedules it for
// target.kind ("llvm" or "cuda"). The space-mode config (every choice 0) is the operator's
// default schedule, so each knob lists its best-on-average choice first.
#pragma once
#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "te/autotune/task.h"

namespace te::ops::detail {

// The compute operation a stage schedules (nullptr for a placeholder).
inline const ComputeOpNode* compute_of(const Stage& stage) { return stage->op.as<ComputeOpNode>(); }

// matmul(m, n, k): C[m, n] = A[m, k] x B[k, n].
autotune::Instance matmul_template(autotune::Config& cfg, const std::vector<int64_t>& args,
                                   const Target& target);
// matmul_fp16(m, n, k): float16 A and B, C = float16(sum_k float32(A) * float32(B)) (float32
// accumulation); cuda only (te::Error naming the target elsewhere). Tensor cores (wmma tiles,
// matmul_wmma_cuda's knobs) where m, n and k are multiples of 16; elsewhere matmul's thread
// tiles and knobs.
autotune::Instance matmul_fp16_template(autotune::Config& cfg, const std::vector<int64_t>& args,
                                        const Target& target);
// batch_matmul(b, m, n, k, trans_a, trans_b): C[b, m, n] = op(A)[b] x op(B)[b], the trans
// flags 0 or 1 (A stored [b, k, m] when trans_a, B stored [b, n, k] when trans_b).
autotune::Instance batch_matmul_template(autotune::Config& cfg, const std::vector<int64_t>& args,
                                         const Target& target);
// conv2d(n, c, h, w, k, r, s, stride, pad): NCHW data, KCRS weight, dilation 1.
autotune::Instance conv2d_template(autotune::Config& cfg, const std::vector<int64_t>& args,
                                   const Target& target);

// conv2d_nchwc(n, c, h, w, k, r, s, stride, pad, ic_block, oc_block): data NCHW[ic_block]c,
// weight OIHW[ic_block]i[oc_block]o, output NCHW[oc_block]c (conv2d_nchwc.cc); the blocks must
// divide c and k.
autotune::Instance conv2d_nchwc_template(autotune::Config& cfg, const std::vector<int64_t>& args,
                                         const Target& target);

// What the conv2d templates share (conv2d.cc): the shape of (n, c, h, w, k, r, s, stride, pad)
// (dilation 1 from conv_shape), parsed by conv_shape (te::Error naming `op` for a wrong count or
// bad values).
struct ConvShape {
  int64_t n, c, h, w, k, r, s, stride, pad;
  int64_t dilation = 1;  // the kernel's taps are dilation apart (conv2d_grouped with groups 1)
  int64_t out_h() const { return (h + 2 * pad - dilation * (r - 1) - 1) / stride + 1; }
  int64_t out_w() const { return (w + 2 * pad - dilation * (s - 1) - 1) / stride + 1; }
};
ConvShape conv_shape(const char* op, const std::vector<int64_t>& args);
// A width tile for a CPU register tile: the largest divisor of the width in [4, 14] (with two
// rows, at most 28 of the 32 vector registers hold accumulators), else 14.
int64_t register_x_tile(int64_t width);
// A conv output extent (in + 2 pad - dilation (kernel - 1) - 1) / stride + 1; te::Error naming
// `op` and `dim` when the padded input is smaller than the (dilated) kernel.
Expr conv_output_extent(const char* op, const Expr& in, const Expr& kernel, int64_t stride, int64_t pad,
                        int64_t dilation, const char* dim);
// The CPU conv templates' output tiling: axes k, y, x of `stage` split by the {rest, inner} tuples
// tile_k, tile_y, tile_x, ordered (n, k_outer, y_outer, x_outer, k_inner, y_inner, x_inner) for
// order 0 (channel tiles outside row tiles: a tile's weights stay in cache over the rows) or with
// y_outer and k_outer swapped for order 1 (an input row block stays in cache over the channels);
// axes after x (a channel block) stay innermost. Returns the seven axes in that order.
std::vector<IterVar> tile_conv_output(Stage stage, const IterVar& n, const IterVar& k, const IterVar& y,
                                      const IterVar& x, const std::vector<int64_t>& tile_k,
                                      const std::vector<int64_t>& tile_y, const std::vector<int64_t>& tile_x,
                                      int64_t order);
// data zero-padded by `pad` on both sides of axes h_axis and h_axis + 1, as a stage "pad"; data
// itself when pad == 0.
Tensor zero_pad_spatial(const Tensor& data, int64_t pad, size_t h_axis);
// The "conv2d" template's CPU structure (conv2d.cc, conv2d_llvm) for an NCHW convolution of
// shape cs (any dilation) whose weight arrives unpacked (KCRS): a "weight_packed" stage packs it
// into blocks of 16 filters first, in the kernel (parallel over the blocks), and the blocked
// convolution reads that. Kernel arguments (data, weight, out). conv2d_grouped with groups 1
// (a dilated conv2d) uses it.
autotune::Instance conv2d_blocked_llvm(autotune::Config& cfg, const ConvShape& cs);
// conv3d (n, c, d, h, w, k, t, r, s, stride, pad), NCDHW data and KCTRS weight, dilation 1.
struct Conv3dShape {
  int64_t n, c, d, h, w, k, t, r, s, stride, pad;
  int64_t out_extent(int64_t in, int64_t kernel) const { return (in + 2 * pad - kernel) / stride + 1; }
};
// The "conv3d" template's CPU structure (conv3d_blocked.cc): conv2d's blocked register tiles with
// a depth axis, the weight packed into blocks of 16 filters by a stage of the kernel. Kernel
// arguments (data, weight, out).
autotune::Instance conv3d_blocked_llvm(autotune::Config& cfg, const Conv3dShape& cs);
// data zero-padded by `pad` on both sides of each of `axes`, as a stage "<name>_pad"; data itself
// when pad == 0.
Tensor pad_axes(const Tensor& data, const std::vector<size_t>& axes, int64_t pad, const std::string& name);

// The epsilon of the "layer_norm" template (PyTorch's and BERT's default).
constexpr double kLayerNormEpsilon = 1e-5;
// softmax(m, n): X[m, n] -> softmax over n. Kernel arguments (X, out).
autotune::Instance softmax_template(autotune::Config& cfg, const std::vector<int64_t>& args,
                                    const Target& target);
// layer_norm(m, n): X[m, n], gamma[n], beta[n] -> out[m, n], epsilon kLayerNormEpsilon.
// Kernel arguments (X, gamma, beta, out).
autotune::Instance layer_norm_template(autotune::Config& cfg, const std::vector<int64_t>& args,
                                       const Target& target);

// dense_bias(m, n, k) / dense_bias_gelu(m, n, k): out = act(A[m, k] x B[k, n] + bias[n]) in one
// kernel. Kernel arguments (A, B, bias, out).
autotune::Instance dense_bias_template(autotune::Config& cfg, const std::vector<int64_t>& args,
                                       const Target& target);
autotune::Instance dense_bias_gelu_template(autotune::Config& cfg, const std::vector<int64_t>& args,
                                            const Target& target);
// conv2d_bias_relu(n, c, h, w, k, r, s, stride, pad): relu(conv2d + bias[k]) in one kernel, the
// epilogue in the output tile (llvm: in the unpack from NCHW16c). Kernel arguments (data,
// weight (OIHW16o on llvm, KCRS on cuda), bias, out).
autotune::Instance conv2d_bias_relu_template(autotune::Config& cfg, const std::vector<int64_t>& args,
                                             const Target& target);
// max_pool2d / avg_pool2d(n, c, h, w, kernel, stride, pad): NCHW, square window.
autotune::Instance max_pool2d_template(autotune::Config& cfg, const std::vector<int64_t>& args,
                                       const Target& target);
autotune::Instance avg_pool2d_template(autotune::Config& cfg, const std::vector<int64_t>& args,
                                       const Target& target);
// depthwise_conv2d(n, c, h, w, r, s, stride, pad, dilation): NCHW data, weight [c, 1, r, s].
autotune::Instance depthwise_conv2d_template(autotune::Config& cfg, const std::vector<int64_t>& args,
                                             const Target& target);
// The NCHWc (NCHW16c) memory-bound operators, the same arguments as their NCHW templates (c a
// multiple of kNchwcBlock, te::Error otherwise): data [n, c/16, h, w, 16], depthwise weight
// [c/16, r, s, 16] (depthwise_pack_weight), output blocked the same way.
autotune::Instance depthwise_conv2d_nchwc_template(autotune::Config& cfg, const std::vector<int64_t>& args,
                                                   const Target& target);
autotune::Instance max_pool2d_nchwc_template(autotune::Config& cfg, const std::vector<int64_t>& args,
                                             const Target& target);
autotune::Instance avg_pool2d_nchwc_template(autotune::Config& cfg, const std::vector<int64_t>& args,
                                             const Target& target);
// [n, c/16, h, w, 16] for an NCHWc template's (n, c, h, w); te::Error naming op unless 16 divides c.
std::vector<Expr> nchwc_shape(const std::string& op, int64_t n, int64_t c, int64_t h, int64_t w);
// data padded by `pad` cells of `fill` on both sides of axes 2 and 3 (H and W in NCHW and NCHWc),
// a stage `name`; data itself when pad is 0. The shape must be constant.
Tensor pad_hw(const Tensor& data, int64_t pad, const Expr& fill, const std::string& name);
// The generalized convolutions (conv_variants.cc), plain schedules:
// conv2d_nhwc(n, h, w, c, k, r, s, stride, pad, dilation): NHWC data, RSCK weight;
// conv2d_grouped(n, c, h, w, k, r, s, stride, pad, dilation, groups): NCHW, weight [k, c/groups, r, s];
// conv2d_transpose(n, c, h, w, k, r, s, stride, pad): NCHW, weight [c, k, r, s];
// conv3d(n, c, d, h, w, k, t, r, s, stride, pad): NCDHW, weight [k, c, t, r, s].
autotune::Instance conv2d_nhwc_template(autotune::Config& cfg, const std::vector<int64_t>& args, const Target& target);
autotune::Instance conv2d_grouped_template(autotune::Config& cfg, const std::vector<int64_t>& args,
                                           const Target& target);
autotune::Instance conv2d_transpose_template(autotune::Config& cfg, const std::vector<int64_t>& args,
                                             const Target& target);
autotune::Instance conv3d_template(autotune::Config& cfg, const std::vector<int64_t>& args, const Target& target);

// The "plain" schedule of an output `out` fed by at most one reduction (`reduction`: the
// stage computed at the output's tile; out itself when the output is the reduction;
// undefined for none) and padding stages. llvm knobs: tile_x (innermost axis, vectorized),
// tile_y (the axis before it), parallel (outer loops fused), vectorize, unroll, inline_pad;
// the reduction computed at the tile with the reduce axes outside the tile's. cuda knobs:
// threads (per block), elems (consecutive outputs per thread along the innermost axis),
// unroll; all output axes over blockIdx.x/threadIdx.x, the reduction per thread in a "local"
// accumulator (no cross-thread reduction), padding inlined.
void schedule_plain_llvm(autotune::Config& cfg, Schedule& s, const Tensor& out, const Tensor& reduction,
                         const std::vector<Tensor>& pads);
void schedule_plain_cuda(autotune::Config& cfg, Schedule& s, const Tensor& out, const Tensor& reduction,
                         const std::vector<Tensor>& pads, const std::string& op_name);

// The CPU schedule of an NCHWc output [n, cb, oh, ow, block] (the same stages as
// schedule_plain_llvm's): the block is the vector (16 floats: one AVX-512 register, every load
// whole and aligned), a tile_y x tile_x tile of output positions the register accumulators with
// the window loops outside it (unrolled), (n, cb, row tiles) fused and parallel. Knobs tile_x,
// tile_y, parallel, unroll, inline_pad.
void schedule_blocked_llvm(autotune::Config& cfg, Schedule& s, const Tensor& out, const Tensor& reduction,
                           const std::vector<Tensor>& pads);

// Split choices for an axis of `extent` as full size tuples {-1, inner...}, in the order
// given (the first is the default). Inner sizes are clamped (outermost inner first) so their
// product never exceeds the extent; duplicates after clamping are dropped.
std::vector<std::vector<int64_t>> split_candidates(int64_t extent,
                                                   const std::vector<std::vector<int64_t>>& inner_sizes);

// Defines a split knob with the given candidate tuples and returns the chosen tuple (a copy:
// a reference into cfg would dangle once more knobs are defined).
std::vector<int64_t> define_split_candidates(autotune::Config& cfg, const std::string& name,
                                             int64_t extent,
                                                    const std::vector<std::vector<int64_t>>& inner_sizes);

// The "nontemporal" knob: the output written by streaming stores (Stage::pragma(axis,
// "nontemporal") on its outer loop, x86 only). Offered where the output is 4 MiB or more, the
// default from 32 MiB (far beyond a thread's share of the caches: each output line then skips
// its read-for-ownership, 3 memory transfers per element become 2). For a smaller output
// streaming stores would evict what its reader wants next — a cost the tuner's timing loop does
// not see — so below 4 MiB, or where the output's rows are not whole 64-byte lines, the knob
// has the one choice 0.
bool define_nontemporal_knob(autotune::Config& cfg, const Tensor& out);

// Splits `axis` of `stage` by the inner sizes of `sizes` (sizes[0] is the rest): returns the
// sizes.size() axes, outermost first.
std::vector<IterVar> split_by(Stage stage, const IterVar& axis, const std::vector<int64_t>& sizes);

// Fuses every axis (adjacent leaves, outermost first) into one and splits it over the given
// thread axes (innermost thread first: threadIdx.x, then .y, .z), so the threads of a block
// share the copy of a shared-memory tile.
void bind_cooperative_load(Stage stage, const std::vector<IterVar>& axes,
                           const std::vector<std::pair<IterVar, int64_t>>& threads_inner_first);

// The CUDA templates' "double_buffer" knob (choices {1, 0}, on first): whether the shared tiles
// are double-buffered (Stage::double_buffer: the next block's global loads overlap this block's
// arithmetic; twice the shared memory). copy_elements: the elements of each staged tile, spread
// over `threads`; te::Error (an invalid config) when on, the target has no cp.async (below
// sm_80: the copy is staged in registers) and a thread would stage more than
// kMaxDoubleBufferRegisters (src/lower/inject_double_buffer.h) of one tile. (With cp.async a copy
// too small for it — a 2-byte scalar — is still staged in registers, and lowering refuses it
// there with the same limit.)
bool define_double_buffer(autotune::Config& cfg, const std::string& op, const std::vector<int64_t>& copy_elements,
                          int64_t threads, const Target& target);

// The CUDA GEMM templates' "vector_copy" knob ({1, 0}; only {0} where neither input's rows are
// whole chunks): each thread copies 16-byte chunks (`chunk` elements) of a shared tile's rows —
// one LDG.128, or one 16-byte cp.async when double-buffered on sm_80 and newer — instead of
// single elements. input_rows: the row lengths of A and B as stored (a chunk starts aligned
// only where they are whole chunks); tile_rows: the staged tiles' row lengths. Returns, per
// input, whether its tile is copied in chunks; te::Error (an invalid config) when on and neither is.
std::array<bool, 2> define_vector_copy(autotune::Config& cfg, const std::string& op, int64_t chunk,
                                       const std::array<int64_t, 2>& input_rows,
                                       const std::array<int64_t, 2>& tile_rows);
// Splits the row axis of a shared tile's copy stage into chunks of `chunk` vectorized lanes
// (before the axes are fused for the threads, so a chunk's index stays affine in its lanes) and
// returns the chunk axis to fuse in the row's place.
IterVar split_copy_chunks(Stage load, const IterVar& row, int64_t chunk);

// The CUDA GEMM templates' "strided_j" knob (choices {1, 0}): 1 makes a thread's tile_j[2]
// columns float4 chunks tile_j[1] * 4 columns apart (virtual threads, TVM's strided register
// tiles) instead of one contiguous run, so the 16-byte shared reads of B by neighbouring threads
// are neighbouring words (contiguous 8-column runs put them 32 bytes apart: two-way bank
// conflicts) and a warp's stores of C coalesce. Returns whether to chunk: false for 4 columns
// or fewer (one chunk either way); te::Error (an invalid config) when on and tile_j[2] is not
// a multiple of 4.
bool define_strided_columns(autotune::Config& cfg, const std::string& op, const std::vector<int64_t>& tile_j);
// A CUDA GEMM output's column axis split by tile_j = {blocks, threads, columns per thread}:
// block, threads, cols (the thread's columns, cols_extent of them) — and with `strided`, chunks
// (the thread's tile_j[2] / 4 chunks, to bind to "vthread", ordered right after block) with
// cols the 4 columns of one chunk.
struct GemmColumns {
  IterVar block, chunks, threads, cols;
  int64_t cols_extent;
};
GemmColumns split_gemm_columns(Stage stage, const IterVar& axis, const std::vector<int64_t>& tile_j, bool strided);
// Orders a CUDA GEMM output's loops: outer (e.g. the batch), the row and column blocks, the
// column chunks (bound to "vthread"), the thread loops, then the thread's tile. rows: block,
// threads, the thread's rows (split_by with tile_i).
void order_gemm_tile(Stage stage, std::vector<IterVar> outer, const std::vector<IterVar>& rows,
                     const GemmColumns& cols);

// The GEMM templates' vectorized column tile over B packed in `panel`-column panels: a tile wider
// than a panel (64 over 32-column panels) would be one vector across two panels, which LLVM
// reads as a gather; this splits it into whole panels (the panel loop unrolled) so each panel
// row is read contiguously. Returns the loop to vectorize (cols itself when no split is needed).
IterVar split_panel_tile(Stage stage, const IterVar& cols, int64_t tile, int64_t panel, bool vectorize);
// Unrolls the given loops (with their extents), innermost first, while the product of the
// unrolled extents stays within max_copies, so a tuning candidate still compiles quickly.
void unroll_within(Stage stage, const std::vector<std::pair<IterVar, int64_t>>& inner_first,
                   int64_t max_copies = 32);

// The constant shape of t (te::Error naming op and t when a dimension is not constant).
std::vector<int64_t> constant_shape(const std::string& op, const Tensor& t);
// Dimension `axis` of t, which must be constant: for an operator that needs only some of its
// input's dimensions known (a channel count to block). The te::Error names op, `what` the
// dimension is ("the channel count"), the axis and t.
int64_t constant_dim(const std::string& op, const Tensor& t, size_t axis, const std::string& what);
// te::Error naming op unless stride >= 1, pad >= 0 and dilation >= 1.
void check_conv_params(const std::string& op, int64_t stride, int64_t pad, int64_t dilation);
// Columns per packed panel of B in the CPU GEMM templates: one register tile row of 32 columns
// (two AVX-512 vectors) reads one panel row per k.
constexpr int64_t kGemmPanelWidth = 32;

// A CPU GEMM's stages for schedule_gemm_llvm: `packed` (packedB, [(batch,) panels, k,
// kGemmPanelWidth]), `c` (the reduction, [(batch,) m, n], reading B only through packed) and,
// for an operator with an epilogue (dense + bias + activation), `epilogue`, the output computed
// element-wise from c (undefined otherwise). The compute is the operator's own and never
// depends on the config, so a record's steps replay on it.
struct GemmLlvm {
  Tensor packed, c, epilogue;
  bool batched = false;
  int64_t m = 0, n = 0, k = 0;
};

// The one CPU schedule of matmul, batch_matmul and dense (gemm_llvm.cc): defines the knobs
// tile_i, tile_j, tile_k, cache_write (only without an epilogue), pack_b, order, unroll_i,
// unroll_k, vectorize_j, parallel, prefetch_b, in that order, and schedules g's stages in s.
void schedule_gemm_llvm(autotune::Config& cfg, Schedule& s, const GemmLlvm& g);

// te::Error naming the operator and the argument unless value >= minimum.
void check_arg_at_least(const std::string& op, const std::string& arg, int64_t value, int64_t minimum);

// The CUDA limits a template checks before building (te::Error naming the config otherwise).
constexpr int64_t kMaxThreadsPerBlock = 1024;
constexpr int64_t kMaxSharedBytes = 48 * 1024;
// The tensor-core template's limit: dynamic shared memory beyond the static 48 KiB, within the
// opt-in maximum of every GPU with cp.async (99 KiB on sm_86/sm_89; 163 on sm_80, 227 on sm_90).
constexpr int64_t kMaxWmmaSharedBytes = 96 * 1024;

// The tensor-core structure of matmul_fp16 on cuda (matmul_wmma.cc), for m, n and k multiples
// of 16 (wmma_fits): blocks of warps_i x warps_j warps, each frags_i x frags_j wmma tiles of
// 16 x 16, k blocks of k_frags x 16 staged in shared memory.
struct WmmaTiles {
  int64_t warps_i, frags_i, warps_j, frags_j, k_frags;
};
bool wmma_fits(int64_t m, int64_t n, int64_t k);
// float16 C[m, n] = float16(A[m, k] x B[k, n]) on tensor cores. Knobs "wmma_i" / "wmma_j"
// ({warps, fragments}, those whose blocks divide the extent), "wmma_k" (k_frags of {2, 4, 1}
// dividing k / 16), "stages" ({2, 3, 4, 1}: buffers of the shared tiles, Stage::double_buffer /
// Stage::pipeline) and "pad_shared" ({8, 0}: the shared tiles' rows padded by 8 float16 against
// bank conflicts in the fragment loads); te::Error (an invalid config) when the tiles exceed the
// block's threads, kMaxWmmaSharedBytes or (below sm_80) the double-buffering registers.
autotune::Instance matmul_wmma_cuda(autotune::Config& cfg, int64_t m, int64_t n, int64_t k, const Target& target);

}  // namespace te::ops::detail
