#!/bin/bash
# Tunes every workload of the `cpu-memops` set (depthwise conv2d, pooling, softmax, layer_norm
# on real networks' shapes, plus DRAM-sized shapes) into one log, for bench_tuned_cpu and
# bench_roofline.
#
#   bash bench/tune_cpu_memops.sh [TRIALS_PER_WORKLOAD [LOG]]    (defaults: 24, tuning_logs/cpu_memops_llvm.jsonl)
#
# One --op job per workload rather than `--workloads cpu-memops`: the task scheduler spends
# nearly every trial of a set job on the DRAM-sized shapes, whose time dominates the set's.
exec bash "$(dirname "$0")/tune_set_per_op.sh" cpu-memops "${1:-24}" "${2:-tuning_logs/cpu_memops_llvm.jsonl}"
