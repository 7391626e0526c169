#!/usr/bin/env bash
# Codec per viewer (issue 13). Against one server with the default CS_CODECS
# (h264,vp8), at once: a viewer offering only VP8 receives and decodes VP8, one
# offering only H.264 receives H.264 (both >= 50 frames, frame numbers
# increasing, timecode readable, the cube in the centre, the rendition message
# naming the codec), and one offering VP8 before H.264 gets H.264 (the server's
# order decides). A viewer offering only VP9 gets an `error` naming what the
# server sends (H264, VP8) and what the offer had (VP9). Then with
# CS_CODECS=h264 a VP8-only viewer gets an `error` naming H264 as sent and VP8
# as offered. A VP8 encoder that fails drops its viewers, not the server.
# The servers run at 640x360: this is about which codec each viewer gets and
# that it decodes, not about the encoders' cost (bench/ says that), and other
# work on the machine must not starve a 720p VP8 encode into failing it.
# Usage: codecs.sh [BUILD_DIR]
set -u
source "$(dirname "$(readlink -f "$0")")/netns.sh"
cs_setup codecs "${1:-/work/main/build}"

# cs_refused NAME SENDS OFFERED: NAME's report has no answer, no frames, and
# the server's error whose "sends ...; the offer has ..." parts name exactly
# the codecs in SENDS and OFFERED (space lists) among H264, VP8, VP9.
cs_refused() {
  local out="$CS_TMP/$1.out" sends="$2" offered="$3"
  cs_json "$out" 'not d["answered"] and d["frames"] == 0' "$1: no answer, no frames"
  cs_json "$out" "$(
    cat <<PY
(lambda m: m is not None
   and all((c in m.group(1)) == (c in "$sends".split()) for c in ("H264", "VP8", "VP9"))
   and all((c in m.group(2)) == (c in "$offered".split()) for c in ("H264", "VP8", "VP9")))(
  __import__("re").search(r"server sends (.*?); the offer has (.*)",
                          " ".join(e for e in d["errors"] if e.startswith("server error:"))))
PY
  )" "$1: error names the server's codecs ($sends) and the offer's ($offered)"
}

# --- default CS_CODECS ------------------------------------------------------
# The two decoding viewers are pinned to the top rung: this test is about the
# codec, and on a busy machine the ladder may move an unlimited viewer down
# (tests/e2e/ladder.sh judges that).
size=(CS_WIDTH=640 CS_HEIGHT=360)
cs_start_server "${size[@]}"
cs_start_bg vp8 "$CS_VIEWER" --url "$CS_URL" --duration 12 --codecs vp8 --rung 0
vp8=$CS_LAST_PID
cs_start_bg h264 "$CS_VIEWER" --url "$CS_URL" --duration 12 --codecs h264 --rung 0
h264=$CS_LAST_PID
cs_start_bg vp8_first "$CS_VIEWER" --url "$CS_URL" --duration 12 --codecs vp8,h264 --no-decode
vp8_first=$CS_LAST_PID
for v in vp8 h264 vp8_first; do cs_await_viewer "${!v}" "$v"; done
cs_server_alive || cs_fail "server died"

for v in vp8 h264; do
  out="$CS_TMP/$v.out"
  codec=$(tr a-z A-Z <<<"$v")
  cs_json "$out" "d['offered'] == ['$codec']" "$v: the offer carries $codec alone"
  cs_json "$out" "d['answered'] and d['codec'] == '$codec'" "$v: receives $codec"
  cs_json "$out" "len(d['renditions']) == 1 and d['renditions'][0]['codec'] == '$codec' and d['renditions'][0]['rung'] == 0" \
    "$v: one rendition message, naming $codec and the pinned rung 0"
  cs_json "$out" 'd["frames"] >= 50 and d["fps"] >= 50 / 3' \
    "$v: at least 50 decoded frames, at 50 per 3 s or more"
  cs_json "$out" 'd["width"] == 640 and d["height"] == 360' "$v: frames are 640x360 (the top rung)"
  cs_json "$out" 'd["frame_numbers_increasing"] and d["last_frame_number"] is not None' \
    "$v: frame numbers increasing"
  cs_json "$out" 'd["timecode_failures"] <= d["frames"] // 20' "$v: timecode readable"
  cs_json "$out" 'd["center_saturated_fraction"] >= 0.8' "$v: centre pixel is the cube's colour"
  cs_json "$out" 'd["errors"] == []' "$v: no errors"
  cs_log "$v: $(head -n1 "$out")"
done
cs_json "$CS_TMP/vp8_first.out" 'd["offered"] == ["VP8", "H264"] and d["codec"] == "H264" and d["frames"] >= 30' \
  "offer of VP8 before H.264: H.264 (CS_CODECS's order decides)"

cs_start_bg vp9 "$CS_VIEWER" --url "$CS_URL" --duration 3 --codecs vp9
cs_await_viewer "$CS_LAST_PID" vp9
cs_refused vp9 "H264 VP8" "VP9"
cs_server_alive || cs_fail "server died"
cs_stop_server

# --- a failing VP8 encoder ------------------------------------------------------
# Only VP8 viewers: the H.264 encoder idles, so the injected failure (the
# encoder's 40th frame) hits vp8enc. Its viewer gets an error and is closed;
# the server goes on, and the next VP8 viewer gets a fresh rendition.
cs_start_server "${size[@]}" CS_TEST_FAULTS=encoder-error@40
cs_start_bg vp8_broken "$CS_VIEWER" --url "$CS_URL" --duration 8 --codecs vp8
cs_await_viewer "$CS_LAST_PID" vp8_broken
cs_json "$CS_TMP/vp8_broken.out" 'any("stream error" in e for e in d["errors"])' \
  "a failing VP8 rendition: its viewer gets an error"
cs_server_alive || cs_fail "the server died with its VP8 rendition"
cs_wait_log "$CS_TMP/server.err" 'VP8 rung 0 .* stops' 5 || cs_fail "the failed VP8 rendition was not torn down"
cs_start_bg vp8_again "$CS_VIEWER" --url "$CS_URL" --duration 10 --codecs vp8
cs_await_viewer "$CS_LAST_PID" vp8_again
cs_json "$CS_TMP/vp8_again.out" 'd["codec"] == "VP8" and d["frames"] >= 30 and d["errors"] == []' \
  "the next VP8 viewer streams from a fresh rendition"
cs_stop_server

# --- CS_CODECS=h264 -----------------------------------------------------------
cs_start_server "${size[@]}" CS_CODECS=h264
cs_start_bg vp8_only "$CS_VIEWER" --url "$CS_URL" --duration 3 --codecs vp8
cs_await_viewer "$CS_LAST_PID" vp8_only
cs_refused vp8_only "H264" "VP8"
cs_server_alive || cs_fail "server died"
cs_pass "codecs"
