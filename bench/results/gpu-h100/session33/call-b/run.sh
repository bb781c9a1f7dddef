#!/usr/bin/env bash
# Session 33 call B: rows dealt in even passes (deal_rows, matvec.cuh) against main.
# Binaries in build/devx/dev.tar.xz: brickc and brickc_gpu_tests with the deal (working
# tree on 95d752a), brickc-base = 95d752a. GPU tests of the deal, the sizes synthesized
# meanwhile; tg128 of base and deal alternating (14B, 32B, 7B two rounds; 0.5B, 3B one);
# then the deal side by side with llama-bench on the 14B and 32B as time allows.
tar xJf build/devx/dev.tar.xz -C /tmp
export LD_LIBRARY_PATH=/tmp/device/lib BRICKC_CACHE_DIR=/tmp/kc
B=/tmp/device/bin; M=/tmp/models; R=$OUT/r; mkdir -p $M $R
synth() { taskset -c $2 $B/brickc synth -t $3 --model qwen2.5-coder-$1 --quant q4_k_m -o $M/$1.tmp > /dev/null && mv $M/$1.tmp $M/$1.gguf; echo "synth $1 at $SECONDS s"; }
ready() { while [ ! -f $M/$1.gguf ] && [ $SECONDS -lt $2 ]; do sleep 2; done; [ -f $M/$1.gguf ]; }
ab() {  # model, round
  for b in base deal; do
    [ $SECONDS -lt 500 ] || return
    x=$B/brickc; [ $b = base ] && x=$B/brickc-base
    timeout 60 taskset -c 0-3 $x bench -m $M/$1.gguf --device cuda -p 16 -n 128 -r 5 --warmup 2 --json $R/$b-$1-$2.json > $R/$b-$1-$2.log 2>&1
    echo "$1 $b r$2 at $SECONDS s: $(grep tg128 $R/$b-$1-$2.log | head -1)"
  done
}
{
nvidia-smi --query-gpu=name,memory.total,clocks.max.sm,driver_version --format=csv,noheader
synth 32b 8-15 8 > $R/synth32.txt 2>&1 &
(synth 14b 4-7 4; synth 0.5b 4-7 4; synth 7b 4-7 4; synth 3b 4-7 4) > $R/synth-small.txt 2>&1 &
BRICKC_REQUIRE_GPU=1 timeout 200 taskset -c 0-3 $B/brickc_gpu_tests --gtest_filter='GpuBricks.Qwen05Q4_0:GpuBricks.Qwen05Q4KM:GpuBricks.Qwen7BQ4KM:GpuBricks.OtherFormats:GpuMegakernel.MatchesThePerBrickGraphBitForBit:GpuTokenSteps.Qwen7BQ4KM' > $R/gpu_tests.log 2>&1
echo "tests rc=$? at $SECONDS s: $(grep -cE '^\[       OK' $R/gpu_tests.log) ok; $(grep -E '^\[  (PASSED|FAILED)' $R/gpu_tests.log | tr '\n' ' ')"
grep -E "^\[  FAILED  \]|Failure|max rel error" $R/gpu_tests.log | head -20
ready 14b 400 && ab 14b 1
ready 32b 400 && ab 32b 1
ready 0.5b 400 && ab 0.5b 1
ready 7b 450 && ab 7b 1
ab 14b 2; ab 32b 2
ready 3b 450 && ab 3b 1
ab 7b 2
lb=$(bash .llama/unpack.sh /tmp/llama | tail -n 1)
for m in 14b 32b; do
  [ $SECONDS -lt 470 ] || break
  timeout $((585 - SECONDS)) taskset -c 0-3 $B/brickc bench -m $M/$m.gguf --device cuda -p 512 -n 128 -r 2 --warmup 1 --llama-bench "$lb" --json $R/compare-$m.json > $R/compare-$m.log 2>&1
  echo "$m compare rc=$? at $SECONDS s"; grep -E "tg128|pp512" $R/compare-$m.log | head -4
done
cat $R/synth*.txt
echo "elapsed $SECONDS s"
} > $R/summary.txt 2>&1
cat $R/summary.txt
cd $OUT && tar czf r.tgz r && rm -rf r
