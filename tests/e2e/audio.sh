#!/usr/bin/env bash
# The scene's sound (CS_AUDIO=1), with real viewers. One native viewer
# offers Opus too: it decodes the sound, finds each click and each frame
# whose timecode row 3 counted a full turn, and every turn (away from the
# ends) must have its click within 200 ms and every click its turn: the
# click count matches the turns rendered, and the offset is the A/V sync at
# this viewer. A second viewer offers video only and gets video only. Then
# the same server with CS_AUDIO=0: a viewer offering audio gets video, no
# sound; and CS_AUDIO=1 without the opus plugin: video, no sound. The cube spins at 8x (CS_SPIN_SPEED: a full turn every 0.87 s),
# so that a click missed now and then is seen. Usage: audio.sh [BUILD_DIR]
set -u
source "$(dirname "$(readlink -f "$0")")/netns.sh"
cs_setup audio "${1:-/work/main/build}"
cs_start_server env CS_AUDIO=1 CS_SPIN_SPEED=8 CS_WIDTH=640 CS_HEIGHT=360
cs_wait_log "$CS_TMP/server.err" "sound: Opus" 5 || cs_fail "server did not say it sends sound"

cs_start_bg listener "$CS_VIEWER" --url "$CS_URL" --duration 17 --audio
listener=$CS_LAST_PID
cs_start_bg watcher "$CS_VIEWER" --url "$CS_URL" --duration 17
watcher=$CS_LAST_PID
cs_await_viewer "$listener" listener
cs_await_viewer "$watcher" watcher
cs_server_alive || cs_fail "server died"

out="$CS_TMP/listener.out"
cs_json "$out" 'd["frames"] >= 300' "the listener got video (>= 300 frames)"
cs_json "$out" '"OPUS" in d["offered"] or "opus" in d["offered"]' "the listener offered Opus"
cs_json "$out" 'd["sound"]["seconds"] >= 13' "it decoded >= 13 s of Opus sound in 17 s"
cs_json "$out" 'd["sound"]["peak"] >= 1500' "the tone is there (peak >= 1500 of 32767)"
cs_json "$out" 'd["last_turns"] is not None and d["last_turns"] - d["first_turns"] >= 12' \
  "the video counted >= 12 full turns at 8x (timecode row 3)"
cs_json "$out" 'd["sound"]["turns_judged"] >= 10 and d["sound"]["unmatched_turns"] == 0' \
  "every full turn has its click within 200 ms"
cs_json "$out" 'd["sound"]["unmatched_clicks"] == 0 and d["sound"]["clicks_judged"] == d["sound"]["turns_judged"]' \
  "no click without a turn: the click count matches the turns rendered"
cs_json "$out" 'abs(d["sound"]["av_offset_median_ms"]) <= 100' "A/V offset at the native viewer within 100 ms"
cs_log "listener: sound $(python3 -c 'import json,sys; d=json.loads(open(sys.argv[1]).readline()); print(json.dumps(d["sound"]))' "$out")"
cs_json "$CS_TMP/watcher.out" 'd["frames"] >= 300 and "sound" not in d and not d["errors"]' \
  "a viewer offering video only gets video only"
metrics=$(cs_ns curl -s --max-time 2 "http://$CS_SERVER_IP:$CS_PORT/metrics")
grep -qE '^cs_sound_frames_total [1-9]' <<<"$metrics" || cs_fail "/metrics has no Opus frames: $(grep cs_sound <<<"$metrics")"
cs_log "ok: /metrics counts the Opus frames: $(grep -E '^cs_sound_(frames|bytes)_total' <<<"$metrics" | tr '\n' ' ')"
cs_stop_server

# The sound fails after 3 s (its encoder posts an error, its source sends
# EOS, as a failing source does): the server says so, the viewer keeps its
# video without a freeze, and the sound stops.
cs_start_server env CS_AUDIO=1 CS_TEST_FAULTS=sound-error@300 CS_WIDTH=640 CS_HEIGHT=360
cs_start_bg broken "$CS_VIEWER" --url "$CS_URL" --duration 9 --audio
cs_await_viewer "$CS_LAST_PID" broken
cs_server_alive || cs_fail "the server died of a failing sound"
grep -q 'the stream goes on without sound' "$CS_TMP/server.err" || cs_fail "no line saying the sound failed"
cs_json "$CS_TMP/broken.out" 'd["frames"] >= 150 and d["fps"] >= 25 and d["max_gap_ms"] < 500 and not d["errors"]' \
  "a failing sound: the video goes on (>= 25 fps to the end, no gap of 500 ms)"
cs_json "$CS_TMP/broken.out" 'd["sound"]["seconds"] < 5' "a failing sound: the sound stopped"
cs_stop_server

cs_start_server env CS_AUDIO=0 CS_WIDTH=640 CS_HEIGHT=360
cs_start_bg silent "$CS_VIEWER" --url "$CS_URL" --duration 6 --audio
cs_await_viewer "$CS_LAST_PID" silent
cs_json "$CS_TMP/silent.out" 'd["frames"] >= 100 and d["sound"]["buffers"] == 0 and not d["errors"]' \
  "CS_AUDIO=0: an offer with audio gets video and no sound"
cs_stop_server

# CS_AUDIO=1 on a host without the opus plugin (a plugin directory without
# it): the server says the sound is off and serves video.
cs_plugins_without libgstopus.so
cs_start_server env "${CS_PLUGINS_ENV[@]}" CS_AUDIO=1 CS_WIDTH=640 CS_HEIGHT=360
cs_wait_log "$CS_TMP/server.err" "sound \\(CS_AUDIO=1\\) off: " 5 || cs_fail "no line saying the sound is off"
cs_start_bg no_opus "$CS_VIEWER" --url "$CS_URL" --duration 6 --audio
cs_await_viewer "$CS_LAST_PID" no_opus
cs_json "$CS_TMP/no_opus.out" 'd["frames"] >= 100 and d["sound"]["buffers"] == 0 and not d["errors"]' \
  "no opusenc: the server runs on, video without sound"
cs_pass "sound"
