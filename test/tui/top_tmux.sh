#!/usr/bin/env bash
# brickc top's terminal UI driven as a user drives it, through tmux on the CPU backend:
# the pipeline frame appears, each panel key shows its panel, a resize redraws the frame
# for the new width, and q (and Ctrl-C) end it with status 0.
# Usage: top_tmux.sh BRICKC WORKDIR. Exits 77 (ctest's skip) only where tmux is missing.
set -euo pipefail
brickc=$1
work=$2
command -v tmux >/dev/null || { echo "SKIP: tmux is not installed"; exit 77; }
mkdir -p "$work"
model=$work/tiny.gguf
"$brickc" synth --model test-tiny --quant q4_0 -o "$model" >/dev/null

sock=""
tm() { tmux -L "$sock" -f /dev/null "$@"; }
trap '[ -z "$sock" ] || tm kill-server 2>/dev/null || true' EXIT

screen=""
# Polls the pane for an extended regex, up to 20 s.
wait_for() {
  local pattern=$1 what=$2
  for _ in $(seq 200); do
    screen=$(tm capture-pane -p -t top)
    grep -Eq -- "$pattern" <<<"$screen" && return 0
    sleep 0.1
  done
  echo "FAIL: $what: no /$pattern/ on the screen after 20 s; the screen:"
  echo "$screen"
  [ -f "$exit_file" ] && cat "$exit_file"
  exit 1
}

# Starts brickc top in a fresh 120x40 session; its exit status lands in $exit_file. TERM
# is screen, whose terminfo entry every ncurses install has. Each run gets its own tmux
# server: killing the last session of a server makes it exit, and a new session started on
# its socket at that moment fails with "server exited unexpectedly" (seen in CI).
start() {
  exit_file=$work/exit.$$.$1
  rm -f "$exit_file"
  [ -z "$sock" ] || tm kill-server 2>/dev/null || true
  sock=brickc-test-$$-$1
  tm new-session -d -s top -x 120 -y 40 \
    "TERM=screen '$brickc' top -m '$model' --device cpu -t 2 --refresh-ms 100; echo EXIT=\$? > '$exit_file'; sleep 60"
  wait_for '^pipeline: us per step' "the first frame"
}

wait_exit() {
  for _ in $(seq 100); do
    [ -s "$exit_file" ] && break
    sleep 0.1
  done
  grep -qx 'EXIT=0' "$exit_file" 2>/dev/null || {
    echo "FAIL: $1: brickc top did not exit with status 0: $(cat "$exit_file" 2>/dev/null || echo 'still running')"
    tm capture-pane -p -t top
    exit 1
  }
}

key() { tm send-keys -t top "$1"; }

start keys
wait_for '^\* bottleneck: [a-z_]+ ' "the bottleneck line"
wait_for '^ \* [a-z_]+ ' "the bottleneck row's marker"
key h; wait_for '^latency histogram: [0-9]+ steps' "h: the histogram"
key g; wait_for '^GPU state \(NVML\)' "g: the GPU panel"
wait_for 'NVML|utilization' "g: a GPU reading or why there is none"
key m; wait_for '^memory bandwidth per brick kind' "m: the bandwidth panel"
key a; wait_for '^assertions: [0-9]+ verified steps' "a: the assertions panel"
key Escape; wait_for '^pipeline: us per step against the budget' "Esc: back to the pipeline"
key b; wait_for '^pipeline: budget vs actual' "b: budget vs actual"
key b; wait_for '^pipeline: us per step against the budget' "b again: % of budget"
key Enter; wait_for '^drill-down: embed x1' "Enter: the drill-down of the selected kind"
key Escape; key j; key Enter; wait_for '^drill-down: [a-z_]+ x[0-9]+' "j, Enter: the next kind"
key Escape; wait_for '^pipeline:' "Esc again"

# The full key help needs 91 columns: at 80 the short form shows that the frame was
# redrawn for the new size.
tm resize-window -t top -x 80 -y 24
wait_for 'q:quit$' "resize to 80x24"
lines=$(tm capture-pane -p -t top | sed '/^$/d' | wc -l)
widest=$(tm capture-pane -p -t top | awk '{ if (length($0) > w) w = length($0) } END { print w }')
if [ "$lines" -gt 24 ] || [ "$widest" -gt 80 ]; then
  echo "FAIL: resize: $lines lines, widest $widest columns in an 80x24 window"; exit 1
fi
grep -q '^brickc top | ' <<<"$(tm capture-pane -p -t top)" || { echo "FAIL: resize: no header"; exit 1; }

key q
wait_exit "q"

start sigint
tm send-keys -t top C-c
wait_exit "Ctrl-C"
echo "PASS: brickc top: panels, resize, q and Ctrl-C"
