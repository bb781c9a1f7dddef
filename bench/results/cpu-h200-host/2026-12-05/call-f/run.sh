#!/usr/bin/env bash
# Call F (session 26). Calls C-E: a decode after a 512-token prompt on the tile unit runs
# slower than one after a 16-token prompt (call C, H200 host: p50 8.06 against 5.9 ms a
# token; call E, H100 host: p50 8.6-135 ms), and the H100 host stalls for 30-110 ms at p99.
# Two binaries: new (afa004a, the tree as committed) and rel (new, plus TILERELEASE as each
# thread ends a prompt product's chunk: tile-release.patch here). Tests (tiles, int8
# engine) of rel's tree, then decode after a 512-token prompt alternating, a 16-token
# control, CPU quota and steal time (vmstat), and the faster binary side by side with
# llama-bench -ngl 0 (0.5B twice, 1.5B, 7B if time is left). build/devx/dev.tar.xz holds
# device/bin/brickc.{new,rel} and brickc_unit_tests (rel's tree), stripped, and device/lib
# (scripts/device-bundle.sh). A third binary, ny (no-yield.patch), was dropped before the
# call: on the dev VM with one CPU taken by a busy loop it decoded at half new's speed.
# Not run in session 26: no machine was lent again before its device time ran out.
mkdir -p build && tar xJf build/devx/dev.tar.xz -C build
export LD_LIBRARY_PATH=$PWD/build/device/lib CUDA_VISIBLE_DEVICES=
B=$PWD/build/device/bin
M=/tmp/models; mkdir -p $M $OUT/r
med() { grep -E "brickc.*\| $2 " $1 | head -1 | awk -F'|' '{gsub(/ /, "", $5); print $5}'; }
{
echo "cpu.max: $(cat /sys/fs/cgroup/cpu.max 2>/dev/null)"; cat /proc/pressure/cpu 2>/dev/null
lscpu | grep -E "Model name|^CPU\(s\)"
bash .llama/unpack.sh /tmp/llama > /dev/null &
for m in 0.5b 1.5b 7b; do $B/brickc.new synth --model qwen2.5-coder-$m --quant q4_k_m -o $M/$m.gguf > /dev/null & done
timeout 100 $B/brickc_unit_tests --gtest_filter='CpuTiles*:Int8Engine*' > $OUT/r/tests.log 2>&1
echo "tests rc=$? at $SECONDS s: $(grep -E '^\[  (PASSED|FAILED)' $OUT/r/tests.log | tr '\n' ' ')"
wait
vmstat 2 > $OUT/r/vmstat.log &
V=$!
tg() {  # binary prompt round
  timeout 40 $B/brickc.$1 bench -m $M/0.5b.gguf --device cpu -t 16 -p $2 -n 128 -r 3 --warmup 1 > $OUT/r/tg-$1-p$2-$3.log 2>&1
  echo "$1 -p $2 round $3: tg128 $(med $OUT/r/tg-$1-p$2-$3.log tg128), $(grep -o 'p50.*' $OUT/r/tg-$1-p$2-$3.log) at $SECONDS s"
}
for r in 1 2; do tg new 512 $r; tg rel 512 $r; done
tg new 16 1
S=$(for b in new rel; do echo "$b $(for r in 1 2; do med $OUT/r/tg-$b-p512-$r.log tg128; done | awk '{s += $1} END {print s / NR}')"; done | sort -k2 -g | tail -1 | cut -d' ' -f1)
echo "side by side with brickc.$S at $SECONDS s"
side() {  # model round
  timeout 150 $B/brickc.$S bench -m $M/$1.gguf --device cpu -t 16 -p 512 -n 128 -r 3 --warmup 1 --llama-bench /tmp/llama/bin/llama-bench --json $OUT/r/cpu-$1-$2.json > $OUT/r/cpu-$1-$2.log 2>&1
  echo "$1 round $2 rc=$? at $SECONDS s"; grep -E "pp512|tg128|p50" $OUT/r/cpu-$1-$2.log | head -6
}
side 0.5b 1; side 1.5b 1; side 0.5b 2
[ $SECONDS -lt 170 ] && side 7b 1
kill $V; echo "steal % (vmstat st): $(tail -n +3 $OUT/r/vmstat.log | awk '{print $17}' | tr '\n' ' ')"
echo "elapsed $SECONDS s"
} 2>&1 | tee $OUT/r/summary.txt
cp $OUT/r/summary.txt $OUT/summary.txt; cd $OUT && tar czf r.tgz r && rm -rf r
