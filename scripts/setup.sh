#!/usr/bin/env bash
# Installs every Debian package the build, the server and the tests need
# (fast when all are there), then configures and builds into build/.
# Usage: scripts/setup.sh [--tests] [--build-dir DIR] [extra cmake args...]
#        scripts/setup.sh --install-only SET[,SET...]   (SET: build, runtime, test, turn)
# --install-only installs just those sets and stops (no cmake): the
# Dockerfile's stages use it, so the package lists live here alone.
set -euo pipefail
cd "$(dirname "$(readlink -f "$0")")/.."

with_tests=0
build_dir=build
cmake_args=()
install_only=""
while (($#)); do
  case "$1" in
    --tests) with_tests=1 ;;
    --build-dir) build_dir="$2"; shift ;;
    --install-only) install_only="$2"; shift ;;
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
  # libraries the server links (the -dev packages bring them on a build machine)
  libwebsockets17 libnice10 libegl1 libgles2
  # the container's HEALTHCHECK asks /healthz with it (the tests use it too)
  curl
)
# The compose file's TURN relay (the Dockerfile's coturn stage).
turn_packages=(coturn)
test_packages=(
  doctest-dev libsoup-3.0-dev gstreamer1.0-libav iproute2 nftables jq python3 curl ffmpeg
  chromium firefox-esr nodejs npm procps python3-matplotlib python3-prometheus-client
  # browser_sound_firefox: a null sound output for Firefox (no sound card here)
  pulseaudio
  # tests/e2e/janus_fanout.sh: the SFU fed by CS_FORWARD_RTP (scripts/janus.sh)
  janus
  clang libclang-rt-14-dev
  # tests/container: the image built with Debian's podman from a local base
  podman podman-compose debootstrap runc fuse-overlayfs python3-yaml
)
if [[ -n "$install_only" ]]; then
  packages=()
  IFS=, read -ra sets <<<"$install_only"
  for set in "${sets[@]}"; do
    case "$set" in
      build) packages+=("${build_packages[@]}") ;;
      runtime) packages+=("${runtime_packages[@]}") ;;
      test) packages+=("${test_packages[@]}") ;;
      turn) packages+=("${turn_packages[@]}") ;;
      *) echo "setup: unknown package set '$set' (build, runtime, test, turn)" >&2; exit 2 ;;
    esac
  done
else
  packages=("${build_packages[@]}" "${runtime_packages[@]}")
  ((with_tests)) && packages+=("${test_packages[@]}")
fi

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
[[ -z "$install_only" ]] || exit 0

testing=OFF
((with_tests)) && testing=ON
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=$testing -DCS_FAULT_INJECTION=$testing "${cmake_args[@]}" >&2
cmake --build "$build_dir" -j"$(nproc)" >&2
# The first GStreamer start on a fresh machine builds the plugin registry.
gst-inspect-1.0 >/dev/null 2>&1 || true
