#!/usr/bin/env bash
# The whole server on the lent GPU machine (issue 16): rendering on the GPU's
# EGL device, x264 on the CPU, no viewer: CS_RECORD_PATH keeps the encoder
# running. GStreamer travels as bench/gpu_pack.sh's gst.tar.gz (this
# machine's GStreamer 1.22 libraries and only the plugins the server loads).
# There: bash .gpu16/gpu_server.sh .gpu16   (carry [".gpu16"], without mesa/)
# Prints, per setting, what /metrics counted over 20 s and the process CPU.
set -u
carry="${1:-.gpu16}"
out="${OUT:-/tmp/gpu-out}"
mkdir -p "$out" /tmp/gst
for f in "$carry"/gl/*.deb; do dpkg -x "$f" /; done
ldconfig
tar -C /tmp/gst -xzf "$carry/gst.tar.gz" || { echo "cannot unpack gst.tar.gz"; exit 1; }
nvidia_icd=$(ls /usr/share/glvnd/egl_vendor.d/*nvidia*.json /usr/local/nvidia/share/glvnd/egl_vendor.d/*nvidia*.json 2>/dev/null | head -1)
export __EGL_VENDOR_LIBRARY_FILENAMES="$nvidia_icd"
export LD_LIBRARY_PATH=/tmp/gst/lib:/usr/local/nvidia/lib64
export GST_PLUGIN_SYSTEM_PATH=/tmp/gst/lib/gstreamer-1.0 GST_PLUGIN_SCANNER=/tmp/gst/bin/gst-plugin-scanner
export GST_REGISTRY=/tmp/gst/registry.bin
server=/tmp/gst/bin/cube-streamer
common=(CS_ENCODER=x264 CS_CODECS=h264 CS_HOST=127.0.0.1 CS_PORT=18080)

echo "== --check (1920x1080@60)"
env "${common[@]}" CS_WIDTH=1920 CS_HEIGHT=1080 CS_FPS=60 timeout 60 "$server" --check 2>&1 | tee "$out/check.log" |
  grep -vE '^  (client )?extensions:'

metric() { python3 - "$1" <<'PY'
import sys, urllib.request
text = urllib.request.urlopen("http://127.0.0.1:18080/metrics", timeout=5).read().decode()
want = sys.argv[1]
total = 0.0
for line in text.splitlines():
    if line.startswith(want) and not line.startswith("#"):
        total += float(line.rsplit(" ", 1)[1])
print(total)
PY
}
cpu_s() { awk '{print ($14 + $15) / 100}' "/proc/$1/stat"; }

for setting in "1920 1080 60 8000" "3840 2160 30 20000"; do
  read -r w h fps kbps <<<"$setting"
  echo "== server ${w}x${h}@${fps} x264 ${kbps} kbit/s, recording, no viewer"
  env "${common[@]}" CS_WIDTH=$w CS_HEIGHT=$h CS_FPS=$fps CS_BITRATE_KBPS=$kbps \
    CS_RECORD_PATH=/tmp/rec-$h.mkv "$server" >"$out/server-$h.log" 2>&1 &
  pid=$!
  sleep 6
  if ! kill -0 $pid 2>/dev/null; then
    echo "server ${w}x${h}@${fps} ended early:"; tail -5 "$out/server-$h.log"; continue
  fi
  r0=$(metric cs_frames_rendered_total) e0=$(metric cs_frames_encoded_total) d0=$(metric cs_frames_dropped_total)
  c0=$(cpu_s $pid) t0=$(date +%s.%N)
  sleep 20
  r1=$(metric cs_frames_rendered_total) e1=$(metric cs_frames_encoded_total) d1=$(metric cs_frames_dropped_total)
  c1=$(cpu_s $pid) t1=$(date +%s.%N)
  python3 - "$w" "$h" "$fps" "$r0" "$r1" "$e0" "$e1" "$d0" "$d1" "$c0" "$c1" "$t0" "$t1" <<'PY' | tee -a "$out/server.txt"
import sys
w, h, fps, r0, r1, e0, e1, d0, d1, c0, c1, t0, t1 = sys.argv[1:]
s = float(t1) - float(t0)
print(f"{w}x{h}@{fps}: rendered {(float(r1)-float(r0))/s:.1f} fps, encoded {(float(e1)-float(e0))/s:.1f} fps, "
      f"dropped {(float(d1)-float(d0))/s:.1f}/s, process CPU {(float(c1)-float(c0))/s:.2f} cores over {s:.1f} s")
PY
  curl -s http://127.0.0.1:18080/metrics 2>/dev/null | grep -E '^cs_(render|encode)' | head -20 > "$out/metrics-$h.txt" ||
    metric cs_uptime_seconds >/dev/null
  kill -INT $pid; wait $pid
  ls -la /tmp/rec-$h.mkv* 2>&1 | head -3
  grep -E 'renderer:|encoder|ERROR|WARN' "$out/server-$h.log" | head -8
done
