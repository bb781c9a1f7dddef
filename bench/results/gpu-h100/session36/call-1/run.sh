#!/usr/bin/env bash
# Session 36 call 1: decode attention at depth 16384, variants of HEAD (25f9582), each with
# trace-dump.patch (raw per-block stamps of attention and rope launches under
# BRICKC_TRACE_DUMP, every 16th profiled step):
#  base  HEAD; pf  + session 35's qkv-l2-prefetch.patch; s64  attention_splits with
#  2 * S * NKV <= SMs (one block per SM); s64st  s64 plus a 128 KB ring (crashed: illegal
#  address at depth 16384; not pursued).
tar xJf build/devx/dev.tar.xz -C /tmp; mkdir -p /tmp/v; tar xJf build/devx/v.tar.xz -C /tmp/v
export LD_LIBRARY_PATH=/tmp/device/lib
M=/tmp/models; R=$OUT/r; mkdir -p $M $R
{
nvidia-smi --query-gpu=name,memory.total,clocks.max.sm,driver_version --format=csv,noheader
/tmp/v/base synth -t 8 --model qwen2.5-coder-1.5b --quant q4_k_m -o $M/1.5b.gguf > /dev/null &
/tmp/v/base synth -t 8 --model qwen2.5-coder-7b --quant q4_k_m -o $M/7b.gguf > /dev/null &
wait
echo "synth at $SECONDS s"
for v in base s64 s64st pf; do
  m=1.5b; c=q8_0
  BRICKC_CACHE_DIR=/tmp/kc-$v BRICKC_TRACE_DUMP=$R/dump-$v-$m-$c.txt timeout 60 /tmp/v/$v bench -m $M/$m.gguf --device cuda -p 16 -n 64 -r 2 --warmup 1 -d 16384 --cache-type-k $c --cache-type-v $c --profile > $R/prof-$v-$m-$c.log 2>&1
  echo "prof $v rc=$? at $SECONDS s"; grep -E "^\| attention|tg64" $R/prof-$v-$m-$c.log | head -4
done
for mc in 1.5b:q8_0 7b:q8_0 1.5b:f16 7b:f16; do
  m=${mc%%:*}; c=${mc##*:}
  for d in 16384 0; do
    for v in base s64 s64st pf; do
      [ $SECONDS -lt 520 ] || break 4
      BRICKC_CACHE_DIR=/tmp/kc-$v timeout 40 /tmp/v/$v bench -m $M/$m.gguf --device cuda -p 16 -n 128 -r 3 --warmup 1 -d $d --cache-type-k $c --cache-type-v $c --json $R/$v-$m-$c-d$d.json > $R/$v-$m-$c-d$d.log 2>&1
      echo "$v $m $c d$d rc=$? at $SECONDS s: $(grep -hE 'tg128|error' $R/$v-$m-$c-d$d.log | tr -s ' ')"
    done
  done
done
echo "elapsed $SECONDS s"
} > $OUT/summary.txt 2>&1
cd $OUT && tar czf r.tgz r && rm -rf r
