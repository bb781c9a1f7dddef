#!/usr/bin/env bash
# Call H (session 27): issue 15's side by side on the H200 host with main as committed
# (new, 88a4c42: call G's 16 KB decode chunks (230124e) and SwiGLU in SIMD (88a4c42));
# old (230124e) against new on 1.5B prompts first, for SwiGLU's share; and a per-brick
# profile of the 1.5B's 512-token prompts on the tiles and on the VNNI dot products (prof:
# new plus prof.diff, which sums the prompt graph's brick times by kind and prints them
# at exit; a diagnostic build, not for main). build/devx/dev.tar.xz holds
# device/bin/brickc.{old,new,prof} and brickc_unit_tests (88a4c42), stripped, and
# device/lib.
mkdir -p build && tar xJf build/devx/dev.tar.xz -C build
export LD_LIBRARY_PATH=$PWD/build/device/lib CUDA_VISIBLE_DEVICES=
B=$PWD/build/device/bin
M=/tmp/models; mkdir -p $M $OUT/r
{
lscpu | grep -E "Model name|^CPU\(s\)|L3"
bash .llama/unpack.sh /tmp/llama > /dev/null &
for m in 0.5b 1.5b 7b; do $B/brickc.new synth --model qwen2.5-coder-$m --quant q4_k_m -o $M/$m.gguf > /dev/null & done
timeout 90 $B/brickc_unit_tests --gtest_filter='CpuTiles*:Int8Engine*:CpuThreadPool*:CpuBricks.Simd*' > $OUT/r/tests.log 2>&1
echo "tests rc=$? at $SECONDS s: $(grep -E '^\[  (PASSED|FAILED)' $OUT/r/tests.log | tr '\n' ' ')"
wait
echo "models at $SECONDS s"
prof() {  # name model simd
  BRICKC_X_PROF=1 BRICKC_SIMD=$3 timeout 60 $B/brickc.prof bench -m $M/$2.gguf --device cpu -t 16 -p 512 -n 8 -r 3 --warmup 1 > $OUT/r/$1.log 2>&1
  echo "$1 at $SECONDS s:"; grep -E "\| pp512" $OUT/r/$1.log; sed -n '/prefill profile/,$p' $OUT/r/$1.log
}
ab() {  # binary round
  timeout 60 $B/brickc.$1 bench -m $M/1.5b.gguf --device cpu -t 16 -p 512 -n 8 -r 3 --warmup 1 > $OUT/r/pp-1.5b-$1-$2.log 2>&1
  echo "pp-1.5b-$1-$2: $(grep -E '\| pp512' $OUT/r/pp-1.5b-$1-$2.log) at $SECONDS s"
}
side() {  # model round
  timeout 170 $B/brickc.new bench -m $M/$1.gguf --device cpu -t 16 -p 512 -n 128 -r 3 --warmup 1 --llama-bench /tmp/llama/bin/llama-bench --json $OUT/r/cpu-$1-$2.json > $OUT/r/cpu-$1-$2.log 2>&1
  echo "$1 round $2 rc=$? at $SECONDS s"; grep -E "pp512|tg128|p50" $OUT/r/cpu-$1-$2.log | head -6
}
side 0.5b 1; side 1.5b 1; side 7b 1
for r in 1 2; do ab old $r; ab new $r; done
prof prof-1.5b-amx 1.5b amx; prof prof-1.5b-vnni 1.5b avx512vnni
[ $SECONDS -lt 380 ] && side 1.5b 2
[ $SECONDS -lt 420 ] && side 0.5b 2
echo "elapsed $SECONDS s"
} 2>&1 | tee $OUT/r/summary.txt
cp $OUT/r/summary.txt $OUT/summary.txt; cd $OUT && tar czf r.tgz r && rm -rf r
