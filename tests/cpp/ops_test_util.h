// tests/cpp/ops_test_util.h — helpers shared by the operator-library tests (test_ops_*.cc):
// reference outputs for a template's instance, building and comparing a config's kernel,
// random configs of a space, and whether NVRTC works here.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "te/autotune/task.h"
#include "test_util.h"

namespace te::testing {

// Random inputs (every argument but the last is an input) and the expected output for them,
// computed once per task: the interpreter is slow, and every config computes the same function.
struct Reference {
  std::vector<NDArray> inputs;
  NDArray expected;
};
// The reference interpreter's output of inst on inputs from `seed` (seed + i for argument i).
Reference make_reference(const autotune::Instance& inst, uint64_t seed);

// Builds inst for target, runs it on ref's inputs into a poisoned (NaN) output and compares
// with ref's output. "" when equal; throws what build and the call throw.
std::string build_run_compare(const autotune::Instance& inst, const std::string& target, const Reference& ref,
                              double atol = 1e-4);
std::string build_run_compare(const autotune::Instance& inst, const std::string& target, uint64_t seed);

// `count` distinct flat indices of the task's space from a fixed seed (all of them when the
// space is smaller).
std::vector<int64_t> random_indices(const autotune::Task& task, int count, uint64_t seed);

// Whether the schedule applied `primitive` ("split", "compute_at", ...).
bool has_step(const Schedule& s, const std::string& primitive);

// Whether CUDA C compiles to PTX here (te built with CUDA and NVRTC loadable); else `why`.
bool nvrtc_works(std::string& why);

}  // namespace te::testing
