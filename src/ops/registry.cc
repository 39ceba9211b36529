// src/ops/registry.cc — the operator list the `autotune` command and Python see, shape
// parsing ("m=512,k=256"), registration of the built-in templates, and the small helpers
// the templates share (split candidates, cooperative shared-memory loads).
#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <mutex>
#include <set>

#include "lower/inject_double_buffer.h"
#include "ops/templates.h"
#include "te/ops.h"

namespace te::ops {
namespace {

std::string join(const std::vector<std::string>& names, const char* sep = ", ") {
  std::string out;
  for (const std::string& n : names) out += (out.empty() ? "" : sep) + n;
  return out;
}

std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\n\r"), e = s.find_last_not_of(" \t\n\r");
  return b == std::string::npos ? "" : s.substr(b, e - b + 1);
}

// The NCHWc forms of depthwise conv2d and pooling: the NCHW operators' arguments and defaults.
void append_nchwc_memops(std::vector<OpInfo>& ops, OpInfo max_pool, OpInfo avg_pool, OpInfo depthwise) {
  const char* layout =
      " -- in the blocked layout NCHW16c: data [n, c/16, h, w, 16] and output blocked the same way (c a multiple of "
      "16; te::ops::nchw_to_nchwc / nchwc_to_nchw are the transforms)";
  for (OpInfo* op : {&max_pool, &avg_pool, &depthwise}) {
    op->name += "_nchwc";
    op->description += layout;
  }
  depthwise.description += "; weight pre-packed [c/16, r, s, 16] (te::ops::depthwise_pack_weight)";
  ops.insert(ops.end(), {max_pool, avg_pool, depthwise});
}

std::vector<OpInfo> make_op_list() {
  OpInfo matmul;
  matmul.name = "matmul";
  matmul.description =
      "C[m, n] = sum_k A[m, k] * B[k, n] (float32); A stored [k, m] when trans_a=1, B stored [n, k] when "
      "trans_b=1 (the flags are left out of the workload key when both are 0)";
  matmul.arg_names = {"m", "n", "k", "trans_a", "trans_b"};
  matmul.default_args = {1024, 1024, 1024, 0, 0};
  matmul.required_args = 3;
  matmul.targets = {"llvm", "cuda"};
  // float16 GEMM with float32 accumulation (`autotune --op matmul --dtype float16`): its own
  // name, so its workload keys never mix with float32 matmul's records.
  OpInfo matmul_fp16 = matmul;
  matmul_fp16.name = "matmul_fp16";
  matmul_fp16.description =
      "C[m, n] = float16(sum_k float32(A[m, k]) * float32(B[k, n])): float16 inputs and output, float32 "
      "accumulation (no tensor cores)";
  matmul_fp16.targets = {"cuda"};
  matmul_fp16.arg_names = {"m", "n", "k"};  // NN only (its template takes no layout flags)
  matmul_fp16.default_args = {1024, 1024, 1024};

  OpInfo bmm;
  bmm.name = "batch_matmul";
  bmm.description =
      "C[b, m, n] = sum_k A[b, m, k] * B[b, k, n] (float32); A stored [b, k, m] when trans_a=1, B stored "
      "[b, n, k] when trans_b=1; default is BERT-base attention scores Q.K^T";
  bmm.arg_names = {"b", "m", "n", "k", "trans_a", "trans_b"};
  bmm.default_args = {12, 128, 128, 64, 0, 1};
  bmm.targets = {"llvm", "cuda"};

  OpInfo conv;
  conv.name = "conv2d";
  conv.description =
      "NCHW 2-D convolution, zero padding, dilation 1 (float32); default is ResNet-18 conv C6. "
      "Weight: KCRS on cuda; pre-packed OIHW16o ([ceil(k/16), c, r, s, 16], te::ops::conv2d_pack_weight) on llvm";
  conv.arg_names = {"n", "c", "h", "w", "k", "r", "s", "stride", "pad"};
  conv.default_args = {1, 128, 28, 28, 128, 3, 3, 1, 1};
  conv.targets = {"llvm", "cuda"};
  // The blocked conv2d: its own name (and the block sizes as arguments), so "conv2d"'s keys and
  // logs stay valid.
  OpInfo conv_nchwc = conv;
  conv_nchwc.name = "conv2d_nchwc";
  conv_nchwc.description =
      "blocked 2-D convolution in oneDNN's/TVM's layouts, zero padding, dilation 1 (float32): data "
      "[n, c/ic_block, h, w, ic_block], weight [k/oc_block, c/ic_block, r, s, ic_block, oc_block], output "
      "[n, k/oc_block, oh, ow, oc_block] (te::ops::nchw_to_nchwc, conv2d_nchwc_pack_weight, nchwc_to_nchw "
      "convert); the blocks must divide c and k; default is ResNet-18 conv C6 with blocks of 16";
  conv_nchwc.arg_names = {"n", "c", "h", "w", "k", "r", "s", "stride", "pad", "ic_block", "oc_block"};
  conv_nchwc.default_args = {1, 128, 28, 28, 128, 3, 3, 1, 1, 16, 16};
  OpInfo softmax;
  softmax.name = "softmax";
  softmax.description =
      "out[m, n] = softmax over n of X[m, n] (float32, numerically stable: row max, sum of exp, divide); "
      "default is BERT-base's hidden size";
  softmax.arg_names = {"m", "n"};
  softmax.default_args = {128, 768};
  softmax.targets = {"llvm", "cuda"};

  OpInfo ln;
  ln.name = "layer_norm";
  ln.description =
      "out[m, n] = (X - mean) * rsqrt(var + 1e-5) * gamma[n] + beta[n] over n (float32, biased variance, "
      "epsilon fixed at 1e-5); default is BERT-base's hidden size";
  ln.arg_names = {"m", "n"};
  ln.default_args = {128, 768};
  ln.targets = {"llvm", "cuda"};
  auto op = [](const char* name, const char* description, std::vector<std::string> arg_names,
               std::vector<int64_t> defaults) {
    return OpInfo{name, description, std::move(arg_names), std::move(defaults), {"llvm", "cuda"}};
  };
  const std::vector<std::string> conv_args = conv.arg_names;
  OpInfo dense_bias = op("dense_bias",
                         "out[m, n] = sum_k A[m, k] * B[k, n] + bias[n] in one kernel (float32; B stored [k, n] as "
                         "matmul's, or [n, k] as a PyTorch Linear weight when trans_b=1); default is BERT-base's QKV "
                         "projection",
                         {"m", "n", "k", "trans_b"}, {128, 768, 768, 0});
  OpInfo dense_gelu = op("dense_bias_gelu",
                         "out[m, n] = gelu(A.B + bias[n]) in one kernel, GELU 0.5 x (1 + erf(x / sqrt 2)) with erf as a vectorizable rational function (within 3.2e-7) "
                         "(float32; B [n, k] when trans_b=1); default is BERT-base's feed-forward up-projection",
                         {"m", "n", "k", "trans_b"}, {128, 3072, 768, 0});
  // trans_b is left out of the key when 0: the keys of the committed dense logs stay valid.
  dense_bias.required_args = dense_gelu.required_args = 3;
  OpInfo conv_relu = op("conv2d_bias_relu",
                        "relu(conv2d + bias[k]) in one kernel, the epilogue fused into the output tile (llvm: into "
                        "the unpack from NCHW16c); weights as conv2d's; default is ResNet-18 conv C6",
                        conv_args, conv.default_args);
  OpInfo max_pool = op("max_pool2d",
                       "NCHW max pooling, kernel x kernel window, stride, padding (padded cells never win) "
                       "(float32); default is ResNet-18's stem pooling",
                       {"n", "c", "h", "w", "kernel", "stride", "pad"}, {1, 64, 112, 112, 3, 2, 1});
  OpInfo avg_pool = op("avg_pool2d",
                       "NCHW average pooling, kernel x kernel window, stride, padding; count_include_pad: divides "
                       "by kernel^2, padded cells count as zeros (float32)",
                       {"n", "c", "h", "w", "kernel", "stride", "pad"}, {1, 64, 56, 56, 3, 2, 1});
  OpInfo depthwise = op("depthwise_conv2d",
                        "depthwise NCHW conv2d, channel multiplier 1, weight [c, 1, r, s], stride, zero padding, "
                        "dilation (float32); default is a MobileNet-v2 3x3 layer",
                        {"n", "c", "h", "w", "r", "s", "stride", "pad", "dilation"}, {1, 144, 56, 56, 3, 3, 1, 1, 1});
  OpInfo nhwc = op("conv2d_nhwc",
                   "NHWC conv2d, weight RSCK ([r, s, c, k]), stride, zero padding, dilation (float32); default is "
                   "ResNet-18 conv C6 in NHWC",
                   {"n", "h", "w", "c", "k", "r", "s", "stride", "pad", "dilation"}, {1, 28, 28, 128, 128, 3, 3, 1, 1, 1});
  OpInfo grouped = op("conv2d_grouped",
                      "grouped NCHW conv2d, weight [k, c/groups, r, s], stride, zero padding, dilation (float32); "
                      "default is a ResNeXt-50 3x3 layer (32 groups)",
                      {"n", "c", "h", "w", "k", "r", "s", "stride", "pad", "dilation", "groups"},
                      {1, 128, 56, 56, 128, 3, 3, 1, 1, 1, 32});
  OpInfo transpose = op("conv2d_transpose",
                        "transposed NCHW conv2d (PyTorch ConvTranspose2d, no output_padding), weight [c, k, r, s], "
                        "output (h-1)*stride - 2*pad + r (float32); default is a DCGAN generator layer",
                        {"n", "c", "h", "w", "k", "r", "s", "stride", "pad"}, {1, 256, 8, 8, 128, 4, 4, 2, 1});
  OpInfo conv3d = op("conv3d",
                     "NCDHW conv3d, weight [k, c, t, r, s], the same stride and zero padding in all dimensions "
                     "(float32); default is a C3D 3x3x3 layer",
                     {"n", "c", "d", "h", "w", "k", "t", "r", "s", "stride", "pad"}, {1, 64, 8, 28, 28, 64, 3, 3, 3, 1, 1});
  std::vector<OpInfo> ops{matmul,    matmul_fp16, bmm,       conv,      conv_nchwc, softmax, ln,      dense_bias,
                          dense_gelu, conv_relu, max_pool, avg_pool, depthwise,  nhwc,    grouped, transpose,
                          conv3d};
  append_nchwc_memops(ops, max_pool, avg_pool, depthwise);
  return ops;
}

const std::vector<OpInfo>& op_list() {
  static const std::vector<OpInfo> ops = make_op_list();
  return ops;
}

}  // namespace

void register_builtin_templates() {
  static std::once_flag once;
  // A te::Error (the name is taken by a user's template) propagates and leaves once unset,
  // so a later call retries.
  std::call_once(once, [] {
    autotune::register_template("matmul", detail::matmul_template);
    autotune::register_template("matmul_fp16", detail::matmul_fp16_template);
    autotune::register_template("batch_matmul", detail::batch_matmul_template);
    autotune::register_template("conv2d", detail::conv2d_template);
    autotune::register_template("conv2d_nchwc", detail::conv2d_nchwc_template);
    autotune::register_template("softmax", detail::softmax_template);
    autotune::register_template("layer_norm", detail::layer_norm_template);
    autotune::register_template("dense_bias", detail::dense_bias_template);
    autotune::register_template("dense_bias_gelu", detail::dense_bias_gelu_template);
    autotune::register_template("conv2d_bias_relu", detail::conv2d_bias_relu_template);
    autotune::register_template("max_pool2d", detail::max_pool2d_template);
    autotune::register_template("avg_pool2d", detail::avg_pool2d_template);
    autotune::register_template("depthwise_conv2d", detail::depthwise_conv2d_template);
    autotune::register_template("conv2d_nhwc", detail::conv2d_nhwc_template);
    autotune::register_template("conv2d_grouped", detail::conv2d_grouped_template);
    autotune::register_template("conv2d_transpose", detail::conv2d_transpose_template);
    autotune::register_template("conv3d", detail::conv3d_template);
    autotune::register_template("max_pool2d_nchwc", detail::max_pool2d_nchwc_template);
    autotune::register_template("avg_pool2d_nchwc", detail::avg_pool2d_nchwc_template);
    autotune::register_template("depthwise_conv2d_nchwc", detail::depthwise_conv2d_nchwc_template);
  });
}

const std::vector<OpInfo>& list_ops() {
  register_builtin_templates();
  return op_list();
}

const OpInfo& find_op(const std::string& name) {
  std::vector<std::string> known;
  for (const OpInfo& op : list_ops()) {
    if (op.name == name) return op;
    known.push_back(op.name);
  }
  fail("unknown operator '", name, "'; known operators: ", join(known));
}

std::vector<int64_t> parse_shape(const OpInfo& op, const std::string& text) {
  std::vector<int64_t> args = op.default_args;
  std::set<std::string> seen;
  const std::string keys = join(op.arg_names);
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t comma = text.find(',', pos);
    if (comma == std::string::npos) comma = text.size();
    const std::string entry = trim(text.substr(pos, comma - pos));
    pos = comma + 1;
    if (entry.empty()) {
      if (trim(text).empty()) break;
      fail("shape '", text, "' of ", op.name, " has an empty entry; write key=value pairs such as ",
           op.arg_names.front(), "=", op.default_args.front(), " (keys: ", keys, ")");
    }
    const size_t eq = entry.find('=');
    if (eq == std::string::npos)
      fail("shape entry '", entry, "' of ", op.name, " is not key=value (keys: ", keys, ")");
    const std::string key = trim(entry.substr(0, eq)), value = trim(entry.substr(eq + 1));
    auto it = std::find(op.arg_names.begin(), op.arg_names.end(), key);
    if (it == op.arg_names.end())
      fail("unknown shape key '", key, "' for ", op.name, "; its keys are: ", keys);
    if (!seen.insert(key).second) fail("shape key '", key, "' of ", op.name, " is given twice");
    errno = 0;
    char* end = nullptr;
    const long long parsed = value.empty() ? 0 : std::strtoll(value.c_str(), &end, 10);
    if (value.empty() || end == nullptr || *end != '\0')
      fail("shape key '", key, "' of ", op.name, " has value '", value, "', which is not an integer");
    if (errno == ERANGE) fail("shape key '", key, "' of ", op.name, " has value '", value, "', which is too large");
    if (parsed < 0) fail("shape key '", key, "' of ", op.name, " is negative (", parsed, "); sizes are >= 0");
    args[size_t(it - op.arg_names.begin())] = parsed;
  }
  if (op.required_args > 0 && op.required_args < args.size() &&
      std::equal(args.begin() + op.required_args, args.end(), op.default_args.begin() + op.required_args))
    args.resize(op.required_args);
  return args;
}

namespace detail {

std::vector<std::vector<int64_t>> split_candidates(int64_t extent,
                                                   const std::vector<std::vector<int64_t>>& inner_sizes) {
  std::vector<std::vector<int64_t>> result;
  std::set<std::vector<int64_t>> seen;
  for (const std::vector<int64_t>& inner : inner_sizes) {
    // Clamp outermost-inner first so the product never exceeds the extent (small shapes get
    // smaller tiles rather than no choice at all).
    std::vector<int64_t> tuple{-1};
    int64_t budget = std::max<int64_t>(extent, 1);
    for (int64_t size : inner) {
      const int64_t clamped = std::max<int64_t>(1, std::min(size, budget));
      tuple.push_back(clamped);
      budget /= clamped;
    }
    if (seen.insert(tuple).second) result.push_back(tuple);
  }
  return result;
}

std::vector<int64_t> define_split_candidates(autotune::Config& cfg, const std::string& name,
                                             int64_t extent,
                                                    const std::vector<std::vector<int64_t>>& inner_sizes) {
  autotune::SplitOptions options;
  options.policy = autotune::SplitPolicy::kCandidates;
  options.candidates = split_candidates(extent, inner_sizes);
  TE_ICHECK(!options.candidates.empty(), "no split candidates for ", name);
  const int num_outputs = int(options.candidates.front().size());
  return cfg.define_split(name, extent, num_outputs, options);
}

bool define_nontemporal_knob(autotune::Config& cfg, const Tensor& out) {
  constexpr int64_t kOffered = int64_t(4) << 20, kDefault = int64_t(32) << 20;
  int64_t bytes = out.dtype().bytes();
  for (const Expr& e : out.shape()) {
    const int64_t* extent = as_const_int(e);
    bytes *= extent ? *extent : 0;
  }
  // Rows of whole cache lines only: with rows of 56 floats (224 bytes, every other row's pieces
  // misaligned, its last line shared with the next row) streaming stores made NCHW depthwise
  // 56 x 56 1.6x slower (measured; the lines streamed are whole, so the cause is not a line
  // mixing both kinds of store — the ordinary stores' adjacent-line prefetches are a suspect).
  const int64_t* row = out.ndim() > 0 ? as_const_int(out.shape().back()) : nullptr;
  const bool whole_lines = row && (*row * out.dtype().bytes()) % 64 == 0;
  if (bytes < kOffered || !whole_lines) return cfg.define_knob("nontemporal", {0}) == 1;
  const std::vector<int64_t> choices = bytes >= kDefault ? std::vector<int64_t>{1, 0} : std::vector<int64_t>{0, 1};
  return cfg.define_knob("nontemporal", choices) == 1;
}

std::vector<IterVar> split_by(Stage stage, const IterVar& axis, const std::vector<int64_t>& sizes) {
  TE_ICHECK(!sizes.empty(), "empty split sizes");
  std::vector<IterVar> axes;
  IterVar rest = axis;
  for (size_t i = 1; i < sizes.size(); ++i) {
    int64_t inner_product = 1;
    for (size_t j = i; j < sizes.size(); ++j) inner_product *= sizes[j];
    auto [outer, inner] = stage.split(rest, inner_product);
    axes.push_back(outer);
    rest = inner;
  }
  axes.push_back(rest);
  return axes;
}

void bind_cooperative_load(Stage stage, const std::vector<IterVar>& axes,
                           const std::vector<std::pair<IterVar, int64_t>>& threads_inner_first) {
  TE_ICHECK(!axes.empty(), "no axes to bind");
  IterVar fused = axes.front();
  for (size_t i = 1; i < axes.size(); ++i) fused = stage.fuse(fused, axes[i]);
  IterVar rest = fused;
  std::vector<IterVar> lanes;
  for (const auto& [thread, extent] : threads_inner_first) {
    auto [outer, lane] = stage.split(rest, extent);
    lanes.push_back(lane);
    rest = outer;
  }
  for (size_t i = 0; i < lanes.size(); ++i) stage.bind(lanes[i], threads_inner_first[i].first);
}

bool define_double_buffer(autotune::Config& cfg, const std::string& op, const std::vector<int64_t>& copy_elements,
                          int64_t threads, const Target& target) {
  const bool on = cfg.define_knob("double_buffer", {1, 0}) == 1;
  if (!on || cuda_async_copies(target)) return on;
  for (int64_t elements : copy_elements) {
    const int64_t per_thread = (elements + threads - 1) / threads;
    if (per_thread > kMaxDoubleBufferRegisters)
      fail(op, " cuda: config ", cfg.to_string(), " double-buffers a shared tile of ", elements, " elements over ",
           threads, " threads: ", per_thread, " registers per thread, over the limit of ", kMaxDoubleBufferRegisters);
  }
  return true;
}

std::array<bool, 2> define_vector_copy(autotune::Config& cfg, const std::string& op, int64_t chunk,
                                       const std::array<int64_t, 2>& input_rows,
                                       const std::array<int64_t, 2>& tile_rows) {
  const bool any_aligned = input_rows[0] % chunk == 0 || input_rows[1] % chunk == 0;
  const bool on = cfg.define_knob("vector_copy", any_aligned ? std::vector<int64_t>{1, 0} : std::vector<int64_t>{0}) == 1;
  std::array<bool, 2> chunked{};
  for (size_t i = 0; i < 2; ++i) chunked[i] = on && input_rows[i] % chunk == 0 && tile_rows[i] % chunk == 0;
  if (on && !chunked[0] && !chunked[1])
    fail(op, " cuda: config ", cfg.to_string(), " copies 16-byte chunks, but neither shared tile's rows (", tile_rows[0],
         " and ", tile_rows[1], " elements) hold whole chunks of ", chunk, " elements");
  return chunked;
}

IterVar split_copy_chunks(Stage load, const IterVar& row, int64_t chunk) {
  auto [chunks, lanes] = load.split(row, chunk);
  load.vectorize(lanes);
  return chunks;
}

bool define_strided_columns(autotune::Config& cfg, const std::string& op, const std::vector<int64_t>& tile_j) {
  const bool strided = cfg.define_knob("strided_j", {1, 0}) == 1 && tile_j[2] > 4;
  if (strided && tile_j[2] % 4 != 0)
    fail(op, " cuda: config ", cfg.to_string(), " strides the thread's columns in float4 chunks, which needs ",
         "tile_j[2] a multiple of 4 (it is ", tile_j[2], ")");
  return strided;
}

GemmColumns split_gemm_columns(Stage stage, const IterVar& axis, const std::vector<int64_t>& tile_j, bool strided) {
  if (!strided) {
    std::vector<IterVar> parts = split_by(stage, axis, tile_j);
    return {parts[0], IterVar(), parts[1], parts[2], tile_j[2]};
  }
  std::vector<IterVar> parts = split_by(stage, axis, {tile_j[0], tile_j[2] / 4, tile_j[1], 4});
  return {parts[0], parts[1], parts[2], parts[3], 4};
}

void order_gemm_tile(Stage stage, std::vector<IterVar> outer, const std::vector<IterVar>& rows,
                     const GemmColumns& cols) {
  outer.insert(outer.end(), {rows[0], cols.block});
  if (cols.chunks.defined()) outer.push_back(cols.chunks);
  outer.insert(outer.end(), {rows[1], cols.threads, rows[2], cols.cols});
  stage.reorder(outer);
  if (cols.chunks.defined()) stage.bind(cols.chunks, thread_axis("vthread"));
}

IterVar split_panel_tile(Stage stage, const IterVar& cols, int64_t tile, int64_t panel, bool vectorize) {
  if (!vectorize || tile <= panel || tile % panel != 0) return cols;
  auto [whole, lanes] = stage.split(cols, panel);
  stage.unroll(whole);
  return lanes;
}

void unroll_within(Stage stage, const std::vector<std::pair<IterVar, int64_t>>& inner_first,
                   int64_t max_copies) {
  int64_t copies = 1;
  for (const auto& [axis, extent] : inner_first) {
    if (copies * extent > max_copies) break;
    copies *= extent;
    stage.unroll(axis);
  }
}

std::vector<int64_t> constant_shape(const std::string& op, const Tensor& t) {
  std::vector<int64_t> shape;
  for (const Expr& e : t.shape()) {
    const int64_t* v = as_const_int(e);
    if (!v) fail(op, ": the shape of ", t.name(), " must be constant");
    shape.push_back(*v);
  }
  return shape;
}

int64_t constant_dim(const std::string& op, const Tensor& t, size_t axis, const std::string& what) {
  const int64_t* v = as_const_int(t.shape()[axis]);
  if (!v) fail(op, ": ", what, " (dimension ", axis, " of ", t.name(), ") must be constant");
  return *v;
}

void check_conv_params(const std::string& op, int64_t stride, int64_t pad, int64_t dilation) {
  if (stride < 1) fail(op, ": stride = ", stride, " must be at least 1");
  if (pad < 0) fail(op, ": pad = ", pad, " must not be negative");
  if (dilation < 1) fail(op, ": dilation = ", dilation, " must be at least 1");
}

void check_arg_at_least(const std::string& op, const std::string& arg, int64_t value, int64_t minimum) {
  if (value < minimum) fail(op, ": argument ", arg, " = ", value, " must be at least ", minimum);
}

}  // namespace detail
}  // namespace te::ops
