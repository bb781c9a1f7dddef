#!/usr/bin/env bash
# Session 20 call D: the tree with the attention partials' addresses named once
# (AttnParts): GPU tests of attention and the megakernel; compute-sanitizer memcheck and
# racecheck of the megakernel (and memcheck of the graph) over a 1,200-token prompt on the
# 2-layer 0.5B (decode attention on its tensor-core path); tg128 at depth 16384 against
# HEAD's binary (562f089), alternating.
mkdir -p build && tar xJf build/devx/dev.tar.xz -C build
export LD_LIBRARY_PATH=$PWD/build/device/lib
B=$PWD/build/device/bin
M=/tmp/models; mkdir -p $M $OUT/r
export BRICKC_CACHE_DIR=/tmp/kc BRICKC_REQUIRE_GPU=1
xz -dc build/devx/brickc-head.xz > /tmp/brickc-head; chmod +x /tmp/brickc-head
cp $B/brickc /tmp/brickc-new
left() { [ $SECONDS -lt $1 ]; }
{
for m in 1.5b 7b; do $B/brickc synth --model qwen2.5-coder-$m --quant q4_k_m -o $M/$m.gguf > /dev/null & done
timeout 150 $B/brickc_gpu_tests --gtest_filter='GpuBricks.AttentionOverALongCache:GpuBatch.*:GpuMegakernel.*' > $OUT/r/tests.log 2>&1
echo "tests rc=$? at $SECONDS s"; grep -E "^\[  (FAILED|PASSED) |^\[       OK|attention " $OUT/r/tests.log | head -30
OUT=/tmp/san SANITIZE_PROMPT=1200 SANITIZE_ENGINES=megakernel SANITIZE_TOOLS="memcheck racecheck" timeout 300 bash bench/gpu_run.sh sanitize
echo "sanitize at $SECONDS s"
wait
for m in 1.5b 7b; do
  for i in 1 2; do for v in head new; do
    left 520 && timeout 40 /tmp/brickc-$v bench -m $M/$m.gguf --device cuda -p 16 -n 128 -r 3 --warmup 2 -d 16384 --json $OUT/r/d16384-$m-$v-$i.json > $OUT/r/d16384-$m-$v-$i.log 2>&1
    echo "$v $m d16384 #$i rc=$?: $(grep tg128 $OUT/r/d16384-$m-$v-$i.log | head -1)"
  done; done
done
left 530 && OUT=/tmp/san SANITIZE_PROMPT=1200 SANITIZE_ENGINES=graph SANITIZE_TOOLS="memcheck" timeout $((590 - SECONDS)) bash bench/gpu_run.sh sanitize
cp /tmp/san/sanitize.log $OUT/r/ 2>/dev/null
echo "elapsed $SECONDS s"
} 2>&1 | tee $OUT/r/summary.txt
cp $OUT/r/summary.txt $OUT/summary.txt; cd $OUT && tar czf r.tgz r && rm -rf r
