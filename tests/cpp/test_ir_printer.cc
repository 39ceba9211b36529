// The text format of te.lower(): loop nests, statements, minimal parentheses.
#include "test_util.h"

namespace te {
namespace {

TEST(IrPrinter, LoopNest) {
  Var io("i.outer"), j("j"), a("A", DataType::handle()), c("C", DataType::handle());
  Expr idx = io * 32 + j;
  Stmt store = StoreNode::make(c, LoadNode::make(DataType::float32(), a, idx) * 2.0f, idx);
  Stmt nest = ForNode::make(io, Expr(0), Expr(32), ForKind::kParallel,
                            ForNode::make(j, Expr(0), Expr(1024), ForKind::kVectorized, store));
  EXPECT_EQ(to_string(nest),
            "for (i.outer, 0, 32) parallel {\n"
            "  for (j, 0, 1024) vectorized {\n"
            "    C[i.outer*32 + j] = A[i.outer*32 + j]*2.0f\n"
            "  }\n"
            "}\n");
}

TEST(IrPrinter, Statements) {
  Var i("i"), t("T", DataType::handle());
  Stmt body = StoreNode::make(t, Expr(1.0f), i);
  Stmt ite = IfThenElseNode::make(i < 4, body, EvaluateNode::make(Expr(0)));
  Stmt s = AllocateNode::make(t, DataType::float32(), {Expr(8)}, "local",
                              AttrStmtNode::make("pragma_unroll", Expr(1), ite));
  std::string text = to_string(s);
  EXPECT_NE(text.find("allocate T[float32 * 8], local"), std::string::npos) << text;
  EXPECT_NE(text.find("pragma_unroll"), std::string::npos) << text;
  EXPECT_NE(text.find("if (i < 4) {\n  T[i] = 1.0f\n} else {\n  0\n}\n"), std::string::npos) << text;
  Stmt let = LetStmtNode::make(Var("v"), i + 1, EvaluateNode::make(Expr(0)));
  EXPECT_NE(to_string(let).find("let v = i + 1"), std::string::npos) << to_string(let);
  Stmt thread = ForNode::make(i, Expr(0), Expr(64), ForKind::kThreadBinding, body, "threadIdx.x");
  EXPECT_NE(to_string(thread).find("threadIdx.x"), std::string::npos) << to_string(thread);
}

TEST(IrPrinter, MinimalParentheses) {
  Var a("a"), b("b"), c("c");
  EXPECT_EQ(to_string((a + b) * c), "(a + b)*c");
  EXPECT_EQ(to_string(a + b * c), "a + b*c");
  EXPECT_EQ(to_string(a - (b - c)), "a - (b - c)");
  EXPECT_EQ(to_string(a - b - c), "a - b - c");
  EXPECT_EQ(to_string(a / (b * c)), "a/(b*c)");
  EXPECT_EQ(to_string(floordiv(a, 4) % 3), "floordiv(a, 4) % 3");
  EXPECT_EQ(to_string(!(a < b)), "!(a < b)");
  EXPECT_EQ(to_string((a < b || b < c) && c > 0), "(a < b || b < c) && c > 0");
}

TEST(IrPrinter, ConstantsAndVectors) {
  Var a("a");
  EXPECT_EQ(to_string(Expr(3)), "3");
  EXPECT_EQ(to_string(Expr(int64_t(3))), "3i64");
  EXPECT_EQ(to_string(RampNode::make(a, Expr(1), 8)), "ramp(a, 1, 8)");
  EXPECT_EQ(to_string(BroadcastNode::make(Expr(2.5f), 4)), "x4(2.5f)");
  EXPECT_NE(to_string(cast(DataType::float16(), a)).find("float16"), std::string::npos);
  EXPECT_EQ(to_string(exp(Var("x", DataType::float32()))), "exp(x)");
}

TEST(IrPrinter, TensorLevelNodes) {
  Tensor t = placeholder({Expr(4), Expr(5)}, DataType::float32(), "A");
  Var i("i"), j("j");
  EXPECT_EQ(to_string(t(i, j + 1)), "A[i, j + 1]");
  std::ostringstream os;
  os << TensorStoreNode::make(t, Expr(0.0f), {i, j});
  EXPECT_EQ(os.str(), "A[i, j] = 0.0f\n");
}

}  // namespace
}  // namespace te
