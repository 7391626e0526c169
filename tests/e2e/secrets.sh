#!/usr/bin/env bash
# Secrets never leave the process: with CS_TURN_PASS, CS_AUTH_TOKEN and a TLS
# key set and CS_LOG_LEVEL=debug, neither the log of a whole viewer session
# (plus refused attempts with wrong tokens), nor /stats, nor --help, nor a
# refused configuration holds the password, the token or any line of the
# key. Usage: secrets.sh [BUILD_DIR]
set -u
here="$(dirname "$(readlink -f "$0")")"
source "$here/netns.sh"
cs_setup secrets "${1:-/work/main/build}"
command -v openssl >/dev/null || { echo "secrets: openssl not installed; skipped" >&2; exit 77; }
probe() { cs_ns python3 "$here/wsprobe.py" "$@"; }
rand() { head -c 48 /dev/urandom | base64 | tr -dc 'A-Za-z0-9' | head -c "$1"; }
token="tok$(rand 29)"
turn_pass="pw$(rand 22)"
cert="$CS_TMP/cert.pem"
key="$CS_TMP/key.pem"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 \
  -subj "/CN=cube-streamer test" -addext "subjectAltName=IP:$CS_SERVER_IP" \
  -keyout "$key" -out "$cert" 2>"$CS_TMP/openssl.log" || cs_fail "openssl could not make a certificate"
# The TURN relay is an address in the namespace where nothing listens.
secrets_env=(CS_LOG_LEVEL=debug CS_AUTH_TOKEN="$token" CS_TURN_SERVER="turn://$CS_SERVER_IP:3478"
  CS_TURN_USER=csuser CS_TURN_PASS="$turn_pass")

# check FILE WHAT: none of the secrets in FILE.
check() {
  local file="$1" what="$2" line
  [[ -e "$file" ]] || cs_fail "$what: $file missing"
  grep -qF "$token" "$file" && cs_fail "$what holds CS_AUTH_TOKEN"
  grep -qF "$turn_pass" "$file" && cs_fail "$what holds CS_TURN_PASS"
  while read -r line; do
    [[ "$line" == -----* || ${#line} -lt 16 ]] && continue
    grep -qF "$line" "$file" && cs_fail "$what holds a line of the TLS key"
  done <"$key"
  cs_log "ok: $what holds no secret ($(wc -c <"$file") bytes)"
}

# ---- a whole session on a clear-text server ------------------------------------
cs_start_server "${secrets_env[@]}"
base="http://$CS_SERVER_IP:$CS_PORT"
probe ws "$CS_URL?token=${token}x" open:0.1 >"$CS_TMP/wrong_ws.out"
cs_json "$CS_TMP/wrong_ws.out" 'd["status"] == 401' "a wrong token is refused"
probe --header "Authorization: Bearer ${token:0:20}" http "$base/stats" >"$CS_TMP/wrong_http.out"
cs_json "$CS_TMP/wrong_http.out" 'd["status"] == 401' "a token prefix is refused"
cs_ns curl -s "$base/stats?token=$token" >"$CS_TMP/stats.json"
cs_json "$CS_TMP/stats.json" 'isinstance(d, dict)' "/stats with the token"
cs_start_bg viewer "$CS_VIEWER" --url "$CS_URL?token=$token" --duration 6
cs_await_viewer "$CS_LAST_PID" viewer
cs_json "$CS_TMP/viewer.out" 'd["frames"] >= 50' "a whole viewer session (>= 50 frames)"
cs_stop_server
grep -q "DEBUG" "$CS_TMP/server.err" || cs_fail "the log is not at debug level"
check "$CS_TMP/server.err" "debug log of a viewer session"
check "$CS_TMP/server.out" "server stdout"
check "$CS_TMP/stats.json" "/stats"

# ---- the same over TLS ------------------------------------------------------------
cs_start_bg tls_server env CS_HOST="$CS_SERVER_IP" CS_PORT="$CS_PORT" CS_ICE_ADDRESSES="$CS_SERVER_IP" \
  "${secrets_env[@]}" CS_TLS_CERT="$cert" CS_TLS_KEY="$key" "$CS_SERVER_BIN"
CS_SERVER_PID=$CS_LAST_PID
cs_wait_port "$CS_SERVER_IP" "$CS_PORT" 30 "$CS_SERVER_PID" || cs_fail "TLS server did not start"
probe --cafile "$cert" ws "wss://$CS_SERVER_IP:$CS_PORT/ws?token=$token" offer expect=answer:10 sleep=2 close \
  >"$CS_TMP/wss.out"
cs_json "$CS_TMP/wss.out:3" 'd["ok"]' "an offer answered over WSS"
probe --cafile "$cert" --header "Authorization: Bearer $token" http "https://$CS_SERVER_IP:$CS_PORT/stats" \
  >"$CS_TMP/stats_tls.out"
cs_json "$CS_TMP/stats_tls.out" 'd["status"] == 200' "/stats over HTTPS"
printf 'GET / HTTP/1.1\r\nHost: x\r\n\r\n' | cs_ns python3 "$here/wsprobe.py" raw "$CS_SERVER_IP:$CS_PORT" 3 \
  >/dev/null
cs_stop_server
check "$CS_TMP/tls_server.err" "debug log of a TLS session"
check "$CS_TMP/tls_server.out" "TLS server stdout"

# ---- --help and a refused configuration ---------------------------------------------
env "${secrets_env[@]}" CS_TLS_CERT="$cert" CS_TLS_KEY="$key" "$CS_SERVER_BIN" --help \
  >"$CS_TMP/help.txt" 2>&1
grep -q "CS_AUTH_TOKEN" "$CS_TMP/help.txt" || cs_fail "--help does not list CS_AUTH_TOKEN"
check "$CS_TMP/help.txt" "--help"
env "${secrets_env[@]}" CS_AUTH_TOKEN="bad token $token" "$CS_SERVER_BIN" >"$CS_TMP/refused.txt" 2>&1
[[ $? == 2 ]] || cs_fail "a malformed CS_AUTH_TOKEN did not stop the start with exit code 2"
check "$CS_TMP/refused.txt" "the refused-configuration line"
cs_pass "no secret in logs, /stats or --help"
