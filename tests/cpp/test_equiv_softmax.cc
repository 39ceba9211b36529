// Schedule equivalence: softmax in stages — max reduction, exp-sum reduction, divide.
#include "equivalence.h"

namespace te::testing {
namespace {

TEST(EquivSoftmax, TwoReductions) {
  const int N = 7, M = 31;
  Tensor A = placeholder({N, M}, DataType::float32(), "A");
  IterVar k1 = reduce_axis(Range(0, M), "k1"), k2 = reduce_axis(Range(0, M), "k2");
  Tensor row_max = compute({N}, [&](const std::vector<Var>& i) {
    return te::max(A(i[0], k1), std::vector<IterVar>{k1});
  }, "row_max");
  Tensor exp_sum = compute({N}, [&](const std::vector<Var>& i) { return sum(exp(A(i[0], k2) - row_max(i[0])), {k2}); }, "exp_sum");
  Tensor out = compute({N, M}, [&](const std::vector<Var>& i) {
    return exp(A(i[0], i[1]) - row_max(i[0])) / exp_sum(i[0]);
  }, "softmax");
  EquivalenceCase c{"softmax", {A}, {out}};
  EquivalenceStats st = check_schedule_equivalence(c, random_scheduler(), 5000, 200);
  EXPECT_EQ(st.failed, 0);
}

}  // namespace
}  // namespace te::testing
