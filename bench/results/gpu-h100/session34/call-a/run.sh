#!/usr/bin/env bash
# Session 34 call A: main (brickc-base, 45932a2) against norm-once (brickc, session 33's
# norm-once.patch) and o-proj-one-pass (brickc-op). GPU tests of norm-once while the full
# 14B and 32B are synthesized; greedy ids of base and norm-once on the 14B; tg128 of the
# three alternating over two rounds.
tar xJf build/devx/dev.tar.xz -C /tmp
export LD_LIBRARY_PATH=/tmp/device/lib BRICKC_CACHE_DIR=/tmp/kc
B=/tmp/device/bin; M=/tmp/models; R=$OUT/r; mkdir -p $M $R
synth() { taskset -c $2 $B/brickc-base synth -t $3 --model qwen2.5-coder-$1 --quant q4_k_m -o $M/$1.tmp > /dev/null && mv $M/$1.tmp $M/$1.gguf; echo "synth $1 at $SECONDS s"; }
{
nvidia-smi --query-gpu=name,memory.total,clocks.max.sm,driver_version --format=csv,noheader
synth 32b 8-15 8 > $R/synth32.txt 2>&1 &
synth 14b 4-7 4 > $R/synth14.txt 2>&1 &
BRICKC_REQUIRE_GPU=1 timeout 200 taskset -c 0-3 $B/brickc_gpu_tests --gtest_filter='GpuBricks.*:GpuMegakernel.*:GpuVerify.*' > $R/gpu_tests.log 2>&1
echo "tests rc=$? at $SECONDS s: $(grep -cE '^\[       OK' $R/gpu_tests.log) ok; $(grep -E '^\[  (PASSED|FAILED)' $R/gpu_tests.log | tr '\n' ' ')"
grep -E "^\[  FAILED  \]|Failure" $R/gpu_tests.log | head
wait; cat $R/synth*.txt
T=151644,8948,198,2610,525,1207,16948,11,3465,553,54364,14817,13,151645,198
for b in base norm; do
  x=$B/brickc; [ $b = base ] && x=$B/brickc-base
  for e in graph megakernel; do
    timeout 60 taskset -c 0-3 $x run -m $M/14b.gguf --device cuda --engine $e --prompt-tokens $T -n 64 > $R/ids-$b-$e.txt 2> $R/ids-$b-$e.err
    echo "ids $b $e rc=$?"
  done
done
for f in norm-graph base-megakernel norm-megakernel; do cmp -s $R/ids-base-graph.txt $R/ids-$f.txt && echo "ids $f == base-graph" || echo "ids $f DIFFER from base-graph"; done
for round in 1 2; do
  for m in 14b 32b; do
    for b in base norm op; do
      [ $SECONDS -lt 560 ] || break 3
      x=$B/brickc-$b; [ $b = norm ] && x=$B/brickc
      timeout 40 taskset -c 0-3 $x bench -m $M/$m.gguf --device cuda -p 16 -n 128 -r 5 --warmup 2 --json $R/$b-$m-$round.json > $R/$b-$m-$round.log 2>&1
      echo "$m $b r$round at $SECONDS s: $(grep tg128 $R/$b-$m-$round.log | head -1)"
    done
  done
done
echo "elapsed $SECONDS s"
} > $OUT/summary.txt 2>&1
cd $OUT && tar czf r.tgz r && rm -rf r
