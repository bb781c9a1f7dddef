#!/usr/bin/env bash
# Session 42's sixth device call (../README.md): HEAD's tg128 at depth 0 and 16,384 with a
# q8_0 cache on the 1.5B and the 7B (the long-context bar), two rounds. Asked of the H200,
# the bar's card. Carries build/devx/dev.tar.xz (the device bundle of HEAD's build).
tar xJf build/devx/dev.tar.xz -C build
export OUT MODELS=/tmp/s42d-$$ AB_VARIANTS="head=$PWD/build/device/bin/brickc" AB_FILES="1.5b:q4_k_m 7b:q4_k_m" AB_ROUNDS=2
{
nvidia-smi --query-gpu=name,memory.total,clocks.max.sm,driver_version --format=csv,noheader
for d in 0 16384; do
  AB_ARGS="-d $d --cache-type-k q8_0 --cache-type-v q8_0" AB_TAG=d$d-q8 AB_END=200 bash bench/gpu_run.sh ab
done
echo "elapsed $SECONDS s"
} > $OUT/summary.txt 2>&1
bash bench/gpu_run.sh pack > /dev/null
