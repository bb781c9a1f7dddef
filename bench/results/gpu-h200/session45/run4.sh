#!/usr/bin/env bash
# Session 45's down-projection call (README.md): HEAD ("head") against w.patch's binary
# ("w"), whose experiments are switched by its environment: BRICKC_CARVEOUT (every kernel
# asks for the largest shared-memory carveout), BRICKC_DOWN_WARPS / _RING / _MINK (the
# per-brick graph's matvec_add over at least MINK columns, 13,824 unless set, in blocks of
# WARPS warps, two per SM, with RING-byte weight rings, 4,096 unless set).
# Its GPU tests run with the 12-warp blocks on every q8_1-input matvec_add (MINK=0), then
# tg128 on an 8-layer 32B (five variants), an 8-layer 14B and the 7B (three each), then
# the full 32B with head and the 8-layer 32B's fastest, each beside llama-bench.
# Carries build/devx: dev.tar.xz (HEAD's device bundle), v.tar.xz (head), w.tar.xz.
# Knobs: ROUNDS (2), LIMIT (the second the call must end by, 560).
tar xJf build/devx/dev.tar.xz -C build; mkdir -p /tmp/v
tar xJf build/devx/v.tar.xz -C /tmp/v head; tar xJf build/devx/w.tar.xz -C /tmp/v
export OUT MODELS=/tmp/s45w BRICKC_REQUIRE_GPU=1 LD_LIBRARY_PATH=$PWD/build/device/lib
export AB_ROUNDS=${ROUNDS:-2}
mkdir -p $MODELS
W=/tmp/v/w L=${LIMIT:-560}
{
nvidia-smi --query-gpu=name,memory.total,clocks.max.sm,driver_version --format=csv,noheader
BRICKC_DOWN_WARPS=12 BRICKC_DOWN_MINK=0 timeout 150 /tmp/v/w-tests \
  --gtest_filter='GpuBricks.Qwen*:GpuBricks.OtherFormats:GpuVerify.*' > $OUT/gpu_tests_w12.log 2>&1
echo "w12 tests rc=$? at $SECONDS s"
grep -E "^\[  (PASSED|FAILED) |FAILED  \]" $OUT/gpu_tests_w12.log | head -8
AB_ALL="head=/tmp/v/head cv=$W,BRICKC_CARVEOUT=1 w12=$W,BRICKC_DOWN_WARPS=12 \
  w12cv=$W,BRICKC_DOWN_WARPS=12,BRICKC_CARVEOUT=1 \
  d6kcv=$W,BRICKC_DOWN_WARPS=8,BRICKC_DOWN_RING=6144,BRICKC_CARVEOUT=1"
AB_VARIANTS="$AB_ALL" AB_FILES=32b:q4_k_m:8 AB_END=$((L * 5 / 10)) bash bench/gpu_run.sh ab
AB_VARIANTS="head=/tmp/v/head cv=$W,BRICKC_CARVEOUT=1 w12cv=$W,BRICKC_DOWN_WARPS=12,BRICKC_CARVEOUT=1" \
  AB_FILES="14b:q4_k_m:8 7b:q4_k_m" AB_END=$((L * 6 / 10)) bash bench/gpu_run.sh ab
# The full 32B: head and the 8-layer A/B's fastest variant, each beside llama-bench (the
# same file, -p 512 -n 128 -r 2), where time is left.
best=$(python3 - "$OUT/ab.log" <<'PY'
import re, sys, collections
t = collections.defaultdict(list)
for line in open(sys.argv[1]):
    m = re.match(r"r\d+ (\S+) 32b-q4_k_m-L8.*\| tg128 \| ([\d.]+)", line)
    if m: t[m.group(1)].append(float(m.group(2)))
print(max(t, key=lambda n: sum(t[n]) / len(t[n])) if t else "head")
PY
)
echo "fastest on the 8-layer 32B: $best"
if [ $((L - SECONDS)) -gt 260 ]; then
  lb=$(bash ../shared/tools/llama.cpp-sm90/unpack.sh /tmp/llama | tail -n 1)
  f=$(MODELS=$MODELS bash -c 'source <(sed -n "/^model()/,/^}/p" bench/gpu_run.sh); B=$PWD/build/device/bin; model 32b q4_k_m')
  for v in head $best; do
    [ "$v" = head ] && [ -n "$done_head" ] && continue; done_head=1
    spec=$(echo "$AB_ALL" | tr ' ' '\n' | grep "^$v=" | head -1); spec=${spec#*=}
    IFS=, read -ra run <<< "$spec"
    [ $((L - SECONDS)) -gt 100 ] || break
    timeout $((L - SECONDS - 10)) env "${run[@]:1}" "${run[0]}" bench -m "$f" --device cuda -p 512 -n 128 -r 2 \
      --warmup 1 --llama-bench "$lb" --json "$OUT/full-32b-$v.json" > "$OUT/full-32b-$v.log" 2>&1
    echo "full 32B $v rc=$? at $SECONDS s"; grep -E "tg128|pp512|rror" "$OUT/full-32b-$v.log"
  done
fi
echo "elapsed $SECONDS s"
} > $OUT/summary.txt 2>&1
bash bench/gpu_run.sh pack > /dev/null
