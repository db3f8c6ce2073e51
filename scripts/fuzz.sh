#!/usr/bin/env bash
# Builds the libFuzzer target for the GGUF reader with clang and runs it for N seconds (default 60),
# seeded with valid GGUF files. Fails when the fuzzer finds a crash.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
out=build-fuzz
mkdir -p "$out/corpus"
clang++ -std=c++20 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -Isrc \
  tests/fuzz/fuzz_gguf_reader.cpp src/gguf/*.cpp -o "$out/fuzz_gguf_reader"
# Seeds: small valid files (the conformance and tokenizer GGUFs when ../shared is present, else writer output),
# and every input that once crashed the target (tests/fuzz/regressions/), so each run replays them first.
for f in ../shared/conformance/llama.Q4_0.gguf ../shared/conformance/qwen2.Q4_K.gguf ../shared/tokenizer/ggml-vocab-llama-spm.gguf \
         tests/fuzz/regressions/*; do
  [ -f "$f" ] && cp -f "$f" "$out/corpus/"
done
"$out/fuzz_gguf_reader" -max_total_time="$seconds" -max_len=65536 -rss_limit_mb=2048 -print_final_stats=1 \
  "$out/corpus" 2>&1 | tee "$out/fuzz.log" | grep -E "^(#[0-9]+.*(DONE|pulse)|stat::number_of_executed_units|==ERROR|SUMMARY)" || true
if grep -qE "ERROR: (libFuzzer|AddressSanitizer|UndefinedBehaviorSanitizer)|SUMMARY: " "$out/fuzz.log"; then
  echo "fuzz: crash found, see $out/fuzz.log" >&2
  exit 1
fi
execs=$(grep -oE "stat::number_of_executed_units: [0-9]+" "$out/fuzz.log" | awk '{print $2}')
echo "fuzz: ${execs:-?} executions in ${seconds} s, no crash"
