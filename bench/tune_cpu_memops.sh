#!/bin/bash
# Tunes every workload of the `cpu-memops` set (depthwise conv2d, pooling, softmax, layer_norm
# on real networks' shapes, plus DRAM-sized shapes) into one log and of `cpu-memops-nchwc` (the
# depthwise and pooling shapes in NCHW16c) into another, for bench_tuned_cpu and bench_roofline.
#
#   bash bench/tune_cpu_memops.sh [TRIALS_PER_WORKLOAD [LOG [NCHWC_LOG]]]
#   (defaults: 24, tuning_logs/cpu_memops_llvm.jsonl, tuning_logs/cpu_memops_nchwc_llvm.jsonl)
#
# One --op job per workload rather than `--workloads cpu-memops`: the task scheduler spends
# nearly every trial of a set job on the DRAM-sized shapes, whose time dominates the set's.
# --trials counts the records already in the log, so rerunning resumes. 2 threads.
set -euo pipefail
cd "$(dirname "$0")/.."
TRIALS=${1:-24}
LOG=${2:-tuning_logs/cpu_memops_llvm.jsonl}
NCHWC_LOG=${3:-tuning_logs/cpu_memops_nchwc_llvm.jsonl}
BUILD=${BUILD_DIR:-build}
export TE_NUM_THREADS=${TE_NUM_THREADS:-2}
# "SET op key=value,..." for the "  LABEL op key=value,..." lines of the two sets in --list-ops
"$BUILD/autotune" --list-ops |
  awk '/^  cpu-memops(-nchwc)?$/ {set = $1; next} set != "" && /^  [^ ]/ {set = ""} set != "" && NF == 3 {print set, $2, $3}' |
  while read -r set op shape; do
    log=$LOG
    [ "$set" = cpu-memops-nchwc ] && log=$NCHWC_LOG
    "$BUILD/autotune" --op "$op" --shape "$shape" --target llvm --trials "$TRIALS" --tuner xgb --log "$log" --no-progress
  done
