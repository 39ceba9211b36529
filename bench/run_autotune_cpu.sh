#!/usr/bin/env bash
# The autotuner's benchmarks on this CPU (issue: tuning efficiency, cost model quality,
# compile speed, tuned kernels vs oneDNN/OpenBLAS). Long: about an hour per 1000 trials.
#
#   bench/run_autotune_cpu.sh [RANDOM_TRIALS [GUIDED_TRIALS]]     (default 500 300)
#
# 1. tunes 1024³ matmul and ResNet-18 conv C6 with random search (RANDOM_TRIALS) and with
#    the xgb and evolutionary tuners (GUIDED_TRIALS), one log per tuner in $LOG_DIR (default
#    build/bench_logs; rerunning resumes every log where it stopped);
# 2. prints best GFLOP/s against trials per tuner, the trials each needed to reach random
#    search's final best, and the median build time per candidate (bench/tuning_curves.py);
# 3. cross-validates the cost model on the random-search logs (bench_cost_model_quality);
# 4. runs the best kernels of the xgb logs next to oneDNN and OpenBLAS at 1 and 2 threads,
#    each thread count in its own process (bench_tuned_cpu).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR="${BUILD_DIR:-build}"
LOG_DIR="${LOG_DIR:-$BUILD_DIR/bench_logs}"
RANDOM_TRIALS="${1:-500}"
GUIDED_TRIALS="${2:-300}"

if [ ! -x "$BUILD_DIR/autotune" ] || [ ! -d "$BUILD_DIR/bench" ]; then
  bash scripts/setup.sh
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release -DTE_BUILD_BENCH=ON >/dev/null
fi
cmake --build "$BUILD_DIR" -j 2 --target autotune te_measure_runner bench_cost_model_quality bench_tuned_cpu >/dev/null
mkdir -p "$LOG_DIR"

# The kernels being tuned use both cores, like the ones benchmarked at the end.
export TE_NUM_THREADS="${TE_NUM_THREADS:-2}"
WORKLOADS=(
  "matmul m=1024,n=1024,k=1024"
  "conv2d n=1,c=128,h=28,w=28,k=128,r=3,s=3,stride=1,pad=1"
)
for workload in "${WORKLOADS[@]}"; do
  read -r op shape <<<"$workload"
  for tuner in random xgb evolutionary; do
    trials=$GUIDED_TRIALS
    [ "$tuner" = random ] && trials=$RANDOM_TRIALS
    echo "==> $op $shape: $tuner, $trials trials" >&2
    "$BUILD_DIR/autotune" --op "$op" --shape "$shape" --tuner "$tuner" --trials "$trials" \
      --log "$LOG_DIR/${op}_${tuner}.jsonl" --no-progress >/dev/null
  done
done

for workload in "${WORKLOADS[@]}"; do
  read -r op shape <<<"$workload"
  echo
  python3 bench/tuning_curves.py "random=$LOG_DIR/${op}_random.jsonl" "xgb=$LOG_DIR/${op}_xgb.jsonl" \
    "evolutionary=$LOG_DIR/${op}_evolutionary.jsonl"
  "$BUILD_DIR/bench/bench_cost_model_quality" "$LOG_DIR/${op}_random.jsonl" "$op" "$shape"
done

export OPENBLAS_CORETYPE="${OPENBLAS_CORETYPE:-SkylakeX}"
for threads in 1 2; do
  echo
  TE_NUM_THREADS=$threads OMP_NUM_THREADS=$threads OPENBLAS_NUM_THREADS=$threads \
    "$BUILD_DIR/bench/bench_tuned_cpu" "$LOG_DIR/matmul_xgb.jsonl" "$LOG_DIR/conv2d_xgb.jsonl"
done
