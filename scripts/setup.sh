#!/usr/bin/env bash
# Installs everything te needs on a fresh Debian 12 machine: system packages from Debian's
# apt, and the Python test tools from PyPI into ./.venv inside the clone (Debian's Python is
# "externally managed", so pip never touches the system's site-packages). Idempotent and
# fast when everything is there: re-running it only installs what is missing.
# Called by scripts/test.sh and scripts/main.sh (the README's two commands).
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  build-essential cmake ninja-build pkg-config git
  llvm-19-dev libpolly-19-dev zlib1g-dev libzstd-dev libedit-dev libxml2-dev libffi-dev
  libxgboost-dev nlohmann-json3-dev libdlpack-dev libcli11-dev
  libgtest-dev libgmock-dev
  libopenblas-dev libdnnl-dev
  clang-14 libclang-rt-14-dev   # the sanitizer build and the parsers' libFuzzer targets
  python3 python3-dev python3-venv
)
# PyPI packages for the Python tests (tests/python) and the Python package's examples.
PIP_PACKAGES=(numpy pytest pybind11 scikit-build-core nbclient nbformat ipykernel matplotlib atheris)
# The import name of each entry of PIP_PACKAGES, in the same order.
PIP_IMPORTS=(numpy pytest pybind11 scikit_build_core nbclient nbformat ipykernel matplotlib atheris)
VENV_DIR="$PWD/.venv"

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing from apt: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
echo "setup: system packages ready"

# The venv is made from Debian's python3 (the one python3-dev has headers for), whatever
# python3 comes first on PATH.
SYSTEM_PYTHON=/usr/bin/python3
[ -x "$SYSTEM_PYTHON" ] || SYSTEM_PYTHON="$(command -v python3)"
if [ ! -x "$VENV_DIR/bin/python" ]; then
  echo "setup: creating the Python environment $VENV_DIR"
  "$SYSTEM_PYTHON" -m venv "$VENV_DIR"
fi
# One import per package (PIP_IMPORTS): install only when one of them is missing.
import_check="import $(IFS=,; echo "${PIP_IMPORTS[*]}")"
if ! "$VENV_DIR/bin/python" -c "$import_check" 2>/dev/null; then
  echo "setup: installing from PyPI into .venv: ${PIP_PACKAGES[*]}"
  "$VENV_DIR/bin/python" -m pip install --quiet --disable-pip-version-check "${PIP_PACKAGES[@]}"
fi
echo "setup: Python environment ready ($VENV_DIR)"
