#!/usr/bin/env bash
# Installs every Debian package the build, the server and the tests need
# (fast when all are there), then configures and builds into build/.
# Usage: scripts/setup.sh [--tests] [--build-dir DIR] [extra cmake args...]
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."

with_tests=0
build_dir=build
cmake_args=()
while (($#)); do
  case "$1" in
    --tests) with_tests=1 ;;
    --build-dir) build_dir="$2"; shift ;;
    *) cmake_args+=("$1") ;;
  esac
  shift
done

build_packages=(
  build-essential cmake pkg-config
  libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev libgstreamer-plugins-bad1.0-dev
  libnice-dev libwebsockets-dev nlohmann-json3-dev libglm-dev
  libegl-dev libgles-dev libegl1-mesa-dev libgles2-mesa-dev
)
runtime_packages=(
  gstreamer1.0-plugins-base gstreamer1.0-plugins-good gstreamer1.0-plugins-bad
  gstreamer1.0-plugins-ugly gstreamer1.0-nice gstreamer1.0-tools
  libgl1-mesa-dri libegl-mesa0
)
test_packages=(
  doctest-dev libsoup-3.0-dev gstreamer1.0-libav iproute2 nftables jq python3 curl
  chromium nodejs npm procps python3-matplotlib
  clang libclang-rt-14-dev
)
packages=("${build_packages[@]}" "${runtime_packages[@]}")
((with_tests)) && packages+=("${test_packages[@]}")

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
# node/npm may come from outside Debian's packages on a developer machine.
if command -v node >/dev/null && command -v npm >/dev/null; then
  tmp=()
  for p in "${missing[@]}"; do [[ $p == nodejs || $p == npm ]] || tmp+=("$p"); done
  missing=("${tmp[@]}")
fi
if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}" >&2
  sudo_cmd=()
  ((EUID == 0)) || sudo_cmd=(sudo)
  "${sudo_cmd[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

testing=OFF
((with_tests)) && testing=ON
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=$testing -DCS_FAULT_INJECTION=$testing "${cmake_args[@]}" >&2
cmake --build "$build_dir" -j"$(nproc)" >&2
# The first GStreamer start on a fresh machine builds the plugin registry.
gst-inspect-1.0 >/dev/null 2>&1 || true
