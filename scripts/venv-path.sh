#!/usr/bin/env bash
# Prints the path of the cached Python reference venv for the current requirements.
here=$(cd "$(dirname "$0")" && pwd)
hash=$(sha256sum "$here/requirements.txt" | cut -c1-12)
echo "${BRICKC_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/brickc}/venv-$hash"
