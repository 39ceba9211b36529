// Schedule equivalence: element-wise with broadcast, at constant and symbolic sizes.
#include <gtest/gtest-spi.h>

#include "equivalence.h"

namespace te::testing {
namespace {

TEST(EquivElementwise, BroadcastBias) {
  Tensor A = placeholder({31, 37}, DataType::float32(), "A");
  Tensor bias = placeholder({37}, DataType::float32(), "bias");
  Tensor B = compute({31, 37}, [&](const std::vector<Var>& i) { return A(i[0], i[1]) + bias(i[1]); }, "B");
  EquivalenceCase c{"broadcast_bias", {A, bias}, {B}};
  EquivalenceStats st = check_schedule_equivalence(c, random_scheduler(), 1000, 200);
  EXPECT_EQ(st.failed, 0);
}

TEST(EquivElementwise, SymbolicSizeTwoCalls) {
  Var n = var("n");
  Tensor A = placeholder({n, 13}, DataType::float32(), "A");
  Tensor bias = placeholder({13}, DataType::float32(), "bias");
  Tensor B = compute({n, 13}, [&](const std::vector<Var>& i) { return A(i[0], i[1]) * 0.5f + bias(i[1]); }, "B");
  EquivalenceCase c{"broadcast_symbolic", {A, bias}, {B}};
  c.input_shapes = {{{7, 13}, {13}}, {{37, 13}, {13}}};
  EquivalenceStats st = check_schedule_equivalence(c, random_scheduler(), 2000, 200);
  EXPECT_EQ(st.failed, 0);
}

}  // namespace
}  // namespace te::testing

namespace te::testing {
namespace {

// The harness itself must be able to fail: a wrong reference value is reported with the seed.
void run_with_wrong_reference() {
  Tensor A = placeholder({5, 7}, DataType::float32(), "A");
  Tensor B = compute({5, 7}, [&](const std::vector<Var>& i) { return A(i[0], i[1]) + 1.0f; }, "B");
  EquivalenceCase c{"self_test", {A}, {B}};
  c.perturb_reference = [](std::vector<NDArray>& expected) { expected[0].data_as<float>()[34] += 1.0f; };
  EquivalenceStats st = check_schedule_equivalence(c, random_scheduler(), 42, 1);
  EXPECT_EQ(st.failed, 1);
}

TEST(EquivHarness, ReportsMismatchWithSeed) {
  EXPECT_NONFATAL_FAILURE(run_with_wrong_reference(), "[self_test] seed 42: output B");
}

}  // namespace
}  // namespace te::testing
