// Schedule equivalence: a chain A -> B -> C -> D where the middle stages are compute_at /
// compute_inline'd at random (B reads a shifted window of A, so regions grow through the chain).
#include "equivalence.h"

namespace te::testing {
namespace {

TEST(EquivChain, ThreeStages) {
  const int N = 19, M = 23;
  Tensor A = placeholder({N + 2, M + 1}, DataType::float32(), "A");
  Tensor B = compute({N + 1, M + 1}, [&](const std::vector<Var>& i) {
    return A(i[0], i[1]) + A(i[0] + 1, i[1]) * 2.0f;
  }, "B");
  Tensor C = compute({N, M + 1}, [&](const std::vector<Var>& i) { return B(i[0] + 1, i[1]) - B(i[0], i[1]); }, "C");
  Tensor D = compute({N, M}, [&](const std::vector<Var>& i) { return C(i[0], i[1]) * C(i[0], i[1] + 1) + 1.0f; }, "D");
  EquivalenceCase c{"chain", {A}, {D}};
  EquivalenceStats st = check_schedule_equivalence(c, random_scheduler(), 8000, 200);
  EXPECT_EQ(st.failed, 0);
}

}  // namespace
}  // namespace te::testing
