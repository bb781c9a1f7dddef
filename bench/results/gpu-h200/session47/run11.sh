#!/usr/bin/env bash
# The next call (README.md, "The QKV's second wave"): HEAD (532c266, build/devx/dev.tar.xz)
# against fb.patch's binary (build/devx/fb.tar.xz: fb, fb-tests), which launches the fewest
# blocks that keep a grid-stride kernel's passes as few: BRICKC_FEWEST_BLOCKS=4 for the
# kernels bounded to 4 blocks per SM (the 14B's and 32B's QKV, the 7B's o and down, the
# small models' LM heads), =all for every grid-stride kernel.
# 1. fb-tests under =all and =4 (the grids change; the results must not): token steps,
#    megakernel, bricks.
# 2. tg128 (-p 16 -n 128 -r 3), head / fb4 / fball alternating, two rounds, on the 8-layer
#    32B and 14B and the full 7B.
# 3. The 32B's blocks under fb4 (--trace-blocks): no QKV block should start after its
#    inputs are ready.
# 4. On an H200, the full 32B side by side with llama-bench under the faster of fb4/fball
#    if it beat head (-p 512 -n 128 -r 2).
tar xJf build/devx/dev.tar.xz -C build
mkdir -p /tmp/fb && tar xJf build/devx/fb.tar.xz -C /tmp/fb
export OUT MODELS=/tmp/s48 BRICKC_REQUIRE_GPU=1 LD_LIBRARY_PATH=$PWD/build/device/lib
B=$PWD/build/device/bin; mkdir -p $MODELS
model() { source <(sed -n '/^model()/,/^}/p' bench/gpu_run.sh); model "$@"; }
{
card=$(nvidia-smi --query-gpu=name --format=csv,noheader)
nvidia-smi --query-gpu=name,memory.total,clocks.max.sm,driver_version --format=csv,noheader
[[ $card == *H200* ]] && (taskset -c 4-15 $B/brickc synth -t 12 --model qwen2.5-coder-32b --quant q4_k_m \
  -o $MODELS/32b.tmp > /dev/null && mv $MODELS/32b.tmp $MODELS/32b-full.gguf; echo "synth 32b at $SECONDS s") &
for v in all 4; do
  BRICKC_FEWEST_BLOCKS=$v timeout 75 /tmp/fb/fb-tests \
    --gtest_filter='GpuTokenSteps.Qwen*:GpuMegakernel.Matches*:GpuBricks.Qwen7BQ4KM:GpuBricks.Qwen3BQ4KM' > $OUT/gpu_tests_fb$v.log 2>&1
  echo "fb=$v tests rc=$? at $SECONDS s: $(grep -cE '^\[       OK \]' $OUT/gpu_tests_fb$v.log) ok"
  grep -E "FAILED  \]" $OUT/gpu_tests_fb$v.log | head -4
done
AB_VARIANTS="head=$B/brickc fb4=/tmp/fb/fb,BRICKC_FEWEST_BLOCKS=4 fball=/tmp/fb/fb,BRICKC_FEWEST_BLOCKS=all" \
  AB_FILES="32b:q4_k_m:8 14b:q4_k_m:8 7b:q4_k_m" AB_END=$((330 - SECONDS)) taskset -c 0-3 bash bench/gpu_run.sh ab
f=$(B=$B model 32b q4_k_m 8)
BRICKC_FEWEST_BLOCKS=4 timeout 60 /tmp/fb/fb bench -m $f --device cuda -p 16 -n 16 -r 2 --warmup 1 \
  --trace-blocks $OUT/blocks-32b-L8-fb4.json --json $OUT/profile-32b-L8-fb4.json > $OUT/profile-32b-L8-fb4.log 2>&1
echo "32B blocks fb4 rc=$? at $SECONDS s"; gzip -f $OUT/blocks-32b-L8-fb4.json
if [[ $card == *H200* ]]; then
  best=$(python3 - "$OUT" <<'PY'
import glob, json, sys, statistics as st
def tg(name):
    v = [json.load(open(f))["decode"]["mean"]
         for f in glob.glob(f"{sys.argv[1]}/ab-32b-q4_k_m-L8-{name}-r*.json")]
    return st.mean(v) if v else 0
s = {n: tg(n) for n in ("head", "fb4", "fball")}
b = max(s, key=s.get)
print(b if b != "head" else "")
PY
)
  echo "fastest on the 32B L8: ${best:-head}"
  lb=$(bash .llama/unpack.sh /tmp/llama | tail -n 1)
  while [ ! -f $MODELS/32b-full.gguf ] && [ $SECONDS -lt 420 ]; do sleep 2; done
  env ${best:+BRICKC_FEWEST_BLOCKS=${best#fb}} timeout $((560 - SECONDS)) taskset -c 0-3 \
    ${best:+/tmp/fb/fb}${best:-$B/brickc} bench -m $MODELS/32b-full.gguf --device cuda -p 512 -n 128 -r 2 \
    --warmup 1 --llama-bench "$lb" --json $OUT/compare-32b.json > $OUT/compare-32b.log 2>&1
  echo "32b compare (${best:-head}) rc=$? at $SECONDS s"; grep -E "tg128|pp512" $OUT/compare-32b.log | head -4
fi
echo "elapsed $SECONDS s"
} > $OUT/summary.txt 2>&1
bash bench/gpu_run.sh pack > /dev/null
