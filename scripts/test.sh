#!/usr/bin/env bash
# The whole test suite on a fresh machine: dependencies, models, a release build and its tests, the same suite
# under AddressSanitizer + UndefinedBehaviorSanitizer, and 60 s of fuzzing of the GGUF reader.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
jobs=$(nproc 2>/dev/null || echo 2)
# ctest runs test programs side by side: OpenMP threads that spin while waiting would steal the cores the other
# program needs (measured here: 45 s with passive waiting vs 3 min with libgomp's default spinning).
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}

scripts/setup.sh
python3 tools/fetch_models.py

echo "== release build and tests"
scripts/build.sh build -DEAD_BUILD_TESTS=ON -DEAD_BUILD_BENCH=ON
ctest --no-tests=error --test-dir build -j "$jobs" --output-on-failure --timeout 900

echo "== AddressSanitizer + UndefinedBehaviorSanitizer build and tests"
scripts/build.sh build-asan -DCMAKE_BUILD_TYPE=Sanitize -DCMAKE_CXX_FLAGS_SANITIZE="-O1 -g1" -DEAD_SANITIZE=address,undefined -DEAD_BUILD_TESTS=ON -DEAD_BUILD_BENCH=OFF
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 EAD_TEST_QUICK=1 \
  ctest --no-tests=error --test-dir build-asan -j "$jobs" --output-on-failure --timeout 1800

echo "== fuzzing the GGUF reader (60 s)"
scripts/fuzz.sh 60

echo "== all tests passed in $(( $(date +%s) - start )) s"
