#!/usr/bin/env bash
# Makes the folder bench/gpu_run.sh needs on the lent GPU machine: Debian's
# glvnd loaders and Mesa (llvmpipe + LLVM and the libraries they load) as
# .debs (~50 MB), the renderer tests, cs-render-bench
# and gpu_run.sh itself. The device tool sends the session's checkout only:
# make DIR inside it, ignored (.git/info/exclude), and name it in `carry`.
# Usage: bench/gpu_pack.sh DIR [BUILD_DIR]
set -eu
dir="$1"
build="${2:-build}"
here="$(dirname "$(readlink -f "$0")")"
mkdir -p "$dir/gl" "$dir/bin" /tmp/amd64/partial
o='-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 -oDir::State::Lists=/tmp/amd64'
# shellcheck disable=SC2086
apt-get $o update >/dev/null
# shellcheck disable=SC2086
(cd "$dir/gl" && apt-get $o download libegl1 libglvnd0 libgles2 libopengl0 libgl1 libglx0)

# Mesa's EGL, llvmpipe and the libraries they load, as Debian's .debs
# (~48 MB, already compressed), unpacked under /tmp/mesa there.
mkdir -p "$dir/mesa"
lib=/usr/lib/x86_64-linux-gnu
packages=$(for f in "$lib/dri/swrast_dri.so" "$lib/libEGL_mesa.so.0" "$lib/libgbm.so.1"; do
  readlink -f "$f"
  ldd "$f" | awk '/=>/ {print $3}' | grep -vE '/(libc|libm|libgcc_s|libstdc\+\+|libpthread|libdl|librt)\.so' |
    xargs -n1 readlink -f
done | sort -u | xargs dpkg -S | cut -d: -f1 | sort -u)
# shellcheck disable=SC2086
(cd "$dir/mesa" && apt-get $o download $packages)

cp "$build/bench/cs-render-bench" "$build/tests/unit/cs-renderer-tests" "$dir/bin/"
strip "$dir/bin/"*
cp "$here/gpu_run.sh" "$here/gpu_server.sh" "$dir/"

# GStreamer for gpu_server.sh: the server, gst-plugin-scanner and only the
# plugins the server loads, with every library they link (~31 MB gzipped).
# gpu_run.sh's Mesa .debs and this together pass the tool's 64 MiB: carry
# one or the other (move mesa/ aside for the server run).
stage=$(mktemp -d)
mkdir -p "$stage/lib/gstreamer-1.0" "$stage/bin"
plugins=/usr/lib/x86_64-linux-gnu/gstreamer-1.0
for p in app coreelements dtls isomp4 matroska multifile nice rtp rtpmanager rtpmanagerbad srtp \
  typefindfunctions videoconvertscale videoparsersbad videotestsrc vpx webrtc x264; do
  cp -L "$plugins/libgst$p.so" "$stage/lib/gstreamer-1.0/"
done
cp "$build/cube-streamer" /usr/lib/x86_64-linux-gnu/gstreamer1.0/gstreamer-1.0/gst-plugin-scanner "$stage/bin/"
strip "$stage/bin/cube-streamer"
for f in "$stage"/bin/* "$stage"/lib/gstreamer-1.0/*; do ldd "$f" | awk '/=>/ {print $3}'; done | sort -u |
  grep -vE '/(libc|libm|libgcc_s|libstdc\+\+|libpthread|libdl|librt|libEGL|libGLESv2|libGLdispatch)\.so' |
  xargs -I{} cp -L {} "$stage/lib/"
tar -C "$stage" -c . | gzip -6 >"$dir/gst.tar.gz"
rm -rf "$stage"
du -sh "$dir"
