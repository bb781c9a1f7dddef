#!/usr/bin/env bash
set -euo pipefail
IFS=$'\n\t'

usage() { echo "usage: ${0##*/} [-v] DIR..." >&2; exit 2; }

verbose=0
while getopts ":v" opt; do
  case $opt in
    v) verbose=$((verbose + 1)) ;;
    *) usage ;;
  esac
done
shift $((OPTIND - 1))
[[ $# -ge 1 ]] || usage

for dir in "$@"; do
  count=$(find "$dir" -type f -name '*.log' -mtime -7 2>/dev/null | wc -l)
  (( verbose > 0 )) && printf '%-30s %6d\n' "$dir" "$count"
  if [[ -d "$dir" && $count -gt 100 ]]; then
    tar czf "/tmp/$(basename "$dir")-$(date +%F).tgz" -C "$dir" . && echo "archived $dir"
  fi
done 2>&1 | tee -a /tmp/archive.log
