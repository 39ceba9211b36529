// Tuning spaces (te/autotune/space.h): knob enumeration checked against brute force, flat
// index and JSON round trips, apply-mode checks, and choices applied to real schedules
// (loop extents, order and annotations in the lowered IR).
#include <algorithm>
#include <functional>
#include <limits>
#include <set>

#include "te/autotune/space.h"
#include "te/ir_functor.h"
#include "test_util.h"

namespace te::autotune {
namespace {

// Ordered tuples of n positive integers whose product is `extent`, each inner one (index >= 1)
// at most max_inner, by plain recursion over every candidate value.
int64_t brute_force_factor_tuples(int64_t extent, int n, int64_t max_inner, bool outermost = true) {
  if (n == 1) return (outermost || extent <= max_inner) ? 1 : 0;
  int64_t count = 0;
  for (int64_t v = 1; v <= extent; ++v)
    if (extent % v == 0 && (outermost || v <= max_inner))
      count += brute_force_factor_tuples(extent / v, n - 1, max_inner, false);
  return count;
}

// IterVar handles compare by identity (operator== on axes builds an expression).
bool same_axes(const std::vector<IterVar>& a, const std::vector<IterVar>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (!a[i].same_as(b[i])) return false;
  return true;
}

bool is_power_of_two(int64_t v) { return v > 0 && (v & (v - 1)) == 0; }

TEST(AutotuneSpace, FactorSplitsMatchBruteForce) {
  for (int64_t extent : {1, 7, 12, 30, 64, 1024}) {
    for (int n : {1, 2, 3, 4}) {
      for (int64_t max_factor : {int64_t(0), int64_t(8)}) {
        Config cfg;
        SplitOptions opts;
        opts.max_factor = max_factor;
        cfg.define_split("s", extent, n, opts);
        int64_t limit = max_factor ? max_factor : std::numeric_limits<int64_t>::max();
        ASSERT_EQ(cfg.space_size(), brute_force_factor_tuples(extent, n, limit))
            << "extent " << extent << " n " << n << " max_factor " << max_factor;
        std::set<std::vector<int64_t>> seen;
        for (const std::vector<int64_t>& sizes : cfg.knobs()[0].choices) {
          ASSERT_EQ(sizes.size(), size_t(n));
          int64_t prod = 1;
          for (int64_t s : sizes) prod *= s;
          EXPECT_EQ(prod, extent) << cfg.knobs()[0].describe(0);  // actual sizes, no -1
          for (size_t i = 1; i < sizes.size(); ++i)
            if (max_factor) EXPECT_LE(sizes[i], max_factor);
          EXPECT_TRUE(seen.insert(sizes).second) << "duplicate choice";
        }
      }
    }
  }
  Config big;
  big.define_split("k", 1024, 3);
  EXPECT_EQ(big.space_size(), 66);  // C(12, 2): exponents of 2^10 in three ordered parts
}

TEST(AutotuneSpace, PowerOfTwoSplits) {
  for (int64_t extent : {1, 20, 33, 64}) {
    for (int n : {2, 3}) {
      Config cfg;
      SplitOptions opts;
      opts.policy = SplitPolicy::kPowerOfTwo;
      opts.max_factor = 16;
      cfg.define_split("p", extent, n, opts);
      // Brute force: inner tuples of powers of two <= 16 whose product is <= extent.
      int64_t expected = 0;
      std::function<void(int, int64_t)> count = [&](int left, int64_t prod) {
        if (left == 0) {
          ++expected;
          return;
        }
        for (int64_t v = 1; v <= 16; v *= 2)
          if (prod * v <= extent) count(left - 1, prod * v);
      };
      count(n - 1, 1);
      ASSERT_EQ(cfg.space_size(), expected) << "extent " << extent << " n " << n;
      for (const std::vector<int64_t>& sizes : cfg.knobs()[0].choices) {
        int64_t inner = 1;
        for (size_t i = 1; i < sizes.size(); ++i) {
          EXPECT_TRUE(is_power_of_two(sizes[i]));
          inner *= sizes[i];
        }
        if (extent % inner == 0)
          EXPECT_EQ(sizes[0], extent / inner);
        else
          EXPECT_EQ(sizes[0], -1);
      }
    }
  }
}

TEST(AutotuneSpace, CandidateSplits) {
  Config cfg;
  SplitOptions opts;
  opts.policy = SplitPolicy::kCandidates;
  opts.candidates = {{-1, 8}, {5, 4}, {-1, 3}};
  const std::vector<int64_t>& first = cfg.define_split("c", 20, 2, opts);
  EXPECT_EQ(first, (std::vector<int64_t>{-1, 8}));  // 20 / 8 leaves a tail
  ASSERT_EQ(cfg.space_size(), 3);
  EXPECT_EQ(cfg.knobs()[0].choices[1], (std::vector<int64_t>{5, 4}));
  EXPECT_EQ(cfg.knobs()[0].choices[2], (std::vector<int64_t>{-1, 3}));

  auto with = [](std::vector<std::vector<int64_t>> candidates) {
    SplitOptions o;
    o.policy = SplitPolicy::kCandidates;
    o.candidates = std::move(candidates);
    Config c;
    c.define_split("bad", 20, 2, o);
  };
  EXPECT_TE_ERROR(with({}), "bad", "candidates");
  EXPECT_TE_ERROR(with({{-1, 2, 2}}), "bad", "num_outputs");
  EXPECT_TE_ERROR(with({{3, 4}}), "bad", "outer size", "-1 or 5");
  EXPECT_TE_ERROR(with({{-1, 0}}), "bad", "inner size");
  EXPECT_TE_ERROR(with({{-1, 21}}), "bad", "inner size");
}

TEST(AutotuneSpace, SplitErrors) {
  Config cfg;
  EXPECT_TE_ERROR(cfg.define_split("e", 0, 2), "'e'", "extent");
  EXPECT_TE_ERROR(cfg.define_split("n", 8, 0), "'n'", "num_outputs");
  SplitOptions negative;
  negative.max_factor = -2;
  EXPECT_TE_ERROR(cfg.define_split("m", 8, 2, negative), "'m'", "max_factor");
  Var n = var("n");
  Tensor a = placeholder({n}, DataType::float32(), "A");
  Tensor b = compute(
      {n}, [&](const std::vector<Var>& i) { return a(i[0]) * 2.0f; }, "B");
  IterVar axis = b.op().as<ComputeOpNode>()->axis[0];
  EXPECT_TE_ERROR(cfg.define_split("sym", axis, 2), "'sym'", "constant extent");
  EXPECT_TRUE(cfg.knobs().empty());
}

TEST(AutotuneSpace, ReorderAnnotateAndKnobChoices) {
  std::vector<IterVar> axes;
  for (int i = 0; i < 7; ++i) axes.push_back(reduce_axis(Range(0, 4), "r" + std::to_string(i)));
  Config cfg;
  cfg.define_reorder("all3", {axes[0], axes[1], axes[2]}, "all");
  ASSERT_EQ(cfg.knobs().back().choices.size(), 6u);
  std::set<std::vector<int64_t>> perms(cfg.knobs().back().choices.begin(), cfg.knobs().back().choices.end());
  EXPECT_EQ(perms.size(), 6u);
  for (const auto& p : perms)
    EXPECT_TRUE(std::is_permutation(p.begin(), p.end(), std::vector<int64_t>{0, 1, 2}.begin()));
  EXPECT_EQ(cfg.knobs().back().choices[0], (std::vector<int64_t>{0, 1, 2}));  // identity first
  EXPECT_TE_ERROR(cfg.define_reorder("all7", axes, "all"), "all7", "6 axes");
  EXPECT_TE_ERROR(cfg.define_reorder("x", {axes[0]}, "shuffle"), "shuffle", "identity_and_reverse");
  cfg.define_reorder("rev", {axes[0], axes[1], axes[2], axes[3]}, "identity_and_reverse");
  EXPECT_EQ(cfg.knobs().back().choices, (std::vector<std::vector<int64_t>>{{0, 1, 2, 3}, {3, 2, 1, 0}}));

  const std::vector<int64_t>& ann = cfg.define_annotate("ann", {axes[0], axes[1]}, "try_unroll_vec");
  EXPECT_EQ(ann, (std::vector<int64_t>{0, 0}));
  EXPECT_EQ(cfg.knobs().back().choices.size(), 9u);
  cfg.define_annotate("par", {axes[0]}, "try_parallel");
  EXPECT_EQ(cfg.knobs().back().choices, (std::vector<std::vector<int64_t>>{{0}, {3}}));
  cfg.define_annotate("unr", {axes[0]}, "try_unroll");
  cfg.define_annotate("vec", {axes[0]}, "try_vec");
  EXPECT_TE_ERROR(cfg.define_annotate("a", {axes[0]}, "try_everything"), "try_everything", "try_unroll");

  EXPECT_EQ(cfg.define_knob("unroll", {16, 64, 512}), 16);
  EXPECT_TE_ERROR(cfg.define_knob("none", {}), "'none'", "no values");
  EXPECT_EQ(cfg.space_size(), 6 * 2 * 9 * 2 * 2 * 2 * 3);
  EXPECT_EQ(cfg.to_string(),
            "all3=[0, 1, 2] rev=[0, 1, 2, 3] ann=[none, none] par=[none] unr=[none] vec=[none] unroll=16");
  Config last = cfg.from_index(cfg.space_size() - 1);
  EXPECT_EQ(
      last.to_string(),
      "all3=[2, 1, 0] rev=[3, 2, 1, 0] ann=[vec, vec] par=[parallel] unr=[unroll] vec=[vec] unroll=512");
  EXPECT_EQ(last.value("unroll"), 512);
  EXPECT_TE_ERROR(last.value("ann"), "'ann'", "get()");
  EXPECT_TE_ERROR(last.get("nope"), "'nope'", "known");
}

TEST(AutotuneSpace, SpaceSizeSaturates) {
  Config cfg;
  std::vector<int64_t> values(1000);
  for (int i = 0; i < 7; ++i) cfg.define_knob("k" + std::to_string(i), values);  // 10^21 configs
  EXPECT_EQ(cfg.space_size(), std::numeric_limits<int64_t>::max());
  Config some = cfg.from_index(123456789);
  EXPECT_EQ(some.choices()[0], 789);  // first knob least significant
  EXPECT_EQ(some.index(), 123456789);
}

Config small_space() {
  Config cfg;
  cfg.define_split("tile", 12, 3);  // 18 choices
  cfg.define_knob("unroll", {0, 1});
  cfg.define_split("p2", 10, 2, {SplitPolicy::kPowerOfTwo, 0, {}});  // 1, 2, 4, 8
  return cfg;
}

TEST(AutotuneSpace, IndexAndJsonRoundTrip) {
  Config space = small_space();
  ASSERT_EQ(space.space_size(), 18 * 2 * 4);
  EXPECT_TRUE(space.is_space());
  EXPECT_EQ(space.from_index(1).choices(), (std::vector<int64_t>{1, 0, 0}));  // first knob fastest
  EXPECT_EQ(space.from_index(18).choices(), (std::vector<int64_t>{0, 1, 0}));
  std::set<std::vector<int64_t>> distinct;
  for (int64_t i = 0; i < space.space_size(); ++i) {
    Config c = space.from_index(i);
    EXPECT_FALSE(c.is_space());
    EXPECT_EQ(c.index(), i);
    distinct.insert(c.choices());
    Config back = space.from_json(c.to_json());
    EXPECT_EQ(back.choices(), c.choices()) << c.to_json();
    EXPECT_EQ(back.to_string(), c.to_string());
  }
  EXPECT_EQ(distinct.size(), size_t(space.space_size()));
  EXPECT_EQ(space.from_index(5).to_json(), R"({"tile":5,"unroll":0,"p2":0})");
  EXPECT_TE_ERROR(space.from_index(-1), "out of range");
  EXPECT_TE_ERROR(space.from_index(space.space_size()), "out of range");
  EXPECT_TE_ERROR(space.with_choices({0, 0}), "2 choices", "3 knobs");
  EXPECT_TE_ERROR(space.with_choices({0, 2, 0}), "'unroll'", "out of range");
}

TEST(AutotuneSpace, BadJsonIsAnError) {
  Config space = small_space();
  EXPECT_TE_ERROR(space.from_json("{tile: 1"), "not valid JSON");
  EXPECT_TE_ERROR(space.from_json("[1, 2, 3]"), "JSON object");
  EXPECT_TE_ERROR(space.from_json(R"({"tile":1,"unroll":0,"p2":0,"extra":0})"), "unknown knob 'extra'");
  EXPECT_TE_ERROR(space.from_json(R"({"tile":18,"unroll":0,"p2":0})"), "'tile'", "out of range");
  EXPECT_TE_ERROR(space.from_json(R"({"tile":-1,"unroll":0,"p2":0})"), "'tile'", "out of range");
  EXPECT_TE_ERROR(space.from_json(R"({"tile":"1","unroll":0,"p2":0})"), "'tile'", "choice index");
  EXPECT_TE_ERROR(space.from_json(R"({"tile":1.5,"unroll":0,"p2":0})"), "'tile'", "choice index");
  EXPECT_TE_ERROR(space.from_json(R"({"tile":1,"p2":0})"), "'unroll'", "missing");
  EXPECT_TE_ERROR(space.from_json(R"({"unroll":1,"p2":0})"), "'tile'", "missing");
}

// A knob appended to a template after its records were written: an old config lacks it (and
// every knob after the last one it names) and takes choice 0 there, with the same flat index.
TEST(AutotuneSpace, KnobsAppendedLaterTakeChoiceZero) {
  Config space = small_space();
  Config old_config = space.from_json(R"({"tile":5,"unroll":1})");
  EXPECT_EQ(old_config.choices(), (std::vector<int64_t>{5, 1, 0}));
  EXPECT_EQ(old_config.index(), 5 + 18);
  EXPECT_EQ(space.from_json(R"({"tile":5})").choices(), (std::vector<int64_t>{5, 0, 0}));
}

TEST(AutotuneSpace, ApplyModeChecksKnobs) {
  Config space = small_space();
  Config apply = space.from_index(7);
  // The template defines the same knobs again: apply mode returns the chosen entries.
  EXPECT_EQ(apply.define_split("tile", 12, 3), apply.knobs()[0].choices[7]);
  EXPECT_EQ(apply.define_knob("unroll", {0, 1}), 0);
  EXPECT_TE_ERROR(apply.define_knob("fresh", {1, 2}), "'fresh'", "not in this config's space");
  EXPECT_TE_ERROR(apply.define_split("tile", 16, 3), "'tile'", "defined again");
  EXPECT_TE_ERROR(apply.define_knob("unroll", {0, 1, 2}), "'unroll'", "defined again");
  EXPECT_TE_ERROR(apply.define_knob("tile", {0}), "'tile'", "split");
  // Defining the same knob twice identically in space mode is allowed; differently is not.
  Config again = small_space();
  again.define_knob("unroll", {0, 1});
  EXPECT_EQ(again.knobs().size(), 3u);
  EXPECT_TE_ERROR(again.define_knob("unroll", {4}), "'unroll'");
}

// Loop extents of a lowered function, outermost first.
std::vector<int64_t> loop_extents(const Stmt& body) {
  struct Collector : IRVisitor {
    std::vector<int64_t> extents;
    std::vector<ForKind> kinds;
    void visit_node(const ForNode* op) override {
      const int64_t* e = as_const_int(op->extent);
      extents.push_back(e ? *e : -1);
      kinds.push_back(op->for_kind);
      IRVisitor::visit_node(op);
    }
  } collector;
  collector.visit(body);
  return collector.extents;
}

TEST(AutotuneSpace, ApplySplitGivesLoopExtents) {
  Tensor a = placeholder({24, 20}, DataType::float32(), "A");
  Tensor b = compute(
      {24, 20}, [&](const std::vector<Var>& i) { return a(i[0], i[1]) + 1.0f; }, "B");
  Config space;
  const auto* op = b.op().as<ComputeOpNode>();
  space.define_split("x", op->axis[0], 3);
  space.define_split("y", op->axis[1], 2, {SplitPolicy::kPowerOfTwo, 8, {}});
  int64_t checked = 0;
  for (int64_t i = 0; i < space.space_size(); ++i) {
    Config cfg = space.from_index(i);
    const std::vector<int64_t>& xs = cfg.get("x");
    const std::vector<int64_t>& ys = cfg.get("y");
    if (std::count(xs.begin(), xs.end(), 1) || std::count(ys.begin(), ys.end(), 1))
      continue;  // unit loops may vanish
    Schedule s = create_schedule({b.op()});
    std::vector<IterVar> x_axes = cfg.apply_split("x", s[b], op->axis[0]);
    std::vector<IterVar> y_axes = cfg.apply_split("y", s[b], op->axis[1]);
    ASSERT_EQ(x_axes.size(), 3u);
    ASSERT_EQ(y_axes.size(), 2u);
    EXPECT_TRUE(same_axes(s[b]->leaf_iter_vars, {x_axes[0], x_axes[1], x_axes[2], y_axes[0], y_axes[1]}));
    LowerOptions schedule_loops;  // the schedule's loops, not partitioned into main and tail
    schedule_loops.simple_mode = true;
    LoweredFunc f = lower(s, {a, b}, "split", schedule_loops);
    int64_t y_outer = ys[0] == -1 ? (20 + ys[1] - 1) / ys[1] : ys[0];
    EXPECT_EQ(loop_extents(f.body), (std::vector<int64_t>{xs[0], xs[1], xs[2], y_outer, ys[1]}))
        << cfg.to_string() << "\n"
        << to_string(f);
    ++checked;
  }
  EXPECT_GT(checked, 10);
}

TEST(AutotuneSpace, ApplyReorderAndAnnotate) {
  Tensor a = placeholder({4, 6, 8}, DataType::float32(), "A");
  Tensor b = compute(
      {4, 6, 8}, [&](const std::vector<Var>& i) { return a(i[0], i[1], i[2]) * 3.0f; }, "B");
  const auto* op = b.op().as<ComputeOpNode>();
  Config space;
  space.define_reorder("order", op->axis, "all");
  space.define_annotate("ann", {op->axis[0], op->axis[2]}, "try_unroll_vec");
  space.define_annotate("par", {op->axis[0]}, "try_parallel");
  int64_t annotated = 0;
  for (int64_t i = 0; i < space.space_size(); ++i) {
    Config cfg = space.from_index(i);
    Schedule s = create_schedule({b.op()});
    std::vector<IterVar> order = cfg.apply_reorder("order", s[b], op->axis);
    const std::vector<int64_t>& perm = cfg.get("order");
    for (size_t k = 0; k < 3; ++k) EXPECT_TRUE(order[k].same_as(op->axis[size_t(perm[k])]));
    EXPECT_TRUE(same_axes(s[b]->leaf_iter_vars, order));
    try {
      cfg.apply_annotate("ann", s[b], {op->axis[0], op->axis[2]});
      cfg.apply_annotate("par", s[b], {op->axis[0]});
    } catch (const Error&) {
      continue;  // e.g. parallel and vectorize on one axis: a schedule error the search skips
    }
    auto kind_of = [&](const IterVar& iv) {
      auto it = s[b]->iter_var_attrs.find(iv.get());
      return it == s[b]->iter_var_attrs.end() ? ForKind::kSerial : it->second.for_kind;
    };
    auto expected_kind = [](int64_t code) {
      switch (Annotation(code)) {
        case Annotation::kUnroll:
          return ForKind::kUnrolled;
        case Annotation::kVectorize:
          return ForKind::kVectorized;
        case Annotation::kParallel:
          return ForKind::kParallel;
        default:
          return ForKind::kSerial;
      }
    };
    const std::vector<int64_t>& ann = cfg.get("ann");
    if (cfg.get("par")[0] == 0)
      EXPECT_EQ(kind_of(op->axis[0]), expected_kind(ann[0])) << cfg.to_string();
    else
      EXPECT_EQ(kind_of(op->axis[0]), ForKind::kParallel) << cfg.to_string();
    EXPECT_EQ(kind_of(op->axis[2]), expected_kind(ann[1])) << cfg.to_string();
    ++annotated;
  }
  EXPECT_GE(annotated, space.space_size() / 2);
  // The wrong number of axes, or a knob of another kind, is a te::Error naming the knob.
  Config cfg = space.from_index(0);
  Schedule s = create_schedule({b.op()});
  EXPECT_TE_ERROR(cfg.apply_reorder("order", s[b], {op->axis[0]}), "'order'", "3 axes");
  EXPECT_TE_ERROR(cfg.apply_annotate("ann", s[b], {op->axis[0]}), "'ann'", "2 axes");
  EXPECT_TE_ERROR(cfg.apply_split("order", s[b], op->axis[0]), "'order'", "not a split");
  EXPECT_TE_ERROR(cfg.apply_split("missing", s[b], op->axis[0]), "'missing'");
}

}  // namespace
}  // namespace te::autotune
