#!/usr/bin/env bash
# GPU check: builds te with CUDA on a machine with an NVIDIA GPU, runs the CUDA tests there
# (C++ `ctest -R Cuda` — including dynamic shared memory above 48 KiB, vthread kernels and the
# asynchronous-fault report — once more with TE_CUDA_SYNC_EACH_LAUNCH=1, and
# tests/python/test_cuda.py, which skip nothing when a device is present), then the GPU benchmarks (bench/matmul_cuda.py, bench/conv2d_cuda.py: te next to
# cuBLAS / cuDNN through PyTorch, TF32 off). Needs no network: it uses what the machine has
# (CUDA toolkit, CMake, a Python with NumPy + PyTorch + pybind11; LLVM 19, GoogleTest and
# nlohmann_json when present — without LLVM, te is built CUDA-only; without GoogleTest the
# C++ tests are skipped and said so). The lent GPU machine reaches no package registry and has
# neither nlohmann_json nor GoogleTest: run `bash scripts/gpu_kit.sh` here first and carry
# `.gpukit` (Debian's packages of both, unpacked; found through CMAKE_PREFIX_PATH).
# Only the C++ CUDA tests (tests/cpp/test_cuda_*.cc, and test_autotune_measure for its Cuda*
# tests: candidates measured on the GPU) are built, to save the machine's minutes.
#   bash scripts/gpu_check.sh [--no-bench] [--build-dir DIR] [--cuda-only] [--build-only]
# --cuda-only builds without LLVM even where LLVM 19 is installed (as on the GPU machine);
# --build-only configures and builds, then stops (no GPU needed: checks the build here).
# Environment: PYTHON (default python3), TE_JOBS (default: all cores).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
BUILD_DIR="build-gpu"
BENCH=1
CUDA_ONLY=0
BUILD_ONLY=0
while [ $# -gt 0 ]; do
  case "$1" in
    --no-bench) BENCH=0 ;;
    --build-dir) BUILD_DIR="$2"; shift ;;
    --cuda-only) CUDA_ONLY=1 ;;
    --build-only) BUILD_ONLY=1 ;;
    *) echo "gpu_check.sh: unknown argument '$1' (expected --no-bench, --build-dir DIR, --cuda-only, --build-only)" >&2
       exit 2 ;;
  esac
  shift
done
PYTHON="${PYTHON:-python3}"
JOBS="${TE_JOBS:-$(nproc)}"
step() { printf '\n==> %s\n' "$*"; }

step "device"
if [ "$BUILD_ONLY" = 0 ] && { ! command -v nvidia-smi >/dev/null || ! nvidia-smi -L; }; then
  echo "gpu_check.sh: no NVIDIA GPU found (nvidia-smi); run this on the GPU machine (or --build-only)" >&2
  exit 2
fi
"$PYTHON" -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda, torch.cuda.get_device_name(0))" \
  || echo "(PyTorch not importable: the benchmarks and the torch interop tests will be skipped)"

step "configure ($BUILD_DIR)"
opts=(-DCMAKE_BUILD_TYPE=Release -DTE_WITH_CUDA=ON -DTE_BUILD_BENCH=OFF -DTE_BUILD_PYTHON=ON
      -DPython_EXECUTABLE="$(command -v "$PYTHON")")
[ -d /usr/local/cuda/include ] && opts+=(-DTE_CUDA_INCLUDE_DIR=/usr/local/cuda/include)
KIT_PREFIX="$ROOT/.gpukit/root/usr"
if [ -d "$KIT_PREFIX" ]; then
  echo "using the GPU kit in .gpukit (nlohmann_json, GoogleTest, XGBoost)"
  opts+=(-DCMAKE_PREFIX_PATH="$KIT_PREFIX")
  export LD_LIBRARY_PATH="$KIT_PREFIX/lib/x86_64-linux-gnu${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"  # libdmlc
elif [ ! -f /usr/share/cmake/nlohmann_json/nlohmann_jsonConfig.cmake ] && [ ! -f /usr/lib/cmake/nlohmann_json/nlohmann_jsonConfig.cmake ]; then
  echo "gpu_check.sh: nlohmann_json not found and no .gpukit: run 'bash scripts/gpu_kit.sh' on the build machine and carry .gpukit" >&2
  exit 2
fi
# pybind11 compiles against the interpreter's headers.
PY_INCLUDE="$("$PYTHON" -c 'import sysconfig; print(sysconfig.get_paths()["include"])')"
PY_VERSION="$("$PYTHON" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')"
if [ ! -f "$PY_INCLUDE/Python.h" ] && [ -f "$ROOT/.gpukit/python$PY_VERSION/Python.h" ]; then
  echo "Python.h missing from $PY_INCLUDE: using the kit's Python $PY_VERSION headers"
  PY_INCLUDE="$ROOT/.gpukit/python$PY_VERSION"
  opts+=(-DPython_INCLUDE_DIR="$PY_INCLUDE")
fi
if [ ! -f "$PY_INCLUDE/Python.h" ]; then
  echo "gpu_check.sh: $PY_INCLUDE/Python.h missing: building without the Python package (no Python tests, no benchmarks)"
  opts=("${opts[@]/-DTE_BUILD_PYTHON=ON/-DTE_BUILD_PYTHON=OFF}")
  PY_OK=0
else
  PY_OK=1
fi
if [ "$CUDA_ONLY" = 1 ]; then
  opts+=(-DTE_WITH_LLVM=OFF)
elif ! ls /usr/lib/llvm-19/lib/cmake/llvm/LLVMConfig.cmake >/dev/null 2>&1 && ! command -v llvm-config-19 >/dev/null; then
  echo "LLVM 19 not found: building te CUDA-only (-DTE_WITH_LLVM=OFF)"
  opts+=(-DTE_WITH_LLVM=OFF)
fi
if [ -f "$KIT_PREFIX/lib/x86_64-linux-gnu/cmake/GTest/GTestConfig.cmake" ] ||
   [ -f /usr/lib/x86_64-linux-gnu/cmake/GTest/GTestConfig.cmake ] || [ -f /usr/lib/cmake/GTest/GTestConfig.cmake ]; then
  # test_autotune_measure: its Cuda* tests measure candidates on the GPU through the runner.
  cuda_tests="$(cd tests/cpp && ls test_cuda_*.cc | sed 's/\.cc$//' | paste -sd';');test_autotune_measure"
  opts+=(-DTE_BUILD_TESTS=ON "-DTE_TEST_SUBSET=$cuda_tests"); CPP_TESTS=1
else
  echo "GoogleTest not found: the C++ tests are not built (the Python CUDA tests still run)"
  opts+=(-DTE_BUILD_TESTS=OFF); CPP_TESTS=0
fi
command -v ninja >/dev/null && opts+=(-G Ninja)
cmake -S . -B "$BUILD_DIR" "${opts[@]}"

step "build (-j$JOBS)"
cmake --build "$BUILD_DIR" -j "$JOBS"
if [ "$BUILD_ONLY" = 1 ]; then step "built (--build-only: nothing run)"; exit 0; fi

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
if [ "$PY_OK" = 1 ]; then
  step "Python CUDA tests (tests/python/test_cuda.py)"
  "$PYTHON" -m pytest -q -rs tests/python/test_cuda.py || status=1
fi

if [ "$BENCH" = 1 ] && [ "$PY_OK" = 1 ]; then
  step "bench/matmul_cuda.py (te vs cuBLAS)"
  "$PYTHON" bench/matmul_cuda.py || status=1
  step "bench/matmul_cuda.py --vthreads 2 (strided register tiles)"
  "$PYTHON" bench/matmul_cuda.py --vthreads 2 || status=1
  step "bench/matmul_cuda.py --vthreads 2 --double-buffer (and double-buffered shared tiles)"
  "$PYTHON" bench/matmul_cuda.py --vthreads 2 --double-buffer || status=1
  step "bench/matmul_cuda.py --dtype float16 (fp16 GEMM, float32 accumulation, vs cuBLAS fp16)"
  "$PYTHON" bench/matmul_cuda.py --dtype float16 || status=1
  step "bench/matmul_cuda.py --dtype float16 --tensor-cores (te on the tensor cores: wmma tiles)"
  "$PYTHON" bench/matmul_cuda.py --dtype float16 --tensor-cores || status=1
  step "bench/matmul_cuda.py --dtype float16 --tensor-cores --stages 3 (3 shared buffers: a cp.async pipeline)"
  "$PYTHON" bench/matmul_cuda.py --dtype float16 --tensor-cores --stages 3 || status=1
  step "bench/conv2d_cuda.py (te vs cuDNN)"
  "$PYTHON" bench/conv2d_cuda.py || status=1
fi
if [ "$status" = 0 ]; then step "GPU check passed"; else step "GPU check FAILED (see above)"; fi
exit "$status"
