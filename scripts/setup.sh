#!/usr/bin/env bash
# Installs every Debian package that building and testing ead needs. Idempotent: quick when all are present.
set -euo pipefail

PACKAGES=(
  build-essential cmake ninja-build pkg-config git
  libhwy-dev nlohmann-json3-dev libcpp-httplib-dev libcli11-dev libpcre2-dev
  libgtest-dev libgmock-dev libbenchmark-dev libomp-dev
  clang libclang-rt-14-dev   # libFuzzer for the GGUF reader fuzzer
  python3 python3-pip        # the model fetch script uses `pip download` (never installs the packages)
  curl
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
# pip may come from elsewhere (pyenv); only require Debian's when no pip is usable.
if [ ${#missing[@]} -eq 1 ] && [ "${missing[0]}" = python3-pip ] && python3 -m pip --version >/dev/null 2>&1; then
  missing=()
fi
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "setup: installing ${missing[*]}" >&2
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
