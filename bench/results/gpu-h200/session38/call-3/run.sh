#!/usr/bin/env bash
# Session 38 call 3: HEAD (02b22ad) side by side with llama-bench on the full 14B and 32B
# Q4_K_M (-p 512 -n 128, 2 repetitions). The 32B is synthesized while the 14B runs; the 14B
# is synthesized first unless call 2's full file is still on the warm machine.
tar xJf build/devx/dev.tar.xz -C /tmp
export LD_LIBRARY_PATH=/tmp/device/lib BRICKC_CACHE_DIR=/tmp/kc
B=/tmp/device/bin; M=/tmp/models; R=$OUT; mkdir -p $M
{
nvidia-smi --query-gpu=name,memory.total,clocks.max.sm,driver_version --format=csv,noheader
ls -la $M
if [ "$(stat -c %s $M/14b.gguf 2>/dev/null || echo 0)" -lt 8000000000 ]; then
  $B/brickc synth -t 16 --model qwen2.5-coder-14b --quant q4_k_m -o $M/14b.gguf > /dev/null; echo "synth 14b at $SECONDS s"
fi
(taskset -c 4-15 $B/brickc synth -t 12 --model qwen2.5-coder-32b --quant q4_k_m -o $M/32b.tmp > /dev/null && mv $M/32b.tmp $M/32b.gguf; echo "synth 32b at $SECONDS s") &
lb=$(bash .llama/unpack.sh /tmp/llama | tail -n 1)
timeout 200 taskset -c 0-3 $B/brickc bench -m $M/14b.gguf --device cuda -p 512 -n 128 -r 2 --warmup 1 --llama-bench "$lb" --json $R/compare-14b.json > /tmp/c.log 2>&1
echo "14b compare rc=$? at $SECONDS s"; grep -E "tg128|pp512" /tmp/c.log | head -4
wait
timeout $((595 - SECONDS)) taskset -c 0-3 $B/brickc bench -m $M/32b.gguf --device cuda -p 512 -n 128 -r 2 --warmup 1 --llama-bench "$lb" --json $R/compare-32b.json > /tmp/c.log 2>&1
echo "32b compare rc=$? at $SECONDS s"; grep -E "tg128|pp512" /tmp/c.log | head -4
echo "elapsed $SECONDS s"
} > $OUT/summary.txt 2>&1
