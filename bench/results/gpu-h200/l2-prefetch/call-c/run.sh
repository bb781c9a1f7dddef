#!/usr/bin/env bash
# Session 20 call C: what removing the decode step's rope_kv_append kernel would be worth,
# at most: NR is HEAD's binary with BRICKC_NO_ROPE set, which leaves the kernel out of
# decode graphs (attention then reads an unroped q and the cache is not appended: timing
# only, wrong results). tg128 at depth 0, HEAD and NR alternating twice, 0.5B to 7B. Then
# the CPU engine on this host against llama-bench -ngl 0 for the 7B (issue 15).
mkdir -p build && tar xJf build/devx/dev.tar.xz -C build
export LD_LIBRARY_PATH=$PWD/build/device/lib
B=$PWD/build/device/bin
M=/tmp/models; mkdir -p $M $OUT/r
export BRICKC_CACHE_DIR=/tmp/kc
xz -dc build/devx/brickc-NR.xz > /tmp/brickc-NR; chmod +x /tmp/brickc-NR
left() { [ $SECONDS -lt $1 ]; }
{
lscpu | grep -E "Model name|^CPU\(s\)|Flags" | sed -E 's/(Flags:).*(avx512f|amx).*/\1 (avx512\/amx present)/' | cut -c1-200
bash .llama/unpack.sh /tmp/llama > /dev/null &
for m in 0.5b 1.5b 3b 7b; do $B/brickc synth --model qwen2.5-coder-$m --quant q4_k_m -o $M/$m.gguf > /dev/null & done
wait
echo "synth at $SECONDS s"
for m in 0.5b 1.5b 3b 7b; do
  for i in 1 2; do
    for v in head NR; do
      if [ $v = NR ]; then export BRICKC_NO_ROPE=1; else unset BRICKC_NO_ROPE; fi
      left 300 && timeout 40 /tmp/brickc-NR bench -m $M/$m.gguf --device cuda -p 16 -n 128 -r 3 --warmup 2 --json $OUT/r/d0-$m-$v-$i.json > $OUT/r/d0-$m-$v-$i.log 2>&1
      echo "$v $m #$i rc=$?: $(grep tg128 $OUT/r/d0-$m-$v-$i.log | head -1)"
    done
  done
done
unset BRICKC_NO_ROPE
echo "benches at $SECONDS s"
lb=/tmp/llama/bin/llama-bench
if left 330; then
  CUDA_VISIBLE_DEVICES= timeout 250 $B/brickc bench -m $M/7b.gguf --device cpu -t $(nproc) -p 512 -n 128 -r 2 --warmup 1 --llama-bench $lb --json $OUT/r/cpu-7b.json > $OUT/r/cpu-7b.log 2>&1
  echo "cpu 7b rc=$?"; grep -E "pp512|tg128|simd|SIMD" $OUT/r/cpu-7b.log | head -8
fi
echo "elapsed $SECONDS s"
} 2>&1 | tee $OUT/r/summary.txt
cp $OUT/r/summary.txt $OUT/summary.txt; cd $OUT && tar czf r.tgz r && rm -rf r
