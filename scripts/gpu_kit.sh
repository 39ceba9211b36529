#!/usr/bin/env bash
# GPU kit: run HERE (the Debian build machine, which reaches the package registries) before a
# GPU check on the lent GPU machine, which reaches none. Its image has the CUDA toolkit, CMake,
# ninja and a Python with NumPy, PyTorch, pybind11 and pytest, but not the C++ libraries te's
# build needs: nlohmann_json (required) and GoogleTest (for the C++ CUDA tests). This downloads
# Debian's packages of both and unpacks them into .gpukit/root (ignored by git, about 3 MB);
# scripts/gpu_check.sh finds them there (CMAKE_PREFIX_PATH). Carry `.gpukit` in the device call:
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
(cd "$KIT/debs" && apt-get download nlohmann-json3-dev libgtest-dev)
for deb in "$KIT"/debs/*.deb; do dpkg -x "$deb" "$KIT/root"; done
rm -rf "$KIT/debs"
for config in share/cmake/nlohmann_json/nlohmann_jsonConfig.cmake lib/x86_64-linux-gnu/cmake/GTest/GTestConfig.cmake; do
  [ -f "$KIT/root/usr/$config" ] || { echo "gpu_kit.sh: $config missing from the unpacked packages" >&2; exit 1; }
done
echo "gpu_kit.sh: $(du -sh "$KIT" | cut -f1) in .gpukit — carry it: run(command='bash scripts/gpu_check.sh', carry=['.gpukit'])"
