#!/usr/bin/env bash
# The second build tree, ${BRICKC_SANITIZE_BUILD:-build-sanitize}: clang with AddressSanitizer
# + UBSan and the libFuzzer targets, at -O1 (quick to build, and what the sanitizers'
# authors recommend). Builds everything, or the targets given (scripts/fuzz.sh builds one).
# Expects scripts/setup.sh to have run.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
san=${BRICKC_SANITIZE_BUILD:-$root/build-sanitize}
cmake -S "$root" -B "$san" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only" \
      -DCMAKE_CXX_COMPILER=clang++-14 -DBRICKC_SANITIZE=ON -DBRICKC_FUZZ=ON >/dev/null
ninja -C "$san" "$@"
