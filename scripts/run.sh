#!/usr/bin/env bash
# The main job on a fresh machine: install dependencies, fetch the real models, build, and run an EAD generation
# on the demo pair (models/demo/) for a problem from its test split, coloured by the model that wrote each token.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
python3 tools/fetch_models.py
scripts/build.sh build -DEAD_BUILD_TESTS=OFF -DEAD_BUILD_BENCH=OFF
problem=$(python3 -c 'import json,sys; print(json.loads(open("models/demo/test.jsonl").readline())["problem"])')
echo "problem: $problem"
./build/ead generate -m models/demo/demo-small.Q8_0.gguf -M models/demo/demo-large.Q8_0.gguf \
  --strategy ead --tau 0.5 --chat -p "$problem" -n 256 --color "${EAD_COLOR:-always}"
