// Schedule equivalence: a 1000-element sum split and rfactored on the inner (or outer) axis,
// then randomly scheduled further.
#include "equivalence.h"

namespace te::testing {
namespace {

TEST(EquivRfactor, SumOf1000) {
  const int N = 3, K = 1000;
  Tensor A = placeholder({N, K}, DataType::float32(), "A");
  IterVar k = reduce_axis(Range(0, K), "k");
  Tensor S = compute({N}, [&](const std::vector<Var>& i) { return sum(A(i[0], k), {k}); }, "S");
  EquivalenceCase c{"rfactor_sum", {A}, {S}};
  c.atol = 1e-4;
  ScheduleFn scheduler = [&](Schedule& s, ScheduleRng& rng) {
    Stage st = s[S];
    int64_t factor = rng.pick(std::vector<int64_t>{1, 7, 8, 16, 37, 100, 1000, 1003});
    auto [ko, ki] = st.split(st->leaf_iter_vars.back(), factor);
    bool inner = rng.chance(0.75);
    int factor_axis = int(rng.uniform(0, 1));
    s.rfactor(S, inner ? ki : ko, factor_axis);
    RandomScheduleOptions opt;
    opt.allow_cache = false;  // cache_write needs an unscheduled stage; S already has a split
    random_schedule(s, rng, opt);
  };
  EquivalenceStats st = check_schedule_equivalence(c, scheduler, 6000, 200);
  EXPECT_EQ(st.failed, 0);
}

}  // namespace
}  // namespace te::testing
