// Schedule equivalence: argmax over (index, value) with a user-defined multi-valued Reducer.
#include "equivalence.h"

namespace te::testing {
namespace {

TEST(EquivArgmax, MultiValuedReducer) {
  const int N = 13, K = 37;
  Tensor A = placeholder({N, K}, DataType::float32(), "A");
  IterVar k = reduce_axis(Range(0, K), "k");
  Reducer argmax(
      [](const std::vector<Expr>& lhs, const std::vector<Expr>& rhs) {
        // Ties keep the smaller index, so the result does not depend on the loop order.
        Expr take_rhs = rhs[1] > lhs[1] || (rhs[1] == lhs[1] && rhs[0] < lhs[0]);
        return std::vector<Expr>{select(take_rhs, rhs[0], lhs[0]), select(take_rhs, rhs[1], lhs[1])};
      },
      [](const std::vector<DataType>& t) { return std::vector<Expr>{make_const(t[0], -1), min_value(t[1])}; },
      "argmax");
  std::vector<Tensor> outs = compute_multi({N}, [&](const std::vector<Var>& i) {
    return argmax({Expr(k), A(i[0], k)}, {k});
  }, "argmax");
  EquivalenceCase c{"argmax", {A}, {outs[0], outs[1]}};
  EquivalenceStats st = check_schedule_equivalence(c, random_scheduler(), 7000, 200);
  EXPECT_EQ(st.failed, 0);
}

}  // namespace
}  // namespace te::testing
