// End to end through the public API: symbolic shapes, user reducers, reductions with a
// where-condition, multi-stage pipelines with compute_at, pragma/unroll, step replay, the
// printed IR, TE_DEBUG_LOWER, and the AOT outputs (object file, shared library + dlopen).
#include <dlfcn.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>

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

TEST(E2ePipeline, ArgmaxUserReducerWithSplitAndRfactor) {
  const int N = 7, K = 45;
  Tensor A = placeholder({N, K}, DataType::float32(), "A");
  Reducer argmax = make_argmax();
  for (int variant = 0; variant < 3; ++variant) {
    SCOPED_TRACE(variant);
    IterVar k = reduce_axis(Range(0, K), "k");
    std::vector<Tensor> outs = compute_multi({N}, [&](const std::vector<Var>& i) {
      return argmax({Expr(k), A(i[0], k)}, {k});
    }, "argmax");
    Schedule sch = create_schedule({outs[0].op()});
    if (variant >= 1) {
      auto [ko, ki] = sch[outs[0]].split(k, 8);
      if (variant == 2) sch.rfactor(outs[0], ki);
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
  Tensor M = compute({N}, [&](const std::vector<Var>& i) { return max(A(i[0], k2), {k2}, k2 > i[0]); }, "M");
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

// A → B → C → D with B at D's outer tile loop and C at D's inner loop, plus an inlined stage.
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
    auto tiles = sch[D].tile(sch[D]->leaf_iter_vars[0], sch[D]->leaf_iter_vars[1], 4, 5);
    sch[E].compute_inline();
    if (variant == 0) {
      sch[B].compute_at(sch[D], tiles[0]);
      sch[C].compute_at(sch[D], tiles[1]);
    } else if (variant == 1) {
      sch[B].compute_at(sch[D], tiles[1]);
      sch[C].compute_at(sch[D], tiles[3]);
    } else if (variant == 2) {
      sch[C].compute_at(sch[D], tiles[2]);
      sch[B].compute_at(sch[C], sch[C]->leaf_iter_vars[1]);
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
  auto t = sch[C].tile(sch[C]->leaf_iter_vars[0], sch[C]->leaf_iter_vars[1], 8, 16);
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
  auto t = sch[R].tile(sch[R]->leaf_iter_vars[0], sch[R]->leaf_iter_vars[1], 4, 8);
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
  dlclose(lib);
  std::filesystem::remove(obj);
  std::filesystem::remove(lib_path);
}

}  // namespace
}  // namespace te::testing
