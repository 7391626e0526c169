#!/usr/bin/env bash
# GET /metrics, read with prometheus_client's own exposition parser (the
# format Prometheus scrapes): before any viewer, twice while one streams (a
# second offer refused in between: CS_MAX_VIEWERS=1), and after it left.
# Counters only grow and grow while streaming, the viewers gauge is 1 then
# 0, the stage histograms fill with cumulative buckets, bytes and packets
# are sent, the refusal is counted by its reason, names follow Prometheus'
# conventions. Usage: metrics.sh [BUILD_DIR]
set -u
here="$(dirname "$(readlink -f "$0")")"
source "$here/netns.sh"
cs_setup metrics "${1:-/work/main/build}"
# Debian's python3 has python3-prometheus-client (scripts/setup.sh).
PY=/usr/bin/python3
[[ -x $PY ]] || PY=python3
"$PY" -c 'import prometheus_client' 2>/dev/null ||
  { echo "metrics: python3-prometheus-client not installed; skipped" >&2; exit 77; }
cs_start_server CS_MAX_VIEWERS=1

# scrape NAME: /metrics into $CS_TMP/NAME.prom; checks status and type.
scrape() {
  local head
  head=$(cs_ns curl -s --max-time 3 -o "$CS_TMP/$1.prom" -w '%{http_code} %{content_type}' \
    "http://$CS_SERVER_IP:$CS_PORT/metrics") || cs_fail "/metrics did not answer ($1)"
  [[ "$head" == "200 text/plain; version=0.0.4; charset=utf-8" ]] ||
    cs_fail "/metrics ($1): expected 200 text/plain; version=0.0.4; got '$head'"
}
# value NAME SAMPLE: one sample of scrape NAME.
value() { "$PY" "$here/prom.py" value "$CS_TMP/$1.prom" "$2"; }
# wait_for SAMPLE PYEXPR SECONDS: scrapes until the sample's value x makes PYEXPR true.
wait_for() {
  local deadline=$(($(cs_now_ms) + $3 * 1000)) x
  while :; do
    scrape poll
    x=$(value poll "$1")
    [[ $x != none ]] && "$PY" -c "import sys; x=float(sys.argv[1]); sys.exit(0 if ($2) else 1)" "$x" &&
      return 0
    (($(cs_now_ms) < deadline)) || cs_fail "$1 = $x; expected $2 within $3 s"
    sleep 0.2
  done
}

scrape idle
cs_log "idle: $(grep -c '^cs_' "$CS_TMP/idle.prom") samples"

cs_start_bg viewer "$CS_VIEWER" --url "$CS_URL" --duration 10
viewer=$CS_LAST_PID
wait_for cs_viewers 'x == 1' 15
wait_for cs_sent_packets_total 'x > 100' 15
scrape streaming

# A second offer while the one slot is taken: "server full".
cs_ns python3 "$here/wsprobe.py" ws "$CS_URL" offer expect=error:3 >"$CS_TMP/second.out"
cs_json "$CS_TMP/second.out:3" 'd["ok"] and "server full" in d["msg"]["message"]' \
  "a second offer is refused (server full)"
wait_for 'cs_viewers_refused_total{reason="server_full"}' 'x >= 1' 5
# Later, while the viewer still streams (at least a second of it).
start=$(cs_now_ms)
while (($(cs_now_ms) < start + 1000)); do sleep 0.1; done
scrape later
[[ $(value later cs_viewers) == 1.0 ]] || cs_fail "the viewer stopped too early for the second scrape"

cs_await_viewer "$viewer" viewer
wait_for cs_viewers 'x == 0' 10
scrape after

"$PY" "$here/prom.py" check "$CS_TMP"/{idle,streaming,later,after}.prom >"$CS_TMP/check.log" 2>&1 ||
  { cat "$CS_TMP/check.log" >&2; cs_fail "the scrapes do not hold what they should"; }
while read -r line; do cs_log "$line"; done <"$CS_TMP/check.log"
cs_server_alive || cs_fail "server died"
cs_pass "metrics"
