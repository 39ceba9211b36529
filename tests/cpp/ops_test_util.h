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

// float16 (declared here, defined in test_util.cc next to compare_arrays; test_util.h is left
// unchanged so every other test keeps its compiled object): fill_random / random_array fill
// float16 arrays with uniform values in [-1, 1] rounded to binary16. compare_half_arrays: |a - b|
// <= ulps units in the last place of binary16 at b (2^(e-10) for |b| in [2^e, 2^(e+1)), 2^-24
// below 2^-14), so a float32-accumulated result rounded to float16 may differ from the reference
// by a rounding flip of `ulps` and no more. "" on success. build_run_compare uses it (1 ulp)
// for float16 outputs.
std::string compare_half_arrays(const NDArray& actual, const NDArray& expected, double ulps = 1);

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

// The run-and-compare loops the GEMM tests share. sweep_llvm_against: every config of `indices`
// instantiates (a te::Error is a failure: every CPU config of these templates is legal by
// construction), builds for llvm and matches ref (output NaN-prefilled); returns how many ran.
int sweep_llvm_against(const autotune::Task& task, const Reference& ref, const std::vector<int64_t>& indices,
                       double atol = 1e-4);
// Instantiates cfg of a cuda task into inst: false when the config is over a CUDA limit (the
// te::Error must name the limit; anything else is a failure).
bool instantiate_within_cuda_limits(const autotune::Task& task, const autotune::Config& cfg,
                                    autotune::Instance& inst);
// Runs inst built for cuda on ref's inputs and expects ref's output: true when it ran, false
// (no failure) when this machine has no CUDA device.
bool run_cuda_if_device(const autotune::Instance& inst, const Reference& ref, double atol = 1e-4);

// The "nontemporal" knob of an llvm task (define_nontemporal_knob): where `offered`, each of its
// choices (the others at their defaults) matches the reference and the kernel has streaming
// stores (and the fence) exactly when the choice is 1 — on x86 hosts; elsewhere the choices
// only have to match. Where not offered, the knob has the single choice 0.
void check_nontemporal_knob(const std::string& op, const std::vector<int64_t>& args, bool offered, double atol = 1e-4);

// Whether the schedule applied `primitive` ("split", "compute_at", ...).
bool has_step(const Schedule& s, const std::string& primitive);

// Whether CUDA C compiles to PTX here (te built with CUDA and NVRTC loadable); else `why`.
bool nvrtc_works(std::string& why);

}  // namespace te::testing

namespace te::testing {

// The shared correctness sweeps of an operator template (registered built-ins):
// sweep_llvm_configs runs the default config and `count` random configs of op(args) on "llvm"
// against the reference interpreter (outputs NaN-prefilled); every CPU config must be legal.
void sweep_llvm_configs(const std::string& op, const std::vector<int64_t>& args, int count, uint64_t seed,
                        double atol = 1e-4);
// Builds inst for "cuda" and runs it in the CUDA emulator (te::cuda_emulate: GPU semantics, race
// and bounds checks) on ref's inputs, output NaN-prefilled: "" or what differs / the
// emulator's error. Needs no GPU, so GPU schedules are checked numerically everywhere.
std::string emulate_compare(const autotune::Instance& inst, const Reference& ref, double atol = 1e-4);

// The default and `count` random "cuda" configs of op(args): those within the CUDA limits (the
// others must be te::Errors naming a limit) generate CUDA C that NVRTC compiles, and run and
// match the reference in the CUDA emulator, and on the GPU where one exists. At least
// `min_compiled` must compile; each CUDA C source must contain `required_source` when given
// (e.g. "__shared__" for a template that stages tiles). Call only when nvrtc_works().
void sweep_cuda_configs(const std::string& op, const std::vector<int64_t>& args, int count, uint64_t seed,
                        int min_compiled = 3, const std::string& required_source = "");
// The derived (template-free) space on the template's compute (auto_task over its default
// instance's arguments): `count` random llvm configs match the reference; when cuda_too and NVRTC
// works, random cuda configs compile (at least one).
void sweep_derived_space(const std::string& op, const std::vector<int64_t>& args, int count, uint64_t seed,
                         bool cuda_too = true);

}  // namespace te::testing
