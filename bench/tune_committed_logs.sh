#!/bin/bash
# Regenerates the committed CPU tuning logs (tuning_logs/README.md says which command made each
# one; this runs them in one go, on an idle machine: tuning measures wall-clock time, and a
# loaded machine ranks configs wrongly). 2 threads. Takes about 20 minutes on the idle 2-core machine B, about 70 on machine C (GEMM 39).
#
#   bash bench/tune_committed_logs.sh [PART ...]     PART: conv-nchwc memops norm ansor gemm conv
#                                                    (default: all, in that order)
#
# Each log is started afresh (the records of an old template version would replay their old
# steps); set KEEP=1 to keep them instead: the tuner resumes this machine's records (--trials
# counts those) and leaves other machines' alone, so on a new machine KEEP=1 appends its own set.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD_DIR:-build}
export TE_NUM_THREADS=${TE_NUM_THREADS:-2}
fresh() { [ "${KEEP:-0}" = 1 ] || rm -f "$@"; }
tune() { "$BUILD/autotune" "$@" --target llvm --tuner xgb --no-progress --refine 4; }
parts=${*:-conv-nchwc memops norm ansor gemm conv}
for part in $parts; do
  echo "== $part ($(date -u +%H:%M:%S))"
  case $part in
    conv-nchwc)
      fresh tuning_logs/resnet18_conv_nchwc_llvm.jsonl
      tune --workloads resnet18-conv-nchwc --trials 1200 --log tuning_logs/resnet18_conv_nchwc_llvm.jsonl ;;
    memops)
      fresh tuning_logs/cpu_memops_llvm.jsonl tuning_logs/cpu_memops_nchwc_llvm.jsonl
      bash bench/tune_cpu_memops.sh 48 ;;
    norm)
      fresh tuning_logs/bert_norm_llvm.jsonl
      tune --op softmax --shape m=128,n=768 --trials 64 --log tuning_logs/bert_norm_llvm.jsonl
      tune --op layer_norm --shape m=128,n=768 --trials 64 --log tuning_logs/bert_norm_llvm.jsonl ;;
    ansor)
      fresh tuning_logs/ansor_ops_llvm.jsonl
      bash bench/tune_set_per_op.sh ansor-ops 32 tuning_logs/ansor_ops_llvm.jsonl ;;
    gemm)
      fresh tuning_logs/bert_gemm_llvm.jsonl tuning_logs/gemm_llvm.jsonl
      tune --workloads bert-gemm --trials 1500 --log tuning_logs/bert_gemm_llvm.jsonl
      # the task scheduler spends the set's budget on the big GEMMs; the attention ones get more
      tune --op batch_matmul --shape b=12,m=128,n=128,k=64,trans_a=0,trans_b=1 --trials 300 --log tuning_logs/bert_gemm_llvm.jsonl
      tune --op batch_matmul --shape b=12,m=128,n=64,k=128,trans_a=0,trans_b=0 --trials 300 --log tuning_logs/bert_gemm_llvm.jsonl
      tune --op matmul --shape m=128,n=768,k=768 --trials 400 --log tuning_logs/bert_gemm_llvm.jsonl
      tune --op matmul --shape m=512,n=512,k=512 --trials 300 --log tuning_logs/gemm_llvm.jsonl
      tune --op matmul --shape m=1024,n=1024,k=1024 --trials 300 --log tuning_logs/gemm_llvm.jsonl
      tune --op matmul --shape m=2048,n=2048,k=2048 --trials 300 --log tuning_logs/gemm_llvm.jsonl ;;
    conv)  # ResNet-18 C1-C12 in NCHW (conv2d)
      fresh tuning_logs/resnet18_conv_llvm.jsonl
      tune --workloads resnet18-conv --trials 2400 --log tuning_logs/resnet18_conv_llvm.jsonl ;;
    *) echo "tune_committed_logs.sh: unknown part '$part' (conv-nchwc memops norm ansor gemm conv)" >&2; exit 2 ;;
  esac
done
echo "== done ($(date -u +%H:%M:%S))"
