#!/bin/bash
# Tunes the `cpu-memops` workload set (depthwise conv2d, pooling, softmax, layer_norm on real
# networks' shapes, plus DRAM-sized shapes) into one log, for bench_tuned_cpu and bench_roofline.
#
#   bash bench/tune_cpu_memops.sh [PER_WORKLOAD_TRIALS [LOG]]     (defaults: 48, tuning_logs/cpu_memops_llvm.jsonl)
#
# One job over the set first (the task scheduler spends its trials where the set's total time
# is: the DRAM-sized shapes), then every workload topped up to PER_WORKLOAD_TRIALS records of
# its own (--trials counts the records already in the log, so rerunning resumes). 2 threads.
set -euo pipefail
cd "$(dirname "$0")/.."
TRIALS=${1:-48}
LOG=${2:-tuning_logs/cpu_memops_llvm.jsonl}
BUILD=${BUILD_DIR:-build}
export TE_NUM_THREADS=${TE_NUM_THREADS:-2}
"$BUILD/autotune" --workloads cpu-memops --target llvm --trials 400 --tuner xgb --log "$LOG" --no-progress
# "  LABEL op key=value,..." lines of the set in --list-ops
"$BUILD/autotune" --list-ops | awk '/^  cpu-memops$/ {on = 1; next} on && /^  [^ ]/ {on = 0} on && NF == 3 {print $2, $3}' |
  while read -r op shape; do
    "$BUILD/autotune" --op "$op" --shape "$shape" --target llvm --trials "$TRIALS" --tuner xgb --log "$LOG" --no-progress
  done
