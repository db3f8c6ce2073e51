#!/usr/bin/env bash
# Reproduces everything in models/demo/ from scratch (about 1-3 hours of wall time on a 2-core CPU,
# depending on what else runs). Fixed seeds, fixed step counts, one thread per training process:
# on the same machine and library versions (Debian bookworm python3-torch 1.13.1, numpy 1.24.2) the
# training is deterministic; on other CPUs / BLAS builds, float summation order differs, so weights and
# accuracies reproduce within a tolerance (a few accuracy points), not bit-for-bit.
# The test split, the tokenizer (and so the GGUF metadata) are bit-for-bit reproducible everywhere.
set -euo pipefail
cd "$(dirname "$0")/../.."
tools/demo_pair/setup.sh
PY=/usr/bin/python3
W=models/demo-train          # git-ignored working folder: checkpoints, logs
D=models/demo                # committed artifacts
mkdir -p "$W" "$D"
SMALL_STEPS=${SMALL_STEPS:-}  # the defaults are the presets in tools/demo_pair/train.py
LARGE_STEPS=${LARGE_STEPS:-}

$PY tools/demo_pair/make_test.py "$D/test.jsonl" 1000
# The two models train at the same time, one thread each (resumable: rerunning continues from the checkpoints).
$PY tools/demo_pair/train.py --preset small --out "$W/ckpt-small.pt" --threads 1 \
    ${SMALL_STEPS:+--steps $SMALL_STEPS} > "$W/train-small.log" 2>&1 &
p1=$!
$PY tools/demo_pair/train.py --preset large --out "$W/ckpt-large.pt" --threads 1 \
    ${LARGE_STEPS:+--steps $LARGE_STEPS} > "$W/train-large.log" 2>&1 &
p2=$!
wait $p1
wait $p2

$PY tools/demo_pair/export.py "$W/ckpt-small.pt" ead-demo-small "$D/demo-small" --types Q8_0,F16
$PY tools/demo_pair/export.py "$W/ckpt-large.pt" ead-demo-large "$D/demo-large" --types Q8_0,F16
for m in small large; do
    $PY tools/demo_pair/evaluate.py accuracy "$D/demo-$m.Q8_0.gguf" --n 1000 | tee "$W/acc-$m.json"
    $PY tools/demo_pair/evaluate.py entropy "$D/demo-$m.Q8_0.gguf" --n 1000 | tee "$W/ent-$m.json"
done
(cd "$D" && sha256sum demo-small.Q8_0.gguf demo-small.F16.gguf demo-large.Q8_0.gguf demo-large.F16.gguf \
    test.jsonl > SHA256SUMS)
cat "$D/SHA256SUMS"

# Optional: cross-check ead (tokenizer and logits) when EAD points at a built ead binary.
if [ -n "${EAD:-}" ]; then
    for f in "$D"/demo-*.gguf; do $PY tools/demo_pair/check_ead.py "$EAD" "$f"; done
    $PY tools/demo_pair/ead_sweep.py "$EAD" "$D/demo-small.Q8_0.gguf" "$D/demo-large.Q8_0.gguf" --n 200
fi
