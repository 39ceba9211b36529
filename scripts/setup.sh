#!/usr/bin/env bash
# Installs everything te needs on a fresh Debian 12 machine. Idempotent: re-running it
# only installs what is missing. Called by the README's two commands.
set -euo pipefail

APT_PACKAGES=(
  build-essential cmake ninja-build pkg-config git
  llvm-19-dev libpolly-19-dev zlib1g-dev libzstd-dev libedit-dev libxml2-dev libffi-dev
  libxgboost-dev nlohmann-json3-dev libdlpack-dev libcli11-dev
  libgtest-dev libgmock-dev
  libopenblas-dev libdnnl-dev
)

missing=()
for pkg in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
echo "setup: system packages ready"
