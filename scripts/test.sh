#!/usr/bin/env bash
# The whole test suite on a fresh machine: set-up, build, then every test through ctest, in
# two trees: ${BRICKC_BUILD:-build} (GoogleTest units, lit, the Python reference checks,
# the GPU tests, which skip with a reason where no device works) and
# ${BRICKC_SANITIZE_BUILD:-build-sanitize} (clang, ASan + UBSan: the units, lit and a
# minute of each fuzz target). BRICKC_SANITIZE_TESTS=0 leaves the second tree out.
# Arguments go to both ctest runs. At the end: every skipped test and why.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/build.sh"
trees=("${BRICKC_BUILD:-$root/build}")
if [ "${BRICKC_SANITIZE_TESTS:-1}" != 0 ]; then
  "$root/scripts/build-sanitize.sh"
  trees+=("${BRICKC_SANITIZE_BUILD:-$root/build-sanitize}")
fi
status=0
for tree in "${trees[@]}"; do
  echo "== ctest in $tree"
  ctest --test-dir "$tree" --output-on-failure -j "$(nproc)" --output-junit junit.xml "$@" ||
    status=$?
done
python3 "$root/scripts/skipped_tests.py" "${trees[@]/%//junit.xml}"
exit $status
