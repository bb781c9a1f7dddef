#!/usr/bin/env bash
# Session 34 call C: norm-once with the producer's arrivals batched at the end of each
# warp's rows (brickc-norm2) against main (brickc-base): --verify and per-brick profiles on
# a 4-layer 14B; greedy ids on the full 14B; tg128 of the full 14B and 32B, alternating.
tar xJf build/devx/dev.tar.xz -C /tmp
export LD_LIBRARY_PATH=/tmp/device/lib BRICKC_CACHE_DIR=/tmp/kc
B=/tmp/device/bin; M=/tmp/models; R=$OUT/r; mkdir -p $M $R
synth() { taskset -c $2 $B/brickc-base synth -t $3 --model qwen2.5-coder-$1 --quant q4_k_m -o $M/$1.tmp > /dev/null && mv $M/$1.tmp $M/$1.gguf; echo "synth $1 at $SECONDS s"; }
{
nvidia-smi --query-gpu=name,memory.total,clocks.max.sm,driver_version --format=csv,noheader
$B/brickc-base synth -t 16 --model qwen2.5-coder-14b --layers 4 --quant q4_k_m -o $M/14b-4l.gguf > /dev/null
echo "synth 4l at $SECONDS s"
synth 32b 6-15 10 > $R/synth32.txt 2>&1 &
synth 14b 2-5 4 > $R/synth14.txt 2>&1 &
timeout 90 taskset -c 0-1 $B/brickc-norm2 run -m $M/14b-4l.gguf --device cuda --engine graph -p "def f(x):" -n 3 --verify > $R/verify-norm2.log 2>&1
echo "verify norm2 rc=$? at $SECONDS s: $(tail -1 $R/verify-norm2.log)"
for b in base norm2; do
  timeout 60 taskset -c 0-1 $B/brickc-$b bench -m $M/14b-4l.gguf --device cuda -p 16 -n 32 -r 3 --warmup 1 --profile --json $R/prof-$b.json > $R/prof-$b.log 2>&1
  echo "== $b at $SECONDS s"
  sed -n '/^| brick | count/,/^step:/p' $R/prof-$b.log | grep -E "^\| (matvec_add|rmsnorm_qkv|rmsnorm_gate|attention)|^step"
done
wait; cat $R/synth*.txt
T=151644,8948,198,2610,525,1207,16948,11,3465,553,54364,14817,13,151645,198
for b in base norm2; do
  timeout 60 $B/brickc-$b run -m $M/14b.gguf --device cuda --engine graph --prompt-tokens $T -n 64 > $R/ids-$b.txt 2> $R/ids-$b.err
  echo "ids $b rc=$?"
done
cmp -s $R/ids-base.txt $R/ids-norm2.txt && echo "ids norm2 == base" || echo "ids norm2 DIFFER from base"
for round in 1 2; do
  for m in 14b 32b; do
    for b in base norm2; do
      [ $SECONDS -lt 560 ] || break 3
      timeout 40 $B/brickc-$b bench -m $M/$m.gguf --device cuda -p 16 -n 128 -r 5 --warmup 2 --json $R/$b-$m-$round.json > $R/$b-$m-$round.log 2>&1
      echo "$m $b r$round at $SECONDS s: $(grep tg128 $R/$b-$m-$round.log | head -1)"
    done
  done
done
echo "elapsed $SECONDS s"
} > $OUT/summary.txt 2>&1
cd $OUT && tar czf r.tgz r && rm -rf r
