#!/usr/bin/env bash
# The next call this experiment needs (not run: session 32's device time ran out on failed
# starts). Binaries in build/devx/dev.tar.xz: brickc and brickc_gpu_tests of main's HEAD
# with megakernel-no-spills.patch (base), brickc-pf8 and brickc-pf16 with l2-ahead.patch on
# top (kL2Ahead 8192 and 16384). GPU tests of base (the spill-free megakernel has not run on a GPU);
# the full 14B and 32B synthesized meanwhile (about 50 s and 100 s at -t 8 with 11f85b4's
# quantizer); tg128 of base, pf8, pf16 and base's megakernel (mk) alternating on both.
tar xJf build/devx/dev.tar.xz -C /tmp
export LD_LIBRARY_PATH=/tmp/device/lib BRICKC_CACHE_DIR=/tmp/kc
B=/tmp/device/bin; M=/tmp/models; R=$OUT/r; mkdir -p $M $R
synth() { taskset -c $2 $B/brickc synth -t $3 --model qwen2.5-coder-$1 --quant q4_k_m -o $M/$1.tmp > /dev/null && mv $M/$1.tmp $M/$1.gguf; echo "synth $1 at $SECONDS s"; }
{
nvidia-smi --query-gpu=name,memory.total,clocks.max.sm,driver_version --format=csv,noheader
synth 32b 8-15 8 > $R/synth32.txt 2>&1 &
synth 14b 4-7 4 > $R/synth14.txt 2>&1 &
BRICKC_REQUIRE_GPU=1 timeout 200 taskset -c 0-3 $B/brickc_gpu_tests --gtest_filter='GpuBricks.*:GpuMegakernel.*:GpuVerify.*:GpuTrace.*:GpuTokenSteps.Qwen05Q4KM:GpuTokenSteps.Qwen7BQ4KM' > $R/gpu_tests.log 2>&1
echo "tests rc=$? at $SECONDS s: $(grep -cE '^\[       OK' $R/gpu_tests.log) ok; $(grep -E '^\[  (PASSED|FAILED)' $R/gpu_tests.log | tr '\n' ' ')"
grep -E "^\[  FAILED  \]|Failure" $R/gpu_tests.log | head
wait; cat $R/synth*.txt
for round in 1 2; do
  for m in 14b 32b; do
    for b in base pf8 pf16 mk; do
      [ $SECONDS -lt 540 ] || break 3
      x=$B/brickc-$b; e=auto; [ $b = base ] && x=$B/brickc; [ $b = mk ] && x=$B/brickc e=megakernel
      timeout 40 taskset -c 0-3 $x bench -m $M/$m.gguf --device cuda --engine $e -p 16 -n 128 -r 5 --warmup 2 --json $R/$b-$m-$round.json > $R/$b-$m-$round.log 2>&1
      echo "$m $b r$round at $SECONDS s: $(grep tg128 $R/$b-$m-$round.log | head -1)"
    done
  done
done
echo "elapsed $SECONDS s"
} 2>&1 | tee $R/summary.txt
cd $OUT && tar czf r.tgz r && rm -rf r
