#!/usr/bin/env bash
# Call G (session 27). Questions before the side by side with llama-bench -ngl 0:
# (1) Are the prompt products on AMX tiles slower than the AVX-512 VNNI dot products on
#     this host? The dev VM's 2-core VNNI prompt (1.5B pp512 159 tok/s) scaled to 16 cores
#     is twice what the tiles gave on the H200 host (call C: 643). BRICKC_SIMD=avx512vnni
#     runs the same binary without tiles.
# (2) Does each group's tile store hold up the vector loads that read it back?
#     BRICKC_X_LAG=L (x only): the tile unit runs L - 1 groups ahead, not 1 (L = 2).
# (3) Does a decode after a 512-token prompt slow down because of the threads' tile state
#     (calls C, E)? BRICKC_X_REL=1: TILERELEASE as each thread ends a prompt chunk.
# (4) Do a decode step's small products lose to their claims? BRICKC_X_CHUNK=B: each pool
#     chunk of a decode product holds at least B bytes of weights (today 8 chunks a thread).
# Binaries: new (6f22577) and x (new plus x.diff, these four switches read from the
# environment: a diagnostic build, not for main). Then the side by side with x and the
# fastest settings. build/devx/dev.tar.xz holds device/bin/brickc.{new,x} and
# brickc_unit_tests (x's tree), stripped, and device/lib.
mkdir -p build && tar xJf build/devx/dev.tar.xz -C build
export LD_LIBRARY_PATH=$PWD/build/device/lib CUDA_VISIBLE_DEVICES=
B=$PWD/build/device/bin
M=/tmp/models; mkdir -p $M $OUT/r
med() { grep -E "brickc.*\| $2 " $1 | head -1 | awk -F'|' '{gsub(/ /, "", $5); print $5}'; }
avg() { for f in "$@"; do med $f tg128; done | awk '{s += $1} END {print s / NR}'; }
{
echo "cpu.max: $(cat /sys/fs/cgroup/cpu.max 2>/dev/null)"; echo "cpu.stat: $(cat /sys/fs/cgroup/cpu.stat 2>/dev/null | tr '\n' ' ')"
lscpu | grep -E "Model name|^CPU\(s\)|MHz|L3"
bash .llama/unpack.sh /tmp/llama > /dev/null &
for m in 0.5b 1.5b 7b; do $B/brickc.new synth --model qwen2.5-coder-$m --quant q4_k_m -o $M/$m.gguf > /dev/null & done
BRICKC_X_LAG=8 BRICKC_X_REL=1 BRICKC_X_CHUNK=16384 timeout 90 $B/brickc_unit_tests --gtest_filter='CpuTiles*:Int8Engine*' > $OUT/r/tests.log 2>&1
echo "tests rc=$? at $SECONDS s: $(grep -E '^\[  (PASSED|FAILED)' $OUT/r/tests.log | tr '\n' ' ')"
wait
echo "models at $SECONDS s"
vmstat 2 > $OUT/r/vmstat.log &
V=$!
run() {  # name binary "env" model prompt n_gen
  env $3 timeout 60 $B/brickc.$2 bench -m $M/$4.gguf --device cpu -t 16 -p $5 -n $6 -r 3 --warmup 1 > $OUT/r/$1.log 2>&1
  echo "$1: pp$5 $(med $OUT/r/$1.log pp$5) tg$6 $(med $OUT/r/$1.log tg$6) $(grep -o 'p50.*' $OUT/r/$1.log) at $SECONDS s"
}
for m in 1.5b 0.5b; do
  run pp-$m-amx new "" $m 512 8
  run pp-$m-vnni new BRICKC_SIMD=avx512vnni $m 512 8
  for l in 4 8; do run pp-$m-lag$l x BRICKC_X_LAG=$l $m 512 8; done
done
for r in 1 2; do
  run tg-0.5b-new-$r new "" 0.5b 512 128
  run tg-0.5b-rel-$r x BRICKC_X_REL=1 0.5b 512 128
  run tg-0.5b-vnni-$r new BRICKC_SIMD=avx512vnni 0.5b 512 128
done
for r in 1 2; do
  run tg-0.5b-p16-$r new "" 0.5b 16 128
  for c in 16384 65536; do run tg-0.5b-p16-c$c-$r x BRICKC_X_CHUNK=$c 0.5b 16 128; done
done
run tg-1.5b-new new "" 1.5b 512 128
run tg-1.5b-rel x BRICKC_X_REL=1 1.5b 512 128
echo "cpu.stat: $(cat /sys/fs/cgroup/cpu.stat 2>/dev/null | tr '\n' ' ')"
# The settings of the side by side: each question's faster answer.
best=$(med $OUT/r/pp-1.5b-amx.log pp512); E="BRICKC_X_LAG=2"
for l in 4 8; do
  v=$(med $OUT/r/pp-1.5b-lag$l.log pp512)
  awk -v a="$best" -v v="$v" 'BEGIN {exit !(v > a)}' && best=$v && E="BRICKC_X_LAG=$l"
done
v=$(med $OUT/r/pp-1.5b-vnni.log pp512)
awk -v a="$best" -v v="$v" 'BEGIN {exit !(v > a)}' && E="BRICKC_SIMD=avx512vnni"
[ "$E" != BRICKC_SIMD=avx512vnni ] &&
  awk -v a="$(avg $OUT/r/tg-0.5b-new-?.log)" -v v="$(avg $OUT/r/tg-0.5b-rel-?.log)" 'BEGIN {exit !(v > a)}' && E="$E BRICKC_X_REL=1"
best=$(avg $OUT/r/tg-0.5b-p16-?.log); C=""
for c in 16384 65536; do
  v=$(avg $OUT/r/tg-0.5b-p16-c$c-?.log)
  awk -v a="$best" -v v="$v" 'BEGIN {exit !(v > a)}' && best=$v && C="BRICKC_X_CHUNK=$c"
done
E="$E $C"
echo "side by side with brickc.x and $E at $SECONDS s"
side() {  # model round
  env $E timeout 170 $B/brickc.x bench -m $M/$1.gguf --device cpu -t 16 -p 512 -n 128 -r 3 --warmup 1 --llama-bench /tmp/llama/bin/llama-bench --json $OUT/r/cpu-$1-$2.json > $OUT/r/cpu-$1-$2.log 2>&1
  echo "$1 round $2 rc=$? at $SECONDS s"; grep -E "pp512|tg128|p50" $OUT/r/cpu-$1-$2.log | head -6
}
side 0.5b 1; side 1.5b 1
[ $SECONDS -lt 410 ] && side 7b 1
[ $SECONDS -lt 520 ] && side 0.5b 2
kill $V; echo "steal % (vmstat st): $(tail -n +3 $OUT/r/vmstat.log | awk '{print $17}' | tr '\n' ' ')"
echo "elapsed $SECONDS s"
} 2>&1 | tee $OUT/r/summary.txt
cp $OUT/r/summary.txt $OUT/summary.txt; cd $OUT && tar czf r.tgz r && rm -rf r
