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
set -euo pipefail
here=$(dirname "$0")
bash "$here/tune_set_per_op.sh" cpu-memops "${1:-24}" "${2:-tuning_logs/cpu_memops_llvm.jsonl}"
bash "$here/tune_set_per_op.sh" cpu-memops-nchwc "${1:-24}" "${3:-tuning_logs/cpu_memops_nchwc_llvm.jsonl}"
