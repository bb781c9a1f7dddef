#!/usr/bin/env bash
# Session 20 call B: AP, the long-cache attention asking L2 for all of its split's later
# tiles before it waits for its inputs (the ring keeps one tile in flight); SP: AP with
# twice the splits where two blocks per SM allow (the 7B: 128). Against HEAD (562f089),
# alternating, tg128 at depth 16384 and 0 (1.5B, 7B); GPU attention tests of AP and SP;
# ncu of the attention kernel (head, AP) on 2-layer 1.5B/7B shapes at depth 16384.
mkdir -p build && tar xJf build/devx/dev.tar.xz -C build
export LD_LIBRARY_PATH=$PWD/build/device/lib
M=/tmp/models; mkdir -p $M $OUT/r
export BRICKC_CACHE_DIR=/tmp/kc BRICKC_REQUIRE_GPU=1
for v in head AP SP; do xz -dc build/devx/brickc-$v.xz > /tmp/brickc-$v; chmod +x /tmp/brickc-$v; done
for v in AP SP; do xz -dc build/devx/gt-$v.xz > /tmp/gt-$v; chmod +x /tmp/gt-$v; done
left() { [ $SECONDS -lt $1 ]; }
{
for m in 1.5b 7b; do /tmp/brickc-head synth --model qwen2.5-coder-$m --quant q4_k_m -o $M/$m.gguf > /dev/null & done
for m in 1.5b 7b; do /tmp/brickc-head synth --model qwen2.5-coder-$m --layers 2 --vocab-size 4096 --quant q4_k_m -o $M/$m-2l.gguf > /dev/null & done
for v in AP SP; do
  timeout 60 /tmp/gt-$v --gtest_filter='GpuBricks.AttentionOverALongCache' > $OUT/r/tests-$v.log 2>&1
  echo "tests $v rc=$? at $SECONDS s"; grep -E "^\[  (FAILED|PASSED) |attention " $OUT/r/tests-$v.log | head -8
done
wait
echo "synth at $SECONDS s"
for m in 1.5b 7b; do
  for d in 16384 0; do
    for v in head AP SP; do
      [ $d = 0 ] && [ $v = SP ] && continue
      left 330 && timeout 40 /tmp/brickc-$v bench -m $M/$m.gguf --device cuda -p 16 -n 128 -r 3 --warmup 2 -d $d --json $OUT/r/d$d-$m-$v.json > $OUT/r/d$d-$m-$v.log 2>&1
      echo "$v $m d$d rc=$?: $(grep tg128 $OUT/r/d$d-$m-$v.log | head -1)"
    done
  done
done
echo "benches at $SECONDS s"
MET="gpu__time_duration.sum,dram__throughput.avg.pct_of_peak_sustained_elapsed,dram__bytes_read.sum,lts__t_sector_hit_rate.pct,sm__warps_active.avg.pct_of_peak_sustained_active,smsp__average_warps_issue_stalled_long_scoreboard_per_issue_active.ratio,launch__grid_size"
for m in 1.5b 7b; do
  for v in head AP; do
    left 480 && timeout 60 ncu --clock-control none --metrics $MET -k regex:'^attention_hd' --launch-skip 4 --launch-count 2 /tmp/brickc-$v bench -m $M/$m-2l.gguf --device cuda -p 16 -n 4 -r 1 --warmup 0 -d 16384 > $OUT/r/ncu-$m-$v.txt 2>&1
    echo "ncu $m $v rc=$?"; grep -E "duration|dram__|hit_rate|grid_size" $OUT/r/ncu-$m-$v.txt | sed -E 's/ +/ /g' | head -8
  done
done
echo "elapsed $SECONDS s"
} 2>&1 | tee $OUT/r/summary.txt
cp $OUT/r/summary.txt $OUT/summary.txt; cd $OUT && tar czf r.tgz r && rm -rf r
