// User mistakes through the public C++ API. Each must throw te::Error whose message names the
// offending stage/axis/argument; an InternalError, another exception or a crash is a te bug.
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdio>
#include <functional>

#include "test_util.h"

namespace te::testing {
namespace {

// EXPECT_TE_ERROR, plus a clear failure (instead of an uncaught exception) when te throws
// something other than te::Error.
#define EXPECT_USER_ERROR(stmt, ...)                                                        \
  do {                                                                                      \
    try {                                                                                   \
      EXPECT_TE_ERROR(stmt, __VA_ARGS__);                                                   \
    } catch (const ::te::InternalError& e) {                                                \
      ADD_FAILURE() << "InternalError instead of te::Error from " #stmt ": " << e.what();   \
    } catch (const std::exception& e) {                                                     \
      ADD_FAILURE() << "non-te exception from " #stmt ": " << e.what();                     \
    }                                                                                       \
  } while (0)

// C[i, j] = sum_k A[i, k] * B[k, j];  D[i, j] = C[i, j] + 1;  E = A * 2 (unrelated to D).
struct Graph {
  Tensor A = placeholder({8, 6}, DataType::float32(), "A");
  Tensor B = placeholder({6, 10}, DataType::float32(), "B");
  IterVar k = reduce_axis(Range(0, 6), "k");
  Tensor C = compute({8, 10}, [this](const std::vector<Var>& i) { return sum(A(i[0], k) * B(k, i[1]), {k}); }, "C");
  Tensor D = compute({8, 10}, [this](const std::vector<Var>& i) { return C(i[0], i[1]) + 1.0f; }, "D");
  Tensor E = compute({8, 6}, [this](const std::vector<Var>& i) { return A(i[0], i[1]) * 2.0f; }, "E");
  Schedule s = create_schedule({D.op(), E.op()});
  IterVar ci() { return s[C]->leaf_iter_vars[0]; }
  IterVar cj() { return s[C]->leaf_iter_vars[1]; }
  IterVar di() { return s[D]->leaf_iter_vars[0]; }
  IterVar dj() { return s[D]->leaf_iter_vars[1]; }
};

// C = A + 1 over a symbolic n, built once.
struct SymbolicKernel {
  Var n = var("n");
  Tensor A = placeholder({n, 4}, DataType::float32(), "A");
  Tensor B = placeholder({n}, DataType::float32(), "B");
  Tensor C = compute({n, 4}, [this](const std::vector<Var>& i) { return A(i[0], i[1]) + B(i[0]); }, "C");
  Module m = build(create_schedule({C.op()}), {A, B, C}, "llvm", "symk");
};

// ---------------------------------------------------------------- schedule primitives
TEST(E2eMisuse, SplitFactorZero) { Graph g; EXPECT_USER_ERROR(g.s[g.C].split(g.ci(), 0), "split", "stage C", ">= 1"); }
TEST(E2eMisuse, SplitFactorNegative) { Graph g; EXPECT_USER_ERROR(g.s[g.C].split(g.ci(), -4), "split", "stage C", "-4"); }
TEST(E2eMisuse, SplitNpartsZero) { Graph g; EXPECT_USER_ERROR(g.s[g.C].split_nparts(g.ci(), 0), "split_nparts", "stage C"); }
TEST(E2eMisuse, SplitOfNonLeaf) {
  Graph g;
  IterVar i = g.ci();
  g.s[g.C].split(i, 2);
  EXPECT_USER_ERROR(g.s[g.C].split(i, 2), "split", "not a leaf", "stage C");
}
TEST(E2eMisuse, SplitOfForeignAxis) { Graph g; EXPECT_USER_ERROR(g.s[g.C].split(g.di(), 2), "split", "stage C"); }
TEST(E2eMisuse, ReorderForeignAxis) { Graph g; EXPECT_USER_ERROR(g.s[g.C].reorder({g.cj(), g.di()}), "reorder", "stage C"); }
TEST(E2eMisuse, ReorderDuplicateAxis) { Graph g; EXPECT_USER_ERROR(g.s[g.C].reorder({g.cj(), g.cj()}), "reorder", "twice"); }
TEST(E2eMisuse, FuseNonAdjacent) {
  Graph g;
  EXPECT_USER_ERROR(g.s[g.C].fuse(g.ci(), g.k), "fuse", "stage C", "adjacent");
}
TEST(E2eMisuse, FuseWrongOrder) { Graph g; EXPECT_USER_ERROR(g.s[g.D].fuse(g.dj(), g.di()), "fuse", "stage D"); }
TEST(E2eMisuse, FuseAxesOfTwoStages) { Graph g; EXPECT_USER_ERROR(g.s[g.D].fuse(g.di(), g.cj()), "fuse", "stage D"); }
TEST(E2eMisuse, TileZeroFactor) { Graph g; EXPECT_USER_ERROR(g.s[g.D].tile(g.di(), g.dj(), 0, 2), "tile", "stage D"); }
TEST(E2eMisuse, ComputeAtNonConsumer) {
  Graph g;  // E does not read C
  EXPECT_USER_ERROR(g.s[g.C].compute_at(g.s[g.E], g.s[g.E]->leaf_iter_vars[0]), "compute_at", "C", "E");
}
TEST(E2eMisuse, ComputeAtAxisOfAnotherStage) {
  Graph g;
  EXPECT_USER_ERROR(g.s[g.C].compute_at(g.s[g.D], g.ci()), "compute_at", "stage D");
}
TEST(E2eMisuse, ComputeAtCycle) {
  Graph g;  // D is C's consumer; attaching D under C would be a cycle
  EXPECT_USER_ERROR(g.s[g.D].compute_at(g.s[g.C], g.ci()), "compute_at", "D");
}
TEST(E2eMisuse, ComputeInlineOfReduction) { Graph g; EXPECT_USER_ERROR(g.s[g.C].compute_inline(), "compute_inline", "C", "reduction"); }
TEST(E2eMisuse, ComputeInlineOfOutput) { Graph g; EXPECT_USER_ERROR(g.s[g.D].compute_inline(), "compute_inline", "D", "output"); }
TEST(E2eMisuse, VectorizeReductionAxis) { Graph g; EXPECT_USER_ERROR(g.s[g.C].vectorize(g.k), "vectorize", "k", "reduction"); }
TEST(E2eMisuse, ParallelReductionAxis) { Graph g; EXPECT_USER_ERROR(g.s[g.C].parallel(g.k), "parallel", "k", "reduction"); }
TEST(E2eMisuse, BindOnLlvmTargetFailsAtBuild) {
  Graph g;
  g.s[g.D].bind(g.di(), thread_axis("blockIdx.x"));
  EXPECT_USER_ERROR(build(g.s, {g.A, g.B, g.D, g.E}, "llvm", "bound"), "blockIdx.x", "llvm");
}
TEST(E2eMisuse, CacheWriteAfterSplit) {
  Graph g;
  g.s[g.C].split(g.ci(), 2);
  EXPECT_USER_ERROR(g.s.cache_write(g.C, "local"), "cache_write", "C");
}
TEST(E2eMisuse, RfactorOnSpatialAxis) { Graph g; EXPECT_USER_ERROR(g.s.rfactor(g.C, g.ci()), "rfactor", "stage C", "reduction"); }
TEST(E2eMisuse, RfactorOfNonReduction) { Graph g; EXPECT_USER_ERROR(g.s.rfactor(g.D, g.di()), "rfactor", "D"); }
TEST(E2eMisuse, ScheduleOfForeignTensor) {
  Graph g;
  Tensor X = placeholder({3}, DataType::float32(), "Stranger");
  EXPECT_USER_ERROR(g.s[X], "Stranger");
}
TEST(E2eMisuse, UndefinedAxis) { Graph g; EXPECT_USER_ERROR(g.s[g.C].vectorize(IterVar()), "vectorize", "undefined"); }

// ---------------------------------------------------------------- tensor expressions
TEST(E2eMisuse, WrongNumberOfIndices) {
  Tensor A = placeholder({4, 4}, DataType::float32(), "A");
  EXPECT_USER_ERROR(compute({4}, [&](const std::vector<Var>& i) { return A(i[0]); }, "C"), "A", "2");
}
TEST(E2eMisuse, NonIntegerIndex) {
  Tensor A = placeholder({4}, DataType::float32(), "A");
  EXPECT_USER_ERROR(compute({4}, [&](const std::vector<Var>& i) { return A(A(i[0])); }, "C"), "A", "index");
}
TEST(E2eMisuse, ReductionInsideArithmetic) {
  Tensor A = placeholder({4, 4}, DataType::float32(), "A");
  IterVar k = reduce_axis(Range(0, 4), "k");
  EXPECT_USER_ERROR(compute({4}, [&](const std::vector<Var>& i) { return sum(A(i[0], k), {k}) * 2.0f; }, "C"), "C");
}
TEST(E2eMisuse, ReduceAxisNegativeExtent) { EXPECT_USER_ERROR(reduce_axis(Range(0, -1), "rk"), "rk"); }
TEST(E2eMisuse, SpatialAxisUsedAsReduceAxis) {
  Tensor A = placeholder({4, 4}, DataType::float32(), "A");
  EXPECT_USER_ERROR(compute({4}, [&](const std::vector<Var>& i) {
    return sum(A(i[0], 0), {IterVar(Range(0, 4), i[0], IterVarType::kDataPar)});
  }, "C"), "sum");
}
TEST(E2eMisuse, UnknownDtypeString) {
  EXPECT_USER_ERROR(DataType::parse("float31"), "float31");
  EXPECT_USER_ERROR(DataType::parse("bfloat16x"), "bfloat16x");
  EXPECT_USER_ERROR(DataType::parse(""), "dtype");
}
TEST(E2eMisuse, IntegerDivisionByConstantZero) {
  Tensor A = placeholder({4}, DataType::int32(), "A");
  EXPECT_USER_ERROR(compute({4}, [&](const std::vector<Var>& i) { return A(i[0]) / 0; }, "C"), "zero");
  EXPECT_USER_ERROR(compute({4}, [&](const std::vector<Var>& i) { return A(i[0]) % 0; }, "C"), "zero");
  EXPECT_USER_ERROR(compute({4}, [&](const std::vector<Var>& i) { return floordiv(A(i[0]), 0); }, "C"), "zero");
  EXPECT_USER_ERROR(compute({4}, [&](const std::vector<Var>& i) { return floormod(A(i[0]), 0); }, "C"), "zero");
}
TEST(E2eMisuse, LogicalOpsOnFloats) {
  Tensor A = placeholder({4}, DataType::float32(), "A");
  EXPECT_USER_ERROR(A(0) && A(1), "bool");
}
TEST(E2eMisuse, SelectWithNonBoolCondition) {
  Tensor A = placeholder({4}, DataType::float32(), "A");
  EXPECT_USER_ERROR(select(A(0), A(1), A(2)), "select", "bool");
}
TEST(E2eMisuse, NegativePlaceholderShape) { EXPECT_USER_ERROR(placeholder({3, -1}, DataType::float32(), "P"), "P", "-1"); }
TEST(E2eMisuse, ComputeWithNullBody) {
  EXPECT_USER_ERROR(compute({4}, [](const std::vector<Var>&) { return Expr(); }, "Nobody"), "Nobody");
}

// ---------------------------------------------------------------- build and targets
TEST(E2eMisuse, TargetMcpuWithoutValue) { EXPECT_USER_ERROR(Target::parse("llvm -mcpu"), "-mcpu"); }
TEST(E2eMisuse, TargetUnknownOption) { EXPECT_USER_ERROR(Target::parse("llvm -foo=1"), "-foo"); }
TEST(E2eMisuse, TargetUnknownKind) { EXPECT_USER_ERROR(Target::parse("metal"), "metal"); }
TEST(E2eMisuse, TargetUnknownCpuAtBuild) {
  Graph g;
  EXPECT_USER_ERROR(build(g.s, {g.A, g.B, g.D, g.E}, "llvm -mcpu=notacpu", "k"), "notacpu");
}
TEST(E2eMisuse, BuildOmitsInputTensor) {
  Graph g;
  EXPECT_USER_ERROR(build(g.s, {g.A, g.D, g.E}, "llvm", "k"), "B");
}
TEST(E2eMisuse, BuildOmitsSecondOutputComputesTheFirst) {
  Graph g;  // E is an output of the schedule but not an argument: te allocates it internally
  Module m = build(g.s, {g.A, g.B, g.D}, "llvm", "k");
  NDArray a = random_array({8, 6}, DataType::float32(), 1), b = random_array({6, 10}, DataType::float32(), 2);
  NDArray d = NDArray::empty({8, 10});
  m({a, b, d});
  EXPECT_EQ(compare_arrays(d, evaluate_reference({g.A, g.B}, {a, b}, {g.D})[0]), "");
}
TEST(E2eMisuse, FreeSymbolicVarNotInAnyArgumentShape) {
  Var n = var("n"), m = var("m");
  Tensor A = placeholder({n}, DataType::float32(), "A");
  Tensor C = compute({n}, [&](const std::vector<Var>& i) { return A(i[0]) * cast(DataType::float32(), m); }, "C");
  EXPECT_USER_ERROR(build(create_schedule({C.op()}), {A, C}, "llvm", "k"), "m");
}
TEST(E2eMisuse, BuildDuplicateArgument) {
  Graph g;
  EXPECT_USER_ERROR(build(g.s, {g.A, g.A, g.B, g.D, g.E}, "llvm", "k"), "A");
}
// Regression test (was a bug: build() accepts a kernel name that is not a C identifier ("no spaces"); the erro ...).
TEST(E2eMisuse, BuildBadFunctionName) {
  Graph g;
  EXPECT_USER_ERROR(build(g.s, {g.A, g.B, g.D, g.E}, "llvm", "no spaces"), "no spaces");
}

// ---------------------------------------------------------------- calling a kernel
TEST(E2eMisuse, CallWrongArgumentCount) {
  SymbolicKernel k;
  NDArray a = NDArray::empty({3, 4}), b = NDArray::empty({3});
  EXPECT_USER_ERROR(k.m({a, b}), "symk", "3", "2");
}
TEST(E2eMisuse, CallWrongDtype) {
  SymbolicKernel k;
  NDArray a = NDArray::empty({3, 4}, DataType::float64()), b = NDArray::empty({3}), c = NDArray::empty({3, 4});
  EXPECT_USER_ERROR(k.m({a, b, c}), "A", "float32", "float64");
}
TEST(E2eMisuse, CallWrongShape) {
  SymbolicKernel k;
  NDArray a = NDArray::empty({3, 5}), b = NDArray::empty({3}), c = NDArray::empty({3, 4});
  EXPECT_USER_ERROR(k.m({a, b, c}), "A", "4", "5");
}
TEST(E2eMisuse, CallWrongRank) {
  SymbolicKernel k;
  NDArray a = NDArray::empty({12}), b = NDArray::empty({3}), c = NDArray::empty({3, 4});
  EXPECT_USER_ERROR(k.m({a, b, c}), "A", "dimensions");
}
TEST(E2eMisuse, CallInconsistentSymbolicSizes) {
  SymbolicKernel k;
  NDArray a = NDArray::empty({3, 4}), b = NDArray::empty({5}), c = NDArray::empty({3, 4});
  EXPECT_USER_ERROR(k.m({a, b, c}), "B", "n");
}
TEST(E2eMisuse, CallNullDataPointer) {
  SymbolicKernel k;
  NDArray a = NDArray::empty({3, 4}), b = NDArray::empty({3}), c = NDArray::empty({3, 4});
  DLTensor bad = *c.dltensor();
  bad.data = nullptr;
  EXPECT_USER_ERROR(k.m(std::vector<DLTensor*>{a.dltensor(), b.dltensor(), &bad}), "C", "null");
}
TEST(E2eMisuse, CallNullDLTensor) {
  SymbolicKernel k;
  NDArray a = NDArray::empty({3, 4}), b = NDArray::empty({3});
  EXPECT_USER_ERROR(k.m(std::vector<DLTensor*>{a.dltensor(), b.dltensor(), nullptr}), "C");
}
TEST(E2eMisuse, CallNonContiguousStrides) {
  SymbolicKernel k;
  NDArray a = NDArray::empty({4, 4}), b = NDArray::empty({4}), c = NDArray::empty({4, 4});
  DLTensor view = *a.dltensor();
  int64_t strides[] = {1, 4};
  view.strides = strides;
  EXPECT_USER_ERROR(k.m(std::vector<DLTensor*>{&view, b.dltensor(), c.dltensor()}), "A", "row-major");
}
TEST(E2eMisuse, CallWithUndefinedModule) {
  Module m;
  NDArray a = NDArray::empty({1});
  EXPECT_USER_ERROR(m({a}), "module");
}
TEST(E2eMisuse, CallNegativeSymbolicSizeDimension) {
  SymbolicKernel k;
  NDArray a = NDArray::empty({3, 4}), b = NDArray::empty({3}), c = NDArray::empty({3, 4});
  DLTensor view = *a.dltensor();
  int64_t shape[] = {-3, 4};
  view.shape = shape;
  EXPECT_USER_ERROR(k.m(std::vector<DLTensor*>{&view, b.dltensor(), c.dltensor()}), "A");
}
TEST(E2eMisuse, NDArrayNegativeShape) { EXPECT_USER_ERROR(NDArray::empty({2, -1}), "-1"); }
TEST(E2eMisuse, DLPackUnsupportedType) {
  DLDataType t{kDLComplex, 64, 1};
  EXPECT_USER_ERROR(from_dlpack(t), "dtype");
}

// ---------------------------------------------------------------- steps
TEST(E2eMisuse, MalformedStepsJson) {
  EXPECT_USER_ERROR(Schedule::steps_from_json("{not json"), "JSON");
  EXPECT_USER_ERROR(Schedule::steps_from_json("{\"primitive\": \"split\"}"), "list");
  EXPECT_USER_ERROR(Schedule::steps_from_json("[{\"stage\": 0}]"), "primitive");
  EXPECT_USER_ERROR(Schedule::steps_from_json("[{\"primitive\": 3}]"), "primitive");
}
TEST(E2eMisuse, ReplayStepsOutOfRange) {
  Graph g;
  std::vector<Step> steps(1);
  steps[0].primitive = "split";
  steps[0].stage = 42;
  steps[0].iters = {0};
  steps[0].ints = {2};
  EXPECT_USER_ERROR(Schedule::replay({g.D.op(), g.E.op()}, steps), "42");
  steps[0].stage = 2;
  steps[0].iters = {17};
  EXPECT_USER_ERROR(Schedule::replay({g.D.op(), g.E.op()}, steps), "17");
  steps[0].iters = {0};
  steps[0].primitive = "teleport";
  EXPECT_USER_ERROR(Schedule::replay({g.D.op(), g.E.op()}, steps), "teleport");
  steps[0].primitive = "split";
  steps[0].ints = {};
  EXPECT_USER_ERROR(Schedule::replay({g.D.op(), g.E.op()}, steps), "split");
}
TEST(E2eMisuse, ReplayIllegalStepFromJson) {
  Graph g;
  // A vectorize of the reduction axis recorded by hand: the replay must reject it like the
  // primitive would.
  std::string json = R"([{"p": "vectorize", "stage": 2, "iters": [2]}])";
  ASSERT_EQ(g.s.stages()[2]->op->name, "C");
  std::vector<Step> steps = Schedule::steps_from_json(json);
  EXPECT_USER_ERROR(Schedule::replay({g.D.op(), g.E.op()}, steps), "vectorize", "k", "reduction");
}

// ---------------------------------------------------------------- lowering / reference
TEST(E2eMisuse, LowerEmptyName) {
  Graph g;
  EXPECT_USER_ERROR(lower(g.s, {g.A, g.B, g.D, g.E}, ""), "name");
}
TEST(E2eMisuse, EvaluateReferenceWrongInputCount) {
  Graph g;
  NDArray a = NDArray::empty({8, 6});
  EXPECT_USER_ERROR(evaluate_reference({g.A, g.B}, {a}, {g.D}), "evaluate_reference");
}
TEST(E2eMisuse, EvaluateReferenceWrongInputShape) {
  Graph g;
  NDArray a = NDArray::empty({8, 6}), b = NDArray::empty({7, 10});
  EXPECT_USER_ERROR(evaluate_reference({g.A, g.B}, {a, b}, {g.D}), "B");
}
TEST(E2eMisuse, SaveObjectToUnwritablePath) {
  SymbolicKernel k;
  EXPECT_USER_ERROR(k.m.save_object("/nonexistent_dir_te/k.o"), "/nonexistent_dir_te/k.o");
}


// ---------------------------------------------------------------- more corners
TEST(E2eMisuse, FloatShapeVariable) {
  Var x = var("x", DataType::float32());
  EXPECT_USER_ERROR(placeholder({x}, DataType::float32(), "Pf"), "Pf");
}
TEST(E2eMisuse, CastToHandle) {
  Tensor A = placeholder({4}, DataType::float32(), "A");
  EXPECT_USER_ERROR(cast(DataType::handle(), A(0)), "handle");
}
TEST(E2eMisuse, NDArrayOfHandleDtype) { EXPECT_USER_ERROR(NDArray::empty({2}, DataType::handle()), "handle"); }
TEST(E2eMisuse, TargetUnknownFeature) {
  Graph g;
  EXPECT_USER_ERROR(build(g.s, {g.A, g.B, g.D, g.E}, "llvm -mattr=+notafeature", "k"), "notafeature");
}
TEST(E2eMisuse, ReducerIdentityOfWrongArity) {
  Tensor A = placeholder({4, 4}, DataType::float32(), "A");
  Reducer bad([](const std::vector<Expr>& l, const std::vector<Expr>& r) { return std::vector<Expr>{l[0] + r[0]}; },
              [](const std::vector<DataType>&) { return std::vector<Expr>{}; }, "noident");
  IterVar k = reduce_axis(Range(0, 4), "k");
  EXPECT_USER_ERROR(compute({4}, [&](const std::vector<Var>& i) { return bad(A(i[0], k), {k}); }, "C"), "noident");
}
TEST(E2eMisuse, ComputeAtThenInlineOfSameStage) {
  Graph g;
  Tensor F = compute({8, 10}, [&](const std::vector<Var>& i) { return g.D(i[0], i[1]) * 3.0f; }, "F");
  Schedule s = create_schedule({F.op()});
  s[g.D].compute_at(s[F], s[F]->leaf_iter_vars[0]);
  s[g.D].compute_inline();  // the later primitive wins, as in TVM
  Module m = build(s, {g.A, g.B, F}, "llvm", "k");
  NDArray a = random_array({8, 6}, DataType::float32(), 1), b = random_array({6, 10}, DataType::float32(), 2);
  NDArray f = NDArray::empty({8, 10});
  m({a, b, f});
  EXPECT_EQ(compare_arrays(f, evaluate_reference({g.A, g.B}, {a, b}, {F})[0]), "");
}
TEST(E2eMisuse, VectorizeSymbolicExtentDoesNotAbort) {
  Var n = var("n");
  Tensor A = placeholder({n}, DataType::float32(), "A");
  Tensor C = compute({n}, [&](const std::vector<Var>& i) { return A(i[0]) + 1.0f; }, "C");
  Schedule s = create_schedule({C.op()});
  s[C].vectorize(s[C]->leaf_iter_vars[0]);
  s[C].unroll(s[C]->leaf_iter_vars[0]);
  try {  // te::Error or a working (scalarized) kernel are both fine
    Module m = build(s, {A, C}, "llvm", "k");
    NDArray a = random_array({5}, DataType::float32(), 1), c = NDArray::empty({5});
    m({a, c});
    EXPECT_EQ(c.data_as<float>()[3], a.data_as<float>()[3] + 1.0f);
  } catch (const Error&) {
  }
}
TEST(E2eMisuse, ZeroSizedTensorRuns) {
  Var n = var("n");
  Tensor A = placeholder({n}, DataType::float32(), "A");
  Tensor C = compute({n}, [&](const std::vector<Var>& i) { return A(i[0]) + 1.0f; }, "C");
  Schedule s = create_schedule({C.op()});
  auto [o, in] = s[C].split(s[C]->leaf_iter_vars[0], 8);
  s[C].vectorize(in);
  Module m = build(s, {A, C}, "llvm", "k");
  NDArray a = NDArray::empty({0}), c = NDArray::empty({0});
  m({a, c});  // nothing to do; must not crash
}
TEST(E2eMisuse, StepsJsonWrongFieldTypes) {
  // The recorded form is {"p": "split", "stage": 1, "iters": [0], "ints": [2]}.
  EXPECT_USER_ERROR(Schedule::steps_from_json(R"([{"p": "split", "stage": "x", "iters": [0], "ints": [2]}])"), "stage");
  EXPECT_USER_ERROR(Schedule::steps_from_json(R"([{"p": "split", "stage": 1, "iters": "0", "ints": [2]}])"), "iters");
  EXPECT_USER_ERROR(Schedule::steps_from_json(R"([{"p": "split", "stage": 1, "iters": [0], "ints": [2.5]}])"), "ints");
  EXPECT_USER_ERROR(Schedule::steps_from_json(R"([{"p": "split", "stage": 1, "iters": [1e30], "ints": [2]}])"), "iters");
}
TEST(E2eMisuse, TimeEvaluatorBadCounts) {
  SymbolicKernel k;
  NDArray a = NDArray::empty({3, 4}), b = NDArray::empty({3}), c = NDArray::empty({3, 4});
  EXPECT_USER_ERROR(k.m.time_evaluator({a, b, c}, 0, 3), "number");
  EXPECT_USER_ERROR(k.m.time_evaluator({a, b, c}, 1, 0), "repeat");
}
TEST(E2eMisuse, UndefinedModuleSource) {
  Module m;
  EXPECT_USER_ERROR(m.get_source("ll"), "module");
  SymbolicKernel k;
  EXPECT_USER_ERROR(k.m.get_source("pdf"), "pdf");
}
TEST(E2eMisuse, EvaluateReferenceInconsistentSymbolicSizes) {
  SymbolicKernel k;
  NDArray a = NDArray::empty({3, 4}), b = NDArray::empty({5});
  EXPECT_USER_ERROR(evaluate_reference({k.A, k.B}, {a, b}, {k.C}), "n");
}



// Regression test (was a bug: split / split_nparts with a factor >= 2^31 wraps silently (int32 loop bounds): t ...).
TEST(E2eMisuse, HugeSplitFactorAndNparts) {
  for (int variant = 0; variant < 4; ++variant) {
    SCOPED_TRACE(variant);
    int64_t factor = int64_t(1) << (variant < 2 ? 31 : 62);
    Tensor A = placeholder({10}, DataType::float32(), "A");
    Tensor C = compute({10}, [&](const std::vector<Var>& i) { return A(i[0]) + 1.0f; }, "C");
    Schedule s = create_schedule({C.op()});
    try {
      if (variant % 2 == 0) s[C].split(s[C]->leaf_iter_vars[0], factor);
      else s[C].split_nparts(s[C]->leaf_iter_vars[0], factor);
      Module m = build(s, {A, C}, "llvm", "huge");
      NDArray a = random_array({10}, DataType::float32(), 1), c = NDArray::empty({10});
      c.fill_poison();
      m({a, c});
      for (int i = 0; i < 10; ++i) EXPECT_EQ(c.data_as<float>()[i], a.data_as<float>()[i] + 1.0f) << i;
    } catch (const Error&) {  // rejecting a factor beyond the index type is fine too
    } catch (const std::exception& e) {
      ADD_FAILURE() << "non-te exception: " << e.what();
    }
  }
}
TEST(E2eMisuse, TargetStringRoundTrip) {
  Target t = Target::parse("llvm -mcpu=znver4 -mattr=+avx512f");
  EXPECT_EQ(t.mcpu, "znver4");
  EXPECT_EQ(Target::parse(t.str()).str(), t.str());
  EXPECT_USER_ERROR(Target::parse(""), "target");
  EXPECT_USER_ERROR(Target::parse("llvm -mcpu="), "-mcpu");
}


TEST(E2eMisuse, StageOfAnotherSchedule) {
  Graph g, h;
  EXPECT_USER_ERROR(g.s[g.C].compute_at(h.s[h.D], h.di()), "compute_at");
  Schedule other = create_schedule({g.D.op()});
  EXPECT_USER_ERROR(g.s[g.C].compute_at(other[g.D], other[g.D]->leaf_iter_vars[0]), "compute_at", "schedule");
}
TEST(E2eMisuse, ReduceAxisSharedByTwoComputes) {
  // One reduce_axis used by two ops: each stage must treat it as its own axis (splitting it
  // in one stage must not affect the other).
  Tensor A = placeholder({4, 9}, DataType::float32(), "A");
  IterVar k = reduce_axis(Range(0, 9), "k");
  Tensor S = compute({4}, [&](const std::vector<Var>& i) { return sum(A(i[0], k), {k}); }, "S");
  Tensor M = compute({4}, [&](const std::vector<Var>& i) { return max(A(i[0], k), std::vector<IterVar>{k}); }, "M");
  Schedule s = create_schedule({S.op(), M.op()});
  try {
    s[S].split(k, 4);
    s[M].split(k, 2);
    Module m = build(s, {A, S, M}, "llvm", "sharedk");
    NDArray a = random_array({4, 9}, DataType::float32(), 1), sv = NDArray::empty({4}), mv = NDArray::empty({4});
    m({a, sv, mv});
    auto ref = evaluate_reference({A}, {a}, {S, M});
    EXPECT_EQ(compare_arrays(sv, ref[0]), "");
    EXPECT_EQ(compare_arrays(mv, ref[1]), "");
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("k"), std::string::npos) << e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "non-te exception: " << e.what();
  }
}
TEST(E2eMisuse, OldAxesAfterCacheWrite) {
  Graph g;
  IterVar old_i = g.ci();
  g.s.cache_write(g.C, "local");
  try {  // the old axis either still names C's loop or is rejected clearly
    g.s[g.C].split(old_i, 2);
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("C"), std::string::npos) << e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "non-te exception: " << e.what();
  }
}

// Runs fn in a forked child; returns the signal that killed it (0 when it exited normally).
int signal_of_child(const std::function<void()>& fn) {
  fflush(nullptr);
  pid_t child = fork();
  if (child == 0) {
    try {
      fn();
    } catch (...) {
    }
    _exit(0);
  }
  int status = 0;
  waitpid(child, &status, 0);
  return WIFSIGNALED(status) ? WTERMSIG(status) : 0;
}

TEST(E2eMisuse, ReferenceInterpreterDivisionByRuntimeZero) {
  Tensor A = placeholder({2}, DataType::int32(), "A"), B = placeholder({2}, DataType::int32(), "B");
  Tensor C = compute({2}, [&](const std::vector<Var>& i) { return A(i[0]) / B(i[0]); }, "C");
  NDArray a = random_array({2}, DataType::int32(), 1), b = NDArray::empty({2}, DataType::int32());
  b.data_as<int32_t>()[0] = 0;
  b.data_as<int32_t>()[1] = 0;
  EXPECT_EQ(signal_of_child([&] { evaluate_reference({A, B}, {a, b}, {C}); }), 0);
}

// An integer division by a zero that only shows up in the data must not trap (x86 idiv raises
// SIGFPE); te/ir.h defines x / 0 == x % 0 == 0. Run in a child process so a trap is observed
// instead of killing the test binary.
TEST(E2eMisuse, RuntimeIntegerDivisionByZeroDoesNotKillTheProcess) {
  Tensor A = placeholder({4}, DataType::int32(), "A"), B = placeholder({4}, DataType::int32(), "B");
  Tensor C = compute({4}, [&](const std::vector<Var>& i) { return A(i[0]) / B(i[0]) + A(i[0]) % B(i[0]); }, "C");
  Module m = build(create_schedule({C.op()}), {A, B, C}, "llvm", "divzero");
  NDArray a = random_array({4}, DataType::int32(), 1), b = NDArray::empty({4}, DataType::int32());
  NDArray c = NDArray::empty({4}, DataType::int32());
  for (int i = 0; i < 4; ++i) b.data_as<int32_t>()[i] = i % 2;  // zeros at 0 and 2
  fflush(nullptr);
  pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    try {
      m({a, b, c});
    } catch (...) {
    }
    _exit(0);
  }
  int status = 0;
  waitpid(child, &status, 0);
  EXPECT_TRUE(WIFEXITED(status)) << "kernel killed by signal " << (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

}  // namespace
}  // namespace te::testing
