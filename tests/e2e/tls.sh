#!/usr/bin/env bash
# CS_TLS_CERT + CS_TLS_KEY: the same port serves HTTPS and WSS with a
# self-signed certificate made here for the namespace address (the client
# checks it against exactly that certificate): the page, /stats, and an
# offer answered over wss://; the Origin check wants https:// now. Plain
# HTTP, a WebSocket upgrade in clear and random bytes sent to that port fail
# cleanly (no HTTP reply in clear), and the server stays up and serving TLS.
# Usage: tls.sh [BUILD_DIR]
set -u
here="$(dirname "$(readlink -f "$0")")"
source "$here/netns.sh"
cs_setup tls "${1:-/work/main/build}"
command -v openssl >/dev/null || { echo "tls: openssl not installed; skipped" >&2; exit 77; }
cert="$CS_TMP/cert.pem"
key="$CS_TMP/key.pem"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 \
  -subj "/CN=cube-streamer test" -addext "subjectAltName=IP:$CS_SERVER_IP" \
  -keyout "$key" -out "$cert" 2>"$CS_TMP/openssl.log" || cs_fail "openssl could not make a certificate"
cs_start_server CS_TLS_CERT="$cert" CS_TLS_KEY="$key"
log="$CS_TMP/server.err"
grep -q "serving https://$CS_SERVER_IP:$CS_PORT/" "$log" || cs_fail "the server does not say it serves https"
probe() { cs_ns python3 "$here/wsprobe.py" --cafile "$cert" "$@"; }
https="https://$CS_SERVER_IP:$CS_PORT"
wss="wss://$CS_SERVER_IP:$CS_PORT/ws"

probe http "$https/" >"$CS_TMP/page.out"
cs_json "$CS_TMP/page.out" 'd["status"] == 200 and d["content_type"].startswith("text/html")' "GET / over HTTPS (certificate checked): 200"
probe http "$https/stats" >"$CS_TMP/stats.out"
cs_json "$CS_TMP/stats.out" 'd["status"] == 200 and d["content_type"] == "application/json"' "GET /stats over HTTPS: 200 JSON"
probe ws "$wss" offer expect=answer:10 expect=ice:10 close >"$CS_TMP/wss.out"
cs_json "$CS_TMP/wss.out:1" 'd["status"] == 101' "WSS upgrade"
cs_json "$CS_TMP/wss.out:3" 'd["ok"]' "offer answered over WSS"
probe --header "Origin: $https" ws "$wss" open:0.1 >"$CS_TMP/origin_https.out"
cs_json "$CS_TMP/origin_https.out" 'd["status"] == 101' "Origin https://own: let in"
probe --header "Origin: http://$CS_SERVER_IP:$CS_PORT" ws "$wss" open:0.1 >"$CS_TMP/origin_http.out"
cs_json "$CS_TMP/origin_http.out" 'd["status"] == 403' "Origin http://own on a TLS server: 403"

# ---- clear text to the TLS port ------------------------------------------------
printf 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' |
  cs_ns python3 "$here/wsprobe.py" raw "$CS_SERVER_IP:$CS_PORT" 6 >"$CS_TMP/plain.out"
cs_json "$CS_TMP/plain.out" 'd["closed"] and not d["status_line"].startswith("HTTP/") and d["elapsed_ms"] < 6000' \
  "plain HTTP to the TLS port: closed, no HTTP reply"
cs_wait_log "$log" "WARN .*refused a connection that did not start with a TLS handshake" 2 ||
  cs_fail "no warn line for the clear-text request"
cs_ns python3 "$here/wsprobe.py" ws "ws://$CS_SERVER_IP:$CS_PORT/ws" open:0.1 >"$CS_TMP/plain_ws.out"
cs_json "$CS_TMP/plain_ws.out" 'd["status"] is None' "clear WebSocket upgrade to the TLS port: refused"
head -c 4096 /dev/urandom | cs_ns python3 "$here/wsprobe.py" raw "$CS_SERVER_IP:$CS_PORT" 6 >"$CS_TMP/garbage.out"
cs_json "$CS_TMP/garbage.out" 'd["closed"]' "4 KB of random bytes: closed"
# A TLS handshake begun and never finished: dropped at the request deadline.
cat >"$CS_TMP/half.py" <<'PY'
import json, socket, sys, time
s = socket.create_connection((sys.argv[1], int(sys.argv[2])))
s.sendall(bytes.fromhex("160301"))  # the first bytes of a ClientHello, then nothing
t0 = time.monotonic()
s.settimeout(20)
try:
    data = s.recv(100)
except OSError:
    data = b""
print(json.dumps({"closed_after_s": round(time.monotonic() - t0, 1), "bytes": len(data)}))
PY
cs_ns python3 "$CS_TMP/half.py" "$CS_SERVER_IP" "$CS_PORT" >"$CS_TMP/half.out"
cs_json "$CS_TMP/half.out" 'd["closed_after_s"] <= 12' "a TLS handshake left unfinished is dropped"
cs_server_alive || cs_fail "server died"
probe http "$https/" >"$CS_TMP/page_after.out"
cs_json "$CS_TMP/page_after.out" 'd["status"] == 200' "HTTPS still served afterwards"
probe ws "$wss" offer expect=answer:10 close >"$CS_TMP/wss_after.out"
cs_json "$CS_TMP/wss_after.out:3" 'd["ok"]' "WSS still answers afterwards"
grep -q "lws: " "$log" && cs_fail "lws's own chatter reached the log: $(grep -m1 'lws: ' "$log")"
cs_pass "HTTPS and WSS on one port; clear text fails cleanly"
