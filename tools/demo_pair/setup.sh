#!/usr/bin/env bash
# Installs the Debian packages the demo-pair tools need (idempotent).
# Training and export always run with /usr/bin/python3 (Debian's torch is installed for it,
# not for a pyenv python3 that may come first on PATH).
set -euo pipefail
pkgs=(python3-torch python3-numpy libopenblas0-pthread)
missing=()
for p in "${pkgs[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$p")
    fi
done
if [ ${#missing[@]} -eq 0 ]; then
    echo "setup: all packages already installed"
    exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
$SUDO apt-get install -y "${missing[@]}"
/usr/bin/python3 -c 'import torch, numpy; print("setup: torch", torch.__version__, "numpy", numpy.__version__)'
