#!/usr/bin/env bash
# The main job (the README's first command): installs what is missing, builds Release in
# ./build and runs examples/matmul_cpu — a hand-scheduled 1024³ fp32 matmul compiled by te,
# timed next to oneDNN's dnnl_sgemm in the same process, its result checked against oneDNN's.
# Arguments are passed on: scripts/main.sh [M N K]. (A later issue turns this into a tuning run.)
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS="${TE_JOBS:-2}"
BUILD_DIR="${TE_BUILD_DIR:-build}"  # developers may point it at their own tree
step() { printf '\n==> %s\n' "$*"; }

step "setup (scripts/setup.sh)"
bash scripts/setup.sh

step "configure + build: Release in ./$BUILD_DIR"
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DTE_DEV_ALLOW_UNDEFINED=OFF >/dev/null
cmake --build "$BUILD_DIR" -j "$JOBS" --target matmul_cpu

# Every core for both te's thread pool and oneDNN's OpenMP threads.
threads="$(nproc)"
export TE_NUM_THREADS="${TE_NUM_THREADS:-$threads}"
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-$threads}"
step "run: $BUILD_DIR/matmul_cpu $* (TE_NUM_THREADS=$TE_NUM_THREADS OMP_NUM_THREADS=$OMP_NUM_THREADS)"
exec "$BUILD_DIR/matmul_cpu" "$@"
