#!/usr/bin/env bash
# Input -> photon beside glass-to-glass, in Chromium on the server's own page
# (issue 15): real mouse drags on the video (tests/browser/control_test.mjs);
# each one's latency runs from the page's wall clock at the drag to the first
# presented frame whose timecode row 2 carries it; glass-to-glass is the
# page's p50 over the same run. RUNS fresh pages against one server in a
# test namespace (tests/e2e/netns.sh).
#
#   bench/control_latency.sh [BUILD_DIR] [RUNS] [DRAGS]     (defaults: build 3 20)
# Prints one JSON line per run and a summary line: medians over the runs of
# input -> photon p50 and glass-to-glass p50, the target (one frame interval
# + glass-to-glass p50) and whether the median meets it.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
source "$here/../tests/e2e/netns.sh"
cs_setup controlbench "${1:-$here/../build}"
runs="${2:-3}"
drags="${3:-20}"
cs_start_server
for ((i = 1; i <= runs; i++)); do
  cs_ns node "$here/../tests/browser/control_test.mjs" "http://$CS_SERVER_IP:$CS_PORT/" --expect steer --drags "$drags" \
    >"$CS_TMP/run$i.out" 2>"$CS_TMP/run$i.err" || cs_fail "run $i failed: $(tail -3 "$CS_TMP/run$i.err")"
  grep '^{' "$CS_TMP/run$i.out" | tail -1
done
python3 - "$CS_TMP" "$runs" <<'PY'
import json, statistics, sys
tmp, runs = sys.argv[1], int(sys.argv[2])
rows = [json.loads([l for l in open(f"{tmp}/run{i}.out") if l.startswith("{")][-1]) for i in range(1, runs + 1)]
i2p = statistics.median(r["inputToPhotonP50Ms"] for r in rows)
g2g = statistics.median(r["latencyP50Ms"] for r in rows)
target = 1000 / 30 + g2g
print(json.dumps({"summary": "control_latency", "runs": runs,
                  "input_to_photon_p50_ms": round(i2p, 1), "glass_to_glass_p50_ms": round(g2g, 1),
                  "target_ms": round(target, 1), "meets_target": i2p <= target,
                  "per_run_input_to_photon_p50_ms": [r["inputToPhotonP50Ms"] for r in rows]}))
PY
cs_pass "control latency measured"
