// te::Module: argument checks with their messages, get_source, time_evaluator, and the
// ahead-of-time outputs (object file; shared library called through its DLTensor entry).
#include <dlfcn.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "test_codegen_util.h"

namespace te::testing {
namespace {

// C[n, 4] = A[n, 4] + B[4] (broadcast over rows).
LoweredFunc symbolic_add(const std::string& name = "addrow") {
  Var n("n"), i("i"), j("j");
  auto A = buffer_arg("A", DataType::float32(), {n, Expr(4)});
  auto B = buffer_arg("B", DataType::float32(), {Expr(4)});
  auto C = buffer_arg("C", DataType::float32(), {n, Expr(4)});
  Stmt body = loop(i, n, loop(j, 4, store(C, load(A, i * 4 + j) + load(B, j), i * 4 + j)));
  return make_func(name, {A, B, C}, body, {n});
}

TEST(RuntimeModule, ArgumentChecksNameTheArgument) {
  Module m = compile(symbolic_add());
  NDArray a = random_array({3, 4}, DataType::float32(), 1), b = random_array({4}, DataType::float32(), 2);
  NDArray c = NDArray::empty({3, 4});
  m({a, b, c});  // good call
  EXPECT_TE_ERROR(m({a, b}), "kernel addrow", "expected 3 arguments, got 2");
  NDArray b_int = random_array({4}, DataType::int32(), 3);
  EXPECT_TE_ERROR(m({a, b_int, c}), "argument 1 (B) of kernel addrow", "expected dtype float32", "int32");
  NDArray b_short = NDArray::empty({5});
  EXPECT_TE_ERROR(m({a, b_short, c}), "argument 1 (B) of kernel addrow: expected shape [4], got [5]");
  NDArray b_2d = NDArray::empty({4, 1});
  EXPECT_TE_ERROR(m({a, b_2d, c}), "argument 1 (B)", "expected 1 dimensions", "got 2 dimensions");
  NDArray c_rows = NDArray::empty({2, 4});
  EXPECT_TE_ERROR(m({a, b, c_rows}), "argument 2 (C) of kernel addrow", "expected shape [n, 4] with n = 3",
                  "argument 0 (A) dimension 0", "got [2, 4]");
  EXPECT_TE_ERROR(m({a, b, NDArray()}), "argument 2", "undefined");
}

TEST(RuntimeModule, ForeignDLTensorChecks) {
  Module m = compile(symbolic_add());
  NDArray a = random_array({3, 4}, DataType::float32(), 1), b = random_array({4}, DataType::float32(), 2);
  NDArray c = NDArray::empty({3, 4});
  // A transposed view: strides (1, 3) are not row-major.
  DLTensor at = *a.dltensor();
  int64_t strides[] = {1, 3};
  at.strides = strides;
  EXPECT_TE_ERROR(m(std::vector<DLTensor*>{&at, b.dltensor(), c.dltensor()}), "argument 0 (A)", "compact row-major");
  int64_t compact[] = {4, 1};
  at.strides = compact;
  m(std::vector<DLTensor*>{&at, b.dltensor(), c.dltensor()});  // explicit compact strides are fine
  DLTensor bg = *b.dltensor();
  bg.device = {kDLCUDA, 0};
  EXPECT_TE_ERROR(m(std::vector<DLTensor*>{a.dltensor(), &bg, c.dltensor()}), "argument 1 (B)", "CPU");
  DLTensor bn = *b.dltensor();
  bn.data = nullptr;
  EXPECT_TE_ERROR(m(std::vector<DLTensor*>{a.dltensor(), &bn, c.dltensor()}), "argument 1 (B)", "null data");
  EXPECT_TE_ERROR(m(std::vector<DLTensor*>{a.dltensor(), nullptr, c.dltensor()}), "argument 1 (B)", "null");
  // byte_offset is honoured: B viewed from element 4 of a longer array.
  NDArray blong = random_array({8}, DataType::float32(), 4);
  DLTensor bo = *blong.dltensor();
  int64_t four[] = {4};
  bo.shape = four;
  bo.byte_offset = 4 * sizeof(float);
  m(std::vector<DLTensor*>{a.dltensor(), &bo, c.dltensor()});
  for (int k = 0; k < 12; ++k)
    ASSERT_EQ(c.data_as<float>()[k], a.data_as<float>()[k] + blong.data_as<float>()[4 + k % 4]) << k;
}

TEST(RuntimeModule, SourcesAndTiming) {
  Module m = compile(symbolic_add());
  EXPECT_NE(m.get_source("ll").find("addrow_kernel"), std::string::npos);
  EXPECT_NE(m.get_source("asm").find("addrow_kernel"), std::string::npos);
  EXPECT_FALSE(m.get_source("lowered").empty());
  EXPECT_TE_ERROR(m.get_source("ptx"), "ptx");
  NDArray a = random_array({64, 4}, DataType::float32(), 1), b = random_array({4}, DataType::float32(), 2);
  NDArray c = NDArray::empty({64, 4});
  Module::TimeResult r = m.time_evaluator({a, b, c}, 2, 4, 1.0);
  ASSERT_EQ(r.results.size(), 4u);
  for (double t : r.results) EXPECT_GT(t, 0);
  EXPECT_GE(r.median, *std::min_element(r.results.begin(), r.results.end()));
  EXPECT_LE(r.median, *std::max_element(r.results.begin(), r.results.end()));
  EXPECT_TE_ERROR(m.time_evaluator({a, b}), "expected 3 arguments");
  EXPECT_TE_ERROR(Module()({a}), "empty");
}

// The tuner's builder compiles candidates on several threads at once.
TEST(RuntimeModule, ConcurrentBuildsAndCalls) {
  std::vector<std::string> errors(3);
  std::vector<std::thread> threads;
  for (int t = 0; t < 3; ++t) {
    threads.emplace_back([t, &errors] {
      try {
        for (int rep = 0; rep < 2; ++rep) {
          Module m = compile(symbolic_add("k" + std::to_string(t)));
          NDArray a = random_array({5, 4}, DataType::float32(), uint64_t(t)), b = random_array({4}, DataType::float32(), 2);
          NDArray c = NDArray::empty({5, 4});
          m({a, b, c});
          for (int k = 0; k < 20; ++k)
            if (c.data_as<float>()[k] != a.data_as<float>()[k] + b.data_as<float>()[k % 4]) errors[size_t(t)] = "wrong value";
        }
      } catch (const std::exception& e) {
        errors[size_t(t)] = e.what();
      }
    });
  }
  for (auto& th : threads) th.join();
  for (const std::string& e : errors) EXPECT_EQ(e, "");
}

std::string temp_path(const std::string& file) {
  return (std::filesystem::temp_directory_path() / ("te_test_" + std::to_string(getpid()) + "_" + file)).string();
}

TEST(RuntimeModule, SaveObjectWritesAnElfObject) {
  Module m = compile(symbolic_add());
  std::string path = temp_path("addrow.o");
  m.save_object(path);
  std::ifstream in(path, std::ios::binary);
  char magic[4] = {};
  in.read(magic, 4);
  EXPECT_EQ(std::string(magic, 4), "\x7f" "ELF");
  std::filesystem::remove(path);
  EXPECT_TE_ERROR(compile(symbolic_add("bad name")).save_object(path), "bad name", "letters, digits");
}

using Entry = int32_t (*)(DLTensor**, int32_t);
using LastError = const char* (*)();

TEST(RuntimeModule, ExportSharedLibraryAndCallThroughDLPack) {
  // A parallel loop too, so the library's own te_parallel_for is exercised.
  Var n("n"), i("i"), j("j");
  auto A = buffer_arg("A", DataType::float32(), {n, Expr(4)});
  auto B = buffer_arg("B", DataType::float32(), {Expr(4)});
  auto C = buffer_arg("C", DataType::float32(), {n, Expr(4)});
  Stmt body = loop(i, n, loop(j, 4, store(C, load(A, i * 4 + j) + load(B, j), i * 4 + j)), ForKind::kParallel);
  Module m = compile(make_func("addrow_lib", {A, B, C}, body, {n}));
  std::string path = temp_path("libaddrow.so");
  m.export_shared_library(path);
  void* lib = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
  ASSERT_NE(lib, nullptr) << dlerror();
  auto entry = reinterpret_cast<Entry>(dlsym(lib, "addrow_lib"));
  auto last_error = reinterpret_cast<LastError>(dlsym(lib, "addrow_lib_last_error"));
  ASSERT_NE(entry, nullptr);
  ASSERT_NE(last_error, nullptr);

  NDArray a = random_array({1000, 4}, DataType::float32(), 1), b = random_array({4}, DataType::float32(), 2);
  NDArray c = NDArray::empty({1000, 4});
  c.fill_poison();
  DLTensor* args[] = {a.dltensor(), b.dltensor(), c.dltensor()};
  ASSERT_EQ(entry(args, 3), 0) << last_error();
  for (int k = 0; k < 4000; ++k) ASSERT_EQ(c.data_as<float>()[k], a.data_as<float>()[k] + b.data_as<float>()[k % 4]) << k;

  EXPECT_EQ(entry(args, 2), -1);
  EXPECT_NE(std::string(last_error()).find("expected 3 arguments, got 2"), std::string::npos) << last_error();
  NDArray c_bad = NDArray::empty({999, 4});
  DLTensor* bad_shape[] = {a.dltensor(), b.dltensor(), c_bad.dltensor()};
  EXPECT_EQ(entry(bad_shape, 3), -1);
  EXPECT_NE(std::string(last_error()).find("argument 2 (C) of kernel addrow_lib: expected shape [n, 4] with n = 1000"),
            std::string::npos) << last_error();
  NDArray b_int = NDArray::empty({4}, DataType::int32());
  DLTensor* bad_dtype[] = {a.dltensor(), b_int.dltensor(), c.dltensor()};
  EXPECT_EQ(entry(bad_dtype, 3), -1);
  EXPECT_NE(std::string(last_error()).find("argument 1 (B)"), std::string::npos) << last_error();
  EXPECT_NE(std::string(last_error()).find("float32"), std::string::npos) << last_error();
  NDArray b_short = NDArray::empty({3});
  DLTensor* bad_const[] = {a.dltensor(), b_short.dltensor(), c.dltensor()};
  EXPECT_EQ(entry(bad_const, 3), -1);
  EXPECT_NE(std::string(last_error()).find("expected shape [4], got [3]"), std::string::npos) << last_error();
  dlclose(lib);
  std::filesystem::remove(path);
}

}  // namespace
}  // namespace te::testing
