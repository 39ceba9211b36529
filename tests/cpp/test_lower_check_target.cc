// check_target: a loop bound to a GPU thread axis is a user error on a CPU target.
#include "lower/check_target.h"
#include "test_util.h"

namespace te {
namespace {

// for (i.outer: thread-bound or serial) C[i.outer] = A[i.outer] + 1
Stmt bound_loop(ForKind kind, Tensor* out_c) {
  Tensor a = placeholder({Expr(32)}, DataType::float32(), "A");
  Tensor c = placeholder({Expr(32)}, DataType::float32(), "C");  // stands in for a compute
  Var i("i.outer");
  Stmt store = TensorStoreNode::make(c, TensorReadNode::make(a, {i}) + 1.0f, {i});
  if (out_c) *out_c = c;
  return ForNode::make(i, Expr(0), Expr(32), kind, store, kind == ForKind::kThreadBinding ? "threadIdx.x" : "");
}

TEST(LowerCheckTarget, BindOnCpuNamesAxisStageAndThread) {
  Stmt s = bound_loop(ForKind::kThreadBinding, nullptr);
  EXPECT_TE_ERROR(check_target(s, Target::parse("llvm")), "bind", "axis i.outer", "stage C", "threadIdx.x",
                  "target llvm has no threads", "cuda");
}

TEST(LowerCheckTarget, BindInsideSerialLoopIsFound) {
  Var j("j");
  Stmt s = ForNode::make(j, Expr(0), Expr(4), ForKind::kSerial, bound_loop(ForKind::kThreadBinding, nullptr));
  EXPECT_TE_ERROR(check_target(s, Target::parse("llvm -mcpu=znver4")), "axis i.outer", "stage C");
}

TEST(LowerCheckTarget, LegalLoopsPassUnchanged) {
  for (ForKind kind : {ForKind::kSerial, ForKind::kParallel, ForKind::kVectorized, ForKind::kUnrolled}) {
    Stmt s = bound_loop(kind, nullptr);
    EXPECT_TRUE(check_target(s, Target::parse("llvm")).same_as(s));
  }
  Stmt bound = bound_loop(ForKind::kThreadBinding, nullptr);
  EXPECT_TRUE(check_target(bound, Target::parse("cuda")).same_as(bound));
}

}  // namespace
}  // namespace te
