#!/usr/bin/env bash
# Session 19 call B: variants of the tensor-core decode attention at depth 16384 (1.5B,
# 7B; tg128, alternating): A as committed next (2-stage 64 KB ring, the grid's S splits),
# B a 3-stage 96 KB ring, C half the splits on the long-cache path (fewer partials for
# the last block to merge). Then A's per-brick profile of the 7B at depth 16384.
export LD_LIBRARY_PATH=$PWD/build/device/lib
M=/tmp/models; mkdir -p $M $OUT/r
export BRICKC_CACHE_DIR=/tmp/kc
for v in A B C; do xz -dkc build/device/v/brickc-$v.xz > /tmp/brickc-$v && chmod +x /tmp/brickc-$v; done
left() { [ $SECONDS -lt $1 ]; }
{
for m in 1.5b 7b; do /tmp/brickc-A synth --model qwen2.5-coder-$m --quant q4_k_m -o $M/$m.gguf > /dev/null & done; wait
echo "synth at $SECONDS s"
for m in 1.5b 7b; do
  for round in 1 2; do
    for v in A B C; do
      left 480 && timeout 60 /tmp/brickc-$v bench -m $M/$m.gguf --device cuda -p 16 -n 128 -r 3 --warmup 2 -d 16384 --json $OUT/r/d16384-$m-$v-$round.json > $OUT/r/d16384-$m-$v-$round.log 2>&1
      echo "$v $m d16384 #$round rc=$?: $(grep tg128 $OUT/r/d16384-$m-$v-$round.log | head -1)"
    done
  done
done
for v in A B; do
  left 500 && timeout 60 /tmp/brickc-$v bench -m $M/7b.gguf --device cuda -p 16 -n 128 -r 3 --warmup 2 -d 0 > $OUT/r/d0-7b-$v.log 2>&1
  echo "$v 7b d0 rc=$?: $(grep tg128 $OUT/r/d0-7b-$v.log | head -1)"
done
left 520 && timeout 60 /tmp/brickc-A bench -m $M/7b.gguf --device cuda -p 16 -n 32 -r 1 --warmup 1 -d 16384 --profile --json $OUT/r/prof-7b-A.json > $OUT/r/prof-7b-A.log 2>&1
echo "profile rc=$?"; grep -E "^\| (attention|matvec_add|rmsnorm_gate_up_swiglu|rmsnorm_qkv|rope_kv_append|rmsnorm_lm_head) " $OUT/r/prof-7b-A.log
echo "elapsed $SECONDS s"
} 2>&1 | tee $OUT/r/summary.txt
cp $OUT/r/summary.txt $OUT/summary.txt; cd $OUT && tar czf r.tgz r && rm -rf r
