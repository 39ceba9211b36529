// src/ops/nchwc_layout.cc — the CPU schedule of the layout transforms around the blocked (NCHWc)
// operators (nchw_to_nchwc / nchwc_to_nchw, defined with conv2d_nchwc in conv2d_nchwc.cc, and
// depthwise_pack_weight): each is built as its own kernel so that its time is reported apart
// from the operator's, as oneDNN's reorders are; and the NCHW16c shape of the memory-bound
// blocked templates.
#include "ops/templates.h"
#include "te/ops.h"

namespace te::ops {

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
