#!/usr/bin/env bash
# The second build tree, ${BRICKC_SANITIZE_BUILD:-build-sanitize}: clang with AddressSanitizer
# + UBSan and the libFuzzer targets, at -O1 (quick to build, and what the sanitizers'
# authors recommend). Builds everything, or the targets given (scripts/fuzz.sh builds one).
# clang 19 rather than Debian 12's default 14, whose LeakSanitizer crashed in its own scan
# of thread-local storage at exit in the tests that load NVRTC, depending on the binary's
# layout. Expects scripts/setup.sh to have run.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
san=${BRICKC_SANITIZE_BUILD:-$root/build-sanitize}
cmake -S "$root" -B "$san" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -gline-tables-only" \
      -DCMAKE_CXX_COMPILER=clang++-19 -DBRICKC_SANITIZE=ON -DBRICKC_FUZZ=ON >/dev/null
ninja -C "$san" "$@"
