#!/usr/bin/env bash
# Runs one libFuzzer target for SECONDS: scripts/fuzz.sh gguf|tokenizer|ir_parser SECONDS
# [libFuzzer flags...]. Builds it first in ${BRICKC_SANITIZE_BUILD:-build-sanitize}
# (scripts/build-sanitize.sh: clang, ASan + UBSan, the tree scripts/test.sh also tests)
# unless BRICKC_FUZZ_PREBUILT=1 (ctest, which runs three at once). Starts from the
# committed seed corpus (test/fuzz/corpus/TARGET, plus the lit suite's IR files for
# ir_parser); what it finds new goes to a scratch corpus, a crashing input to
# TARGET-crash-* in the build tree.
# Exit status: 0 when nothing was found in the time, libFuzzer's otherwise.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
target=${1:?usage: fuzz.sh gguf|tokenizer|ir_parser SECONDS [libFuzzer flags...]}
seconds=${2:?usage: fuzz.sh TARGET SECONDS [libFuzzer flags...]}
shift 2
case $target in gguf|tokenizer|ir_parser) ;; *) echo "fuzz.sh: unknown target '$target' (gguf, tokenizer, ir_parser)" >&2; exit 2 ;; esac
build=${BRICKC_SANITIZE_BUILD:-$root/build-sanitize}
if [ "${BRICKC_FUZZ_PREBUILT:-0}" != 1 ]; then
  BRICKC_SANITIZE_BUILD=$build "$root/scripts/build-sanitize.sh" "fuzz_$target" >/dev/null
fi
seeds=("$root/test/fuzz/corpus/$target")
[ "$target" = ir_parser ] && seeds+=("$root/test/lit/ir" "$root/test/lit/passes")
scratch="$build/fuzz-work/$target"
mkdir -p "$scratch"
# A run is judged on crashes, leaks, 10 s hangs and 2 GiB of memory.
exec "$build/bin/fuzz_$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
     -print_final_stats=1 -artifact_prefix="$build/fuzz-work/$target-" \
     "$@" "$scratch" "${seeds[@]}"
