#!/usr/bin/env bash
# The bars of issue 12 still unmeasured on an H200 (README.md): tg128 at depth 16,384 and 0
# for the 1.5B and 7B (q8_0 cache, two rounds), the full 14B and 32B beside llama-bench
# (-p 512 -n 128 -r 2; synthesized on cores 4-15 meanwhile), then depth 16,384 and 0 with
# the f16 cache as the time allows. VARIANT names the build: head (build/devx/dev.tar.xz) or
# fb4 (build/devx/fb.tar.xz, BRICKC_FEWEST_BLOCKS=4).
tar xJf build/devx/dev.tar.xz -C build
export OUT MODELS=/tmp/s48 BRICKC_REQUIRE_GPU=1 LD_LIBRARY_PATH=$PWD/build/device/lib
B=$PWD/build/device/bin; mkdir -p $MODELS
# The build as bench/gpu_run.sh's ab step names it (binary[,VAR=value]), and as a command.
case ${VARIANT:-head} in
  head) ab=head=$B/brickc ;;
  fb4) mkdir -p /tmp/fb && tar xJf build/devx/fb.tar.xz -C /tmp/fb; ab=fb4=/tmp/fb/fb,BRICKC_FEWEST_BLOCKS=4 ;;
esac
IFS=, read -ra spec <<< "${ab#*=}"
run=(env "${spec[@]:1}" "${spec[0]}")
q8="--cache-type-k q8_0 --cache-type-v q8_0"
{
nvidia-smi --query-gpu=name,memory.total,clocks.max.sm,driver_version --format=csv,noheader
echo "variant ${VARIANT:-head}: ${run[*]}"
SYNTH_FILES="14b:q4_k_m 32b:q4_k_m" taskset -c 4-15 bash bench/gpu_run.sh synth &
for r in 1 2; do for d in 16384 0; do
  AB_VARIANTS="$ab" AB_FILES="1.5b:q4_k_m 7b:q4_k_m" AB_ARGS="-d $d $q8" AB_TAG=d$d-q8-round$r AB_ROUNDS=1 \
    AB_END=$((280 - SECONDS)) taskset -c 0-3 bash bench/gpu_run.sh ab
done; done
lb=$(bash .llama/unpack.sh /tmp/llama | tail -n 1)
for s in 14b:300:420 32b:440:570; do
  IFS=: read -r m wait_until end <<< "$s"
  f=$MODELS/$m-q4_k_m.gguf
  while [ ! -f $f ] && [ $SECONDS -lt $wait_until ]; do sleep 2; done
  [ -f $f ] || { echo "no $m file at $SECONDS s"; continue; }
  timeout $((end - SECONDS)) taskset -c 0-3 "${run[@]}" bench -m $f --device cuda -p 512 -n 128 \
    -r 2 --warmup 1 --llama-bench "$lb" --json $OUT/compare-$m.json > $OUT/compare-$m.log 2>&1
  echo "$m compare rc=$? at $SECONDS s"; grep -E "tg128|pp512" $OUT/compare-$m.log | head -4
done
for d in 16384 0; do
  AB_VARIANTS="$ab" AB_FILES="1.5b:q4_k_m 7b:q4_k_m" AB_ARGS="-d $d" AB_TAG=d$d-f16 AB_ROUNDS=1 AB_END=$((560 - SECONDS)) \
    taskset -c 0-3 bash bench/gpu_run.sh ab
done
echo "elapsed $SECONDS s"
} > $OUT/summary.txt 2>&1
bash bench/gpu_run.sh pack > /dev/null
