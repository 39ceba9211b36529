// Visitor / mutator defaults, post_order_visit, substitute, uses_var.
#include "te/ir_functor.h"
#include "test_util.h"

namespace te {
namespace {

// A loop nest touching most statement kinds:
//   allocate T[8] { for i in [0, n): { T[i] = A[i] * 2; if (i < 4) B[i] = T[i] + x } }
struct Sample {
  Var n{"n"}, i{"i"}, x{"x", DataType::float32()};
  Var a{"A", DataType::handle()}, b{"B", DataType::handle()}, t{"T", DataType::handle()};
  Stmt stmt;
  Sample() {
    Stmt store_t = StoreNode::make(t, LoadNode::make(DataType::float32(), a, i) * 2.0f, i);
    Stmt store_b = StoreNode::make(b, LoadNode::make(DataType::float32(), t, i) + x, i);
    Stmt loop = ForNode::make(i, Expr(0), n, ForKind::kSerial,
                              SeqNode::make({store_t, IfThenElseNode::make(i < 4, store_b)}));
    stmt = AllocateNode::make(t, DataType::float32(), {Expr(8)}, "local", loop);
  }
};

class IdentityMutator : public IRMutator {};

TEST(IrFunctor, MutatorReturnsSameNodeWhenNothingChanges) {
  Sample s;
  IdentityMutator m;
  EXPECT_TRUE(m.mutate(s.stmt).same_as(s.stmt));
  Expr e = select(s.i < 3, exp(s.x), s.x + 1.0f);
  EXPECT_TRUE(m.mutate(e).same_as(e));
}

// Rewrites every float constant 2 into 3: only the path to the changed node is rebuilt.
class TwoToThree : public IRMutator {
 protected:
  Expr mutate_node(const FloatImmNode* op, const Expr& self) override {
    return op->value == 2.0 ? make_const(op->dtype, 3.0) : self;
  }
};

TEST(IrFunctor, MutatorRebuildsOnlyChangedPaths) {
  Sample s;
  Stmt out = TwoToThree().mutate(s.stmt);
  ASSERT_FALSE(out.same_as(s.stmt));
  const auto* alloc = out.as<AllocateNode>();
  ASSERT_TRUE(alloc);
  const auto* loop = alloc->body.as<ForNode>();
  ASSERT_TRUE(loop);
  const auto* seq = loop->body.as<SeqNode>();
  ASSERT_TRUE(seq);
  const auto* old_seq = s.stmt.as<AllocateNode>()->body.as<ForNode>()->body.as<SeqNode>();
  EXPECT_FALSE(seq->seq[0].same_as(old_seq->seq[0]));
  EXPECT_TRUE(seq->seq[1].same_as(old_seq->seq[1]));  // the if-branch had no 2
  bool found_three = false;
  post_order_visit(out, [&](const Expr& e) {
    if (const auto* f = e.as<FloatImmNode>()) found_three |= f->value == 3.0;
  });
  EXPECT_TRUE(found_three);
}

TEST(IrFunctor, PostOrderVisitsChildrenFirst) {
  Var i("i"), j("j");
  Expr e = i * 4 + j;
  std::vector<std::string> order;
  post_order_visit(e, [&](const Expr& x) { order.push_back(kind_name(x->kind)); });
  EXPECT_EQ(order, (std::vector<std::string>{"Var", "IntImm", "Mul", "Var", "Add"}));

  Sample s;
  int stores = 0, loads = 0;
  std::vector<std::string> stmts;
  post_order_visit(
      s.stmt, [&](const Expr& x) { loads += x.as<LoadNode>() != nullptr; },
      [&](const Stmt& st) {
        stores += st.as<StoreNode>() != nullptr;
        stmts.push_back(kind_name(st->kind));
      });
  EXPECT_EQ(stores, 2);
  EXPECT_EQ(loads, 2);
  EXPECT_EQ(stmts.back(), "Allocate");
  EXPECT_EQ(stmts.front(), "Store");
}

TEST(IrFunctor, SubstituteReplacesUses) {
  Sample s;
  Var m("m");
  Stmt out = substitute(s.stmt, {{s.n.get(), m * 2}, {s.x.get(), Expr(1.5f)}});
  bool uses_n = false, uses_m = false, uses_x = false;
  post_order_visit(out, [&](const Expr& e) {
    uses_n |= e.get() == s.n.get();
    uses_m |= e.get() == m.get();
    uses_x |= e.get() == s.x.get();
  });
  EXPECT_FALSE(uses_n);
  EXPECT_TRUE(uses_m);
  EXPECT_FALSE(uses_x);
  // An empty map, or a map of unused variables, changes nothing.
  EXPECT_TRUE(substitute(s.stmt, {}).same_as(s.stmt));
  Var unused("unused");
  EXPECT_TRUE(substitute(s.stmt, {{unused.get(), Expr(1)}}).same_as(s.stmt));
}

TEST(IrFunctor, SubstituteRenamesBuffers) {
  Sample s;
  Var a2("A2", DataType::handle());
  Stmt out = substitute(s.stmt, {{s.a.get(), a2}});
  bool reads_a2 = false;
  post_order_visit(out, [&](const Expr& e) {
    if (const auto* load = e.as<LoadNode>()) reads_a2 |= load->buffer.same_as(a2);
  });
  EXPECT_TRUE(reads_a2);
}

TEST(IrFunctor, SubstituteInsideReduce) {
  Var n("n");
  IterVar k(Range(Expr(0), n), Var("k"), IterVarType::kCommReduce);
  Var l("l", DataType::float32()), r("r", DataType::float32());
  CommReducer add = CommReducer::make({l}, {r}, {AddNode::make(l, r)}, {Expr(0.0f)});
  Expr red = ReduceNode::make(add, {cast(DataType::float32(), k.var())}, {k}, Expr(), 0);
  Expr out = substitute(red, {{n.get(), Expr(16)}});
  const auto* rn = out.as<ReduceNode>();
  ASSERT_TRUE(rn);
  EXPECT_TRUE(is_const_int(rn->axis[0].dom().extent, 16));
  EXPECT_TRUE(rn->axis[0].var().same_as(k.var()));  // the axis keeps its variable
}

TEST(IrFunctor, UsesVar) {
  Var i("i"), j("j");
  Expr e = i * 4 + 1;
  EXPECT_TRUE(uses_var(e, [&](const VarNode* v) { return v == i.get(); }));
  EXPECT_FALSE(uses_var(e, [&](const VarNode* v) { return v == j.get(); }));
  EXPECT_TRUE(uses_var(e, nullptr));
  EXPECT_FALSE(uses_var(Expr(3) + 4, nullptr));
}

// A visitor that counts the nodes of each kind, to check every child is reached.
class Counter : public IRVisitor {
 public:
  int vars = 0;
  void visit_node(const VarNode* op) override { ++vars; }
};

TEST(IrFunctor, VisitorReachesEveryChild) {
  Var i("i"), j("j"), k("k");
  Expr e = select(i < j, cast(DataType::float32(), k), if_then_else(j > 0, exp(cast(DataType::float32(), i)), 1.0f));
  Counter c;
  c.visit(e);
  EXPECT_EQ(c.vars, 5);  // i<j (2), k (1), j>0 (1), exp's i (1)
}

}  // namespace
}  // namespace te
