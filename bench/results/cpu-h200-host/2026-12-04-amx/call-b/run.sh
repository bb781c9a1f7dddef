#!/usr/bin/env bash
# Session 21 call B (issue 15): where a prompt step's time goes with AMX tiles. brickc-prof
# is call A's tree with two local timers, not committed: the prompt step's wall time per
# brick kind (BRICKC_PROMPT_PROFILE) and, in matmul_tiles, the wall time of quantizing the
# activations and of the strips' pool job, and the threads' summed time in unpacking
# strips, in tile products and in writing the results. 1.5B at 16, 8, 4 and 1 threads;
# 0.5B and 7B at 16.
mkdir -p build && tar xJf build/devx/dev.tar.xz -C build
export LD_LIBRARY_PATH=$PWD/build/device/lib CUDA_VISIBLE_DEVICES= BRICKC_PROMPT_PROFILE=1
B=$PWD/build/device/bin
xz -dc build/devx/brickc-prof.xz > /tmp/brickc-prof; chmod +x /tmp/brickc-prof
M=/tmp/models; mkdir -p $M $OUT/r
{
for m in 0.5b 1.5b 7b; do $B/brickc synth --model qwen2.5-coder-$m --quant q4_k_m -o $M/$m.gguf > /dev/null & done
wait
for c in "1.5b 16 512" "1.5b 8 512" "1.5b 4 256" "1.5b 1 64" "0.5b 16 512" "7b 16 512"; do
  set -- $c
  timeout 100 /tmp/brickc-prof bench -m $M/$1.gguf --device cpu -t $2 -p $3 -n 1 -r 1 --warmup 1 > $OUT/r/prof-$1-t$2.log 2>&1
  echo "== $1 -t $2 -p $3 rc=$?"; grep -E "PROMPT|TILES|\| pp" $OUT/r/prof-$1-t$2.log | tail -3
done
echo "elapsed $SECONDS s"
} 2>&1 | tee $OUT/r/summary.txt
cp $OUT/r/summary.txt $OUT/summary.txt; cd $OUT && tar czf r.tgz r && rm -rf r
