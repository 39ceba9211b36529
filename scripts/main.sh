#!/usr/bin/env bash
# The main job (the README's first command): installs what is missing, builds Release in
# ./build, then
#   1. tunes a default workload with the `autotune` command — a 512³ fp32 matmul on this CPU,
#      64 trials of the XGBoost-guided search, progress bar on stderr — appending every
#      measured candidate to build/main_matmul_llvm.jsonl (a second run resumes from that log
#      and, with the trials already there, measures nothing new);
#   2. prints the best record of the log: GFLOP/s, its config and its schedule as Python;
#   3. runs examples/matmul_cpu — a hand-scheduled 1024³ fp32 matmul compiled by te, timed
#      next to oneDNN's dnnl_sgemm in the same process, its result checked against oneDNN's.
# Arguments are passed on to matmul_cpu: scripts/main.sh [M N K]. Environment:
#   TE_JOBS (build jobs, default 2), TE_BUILD_DIR (default build),
#   TE_MAIN_TRIALS (default 64), TE_MAIN_TUNER (default xgb).
# Under a minute on 2 cores once built (64 trials took 9 s here); the first build about 5 minutes.
set -euo pipefail
cd "$(dirname "$0")/.."
JOBS="${TE_JOBS:-2}"
BUILD_DIR="${TE_BUILD_DIR:-build}"  # developers may point it at their own tree
TRIALS="${TE_MAIN_TRIALS:-64}"
TUNER="${TE_MAIN_TUNER:-xgb}"
step() { printf '\n==> %s\n' "$*"; }

step "setup (scripts/setup.sh)"
bash scripts/setup.sh

step "configure + build: Release in ./$BUILD_DIR"
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DTE_DEV_ALLOW_UNDEFINED=OFF >/dev/null
cmake --build "$BUILD_DIR" -j "$JOBS" --target autotune te_measure_runner matmul_cpu

# Every core for both te's thread pool and oneDNN's OpenMP threads.
threads="$(nproc)"
export TE_NUM_THREADS="${TE_NUM_THREADS:-$threads}"
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-$threads}"

LOG="$BUILD_DIR/main_matmul_llvm.jsonl"
TUNE_ARGS=(--op matmul --target llvm --shape m=512,n=512,k=512)
step "tune: $BUILD_DIR/autotune ${TUNE_ARGS[*]} --trials $TRIALS --tuner $TUNER --log $LOG"
# Exit code 2 (no valid candidate) or any other failure stops the job here, with the reason
# printed by autotune.
"$BUILD_DIR/autotune" "${TUNE_ARGS[@]}" --trials "$TRIALS" --tuner "$TUNER" --log "$LOG"

step "best record: $BUILD_DIR/autotune best --log $LOG ${TUNE_ARGS[*]}"
"$BUILD_DIR/autotune" best --log "$LOG" "${TUNE_ARGS[@]}"

step "run: $BUILD_DIR/matmul_cpu $* (TE_NUM_THREADS=$TE_NUM_THREADS OMP_NUM_THREADS=$OMP_NUM_THREADS)"
exec "$BUILD_DIR/matmul_cpu" "$@"
