#!/usr/bin/env bash
# GPU kit: run HERE (the Debian build machine, which reaches the package registries) before a
# GPU check on the lent GPU machine, which reaches none. Its image has the CUDA toolkit, CMake,
# ninja and a Python with NumPy, PyTorch, pybind11 and pytest, but not the C++ libraries te's
# build needs: nlohmann_json (required), GoogleTest (for the C++ CUDA tests) and XGBoost (the
# xgb tuner's cost model; without it the tuner searches at random). This downloads Debian's
# packages and unpacks them into .gpukit/root, and copies Python 3.12's headers into
# .gpukit/python3.12 (ignored by git, about 11 MB together); scripts/gpu_check.sh
# and scripts/gpu_tune.sh find them there (CMAKE_PREFIX_PATH, LD_LIBRARY_PATH). Carry `.gpukit`:
#   bash scripts/gpu_kit.sh          # here
#   bash scripts/gpu_check.sh        # there, with carry [".gpukit"]
# LLVM is not in the kit (libLLVM alone is over 100 MB): the GPU machine builds te CUDA-only.
set -euo pipefail
cd "$(dirname "$0")/.."
KIT="$PWD/.gpukit"
rm -rf "$KIT"
mkdir -p "$KIT/debs" "$KIT/root"
# apt-get download writes as the _apt user where it can; a root-owned folder makes it warn.
chmod 777 "$KIT/debs"
(cd "$KIT/debs" && apt-get download nlohmann-json3-dev libgtest-dev libxgboost-dev libxgboost0 libdmlc0)
for deb in "$KIT"/debs/*.deb; do dpkg -x "$deb" "$KIT/root"; done
rm -rf "$KIT/debs"
# Python 3.12's headers (the GPU image's Python is 3.12; whether it has Python.h is unknown, and
# pybind11 compiles against them): copied from a local Python 3.12 (pyenv's here) when there is one.
py312_include=""
for py in python3.12 "$HOME"/.pyenv/versions/3.12*/bin/python3.12; do
  if command -v "$py" >/dev/null 2>&1; then
    inc="$("$py" -c 'import sysconfig; print(sysconfig.get_paths()["include"])' 2>/dev/null || true)"
    if [ -f "$inc/Python.h" ]; then py312_include="$inc"; break; fi
  fi
done
if [ -n "$py312_include" ]; then
  mkdir -p "$KIT/python3.12"
  cp -r "$py312_include/." "$KIT/python3.12/"
else
  echo "gpu_kit.sh: no local Python 3.12 with headers: the kit has none (gpu_check.sh then needs the image's own)"
fi
for config in share/cmake/nlohmann_json/nlohmann_jsonConfig.cmake lib/x86_64-linux-gnu/cmake/GTest/GTestConfig.cmake \
              include/xgboost/c_api.h lib/x86_64-linux-gnu/libxgboost.so lib/x86_64-linux-gnu/libdmlc.so.0; do
  [ -f "$KIT/root/usr/$config" ] || { echo "gpu_kit.sh: $config missing from the unpacked packages" >&2; exit 1; }
done
echo "gpu_kit.sh: $(du -sh "$KIT" | cut -f1) in .gpukit — carry it: run(command='bash scripts/gpu_check.sh', carry=['.gpukit'])"
