// tests/cpp/equivalence.h — the schedule-equivalence harness (DESIGN.md §6): for one operator,
// many random LEGAL schedules must give the same numbers as the unscheduled compute evaluated
// by te::evaluate_reference. Outputs are filled with NaN/poison before every run, so a loop
// that forgets a point is caught.
//
// Use: describe the operator as an EquivalenceCase, then
//   check_schedule_equivalence(c, scheduler, first_seed, count)
// where scheduler(s, rng) applies a random schedule (usually random_schedule(s, rng, opts),
// possibly after operator-specific steps such as rfactor). A failure names the seed and prints
// the schedule as Python (Schedule::steps_python) plus the lowered IR, so it can be replayed.
//
// Legality is by construction: the generator knows which leaves are reduce axes, which stages
// have a single consumer (compute_at), which can be inlined (no reduction, not an output), and
// only vectorizes innermost data-parallel leaves of known extent <= 64. A te::Error from a
// schedule primitive is counted as "skipped" (the generator could not foresee it); a te::Error
// or InternalError from lowering/building, or a wrong number, is a failure.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "test_util.h"

namespace te::testing {

// ---------------------------------------------------------------- randomness
class ScheduleRng {
 public:
  explicit ScheduleRng(uint64_t seed) : engine_(seed) {}
  int64_t uniform(int64_t lo, int64_t hi) {  // inclusive
    return std::uniform_int_distribution<int64_t>(lo, hi)(engine_);
  }
  bool chance(double p) { return std::uniform_real_distribution<double>(0, 1)(engine_) < p; }
  template <typename T>
  const T& pick(const std::vector<T>& v) {
    return v.at(size_t(uniform(0, int64_t(v.size()) - 1)));
  }
  std::mt19937_64& engine() { return engine_; }

 private:
  std::mt19937_64 engine_;
};

// ---------------------------------------------------------------- what the generator knows
// Extent (when constant) and kind of every IterVar the generator has seen. Axes made by our
// own split/fuse calls are recorded when made; others (root axes, axes made by cache_write or
// rfactor) are read from their IterVar (type and constant dom).
class AxisFacts {
 public:
  struct Fact {
    std::optional<int64_t> extent;
    bool reduce = false;
  };
  Fact get(const IterVar& iv) const {
    auto it = facts_.find(iv.get());
    if (it != facts_.end()) return it->second;
    Fact f;
    f.reduce = iv.type() == IterVarType::kCommReduce;
    if (iv.dom().extent.defined())
      if (const int64_t* e = as_const_int(iv.dom().extent)) f.extent = *e;
    return f;
  }
  void set(const IterVar& iv, Fact f) { facts_[iv.get()] = f; }

 private:
  std::unordered_map<const IterVarNode*, Fact> facts_;
};

struct RandomScheduleOptions {
  bool allow_inline = true;
  bool allow_compute_at = true;
  bool allow_cache = true;
  bool allow_vectorize = true;
  bool allow_unroll = true;
  bool allow_parallel = true;
  bool allow_prefetch = true;
  int max_loop_ops = 4;  // split/fuse/reorder/tile per stage
};

// A split factor for an axis of the given extent: 1, divisors, non-divisors, the extent
// itself, and factors larger than the extent.
inline int64_t random_split_factor(ScheduleRng& rng, std::optional<int64_t> extent) {
  if (!extent || *extent <= 1) return rng.pick(std::vector<int64_t>{1, 2, 3, 4, 7, 8, 16});
  const int64_t e = *extent;
  std::vector<int64_t> divisors, non_divisors;
  for (int64_t f = 2; f < e && f <= 64; ++f) (e % f == 0 ? divisors : non_divisors).push_back(f);
  int64_t kind = rng.uniform(0, 9);
  if (kind == 0) return 1;
  if (kind <= 3 && !divisors.empty()) return rng.pick(divisors);
  if (kind <= 7 && !non_divisors.empty()) return rng.pick(non_divisors);
  if (kind == 8) return e;
  return e + rng.uniform(1, 9);
}

// The stages whose op reads one of `stage`'s outputs directly.
inline std::vector<Stage> consumers_of(const Schedule& s, const Stage& stage) {
  std::vector<Stage> result;
  for (const Stage& other : s.stages()) {
    if (other.same_as(stage) || !other->op.defined()) continue;
    for (const Tensor& t : other->op->input_tensors())
      if (t.op().same_as(stage->op)) {
        result.push_back(other);
        break;
      }
  }
  return result;
}

inline bool is_compute_stage(const Stage& st) { return st->op.as<ComputeOpNode>() != nullptr; }

inline bool has_reduction(const Stage& st) {
  const auto* c = st->op.as<ComputeOpNode>();
  return c && !c->reduce_axis.empty();
}

namespace detail_equiv {

inline int leaf_position(const Stage& st, const IterVar& iv) {
  for (size_t i = 0; i < st->leaf_iter_vars.size(); ++i)
    if (st->leaf_iter_vars[i].same_as(iv)) return int(i);
  return -1;
}

inline std::pair<IterVar, IterVar> do_split(Stage& st, const IterVar& iv, ScheduleRng& rng, AxisFacts& facts) {
  AxisFacts::Fact f = facts.get(iv);
  const bool by_nparts = rng.chance(0.3);
  int64_t n = random_split_factor(rng, f.extent);
  std::pair<IterVar, IterVar> parts = by_nparts ? st.split_nparts(iv, n) : st.split(iv, n);
  AxisFacts::Fact outer{std::nullopt, f.reduce}, inner{std::nullopt, f.reduce};
  if (by_nparts) {
    outer.extent = n;
    if (f.extent) inner.extent = (*f.extent + n - 1) / n;
  } else {
    inner.extent = n;
    if (f.extent) outer.extent = (*f.extent + n - 1) / n;
  }
  facts.set(parts.first, outer);
  facts.set(parts.second, inner);
  return parts;
}

// One random loop transformation (split, fuse, reorder or tile) on st's leaves.
inline void random_loop_op(Stage& st, ScheduleRng& rng, AxisFacts& facts) {
  std::vector<IterVar> leaves = st->leaf_iter_vars;
  if (leaves.empty()) return;
  int64_t kind = rng.uniform(0, 9);
  if (kind <= 3) {  // split
    do_split(st, rng.pick(leaves), rng, facts);
  } else if (kind <= 5) {  // fuse two adjacent leaves of the same kind
    std::vector<size_t> candidates;
    for (size_t i = 0; i + 1 < leaves.size(); ++i)
      if (facts.get(leaves[i]).reduce == facts.get(leaves[i + 1]).reduce) candidates.push_back(i);
    if (candidates.empty()) return;
    size_t i = rng.pick(candidates);
    AxisFacts::Fact a = facts.get(leaves[i]), b = facts.get(leaves[i + 1]);
    IterVar fused = st.fuse(leaves[i], leaves[i + 1]);
    AxisFacts::Fact f{std::nullopt, a.reduce};
    if (a.extent && b.extent) f.extent = *a.extent * *b.extent;
    facts.set(fused, f);
  } else if (kind <= 7) {  // reorder: a random permutation of all leaves
    std::shuffle(leaves.begin(), leaves.end(), rng.engine());
    st.reorder(leaves);
  } else {  // tile two distinct leaves (in their current order)
    if (leaves.size() < 2) return;
    size_t x = size_t(rng.uniform(0, int64_t(leaves.size()) - 2));
    size_t y = size_t(rng.uniform(int64_t(x) + 1, int64_t(leaves.size()) - 1));
    AxisFacts::Fact fx = facts.get(leaves[x]), fy = facts.get(leaves[y]);
    int64_t xf = random_split_factor(rng, fx.extent), yf = random_split_factor(rng, fy.extent);
    std::array<IterVar, 4> t = st.tile(leaves[x], leaves[y], xf, yf);
    auto outer_of = [](const AxisFacts::Fact& f, int64_t factor) {
      AxisFacts::Fact o{std::nullopt, f.reduce};
      if (f.extent) o.extent = (*f.extent + factor - 1) / factor;
      return o;
    };
    facts.set(t[0], outer_of(fx, xf));
    facts.set(t[1], outer_of(fy, yf));
    facts.set(t[2], AxisFacts::Fact{xf, fx.reduce});
    facts.set(t[3], AxisFacts::Fact{yf, fy.reduce});
  }
}

// vectorize / unroll / parallel annotations, each on a leaf where it is legal.
inline void random_annotations(Stage& st, ScheduleRng& rng, AxisFacts& facts, const RandomScheduleOptions& opt) {
  std::unordered_set<const IterVarNode*> annotated;
  if (opt.allow_vectorize && !st->leaf_iter_vars.empty() && rng.chance(0.4)) {
    IterVar inner = st->leaf_iter_vars.back();
    AxisFacts::Fact f = facts.get(inner);
    if (!f.reduce && (!f.extent || *f.extent > 64) && rng.chance(0.7)) {
      // Make a vectorizable inner axis of a small constant width.
      inner = do_split(st, inner, rng, facts).second;
      int64_t w = rng.pick(std::vector<int64_t>{2, 4, 8, 16});
      // do_split chose a random factor; re-split only if it is not usable as a vector width.
      AxisFacts::Fact fi = facts.get(inner);
      if (!fi.extent || *fi.extent > 64 || *fi.extent < 1) {
        auto parts = st.split(inner, w);
        facts.set(parts.first, AxisFacts::Fact{std::nullopt, false});
        facts.set(parts.second, AxisFacts::Fact{w, false});
        inner = parts.second;
      }
      f = facts.get(inner);
    }
    if (!f.reduce && f.extent && *f.extent <= 64) {
      st.vectorize(inner);
      annotated.insert(inner.get());
    }
  }
  if (opt.allow_unroll && rng.chance(0.25)) {
    std::vector<IterVar> small;
    for (const IterVar& iv : st->leaf_iter_vars) {
      AxisFacts::Fact f = facts.get(iv);
      if (f.extent && *f.extent <= 8 && !annotated.count(iv.get())) small.push_back(iv);
    }
    if (!small.empty()) {
      IterVar iv = rng.pick(small);
      st.unroll(iv);
      annotated.insert(iv.get());
    }
  }
  if (opt.allow_parallel && st->attach_type == AttachType::kRoot && !st->leaf_iter_vars.empty() && rng.chance(0.3)) {
    IterVar outer = st->leaf_iter_vars.front();
    if (!facts.get(outer).reduce && !annotated.count(outer.get())) st.parallel(outer);
  }
}

// cache_read / cache_write on a random stage, before any other primitive.
inline void random_caches(Schedule& s, ScheduleRng& rng) {
  const std::vector<std::string> scopes = {"global", "local"};
  if (rng.chance(0.12)) {
    std::vector<Stage> candidates;
    for (const Stage& st : s.stages())
      if (is_compute_stage(st) && st->relations.empty() && st->attach_type == AttachType::kRoot)
        candidates.push_back(st);
    if (!candidates.empty()) {
      // A multi-output op (argmax) caches all of its outputs; which one is named does not matter.
      const Stage& st = rng.pick(candidates);
      s.cache_write(st->op.output(int(rng.uniform(0, st->op->num_outputs() - 1))), rng.pick(scopes));
    }
  }
  if (rng.chance(0.12)) {
    std::vector<std::pair<Stage, Stage>> candidates;  // (producer, reader)
    for (const Stage& st : s.stages())
      if (st->op->num_outputs() == 1)
        for (const Stage& reader : consumers_of(s, st))
          if (is_compute_stage(reader)) candidates.emplace_back(st, reader);
    if (!candidates.empty()) {
      auto [producer, reader] = rng.pick(candidates);
      s.cache_read(producer->op.output(0), rng.pick(scopes), {reader->op});
    }
  }
}

// The tensors a stage's loops read: its op's inputs, seen through the stages inlined into it.
inline std::vector<Tensor> tensors_read_in_loops(const Schedule& s, const Stage& st) {
  std::vector<Tensor> out, pending = st->op->input_tensors();
  while (!pending.empty()) {
    Tensor t = pending.back();
    pending.pop_back();
    Stage producer = s[t];
    if (producer->attach_type == AttachType::kInline && !producer->is_output) {
      for (const Tensor& input : producer->op->input_tensors()) pending.push_back(input);
    } else if (std::find(out.begin(), out.end(), t) == out.end()) {
      out.push_back(t);
    }
  }
  return out;
}

// prefetch on some stages, last (what a loop reads depends on which producers were inlined):
// a tensor the stage's loops read and that is computed at the top level (not inside the loops:
// compute_at), at a leaf that is not vectorized, 1-3 iterations ahead, half of them spread over a
// leaf inside.
inline void random_prefetches(Schedule& s, ScheduleRng& rng) {
  for (Stage st : s.stages()) {
    if (!is_compute_stage(st) || st->attach_type == AttachType::kInline || st->leaf_iter_vars.empty() ||
        !rng.chance(0.25))
      continue;
    std::vector<Tensor> reads;
    for (const Tensor& t : tensors_read_in_loops(s, st))
      if (s[t]->attach_type == AttachType::kRoot) reads.push_back(t);
    std::vector<IterVar> leaves;
    for (const IterVar& iv : st->leaf_iter_vars) {
      auto attr = st->iter_var_attrs.find(iv.get());
      if (attr == st->iter_var_attrs.end() || attr->second.for_kind != ForKind::kVectorized) leaves.push_back(iv);
    }
    if (reads.empty() || leaves.empty()) continue;
    size_t at = size_t(rng.uniform(0, int64_t(leaves.size()) - 1));
    Tensor tensor = rng.pick(reads);
    int64_t offset = rng.uniform(1, 3);
    // Half of them spread over a leaf inside (only innermost leaves are vectorized, so the loops
    // in between are not).
    IterVar spread;
    if (at + 1 < leaves.size() && rng.chance(0.5))
      spread = leaves[size_t(rng.uniform(int64_t(at) + 1, int64_t(leaves.size()) - 1))];
    st.prefetch(tensor, leaves[at], offset, spread);
  }
}

}  // namespace detail_equiv

// A random legal schedule of every compute stage of s: caches first, then consumers before
// producers: each stage's attachment (inline / compute_at a leaf of its only consumer / root),
// its loop transformations, and its annotations; prefetches last.
inline void random_schedule(Schedule& s, ScheduleRng& rng, const RandomScheduleOptions& opt = {}) {
  AxisFacts facts;
  if (opt.allow_cache) detail_equiv::random_caches(s, rng);
  std::vector<Stage> stages = s.stages();  // snapshot: no stage is added below
  for (size_t idx = stages.size(); idx-- > 0;) {
    Stage st = stages[idx];
    if (!is_compute_stage(st)) continue;
    if (!st->is_output) {
      std::vector<Stage> consumers = consumers_of(s, st);
      bool can_inline = opt.allow_inline && !has_reduction(st) && st->op->num_outputs() == 1;
      bool can_attach = opt.allow_compute_at && consumers.size() == 1 && is_compute_stage(consumers[0]) &&
                        consumers[0]->attach_type != AttachType::kInline &&
                        !consumers[0]->leaf_iter_vars.empty();
      double roll = std::uniform_real_distribution<double>(0, 1)(rng.engine());
      if (can_inline && roll < 0.3) {
        st.compute_inline();
        continue;  // an inlined stage has no loops of its own
      }
      if (can_attach && roll < 0.75) {
        st.compute_at(consumers[0], rng.pick(consumers[0]->leaf_iter_vars));
        // The data-parallel extents of an attached stage are its required region, known only
        // to bound inference (it may even exceed the domain when the consumer's splits have
        // tails): forget them, so that vectorize/unroll only use split factors.
        for (const IterVar& iv : st->op.as<ComputeOpNode>()->axis) facts.set(iv, AxisFacts::Fact{std::nullopt, false});
      } else if (rng.chance(0.3)) {
        st.compute_root();
      }
    }
    int64_t loop_ops = rng.uniform(0, opt.max_loop_ops);
    for (int64_t i = 0; i < loop_ops; ++i) detail_equiv::random_loop_op(st, rng, facts);
    detail_equiv::random_annotations(st, rng, facts, opt);
  }
  if (opt.allow_prefetch) detail_equiv::random_prefetches(s, rng);
}

// ---------------------------------------------------------------- the property check
struct EquivalenceCase {
  std::string name;
  std::vector<Tensor> placeholders;  // kernel inputs, in argument order
  std::vector<Tensor> outputs;       // kernel outputs, after the inputs in argument order
  // Input shapes of each call (one shape per placeholder). Empty: one call with the
  // placeholders' constant shapes. Several entries test one kernel at several symbolic sizes.
  std::vector<std::vector<std::vector<int64_t>>> input_shapes;
  double rtol = 1e-4, atol = 1e-5;
  // For the harness's own test only: changes the reference outputs, so that a mismatch must
  // be reported.
  std::function<void(std::vector<NDArray>& expected)> perturb_reference;
};

using ScheduleFn = std::function<void(Schedule& s, ScheduleRng& rng)>;

struct EquivalenceStats {
  int schedules = 0;  // attempted
  int matched = 0;    // built, ran and matched the reference at every size
  int skipped = 0;    // a schedule primitive rejected the random schedule (te::Error)
  int failed = 0;     // build error, internal error, or wrong numbers
  // How often each primitive occurs in the schedules that ran: shows the generator's coverage.
  std::map<std::string, int> primitive_counts;
};

namespace detail_equiv {

inline std::string clip(const std::string& s, size_t limit = 6000) {
  return s.size() <= limit ? s : s.substr(0, limit) + "\n... (" + std::to_string(s.size() - limit) + " more chars)";
}

inline std::string describe_schedule(const Schedule& s, const std::vector<Tensor>& args) {
  std::string text;
  try {
    text += "schedule (python):\n" + s.steps_python();
  } catch (const std::exception& e) {
    text += std::string("(steps_python failed: ") + e.what() + ")";
  }
  try {
    text += "\nlowered:\n" + clip(to_string(lower(s, args, "equivalence")));
  } catch (const std::exception& e) {
    text += std::string("\n(lower failed: ") + e.what() + ")";
  }
  return text;
}

}  // namespace detail_equiv

// Runs `count` random schedules (seeds first_seed, first_seed+1, ...) and reports every
// failure with its seed and schedule through ADD_FAILURE. Returns the counts.
inline EquivalenceStats check_schedule_equivalence(const EquivalenceCase& c, const ScheduleFn& scheduler,
                                                   uint64_t first_seed, int count) {
  EquivalenceStats stats;
  std::vector<Operation> output_ops;
  for (const Tensor& t : c.outputs) {
    bool seen = false;
    for (const Operation& op : output_ops) seen = seen || op.same_as(t.op());
    if (!seen) output_ops.push_back(t.op());
  }
  std::vector<Tensor> args = c.placeholders;
  args.insert(args.end(), c.outputs.begin(), c.outputs.end());

  // Inputs and reference outputs, once per call shape: the schedules are what varies.
  std::vector<std::vector<std::vector<int64_t>>> shapes = c.input_shapes;
  if (shapes.empty()) {
    std::vector<std::vector<int64_t>> one;
    for (const Tensor& p : c.placeholders) one.push_back(const_shape(p));
    shapes.push_back(one);
  }
  std::vector<std::vector<NDArray>> inputs, expected;
  for (size_t call = 0; call < shapes.size(); ++call) {
    std::vector<NDArray> in;
    for (size_t p = 0; p < c.placeholders.size(); ++p)
      in.push_back(random_array(shapes[call].at(p), c.placeholders[p].dtype(), 1000 * call + p + 1));
    expected.push_back(evaluate_reference(c.placeholders, in, c.outputs));
    if (c.perturb_reference) c.perturb_reference(expected.back());
    inputs.push_back(std::move(in));
  }

  const auto start = std::chrono::steady_clock::now();
  std::vector<std::string> skip_reasons;
  int reported = 0;
  auto report = [&](uint64_t seed, const Schedule& s, const std::string& what) {
    ++stats.failed;
    if (reported++ >= 3) return;  // the first few failures in full; the count says the rest
    ADD_FAILURE() << "[" << c.name << "] seed " << seed << ": " << what << "\n"
                  << detail_equiv::describe_schedule(s, args);
  };
  for (int n = 0; n < count; ++n) {
    const uint64_t seed = first_seed + uint64_t(n);
    ++stats.schedules;
    Schedule s = create_schedule(output_ops);
    ScheduleRng rng(seed);
    try {
      scheduler(s, rng);
    } catch (const Error& e) {
      ++stats.skipped;
      if (skip_reasons.size() < 5) skip_reasons.push_back("seed " + std::to_string(seed) + ": " + e.what());
      continue;
    } catch (const std::exception& e) {
      report(seed, s, std::string("internal error while scheduling: ") + e.what());
      continue;
    }
    for (const Step& step : s.steps()) ++stats.primitive_counts[step.primitive];
    Module module;
    try {
      module = build(s, args, "llvm", "equivalence");
    } catch (const std::exception& e) {
      report(seed, s, std::string("build of a legal schedule failed: ") + e.what());
      continue;
    }
    bool ok = true;
    for (size_t call = 0; call < shapes.size() && ok; ++call) {
      std::vector<NDArray> call_args = inputs[call];
      std::vector<NDArray> outs;
      for (const NDArray& e : expected[call]) {
        outs.push_back(NDArray::empty(e.shape(), e.dtype()));
        outs.back().fill_poison();
        call_args.push_back(outs.back());
      }
      try {
        module(call_args);
      } catch (const std::exception& e) {
        report(seed, s, "calling the kernel failed: " + std::string(e.what()));
        ok = false;
        break;
      }
      for (size_t o = 0; o < outs.size(); ++o) {
        std::string diff = compare_arrays(outs[o], expected[call][o], c.rtol, c.atol);
        if (!diff.empty()) {
          report(seed, s, "output " + c.outputs[o].name() + " (call " + std::to_string(call) + ") differs from the reference: " + diff);
          ok = false;
          break;
        }
      }
    }
    if (ok) ++stats.matched;
  }
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("[equivalence] %s: %d schedules, %d matched, %d skipped, %d failed (%.1f s)\n", c.name.c_str(),
              stats.schedules, stats.matched, stats.skipped, stats.failed, seconds);
  std::string coverage;
  for (const auto& [primitive, n] : stats.primitive_counts) coverage += " " + primitive + ":" + std::to_string(n);
  std::printf("  primitives used:%s\n", coverage.c_str());
  for (const std::string& r : skip_reasons) std::printf("  skipped %s\n", r.c_str());
  // A generator whose schedules are mostly rejected proves nothing.
  EXPECT_LE(stats.skipped * 5, stats.schedules) << "[" << c.name << "] too many random schedules were rejected";
  return stats;
}

// The usual scheduler: a random legal schedule with the given options.
inline ScheduleFn random_scheduler(RandomScheduleOptions opt = {}) {
  return [opt](Schedule& s, ScheduleRng& rng) { random_schedule(s, rng, opt); };
}

}  // namespace te::testing
