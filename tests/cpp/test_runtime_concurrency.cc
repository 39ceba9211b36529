// Building and calling kernels from several threads at once (issue 8, point 5): the LLVM
// JIT (one LLVMContext and LLJIT per module, one-time target initialization), the NVRTC
// cache, the thread pool shared by concurrent callers, and a Module called from many
// threads. Every result is compared with the reference interpreter on NaN-filled outputs.
// Run under the sanitizer build (scripts/test.sh, ./build-asan) it also checks for races'
// usual symptoms there: use-after-free and heap corruption.
#include <atomic>
#include <thread>

#include "test_util.h"

namespace te::testing {
namespace {

constexpr int kThreads = 4;
constexpr int kRoundsPerThread = 4;

struct Kernel {
  std::vector<Tensor> inputs;
  Tensor output;
  Module module;
};

// Three different computes and schedules; the thread and round numbers pick sizes and
// factors, so no two threads compile the same code at the same time (nor the same name).
Kernel make_kernel(int thread, int round) {
  int kind = (thread + round) % 3;
  std::string name = "k" + std::to_string(thread) + "_" + std::to_string(round);
  if (kind == 0) {  // elementwise, split + vectorize + parallel
    int64_t n = 97 + 13 * thread + round;
    float scale = float(thread + 1);
    Tensor A = placeholder({n}, DataType::float32(), "A"), B = placeholder({n}, DataType::float32(), "B");
    Tensor C = compute({n}, [&](const std::vector<Var>& i) { return A(i[0]) * scale + B(i[0]); }, "C");
    Schedule s = create_schedule({C.op()});
    auto [o, in] = s[C].split(s[C]->leaf_iter_vars[0], 4 << (round % 3));
    s[C].vectorize(in);
    s[C].parallel(o);
    return {{A, B}, C, build(s, {A, B, C}, "llvm", name)};
  }
  if (kind == 1) {  // matmul, tiled and parallel
    int64_t m = 16 + thread, n = 24, k = 8 + round;
    Tensor A = placeholder({m, k}, DataType::float32(), "A"), B = placeholder({k, n}, DataType::float32(), "B");
    IterVar r = reduce_axis(Range(0, k), "r");
    Tensor C = compute({m, n}, [&](const std::vector<Var>& i) { return sum(A(i[0], r) * B(r, i[1]), {r}); }, "C");
    Schedule s = create_schedule({C.op()});
    auto [io, jo, ii, ji] = s[C].tile(s[C]->leaf_iter_vars[0], s[C]->leaf_iter_vars[1], 4, 8);
    s[C].reorder({io, jo, r, ii, ji});
    s[C].vectorize(ji);
    s[C].parallel(io);
    return {{A, B}, C, build(s, {A, B, C}, "llvm", name)};
  }
  // row maximum with an unrolled inner split
  int64_t rows = 5 + thread, cols = 33 + round;
  Tensor A = placeholder({rows, cols}, DataType::float32(), "A");
  IterVar r = reduce_axis(Range(0, cols), "r");
  Tensor M = compute({rows}, [&](const std::vector<Var>& i) { return te::max(A(i[0], r), std::vector<IterVar>{r}); }, "M");
  Schedule s = create_schedule({M.op()});
  auto [ro, ri] = s[M].split(r, 4);
  s[M].unroll(ri);
  s[M].parallel(s[M]->leaf_iter_vars[0]);
  return {{A}, M, build(s, {A, M}, "llvm", name)};
}

// Calls the kernel on fresh random inputs and compares with the reference interpreter.
std::string run_and_check(const Kernel& k, uint64_t seed) {
  std::vector<NDArray> args;
  for (size_t i = 0; i < k.inputs.size(); ++i)
    args.push_back(random_array(const_shape(k.inputs[i]), k.inputs[i].dtype(), seed + i));
  NDArray out = NDArray::empty(const_shape(k.output), k.output.dtype());
  out.fill_poison();
  std::vector<NDArray> inputs = args;
  args.push_back(out);
  k.module(args);
  return compare_arrays(out, evaluate_reference(k.inputs, inputs, {k.output})[0]);
}

// Runs body(thread) on kThreads threads released together; returns the errors they hit.
std::vector<std::string> run_threads(const std::function<std::string(int)>& body) {
  std::vector<std::string> errors(kThreads);
  std::atomic<int> ready{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      ready.fetch_add(1);
      while (ready.load() < kThreads) std::this_thread::yield();  // start together
      try {
        errors[t] = body(t);
      } catch (const std::exception& e) {
        errors[t] = std::string("exception: ") + e.what();
      }
    });
  }
  for (std::thread& th : threads) th.join();
  return errors;
}

TEST(RuntimeConcurrency, ThreadsBuildAndRunDifferentKernels) {
  std::vector<std::string> errors = run_threads([](int t) -> std::string {
    for (int round = 0; round < kRoundsPerThread; ++round) {
      Kernel k = make_kernel(t, round);
      std::string err = run_and_check(k, 100 * t + round);
      if (!err.empty()) return "thread " + std::to_string(t) + " round " + std::to_string(round) + ": " + err;
    }
    return "";
  });
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(errors[t], "") << "thread " << t;
}

TEST(RuntimeConcurrency, OneModuleCalledFromManyThreads) {
  // One compiled kernel (with a parallel loop, so callers contend for the thread pool),
  // called by every thread with its own arrays.
  std::vector<Kernel> kernels = {make_kernel(0, 0), make_kernel(0, 1), make_kernel(0, 2)};
  std::vector<std::string> errors = run_threads([&](int t) -> std::string {
    for (int call = 0; call < 20; ++call) {
      const Kernel& k = kernels[size_t(call + t) % kernels.size()];
      std::string err = run_and_check(k, 1000 * t + call);
      if (!err.empty()) return "call " + std::to_string(call) + ": " + err;
    }
    return "";
  });
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(errors[t], "") << "thread " << t;
}

TEST(RuntimeConcurrency, ThreadsCompileCudaWithNvrtc) {
  // Each thread generates CUDA C and compiles it with NVRTC (no GPU needed); two threads
  // share each source, so the PTX cache sees concurrent lookups and inserts of one key.
  auto make = [](int variant) {
    int64_t n = 1024 + 32 * variant;
    Tensor A = placeholder({n}, DataType::float32(), "A");
    Tensor B = compute({n}, [&](const std::vector<Var>& i) { return A(i[0]) + float(variant); }, "B");
    Schedule s = create_schedule({B.op()});
    auto [bx, tx] = s[B].split(s[B]->leaf_iter_vars[0], 64);
    s[B].bind(bx, thread_axis("blockIdx.x"));
    s[B].bind(tx, thread_axis("threadIdx.x"));
    return build(s, {A, B}, "cuda", "add" + std::to_string(variant));
  };
  Module probe;
  try {
    probe = make(99);
    probe.get_source("ptx");
  } catch (const Error& e) {
    GTEST_SKIP() << "no CUDA backend or NVRTC here: " << e.what();
  }
  std::vector<std::string> errors = run_threads([&](int t) -> std::string {
    for (int round = 0; round < 3; ++round) {
      int variant = (t / 2) * 3 + round;  // threads 0,1 share variants; so do 2,3
      Module m = make(variant);
      std::string ptx = m.get_source("ptx");
      std::string entry = ".entry add" + std::to_string(variant) + "_kernel(";
      if (ptx.find(entry) == std::string::npos) return "PTX of variant " + std::to_string(variant) + " lacks " + entry;
    }
    return "";
  });
  for (int t = 0; t < kThreads; ++t) EXPECT_EQ(errors[t], "") << "thread " << t;
}

}  // namespace
}  // namespace te::testing
