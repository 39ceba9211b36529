#include "test_util.h"
#include "te/autotune/features.h"
namespace te::testing {
namespace {
TEST(Scratch, Print) {
  const int N = 37, M = 32, K = 8;
  Tensor A = placeholder({N, K}, DataType::float32(), "A");
  Tensor B = placeholder({K, M}, DataType::float32(), "B");
  IterVar k = reduce_axis(Range(0, K), "k");
  Tensor C = compute({N, M}, [&](const std::vector<Var>& i) { return sum(A(i[0], k) * B(k, i[1]), {k}); }, "C");
  Schedule s = create_schedule({C.op()});
  auto t = s[C].tile(s[C]->leaf_iter_vars[0], s[C]->leaf_iter_vars[1], 5, 8);
  auto kk = s[C].split(s[C]->leaf_iter_vars[4], 4);
  s[C].reorder({t[0], t[1], kk.first, kk.second, t[2], t[3]});
  s[C].unroll(kk.second);
  auto f = s[C].fuse(t[0], t[1]);
  s[C].parallel(f);
  std::cout << to_string(lower(s, {A, B, C}, "mm")) << std::endl;
  Schedule s2 = create_schedule({C.op()});
  auto t2 = s2[C].tile(s2[C]->leaf_iter_vars[0], s2[C]->leaf_iter_vars[1], 4, 8);
  s2[C].bind(t2[0], thread_axis("blockIdx.x"));
  s2[C].bind(t2[1], thread_axis("blockIdx.y"));
  s2[C].bind(t2[2], thread_axis("threadIdx.y"));
  s2[C].bind(t2[3], thread_axis("threadIdx.x"));
  Tensor AS = s2.cache_read(A, "shared", {C.op()});
  s2[AS].compute_at(s2[C], t2[1]);
  LowerOptions o; o.target = Target::parse("cuda");
  std::cout << to_string(lower(s2, {A, B, C}, "mm", o)) << std::endl;
}
}  // namespace
}  // namespace te::testing
