#!/usr/bin/env bash
# Session 39's device call: base against rank and rankq (README.md). Carries build/devx (and
# .llama for the side by side). Knobs, for the device time a call can get:
#   TESTS=0    skip the GPU tests of the rank tree (GpuBricks.*, the megakernel bit for bit);
#   MODELS     the 8-layer files of the A/B, alternating binaries over two rounds ("14b 32b");
#   AB_END     no A/B run starts after this second (260);
#   FULL=0     skip the full 32B: the three binaries, then the faster variant beside llama-bench;
#   LIMIT      the second the side by side must end by (590).
# The full call is `bash run.sh`; the slimmest `TESTS=0 FULL=0 MODELS=32b AB_END=130 bash run.sh`.
tar xJf build/devx/dev.tar.xz -C /tmp; mkdir -p /tmp/v; tar xJf build/devx/v.tar.xz -C /tmp/v
export LD_LIBRARY_PATH=/tmp/device/lib
M=/tmp/s39-$$; R=$OUT; mkdir -p $M  # a warm machine keeps /tmp: a folder per call
MODELS=${MODELS:-14b 32b}
{
nvidia-smi --query-gpu=name,memory.total,clocks.max.sm,driver_version --format=csv,noheader
for m in $MODELS; do
  /tmp/v/base synth -t 8 --layers 8 --model qwen2.5-coder-$m --quant q4_k_m -o $M/$m.gguf > /dev/null &
done
wait; echo "synth 8L at $SECONDS s"
if [ "${FULL:-1}" = 1 ]; then
  (taskset -c 4-15 /tmp/v/base synth -t 12 --model qwen2.5-coder-32b --quant q4_k_m -o $M/32f.tmp > /dev/null &&
   mv $M/32f.tmp $M/32f.gguf; echo "synth 32b full at $SECONDS s") &
fi
if [ "${TESTS:-1}" = 1 ]; then
  BRICKC_REQUIRE_GPU=1 timeout 90 taskset -c 0-3 /tmp/device/bin/brickc_gpu_tests \
    --gtest_filter="GpuBricks.*:GpuMegakernel.MatchesThePerBrickGraphBitForBit" > $R/gpu_tests.log 2>&1
  echo "tests rc=$? at $SECONDS s: $(grep -c '^\[       OK' $R/gpu_tests.log) ok; $(grep -E '^\[  (FAILED|PASSED)' $R/gpu_tests.log | tr '\n' ' ')"
  grep -E "^\[  FAILED" $R/gpu_tests.log | head -20
fi
# tg128 of one binary on one file: tg VARIANT FILE [more bench flags]
tg() {
  local v=$1 f=$2; shift 2
  BRICKC_CACHE_DIR=/tmp/kc-$v timeout 90 taskset -c 0-3 /tmp/v/$v bench -m $f --device cuda -p 16 -n 128 -r 3 --warmup 1 "$@" > /tmp/log 2>&1
  echo "$v $(basename $f) rc=$? at $SECONDS s: $(grep -hE 'tg128|rror' /tmp/log | tr -s ' ')"
}
for round in 1 2; do
  for m in $MODELS; do
    for v in base rank rankq; do
      [ $SECONDS -lt ${AB_END:-260} ] || break 3
      echo -n "r$round "; tg $v $M/$m.gguf
    done
  done
done
if [ "${FULL:-1}" = 1 ]; then
  wait
  for v in base rank rankq; do tg $v $M/32f.gguf --json $R/full-32b-$v.json; done
  best=$(python3 -c "import json; r={v: json.load(open('$R/full-32b-' + v + '.json'))['decode']['mean'] for v in ('rank', 'rankq')}; print(max(r, key=r.get))" 2> /dev/null || echo rank)
  echo "faster variant for the side by side: $best"
  lb=$(bash .llama/unpack.sh /tmp/llama | tail -n 1)
  BRICKC_CACHE_DIR=/tmp/kc-$best timeout $((${LIMIT:-590} - SECONDS)) /tmp/v/$best bench -m $M/32f.gguf --device cuda \
    -p 512 -n 128 -r 2 --warmup 1 --llama-bench "$lb" --json $R/compare-32b-$best.json > /tmp/c.log 2>&1
  echo "32b compare rc=$? at $SECONDS s"; grep -E "tg128|pp512|rror" /tmp/c.log | head -6
fi
echo "elapsed $SECONDS s"
} > $OUT/summary.txt 2>&1
