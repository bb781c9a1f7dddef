#!/usr/bin/env bash
# Packs what the GPU machine runs into build/device (DESIGN.md §9): stripped brickc and
# GPU test binaries plus the shared libraries that machine may lack, small enough to carry.
# Usage: scripts/device-bundle.sh [build-dir]; then carry build/device and run with
# LD_LIBRARY_PATH=build/device/lib.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
out=build/device
rm -rf "$out"
mkdir -p "$out/bin" "$out/lib"
for exe in brickc brickc_gpu_tests; do
  strip -o "$out/bin/$exe" "$build/bin/$exe"
done
# brickc serve links cpp-httplib, built by Debian with TLS, zlib and brotli.
for lib in libfmt.so.9 libpcre2-8.so.0 libncurses.so.6 libtinfo.so.6 libcpp-httplib.so.0.11 \
           libssl.so.3 libcrypto.so.3 libbrotlidec.so.1 libbrotlienc.so.1 libbrotlicommon.so.1; do
  cp -L "$(ldconfig -p | awk -v l="$lib" '$1 == l {print $NF; exit}')" "$out/lib/"
done
du -sh "$out"
