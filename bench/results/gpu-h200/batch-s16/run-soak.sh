#!/usr/bin/env bash
# Issue 13's soak in one device call (at most 600 s, so 550 s of soak rather than ten
# minutes): bench/serve_soak.py on serve --parallel 64 with 64 clients, the 0.5B Q4_K_M
# (the most steps per second: the most joins, leaves and dropped streams). Carry build/device.
set -uo pipefail
R=$OUT/r
mkdir -p "$R"
nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.mem --format=csv > "$R/gpu.txt"
OUT=$R MODELS=/tmp/models SOAK_SECONDS=${SOAK_SECONDS:-550} timeout 594 bash bench/gpu_run.sh soak > "$R/soak-run.log" 2>&1
tar czf "$OUT/r.tgz" -C "$OUT" r
