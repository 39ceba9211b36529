// Schedule equivalence: conv2d NCHW, stride 2, padding 1, with the padding as its own stage
// (if_then_else), so compute_inline / compute_at of the pad stage are exercised.
#include "equivalence.h"

namespace te::testing {
namespace {

TEST(EquivConv2d, NchwStride2Pad1) {
  const int N = 1, C = 3, H = 13, W = 11, K = 4, R = 3, S = 3, stride = 2, pad = 1;
  const int OH = (H + 2 * pad - R) / stride + 1, OW = (W + 2 * pad - S) / stride + 1;
  Tensor data = placeholder({N, C, H, W}, DataType::float32(), "data");
  Tensor weight = placeholder({K, C, R, S}, DataType::float32(), "weight");
  Tensor padded = compute({N, C, H + 2 * pad, W + 2 * pad}, [&](const std::vector<Var>& i) {
    Expr inside = i[2] >= pad && i[2] < H + pad && i[3] >= pad && i[3] < W + pad;
    return if_then_else(inside, data(i[0], i[1], i[2] - pad, i[3] - pad), constant(0.0));
  }, "pad");
  IterVar rc = reduce_axis(Range(0, C), "rc"), ry = reduce_axis(Range(0, R), "ry"), rx = reduce_axis(Range(0, S), "rx");
  Tensor out = compute({N, K, OH, OW}, [&](const std::vector<Var>& i) {
    return sum(padded(i[0], rc, i[2] * stride + ry, i[3] * stride + rx) * weight(i[1], rc, ry, rx), {rc, ry, rx});
  }, "conv");
  EquivalenceCase c{"conv2d", {data, weight}, {out}};
  EquivalenceStats st = check_schedule_equivalence(c, random_scheduler(), 4000, 200);
  EXPECT_EQ(st.failed, 0);
}

}  // namespace
}  // namespace te::testing
