#!/usr/bin/env bash
# Set-up (scripts/setup.sh) plus a configured, built tree in ${BRICKC_BUILD:-build}.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
"$root/scripts/setup.sh"
build=${BRICKC_BUILD:-$root/build}
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
ninja -C "$build"
