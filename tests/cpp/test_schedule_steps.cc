// Recorded steps: random primitive sequences survive steps_json -> steps_from_json -> replay
// (same stages, leaves, names, relations, attributes, attachments, and the same lowered IR);
// malformed JSON and out-of-range positions are te::Errors; steps_python reads like TVM.
#include <nlohmann/json.hpp>

#include <random>
#include <set>
#include <sstream>

#include "test_util.h"

namespace te {
namespace {

// C[i, j] = sum_k P[i, k] * B[k, j], P = A + 1, D = C * 2 + P[i, j].
struct Graph {
  Tensor A = placeholder({6, 9}, DataType::float32(), "A");
  Tensor B = placeholder({9, 7}, DataType::float32(), "B");
  Tensor P = compute({6, 9}, [&](const std::vector<Var>& i) { return A(i[0], i[1]) + 1.0f; }, "P");
  IterVar k = reduce_axis(Range(0, 9), "k");
  Tensor C = compute({6, 7}, [&](const std::vector<Var>& i) { return sum(P(i[0], k) * B(k, i[1]), {k}); }, "C");
  Tensor D = compute({6, 7}, [&](const std::vector<Var>& i) { return C(i[0], i[1]) * 2.0f + P(i[0], i[1]); }, "D");
};

const char* kind_str(ForKind k) { return for_kind_name(k); }

// Everything replay must reproduce, as text (axes by name, stages by name).
std::string describe(const Schedule& s) {
  std::ostringstream os;
  for (const Stage& st : s.stages()) {
    os << st.name() << " scope=" << st->scope << " out=" << st->is_output << " attach=" << int(st->attach_type)
       << " double_buffer=" << st->double_buffer << " stages=" << st->pipeline_stages;
    if (st->attach_stage) os << "@" << st->attach_stage->op->name << "." << st->attach_ivar.var().name();
    os << " inputs=";
    for (const Tensor& t : st->op->input_tensors()) os << t.name() << ",";
    os << "\n  leaves:";
    for (const IterVar& iv : st->leaf_iter_vars) {
      os << " " << iv.var().name() << "/" << int(iv.type());
      auto it = st->iter_var_attrs.find(iv.get());
      if (it == st->iter_var_attrs.end()) continue;
      os << "[" << kind_str(it->second.for_kind);
      if (it->second.bound_thread.defined()) os << " " << it->second.bound_thread->thread_tag;
      for (const auto& [key, value] : it->second.pragmas) os << " " << key << "=" << value;
      os << "]";
    }
    os << "\n  relations:";
    for (const IterVarRelation& r : st->relations) {
      if (r.kind == IterVarRelation::kSplit)
        os << " split(" << r.parent.var().name() << "," << r.factor << "," << r.nparts << ")";
      else
        os << " fuse(" << r.outer.var().name() << "," << r.inner.var().name() << ")";
    }
    os << "\n";
  }
  return os.str();
}

// One random primitive call; illegal ones throw te::Error and change nothing.
void random_primitive(Schedule& s, std::mt19937_64& rng) {
  auto pick = [&](size_t n) { return size_t(std::uniform_int_distribution<size_t>(0, n - 1)(rng)); };
  const std::vector<Stage>& stages = s.stages();
  Stage st = stages[pick(stages.size())];
  const auto& leaves = st->leaf_iter_vars;
  auto leaf = [&]() { return leaves.empty() ? IterVar() : leaves[pick(leaves.size())]; };
  int64_t factor = int64_t(pick(6)) + 1;
  switch (pick(16)) {
    case 0: case 1: st.split(leaf(), factor); break;
    case 2: st.split_nparts(leaf(), factor); break;
    case 3: st.tile(leaf(), leaf(), factor, int64_t(pick(4)) + 2); break;
    case 4: {
      if (leaves.size() < 2) return;
      size_t p = pick(leaves.size() - 1);
      st.fuse(leaves[p], leaves[p + 1]);
      break;
    }
    case 5: {
      std::vector<IterVar> order = leaves;
      std::shuffle(order.begin(), order.end(), rng);
      order.resize(pick(order.size() + 1));
      st.reorder(order);
      break;
    }
    case 6: st.vectorize(leaf()); break;
    case 7: st.unroll(leaf()); break;
    case 8: st.parallel(leaf()); break;
    case 9: st.pragma(leaf(), "auto_unroll_max_step", Expr(int(factor))); break;
    case 10: {
      Stage parent = stages[pick(stages.size())];
      if (parent->leaf_iter_vars.empty()) return;
      st.compute_at(parent, parent->leaf_iter_vars[pick(parent->leaf_iter_vars.size())]);
      break;
    }
    case 11: st.compute_inline(); break;
    case 12: st.compute_root(); break;
    case 13: {
      std::vector<Operation> readers;
      for (const Stage& other : stages)
        for (const Tensor& t : other->op->input_tensors())
          if (t.op().same_as(st->op) && pick(2)) readers.push_back(other->op);
      s.cache_read(st->op.output(0), pick(2) ? "shared" : "local", readers);
      break;
    }
    case 14: s.cache_write(st->op.output(0), "local"); break;
    case 15: {
      int ndim = int(st->op->output_shape(0).size());
      s.rfactor(st->op.output(0), leaf(), int(pick(size_t(ndim) + 1)));
      break;
    }
  }
}

Schedule random_schedule(const Graph& g, uint64_t seed, int moves) {
  std::mt19937_64 rng(seed);
  Schedule s = create_schedule({g.D.op()});
  for (int i = 0; i < moves; ++i) {
    try {
      random_primitive(s, rng);
    } catch (const Error&) {
      // Illegal move: the primitive rejected it before changing anything.
    }
  }
  return s;
}

TEST(ScheduleSteps, JsonFormat) {
  Graph g;
  Schedule s = create_schedule({g.D.op()});
  auto [io, ii] = s[g.C].split(g.C.op().as<ComputeOpNode>()->axis[0], 32);
  s[g.P].compute_at(s[g.C], io);
  nlohmann::json doc = nlohmann::json::parse(s.steps_json());
  ASSERT_TRUE(doc.is_array());
  ASSERT_EQ(doc.size(), 2u);
  EXPECT_EQ(doc[0], nlohmann::json::parse(R"({"p": "split", "stage": 3, "iters": [0], "ints": [32]})"));
  EXPECT_EQ(doc[1], nlohmann::json::parse(R"({"p": "compute_at", "stage": 1, "target_stage": 3, "target_iter": 0})"));
}

TEST(ScheduleSteps, RandomSequencesRoundTrip) {
  Graph g;
  int with_steps = 0;
  std::set<std::string> used;
  for (uint64_t seed = 0; seed < 60; ++seed) {
    Schedule s = random_schedule(g, seed, 14);
    with_steps += !s.steps().empty();
    for (const Step& step : s.steps()) used.insert(step.primitive);
    std::vector<Step> parsed = Schedule::steps_from_json(s.steps_json());
    Schedule r = Schedule::replay({g.D.op()}, parsed);
    EXPECT_EQ(describe(r), describe(s)) << "seed " << seed << "\n" << s.steps_python();
    EXPECT_EQ(r.steps_json(), s.steps_json()) << "seed " << seed;
  }
  // The generator must exercise the primitives.
  EXPECT_GT(with_steps, 40);
  for (const char* p : {"split", "split_nparts", "tile", "fuse", "reorder", "vectorize", "unroll", "parallel",
                        "pragma", "compute_at", "compute_inline", "compute_root", "cache_read", "cache_write",
                        "rfactor"})
    EXPECT_TRUE(used.count(p)) << "no random sequence used " << p;
}

TEST(ScheduleSteps, ReplayLowersToTheSameIR) {
  Graph g;
  int lowered = 0;
  for (uint64_t seed = 100; seed < 130; ++seed) {
    Schedule s = random_schedule(g, seed, 8);
    Schedule r = Schedule::replay({g.D.op()}, Schedule::steps_from_json(s.steps_json()));
    std::string original_error, replay_error;
    LoweredFunc a, b;
    try {
      a = lower(s, {g.A, g.B, g.D}, "f");
    } catch (const Error& e) {
      original_error = e.what();
    }
    try {
      b = lower(r, {g.A, g.B, g.D}, "f");
    } catch (const Error& e) {
      replay_error = e.what();
    }
    ASSERT_EQ(original_error.empty(), replay_error.empty()) << "seed " << seed << ": '" << original_error
                                                            << "' vs '" << replay_error << "'";
    if (!original_error.empty()) continue;
    ++lowered;
    EXPECT_EQ(to_string(a.body), to_string(b.body)) << "seed " << seed;
    EXPECT_TRUE(structural_equal(a.body, b.body, /*map_free_vars=*/true))
        << "seed " << seed << "\n" << s.steps_python() << "\n" << a.body << "\nvs\n" << b.body;
  }
  EXPECT_GT(lowered, 5);
}

TEST(ScheduleSteps, Python) {
  Graph g;
  Schedule s = create_schedule({g.D.op()});
  const auto* c = g.C.op().as<ComputeOpNode>();
  auto t = s[g.C].tile(c->axis[0], c->axis[1], 4, 2);
  auto [ko, ki] = s[g.C].split(g.k, 3);
  s[g.C].reorder({t[0], ko, t[1]});
  s[g.C].vectorize(t[3]);
  IterVar fused = s[g.D].fuse(g.D.op().as<ComputeOpNode>()->axis[0], g.D.op().as<ComputeOpNode>()->axis[1]);
  s[g.D].parallel(fused);
  s.cache_read(g.P, "shared", {g.C.op()});
  std::string py = s.steps_python();
  EXPECT_NE(py.find("s = te.create_schedule([D.op])\n"), std::string::npos) << py;
  EXPECT_NE(py.find("i_outer, j_outer, i_inner, j_inner = s[C].tile(s[C].op.axis[0], s[C].op.axis[1], "
                    "x_factor=4, y_factor=2)\n"),
            std::string::npos)
      << py;
  EXPECT_NE(py.find("k_outer, k_inner = s[C].split(s[C].op.reduce_axis[0], factor=3)\n"), std::string::npos) << py;
  EXPECT_NE(py.find("s[C].reorder(i_outer, k_outer, j_outer)\n"), std::string::npos) << py;
  EXPECT_NE(py.find("s[C].vectorize(j_inner)\n"), std::string::npos) << py;
  EXPECT_NE(py.find("i_j_fused = s[D].fuse(s[D].op.axis[0], s[D].op.axis[1])\n"), std::string::npos) << py;
  EXPECT_NE(py.find("s[D].parallel(i_j_fused)\n"), std::string::npos) << py;
  EXPECT_NE(py.find("P_shared = s.cache_read(P, \"shared\", [C])\n"), std::string::npos) << py;
}

TEST(ScheduleSteps, PythonNamesAreUniqueIdentifiers) {
  Graph g;
  Schedule s = create_schedule({g.D.op()});
  s[g.C].split(g.C.op().as<ComputeOpNode>()->axis[0], 2);
  s[g.D].split(g.D.op().as<ComputeOpNode>()->axis[0], 2);  // also named i.outer / i.inner
  Tensor rf = s.rfactor(g.C, g.k, 0);
  std::string py = s.steps_python();
  EXPECT_NE(py.find("i_outer, i_inner = s[C].split"), std::string::npos) << py;
  EXPECT_NE(py.find("i_outer_1, i_inner_1 = s[D].split"), std::string::npos) << py;
  EXPECT_NE(py.find("C_rf = s.rfactor(C, s[C].op.reduce_axis[0], factor_axis=0)"), std::string::npos) << py;
}

TEST(ScheduleSteps, MalformedJsonIsRejected) {
  const char* bad[] = {
      "",
      "not json",
      "{\"p\": \"split\"}",
      "[1]",
      "[{}]",
      "[{\"p\": 3, \"stage\": 0}]",
      "[{\"p\": \"split\"}]",
      "[{\"p\": \"explode\", \"stage\": 0}]",
      "[{\"p\": \"split\", \"stage\": 0, \"iters\": [0]}]",
      "[{\"p\": \"split\", \"stage\": 0, \"iters\": [0], \"ints\": [\"4\"]}]",
      "[{\"p\": \"split\", \"stage\": 0, \"iters\": 0, \"ints\": [4]}]",
      "[{\"p\": \"split\", \"stage\": 1.5, \"iters\": [0], \"ints\": [4]}]",
      "[{\"p\": \"split\", \"stage\": 99999999999, \"iters\": [0], \"ints\": [4]}]",
      "[{\"p\": \"split\", \"stage\": 0, \"iters\": [0], \"ints\": [99999999999999999999999]}]",
      "[{\"p\": \"pragma\", \"stage\": 0, \"iters\": [0], \"ints\": [1], \"strs\": [7]}]",
      "[{\"p\": \"compute_at\", \"stage\": 0}]",
      "[{\"p\": \"cache_read\", \"stage\": 0, \"ints\": [0], \"strs\": [\"shared\"]}]",
      "[{\"p\": \"split\", \"stage\": 0, \"iters\": [0], \"ints\": [4]}",
  };
  for (const char* text : bad) {
    SCOPED_TRACE(text);
    EXPECT_TE_ERROR(Schedule::steps_from_json(text), "steps_from_json");
  }
  EXPECT_TRUE(Schedule::steps_from_json("[]").empty());
}

// Logs are untrusted: steps with corrupted numbers either replay or raise te::Error, never an
// InternalError or a crash.
TEST(ScheduleSteps, CorruptedStepsFailCleanly) {
  Graph g;
  std::mt19937_64 rng(7);
  int rejected = 0, replayed = 0;
  for (uint64_t seed = 0; seed < 40; ++seed) {
    Schedule s = random_schedule(g, seed, 10);
    std::vector<Step> steps = s.steps();
    if (steps.empty()) continue;
    Step& victim = steps[rng() % steps.size()];
    const int64_t values[] = {-1, 0, 1, 2, 5, 64, 1 << 30, -(int64_t(1) << 40)};
    int64_t v = values[rng() % 8];
    switch (rng() % 5) {
      case 0: victim.stage = int(v); break;
      case 1: if (!victim.iters.empty()) victim.iters[0] = int(v); break;
      case 2: if (!victim.ints.empty()) victim.ints[0] = v; break;
      case 3: victim.target_stage = int(v); victim.target_iter = int(v); break;
      case 4: if (!victim.readers.empty()) victim.readers[0] = int(v); break;
    }
    Schedule holder = create_schedule({g.D.op()});  // carries the corrupted steps to JSON
    holder->steps = steps;
    try {
      Schedule::replay({g.D.op()}, Schedule::steps_from_json(holder.steps_json()));
      ++replayed;
    } catch (const Error&) {
      ++rejected;
    }
  }
  EXPECT_GT(rejected, 0);
  EXPECT_GT(replayed + rejected, 30);
}

TEST(ScheduleSteps, ReplayRejectsOutOfRangePositions) {
  Graph g;
  auto replay = [&](const std::string& json) { Schedule::replay({g.D.op()}, Schedule::steps_from_json(json)); };
  EXPECT_TE_ERROR(replay(R"([{"p": "split", "stage": 17, "iters": [0], "ints": [4]}])"), "replay: step 0 (split)",
                  "stage index 17 is out of range");
  EXPECT_TE_ERROR(replay(R"([{"p": "split", "stage": 3, "iters": [5], "ints": [4]}])"), "replay: step 0 (split)",
                  "axis position 5", "stage C");
  EXPECT_TE_ERROR(replay(R"([{"p": "split", "stage": 3, "iters": [0], "ints": [0]}])"), "replay: step 0 (split)",
                  ">= 1");
  EXPECT_TE_ERROR(replay(R"([{"p": "compute_at", "stage": 1, "target_stage": 3, "target_iter": 9}])"),
                  "replay: step 0 (compute_at)", "axis position 9");
  EXPECT_TE_ERROR(replay(R"([{"p": "cache_write", "stage": 3, "ints": [4], "strs": ["local"]}])"),
                  "replay: step 0 (cache_write)", "no output 4");
  EXPECT_TE_ERROR(replay(R"([{"p": "bind", "stage": 3, "iters": [0], "strs": ["threadIdx.q"]}])"),
                  "replay: step 0 (bind)");
}

}  // namespace
}  // namespace te
