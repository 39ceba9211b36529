// storage_align (TVM semantics): the stride of one buffer dimension padded to
// stride % factor == offset. Random schedules with aligned cache stages must match the
// reference interpreter; the padded layout is visible in the lowered IR; steps replay it.
#include "equivalence.h"

namespace te::testing {
namespace {

const ComputeOpNode* op_of(const Tensor& t) { return t.op().as<ComputeOpNode>(); }

// Matmul with A cached (read) and C cached (write) into a random scope, each cache aligned
// on a random dimension with a random factor and offset, then a random schedule.
TEST(StorageAlign, RandomCachesMatchReference) {
  const int N = 19, M = 13, K = 11;
  Tensor A = placeholder({N, K}, DataType::float32(), "A");
  Tensor B = placeholder({K, M}, DataType::float32(), "B");
  IterVar k = reduce_axis(Range(0, K), "k");
  Tensor C = compute({N, M}, [&](const std::vector<Var>& i) { return sum(A(i[0], k) * B(k, i[1]), {k}); }, "C");
  EquivalenceCase c{"storage_align_matmul", {A, B}, {C}};
  ScheduleFn scheduler = [&](Schedule& s, ScheduleRng& rng) {
    const std::vector<std::string> scopes = {"global", "local"};
    auto align = [&](const Tensor& cache) {
      int dims = int(op_of(cache)->axis.size());
      for (int d = 0; d < dims; ++d) {
        if (!rng.chance(0.7)) continue;
        int64_t factor = rng.pick(std::vector<int64_t>{1, 2, 3, 4, 8, 16, 32});
        s[cache].storage_align(op_of(cache)->axis[size_t(d)], factor, rng.uniform(0, factor - 1));
      }
    };
    align(s.cache_read(A, rng.pick(scopes), {C.op()}));
    if (rng.chance(0.5)) align(s.cache_write(C, rng.pick(scopes)));
    RandomScheduleOptions opt;
    opt.allow_cache = false;
    random_schedule(s, rng, opt);
  };
  EquivalenceStats st = check_schedule_equivalence(c, scheduler, 9100, 100);
  EXPECT_EQ(st.failed, 0);
  EXPECT_GT(st.primitive_counts["storage_align"], 100);  // about 1.7 per schedule
  EXPECT_GT(st.matched, 80);
}

// A 2-D intermediate (not a cache) aligned on both dimensions, symbolic sizes.
TEST(StorageAlign, SymbolicIntermediate) {
  Var n = var("n"), m = var("m");
  Tensor A = placeholder({n, m}, DataType::float32(), "A");
  Tensor T = compute({n, m}, [&](const std::vector<Var>& i) { return A(i[0], i[1]) * 2.0f; }, "T");
  Tensor D = compute({n, m}, [&](const std::vector<Var>& i) { return T(i[0], i[1]) + 1.0f; }, "D");
  Schedule s = create_schedule({D.op()});
  s[T].storage_align(op_of(T)->axis[0], 16, 3);
  s[T].storage_align(op_of(T)->axis[1], 1, 0);
  Module mod = build(s, {A, D}, "llvm", "sym_align");
  for (int64_t rows : {1, 5, 9}) {
    for (int64_t cols : {1, 16, 21}) {
      NDArray a = random_array({rows, cols}, DataType::float32(), uint64_t(rows * 100 + cols));
      NDArray d = NDArray::empty({rows, cols}, DataType::float32());
      d.fill_poison();
      mod({a, d});
      EXPECT_EQ(compare_arrays(d, evaluate_reference({A}, {a}, {D})[0]), "") << rows << "x" << cols;
    }
  }
}

TEST(StorageAlign, PaddedStrideInLoweredIR) {
  Tensor A = placeholder({16, 8}, DataType::float32(), "A");
  Tensor B = compute({16, 8}, [&](const std::vector<Var>& i) { return A(i[0], i[1]) + 1.0f; }, "B");
  Schedule s = create_schedule({B.op()});
  Tensor AA = s.cache_read(A, "global", {B.op()});
  s[AA].storage_align(op_of(AA)->axis[0], 32, 1);  // stride of rows: 8 -> 33
  std::string ir = to_string(lower(s, {A, B}, "aligned"));
  EXPECT_TRUE(contains(ir, "[float32 * 528]")) << ir;  // 16 rows x 33
  EXPECT_TRUE(contains(ir, "ax0*33 + ax1")) << ir;
  // Realigning the same dimension replaces the earlier request.
  s[AA].storage_align(op_of(AA)->axis[0], 8, 0);
  ir = to_string(lower(s, {A, B}, "aligned"));
  EXPECT_TRUE(contains(ir, "[float32 * 128]")) << ir;  // 8 % 8 == 0 already: no padding
}

TEST(StorageAlign, StepsReplayAndPrint) {
  Tensor A = placeholder({12, 10}, DataType::float32(), "A");
  Tensor B = compute({12, 10}, [&](const std::vector<Var>& i) { return A(i[0], i[1]) * 3.0f; }, "B");
  Schedule s = create_schedule({B.op()});
  Tensor AA = s.cache_read(A, "local", {B.op()});
  s[AA].storage_align(op_of(AA)->axis[0], 4, 3);
  s[AA].compute_at(s[B], op_of(B)->axis[0]);
  std::string json = s.steps_json();
  EXPECT_TRUE(contains(json, "\"p\":\"storage_align\"")) << json;
  Schedule r = Schedule::replay({B.op()}, Schedule::steps_from_json(json));
  EXPECT_EQ(to_string(lower(r, {A, B}, "f")), to_string(lower(s, {A, B}, "f")));
  EXPECT_TRUE(contains(s.steps_python(), "s[A_local].storage_align(s[A_local].op.axis[0], 4, 3)")) << s.steps_python();
  // A malformed step is a te::Error, not a crash.
  EXPECT_TE_ERROR(Schedule::replay({B.op()}, Schedule::steps_from_json(
                      R"([{"p":"cache_read","stage":0,"ints":[0],"strs":["local"],"readers":[1]},)"
                      R"({"p":"storage_align","stage":1,"ints":[5,4,3]}])")),
                  "storage_align", "dimension 5");
  EXPECT_TE_ERROR(Schedule::steps_from_json(R"([{"p":"storage_align","stage":1,"ints":[0,4]}])"), "storage_align");
}

TEST(StorageAlign, Errors) {
  Tensor A = placeholder({12, 10}, DataType::float32(), "A");
  IterVar k = reduce_axis(Range(0, 10), "k");
  Tensor B = compute({12}, [&](const std::vector<Var>& i) { return sum(A(i[0], k), {k}); }, "B");
  Schedule s = create_schedule({B.op()});
  Stage st = s[B];
  EXPECT_TE_ERROR(st.storage_align(k, 4, 1), "storage_align", "k", "not a data-parallel axis");
  EXPECT_TE_ERROR(st.storage_align(op_of(B)->axis[0], 0, 0), "storage_align", "factor 0");
  EXPECT_TE_ERROR(st.storage_align(op_of(B)->axis[0], 4, 4), "storage_align", "offset 4");
  EXPECT_TE_ERROR(st.storage_align(op_of(B)->axis[0], 4, -1), "storage_align", "offset -1");
  EXPECT_TE_ERROR(s[A].storage_align(op_of(B)->axis[0], 4, 1), "storage_align", "not a compute stage");
  auto [o, i] = st.split(op_of(B)->axis[0], 4);
  EXPECT_TE_ERROR(st.storage_align(i, 4, 1), "storage_align", "s[B].op.axis");
  // An output is the caller's memory: its layout cannot change.
  st.storage_align(op_of(B)->axis[0], 4, 1);
  EXPECT_TE_ERROR(lower(s, {A, B}, "f"), "storage_align", "stage B", "argument", "cache stage");
  EXPECT_TRUE(s->steps.size() == 2u);  // split + the accepted storage_align; rejected calls record nothing
}

}  // namespace
}  // namespace te::testing
