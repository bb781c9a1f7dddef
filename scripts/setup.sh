#!/usr/bin/env bash
# Installs everything brickc's build and tests need on a fresh Debian machine; safe to run twice.
# System packages come from Debian; the Python test references live in a venv in a cache
# folder outside the checkout, keyed by the requirements' hash, so fresh clones reuse it.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)

deb_pkgs=(cmake ninja-build ccache g++ pkg-config libfmt-dev libcli11-dev nlohmann-json3-dev
          libgtest-dev llvm-19-tools libpcre2-dev libncurses-dev python3-venv tmux
          libcpp-httplib-dev clang-19 libclang-rt-19-dev chromium iproute2)
missing=()
for p in "${deb_pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "setup: installing Debian packages: ${missing[*]}"
  SUDO=; [ "$(id -u)" -eq 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}"
fi

venv=$("$here/venv-path.sh")
if [ ! -x "$venv/bin/python" ] || [ ! -f "$venv/.complete" ]; then
  echo "setup: creating Python reference venv at $venv (llama-cpp-python builds from source: minutes)"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --upgrade pip
  # GGML_NATIVE=OFF: -march=native builds died with SIGILL on these VMs (DESIGN.md §8).
  CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON" \
  CMAKE_BUILD_PARALLEL_LEVEL=$(nproc) \
    "$venv/bin/pip" install -q -r "$here/requirements.txt"
  touch "$venv/.complete"
fi
# Later additions install into the same venv (quick pip installs, no rebuild), once per
# content of their requirements file.
for extra in "$here"/requirements-serve.txt; do
  marker="$venv/.complete-$(basename "$extra" .txt)-$(sha256sum "$extra" | cut -c1-12)"
  if [ ! -f "$marker" ]; then
    echo "setup: installing $(basename "$extra") into $venv"
    "$venv/bin/pip" install -q -r "$extra"
    touch "$marker"
  fi
done
echo "setup: ok (venv $venv)"
