// src/ops/nchwc_layout.cc — the layout transforms around the blocked (NCHWc) operators: NCHW ->
// NCHW{b}c and back, each a compute built as its own kernel so that its time is reported apart
// from the operator's (as oneDNN's reorders are), and their CPU schedule.
#include "ops/templates.h"
#include "te/ops.h"

namespace te::ops {

Tensor nchw_to_nchwc(const Tensor& data, int64_t block, const std::string& name) {
  if (data.ndim() != 4)
    fail("nchw_to_nchwc: data must be 4-D (NCHW), got ", data.name(), " with ", data.ndim(), " dimensions");
  const int64_t* c = as_const_int(data.shape()[1]);
  if (!c) fail("nchw_to_nchwc: the channels of ", data.name(), " must be constant");
  if (block < 1 || *c % block != 0)
    fail("nchw_to_nchwc: the block (", block, ") must divide the channels of ", data.name(), " (", *c,
         "); pad the channels to a multiple of the block");
  const std::vector<Expr>& ds = data.shape();
  return compute(
      {ds[0], Expr(*c / block), ds[2], ds[3], Expr(block)},
      [&](const std::vector<Var>& i) { return data(i[0], i[1] * Expr(block) + i[4], i[2], i[3]); }, name);
}

Tensor nchwc_to_nchw(const Tensor& data, const std::string& name) {
  if (data.ndim() != 5)
    fail("nchwc_to_nchw: data must be 5-D (NCHWc: [N, C/block, H, W, block]), got ", data.name(), " with ",
         data.ndim(), " dimensions");
  const std::vector<Expr>& ds = data.shape();
  const int64_t* cb = as_const_int(ds[1]);
  const int64_t* b = as_const_int(ds[4]);
  if (!cb || !b) fail("nchwc_to_nchw: the channel blocks and block size of ", data.name(), " must be constant");
  const int64_t block = *b;
  return compute(
      {ds[0], Expr(*cb * block), ds[2], ds[3]},
      [&](const std::vector<Var>& i) {
        return data(i[0], floordiv(i[1], Expr(block)), i[2], i[3], floormod(i[1], Expr(block)));
      },
      name);
}

Schedule schedule_layout_transform(const Tensor& transform) {
  const ComputeOpNode* op = transform.op().as<ComputeOpNode>();
  if (!op || op->axis.size() < 3)
    fail("schedule_layout_transform: ", transform.name(), " is not a layout transform (a compute of rank >= 3)");
  Schedule s = create_schedule({transform.op()});
  Stage st = s[transform];
  // The innermost axis vectorized (the block: one vector of the blocked side, the NCHW side then
  // read with a stride; or an NCHW row, in pieces of its largest divisor up to 64 lanes, the
  // widest vector te makes), the outer two fused into the parallel loop.
  const IterVar& inner = op->axis.back();
  const int64_t* extent = as_const_int(inner->dom.extent);
  if (extent && *extent > 64) {
    int64_t piece = 64;
    while (*extent % piece != 0) --piece;
    st.vectorize(st.split(inner, piece).second);
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
