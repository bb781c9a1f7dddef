#!/usr/bin/env bash
# The whole test suite on a fresh machine: set-up, build, then every test through ctest
# (GoogleTest units, the ASan GGUF robustness run, lit, the Python reference checks).
# GPU tests carry the label `gpu` and skip with a reason where no device works.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/build.sh"
build=${BRICKC_BUILD:-$root/build}
ctest --test-dir "$build" --output-on-failure -j "$(nproc)" "$@"
