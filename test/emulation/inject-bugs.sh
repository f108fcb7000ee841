#!/usr/bin/env bash
# Shows that the CUDA emulation catches real kernel bugs: in a copy of the tree, inject one bug at a
# time into a CUDA kernel, rebuild the emulation build there, and run the op harness's CUDA cases.
# Each injected bug must make them fail; the unmodified kernels must pass. Prints one line per run.
# Usage: test/emulation/inject-bugs.sh   (needs node_modules, cmake and g++; about 2 minutes)
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$(pwd)
copy=$(mktemp -d)
trap 'rm -rf "$copy"' EXIT
git ls-files -z | xargs -0 -I{} cp --parents {} "$copy"
ln -s "$root/node_modules" "$copy/node_modules"
cd "$copy"

build() { node node_modules/cmake-js/bin/cmake-js build --out build-emulation --CDGMN_CUDA_EMULATION=ON >/dev/null; }
harness() {  # the CUDA cases of the harness; prints ava's summary and the first failure
  GMN_ADDON=build-emulation/Release/gmn.node npx ava test/ops.test.ts --match '*cuda matches the cpu reference*' 2>&1 |
    grep -E '✘|passed|failed' | head -4 || true
}

# name | file | sed expression
bugs=(
  "missing __syncthreads after loading the tiles of the tiled sgemm|native/cuda/sgemm.cu|0,/__syncthreads();/s/__syncthreads();/\/\/ (barrier removed)/"
  "out-of-bounds index in prelu's forward (i <= n)|native/cuda/prelu.cu|0,/i < n;/s/i < n;/i <= n;/"
  "wrong shuffle lane in the warp reduction (offset + 1)|native/cuda/common.cuh|s/__shfl_down_sync(0xffffffffu, v, offset)/__shfl_down_sync(0xffffffffu, v, offset + 1)/"
)

node node_modules/cmake-js/bin/cmake-js configure --out build-emulation --CDGMN_CUDA_EMULATION=ON >/dev/null
build
echo "== unmodified kernels"
harness
status=0
for bug in "${bugs[@]}"; do
  IFS='|' read -r name file expr <<<"$bug"
  cp "$file" "$file.orig"
  sed -i "$expr" "$file"
  if cmp -s "$file" "$file.orig"; then echo "the patch for '$name' changed nothing"; exit 1; fi
  build
  echo "== injected: $name"
  out=$(harness)
  echo "$out"
  if ! grep -q '✘' <<<"$out"; then echo "NOT CAUGHT: $name"; status=1; fi
  mv "$file.orig" "$file"
done
build
exit $status
