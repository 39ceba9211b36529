#!/bin/bash
# Tunes every workload of a workload set as its own --op job, into one log:
#
#   bash bench/tune_set_per_op.sh SET [TRIALS_PER_WORKLOAD [LOG]]
#        (defaults: 24 trials, tuning_logs/<SET with - as _>_llvm.jsonl)
#
# Use it instead of `autotune --workloads SET` when the set mixes very different costs: the
# task scheduler spends a set job's trials where the time is (ansor-ops: conv3d got 212 of 510
# trials and most tasks 8), while a per-workload budget gives every operator the same search.
# --trials counts the records already in the log, so rerunning resumes. 2 threads unless
# TE_NUM_THREADS says otherwise; BUILD_DIR picks the build (default build).
set -euo pipefail
cd "$(dirname "$0")/.."
SET=${1:?usage: tune_set_per_op.sh SET [TRIALS_PER_WORKLOAD [LOG]]}
TRIALS=${2:-24}
LOG=${3:-tuning_logs/${SET//-/_}_llvm.jsonl}
BUILD=${BUILD_DIR:-build}
export TE_NUM_THREADS=${TE_NUM_THREADS:-2}
# "  LABEL op key=value,..." lines of the set in --list-ops
jobs=$("$BUILD/autotune" --list-ops | awk -v set="$SET" '$0 == "  " set {on = 1; next} on && /^  [^ ]/ {on = 0} on && NF == 3 {print $2, $3}')
if [ -z "$jobs" ]; then
  echo "tune_set_per_op.sh: no workload set named '$SET' (see: $BUILD/autotune --list-ops)" >&2
  exit 2
fi
echo "$jobs" | while read -r op shape; do
  "$BUILD/autotune" --op "$op" --shape "$shape" --target llvm --trials "$TRIALS" --tuner xgb --log "$LOG" --no-progress
done
