#!/usr/bin/env bash
# GPU tuning session for issue 6's GPU tables, on the lent GPU machine (after, or instead of,
# scripts/gpu_check.sh, whose build it reuses): tunes ResNet-18's conv layers C1-C12, the BERT
# GEMMs and the 4096^3 fp32 / fp16 GEMMs for target cuda into tuning_logs/*_cuda.jsonl, then
# runs bench/tuned_cuda.py (te's best records next to cuDNN / cuBLAS, TF32 off, each result
# checked against torch) and copies the logs and the table to the output folder.
#   bash scripts/gpu_kit.sh                      # on the build machine, once: carry .gpukit
#   bash scripts/gpu_tune.sh [--trials N] [--build-dir DIR] [--out DIR] [--skip-tune] [--step-seconds S]
# --trials: trials per workload (default 32; the logs resume, so a rerun with a larger N goes on
# where the last stopped). --step-seconds: each tuning job is stopped after S seconds (default
# 180), so one slow set cannot take the device call's whole 10 minutes; its log keeps every
# record measured (append-only), and a rerun resumes it. --out: where the logs and tuned_cuda.md go (default $OUT when set, as
# on the device tool's machine, else ./gpu_out). Without XGBoost in the build (no .gpukit) the
# xgb tuner searches at random (it says so). Exit status: 0 when every step passed.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
BUILD_DIR="build-gpu"
PER=32
OUT_DIR="${OUT:-$ROOT/gpu_out}"
TUNE=1
STEP_SECONDS=180
while [ $# -gt 0 ]; do
  case "$1" in
    --trials) PER="$2"; shift ;;
    --build-dir) BUILD_DIR="$2"; shift ;;
    --out) OUT_DIR="$2"; shift ;;
    --skip-tune) TUNE=0 ;;
    --step-seconds) STEP_SECONDS="$2"; shift ;;
    *) echo "gpu_tune.sh: unknown argument '$1' (expected --trials N, --build-dir DIR, --out DIR, --skip-tune, --step-seconds S)" >&2
       exit 2 ;;
  esac
  shift
done
case "$PER" in '' | *[!0-9]*) echo "gpu_tune.sh: --trials must be a positive integer, got '$PER'" >&2; exit 2 ;; esac
case "$STEP_SECONDS" in '' | *[!0-9]*) echo "gpu_tune.sh: --step-seconds must be a positive integer, got '$STEP_SECONDS'" >&2; exit 2 ;; esac
PYTHON="${PYTHON:-python3}"
step() { printf '\n==> %s (%s)\n' "$*" "$(date -u +%H:%M:%S)"; }
mkdir -p "$OUT_DIR"

if [ ! -x "$BUILD_DIR/autotune" ]; then
  bash scripts/gpu_check.sh --build-only --build-dir "$BUILD_DIR" || exit 1
fi
KIT_LIB="$ROOT/.gpukit/root/usr/lib/x86_64-linux-gnu"
[ -d "$KIT_LIB" ] && export LD_LIBRARY_PATH="$KIT_LIB${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export PYTHONPATH="$ROOT/python:$ROOT/$BUILD_DIR/python${PYTHONPATH:+:$PYTHONPATH}"
AUTOTUNE="$ROOT/$BUILD_DIR/autotune"
# Candidates compile with NVRTC on every core; each runs alone (timings undisturbed).
COMMON=(--target cuda --tuner xgb --batch 16 --min-repeat-ms 10 --timeout 10)
CONV_LOG=tuning_logs/resnet18_conv_cuda.jsonl
BERT_LOG=tuning_logs/bert_gemm_cuda.jsonl
GEMM_LOG=tuning_logs/gemm_cuda.jsonl
status=0
# One tuning job under the step time limit: a job stopped by it (status 124) is cut short, not
# failed — its log holds what it measured.
tune() {
  timeout --signal=INT --kill-after=20 "$STEP_SECONDS" "$AUTOTUNE" "$@"
  local rc=$?
  if [ "$rc" = 124 ]; then echo "gpu_tune.sh: stopped after $STEP_SECONDS s (the log resumes on a rerun)"; return 0; fi
  return "$rc"
}
if [ "$TUNE" = 1 ]; then
  step "tune resnet18-conv (12 x $PER trials)"
  tune --workloads resnet18-conv "${COMMON[@]}" --trials $((12 * PER)) --log "$CONV_LOG" || status=1
  step "tune bert-gemm (5 x $PER trials)"
  tune --workloads bert-gemm "${COMMON[@]}" --trials $((5 * PER)) --log "$BERT_LOG" || status=1
  step "tune matmul 4096^3 fp32 and fp16 ($PER trials each)"
  tune --op matmul --shape m=4096,n=4096,k=4096 "${COMMON[@]}" --trials "$PER" --log "$GEMM_LOG" || status=1
  tune --op matmul --dtype float16 --shape m=4096,n=4096,k=4096 "${COMMON[@]}" --trials "$PER" \
    --log "$GEMM_LOG" || status=1
fi
step "bench/tuned_cuda.py (te's best records vs cuDNN / cuBLAS)"
logs=()
for log in "$CONV_LOG" "$BERT_LOG" "$GEMM_LOG"; do [ -f "$log" ] && logs+=("$log"); done
"$PYTHON" bench/tuned_cuda.py "${logs[@]}" --extra matmul:4096,4096,4096 --extra matmul_fp16:4096,4096,4096 \
  --markdown "$OUT_DIR/tuned_cuda.md" || status=1
for log in "${logs[@]}"; do cp "$log" "$OUT_DIR/"; done
"$AUTOTUNE" best --log "$CONV_LOG" > "$OUT_DIR/best_conv_cuda.txt" 2>&1 || true
if [ "$status" = 0 ]; then step "GPU tuning passed; logs and tuned_cuda.md in $OUT_DIR"; else step "GPU tuning: a step FAILED (see above)"; fi
exit "$status"
