// Schedule equivalence: matmul 37x29x23 (prime sizes: every split has a tail somewhere).
#include "equivalence.h"

namespace te::testing {
namespace {

TEST(EquivMatmul, Prime37x29x23) {
  const int N = 37, M = 29, K = 23;
  Tensor A = placeholder({N, K}, DataType::float32(), "A");
  Tensor B = placeholder({K, M}, DataType::float32(), "B");
  IterVar k = reduce_axis(Range(0, K), "k");
  Tensor C = compute({N, M}, [&](const std::vector<Var>& i) { return sum(A(i[0], k) * B(k, i[1]), {k}); }, "C");
  EquivalenceCase c{"matmul", {A, B}, {C}};
  EquivalenceStats st = check_schedule_equivalence(c, random_scheduler(), 3000, 200);
  EXPECT_EQ(st.failed, 0);
}

}  // namespace
}  // namespace te::testing
