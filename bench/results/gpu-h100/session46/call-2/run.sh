#!/usr/bin/env bash
# Call 2 (the command as run, on the warm machine of call 1): which part of s1r wins. HEAD
# against pax (../../../gpu-h200/session46/pax.patch) with its switches: s1r (sm splits, a
# 7-stage ring), s1a (sm splits, blocks of more than half an SM's shared memory, the 3-stage
# ring), r7 (the 7-stage ring alone, t64's splits), tg128 at depth 16,384, q8_0 cache, one round.
tar xJf build/devx/dev.tar.xz -C build; mkdir -p /tmp/v; for t in v q; do tar xJf build/devx/$t.tar.xz -C /tmp/v; done
export OUT MODELS=/tmp/s46 BRICKC_REQUIRE_GPU=1 LD_LIBRARY_PATH=$PWD/build/device/lib
q8="--cache-type-k q8_0 --cache-type-v q8_0"
s1r="BRICKC_ATTN_SPLITS=sm BRICKC_ATTN_RING=122880"; s1a="BRICKC_ATTN_SPLITS=sm BRICKC_ATTN_ALONE=1"; r7="BRICKC_ATTN_RING=122880"
export AB_ROUNDS=1 AB_FILES="1.5b:q4_k_m 7b:q4_k_m" AB_VARIANTS="head=/tmp/v/head s1r=/tmp/v/pax,${s1r// /,} s1a=/tmp/v/pax,${s1a// /,} r7=/tmp/v/pax,$r7"
{ AB_ARGS="-d 16384 $q8" AB_TAG=d16384-q8 AB_END=200 bash bench/gpu_run.sh ab; echo "elapsed $SECONDS s"; } > $OUT/summary2.txt 2>&1
bash bench/gpu_run.sh pack > /dev/null
