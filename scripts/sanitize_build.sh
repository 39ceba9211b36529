#!/usr/bin/env bash
# Configures and builds the sanitizer tree ./build-asan: libte and a subset of the C++ tests
# with AddressSanitizer + UndefinedBehaviorSanitizer (clang-14, UBSan non-recoverable so a
# finding fails the test), plus the libFuzzer targets of tests/fuzz/libfuzzer. Used by
# scripts/test.sh (CI) and scripts/fuzz_parsers.sh (the long fuzz run).
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS="${TE_JOBS:-2}"
ASAN_DIR="${TE_ASAN_BUILD_DIR:-build-asan}"

# The C++ tests the sanitizer build runs. A full ASan build of every test takes too long for
# CI's 40 minutes on 2 cores, so these cover each layer once, chosen for what ASan/UBSan can
# find there: the IR simplifier and interpreter (integer arithmetic: overflow, shifts, floor
# division), schedule steps and their error paths (untrusted JSON), lowering and the target
# parser, LLVM codegen + JIT and the runtime (buffers, thread pool, concurrency stress
# test), the end-to-end pipeline and misuse tests (every error path frees what it built),
# one schedule-equivalence suite (matmul), and the autotuner's log reader, untrusted-log
# tests and measurement (forked child processes, the runner program). Not here: the other
# equivalence/operator suites (the same code paths on more shapes, ~10x the time under
# ASan), the CUDA tests (NVRTC is a closed third-party library) and the tuner/cost-model
# tests (XGBoost is third-party; tuning runs minutes under ASan).
TE_SANITIZE_TESTS=(
  test_ir_simplify test_ir_interpreter
  test_schedule_steps test_schedule_errors
  test_lower_target
  test_codegen_llvm test_runtime_module test_runtime_thread_pool test_runtime_concurrency
  test_e2e_misuse test_e2e_pipeline test_equiv_matmul
  test_autotune_log test_autotune_untrusted test_autotune_measure
)

CC=clang-14 CXX=clang++-14 cmake -S . -B "$ASAN_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  "-DCMAKE_CXX_FLAGS_RELWITHDEBINFO=-O1 -g1" "-DCMAKE_C_FLAGS_RELWITHDEBINFO=-O1 -g1" \
  -DTE_SANITIZE=ON -DTE_FUZZ=ON -DTE_BUILD_TESTS=ON -DTE_BUILD_BENCH=OFF -DTE_BUILD_PYTHON=OFF \
  -DTE_DEV_ALLOW_UNDEFINED=OFF "-DTE_TEST_SUBSET=$(IFS=';'; echo "${TE_SANITIZE_TESTS[*]}")" \
  "-DTE_FUZZ_SECONDS=${TE_CTEST_FUZZ_SECONDS:-20}" >/dev/null  # each fuzz target's CTest run
cmake --build "$ASAN_DIR" -j "$JOBS"
