#!/usr/bin/env bash
# The long fuzz runs of issue "Reliability": each libFuzzer target (scripts/fuzz.sh) for
# RUNS executions (default 10^6), one after another, under ASan + UBSan with leak checks
# and a 10 s hang limit. Writes OUT_DIR/<target>.log and OUT_DIR/summary.json (executions,
# seconds, corpus growth, peak RSS, exit status, crash files).
# The logs keep their first and last lines (the set-up, the end and the statistics), not
# the progress lines between. Usage: bench/fuzz_long.sh OUT_DIR [RUNS]
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:?usage: bench/fuzz_long.sh OUT_DIR [RUNS]}
runs=${2:-1000000}
mkdir -p "$out"
build=${BRICKC_SANITIZE_BUILD:-$root/build-sanitize}
rows=()
for target in gguf tokenizer ir_parser; do
  rm -f "$build/fuzz-work/$target-"{crash,leak,timeout,oom}-* 2>/dev/null || true
  start=$(date +%s)
  status=0
  "$root/scripts/fuzz.sh" "$target" 7200 -runs="$runs" > "$out/$target.log" 2>&1 || status=$?
  secs=$(( $(date +%s) - start ))
  stat() { grep -o "stat::$1: *[0-9]*" "$out/$target.log" | grep -o '[0-9]*$' || echo 0; }
  { head -12 "$out/$target.log"; echo "[... progress lines left out ...]"; tail -25 "$out/$target.log"; } \
    > "$out/$target.log.short" && mv "$out/$target.log.short" "$out/$target.log"
  findings=$(ls "$build/fuzz-work/" | grep -c "^$target-\(crash\|leak\|timeout\|oom\)-" || true)
  rows+=("$(printf '{"target": "%s", "executions": %s, "seconds": %s, "new_units": %s, "peak_rss_mb": %s, "exit_status": %s, "findings": %s}' \
    "$target" "$(stat number_of_executed_units)" "$secs" "$(stat new_units_added)" \
    "$(stat peak_rss_mb)" "$status" "$findings")")
  echo "$target: ${rows[-1]}"
done
{
  echo '{"machine": "'"$(lscpu | sed -n 's/^Model name: *//p' | head -1)"'", "date": "'"$(date -u +%FT%TZ)"'", "runs_asked": '"$runs"', "targets": ['
  (IFS=,; echo "${rows[*]}")
  echo ']}'
} > "$out/summary.json"
cat "$out/summary.json"
