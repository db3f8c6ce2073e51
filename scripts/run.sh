#!/usr/bin/env bash
# The main job on a fresh machine: install dependencies, fetch the default models, build, and run.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
python3 tools/fetch_models.py
scripts/build.sh build -DEAD_BUILD_TESTS=OFF -DEAD_BUILD_BENCH=OFF
./build/ead info models/SmolLM2-135M-Instruct.Q4_1.gguf models/gemma-3-270m-q4_k_m.gguf
