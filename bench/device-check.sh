#!/usr/bin/env bash
# On a machine with an NVIDIA GPU: build with CUDA, run the whole test suite (the CUDA op tests
# run there instead of skipping) and the benchmarks. Results go to $OUT (default ./device-out).
set -uo pipefail
cd "$(dirname "$0")/.."
OUT="${OUT:-device-out}"
mkdir -p "$OUT"
{
  nvidia-smi || true
  GMN_CUDA=1 npm run build && npx tsc -p tsconfig.json && npx gmn doctor
} >"$OUT/build.log" 2>&1
echo "build: $?" | tee "$OUT/status"
npm test >"$OUT/test.log" 2>&1
echo "test: $? ($(tail -n 1 "$OUT/test.log"))" | tee -a "$OUT/status"
npm run bench >"$OUT/bench.log" 2>&1
echo "bench: $?" | tee -a "$OUT/status"
