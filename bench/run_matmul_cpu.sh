#!/usr/bin/env bash
# Runs bench_matmul_cpu at 1 and then 2 threads, each in its own process (switching a
# library's thread count inside one process gave erratic numbers on these VMs), and prints
# both tables. Builds the benchmark (Release, in $BUILD_DIR, default ./build) if needed.
#   usage: bench/run_matmul_cpu.sh [M N K [repeats]]      (default 1024 1024 1024 10)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR="${BUILD_DIR:-build}"
M="${1:-1024}" N="${2:-1024}" K="${3:-1024}" REPEATS="${4:-10}"

if [ ! -x "$BUILD_DIR/bench/bench_matmul_cpu" ]; then
  bash scripts/setup.sh
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DTE_BUILD_BENCH=ON >/dev/null
fi
cmake --build "$BUILD_DIR" -j 2 --target bench_matmul_cpu >/dev/null

# Debian's OpenBLAS 0.3.21 does not recognise recent CPUs (Zen 5 among them) and falls back
# to AVX2 kernels; SkylakeX selects its AVX-512 kernels. The tables print it.
export OPENBLAS_CORETYPE="${OPENBLAS_CORETYPE:-SkylakeX}"
for threads in 1 2; do
  export TE_NUM_THREADS="$threads" OMP_NUM_THREADS="$threads" OPENBLAS_NUM_THREADS="$threads"
  echo "================ $threads thread(s) ================"
  "$BUILD_DIR/bench/bench_matmul_cpu" "$M" "$N" "$K" "$threads" "$REPEATS"
  echo
done
