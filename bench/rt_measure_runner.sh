#!/bin/bash
# A TE_MEASURE_RUNNER for tuning on a shared, loaded machine: runs te_measure_runner (one
# candidate's measurement) under SCHED_FIFO, holding the benchmark lock so that it never runs
# while another benchmark is timing (each candidate takes the lock for a fraction of a second).
# Builds stay at the tuner's own priority. Root (or CAP_SYS_NICE) is needed for chrt.
#   TE_MEASURE_RUNNER=$PWD/bench/rt_measure_runner.sh build/autotune ...
# TE_BENCH_LOCK: the lock file (default /work/bench.lock, else /tmp/te_bench.lock).
# TE_REAL_MEASURE_RUNNER: the runner (default build/te_measure_runner next to this script).
here="$(cd "$(dirname "$0")" && pwd)"
runner="${TE_REAL_MEASURE_RUNNER:-$here/../${BUILD_DIR:-build}/te_measure_runner}"
lock="${TE_BENCH_LOCK:-/work/bench.lock}"
[ -e "$lock" ] || lock=/tmp/te_bench.lock
exec flock "$lock" chrt -f 5 "$runner" "$@"
