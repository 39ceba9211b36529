// tests/cpp/test_cuda_util.h — helpers of the CUDA backend tests: build for target cuda,
// compile with NVRTC, and run on a GPU when there is one (GTEST_SKIP elsewhere).
#pragma once

#include <cstdlib>
#include <iostream>
#include <string>

#include "codegen/cuda/codegen_cuda.h"
#include "codegen/runtime/module_node.h"
#include "test_util.h"

namespace te::testing {

inline ComputeOpNode const* compute_op(const Tensor& t) { return t.op().as<ComputeOpNode>(); }

// The kernel's PTX, checked to define the kernel's entry point.
// With TE_TEST_PRINT_CUDA=1 the CUDA C is printed too (to read what a schedule generates).
inline std::string expect_ptx_entry(const Module& m) {
  if (const char* print = std::getenv("TE_TEST_PRINT_CUDA"); print && *print == '1')
    std::cout << m.get_source("cuda") << "\n";
  std::string ptx = m.get_source("ptx");
  std::string entry = ".entry " + m.func().name + "_kernel(";
  EXPECT_NE(ptx.find(entry), std::string::npos) << "PTX lacks '" << entry << "'\n" << ptx.substr(0, 2000);
  return ptx;
}

// Runs m on random inputs (every argument but the last is an input) in the CUDA emulator (on
// every machine: numbers, races, bounds) and, where a GPU exists, on the GPU; both are compared
// with the reference interpreter. Without a GPU the launch's error is checked.
inline void run_or_skip(const Module& m, const std::vector<Tensor>& inputs, const Tensor& output,
                        const std::vector<std::vector<int64_t>>& shapes, double rtol = 1e-4) {
  std::vector<NDArray> args;
  for (size_t i = 0; i < inputs.size(); ++i) args.push_back(random_array(shapes[i], inputs[i].dtype(), 17 + i));
  NDArray out = NDArray::empty(shapes.back(), output.dtype());
  out.fill_poison();
  args.push_back(out);
  {
    std::vector<NDArray> in(args.begin(), args.end() - 1);
    std::vector<NDArray> expected = evaluate_reference(inputs, in, {output});
    cuda_emulate(m, args);
    EXPECT_EQ(compare_arrays(out, expected[0], rtol, 1e-4), "") << "CUDA emulator, kernel " << m.func().name;
    out.fill_poison();
  }
  if (!cuda_device_available()) {
    // The codegen + NVRTC part of the test has run; only the launch needs a GPU.
    EXPECT_TE_ERROR(m(args), "no CUDA device available", m.func().name.c_str());
    ::testing::Test::RecordProperty("gpu_run", "skipped: no CUDA device");
    return;
  }
  m(args);
  std::vector<NDArray> in(args.begin(), args.end() - 1);
  std::vector<NDArray> expected = evaluate_reference(inputs, in, {output});
  EXPECT_EQ(compare_arrays(out, expected[0], rtol, 1e-4), "");
}

}  // namespace te::testing
