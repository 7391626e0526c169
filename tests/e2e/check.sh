#!/usr/bin/env bash
# cube-streamer --check (no namespace, no network, no viewer): on this host
# (Mesa llvmpipe, x264) it exits 0 within 10 s and reports the EGL devices
# and the GL renderer, each encoder candidate, one frame rendered and encoded
# (bytes, keyframe) and the GStreamer elements, then "ready"; with
# CS_ENCODER=nvenc (no NVIDIA here) it exits 1 and says why; it honours
# CS_WIDTH/CS_HEIGHT; as root it also passes with no network at all
# (unshare -n). Usage: check.sh [BUILD_DIR]
set -u
here="$(dirname "$(readlink -f "$0")")"
source "$here/netns.sh"
cs_setup_loopback check "${1:-/work/main/build}"
gst-inspect-1.0 >/dev/null 2>&1 || true
# A sanitized binary (scripts/test.sh) writes its reports here; cs_cleanup
# judges them.
sanitizer=()
[[ "${CS_SANITIZER_LOGS:-0}" == 1 ]] &&
  sanitizer=("ASAN_OPTIONS=${ASAN_OPTIONS:-}:log_path=$CS_TMP/sanitizer"
    "UBSAN_OPTIONS=${UBSAN_OPTIONS:-}:log_path=$CS_TMP/sanitizer")

# run_check NAME [VAR=VALUE...]: --check with those variables; sets rc and ms.
run_check() {
  local name="$1"
  shift
  local t0
  t0=$(cs_now_ms)
  timeout 20 env "${sanitizer[@]}" "$@" "$CS_SERVER_BIN" --check >"$CS_TMP/$name.out" \
    2>"$CS_TMP/$name.err"
  rc=$?
  ms=$(($(cs_now_ms) - t0))
  cs_log "$name: exit $rc in $ms ms, last line: $(tail -n1 "$CS_TMP/$name.out")"
}
# has NAME PATTERN WHAT: the report of NAME has a line matching PATTERN (grep -E).
has() { grep -qE -- "$2" "$CS_TMP/$1.out" || cs_fail "$1: $3 (no line matching '$2')"; }

# --- ready here ---------------------------------------------------------------
run_check ready
[[ $rc -eq 0 ]] || cs_fail "ready: exit status $rc, expected 0"
((ms < 10000)) || cs_fail "ready: took $ms ms, expected under 10 s"
has ready '^cube-streamer [0-9]+\.[0-9]+\.[0-9]+.* GStreamer [0-9.]+: checking this host$' "no version header"
has ready '^EGL:$' "no EGL section"
has ready '^  devices: [1-9][0-9]*$' "no EGL device listed"
has ready '^  device 0: ' "device 0 not described"
has ready '^  context: EGL ' "no EGL context description"
has ready '^  GL_RENDERER: .*llvmpipe' "GL_RENDERER is not llvmpipe"
has ready '^  GL_VERSION: OpenGL ES 3' "GL_VERSION is not OpenGL ES 3"
has ready '^encoders \(CS_ENCODER=auto\):$' "no encoder section"
has ready '^  nvh264enc: does not work: .+' "nvh264enc not probed or no reason"
has ready '^  x264enc: works' "x264enc does not work"
has ready '^  the server would use x264enc$' "x264enc not chosen"
has ready '^  rendered one 1280x720 NV12 frame' "no rendered frame"
has ready '^  encoded one frame with x264enc: [1-9][0-9]* bytes, keyframe,' "no encoded keyframe"
has ready '^  ([0-9]+) of \1 present: ' "GStreamer elements not all present"
for element in webrtcbin nicesrc nicesink dtlssrtpenc srtpenc rtph264pay x264enc; do
  has ready "^  [0-9]+ of [0-9]+ present: (.* )?$element( |$)" "$element not reported present"
done
[[ "$(tail -n1 "$CS_TMP/ready.out")" == ready ]] || cs_fail "ready: last line is not 'ready'"
grep -q 'PROBLEM' "$CS_TMP/ready.out" && cs_fail "ready: a PROBLEM line: $(grep PROBLEM "$CS_TMP/ready.out")"
cs_log "ok: $(grep -E 'GL_RENDERER|encoded one frame' "$CS_TMP/ready.out" | tr -s ' ' | tr '\n' '|')"

# --- CS_RENDER_DEVICE: the device list, and which one renders ---------------------
has ready '^  the server would render on (surfaceless|device [0-9]+) \((hardware|software)\)$' \
  "no line saying which EGL device renders"
has ready '^  device 0: .*\((Mesa software device|hardware)\)' "device 0 not classed"
run_check surfaceless CS_RENDER_DEVICE=surfaceless CS_ENCODER=x264
[[ $rc -eq 0 ]] || cs_fail "surfaceless: exit status $rc, expected 0"
has surfaceless '^  the server would render on surfaceless \(software\)$' "surfaceless not taken"
has surfaceless '^  context: EGL surfaceless platform, GL: ' "surfaceless context not described"
run_check device0 CS_RENDER_DEVICE=0 CS_ENCODER=x264
[[ $rc -eq 0 ]] || cs_fail "device0: exit status $rc, expected 0"
has device0 '^  the server would render on device 0 ' "device 0 not taken"
has device0 '^  context: EGL device 0: ' "device 0's context not described"
run_check device63 CS_RENDER_DEVICE=63 CS_ENCODER=x264
[[ $rc -eq 1 ]] || cs_fail "device63: exit status $rc, expected 1"
has device63 '^NOT ready: EGL: CS_RENDER_DEVICE=63: no such EGL device \(EGL lists [0-9]+: ' \
  "no clear error for a device index that does not exist"
cs_log "ok: CS_RENDER_DEVICE surfaceless, 0 and 63 (refused: $(tail -n1 "$CS_TMP/device63.out" | cut -c1-80))"

# --- CS_ENCODER=nvenc: no NVIDIA encoder here ------------------------------------
run_check nvenc CS_ENCODER=nvenc
[[ $rc -eq 1 ]] || cs_fail "nvenc: exit status $rc, expected 1"
has nvenc '^  nvh264enc: does not work: .+' "nvh264enc's failure not explained"
has nvenc '^NOT ready: .*no encoder for CS_ENCODER=nvenc works here \(nvh264enc: .+\)' \
  "the verdict does not say why"
grep -q '^  encoded one frame' "$CS_TMP/nvenc.out" && cs_fail "nvenc: claims an encoded frame"
cs_log "ok: $(tail -n1 "$CS_TMP/nvenc.out")"

# --- the configuration is honoured -------------------------------------------------
run_check small CS_WIDTH=640 CS_HEIGHT=360 CS_FPS=15 CS_ENCODER=x264
[[ $rc -eq 0 ]] || cs_fail "small: exit status $rc, expected 0"
has small '^settings: 640x360@15, ' "settings not taken from CS_WIDTH/CS_HEIGHT/CS_FPS"
has small '^encoders \(CS_ENCODER=x264\):$' "CS_ENCODER not honoured"
grep -q '^  nvh264enc' "$CS_TMP/small.out" && cs_fail "small: probed nvh264enc for CS_ENCODER=x264"
has small '^  rendered one 640x360 NV12 frame' "frame size not honoured"
has small '^  encoded one frame with x264enc: [1-9][0-9]* bytes, keyframe' "no encoded keyframe"

# --- an optional feature's plugin missing: a problem only when it is asked for --------
cs_plugins_without libgstopus.so
no_opus=("${CS_PLUGINS_ENV[@]}" CS_ENCODER=x264)
run_check no_opus_off "${no_opus[@]}" CS_AUDIO=0
[[ $rc -eq 0 ]] || cs_fail "no opus, CS_AUDIO=0: exit status $rc, expected 0"
has no_opus_off '^  opusenc absent: only CS_AUDIO=1 needs it' "a missing opusenc not reported as optional"
run_check no_opus_on "${no_opus[@]}" CS_AUDIO=1
[[ $rc -eq 1 ]] || cs_fail "no opus, CS_AUDIO=1: exit status $rc, expected 1"
grep -q 'opusenc missing: ' "$CS_TMP/no_opus_on.out" || cs_fail "no opus, CS_AUDIO=1: opusenc not named missing"
cs_log "ok: opusenc missing is a problem with CS_AUDIO=1 only ($(grep -m1 'opusenc' "$CS_TMP/no_opus_on.out" | tr -s ' '))"

# A bad value is still a configuration error (exit 2), not a report.
timeout 10 env "${sanitizer[@]}" CS_WIDTH=1282 "$CS_SERVER_BIN" --check >"$CS_TMP/bad.out" 2>"$CS_TMP/bad.err"
rc=$?
[[ $rc -eq 2 ]] || cs_fail "CS_WIDTH=1282 --check: exit status $rc, expected 2"

# --- no network at all ---------------------------------------------------------------
if [[ $EUID -eq 0 ]] && unshare -n true 2>/dev/null; then
  t0=$(cs_now_ms)
  timeout 20 unshare -n env "${sanitizer[@]}" "$CS_SERVER_BIN" --check >"$CS_TMP/offline.out" 2>"$CS_TMP/offline.err"
  rc=$?
  [[ $rc -eq 0 ]] || cs_fail "offline (unshare -n): exit status $rc, expected 0"
  cs_log "ok: ready with no network interface at all, in $(($(cs_now_ms) - t0)) ms"
else
  cs_log "not root: the run without any network (unshare -n) is left out"
fi
cs_pass "--check"
