#!/usr/bin/env bash
# GET /healthz: 200 with status, uptime, viewers, encoder and fps while idle
# (renderer paused, fps 0) and while a viewer streams (fps near CS_FPS);
# 503 with the reason when the render thread hangs (render-stall@N) and when
# the encoder puts nothing out while a viewer waits (encoder-stall@N, with
# the encoder supervisor's repair switched off: encoder-unsupervised). With
# CS_AUTH_TOKEN set, /healthz answers without the token while the page and
# /metrics need it; a wrong method on a known path gets 405 with Allow.
# Usage: healthz.sh [BUILD_DIR]
set -u
here="$(dirname "$(readlink -f "$0")")"
source "$here/netns.sh"
cs_setup healthz "${1:-/work/main/build}"
base="http://$CS_SERVER_IP:$CS_PORT"

# get PATH NAME [CURL ARGS...]: body in $CS_TMP/NAME.json, "STATUS" printed.
get() {
  local path="$1" name="$2"
  shift 2
  cs_ns curl -s --max-time 3 -o "$CS_TMP/$name.json" -w '%{http_code}' "$@" "$base$path"
}
# wait_health STATUS PYEXPR SECONDS NAME: polls /healthz until it answers
# STATUS with a JSON body `d` for which PYEXPR holds.
wait_health() {
  local want="$1" expr="$2" deadline=$(($(cs_now_ms) + $3 * 1000)) name="$4" status
  while :; do
    status=$(get /healthz "$name")
    if [[ $status == "$want" ]] && python3 -c "import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if ($expr) else 1)" \
      "$CS_TMP/$name.json" 2>/dev/null; then
      cs_log "ok: /healthz $status $(cat "$CS_TMP/$name.json")"
      return 0
    fi
    (($(cs_now_ms) < deadline)) ||
      cs_fail "/healthz: expected $want with $expr within $3 s; last: $status $(cat "$CS_TMP/$name.json" 2>/dev/null)"
    sleep 0.2
  done
}
fields='all(k in d for k in ("status", "uptime_s", "viewers", "encoder", "fps"))'

cs_log "--- idle and streaming"
cs_start_server
wait_health 200 "$fields and d['status'] == 'ok' and d['viewers'] == 0 and d['fps'] == 0 and d['encoder'] == 'x264enc' and d['uptime_s'] > 0" 5 idle
cs_start_bg viewer "$CS_VIEWER" --url "$CS_URL" --duration 8
viewer=$CS_LAST_PID
wait_health 200 "$fields and d['status'] == 'ok' and d['viewers'] == 1 and 10 <= d['fps'] <= 40" 15 streaming
cs_await_viewer "$viewer" viewer
wait_health 200 "d['status'] == 'ok' and d['viewers'] == 0 and d['fps'] == 0" 10 idle_again
cs_stop_server
mv "$CS_TMP/server.err" "$CS_TMP/server-streaming.log"

cs_log "--- the render thread hangs"
cs_start_server CS_TEST_FAULTS=render-stall@45
cs_start_bg viewer-render "$CS_VIEWER" --url "$CS_URL" --duration 12
wait_health 503 "d['status'] == 'unhealthy' and d['reason'].startswith('render thread stuck: no frame for ') and d['viewers'] == 1" 20 render_stuck
cs_stop_server
mv "$CS_TMP/server.err" "$CS_TMP/server-render-stall.log"

cs_log "--- the encoder goes silent and nothing repairs it"
cs_start_server CS_TEST_FAULTS=encoder-stall@45,encoder-unsupervised
cs_start_bg viewer-encoder "$CS_VIEWER" --url "$CS_URL" --duration 12
wait_health 503 "d['status'] == 'unhealthy' and d['reason'].startswith('encoder produced nothing for ') and d['reason'].endswith(' while 1 viewer waits')" 20 encoder_stuck
cs_stop_server
mv "$CS_TMP/server.err" "$CS_TMP/server-encoder-stall.log"

cs_log "--- CS_AUTH_TOKEN: /healthz is exempt, the rest is not"
token=healthz-test-token-0123456789
cs_start_server CS_AUTH_TOKEN=$token
wait_health 200 "d['status'] == 'ok'" 5 no_token
[[ $(get / page) == 401 ]] || cs_fail "GET / without the token: expected 401"
cs_log "ok: GET / without the token: 401"
[[ $(get /metrics metrics) == 401 ]] || cs_fail "GET /metrics without the token: expected 401"
cs_log "ok: GET /metrics without the token: 401"
[[ $(get /metrics metrics_bearer -H "Authorization: Bearer $token") == 200 ]] ||
  cs_fail "GET /metrics with the bearer token: expected 200"
cs_log "ok: GET /metrics with 'Authorization: Bearer': 200"
# Wrong methods on known paths: 405 naming what is allowed.
cs_ns curl -s --max-time 3 -D "$CS_TMP/post_healthz.head" -o /dev/null -X POST "$base/healthz"
grep -qE '^HTTP/1.1 405' "$CS_TMP/post_healthz.head" && grep -qiE '^allow: GET' "$CS_TMP/post_healthz.head" ||
  cs_fail "POST /healthz: expected 405 with Allow: GET; got $(tr -d '\r' <"$CS_TMP/post_healthz.head" | tr '\n' '|')"
cs_log "ok: POST /healthz: 405, Allow: GET"
cs_ns curl -s --max-time 3 -D "$CS_TMP/delete_metrics.head" -o /dev/null -X DELETE \
  -H "Authorization: Bearer $token" "$base/metrics"
grep -qE '^HTTP/1.1 405' "$CS_TMP/delete_metrics.head" && grep -qiE '^allow: GET' "$CS_TMP/delete_metrics.head" ||
  cs_fail "DELETE /metrics: expected 405 with Allow: GET"
cs_log "ok: DELETE /metrics: 405, Allow: GET"
cs_server_alive || cs_fail "server died"
cs_stop_server
cs_pass "healthz"
