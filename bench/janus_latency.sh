#!/usr/bin/env bash
# Glass-to-glass in Chromium directly from the server and through a Janus
# fan-out node on the same machine (one extra hop), with each process's CPU:
# the server forwards its top H.264 rung (CS_FORWARD_RTP) to a Janus
# Streaming mountpoint (scripts/janus.sh); the page watches once over its
# WebSocket and once with ?janus=... (the Janus HTTP API), RUNS times each,
# alternating. Everything runs in a test namespace (tests/e2e/netns.sh).
#
#   bench/janus_latency.sh [BUILD_DIR] [RUNS] [SECONDS]     (defaults: build 3 20)
# Prints one JSON line per run and a summary line: medians of the page's
# screencast glass-to-glass p50/p95, fps, and % of a core for server and Janus.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/../tests/e2e/netns.sh"
cs_setup janusbench "${1:-$here/../build}"
runs="${2:-3}"
seconds="${3:-20}"
rtp_port=5004
cs_start_bg janus "$here/../scripts/janus.sh" --interface "$CS_SERVER_IP" --http-port 8088 \
  --rtp-port "$rtp_port" --port-range 20000-20049 --debug-level 3
janus_pid=$CS_LAST_PID
cs_wait_port "$CS_SERVER_IP" 8088 15 "$janus_pid" || cs_fail "janus did not open its HTTP port"
# janus.sh with a temporary config runs Janus as its child: count that one.
janus_pid=$(pgrep -P "$janus_pid" -x janus || echo "$janus_pid")
cs_start_server CS_FORWARD_RTP="$CS_SERVER_IP:$rtp_port"
sleep 3  # Janus has seen the stream and its first keyframe

ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
page() { # NAME URL: one bench run, its JSON line plus the CPU of both processes
  local name="$1" url="$2" s0 j0 t0 s1 j1 t1
  s0=$(ticks "$CS_SERVER_PID"); j0=$(ticks "$janus_pid"); t0=$(date +%s.%N)
  cs_ns node "$here/../tests/browser/page_test.mjs" "$url" --bench "$seconds" --screencast \
    >"$CS_TMP/$name.out" 2>"$CS_TMP/$name.err" || cs_fail "$name: page run failed: $(tail -3 "$CS_TMP/$name.err")"
  s1=$(ticks "$CS_SERVER_PID"); j1=$(ticks "$janus_pid"); t1=$(date +%s.%N)
  python3 - "$CS_TMP/$name.out" "$name" "$s0" "$s1" "$j0" "$j1" "$t0" "$t1" "$(getconf CLK_TCK)" <<'PY'
import json, sys
out, name, s0, s1, j0, j1, t0, t1, hz = sys.argv[1:]
page = [json.loads(l) for l in open(out) if l.startswith("{")][-1]
sc = page.get("screencast") or {}
wall = float(t1) - float(t0)
print(json.dumps({"run": name, "g2g_p50_ms": sc.get("p50"), "g2g_p95_ms": sc.get("p95"),
                  "fps": page.get("framesPerSecond"), "frames_lost": page.get("framesLost"),
                  "server_cpu_pct": round(100 * (int(s1) - int(s0)) / int(hz) / wall, 1),
                  "janus_cpu_pct": round(100 * (int(j1) - int(j0)) / int(hz) / wall, 1)}))
PY
}
direct="http://$CS_SERVER_IP:$CS_PORT/"
via="http://$CS_SERVER_IP:$CS_PORT/?janus=http://$CS_SERVER_IP:8088/janus"
for i in $(seq "$runs"); do
  page "direct-$i" "$direct" | tee -a "$CS_TMP/runs.jsonl"
  page "janus-$i" "$via" | tee -a "$CS_TMP/runs.jsonl"
done
python3 - "$CS_TMP/runs.jsonl" <<'PY'
import json, statistics, sys
runs = [json.loads(l) for l in open(sys.argv[1])]
summary = {}
for kind in ("direct", "janus"):
    rs = [r for r in runs if r["run"].startswith(kind)]
    summary[kind] = {k: statistics.median([r[k] for r in rs if r[k] is not None] or [0])
                     for k in ("g2g_p50_ms", "g2g_p95_ms", "fps", "server_cpu_pct", "janus_cpu_pct")}
print(json.dumps({"summary": summary}))
PY
cs_pass "janus latency"
