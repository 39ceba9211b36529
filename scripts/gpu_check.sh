#!/usr/bin/env bash
# GPU check: builds te with CUDA on a machine with an NVIDIA GPU, runs the CUDA tests there
# (C++ `ctest -R Cuda` — including dynamic shared memory above 48 KiB, vthread kernels and the
# asynchronous-fault report — once more with TE_CUDA_SYNC_EACH_LAUNCH=1, and
# tests/python/test_cuda.py, which skip nothing when a device is present), then the GPU benchmarks (bench/matmul_cuda.py, bench/conv2d_cuda.py: te next to
# cuBLAS / cuDNN through PyTorch, TF32 off). Needs no network: it uses what the machine has
# (CUDA toolkit, CMake, a Python with NumPy + PyTorch + pybind11; LLVM 19, GoogleTest and
# nlohmann_json when present — without LLVM, te is built CUDA-only; without GoogleTest the
# C++ tests are skipped and said so).
#   bash scripts/gpu_check.sh [--no-bench] [--build-dir DIR]
# Environment: PYTHON (default python3), TE_JOBS (default: all cores).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
BUILD_DIR="build-gpu"
BENCH=1
while [ $# -gt 0 ]; do
  case "$1" in
    --no-bench) BENCH=0 ;;
    --build-dir) BUILD_DIR="$2"; shift ;;
    *) echo "gpu_check.sh: unknown argument '$1' (expected --no-bench, --build-dir DIR)" >&2; exit 2 ;;
  esac
  shift
done
PYTHON="${PYTHON:-python3}"
JOBS="${TE_JOBS:-$(nproc)}"
step() { printf '\n==> %s\n' "$*"; }

step "device"
if ! command -v nvidia-smi >/dev/null || ! nvidia-smi -L; then
  echo "gpu_check.sh: no NVIDIA GPU found (nvidia-smi); run this on the GPU machine" >&2
  exit 2
fi
"$PYTHON" -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda, torch.cuda.get_device_name(0))" \
  || echo "(PyTorch not importable: the benchmarks and the torch interop tests will be skipped)"

step "configure ($BUILD_DIR)"
opts=(-DCMAKE_BUILD_TYPE=Release -DTE_WITH_CUDA=ON -DTE_BUILD_BENCH=OFF -DTE_BUILD_PYTHON=ON
      -DPython_EXECUTABLE="$(command -v "$PYTHON")")
[ -d /usr/local/cuda/include ] && opts+=(-DTE_CUDA_INCLUDE_DIR=/usr/local/cuda/include)
if ! ls /usr/lib/llvm-19/lib/cmake/llvm/LLVMConfig.cmake >/dev/null 2>&1 && ! command -v llvm-config-19 >/dev/null; then
  echo "LLVM 19 not found: building te CUDA-only (-DTE_WITH_LLVM=OFF)"
  opts+=(-DTE_WITH_LLVM=OFF)
fi
if [ -f /usr/lib/x86_64-linux-gnu/cmake/GTest/GTestConfig.cmake ] || [ -f /usr/lib/cmake/GTest/GTestConfig.cmake ]; then
  opts+=(-DTE_BUILD_TESTS=ON); CPP_TESTS=1
else
  echo "GoogleTest not found: the C++ tests are not built (the Python CUDA tests still run)"
  opts+=(-DTE_BUILD_TESTS=OFF); CPP_TESTS=0
fi
command -v ninja >/dev/null && opts+=(-G Ninja)
cmake -S . -B "$BUILD_DIR" "${opts[@]}"

step "build (-j$JOBS)"
cmake --build "$BUILD_DIR" -j "$JOBS"

export PYTHONPATH="$ROOT/python:$ROOT/$BUILD_DIR/python${PYTHONPATH:+:$PYTHONPATH}"
status=0
if [ "$CPP_TESTS" = 1 ]; then
  step "C++ CUDA tests (ctest -R Cuda)"
  ctest --test-dir "$BUILD_DIR" --output-on-failure -R Cuda -j "$JOBS" || status=1
  # Launches synchronize once per call; the debugging switch (a sync after every launch) must
  # give the same results.
  step "C++ CUDA runs with TE_CUDA_SYNC_EACH_LAUNCH=1"
  TE_CUDA_SYNC_EACH_LAUNCH=1 ctest --test-dir "$BUILD_DIR" --output-on-failure \
    -R 'CudaRuntimeGpu|CudaLimits|CudaVthread|CudaSchedules' -j "$JOBS" || status=1
fi
step "Python CUDA tests (tests/python/test_cuda.py, tests/python/test_dlpack.py)"
"$PYTHON" -m pytest -q -rs tests/python/test_cuda.py tests/python/test_dlpack.py || status=1

if [ "$BENCH" = 1 ]; then
  step "bench/matmul_cuda.py (te vs cuBLAS)"
  "$PYTHON" bench/matmul_cuda.py || status=1
  step "bench/matmul_cuda.py --vthreads 2 (strided register tiles)"
  "$PYTHON" bench/matmul_cuda.py --vthreads 2 || status=1
  step "bench/matmul_cuda.py --dtype float16 (fp16 GEMM, float32 accumulation, vs cuBLAS fp16)"
  "$PYTHON" bench/matmul_cuda.py --dtype float16 || status=1
  step "bench/conv2d_cuda.py (te vs cuDNN)"
  "$PYTHON" bench/conv2d_cuda.py || status=1
fi
if [ "$status" = 0 ]; then step "GPU check passed"; else step "GPU check FAILED (see above)"; fi
exit "$status"
