// A heap buffer (an allocation over kMaxStackAllocBytes, e.g. a packed GEMM
// panel) is declared to LLVM as what it is: te_runtime_alloc returns fresh
// (noalias) 64-byte-aligned memory and te_runtime_free keeps no copy of the
// pointer (nocapture). Without that, the buffer "escapes" into the free call
// and LLVM must assume it may alias every pointer a parallel body loads from
// its closure; found in a guard-free copy of a GEMM k loop whose output
// accumulators then stayed in memory (24 vector stores per k step, 3.5x
// slower).
#include "test_codegen_util.h"

namespace te::testing {
namespace {

constexpr int kLanes = 16, kSteps = 1250, kPanel = kLanes * kSteps;  // 80 KB: on the heap

// for o in [0, 2) parallel:
//   allocate P[kPanel] (heap);  P[i] = In[o * kPanel + i]
//   Out[o*16 : +16] = 0;  for k: Out[o*16 : +16] += P[k*16 : +16]
Module accumulate_from_heap_panel() {
  auto In = buffer_arg("In", DataType::float32(), {Expr(2 * kPanel)});
  auto Out = buffer_arg("Out", DataType::float32(), {Expr(2 * kLanes)});
  BufferArg panel = buffer_arg("P", DataType::float32(), {Expr(kPanel)});
  Var o("o"), i("i"), k("k");
  Stmt fill = loop(i, kPanel, store(panel, load(In, o * kPanel + i), i));
  Expr acc = ramp(o * kLanes, kLanes);
  Stmt zero = store(Out, BroadcastNode::make(Expr(0.0f), kLanes), acc);
  Stmt sum = loop(k, kSteps, store(Out, load(Out, acc) + load(panel, ramp(k * kLanes, kLanes)), acc));
  Stmt body =
      AllocateNode::make(panel.data, DataType::float32(), {Expr(kPanel)}, "global", SeqNode::make({fill, zero, sum}));
  return compile(make_func("heap_panel", {In, Out}, loop(o, 2, body, ForKind::kParallel)));
}

TEST(CodegenHeapAlias, HeapBuffersAreNoaliasAndFreeDoesNotCaptureThem) {
  Module m = accumulate_from_heap_panel();
  const std::string ll = m.get_source("ll");
  EXPECT_NE(ll.find("noalias align 64 ptr @te_runtime_alloc("), std::string::npos) << ll;
  EXPECT_NE(ll.find("declare void @te_runtime_free(ptr nocapture"), std::string::npos) << ll;

  NDArray in = random_array({2 * kPanel}, DataType::float32(), 5),
          out = NDArray::empty({2 * kLanes}, DataType::float32());
  out.fill_poison();
  m({in, out});
  for (int o = 0; o < 2; ++o)
    for (int l = 0; l < kLanes; ++l) {
      float expected = 0;
      for (int k = 0; k < kSteps; ++k) expected += in.data_as<float>()[o * kPanel + k * kLanes + l];
      EXPECT_NEAR(out.data_as<float>()[o * kLanes + l], expected, 1e-3f * kSteps) << "o " << o << " lane " << l;
    }
}

}  // namespace
}  // namespace te::testing
