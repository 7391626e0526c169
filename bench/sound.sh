#!/usr/bin/env bash
# The scene's sound (CS_AUDIO=1, issue 15), in Chromium on the server's own
# page at 720p30: RUNS fresh pages against one server in a test namespace
# (tests/e2e/netns.sh), each SECONDS with the cube at 8x (a full turn every
# 0.87 s). Per run: the A/V offset at the browser (tests/browser/
# sound_test.mjs: each click the page hears against the presented frame
# whose timecode row 3 counted that turn; positive = sound late), the Opus
# bitrate the browser receives, its audio jitter buffer and the audio
# context's output latency. From the server's /metrics over all runs: the
# Opus encoder's CPU (cs_sound_encode_seconds per second of sound) and its
# output bitrate.
#
#   bench/sound.sh [BUILD_DIR] [RUNS] [SECONDS]     (defaults: build 3 10)
# Each run is two pages: the default (the picture shown at once) and lip
# sync (/?sync=1: the picture held back to meet the sound).
# Prints one JSON line per page and a summary line: medians over the runs
# for each mode, the +-40 ms target and whether each median meets it.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/../tests/e2e/netns.sh"
cs_setup soundbench "${1:-$here/../build}"
runs="${2:-3}"
seconds="${3:-10}"
cs_start_server env CS_AUDIO=1
metrics() { cs_ns curl -s --max-time 2 "http://$CS_SERVER_IP:$CS_PORT/metrics"; }
metrics >"$CS_TMP/metrics.before"
for ((i = 1; i <= runs; i++)); do
  for mode in fast sync; do
    query=""
    [[ $mode == sync ]] && query="?sync=1"
    cs_ns node "$here/../tests/browser/sound_test.mjs" "http://$CS_SERVER_IP:$CS_PORT/$query" --expect sound \
      --seconds "$seconds" --max-offset 1000 >"$CS_TMP/$mode$i.out" 2>"$CS_TMP/$mode$i.err" ||
      cs_fail "run $i ($mode) failed: $(tail -3 "$CS_TMP/$mode$i.err")"
    echo "{\"mode\":\"$mode\",\"run\":$i,\"page\":$(grep '^{' "$CS_TMP/$mode$i.out" | tail -1)}"
  done
done
metrics >"$CS_TMP/metrics.after"
python3 - "$CS_TMP" "$runs" <<'PY'
import json, statistics, sys
tmp, runs = sys.argv[1], int(sys.argv[2])
def pages(mode):
    return [json.loads([l for l in open(f"{tmp}/{mode}{i}.out") if l.startswith("{")][-1]) for i in range(1, runs + 1)]
def metric(path, name):
    for line in open(path):
        if line.startswith(name + " "):
            return float(line.split()[1])
    return 0.0
d = lambda name: metric(f"{tmp}/metrics.after", name) - metric(f"{tmp}/metrics.before", name)
frames = d("cs_sound_frames_total")
sound_s = frames * 0.010
def summary(rows):
    offset = statistics.median(r["avOffsetMedianMs"] for r in rows)
    return {"av_offset_ms": round(offset, 1), "target_ms": 40, "meets_target": abs(offset) <= 40,
            "per_run_av_offset_ms": [r["avOffsetMedianMs"] for r in rows],
            "turns_paired": [f'{r["paired"]}/{r["turns"]}' for r in rows],
            "browser_audio_jitter_buffer_ms": statistics.median(r["audioJitterBufferMs"] for r in rows),
            "browser_output_latency_ms": statistics.median(r["outputLatencyMs"] for r in rows),
            "video_hold_ms": [r.get("videoHoldMs") for r in rows],
            "glass_to_glass_p50_ms": round(statistics.median(r["latencyP50Ms"] for r in rows), 1),
            "browser_audio_kbps": statistics.median(r["audioKbps"] for r in rows)}
print(json.dumps({"summary": "sound", "runs": runs,
                  "fast": summary(pages("fast")), "lip_sync": summary(pages("sync")),
                  "opus_encode_cpu_pct_of_core": round(100 * d("cs_sound_encode_seconds_sum") / sound_s, 2) if sound_s else None,
                  "opus_encode_ms_per_frame": round(1000 * d("cs_sound_encode_seconds_sum") / frames, 3) if frames else None,
                  "opus_kbps": round(8 * d("cs_sound_bytes_total") / sound_s / 1000, 1) if sound_s else None}))
PY
cs_pass "sound measured"
