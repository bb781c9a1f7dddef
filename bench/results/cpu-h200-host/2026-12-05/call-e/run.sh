#!/usr/bin/env bash
# Call E (session 26, on call D's warm H100 machine): call D's side-by-side runs took pool1,
# whose decode fell to 14.5 tok/s on the 1.5B (a product waits for its slowest thread's only
# chunk). The same runs with new (HEAD, the committed tree), same bundle as call D.
mkdir -p build && tar xJf build/devx/dev.tar.xz -C build
export LD_LIBRARY_PATH=$PWD/build/device/lib CUDA_VISIBLE_DEVICES=
B=$PWD/build/device/bin
M=/tmp/models; mkdir -p $M $OUT/r
{
[ -x /tmp/llama/bin/llama-bench ] || bash .llama/unpack.sh /tmp/llama > /dev/null
for m in 0.5b 1.5b 7b; do [ -f $M/$m.gguf ] || $B/brickc.new synth --model qwen2.5-coder-$m --quant q4_k_m -o $M/$m.gguf > /dev/null & done
wait
lb=/tmp/llama/bin/llama-bench
side() {  # model round
  timeout 150 $B/brickc.new bench -m $M/$1.gguf --device cpu -t 16 -p 512 -n 128 -r 3 --warmup 1 --llama-bench $lb --json $OUT/r/cpu-$1-$2.json > $OUT/r/cpu-$1-$2.log 2>&1
  echo "$1 round $2 rc=$? at $SECONDS s"; grep -E "pp512|tg128" $OUT/r/cpu-$1-$2.log | head -6
}
side 0.5b 1; side 1.5b 1; side 0.5b 2
[ $SECONDS -lt 300 ] && side 7b 1
echo "elapsed $SECONDS s"
} 2>&1 | tee $OUT/r/summary.txt
cp $OUT/r/summary.txt $OUT/summary.txt; cd $OUT && tar czf r.tgz r && rm -rf r
