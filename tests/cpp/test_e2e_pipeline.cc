// End to end through the public API: symbolic shapes, user reducers, reductions with a
// where-condition, multi-stage pipelines with compute_at, pragma/unroll, step replay, the
// printed IR, TE_DEBUG_LOWER, and the AOT outputs (object file, shared library + dlopen).
#include <dlfcn.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include "test_util.h"

namespace te::testing {
namespace {

std::string temp_file(const std::string& name) {
  return (std::filesystem::temp_directory_path() / ("te_e2e_" + std::to_string(getpid()) + "_" + name)).string();
}

NDArray call(const Module& m, std::vector<NDArray> inputs, const std::vector<int64_t>& out_shape,
             DataType t = DataType::float32()) {
  NDArray out = NDArray::empty(out_shape, t);
  out.fill_poison();
  inputs.push_back(out);
  m(inputs);
  return out;
}

TEST(E2ePipeline, SymbolicShapeKernelCalledAtThreeSizes) {
  Var n = var("n");
  Tensor A = placeholder({n}, DataType::float32(), "A"), B = placeholder({n}, DataType::float32(), "B");
  Tensor C = compute({n}, [&](const std::vector<Var>& i) { return A(i[0]) * 2.0f + B(i[0]); }, "C");
  Schedule sch = create_schedule({C.op()});
  auto [o, in] = sch[C].split(sch[C]->leaf_iter_vars[0], 8);
  sch[C].vectorize(in);
  sch[C].parallel(o);
  Module m = build(sch, {A, B, C}, "llvm", "sym_add");
  ASSERT_EQ(m.func().size_vars.size(), 1u);
  for (int64_t size : {1, 17, 1000}) {
    NDArray a = random_array({size}, DataType::float32(), 1), b = random_array({size}, DataType::float32(), 2);
    NDArray c = call(m, {a, b}, {size});
    for (int64_t i = 0; i < size; ++i)
      ASSERT_EQ(c.data_as<float>()[i], a.data_as<float>()[i] * 2.0f + b.data_as<float>()[i]) << size << " " << i;
    EXPECT_EQ(compare_arrays(c, evaluate_reference({A, B}, {a, b}, {C})[0]), "");
  }
}

TEST(E2ePipeline, SymbolicVarSharedByTwoArguments) {
  Var n = var("n"), k = var("k");
  Tensor A = placeholder({n, k}, DataType::float32(), "A"), W = placeholder({k}, DataType::float32(), "W");
  IterVar r = reduce_axis(Range(0, k), "r");
  Tensor Y = compute({n}, [&](const std::vector<Var>& i) { return sum(A(i[0], r) * W(r), {r}); }, "Y");
  Schedule sch = create_schedule({Y.op()});
  Module m = build(sch, {A, W, Y}, "llvm", "matvec");
  for (auto [rows, cols] : {std::pair<int64_t, int64_t>{3, 5}, {9, 1}, {4, 33}}) {
    NDArray a = random_array({rows, cols}, DataType::float32(), 5), w = random_array({cols}, DataType::float32(), 6);
    NDArray y = call(m, {a, w}, {rows});
    for (int64_t i = 0; i < rows; ++i) {
      double want = 0;
      for (int64_t j = 0; j < cols; ++j) want += a.data_as<float>()[i * cols + j] * w.data_as<float>()[j];
      EXPECT_NEAR(y.data_as<float>()[i], want, 1e-5) << rows << "x" << cols;
    }
  }
  NDArray a = random_array({3, 5}, DataType::float32(), 5), w_bad = random_array({4}, DataType::float32(), 6);
  NDArray y = NDArray::empty({3});
  EXPECT_TE_ERROR(m({a, w_bad, y}), "W", "k");
}

Reducer make_argmax() {
  return Reducer(
      [](const std::vector<Expr>& lhs, const std::vector<Expr>& rhs) {
        Expr take_rhs = rhs[1] > lhs[1] || (rhs[1] == lhs[1] && rhs[0] < lhs[0]);
        return std::vector<Expr>{select(take_rhs, rhs[0], lhs[0]), select(take_rhs, rhs[1], lhs[1])};
      },
      [](const std::vector<DataType>& t) { return std::vector<Expr>{make_const(t[0], -1), min_value(t[1])}; },
      "argmax");
}

TEST(E2ePipeline, ArgmaxUserReducerWithSplitReduction) {
  const int N = 7, K = 45;
  Tensor A = placeholder({N, K}, DataType::float32(), "A");
  Reducer argmax = make_argmax();
  // rfactor of a multi-valued reducer is a documented limitation ("not supported yet"), so
  // only the plain and the split reduction are run here.
  for (int variant = 0; variant < 2; ++variant) {
    SCOPED_TRACE(variant);
    IterVar k = reduce_axis(Range(0, K), "k");
    std::vector<Tensor> outs = compute_multi({N}, [&](const std::vector<Var>& i) {
      return argmax({Expr(k), A(i[0], k)}, {k});
    }, "argmax");
    Schedule sch = create_schedule({outs[0].op()});
    if (variant >= 1) {
      auto [ko, ki] = sch[outs[0]].split(k, 8);
      sch[outs[0]].reorder({ki, ko});
    }
    Module m = build(sch, {A, outs[0], outs[1]}, "llvm", "argmax");
    NDArray a = random_array({N, K}, DataType::float32(), 11);
    NDArray idx = NDArray::empty({N}, DataType::int32()), val = NDArray::empty({N});
    m({a, idx, val});
    for (int i = 0; i < N; ++i) {
      const float* row = a.data_as<float>() + i * K;
      int best = int(std::max_element(row, row + K) - row);
      EXPECT_EQ(idx.data_as<int32_t>()[i], best) << "row " << i;
      EXPECT_EQ(val.data_as<float>()[i], row[best]);
    }
  }
}

TEST(E2ePipeline, SumOfSquaresTwoValuedReducer) {
  const int N = 5, K = 23;
  Tensor A = placeholder({N, K}, DataType::float32(), "A");
  Reducer sum_and_squares(
      [](const std::vector<Expr>& lhs, const std::vector<Expr>& rhs) {
        return std::vector<Expr>{lhs[0] + rhs[0], lhs[1] + rhs[1]};
      },
      [](const std::vector<DataType>& t) { return std::vector<Expr>{make_zero(t[0]), make_zero(t[1])}; }, "sumsq");
  IterVar k = reduce_axis(Range(0, K), "k");
  std::vector<Tensor> outs = compute_multi({N}, [&](const std::vector<Var>& i) {
    Expr x = A(i[0], k);
    return sum_and_squares({x, x * x}, {k});
  }, "stats");
  // Variance from the two sums: a consumer stage of both outputs.
  Tensor V = compute({N}, [&](const std::vector<Var>& i) {
    return outs[1](i[0]) / float(K) - (outs[0](i[0]) / float(K)) * (outs[0](i[0]) / float(K));
  }, "V");
  Schedule sch = create_schedule({V.op()});
  auto [ko, ki] = sch[outs[0]].split(k, 4);
  sch[outs[0]].compute_at(sch[V], sch[V]->leaf_iter_vars[0]);
  Module m = build(sch, {A, V}, "llvm", "variance");
  NDArray a = random_array({N, K}, DataType::float32(), 21);
  NDArray v = call(m, {a}, {N});
  for (int i = 0; i < N; ++i) {
    double s = 0, s2 = 0;
    for (int j = 0; j < K; ++j) s += a.data_as<float>()[i * K + j], s2 += std::pow(a.data_as<float>()[i * K + j], 2);
    EXPECT_NEAR(v.data_as<float>()[i], s2 / K - (s / K) * (s / K), 1e-5) << i;
  }
  EXPECT_EQ(compare_arrays(v, evaluate_reference({A}, {a}, {V})[0]), "");
}

TEST(E2ePipeline, ReductionWithWhereCondition) {
  const int N = 9;
  Tensor A = placeholder({N, N}, DataType::float32(), "A");
  IterVar k = reduce_axis(Range(0, N), "k");
  // Lower-triangular row sums of the positive entries only.
  Tensor S = compute({N}, [&](const std::vector<Var>& i) {
    return sum(A(i[0], k), {k}, k <= i[0] && A(i[0], k) > 0.0f);
  }, "S");
  IterVar k2 = reduce_axis(Range(0, N), "k2");
  Tensor M = compute({N}, [&](const std::vector<Var>& i) { return max(A(i[0], k2), std::vector<IterVar>{k2}, k2 > i[0]); }, "M");
  Schedule sch = create_schedule({S.op(), M.op()});
  auto [ko, ki] = sch[S].split(k, 4);
  sch[S].reorder({ki, ko});
  Module m = build(sch, {A, S, M}, "llvm", "where");
  NDArray a = random_array({N, N}, DataType::float32(), 4);
  NDArray s = NDArray::empty({N}), mx = NDArray::empty({N});
  m({a, s, mx});
  auto ref = evaluate_reference({A}, {a}, {S, M});
  for (int i = 0; i < N; ++i) {
    double want = 0, want_max = -INFINITY;
    for (int j = 0; j < N; ++j) {
      float x = a.data_as<float>()[i * N + j];
      if (j <= i && x > 0) want += x;
      if (j > i) want_max = std::max(want_max, double(x));
    }
    EXPECT_NEAR(s.data_as<float>()[i], want, 1e-5) << i;
    if (i < N - 1) EXPECT_EQ(mx.data_as<float>()[i], want_max) << i;
    // Last row: empty reduction gives the identity (lowest float).
    else EXPECT_EQ(mx.data_as<float>()[i], ref[1].data_as<float>()[i]);
  }
  EXPECT_EQ(compare_arrays(s, ref[0]), "");
}

// A → B → C → E → D with E inlined, C attached at each of D's tile loops and B inside C.
TEST(E2ePipeline, ThreeStageChainComputeAtDifferentLevels) {
  const int H = 19, W = 23;
  Tensor A = placeholder({H, W}, DataType::float32(), "A");
  Tensor B = compute({H, W}, [&](const std::vector<Var>& i) { return A(i[0], i[1]) * 2.0f; }, "B");
  Tensor C = compute({H, W - 1}, [&](const std::vector<Var>& i) { return B(i[0], i[1]) + B(i[0], i[1] + 1); }, "C");
  Tensor E = compute({H, W - 1}, [&](const std::vector<Var>& i) { return C(i[0], i[1]) - 1.0f; }, "E");
  Tensor D = compute({H - 1, W - 1}, [&](const std::vector<Var>& i) { return E(i[0], i[1]) * E(i[0] + 1, i[1]); }, "D");
  NDArray a = random_array({H, W}, DataType::float32(), 8);
  NDArray ref = evaluate_reference({A}, {a}, {D})[0];
  for (int variant = 0; variant < 4; ++variant) {
    SCOPED_TRACE(variant);
    Schedule sch = create_schedule({D.op()});
    IterVar y = sch[D]->leaf_iter_vars[0], x = sch[D]->leaf_iter_vars[1];  // copies: see TileOfAliasedLeaves
    auto tiles = sch[D].tile(y, x, 4, 5);
    sch[E].compute_inline();
    // compute_at only attaches to a direct consumer: B under C, C under D (E is inlined).
    if (variant <= 2) {
      sch[C].compute_at(sch[D], tiles[variant]);
      sch[B].compute_at(sch[C], sch[C]->leaf_iter_vars[variant == 0 ? 0 : 1]);
    } else {
      sch[B].compute_inline();
      sch[C].compute_at(sch[D], tiles[1]);
      sch[D].vectorize(tiles[3]);
      sch[D].parallel(tiles[0]);
    }
    Module m = build(sch, {A, D}, "llvm", "chain");
    NDArray d = call(m, {a}, {H - 1, W - 1});
    EXPECT_EQ(compare_arrays(d, ref), "");
    for (int i = 0; i < H - 1; ++i)
      for (int j = 0; j < W - 1; ++j) {
        auto b = [&](int y, int x) { return a.data_as<float>()[y * W + x] * 2.0f; };
        auto e = [&](int y, int x) { return b(y, x) + b(y, x + 1) - 1.0f; };
        ASSERT_NEAR(d.data_as<float>()[i * (W - 1) + j], e(i, j) * e(i + 1, j), 1e-5) << i << "," << j;
      }
  }
}

TEST(E2ePipeline, MatmulWithCachesFuseParallelVectorize) {
  const int M = 33, N = 40, K = 19;
  Tensor A = placeholder({M, K}, DataType::float32(), "A"), B = placeholder({K, N}, DataType::float32(), "B");
  IterVar k = reduce_axis(Range(0, K), "k");
  Tensor C = compute({M, N}, [&](const std::vector<Var>& i) { return sum(A(i[0], k) * B(k, i[1]), {k}); }, "C");
  Schedule sch = create_schedule({C.op()});
  Tensor CL = sch.cache_write(C, "local");
  Tensor AL = sch.cache_read(A, "local", {CL.op()});
  IterVar ci = sch[C]->leaf_iter_vars[0], cj = sch[C]->leaf_iter_vars[1];
  auto t = sch[C].tile(ci, cj, 8, 16);
  IterVar fused = sch[C].fuse(t[0], t[1]);
  sch[C].parallel(fused);
  sch[CL].compute_at(sch[C], fused);
  sch[AL].compute_at(sch[CL], sch[CL]->leaf_iter_vars.back());
  const auto& leaves = sch[CL]->leaf_iter_vars;
  IterVar kk = leaves.back(), jj = leaves[leaves.size() - 2];
  sch[CL].reorder({kk, jj});
  sch[CL].vectorize(jj);
  sch[C].vectorize(t[3]);
  Module m = build(sch, {A, B, C}, "llvm", "mm");
  NDArray a = random_array({M, K}, DataType::float32(), 1), b = random_array({K, N}, DataType::float32(), 2);
  NDArray c = call(m, {a, b}, {M, N});
  EXPECT_EQ(compare_arrays(c, evaluate_reference({A, B}, {a, b}, {C})[0]), "");
}

// Regression test (was a bug: Stage::tile(x, y) takes its axes by reference; when they are elements of the sta ...).
TEST(E2ePipeline, TileOfAliasedLeaves) {
  Tensor A = placeholder({6, 8}, DataType::float32(), "A");
  Tensor C = compute({6, 8}, [&](const std::vector<Var>& i) { return A(i[0], i[1]) + 1.0f; }, "C");
  Schedule sch = create_schedule({C.op()});
  auto t = sch[C].tile(sch[C]->leaf_iter_vars[0], sch[C]->leaf_iter_vars[1], 2, 4);
  ASSERT_EQ(sch[C]->leaf_iter_vars.size(), 4u);
  for (int p = 0; p < 4; ++p) EXPECT_TRUE(sch[C]->leaf_iter_vars[p].same_as(t[p])) << p;
}

TEST(E2ePipeline, FuseAndSplitOfAliasedLeaves) {
  Tensor A = placeholder({6, 8}, DataType::float32(), "A");
  Tensor C = compute({6, 8}, [&](const std::vector<Var>& i) { return A(i[0], i[1]) + 1.0f; }, "C");
  Schedule sch = create_schedule({C.op()});
  IterVar fused = sch[C].fuse(sch[C]->leaf_iter_vars[0], sch[C]->leaf_iter_vars[1]);
  auto [o, in] = sch[C].split(sch[C]->leaf_iter_vars[0], 5);
  ASSERT_EQ(sch[C]->leaf_iter_vars.size(), 2u);
  EXPECT_TRUE(sch[C]->leaf_iter_vars[0].same_as(o));
  sch[C].vectorize(in);
  Module m = build(sch, {A, C}, "llvm", "fuse_alias");
  NDArray a = random_array({6, 8}, DataType::float32(), 3);
  NDArray c = call(m, {a}, {6, 8});
  EXPECT_EQ(compare_arrays(c, evaluate_reference({A}, {a}, {C})[0]), "");
  (void)fused;
}

TEST(E2ePipeline, PragmaAndUnroll) {
  const int N = 30;
  Tensor A = placeholder({N}, DataType::float32(), "A");
  Tensor C = compute({N}, [&](const std::vector<Var>& i) { return A(i[0]) + 1.0f; }, "C");
  Schedule sch = create_schedule({C.op()});
  auto [o, in] = sch[C].split(sch[C]->leaf_iter_vars[0], 4);
  sch[C].unroll(in);
  sch[C].pragma(o, "my_hint", Expr(3));
  LoweredFunc f = lower(sch, {A, C}, "pragma_unroll");
  std::string text = to_string(f);
  EXPECT_NE(text.find("my_hint"), std::string::npos) << text;
  EXPECT_EQ(text.find("for (" + in.var().name()), std::string::npos) << "unrolled loop left:\n" << text;
  Module m = build(sch, {A, C}, "llvm", "pragma_unroll");
  NDArray a = random_array({N}, DataType::float32(), 3);
  NDArray c = call(m, {a}, {N});
  for (int i = 0; i < N; ++i) EXPECT_EQ(c.data_as<float>()[i], a.data_as<float>()[i] + 1.0f);
}

TEST(E2ePipeline, SplitNpartsNonDivisible) {
  const int N = 31;
  Tensor A = placeholder({N}, DataType::int32(), "A");
  Tensor C = compute({N}, [&](const std::vector<Var>& i) { return A(i[0]) * 3 + i[0]; }, "C");
  Schedule sch = create_schedule({C.op()});
  auto [o, in] = sch[C].split_nparts(sch[C]->leaf_iter_vars[0], 4);
  auto [io, ii] = sch[C].split(in, 3);
  sch[C].unroll(ii);
  Module m = build(sch, {A, C}, "llvm", "nparts");
  NDArray a = random_array({N}, DataType::int32(), 3);
  NDArray c = call(m, {a}, {N}, DataType::int32());
  for (int i = 0; i < N; ++i) EXPECT_EQ(c.data_as<int32_t>()[i], a.data_as<int32_t>()[i] * 3 + i) << i;
}

TEST(E2ePipeline, ReplayedStepsGiveEqualIrAndNumbers) {
  const int M = 17, N = 22, K = 13;
  Tensor A = placeholder({M, K}, DataType::float32(), "A"), B = placeholder({K, N}, DataType::float32(), "B");
  IterVar k = reduce_axis(Range(0, K), "k");
  Tensor C = compute({M, N}, [&](const std::vector<Var>& i) { return sum(A(i[0], k) * B(k, i[1]), {k}); }, "C");
  Tensor R = compute({M, N}, [&](const std::vector<Var>& i) { return max(C(i[0], i[1]), Expr(0.0f)); }, "R");
  Schedule sch = create_schedule({R.op()});
  IterVar ri = sch[R]->leaf_iter_vars[0], rj = sch[R]->leaf_iter_vars[1];
  auto t = sch[R].tile(ri, rj, 4, 8);
  sch[C].compute_at(sch[R], t[1]);
  auto [ko, ki] = sch[C].split(k, 5);
  sch[C].reorder({ko, ki});
  sch[R].vectorize(t[3]);
  sch[R].parallel(t[0]);
  sch[C].pragma(ko, "auto_unroll_max_step", Expr(16));
  std::string json = sch.steps_json();
  Schedule replayed = Schedule::replay({R.op()}, Schedule::steps_from_json(json));
  EXPECT_EQ(replayed.steps_json(), json);
  LoweredFunc f1 = lower(sch, {A, B, R}, "mmrelu"), f2 = lower(replayed, {A, B, R}, "mmrelu");
  EXPECT_TRUE(structural_equal(f1.body, f2.body, /*map_free_vars=*/true)) << to_string(f1) << "\nvs\n" << to_string(f2);
  EXPECT_EQ(to_string(f1), to_string(f2));
  NDArray a = random_array({M, K}, DataType::float32(), 1), b = random_array({K, N}, DataType::float32(), 2);
  NDArray r1 = call(build(sch, {A, B, R}, "llvm", "mmrelu"), {a, b}, {M, N});
  NDArray r2 = call(build(replayed, {A, B, R}, "llvm", "mmrelu"), {a, b}, {M, N});
  EXPECT_EQ(compare_arrays(r1, r2, 0, 0), "");
  EXPECT_EQ(compare_arrays(r1, evaluate_reference({A, B}, {a, b}, {R})[0]), "");
  EXPECT_FALSE(sch.steps_python().empty());
}

TEST(E2ePipeline, PrintedIrIsReadable) {
  Tensor A = placeholder({64, 32}, DataType::float32(), "A");
  Tensor C = compute({64, 32}, [&](const std::vector<Var>& i) { return A(i[0], i[1]) * 2.0f; }, "Cout");
  Schedule sch = create_schedule({C.op()});
  auto [o, in] = sch[C].split(sch[C]->leaf_iter_vars[0], 16);
  LoweredFunc f = lower(sch, {A, C}, "readable");
  std::string text = to_string(f);
  EXPECT_NE(text.find("readable"), std::string::npos) << text;
  for (const IterVar& leaf : sch[C]->leaf_iter_vars)
    EXPECT_NE(text.find(leaf.var().name()), std::string::npos) << "loop " << leaf.var().name() << " in\n" << text;
  EXPECT_NE(text.find("for"), std::string::npos) << text;
  EXPECT_NE(text.find("A"), std::string::npos) << text;
  EXPECT_NE(text.find("Cout"), std::string::npos) << text;
  EXPECT_NE(build(sch, {A, C}, "llvm", "readable").get_source("lowered").find(o.var().name()), std::string::npos);
}

TEST(E2ePipeline, DebugLowerPrintsPerPassOutput) {
  Tensor A = placeholder({16}, DataType::float32(), "A");
  Tensor C = compute({16}, [&](const std::vector<Var>& i) { return A(i[0]) + 1.0f; }, "C");
  Schedule sch = create_schedule({C.op()});
  auto [o, in] = sch[C].split(sch[C]->leaf_iter_vars[0], 4);
  sch[C].vectorize(in);
  setenv("TE_DEBUG_LOWER", "1", 1);
  ::testing::internal::CaptureStderr();
  lower(sch, {A, C}, "dbg");
  std::string log = ::testing::internal::GetCapturedStderr();
  unsetenv("TE_DEBUG_LOWER");
  EXPECT_NE(log.find("schedule_ops"), std::string::npos) << log;
  EXPECT_NE(log.find("storage_flatten"), std::string::npos) << log;
  EXPECT_NE(log.find("vectorize"), std::string::npos) << log;
  EXPECT_NE(log.find("dbg"), std::string::npos) << log;
  ::testing::internal::CaptureStderr();
  lower(sch, {A, C}, "dbg");
  EXPECT_EQ(::testing::internal::GetCapturedStderr(), "");  // off again
}

TEST(E2ePipeline, SaveObjectAndSharedLibraryEntryPoint) {
  Var n = var("n");
  Tensor A = placeholder({n}, DataType::float32(), "A");
  Tensor C = compute({n}, [&](const std::vector<Var>& i) { return sqrt(A(i[0])) + 1.0f; }, "C");
  Schedule sch = create_schedule({C.op()});
  auto [o, in] = sch[C].split(sch[C]->leaf_iter_vars[0], 8);
  sch[C].vectorize(in);
  sch[C].parallel(o);
  Module m = build(sch, {A, C}, "llvm", "e2e_sqrt1");
  std::string obj = temp_file("k.o"), lib_path = temp_file("k.so");
  m.save_object(obj);
  ASSERT_TRUE(std::filesystem::exists(obj));
  EXPECT_GT(std::filesystem::file_size(obj), 0u);
  m.export_shared_library(lib_path);
  void* lib = dlopen(lib_path.c_str(), RTLD_NOW | RTLD_LOCAL);
  ASSERT_NE(lib, nullptr) << dlerror();
  using Entry = int32_t (*)(DLTensor**, int32_t);
  using LastError = const char* (*)();
  auto entry = reinterpret_cast<Entry>(dlsym(lib, "e2e_sqrt1"));
  auto last_error = reinterpret_cast<LastError>(dlsym(lib, "e2e_sqrt1_last_error"));
  ASSERT_NE(entry, nullptr);
  ASSERT_NE(last_error, nullptr);
  for (int64_t size : {5, 300}) {
    NDArray a = NDArray::empty({size}), c = NDArray::empty({size});
    for (int64_t i = 0; i < size; ++i) a.data_as<float>()[i] = float(i);
    DLTensor* args[] = {a.dltensor(), c.dltensor()};
    ASSERT_EQ(entry(args, 2), 0) << last_error();
    for (int64_t i = 0; i < size; ++i) ASSERT_FLOAT_EQ(c.data_as<float>()[i], std::sqrt(float(i)) + 1.0f);
  }
  NDArray a = NDArray::empty({4}), c_int = NDArray::empty({4}, DataType::int32());
  DLTensor* bad[] = {a.dltensor(), c_int.dltensor()};
  EXPECT_NE(entry(bad, 2), 0);
  EXPECT_NE(std::string(last_error()).find("C"), std::string::npos) << last_error();
  // The library stays loaded; unloading after a parallel kernel is DlcloseAfterParallelKernel.
  std::filesystem::remove(obj);
  std::filesystem::remove(lib_path);
}


TEST(E2ePipeline, RfactorWithParallelAndVectorizedPartials) {
  const int N = 1003;
  Tensor A = placeholder({N}, DataType::float32(), "A");
  IterVar k = reduce_axis(Range(0, N), "k");
  Tensor S = compute({1}, [&](const std::vector<Var>&) { return sum(A(k) * A(k), {k}); }, "S");
  Schedule sch = create_schedule({S.op()});
  auto [ko, ki] = sch[S].split(k, 16);
  Tensor partial = sch.rfactor(S, ki);
  sch[partial].vectorize(sch[partial]->leaf_iter_vars[0]);
  Module m = build(sch, {A, S}, "llvm", "sumsq");
  NDArray a = random_array({N}, DataType::float32(), 9);
  NDArray s = call(m, {a}, {1});
  double want = 0;
  for (int i = 0; i < N; ++i) want += double(a.data_as<float>()[i]) * a.data_as<float>()[i];
  EXPECT_NEAR(s.data_as<float>()[0], want, 1e-3);
}

TEST(E2ePipeline, NestedParallelLoops) {
  const int H = 21, W = 34;
  Tensor A = placeholder({H, W}, DataType::float32(), "A");
  Tensor C = compute({H, W}, [&](const std::vector<Var>& i) { return A(i[0], i[1]) * A(i[0], i[1]); }, "C");
  Schedule sch = create_schedule({C.op()});
  IterVar y = sch[C]->leaf_iter_vars[0], x = sch[C]->leaf_iter_vars[1];
  sch[C].parallel(y);
  auto [xo, xi] = sch[C].split(x, 8);
  sch[C].parallel(xo);
  sch[C].vectorize(xi);
  Module m = build(sch, {A, C}, "llvm", "nested_par");
  NDArray a = random_array({H, W}, DataType::float32(), 2);
  NDArray c = call(m, {a}, {H, W});
  EXPECT_EQ(compare_arrays(c, evaluate_reference({A}, {a}, {C})[0]), "");
}

TEST(E2ePipeline, ComputeAtWithSymbolicShapesAndPadding) {
  Var n = var("n");
  Tensor A = placeholder({n}, DataType::float32(), "A");
  Tensor P = compute({n + 2}, [&](const std::vector<Var>& i) {
    return if_then_else(i[0] >= 1 && i[0] <= n, A(i[0] - 1), Expr(0.0f));
  }, "P");
  Tensor B = compute({n}, [&](const std::vector<Var>& i) { return P(i[0]) + P(i[0] + 1) + P(i[0] + 2); }, "B");
  Schedule sch = create_schedule({B.op()});
  auto [o, in] = sch[B].split(sch[B]->leaf_iter_vars[0], 4);
  sch[P].compute_at(sch[B], o);
  sch[B].vectorize(in);
  Module m = build(sch, {A, B}, "llvm", "blur");
  for (int64_t size : {1, 6, 45}) {
    NDArray a = random_array({size}, DataType::float32(), 4);
    NDArray b = call(m, {a}, {size});
    for (int64_t i = 0; i < size; ++i) {
      auto av = [&](int64_t j) { return j >= 0 && j < size ? a.data_as<float>()[j] : 0.0f; };
      ASSERT_NEAR(b.data_as<float>()[i], av(i - 1) + av(i) + av(i + 1), 1e-6) << size << " " << i;
    }
  }
}

TEST(E2ePipeline, Int64SymbolicSize) {
  Var n = var("n", DataType::int64());
  Tensor A = placeholder({n}, DataType::float64(), "A");
  Tensor C = compute({n}, [&](const std::vector<Var>& i) { return A(i[0]) - 1.0; }, "C");
  Schedule sch = create_schedule({C.op()});
  auto [o, in] = sch[C].split(sch[C]->leaf_iter_vars[0], 4);
  sch[C].vectorize(in);
  Module m = build(sch, {A, C}, "llvm", "i64n");
  NDArray a = random_array({10}, DataType::float64(), 4);
  NDArray c = call(m, {a}, {10}, DataType::float64());
  for (int i = 0; i < 10; ++i) EXPECT_EQ(c.data_as<double>()[i], a.data_as<double>()[i] - 1.0);
}

TEST(E2ePipeline, CacheReadSharedScopeOnCpu) {
  const int N = 24;
  Tensor A = placeholder({N}, DataType::float32(), "A");
  Tensor C = compute({N}, [&](const std::vector<Var>& i) { return A(i[0]) * 4.0f; }, "C");
  Schedule sch = create_schedule({C.op()});
  Tensor AS = sch.cache_read(A, "shared", {C.op()});
  auto [o, in] = sch[C].split(sch[C]->leaf_iter_vars[0], 8);
  sch[AS].compute_at(sch[C], o);
  try {  // either it runs correctly on the CPU or it is a clear te::Error
    Module m = build(sch, {A, C}, "llvm", "shared_cpu");
    NDArray a = random_array({N}, DataType::float32(), 4);
    NDArray c = call(m, {a}, {N});
    EXPECT_EQ(compare_arrays(c, evaluate_reference({A}, {a}, {C})[0]), "");
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("shared"), std::string::npos) << e.what();
  }
}


// Corner cases of legal schedules: factor larger than the extent, fuse then vectorize a
// non-power-of-two extent, unrolled reduction with a where-condition, compute_root after
// compute_at, prod/min over ints.
TEST(E2ePipeline, ScheduleCornerCases) {
  const int H = 7, W = 5, K = 6;
  Tensor A = placeholder({H, W, K}, DataType::int32(), "A");
  IterVar k = reduce_axis(Range(0, K), "k");
  IterVar k2 = reduce_axis(Range(0, K), "k2");
  Tensor P = compute({H, W}, [&](const std::vector<Var>& i) { return prod(A(i[0], i[1], k) % 3 + 2, {k}, k != 2); }, "P");
  Tensor M = compute({H, W}, [&](const std::vector<Var>& i) { return min(A(i[0], i[1], k2), std::vector<IterVar>{k2}); }, "M");
  Tensor R = compute({H, W}, [&](const std::vector<Var>& i) { return P(i[0], i[1]) - M(i[0], i[1]); }, "R");
  NDArray a = random_array({H, W, K}, DataType::int32(), 17);
  NDArray ref = evaluate_reference({A}, {a}, {R})[0];
  for (int variant = 0; variant < 3; ++variant) {
    SCOPED_TRACE(variant);
    Schedule sch = create_schedule({R.op()});
    IterVar y = sch[R]->leaf_iter_vars[0], x = sch[R]->leaf_iter_vars[1];
    if (variant == 0) {
      auto [yo, yi] = sch[R].split(y, 100);  // factor > extent
      sch[P].compute_at(sch[R], yi);
      sch[P].unroll(sch[P]->leaf_iter_vars.back());
    } else if (variant == 1) {
      IterVar f = sch[R].fuse(y, x);  // extent 35
      auto [fo, fi] = sch[R].split(f, 16);
      sch[R].vectorize(fi);
      sch[M].compute_at(sch[R], fo);
      sch[M].compute_root();
    } else {
      sch[R].vectorize(x);  // extent 5
      sch[P].compute_at(sch[R], y);
      sch[M].compute_at(sch[R], y);
      sch[M].reorder({sch[M]->leaf_iter_vars[2], sch[M]->leaf_iter_vars[1]});
    }
    Module m = build(sch, {A, R}, "llvm", "corners");
    NDArray r = call(m, {a}, {H, W}, DataType::int32());
    EXPECT_EQ(compare_arrays(r, ref), "");
    for (int i = 0; i < H * W; ++i) {
      int64_t pr = 1, mn = INT32_MAX;
      for (int j = 0; j < K; ++j) {
        int32_t v = a.data_as<int32_t>()[i * K + j];
        if (j != 2) pr *= v % 3 + 2;
        mn = std::min<int64_t>(mn, v);
      }
      ASSERT_EQ(r.data_as<int32_t>()[i], pr - mn) << i;
    }
  }
}

TEST(E2ePipeline, ModuleCalledFromTwoThreadsAndInPlace) {
  Var n = var("n");
  Tensor A = placeholder({n}, DataType::float32(), "A");
  Tensor C = compute({n}, [&](const std::vector<Var>& i) { return A(i[0]) * 2.0f + 1.0f; }, "C");
  Schedule sch = create_schedule({C.op()});
  auto [o, in] = sch[C].split(sch[C]->leaf_iter_vars[0], 8);
  sch[C].vectorize(in);
  sch[C].parallel(o);
  Module m = build(sch, {A, C}, "llvm", "twice");
  auto work = [&](uint64_t seed, bool* ok) {
    *ok = true;
    for (int rep = 0; rep < 20; ++rep) {
      NDArray a = random_array({257}, DataType::float32(), seed + rep);
      NDArray c = call(m, {a}, {257});
      for (int i = 0; i < 257; ++i) *ok &= c.data_as<float>()[i] == a.data_as<float>()[i] * 2.0f + 1.0f;
    }
  };
  bool ok1 = false, ok2 = false;
  std::thread t1(work, 100, &ok1), t2(work, 200, &ok2);
  t1.join();
  t2.join();
  EXPECT_TRUE(ok1);
  EXPECT_TRUE(ok2);
  // In place: the output is the input array (elementwise, so well defined).
  NDArray a = random_array({33}, DataType::float32(), 5);
  std::vector<float> before(a.data_as<float>(), a.data_as<float>() + 33);
  m({a, a});
  for (int i = 0; i < 33; ++i) EXPECT_EQ(a.data_as<float>()[i], before[i] * 2.0f + 1.0f);
}


TEST(E2ePipeline, RankZeroTensors) {
  Tensor A = placeholder({}, DataType::float32(), "A");
  Tensor B = placeholder({5}, DataType::float32(), "B");
  Tensor C = compute({}, [&](const std::vector<Var>&) { return A() * 3.0f; }, "C");
  IterVar k2 = reduce_axis(Range(0, 5), "k2");
  Tensor T = compute({}, [&](const std::vector<Var>&) { return sum(B(k2), {k2}); }, "T");
  Schedule sch = create_schedule({C.op(), T.op()});
  Module m = build(sch, {A, B, C, T}, "llvm", "rank0");
  NDArray a = NDArray::empty({}), b = random_array({5}, DataType::float32(), 1);
  a.data_as<float>()[0] = 2.5f;
  NDArray c = NDArray::empty({}), t = NDArray::empty({});
  m({a, b, c, t});
  EXPECT_EQ(c.data_as<float>()[0], 7.5f);
  float want = 0;
  for (int i = 0; i < 5; ++i) want += b.data_as<float>()[i];
  EXPECT_NEAR(t.data_as<float>()[0], want, 1e-6);
}

TEST(E2ePipeline, RankSixFuseAll) {
  std::vector<Expr> shape = {2, 3, 1, 2, 3, 5};
  Tensor A = placeholder(shape, DataType::float32(), "A");
  Tensor C = compute(shape, [&](const std::vector<Var>& i) {
    return A(i[0], i[1], i[2], i[3], i[4], i[5]) + cast(DataType::float32(), i[0] * 100 + i[5]);
  }, "C");
  Schedule sch = create_schedule({C.op()});
  IterVar fused = sch[C]->leaf_iter_vars[0];
  for (int d = 1; d < 6; ++d) fused = sch[C].fuse(fused, sch[C]->leaf_iter_vars[1]);
  auto [o, in] = sch[C].split(fused, 1);
  auto [oo, oi] = sch[C].split(o, 8);
  sch[C].vectorize(oi);
  sch[C].vectorize(in);  // extent 1
  Module m = build(sch, {A, C}, "llvm", "rank6");
  NDArray a = random_array({2, 3, 1, 2, 3, 5}, DataType::float32(), 3);
  NDArray c = call(m, {a}, {2, 3, 1, 2, 3, 5});
  EXPECT_EQ(compare_arrays(c, evaluate_reference({A}, {a}, {C})[0]), "");
}


TEST(E2ePipeline, VectorizedGatherThroughIndexTensor) {
  const int N = 29, M = 11;
  Tensor A = placeholder({M}, DataType::float32(), "A");
  Tensor I = placeholder({N}, DataType::int32(), "I");
  Tensor C = compute({N}, [&](const std::vector<Var>& i) { return A(I(i[0])) * 2.0f; }, "C");
  Schedule sch = create_schedule({C.op()});
  auto [o, in] = sch[C].split(sch[C]->leaf_iter_vars[0], 8);
  sch[C].vectorize(in);
  Module m = build(sch, {A, I, C}, "llvm", "gather");
  NDArray a = random_array({M}, DataType::float32(), 1), idx = NDArray::empty({N}, DataType::int32());
  for (int i = 0; i < N; ++i) idx.data_as<int32_t>()[i] = (i * 7) % M;
  NDArray c = call(m, {a, idx}, {N});
  for (int i = 0; i < N; ++i) EXPECT_EQ(c.data_as<float>()[i], a.data_as<float>()[(i * 7) % M] * 2.0f) << i;
}

TEST(E2ePipeline, RfactorFactorAxisOneOn2dOutput) {
  const int R = 6, K = 50;
  Tensor A = placeholder({R, K}, DataType::float32(), "A");
  IterVar k = reduce_axis(Range(0, K), "k");
  Tensor S = compute({R}, [&](const std::vector<Var>& i) { return sum(A(i[0], k), {k}); }, "S");
  Schedule sch = create_schedule({S.op()});
  auto [ko, ki] = sch[S].split(k, 8);
  Tensor partial = sch.rfactor(S, ki, 1);
  ASSERT_EQ(partial.ndim(), 2);
  sch[partial].compute_at(sch[S], sch[S]->leaf_iter_vars[0]);
  Module m = build(sch, {A, S}, "llvm", "rf1");
  NDArray a = random_array({R, K}, DataType::float32(), 3);
  NDArray s = call(m, {a}, {R});
  EXPECT_EQ(compare_arrays(s, evaluate_reference({A}, {a}, {S})[0]), "");
}

void run_softmax(int variant) {
  Var n = var("n");
  const int W = 19;
  Tensor X = placeholder({n, W}, DataType::float32(), "X");
  IterVar k1 = reduce_axis(Range(0, W), "k1"), k2 = reduce_axis(Range(0, W), "k2");
  Tensor MX = compute({n}, [&](const std::vector<Var>& i) { return max(X(i[0], k1), std::vector<IterVar>{k1}); }, "MX");
  Tensor E = compute({n, W}, [&](const std::vector<Var>& i) { return exp(X(i[0], i[1]) - MX(i[0])); }, "E");
  Tensor SM = compute({n}, [&](const std::vector<Var>& i) { return sum(E(i[0], k2), {k2}); }, "SM");
  Tensor Y = compute({n, W}, [&](const std::vector<Var>& i) { return E(i[0], i[1]) / SM(i[0]); }, "Y");
  Schedule sch = create_schedule({Y.op()});
  IterVar row = sch[Y]->leaf_iter_vars[0];
  sch[Y].parallel(row);
  if (variant == 0) {  // TVM's softmax schedule: everything per row
    sch[SM].compute_at(sch[Y], row);
    sch[E].compute_at(sch[Y], row);
    sch[MX].compute_at(sch[E], sch[E]->leaf_iter_vars[0]);
  } else {  // what te accepts today: reductions at root, exp inlined
    sch[E].compute_inline();
    sch[MX].parallel(sch[MX]->leaf_iter_vars[0]);
  }
  auto [co, ci] = sch[Y].split(sch[Y]->leaf_iter_vars[1], 8);
  sch[Y].vectorize(ci);
  Module m = build(sch, {X, Y}, "llvm", "softmax");
  for (int64_t rows : {1, 13}) {
    NDArray x = random_array({rows, W}, DataType::float32(), 7);
    NDArray y = call(m, {x}, {rows, W});
    EXPECT_EQ(compare_arrays(y, evaluate_reference({X}, {x}, {Y})[0], 1e-5, 1e-6), "");
    for (int64_t r = 0; r < rows; ++r) {
      double total = 0;
      for (int j = 0; j < W; ++j) total += y.data_as<float>()[r * W + j];
      EXPECT_NEAR(total, 1.0, 1e-5) << r;
    }
  }
}

TEST(E2ePipeline, SoftmaxWithSymbolicRowsRootReductions) { run_softmax(1); }

// compute_at of a stage with two consumers, both attached under the same loop (bound.cc
// infer_attached_roots takes both readers' regions): TVM's standard softmax schedule, exp and
// expsum at softmax's row loop.
TEST(E2ePipeline, SoftmaxTvmScheduleWithSharedAttachPoint) { run_softmax(0); }


// Reduction axis outside the spatial ones (legal in TVM): the init must run before the whole
// k loop, not inside it.
TEST(E2ePipeline, ReductionAxisOutermost) {
  const int M = 9, N = 13, K = 7;
  Tensor A = placeholder({M, K}, DataType::float32(), "A"), B = placeholder({K, N}, DataType::float32(), "B");
  NDArray a = random_array({M, K}, DataType::float32(), 1), b = random_array({K, N}, DataType::float32(), 2);
  for (int variant = 0; variant < 3; ++variant) {
    SCOPED_TRACE(variant);
    IterVar k = reduce_axis(Range(0, K), "k");
    Tensor C = compute({M, N}, [&](const std::vector<Var>& i) { return sum(A(i[0], k) * B(k, i[1]), {k}); }, "C");
    Schedule sch = create_schedule({C.op()});
    IterVar i = sch[C]->leaf_iter_vars[0], j = sch[C]->leaf_iter_vars[1];
    if (variant == 0) sch[C].reorder({k, i, j});
    if (variant >= 1) {
      sch[C].reorder({i, k, j});
      auto [jo, ji] = sch[C].split(j, 4);
      sch[C].vectorize(ji);
      if (variant == 2) sch[C].parallel(i);
    }
    Module m = build(sch, {A, B, C}, "llvm", "kouter");
    NDArray c = call(m, {a, b}, {M, N});
    EXPECT_EQ(compare_arrays(c, evaluate_reference({A, B}, {a, b}, {C})[0]), "");
  }
}

TEST(E2ePipeline, CacheWriteOfMultiOutputOp) {
  const int N = 6, K = 17;
  Tensor A = placeholder({N, K}, DataType::float32(), "A");
  IterVar k = reduce_axis(Range(0, K), "k");
  std::vector<Tensor> outs = compute_multi({N}, [&](const std::vector<Var>& i) {
    return make_argmax()({Expr(k), A(i[0], k)}, {k});
  }, "argmax");
  Schedule sch = create_schedule({outs[0].op()});
  try {  // supported (correct numbers) or a clear te::Error
    sch.cache_write(outs[0], "local");
    Module m = build(sch, {A, outs[0], outs[1]}, "llvm", "argmax_cw");
    NDArray a = random_array({N, K}, DataType::float32(), 11);
    NDArray idx = NDArray::empty({N}, DataType::int32()), val = NDArray::empty({N});
    m({a, idx, val});
    auto ref = evaluate_reference({A}, {a}, {outs[0], outs[1]});
    EXPECT_EQ(compare_arrays(idx, ref[0]), "");
    EXPECT_EQ(compare_arrays(val, ref[1]), "");
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("argmax"), std::string::npos) << e.what();
  }
}

// Regression test (was a bug: dlclose() of an exported library whose kernel ran a parallel loop unloads libgom ...).
TEST(E2ePipeline, DlcloseAfterParallelKernel) {
  Tensor A = placeholder({4096}, DataType::float32(), "A");
  Tensor C = compute({4096}, [&](const std::vector<Var>& i) { return A(i[0]) * 3.0f; }, "C");
  Schedule sch = create_schedule({C.op()});
  auto [o, in] = sch[C].split(sch[C]->leaf_iter_vars[0], 8);
  sch[C].parallel(o);
  std::string lib_path = temp_file("par.so");
  build(sch, {A, C}, "llvm", "e2e_par").export_shared_library(lib_path);
  for (int round = 0; round < 3; ++round) {
    void* lib = dlopen(lib_path.c_str(), RTLD_NOW | RTLD_LOCAL);
    ASSERT_NE(lib, nullptr) << dlerror();
    auto entry = reinterpret_cast<int32_t (*)(DLTensor**, int32_t)>(dlsym(lib, "e2e_par"));
    ASSERT_NE(entry, nullptr);
    NDArray a = random_array({4096}, DataType::float32(), 1), c = NDArray::empty({4096});
    DLTensor* args[] = {a.dltensor(), c.dltensor()};
    ASSERT_EQ(entry(args, 2), 0);
    ASSERT_EQ(entry(args, 2), 0);
    EXPECT_EQ(c.data_as<float>()[100], a.data_as<float>()[100] * 3.0f);
    dlclose(lib);  // while libgomp's workers may still be spinning
  }
  std::filesystem::remove(lib_path);
}

}  // namespace
}  // namespace te::testing
