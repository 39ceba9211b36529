#!/usr/bin/env bash
# te's thread pool against libgomp for parallel loops (bench/parallel_backend.cc): one process
# per run, the two backends alternating for ROUNDS rounds (default 3) so that both see the same
# machine state, at TE_NUM_THREADS (default 2).
#   usage: bench/run_parallel_backend.sh [ROUNDS]
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR="${BUILD_DIR:-build}"
ROUNDS="${1:-3}"
cmake --build "$BUILD_DIR" -j 2 --target bench_parallel_backend >/dev/null
export TE_NUM_THREADS="${TE_NUM_THREADS:-2}"
echo "| backend | threads | 4096-element parallel loop, µs | matmul 1024³ GFLOP/s | conv2d C6 GFLOP/s |"
echo "|---|---:|---:|---:|---:|"
for round in $(seq "$ROUNDS"); do
  for backend in pool gomp; do
    TE_PARALLEL_BACKEND=$backend "$BUILD_DIR/bench/bench_parallel_backend"
  done
done
