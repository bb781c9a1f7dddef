#!/usr/bin/env bash
# Session 47's planned call (its README, "The next call"), with HEAD's GPU tests first (the
# mend of attention's copy slot).
# HEAD (build/devx/dev.tar.xz) against
# - fb (fb.patch; build/devx/fb.tar.xz: fb, fb-tests): the runtime launches the fewest
#   blocks that keep a grid-stride kernel's passes as few, BRICKC_FEWEST_BLOCKS=4 for the
#   kernels bounded to 4 blocks per SM (the 14B's and 32B's QKV, the 7B's o and down, the
#   small models' LM heads), =all for every grid-stride kernel;
# - nwfb (nw.patch and fb.patch; build/devx/nwfb.tar.xz: nwfb, nwfb-tests): the RMSNorm
#   prologue's last norm weights (K = 5,120: the 14B's and 32B's) loaded before the
#   reduction's barriers, not after them; with and without BRICKC_FEWEST_BLOCKS=4.
# 1. fb-tests under =all (every grid changes, no result may), nwfb-tests' token steps, and
#    --verify of the 8-layer 32B under nwfb (every brick against the CPU reference: the
#    changed prologue runs only at K = 5,120).
# 2. tg128 (-p 16 -n 128 -r 3): head, fb4, fball, nw, nwfb4 alternating, two rounds, on
#    the 8-layer 32B and 14B and the full 7B (as far as the time allows).
# 3. The 32B's blocks under fb4 (--trace-blocks): no QKV block should start late.
# 4. On an H200, the full 32B beside llama-bench (-p 512 -n 128 -r 2) with the fastest
#    variant on the 8-layer 32B.
tar xJf build/devx/dev.tar.xz -C build
mkdir -p /tmp/fb && tar xJf build/devx/fb.tar.xz -C /tmp/fb && tar xJf build/devx/nwfb.tar.xz -C /tmp/fb
export OUT MODELS=/tmp/s48 BRICKC_REQUIRE_GPU=1 LD_LIBRARY_PATH=$PWD/build/device/lib
B=$PWD/build/device/bin X=/tmp/fb; mkdir -p $MODELS
model() { source <(sed -n '/^model()/,/^}/p' bench/gpu_run.sh); model "$@"; }
declare -A VAR=([head]="$B/brickc" [fb4]="$X/fb,BRICKC_FEWEST_BLOCKS=4" [fball]="$X/fb,BRICKC_FEWEST_BLOCKS=all"
                [nw]="$X/nwfb" [nwfb4]="$X/nwfb,BRICKC_FEWEST_BLOCKS=4")
{
card=$(nvidia-smi --query-gpu=name --format=csv,noheader)
nvidia-smi --query-gpu=name,memory.total,clocks.max.sm,driver_version --format=csv,noheader
[[ $card == *H200* ]] && (taskset -c 4-15 $B/brickc synth -t 12 --model qwen2.5-coder-32b --quant q4_k_m \
  -o $MODELS/32b.tmp > /dev/null && mv $MODELS/32b.tmp $MODELS/32b-full.gguf; echo "synth 32b at $SECONDS s") &
timeout 70 $B/brickc_gpu_tests --gtest_filter='GpuMegakernel.*:GpuTokenSteps.Qwen*:GpuBricks.Attention*' > $OUT/gpu_tests_head.log 2>&1
echo "head tests rc=$? at $SECONDS s: $(grep -cE '^\[       OK \]' $OUT/gpu_tests_head.log) ok"; grep "FAILED  \]" $OUT/gpu_tests_head.log | head -3
BRICKC_FEWEST_BLOCKS=all timeout 75 $X/fb-tests --gtest_filter='GpuTokenSteps.Qwen*:GpuMegakernel.Matches*:GpuBricks.Qwen7BQ4KM:GpuBricks.Qwen3BQ4KM' \
  > $OUT/gpu_tests_fball.log 2>&1
echo "fball tests rc=$? at $SECONDS s: $(grep -cE '^\[       OK \]' $OUT/gpu_tests_fball.log) ok"; grep "FAILED  \]" $OUT/gpu_tests_fball.log | head -3
timeout 40 $X/nwfb-tests --gtest_filter='GpuTokenSteps.Qwen*' > $OUT/gpu_tests_nw.log 2>&1
echo "nw tests rc=$? at $SECONDS s: $(grep -cE '^\[       OK \]' $OUT/gpu_tests_nw.log) ok"; grep "FAILED  \]" $OUT/gpu_tests_nw.log | head -3
f=$(B=$B model 32b q4_k_m 8)
timeout 60 $X/nwfb run -m $f --device cuda --prompt-tokens 1,2,3,4,5,6,7,8 -n 8 --verify > $OUT/verify-32b-L8-nw.log 2>&1
echo "nw 32B verify rc=$? at $SECONDS s"; tail -n 3 $OUT/verify-32b-L8-nw.log
AB_VARIANTS="head=${VAR[head]} fb4=${VAR[fb4]} fball=${VAR[fball]} nw=${VAR[nw]} nwfb4=${VAR[nwfb4]}" \
  AB_FILES="32b:q4_k_m:8 14b:q4_k_m:8 7b:q4_k_m" AB_END=$((400 - SECONDS)) taskset -c 0-3 bash bench/gpu_run.sh ab
BRICKC_FEWEST_BLOCKS=4 timeout 45 $X/fb bench -m $f --device cuda -p 16 -n 16 -r 2 --warmup 1 \
  --trace-blocks $OUT/blocks-32b-L8-fb4.json --json $OUT/profile-32b-L8-fb4.json > $OUT/profile-32b-L8-fb4.log 2>&1
echo "32B blocks fb4 rc=$? at $SECONDS s"; gzip -f $OUT/blocks-32b-L8-fb4.json
if [[ $card == *H200* ]]; then
  best=$(python3 - "$OUT" <<'PY'
import glob, json, sys, statistics as st
def tg(name):
    v = [json.load(open(f))["decode"]["mean"]
         for f in glob.glob(f"{sys.argv[1]}/ab-32b-q4_k_m-L8-{name}-r*.json")]
    return st.mean(v) if v else 0
s = {n: tg(n) for n in ("head", "fb4", "fball", "nw", "nwfb4")}
print(max(s, key=s.get))
PY
)
  echo "fastest on the 32B L8: $best"
  IFS=, read -ra run <<< "${VAR[$best]}"
  lb=$(bash .llama/unpack.sh /tmp/llama | tail -n 1)
  while [ ! -f $MODELS/32b-full.gguf ] && [ $SECONDS -lt 440 ]; do sleep 2; done
  env "${run[@]:1}" timeout $((570 - SECONDS)) taskset -c 0-3 "${run[0]}" bench -m $MODELS/32b-full.gguf --device cuda \
    -p 512 -n 128 -r 2 --warmup 1 --llama-bench "$lb" --json $OUT/compare-32b.json > $OUT/compare-32b.log 2>&1
  echo "32b compare ($best) rc=$? at $SECONDS s"; grep -E "tg128|pp512" $OUT/compare-32b.log | head -4
fi
echo "elapsed $SECONDS s"
} > $OUT/summary.txt 2>&1
bash bench/gpu_run.sh pack > /dev/null
