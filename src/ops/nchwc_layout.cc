// src/ops/nchwc_layout.cc — the CPU schedule of the layout transforms around the blocked (NCHWc)
// operators (nchw_to_nchwc / nchwc_to_nchw, defined with conv2d_nchwc in conv2d_nchwc.cc, and
// depthwise_pack_weight): each is built as its own kernel so that its time is reported apart
// from the operator's, as oneDNN's reorders are; and the NCHW16c shape of the memory-bound
// blocked templates.
#include <algorithm>

#include "ops/templates.h"
#include "te/ops.h"

namespace te::ops {

namespace {

// The largest divisor of `extent` up to 64 (te's widest vector), a multiple of `multiple_of`
// where there is one; 0 where none is.
int64_t vector_piece(int64_t extent, int64_t multiple_of) {
  for (int64_t piece = std::min<int64_t>(extent, 64); piece >= multiple_of; --piece)
    if (extent % piece == 0 && piece % multiple_of == 0) return piece;
  return 0;
}

// NCHW{b}c -> NCHW as a transpose: for each piece of a channel block's pixels, the b channels
// of the block are a serial loop k around a vector of pixels. Lane p of iteration k reads
// in[.., p, k] (stride b) and writes out[.., c*b + k, p] (contiguous): the LLVM backend emits
// that loop as b x b register transposes of contiguous loads and stores
// (codegen_llvm_transpose.cc) where the vector is whole tiles of 16, 8 or 4 pixels.
bool schedule_unpack_transposed(const ComputeOpNode* op, const Tensor& transform, Stage& st) {
  const std::vector<Tensor> inputs = transform.op()->input_tensors();
  if (op->axis.size() != 4 || inputs.size() != 1 || inputs[0].ndim() != 5) return false;
  const int64_t* block = as_const_int(inputs[0].shape()[4]);
  const int64_t* height = as_const_int(op->axis[2]->dom.extent);
  const int64_t* width = as_const_int(op->axis[3]->dom.extent);
  if (!block || !height || !width || *block < 8) return false;
  // The pixels of a channel are contiguous on both sides, so the h*w pixels are one axis (the
  // simplifier folds floordiv(p, w)*w + floormod(p, w) back to p): a 14x14 plane is 196 = 7 x 28
  // pixels, where a 14-pixel row has no 4-lane tile.
  const int64_t pixels = *height * *width;
  int64_t piece = 0;
  for (int64_t tile : {16, 8, 4})
    if (piece == 0) piece = vector_piece(pixels, tile);
  if (piece == 0) return false;  // 7x7 = 49 pixels: the default form is as fast
  auto [c_outer, c_inner] = st.split(op->axis[1], *block);
  auto [p_outer, p_inner] = st.split(st.fuse(op->axis[2], op->axis[3]), piece);
  st.reorder({op->axis[0], c_outer, p_outer, c_inner, p_inner});
  st.vectorize(p_inner);
  st.parallel(st.fuse(op->axis[0], c_outer));
  return true;
}

}  // namespace

Schedule schedule_layout_transform(const Tensor& transform) {
  const ComputeOpNode* op = transform.op().as<ComputeOpNode>();
  if (!op || op->axis.size() < 3)
    fail("schedule_layout_transform: ", transform.name(), " is not a layout transform (a compute of rank >= 3)");
  Schedule s = create_schedule({transform.op()});
  Stage st = s[transform];
  if (schedule_unpack_transposed(op, transform, st)) return s;
  // The innermost axis vectorized (the block: one vector of the blocked side, the NCHW side then
  // read with a stride; or an NCHW row, in pieces of its largest divisor up to 64 lanes, the
  // widest vector te makes), the outer two fused into the parallel loop.
  const IterVar& inner = op->axis.back();
  const int64_t* extent = as_const_int(inner->dom.extent);
  if (extent && *extent > 64) {
    st.vectorize(st.split(inner, vector_piece(*extent, 1)).second);
  } else {
    st.vectorize(inner);
  }
  st.parallel(st.fuse(op->axis[0], op->axis[1]));
  return s;
}

namespace detail {

std::vector<Expr> nchwc_shape(const std::string& op, int64_t n, int64_t c, int64_t h, int64_t w) {
  if (c % kNchwcBlock != 0)
    fail(op, ": c = ", c, " is not a multiple of the channel block ", kNchwcBlock,
         " (the NCHWc layout needs whole blocks); use the NCHW operator or pad the channels");
  return {Expr(n), Expr(c / kNchwcBlock), Expr(h), Expr(w), Expr(kNchwcBlock)};
}

}  // namespace detail
}  // namespace te::ops
