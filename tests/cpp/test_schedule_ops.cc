// schedule_ops: the loop nest of a schedule, executed statement by statement (the
// Interpreter evaluates the expressions; this file walks For/Realize/TensorStore itself so
// that every store and read is checked against the Realize region that is live at that
// point, and every input read against the placeholder's shape). Results are compared with
// hand-written loops and with the unscheduled (default) schedule of the same ops.
#include <cmath>
#include <algorithm>
#include <map>
#include <random>

#include "ir/interpreter.h"
#include "te/ir_functor.h"
#include "test_util.h"

namespace te {
namespace {

using Key = std::pair<const OperationNode*, int>;
Key key_of(const Tensor& t) { return {t.op().get(), t->value_index}; }
using Values = std::map<std::vector<int64_t>, double>;

// Deterministic input element, different for every index (small values: exact sums).
double input_value(const std::string& name, const std::vector<int64_t>& idx) {
  int64_t h = int64_t(name.size()) * 13 + name[0];
  for (int64_t i : idx) h = h * 31 + i * 7 + 3;
  return double(((h % 19) + 19) % 19 - 9) / 4.0;
}

class Executor {
 public:
  Executor() {
    interp_.tensor_read = [this](const Tensor& t, const std::vector<int64_t>& idx) { return read(t, idx); };
  }

  // Contents of each tensor's storage when its (last) Realize closed.
  std::map<Key, Values> results;

  void bind(const Var& v, int64_t value) { interp_.bind(v, Value::from_int(v.dtype(), value)); }

  void run(const Stmt& s) {
    if (const auto* op = s.as<ForNode>()) {
      int64_t lo = interp_.eval(op->min).as_int(), extent = interp_.eval(op->extent).as_int();
      for (int64_t v = lo; v < lo + extent; ++v) {
        interp_.bind(op->loop_var, Value::from_int(op->loop_var.dtype(), v));
        run(op->body);
      }
    } else if (const auto* op = s.as<LetStmtNode>()) {
      interp_.bind(op->var, interp_.eval(op->value));
      run(op->body);
    } else if (const auto* op = s.as<AttrStmtNode>()) {
      run(op->body);
    } else if (const auto* op = s.as<SeqNode>()) {
      for (const Stmt& x : op->seq) run(x);
    } else if (const auto* op = s.as<IfThenElseNode>()) {
      if (interp_.eval(op->condition).as_bool()) run(op->then_case);
      else if (op->else_case.defined()) run(op->else_case);
    } else if (const auto* op = s.as<EvaluateNode>()) {
      interp_.eval(op->value);
    } else if (const auto* op = s.as<RealizeNode>()) {
      Key key = key_of(op->tensor);
      Storage fresh;
      for (const Range& r : op->bounds) {
        int64_t lo = interp_.eval(r.min).as_int();
        fresh.region.emplace_back(lo, lo + interp_.eval(r.extent).as_int());
      }
      if (live_.count(key)) throw std::runtime_error("nested Realize of " + op->tensor.name());
      live_[key] = fresh;
      run(op->body);
      results[key] = live_[key].values;
      live_.erase(key);
    } else if (const auto* op = s.as<TensorStoreNode>()) {
      std::vector<int64_t> idx = eval_all(op->indices);
      Storage& st = storage(op->tensor, idx, "store to");
      st.values[idx] = interp_.eval(op->value).as_float();
    } else {
      throw std::runtime_error(std::string("executor: unexpected statement ") + kind_name(s->kind));
    }
  }

 private:
  struct Storage {
    std::vector<std::pair<int64_t, int64_t>> region;  // [lo, hi) per dimension
    Values values;
  };

  std::vector<int64_t> eval_all(const std::vector<Expr>& exprs) {
    std::vector<int64_t> v;
    for (const Expr& e : exprs) v.push_back(interp_.eval(e).as_int());
    return v;
  }

  static std::string show(const Tensor& t, const std::vector<int64_t>& idx) {
    std::string s = t.name() + "[";
    for (size_t d = 0; d < idx.size(); ++d) s += (d ? ", " : "") + std::to_string(idx[d]);
    return s + "]";
  }

  Storage& storage(const Tensor& t, const std::vector<int64_t>& idx, const char* what) {
    auto it = live_.find(key_of(t));
    if (it == live_.end()) throw std::runtime_error(std::string(what) + " " + show(t, idx) + " outside its Realize");
    for (size_t d = 0; d < idx.size(); ++d)
      if (idx[d] < it->second.region[d].first || idx[d] >= it->second.region[d].second)
        throw std::runtime_error(std::string(what) + " " + show(t, idx) + " outside the realized region");
    return it->second;
  }

  Value read(const Tensor& t, const std::vector<int64_t>& idx) {
    Value v;
    if (const auto* ph = t.op().as<PlaceholderOpNode>()) {
      for (size_t d = 0; d < idx.size(); ++d)
        if (idx[d] < 0 || idx[d] >= interp_.eval(ph->shape[d]).as_int())
          throw std::runtime_error("input read " + show(t, idx) + " out of bounds");
      double x = input_value(t.name(), idx);
      return t.dtype().is_float() ? Value::from_float(t.dtype(), x) : Value::from_int(t.dtype(), int64_t(x * 4));
    }
    Storage& st = storage(t, idx, "read of");
    auto it = st.values.find(idx);
    if (it == st.values.end()) throw std::runtime_error("read of " + show(t, idx) + " before it was computed");
    return t.dtype().is_float() ? Value::from_float(t.dtype(), it->second)
                                : Value::from_int(t.dtype(), int64_t(it->second));
  }

  Interpreter interp_;
  std::map<Key, Storage> live_;
};

Stmt loops_of(const Schedule& s) { return schedule_ops(s, infer_bound(s)); }

Values run_schedule(const Schedule& s, const Tensor& out, const std::vector<std::pair<Var, int64_t>>& sizes = {}) {
  Stmt program = loops_of(s);
  Executor ex;
  for (const auto& [v, x] : sizes) ex.bind(v, x);
  try {
    ex.run(program);
  } catch (const std::exception& e) {
    ADD_FAILURE() << e.what() << "\nin\n" << program;
    return {};
  }
  return ex.results[key_of(out)];
}

int64_t num_elements(const Tensor& t) {
  int64_t n = 1;
  for (int64_t d : testing::const_shape(t)) n *= d;
  return n;
}

// Every element of out's domain computed, and equal to expected (index → value).
void expect_values(const Values& got, const Tensor& out, const std::function<double(const std::vector<int64_t>&)>& expected) {
  EXPECT_EQ(int64_t(got.size()), num_elements(out)) << "elements of " << out.name() << " computed";
  for (const auto& [idx, v] : got) {
    double want = expected(idx);
    EXPECT_NEAR(v, want, 1e-4 * (1 + std::fabs(want))) << out.name() << " at index " << idx[0];
  }
}

// The scheduled result equals the unscheduled one on every element.
void expect_same_as_default(const Schedule& s, const Tensor& out) {
  Values want = run_schedule(create_schedule({out.op()}), out);
  Values got = run_schedule(s, out);
  ASSERT_EQ(int64_t(want.size()), num_elements(out));
  expect_values(got, out, [&](const std::vector<int64_t>& idx) { return want.at(idx); });
}

int count_stmts(const Stmt& s, StmtKind kind) {
  int n = 0;
  post_order_visit(s, [](const Expr&) {}, [&](const Stmt& x) { n += x->kind == kind ? 1 : 0; });
  return n;
}

std::vector<const ForNode*> loops_in_order(const Stmt& s) {
  std::vector<const ForNode*> loops;
  std::function<void(const Stmt&)> walk = [&](const Stmt& x) {
    if (const auto* f = x.as<ForNode>()) {
      loops.push_back(f);
      walk(f->body);
    } else if (const auto* op = x.as<SeqNode>()) {
      for (const Stmt& y : op->seq) walk(y);
    } else if (const auto* op = x.as<RealizeNode>()) {
      walk(op->body);
    } else if (const auto* op = x.as<AttrStmtNode>()) {
      walk(op->body);
    } else if (const auto* op = x.as<LetStmtNode>()) {
      walk(op->body);
    } else if (const auto* op = x.as<IfThenElseNode>()) {
      walk(op->then_case);
    }
  };
  walk(s);
  return loops;
}

int position_of_loop(const std::vector<const ForNode*>& loops, const std::string& name) {
  for (size_t i = 0; i < loops.size(); ++i)
    if (loops[i]->loop_var.name() == name) return int(i);
  return -1;
}

const ComputeOpNode* compute_of(const Tensor& t) { return t.op().as<ComputeOpNode>(); }

TEST(ScheduleOps, SplitWithTailIsGuarded) {
  Tensor a = placeholder({10}, DataType::float32(), "A");
  Tensor c = compute({10}, [&](const std::vector<Var>& i) { return a(i[0]) * 2.0f + 1.0f; }, "C");
  Schedule s = create_schedule({c.op()});
  s[c].split(compute_of(c)->axis[0], 4);
  Stmt program = loops_of(s);
  EXPECT_EQ(count_stmts(program, StmtKind::IfThenElse), 1) << program;
  EXPECT_EQ(count_stmts(program, StmtKind::Realize), 1) << program;
  expect_values(run_schedule(s, c), c, [](const std::vector<int64_t>& i) { return input_value("A", i) * 2 + 1; });
}

TEST(ScheduleOps, DivisibleSplitHasNoGuard) {
  Tensor a = placeholder({16}, DataType::float32(), "A");
  Tensor c = compute({16}, [&](const std::vector<Var>& i) { return a(i[0]) - 1.0f; }, "C");
  Schedule s = create_schedule({c.op()});
  auto [o, in] = s[c].split(compute_of(c)->axis[0], 4);
  Stmt program = loops_of(s);
  EXPECT_EQ(count_stmts(program, StmtKind::IfThenElse), 0) << program;
  auto loops = loops_in_order(program);
  ASSERT_EQ(loops.size(), 2u);
  EXPECT_TRUE(loops[0]->loop_var.same_as(o->var));
  EXPECT_TRUE(is_zero(loops[0]->min));
  EXPECT_TRUE(is_const_int(loops[0]->extent, 4));
  expect_values(run_schedule(s, c), c, [](const std::vector<int64_t>& i) { return input_value("A", i) - 1; });
}

TEST(ScheduleOps, TailOfAnInnerSplitIsGuarded) {
  // k (8) split by 5, then k.inner (5) by 4: k.inner's tail (5..7) must not run, or it
  // would add elements of the next k.outer a second time.
  Tensor a = placeholder({3, 8}, DataType::float32(), "A");
  IterVar k = reduce_axis(Range(0, 8), "k");
  Tensor c = compute({3}, [&](const std::vector<Var>& i) { return sum(a(i[0], k), {k}); }, "C");
  Schedule s = create_schedule({c.op()});
  auto [ko, ki] = s[c].split(compute_of(c)->reduce_axis[0], 5);
  s[c].split(ki, 4);
  expect_values(run_schedule(s, c), c, [](const std::vector<int64_t>& i) {
    double total = 0;
    for (int64_t kk = 0; kk < 8; ++kk) total += input_value("A", {i[0], kk});
    return total;
  });
}

TEST(ScheduleOps, NestedSplitsNpartsAndReorder) {
  Tensor a = placeholder({7, 9}, DataType::float32(), "A");
  Tensor c = compute({7, 9}, [&](const std::vector<Var>& i) { return a(i[0], i[1]) * 3.0f; }, "C");
  Schedule s = create_schedule({c.op()});
  auto [io, ii] = s[c].split_nparts(compute_of(c)->axis[0], 3);
  auto [jo, ji] = s[c].split(compute_of(c)->axis[1], 4);
  auto [jio, jii] = s[c].split(ji, 3);
  s[c].reorder({jii, io, jo, jio, ii});
  expect_values(run_schedule(s, c), c, [](const std::vector<int64_t>& i) { return input_value("A", i) * 3; });
}

TEST(ScheduleOps, FuseAndSplitFused) {
  Tensor a = placeholder({5, 7}, DataType::float32(), "A");
  Tensor c = compute({5, 7}, [&](const std::vector<Var>& i) { return a(i[0], i[1]) + 2.0f; }, "C");
  Schedule s = create_schedule({c.op()});
  IterVar fused = s[c].fuse(compute_of(c)->axis[0], compute_of(c)->axis[1]);
  s[c].split(fused, 4);
  expect_values(run_schedule(s, c), c, [](const std::vector<int64_t>& i) { return input_value("A", i) + 2; });
  Schedule plain = create_schedule({c.op()});
  plain[c].fuse(compute_of(c)->axis[0], compute_of(c)->axis[1]);
  EXPECT_EQ(count_stmts(loops_of(plain), StmtKind::For), 1);
  expect_same_as_default(plain, c);
}

TEST(ScheduleOps, TileAndReorder) {
  Tensor a = placeholder({6, 10}, DataType::float32(), "A");
  Tensor c = compute({6, 10}, [&](const std::vector<Var>& i) { return a(i[0], i[1]) * a(i[0], i[1]); }, "C");
  Schedule s = create_schedule({c.op()});
  auto t = s[c].tile(compute_of(c)->axis[0], compute_of(c)->axis[1], 4, 3);
  s[c].reorder({t[3], t[0], t[2], t[1]});
  expect_same_as_default(s, c);
}

TEST(ScheduleOps, ComputeAtTileWithTailsGuardsProducerDomain) {
  // C's tiles overhang both B's rows and columns; B must not read A out of bounds.
  Tensor a = placeholder({10, 13}, DataType::float32(), "A");
  Tensor b = compute({10, 13}, [&](const std::vector<Var>& i) { return a(i[0], i[1]) * 2.0f; }, "B");
  Tensor c = compute({10, 12}, [&](const std::vector<Var>& i) { return b(i[0], i[1]) + b(i[0], i[1] + 1); }, "C");
  Schedule s = create_schedule({c.op()});
  auto t = s[c].tile(compute_of(c)->axis[0], compute_of(c)->axis[1], 4, 5);
  s[b].compute_at(s[c], t[1]);
  Stmt program = loops_of(s);
  EXPECT_EQ(count_stmts(program, StmtKind::Realize), 2) << program;
  expect_values(run_schedule(s, c), c, [](const std::vector<int64_t>& i) {
    return input_value("A", i) * 2 + input_value("A", {i[0], i[1] + 1}) * 2;
  });
}

TEST(ScheduleOps, ComputeAtPlacesProducerInsideTheLoop) {
  Tensor a = placeholder({8, 8}, DataType::float32(), "A");
  Tensor b = compute({8, 8}, [&](const std::vector<Var>& i) { return a(i[0], i[1]) + 1.0f; }, "B");
  Tensor c = compute({8, 8}, [&](const std::vector<Var>& i) { return b(i[0], i[1]) * 2.0f; }, "C");
  Schedule s = create_schedule({c.op()});
  auto [io, ii] = s[c].split(compute_of(c)->axis[0], 2);
  s[b].compute_at(s[c], io);
  Stmt program = loops_of(s);
  // Top: Realize C { for io { Realize B { B's nest; C's inner loops } } }.
  const auto* realize_c = program.as<RealizeNode>();
  ASSERT_NE(realize_c, nullptr) << program;
  const auto* loop = realize_c->body.as<ForNode>();
  ASSERT_NE(loop, nullptr) << program;
  EXPECT_TRUE(loop->loop_var.same_as(io->var));
  const auto* realize_b = loop->body.as<RealizeNode>();
  ASSERT_NE(realize_b, nullptr) << program;
  EXPECT_TRUE(is_const_int(realize_b->bounds[0].extent, 2));
  EXPECT_TRUE(is_const_int(realize_b->bounds[1].extent, 8));
  expect_same_as_default(s, c);
}

TEST(ScheduleOps, NestedComputeAtWithReduction) {
  Tensor a = placeholder({8, 8}, DataType::float32(), "A");
  Tensor p = compute({8, 8}, [&](const std::vector<Var>& i) { return a(i[0], i[1]) * 3.0f; }, "P");
  Tensor q = compute({8, 8}, [&](const std::vector<Var>& i) { return p(i[0], i[1]) + 1.0f; }, "Q");
  IterVar k = reduce_axis(Range(0, 8), "k");
  Tensor r = compute({8}, [&](const std::vector<Var>& i) { return sum(q(i[0], k), {k}); }, "R");
  Schedule s = create_schedule({r.op()});
  auto [ko, ki] = s[r].split(compute_of(r)->reduce_axis[0], 3);
  s[q].compute_at(s[r], ko);
  s[p].compute_at(s[q], compute_of(q)->axis[1]);
  expect_values(run_schedule(s, r), r, [](const std::vector<int64_t>& i) {
    double total = 0;
    for (int64_t kk = 0; kk < 8; ++kk) total += input_value("A", {i[0], kk}) * 3 + 1;
    return total;
  });
}

TEST(ScheduleOps, InlineChain) {
  Tensor a = placeholder({12}, DataType::float32(), "A");
  Tensor p = compute({12}, [&](const std::vector<Var>& i) { return a(i[0]) + 1.0f; }, "P");
  Tensor q = compute({6}, [&](const std::vector<Var>& i) { return p(i[0] * 2) * p(i[0] * 2 + 1); }, "Q");
  Tensor c = compute({6}, [&](const std::vector<Var>& i) { return q(i[0]) - 0.5f; }, "C");
  Schedule s = create_schedule({c.op()});
  s[p].compute_inline();
  s[q].compute_inline();
  Stmt program = loops_of(s);
  EXPECT_EQ(count_stmts(program, StmtKind::Realize), 1) << program;
  EXPECT_EQ(count_stmts(program, StmtKind::For), 1) << program;
  expect_values(run_schedule(s, c), c, [](const std::vector<int64_t>& i) {
    return (input_value("A", {i[0] * 2}) + 1) * (input_value("A", {i[0] * 2 + 1}) + 1) - 0.5;
  });
}

TEST(ScheduleOps, InlineIntoComputeAtConsumer) {
  Tensor a = placeholder({16}, DataType::float32(), "A");
  Tensor p = compute({16}, [&](const std::vector<Var>& i) { return a(i[0]) + 1.0f; }, "P");
  Tensor q = compute({8}, [&](const std::vector<Var>& i) { return p(i[0] * 2) + p(i[0] * 2 + 1); }, "Q");
  Tensor c = compute({8}, [&](const std::vector<Var>& i) { return q(i[0]) * 2.0f; }, "C");
  Schedule s = create_schedule({c.op()});
  s[q].compute_inline();
  auto [co, ci] = s[c].split(compute_of(c)->axis[0], 3);
  s[p].compute_at(s[c], co);
  expect_same_as_default(s, c);
}

TEST(ScheduleOps, ReductionInitBeforeReorderedReduceLoop) {
  Tensor a = placeholder({5, 7}, DataType::float32(), "A");
  Tensor b = placeholder({7, 6}, DataType::float32(), "B");
  IterVar k = reduce_axis(Range(0, 7), "k");
  Tensor c = compute({5, 6}, [&](const std::vector<Var>& i) { return sum(a(i[0], k) * b(k, i[1]), {k}); }, "C");
  Schedule s = create_schedule({c.op()});
  const auto* op = compute_of(c);
  auto [ko, ki] = s[c].split(op->reduce_axis[0], 3);
  auto [jo, ji] = s[c].split(op->axis[1], 4);
  s[c].reorder({ko, op->axis[0], jo, ki, ji});
  Stmt program = loops_of(s);
  auto loops = loops_in_order(program);
  int init_i = position_of_loop(loops, op->axis[0]->var.name() + ".init");
  int init_ji = position_of_loop(loops, ji->var.name() + ".init");
  int ko_pos = position_of_loop(loops, ko->var.name());
  ASSERT_GE(init_i, 0) << program;
  ASSERT_GE(init_ji, 0) << program;
  EXPECT_LT(init_i, ko_pos) << "the init nest comes before the outermost reduction loop\n" << program;
  EXPECT_EQ(ko_pos, 3) << "init loops i, j.outer, j.inner then ko\n" << program;
  expect_values(run_schedule(s, c), c, [](const std::vector<int64_t>& i) {
    double total = 0;
    for (int64_t kk = 0; kk < 7; ++kk) total += input_value("A", {i[0], kk}) * input_value("B", {kk, i[1]});
    return total;
  });
}

TEST(ScheduleOps, ReductionInitInsideSpatialLoops) {
  Tensor a = placeholder({4, 9}, DataType::float32(), "A");
  IterVar k = reduce_axis(Range(0, 9), "k");
  Tensor c = compute({4}, [&](const std::vector<Var>& i) { return max(a(i[0], k), std::vector<IterVar>{k}); }, "C");
  Schedule s = create_schedule({c.op()});
  auto [ko, ki] = s[c].split(compute_of(c)->reduce_axis[0], 2);
  Stmt program = loops_of(s);
  auto loops = loops_in_order(program);
  // i, then ko, ki: the init is a plain store inside i (no init loops).
  EXPECT_EQ(loops.size(), 3u) << program;
  expect_values(run_schedule(s, c), c, [](const std::vector<int64_t>& i) {
    double best = -1e30;
    for (int64_t kk = 0; kk < 9; ++kk) best = std::max(best, input_value("A", {i[0], kk}));
    return best;
  });
}

TEST(ScheduleOps, ReductionWithCondition) {
  Tensor a = placeholder({6, 6}, DataType::float32(), "A");
  IterVar k = reduce_axis(Range(0, 6), "k");
  Tensor c = compute({6}, [&](const std::vector<Var>& i) { return sum(a(i[0], k), {k}, k <= i[0]); }, "C");
  Schedule s = create_schedule({c.op()});
  s[c].split(compute_of(c)->reduce_axis[0], 4);
  expect_values(run_schedule(s, c), c, [](const std::vector<int64_t>& i) {
    double total = 0;
    for (int64_t kk = 0; kk <= i[0]; ++kk) total += input_value("A", {i[0], kk});
    return total;
  });
}

TEST(ScheduleOps, ArgmaxMultiValued) {
  Tensor a = placeholder({5, 11}, DataType::float32(), "A");
  Reducer argmax(
      [](const std::vector<Expr>& lhs, const std::vector<Expr>& rhs) {
        Expr keep = lhs[1] >= rhs[1];
        return std::vector<Expr>{select(keep, lhs[0], rhs[0]), select(keep, lhs[1], rhs[1])};
      },
      [](const std::vector<DataType>& t) {
        return std::vector<Expr>{make_const(t[0], -1), min_value(t[1])};
      },
      "argmax");
  IterVar k = reduce_axis(Range(0, 11), "k");
  std::vector<Tensor> outs = compute_multi(
      {5}, [&](const std::vector<Var>& i) { return argmax({Expr(k), a(i[0], k)}, {k}); }, "AM");
  ASSERT_EQ(outs.size(), 2u);
  Schedule s = create_schedule({outs[0].op()});
  auto [ko, ki] = s[outs[0]].split(compute_of(outs[0])->reduce_axis[0], 4);
  s[outs[0]].reorder({ko, compute_of(outs[0])->axis[0], ki});
  auto best = [](const std::vector<int64_t>& i) {
    int64_t arg = -1;
    double value = -1e30;
    for (int64_t kk = 0; kk < 11; ++kk)
      if (!(value >= input_value("A", {i[0], kk}))) value = input_value("A", {i[0], kk}), arg = kk;
    return std::make_pair(arg, value);
  };
  expect_values(run_schedule(s, outs[0]), outs[0], [&](const std::vector<int64_t>& i) { return double(best(i).first); });
  expect_values(run_schedule(s, outs[1]), outs[1], [&](const std::vector<int64_t>& i) { return best(i).second; });
}

TEST(ScheduleOps, ReductionProducerComputedAt) {
  Tensor a = placeholder({6, 5}, DataType::float32(), "A");
  IterVar k = reduce_axis(Range(0, 5), "k");
  Tensor r = compute({6}, [&](const std::vector<Var>& i) { return sum(a(i[0], k), {k}); }, "R");
  Tensor c = compute({6}, [&](const std::vector<Var>& i) { return r(i[0]) * 2.0f; }, "C");
  Schedule s = create_schedule({c.op()});
  auto [co, ci] = s[c].split(compute_of(c)->axis[0], 4);
  s[r].compute_at(s[c], co);
  expect_same_as_default(s, c);
}

TEST(ScheduleOps, LoopAnnotations) {
  Tensor a = placeholder({8, 16}, DataType::float32(), "A");
  Tensor c = compute({8, 16}, [&](const std::vector<Var>& i) { return a(i[0], i[1]) + 1.0f; }, "C");
  Schedule s = create_schedule({c.op()});
  const auto* op = compute_of(c);
  auto [jo, ji] = s[c].split(op->axis[1], 4);
  s[c].parallel(op->axis[0]);
  s[c].unroll(jo);
  s[c].vectorize(ji);
  s[c].pragma(jo, "auto_unroll_max_step", Expr(16));
  Stmt program = loops_of(s);
  auto loops = loops_in_order(program);
  ASSERT_EQ(loops.size(), 3u) << program;
  EXPECT_EQ(loops[0]->for_kind, ForKind::kParallel);
  EXPECT_EQ(loops[1]->for_kind, ForKind::kUnrolled);
  EXPECT_EQ(loops[2]->for_kind, ForKind::kVectorized);
  int pragmas = 0;
  post_order_visit(program, [](const Expr&) {}, [&](const Stmt& x) {
    if (const auto* attr = x.as<AttrStmtNode>()) {
      EXPECT_EQ(attr->key, "pragma_auto_unroll_max_step");
      EXPECT_TRUE(attr->body.as<ForNode>() && attr->body.as<ForNode>()->loop_var.same_as(jo->var));
      ++pragmas;
    }
  });
  EXPECT_EQ(pragmas, 1) << program;
  expect_same_as_default(s, c);
}

TEST(ScheduleOps, BoundThreadLoops) {
  Tensor a = placeholder({64}, DataType::float32(), "A");
  Tensor c = compute({64}, [&](const std::vector<Var>& i) { return a(i[0]) + 1.0f; }, "C");
  Schedule s = create_schedule({c.op()});
  auto [bx, tx] = s[c].split(compute_of(c)->axis[0], 16);
  s[c].bind(bx, thread_axis("blockIdx.x"));
  s[c].bind(tx, thread_axis("threadIdx.x"));
  Stmt program = loops_of(s);
  auto loops = loops_in_order(program);
  ASSERT_EQ(loops.size(), 2u);
  EXPECT_EQ(loops[0]->for_kind, ForKind::kThreadBinding);
  EXPECT_EQ(loops[0]->thread_tag, "blockIdx.x");
  EXPECT_EQ(loops[1]->thread_tag, "threadIdx.x");
  EXPECT_TRUE(is_const_int(loops[1]->extent, 16)) << program;
}

TEST(ScheduleOps, EveryComputedStageIsRealized) {
  Tensor a = placeholder({4}, DataType::float32(), "A");
  Tensor b = compute({4}, [&](const std::vector<Var>& i) { return a(i[0]) + 1.0f; }, "B");
  Tensor c = compute({4}, [&](const std::vector<Var>& i) { return b(i[0]) * 2.0f; }, "C");
  Schedule s = create_schedule({c.op()});
  Stmt program = loops_of(s);
  const auto* outer = program.as<RealizeNode>();
  ASSERT_NE(outer, nullptr) << program;
  EXPECT_TRUE(outer->tensor == b) << "producer's storage encloses the consumer\n" << program;
  EXPECT_EQ(outer->scope, "global");
  EXPECT_EQ(count_stmts(program, StmtKind::Realize), 2);
  expect_values(run_schedule(s, c), c, [](const std::vector<int64_t>& i) { return (input_value("A", i) + 1) * 2; });
}

TEST(ScheduleOps, CacheWriteComputedAt) {
  Tensor a = placeholder({6, 8}, DataType::float32(), "A");
  IterVar k = reduce_axis(Range(0, 8), "k");
  Tensor c = compute({6}, [&](const std::vector<Var>& i) { return sum(a(i[0], k) * 2.0f, {k}); }, "C");
  Schedule s = create_schedule({c.op()});
  Tensor cache = s.cache_write(c, "local");
  auto [co, ci] = s[c].split(s[c]->leaf_iter_vars[0], 4);
  s[cache].compute_at(s[c], co);
  Stmt program = loops_of(s);
  bool local = false;
  post_order_visit(program, [](const Expr&) {}, [&](const Stmt& x) {
    if (const auto* r = x.as<RealizeNode>()) local = local || r->scope == "local";
  });
  EXPECT_TRUE(local) << program;
  expect_values(run_schedule(s, c), c, [](const std::vector<int64_t>& i) {
    double total = 0;
    for (int64_t kk = 0; kk < 8; ++kk) total += input_value("A", {i[0], kk}) * 2;
    return total;
  });
}

TEST(ScheduleOps, SymbolicSizeComputeAt) {
  Var n = var("n");
  Tensor a = placeholder({n}, DataType::float32(), "A");
  Tensor b = compute({n}, [&](const std::vector<Var>& i) { return a(i[0]) * 2.0f; }, "B");
  Tensor c = compute({n}, [&](const std::vector<Var>& i) { return b(i[0]) + 1.0f; }, "C");
  Schedule s = create_schedule({c.op()});
  auto [co, ci] = s[c].split(compute_of(c)->axis[0], 4);
  s[b].compute_at(s[c], co);
  for (int64_t size : {1, 4, 13}) {
    Values got = run_schedule(s, c, {{n, size}});
    EXPECT_EQ(int64_t(got.size()), size);
    for (const auto& [idx, v] : got) EXPECT_DOUBLE_EQ(v, input_value("A", idx) * 2 + 1);
  }
}

TEST(ScheduleOps, ComputeAtFusedAxis) {
  Tensor a = placeholder({5, 6}, DataType::float32(), "A");
  Tensor b = compute({5, 6}, [&](const std::vector<Var>& i) { return a(i[0], i[1]) * 2.0f; }, "B");
  Tensor c = compute({5, 6}, [&](const std::vector<Var>& i) { return b(i[0], i[1]) - 1.0f; }, "C");
  Schedule s = create_schedule({c.op()});
  IterVar fused = s[c].fuse(compute_of(c)->axis[0], compute_of(c)->axis[1]);
  auto [fo, fi] = s[c].split(fused, 4);
  s[b].compute_at(s[c], fo);
  expect_values(run_schedule(s, c), c, [](const std::vector<int64_t>& i) { return input_value("A", i) * 2 - 1; });
}

TEST(ScheduleOps, CacheReadAtReductionLoop) {
  Tensor a = placeholder({4, 10}, DataType::float32(), "A");
  Tensor b = placeholder({10, 5}, DataType::float32(), "B");
  IterVar k = reduce_axis(Range(0, 10), "k");
  Tensor c = compute({4, 5}, [&](const std::vector<Var>& i) { return sum(a(i[0], k) * b(k, i[1]), {k}); }, "C");
  Schedule s = create_schedule({c.op()});
  Tensor aa = s.cache_read(a, "local", {s[c]->op});
  const auto* op = s[c]->op.as<ComputeOpNode>();
  auto [ko, ki] = s[c].split(op->reduce_axis[0], 4);
  s[aa].compute_at(s[c], ko);
  BoundMap bounds = infer_bound(s);
  const auto* aop = aa.op().as<ComputeOpNode>();
  EXPECT_TRUE(is_const_int(bounds.at(aop->axis[0].get()).extent, 1));
  EXPECT_TRUE(is_const_int(bounds.at(aop->axis[1].get()).extent, 4));
  expect_values(run_schedule(s, c), c, [](const std::vector<int64_t>& i) {
    double total = 0;
    for (int64_t kk = 0; kk < 10; ++kk) total += input_value("A", {i[0], kk}) * input_value("B", {kk, i[1]});
    return total;
  });
}

TEST(ScheduleOps, Rfactor) {
  Tensor a = placeholder({3, 16}, DataType::float32(), "A");
  IterVar k = reduce_axis(Range(0, 16), "k");
  Tensor c = compute({3}, [&](const std::vector<Var>& i) { return sum(a(i[0], k), {k}); }, "C");
  Schedule s = create_schedule({c.op()});
  auto [ko, ki] = s[c].split(compute_of(c)->reduce_axis[0], 4);
  s.rfactor(c, ki);
  expect_values(run_schedule(s, c), c, [](const std::vector<int64_t>& i) {
    double total = 0;
    for (int64_t kk = 0; kk < 16; ++kk) total += input_value("A", {i[0], kk});
    return total;
  });
}

TEST(ScheduleOps, MultiOutputElementwise) {
  Tensor a = placeholder({7}, DataType::float32(), "A");
  std::vector<Tensor> outs = compute_multi(
      {7}, [&](const std::vector<Var>& i) { return std::vector<Expr>{a(i[0]) + 1.0f, a(i[0]) * 3.0f}; }, "M");
  Schedule s = create_schedule({outs[0].op()});
  s[outs[0]].split(compute_of(outs[0])->axis[0], 3);
  expect_values(run_schedule(s, outs[0]), outs[0], [](const std::vector<int64_t>& i) { return input_value("A", i) + 1; });
  expect_values(run_schedule(s, outs[1]), outs[1], [](const std::vector<int64_t>& i) { return input_value("A", i) * 3; });
}

// Random splits (tails included), fuses, reorders and attachments of a 4-stage pipeline
// give the same numbers as the unscheduled pipeline.
void random_loop_edits(Stage stage, std::mt19937& rng) {
  std::uniform_int_distribution<int> coin(0, 3);
  for (int step = 0; step < 3; ++step) {
    const std::vector<IterVar>& leaves = stage->leaf_iter_vars;
    size_t pos = std::uniform_int_distribution<size_t>(0, leaves.size() - 1)(rng);
    int what = coin(rng);
    if (what <= 1) {
      stage.split(leaves[pos], std::uniform_int_distribution<int>(1, 5)(rng));
    } else if (what == 2 && pos + 1 < leaves.size() && leaves[pos]->type == leaves[pos + 1]->type) {
      stage.fuse(leaves[pos], leaves[pos + 1]);
    } else {
      std::vector<IterVar> order = leaves;
      std::shuffle(order.begin(), order.end(), rng);
      stage.reorder(order);
    }
  }
}

IterVar random_leaf(const Stage& stage, std::mt19937& rng) {
  const std::vector<IterVar>& leaves = stage->leaf_iter_vars;
  return leaves[std::uniform_int_distribution<size_t>(0, leaves.size() - 1)(rng)];
}

TEST(ScheduleOps, RandomSchedulesMatchDefault) {
  Tensor a = placeholder({6, 10}, DataType::float32(), "A");
  Tensor b = compute({6, 9}, [&](const std::vector<Var>& i) { return a(i[0], i[1]) * a(i[0], i[1] + 1); }, "B");
  Tensor c = compute({6, 8}, [&](const std::vector<Var>& i) { return b(i[0], i[1]) - b(i[0], i[1] + 1); }, "C");
  IterVar k = reduce_axis(Range(0, 8), "k");
  Tensor d = compute({6}, [&](const std::vector<Var>& i) { return sum(c(i[0], k) * cast(DataType::float32(), k + 1), {k}); }, "D");
  Values want = run_schedule(create_schedule({d.op()}), d);
  ASSERT_EQ(want.size(), 6u);
  std::mt19937 rng(1234);
  int tried = 0;
  for (int trial = 0; trial < 50; ++trial) {
    Schedule s = create_schedule({d.op()});
    std::string plan;
    try {
      random_loop_edits(s[d], rng);
      random_loop_edits(s[c], rng);
      int c_where = std::uniform_int_distribution<int>(0, 2)(rng);
      if (c_where == 1) s[c].compute_at(s[d], random_leaf(s[d], rng));
      if (c_where == 2) s[c].compute_inline();
      random_loop_edits(s[b], rng);
      int b_where = std::uniform_int_distribution<int>(0, 2)(rng);
      if (b_where == 1) s[b].compute_inline();
      if (b_where == 2) {
        // At a loop of its reader: C, or D when C is inlined.
        Stage reader = c_where == 2 ? s[d] : s[c];
        s[b].compute_at(reader, random_leaf(reader, rng));
      }
      plan = "C " + std::to_string(c_where) + ", B " + std::to_string(b_where);
    } catch (const Error&) {
      continue;  // an illegal random step: not what this test is about
    }
    ++tried;
    Values got = run_schedule(s, d);
    ASSERT_EQ(got.size(), want.size()) << "trial " << trial << " " << plan << "\n" << loops_of(s);
    for (const auto& [idx, v] : got)
      ASSERT_NEAR(v, want.at(idx), 1e-4) << "trial " << trial << " " << plan << "\n" << loops_of(s);
  }
  EXPECT_GT(tried, 25);
}

// The primitives reject these schedules themselves; the stage state is edited directly here
// so that schedule_ops' own checks (which guard replayed or hand-built stages) are exercised.
TEST(ScheduleOps, FusingReduceWithSpatialIsAnError) {
  Tensor a = placeholder({4, 4}, DataType::float32(), "A");
  IterVar k = reduce_axis(Range(0, 4), "k");
  Tensor c = compute({4}, [&](const std::vector<Var>& i) { return sum(a(i[0], k), {k}); }, "C");
  Schedule s = create_schedule({c.op()});
  StageNode* stage = s[c].get();
  IterVar fused(Range(), Var("i.k.fused"), IterVarType::kOpaque);
  IterVarRelation rel{IterVarRelation::kFuse, IterVar(), compute_of(c)->axis[0], compute_of(c)->reduce_axis[0], fused};
  stage->relations.push_back(rel);
  stage->all_iter_vars.push_back(fused);
  stage->leaf_iter_vars = {fused};
  EXPECT_TE_ERROR(loops_of(s), "stage C", "fuses a reduction axis");
}

TEST(ScheduleOps, ComputeAtUnrelatedStageIsAnError) {
  Tensor a = placeholder({4}, DataType::float32(), "A");
  Tensor b = compute({4}, [&](const std::vector<Var>& i) { return a(i[0]) + 1.0f; }, "B");
  Tensor c = compute({4}, [&](const std::vector<Var>& i) { return a(i[0]) * 2.0f; }, "C");
  Tensor d = compute({4}, [&](const std::vector<Var>& i) { return b(i[0]) + c(i[0]); }, "D");
  Schedule s = create_schedule({d.op()});
  StageNode* stage = s[b].get();
  stage->attach_type = AttachType::kScope;
  stage->attach_stage = s[c].get();
  stage->attach_ivar = compute_of(c)->axis[0];
  EXPECT_TE_ERROR(loops_of(s), "compute_at", "stage B");
  // Attached at an axis that is not a loop of the parent.
  s[b]->attach_stage = s[d].get();
  EXPECT_TE_ERROR(loops_of(s), "compute_at", "stage B", "not a loop");
}

}  // namespace
}  // namespace te
