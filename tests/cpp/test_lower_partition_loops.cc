// partition_loops: a loop whose iterations are guarded by likely(...) tails is split into a main
// part without the guards and a tail that keeps them; what runs is unchanged (the equivalence
// harness, outputs NaN-filled), and guards that cannot be proved for a prefix stay where they are.
#include "equivalence.h"
#include "lower/partition_loops.h"
#include "test_lower_util.h"

namespace te::testing {
namespace {

int count_likely(const Stmt& s) {
  return count_exprs(s, [](const Expr& e) {
    const auto* call = e.as<CallNode>();
    return call && call->op == Intrinsic::kLikely;
  });
}

// The loops over `name` (a loop variable's name) in s, outermost first.
std::vector<const ForNode*> loops_named(const Stmt& s, const std::string& name) {
  struct Finder : IRVisitor {
    std::string name;
    std::vector<const ForNode*> found;
    void visit_node(const ForNode* op) override {
      if (op->loop_var.name() == name) found.push_back(op);
      IRVisitor::visit_node(op);
    }
  } finder;
  finder.name = name;
  finder.visit(s);
  return finder.found;
}

struct Gemm {
  Tensor A, B, C;
  Gemm(int64_t m, int64_t n, int64_t k) {
    A = placeholder({m, k}, DataType::float32(), "A");
    B = placeholder({k, n}, DataType::float32(), "B");
    IterVar r = reduce_axis(Range(0, k), "k");
    C = compute({m, n}, [&](const std::vector<Var>& i) { return sum(A(i[0], r) * B(r, i[1]), {r}); }, "C");
  }
};

// 128 rows in tiles of 6 (the GEMM templates' register tile): 21 whole tiles without a guard,
// then the partial one with them.
TEST(LowerPartitionLoops, ARowTileLoopSplitsIntoGuardFreeTilesAndATail) {
  Gemm g(128, 64, 32);
  auto scheduler = [&](Schedule& s, ScheduleRng&) {
    const ComputeOpNode* op = g.C.op().as<ComputeOpNode>();
    auto [io, ii] = s[g.C].split(op->axis[0], 6);
    s[g.C].reorder({io, op->axis[1], op->reduce_axis[0], ii});
    s[g.C].unroll(ii);
  };
  Schedule s = create_schedule({g.C.op()});
  ScheduleRng rng(1);
  scheduler(s, rng);
  LoweredFunc f = lower(s, {g.A, g.B, g.C}, "tiles");
  std::vector<const ForNode*> main = loops_named(f.body, "i.outer");
  ASSERT_FALSE(main.empty()) << to_string(f);
  for (const ForNode* loop : main) {
    EXPECT_EQ(*as_const_int(loop->extent), 21) << to_string(f);
    EXPECT_EQ(count_likely(loop->body), 0) << to_string(f);
  }
  // Then the tail: one iteration (rows 126 and 127), its guards folded by the simplifier.
  const auto* seq = f.body.as<SeqNode>();
  ASSERT_TRUE(seq && seq->seq.size() == 2) << to_string(f);
  EXPECT_TRUE(loops_named(seq->seq[1], "i.outer").empty()) << to_string(f);
  EquivalenceStats stats = check_schedule_equivalence({"partitioned tiles", {g.A, g.B}, {g.C}}, scheduler, 1, 1);
  EXPECT_EQ(stats.matched, 1);
}

// Guards that read a variable bound outside the loop (a symbolic size) or that fail at the
// first iteration are left alone; a loop with no guards is returned as it was.
TEST(LowerPartitionLoops, LeavesGuardsItCannotProveForAPrefix) {
  Var n = var("n");
  Var i("i", DataType::int64()), j("j", DataType::int64());
  Var buf("buf", DataType::handle());
  auto store = [&](const Expr& index) { return StoreNode::make(buf, make_const(DataType::float32(), 1.0), index); };
  auto likely = [](const Expr& c) { return CallNode::make(DataType::boolean(), Intrinsic::kLikely, {c}); };
  Stmt symbolic = ForNode::make(i, make_const(DataType::int64(), 0), make_const(DataType::int64(), 8), ForKind::kSerial,
                                IfThenElseNode::make(likely(i < cast(DataType::int64(), n)), store(i)));
  EXPECT_TRUE(partition_loops(symbolic).same_as(symbolic));
  Stmt never = ForNode::make(i, make_const(DataType::int64(), 0), make_const(DataType::int64(), 8), ForKind::kSerial,
                             IfThenElseNode::make(likely(i > make_const(DataType::int64(), 3)), store(i)));
  EXPECT_TRUE(partition_loops(never).same_as(never));
  Stmt plain = ForNode::make(i, make_const(DataType::int64(), 0), make_const(DataType::int64(), 8), ForKind::kSerial,
                             store(i));
  EXPECT_TRUE(partition_loops(plain).same_as(plain));
  // A guard on the loop variable and an inner loop's (constant range): split at 2 (i*4 + j < 7
  // for every j < 2 only while i < 2).
  Stmt inner = ForNode::make(j, make_const(DataType::int64(), 0), make_const(DataType::int64(), 2), ForKind::kSerial,
                             IfThenElseNode::make(likely(i * make_const(DataType::int64(), 4) + j <
                                                         make_const(DataType::int64(), 7)),
                                                  store(i * make_const(DataType::int64(), 4) + j)));
  Stmt outer = ForNode::make(i, make_const(DataType::int64(), 0), make_const(DataType::int64(), 3), ForKind::kSerial,
                             inner);
  Stmt split = partition_loops(outer);
  const auto* seq = split.as<SeqNode>();
  ASSERT_TRUE(seq && seq->seq.size() == 2) << to_string(split);
  const auto* first = seq->seq[0].as<ForNode>();
  ASSERT_TRUE(first) << to_string(split);
  EXPECT_EQ(*as_const_int(first->extent), 2);
  EXPECT_EQ(count_likely(seq->seq[0]), 0) << to_string(split);
  EXPECT_EQ(count_likely(seq->seq[1]), 1) << to_string(split);
}

// Random schedules of a GEMM and of a padded stencil with non-dividing splits: the partitioned
// loops compute what the unscheduled compute does.
TEST(LowerPartitionLoops, RandomNonDividingSchedulesKeepTheNumbers) {
  Gemm g(22, 19, 13);
  EquivalenceStats stats = check_schedule_equivalence(
      {"gemm with tails", {g.A, g.B}, {g.C}}, [](Schedule& s, ScheduleRng& rng) { random_schedule(s, rng); }, 1, 40);
  EXPECT_EQ(stats.failed, 0);
  EXPECT_GT(stats.matched, 20);
}

}  // namespace
}  // namespace te::testing
