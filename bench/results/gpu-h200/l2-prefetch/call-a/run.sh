#!/usr/bin/env bash
# Session 20 call A: the decode QKV kernel asks L2 for its layer's K/V cache rows (P)
# against HEAD (562f089); PR: P + the attention's rescale skipped while no maximum moves and
# the warps combined with per-(warp, head) factors; PB: PR + a 3-stage 96 KB ring with one
# barrier per tile. tg128 at depth 0 and 16384, 1.5B and 7B, binaries alternating; GPU
# tests of P (bricks, megakernel) and of PR/PB's attention; compute-sanitizer memcheck and
# racecheck of the graph engine over a 1,200-token prompt (the tensor-core attention path).
mkdir -p build && tar xJf build/devx/dev.tar.xz -C build
export LD_LIBRARY_PATH=$PWD/build/device/lib
B=$PWD/build/device/bin
M=/tmp/models; mkdir -p $M $OUT/r
export BRICKC_CACHE_DIR=/tmp/kc BRICKC_REQUIRE_GPU=1
cp $B/brickc /tmp/brickc-P
for v in head PR PB; do xz -dc build/devx/brickc-$v.xz > /tmp/brickc-$v; chmod +x /tmp/brickc-$v; done
for v in PR PB; do xz -dc build/devx/gt-$v.xz > /tmp/gt-$v; chmod +x /tmp/gt-$v; done
left() { [ $SECONDS -lt $1 ]; }
{
nvidia-smi --query-gpu=name,clocks.sm,clocks.max.sm,clocks.mem,temperature.gpu --format=csv
for m in 1.5b 7b; do $B/brickc synth --model qwen2.5-coder-$m --quant q4_k_m -o $M/$m.gguf > /dev/null & done
timeout 170 $B/brickc_gpu_tests --gtest_filter='GpuBricks.*:GpuMegakernel.MatchesThePerBrickGraphBitForBit' > $OUT/r/tests-P.log 2>&1
echo "tests P rc=$? at $SECONDS s"; grep -E "^\[  (FAILED|PASSED) " $OUT/r/tests-P.log
for v in PR PB; do
  timeout 60 /tmp/gt-$v --gtest_filter='GpuBricks.AttentionOverALongCache' > $OUT/r/tests-$v.log 2>&1
  echo "tests $v rc=$? at $SECONDS s"; grep -E "^\[  (FAILED|PASSED) |attention " $OUT/r/tests-$v.log | head -8
done
wait
echo "synth at $SECONDS s"
for m in 1.5b 7b; do
  for d in 16384 0; do
    for v in head P PR PB; do
      left 450 && timeout 40 /tmp/brickc-$v bench -m $M/$m.gguf --device cuda -p 16 -n 128 -r 3 --warmup 2 -d $d --json $OUT/r/d$d-$m-$v.json > $OUT/r/d$d-$m-$v.log 2>&1
      echo "$v $m d$d rc=$?: $(grep tg128 $OUT/r/d$d-$m-$v.log | head -1)"
    done
  done
done
echo "benches at $SECONDS s"
left 480 && OUT=/tmp/san SANITIZE_PROMPT=1200 SANITIZE_ENGINES=graph SANITIZE_TOOLS="memcheck racecheck" timeout $((590 - SECONDS)) bash bench/gpu_run.sh sanitize
cp /tmp/san/sanitize.log $OUT/r/ 2>/dev/null
echo "elapsed $SECONDS s"
} 2>&1 | tee $OUT/r/summary.txt
cp $OUT/r/summary.txt $OUT/summary.txt; cd $OUT && tar czf r.tgz r && rm -rf r
