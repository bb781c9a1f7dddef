#!/usr/bin/env bash
# The device-machine session in one script (DESIGN.md §9): from build/device (made by
# scripts/device-bundle.sh here), synthesize the models, run the GPU tests and the
# benchmarks, and leave logs and JSON in $OUT. Steps: devices, tests, models, bench, profile,
# top, verify, sanitize, longrun, cpu, compare, serve, soak, engines, ab, synth, pack (any
# subset, in order given). Models are written to $MODELS (default /tmp/models). bench follows the
# protocol's defaults (10 warm-up, 100 repetitions) unless BENCH_REPS / BENCH_WARMUP say
# otherwise.
set -uo pipefail
cd "$(dirname "$0")/.."
export LD_LIBRARY_PATH=$PWD/build/device/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
B=$PWD/build/device/bin
OUT=${OUT:-/tmp/brickc-out}
MODELS=${MODELS:-/tmp/models}
mkdir -p "$OUT" "$MODELS"
export BRICKC_CACHE_DIR=$OUT/../kernel-cache
export BRICKC_REQUIRE_GPU=1  # a GPU test that would skip fails here

model() {  # model <preset> <mix> [layers]: path of the synthesized file, made once
  local f=$MODELS/$1-$2${3:+-L$3}.gguf
  if [[ ! -f $f ]]; then
    "$B/brickc" synth --model "qwen2.5-coder-$1" --quant "$2" ${3:+--layers $3} -o "$f.tmp" >&2 &&
      mv "$f.tmp" "$f" || return 1
  fi
  echo "$f"
}
spec_model() {  # spec_model <preset:mix[:layers]> (32b:q4_k_m:8): model's path of that file
  local preset mix layers
  IFS=: read -r preset mix layers <<< "$1"
  model "$preset" "$mix" "$layers"
}
ENGINE=${ENGINE:-auto}  # --engine of the bench, profile, top and compare steps
BENCH_SET=${BENCH_SET:-"0.5b:q4_0 0.5b:q4_k_m 1.5b:q4_k_m 3b:q4_k_m 7b:q4_k_m"}

for step in "$@"; do
  echo "=== $step"
  case $step in
    devices)
      "$B/brickc" devices
      nvidia-smi --query-gpu=name,clocks.sm,clocks.max.sm,clocks.mem,power.draw,temperature.gpu --format=csv ;;
    tests)
      # GpuModels needs the synthesized models: the models step runs it.
      "$B/brickc_gpu_tests" --gtest_filter="${GTEST_FILTER:--GpuModels.*}" 2>&1 | tee "$OUT/gpu_tests.log" ;;
    models)
      list=""
      for m in $BENCH_SET; do list+="$(model "${m%%:*}" "${m##*:}"),"; done
      BRICKC_GPU_MODELS=${list%,} "$B/brickc_gpu_tests" --gtest_filter='GpuModels.*' 2>&1 | tee "$OUT/gpu_models.log" ;;
    bench)
      for m in $BENCH_SET; do
        f=$(model "${m%%:*}" "${m##*:}") || continue
        "$B/brickc" bench -m "$f" --device cuda --engine "$ENGINE" -p "${BENCH_P:-512}" -n "${BENCH_N:-128}" \
          ${BENCH_REPS:+--reps $BENCH_REPS} ${BENCH_WARMUP:+--warmup $BENCH_WARMUP} \
          --stat-check --verify --json "$OUT/bench-${m/:/-}.json" 2>&1 | tee -a "$OUT/bench.log"
      done ;;
    profile)  # tracing on: the per-brick report, its chart, the annotated IR and the score
      for m in $BENCH_SET; do
        f=$(model "${m%%:*}" "${m##*:}") || continue
        n=${m/:/-}
        "$B/brickc" bench -m "$f" --device cuda --engine "$ENGINE" -p "${BENCH_P:-512}" -n "${BENCH_N:-128}" \
          --reps "${PROFILE_REPS:-20}" --warmup 3 --profile --plot "$OUT/profile-$n.svg" \
          --json "$OUT/profile-$n.json" 2>&1 | tee -a "$OUT/profile.log"
        "$B/brickc" compile -m "$f" --annotate "$OUT/profile-$n.json" > "$OUT/annotate-$n.txt"
        [[ -f $OUT/bench-$n.json ]] && "$B/brickc" score "$OUT/bench-$n.json" 2>&1 | tee -a "$OUT/score.log"
      done ;;
    top)  # one cbtop frame per model, as text
      for m in $BENCH_SET; do
        f=$(model "${m%%:*}" "${m##*:}") || continue
        "$B/brickc" top -m "$f" --device cuda --engine "$ENGINE" --once --cols 120 2>&1 | tee "$OUT/top-${m/:/-}.txt"
      done ;;
    verify)  # a verified decode, then a planted wrong kernel that --verify must name
      f=$(model 0.5b q4_k_m)
      for fault in "" matvec_add@3 rmsnorm_gate_up_swiglu@10 attention@23; do
        echo "--- plant-fault: ${fault:-none}" | tee -a "$OUT/verify.log"
        "$B/brickc" run -m "$f" --device cuda --prompt-tokens 1,2,3,4,5,6,7,8 -n 8 --verify \
          ${fault:+--plant-fault $fault} 2>&1 | tee -a "$OUT/verify.log"
      done ;;
    compare)  # side by side with llama.cpp's llama-bench on the same files, in this call:
              # pp512 + tg128, then pp2048 (COMPARE_REPS repetitions after 2 warm-ups)
      # The llama.cpp binaries travel as .llama/ (a copy of ../shared/tools/llama.cpp-sm90,
      # which does not reach the device by itself; ignored by git, named in carry).
      lb=$(bash .llama/unpack.sh /tmp/llama | tail -n 1)
      for m in $BENCH_SET; do
        f=$(model "${m%%:*}" "${m##*:}") || continue
        n=${m/:/-}
        "$B/brickc" bench -m "$f" --device cuda --engine "$ENGINE" -p 512 -n 128 -r "${COMPARE_REPS:-10}" --warmup 2 \
          --llama-bench "$lb" --json "$OUT/compare-$n.json" 2>&1 | tee -a "$OUT/compare.log"
        "$B/brickc" bench -m "$f" --device cuda --engine "$ENGINE" -p 2048 -n 16 -r "${COMPARE_REPS:-10}" --warmup 2 \
          --llama-bench "$lb" --json "$OUT/pp2048-$n.json" 2>&1 | tee -a "$OUT/compare.log"
      done ;;
    sanitize)  # memcheck, racecheck and synccheck over a SANITIZE_PROMPT-token prompt (default
               # 80: one T-token prefill step) and 8 decode steps, with each engine named in
               # SANITIZE_ENGINES and tool in SANITIZE_TOOLS, on the 0.5B's shapes cut to 2
               # layers (every kernel of the full model; racecheck of all 24 layers takes
               # minutes). Decode attention takes a block per query head up to 1,152
               # positions there, one per KV head beyond: a prompt of 1,200 runs the second.
               # The megakernel's tasks may wait 600 s: racecheck slows it past the 1 s bound.
      f=$MODELS/0.5b-2layers.gguf
      [[ -f $f ]] || "$B/brickc" synth --model qwen2.5-coder-0.5b --quant q4_k_m --layers 2 -o "$f" > /dev/null
      command -v compute-sanitizer > /dev/null || PATH+=:/usr/local/cuda/bin
      prompt=$(seq -s, 100 $((99 + ${SANITIZE_PROMPT:-80})))
      for engine in ${SANITIZE_ENGINES:-graph megakernel}; do
        for tool in ${SANITIZE_TOOLS:-memcheck racecheck synccheck}; do
          echo "--- $tool, --engine $engine, ${SANITIZE_PROMPT:-80}-token prompt" | tee -a "$OUT/sanitize.log"
          compute-sanitizer --tool $tool --error-exitcode 9 "$B/brickc" run -m "$f" --device cuda \
            --engine $engine --task-timeout 600 --prompt-tokens "$prompt" -n 8 > "$OUT/sanitize.tmp" 2>&1
          echo "exit status $?" >> "$OUT/sanitize.tmp"
          tail -n 6 "$OUT/sanitize.tmp" | tee -a "$OUT/sanitize.log"
        done
      done
      rm -f "$OUT/sanitize.tmp" ;;
    longrun)  # 10,238 tokens of the 0.5B to a full 10,240-position context: host and GPU memory flat
      BRICKC="$B/brickc" BRICKC_WORK=$MODELS python3 test/ref/test_long_run_memory.py --device cuda \
        --model qwen2.5-coder-0.5b --json "$OUT/long-run-0.5b.json" 2>&1 | tee "$OUT/long-run.log" ;;
    cpu)  # the CPU engine against llama-bench -ngl 0 on this host's cores (no GPU visible to either)
      lb=$(bash .llama/unpack.sh /tmp/llama | tail -n 1)
      for m in $BENCH_SET; do
        f=$(model "${m%%:*}" "${m##*:}") || continue
        CUDA_VISIBLE_DEVICES= "$B/brickc" bench -m "$f" --device cpu -t "$(nproc)" -p 512 -n 128 \
          -r "${COMPARE_REPS:-3}" --warmup 1 --llama-bench "$lb" --json "$OUT/cpu-${m/:/-}.json" \
          2>&1 | tee -a "$OUT/cpu.log"
      done ;;
    soak)  # issue 13's soak: SOAK_SECONDS (default 530; a device call runs at most 600 s) of
           # 64 clients with random requests and dropped streams on serve --parallel 64
      m=${SOAK_MODEL:-0.5b:q4_k_m}
      f=$(model "${m%%:*}" "${m##*:}") || continue
      python3 bench/serve_soak.py "$B/brickc" "$f" --device cuda --seconds "${SOAK_SECONDS:-530}" \
        > "$OUT/soak-${m/:/-}.json" 2> >(tee -a "$OUT/soak.log" >&2)
      echo "soak rc=$?" ;;
    serve)  # continuous batching on the GPU: aggregate decode tok/s of `serve --parallel P`
            # with P concurrent greedy completions (P = 1 decodes through the one-sequence
            # graph), then the time to first token of a 2,000-token prompt, cold and with a
            # shared prefix (--parallel 16), for each model of SERVE_SET
      for m in ${SERVE_SET:-7b:q4_k_m}; do
        f=$(model "${m%%:*}" "${m##*:}") || continue
        python3 bench/serve_parallel.py "$B/brickc" "$f" --device cuda --streams "${SERVE_STREAMS:-1,4,16,64}" \
          --tokens "${SERVE_TOKENS:-64}" --reps "${SERVE_REPS:-3}" > "$OUT/serve-${m/:/-}.json" 2> >(tee -a "$OUT/serve.log" >&2)
        python3 bench/serve_ttft.py "$B/brickc" "$f" --device cuda --parallel 16 --tokens 2000 \
          > "$OUT/serve-ttft-${m/:/-}.json" 2> >(tee -a "$OUT/serve.log" >&2)
      done ;;
    engines)  # decode with the per-brick graph and with the megakernel, one after the other
      for m in $BENCH_SET; do
        f=$(model "${m%%:*}" "${m##*:}") || continue
        for e in graph megakernel; do
          "$B/brickc" bench -m "$f" --device cuda --engine $e -p "${BENCH_P:-16}" -n 128 \
            -r "${ENGINE_REPS:-10}" --warmup 3 ${BENCH_DEPTH:+-d $BENCH_DEPTH} \
            --json "$OUT/engine-$e-${m/:/-}${BENCH_DEPTH:+-d$BENCH_DEPTH}.json" 2>&1 | tee -a "$OUT/engines.log"
        done
      done ;;
    ab)  # builds of brickc against each other (an experiment's patches), alternating on the
         # same files, tg128 (-p 16 -n 128 -r 3): AB_VARIANTS "name=binary[,VAR=value...] ..."
         # (a binary and its environment), AB_FILES "preset:mix[:layers] ..." (32b:q4_k_m:8),
         # AB_ROUNDS (2), AB_ARGS (more bench arguments: a depth, a cache type) and AB_TAG (a
         # name for them); no run starts after AB_END seconds of this script (260). Each run's
         # JSON: $OUT/ab-<file>[-<tag>]-<name>-r<round>.json.
      for round in $(seq "${AB_ROUNDS:-2}"); do
        for spec in ${AB_FILES:-32b:q4_k_m:8}; do
          f=$(spec_model "$spec") || continue
          for v in ${AB_VARIANTS:?name=binary[,VAR=value...] ...}; do
            [[ $SECONDS -lt ${AB_END:-260} ]] || break 3
            name=${v%%=*}
            IFS=, read -ra run <<< "${v#*=}"  # the binary, then its VAR=value settings
            env "${run[@]:1}" BRICKC_CACHE_DIR="$OUT/../kernel-cache-$name" "${run[0]}" bench -m "$f" --device cuda \
              -p 16 -n 128 -r 3 --warmup 1 ${AB_ARGS:-} \
              --json "$OUT/ab-$(basename "$f" .gguf)${AB_TAG:+-$AB_TAG}-$name-r$round.json" > "$OUT/ab-run.log" 2>&1
            rc=$?  # (a command substitution in the echo below would set $? first)
            echo "r$round $name $(basename "$f") ${AB_TAG:-} rc=$rc at $SECONDS s: $(grep -hE 'tg128|rror' "$OUT/ab-run.log" | tr -s ' ')" |
              tee -a "$OUT/ab.log"
          done
        done
      done
      rm -f "$OUT/ab-run.log" ;;
    synth)  # the files of SYNTH_FILES "preset:mix[:layers] ..." (AB_FILES' form), made once: a
            # background job's while a call's first steps run
      for spec in ${SYNTH_FILES:?preset:mix[:layers] ...}; do
        f=$(spec_model "$spec") && echo "made $(basename "$f") at $SECONDS s"
      done ;;
    pack)  # everything in $OUT as one results.tgz (a device call returns at most 8 files), but
           # a summary.txt, which stays readable beside it
      tar czf /tmp/results.tgz -C "$OUT" --exclude ./summary.txt . &&
        find "${OUT:?}" -mindepth 1 ! -name summary.txt -delete && mv /tmp/results.tgz "$OUT"/ ;;
    *) echo "unknown step $step" >&2; exit 2 ;;
  esac
done
