#!/usr/bin/env bash
# Session 42's third device call (../README.md): decode attention's ring of K/V stages
# filling 80 KB ("s80": 4 stages of a q8_0 cache's 128-wide heads) or 112 KB ("s112": 6; an
# f16 cache's 3) against HEAD's 64 KB ("base": 3, f16 2), at depth 0 and 16,384 with a q8_0
# cache on the 1.5B and the 7B. Carries build/devx/v.tar.xz (stripped brickc binaries and
# the libraries scripts/device-bundle.sh packs).
# Knobs: ROUNDS (2), FILES ("1.5b:q4_k_m 7b:q4_k_m"), LIMIT, the second it must end by (400).
mkdir -p /tmp/v build/device/bin; tar xJf build/devx/v.tar.xz -C /tmp/v; cp /tmp/v/base build/device/bin/brickc
rm -rf build/device/lib; cp -r /tmp/v/lib build/device/lib  # what the binaries link
export OUT MODELS=/tmp/s42r-$$
export AB_VARIANTS="base=/tmp/v/base s80=/tmp/v/s80 s112=/tmp/v/s112" AB_FILES=${FILES:-"1.5b:q4_k_m 7b:q4_k_m"} AB_ROUNDS=${ROUNDS:-2}
q8="--cache-type-k q8_0 --cache-type-v q8_0"
{
nvidia-smi --query-gpu=name,memory.total,clocks.max.sm,driver_version --format=csv,noheader
for d in 16384 0; do
  AB_ARGS="-d $d $q8" AB_TAG=d$d-q8 AB_END=$((${LIMIT:-400} - 30)) bash bench/gpu_run.sh ab
done
echo "elapsed $SECONDS s"
} > $OUT/summary.txt 2>&1
bash bench/gpu_run.sh pack > /dev/null
