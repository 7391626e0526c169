#!/usr/bin/env bash
# Hostile HTTP and WebSocket input, sent raw (no client library to normalise
# it) while a viewer watches: 64 KB of request headers (dropped, no reply),
# unknown methods (4xx), path traversal in every spelling (404, never a file),
# a request trickled one byte a second (closed at the 5 s request deadline,
# not kept alive by each byte), and a WebSocket message flood (an error "too
# many messages", then the socket is closed) beside an honest burst that is
# let through. The server stays up with one warn line per refusal and the
# viewer keeps its frames. Usage: hostile_http.sh [BUILD_DIR]
set -u
here="$(dirname "$(readlink -f "$0")")"
source "$here/netns.sh"
cs_setup hhttp "${1:-/work/main/build}"
cs_start_server
log="$CS_TMP/server.err"
probe() { cs_ns python3 "$here/wsprobe.py" "$@"; }
raw() { probe raw "$CS_SERVER_IP:$CS_PORT" "$@"; }
cs_start_bg viewer "$CS_VIEWER" --url "$CS_URL" --duration 45
viewer=$CS_LAST_PID
cs_wait_log "$CS_TMP/viewer.err" "connection state connected" 20 || cs_fail "viewer did not connect"
index_sha=$(probe http "http://$CS_SERVER_IP:$CS_PORT/" | python3 -c 'import json,sys; print(json.load(sys.stdin)["body_sha256"])')

# ---- oversized headers -------------------------------------------------------
python3 -c 'import sys; sys.stdout.buffer.write(b"GET / HTTP/1.1\r\nHost: x\r\n" + b"".join(b"X-Pad-%d: %s\r\n" % (i, b"a" * 1000) for i in range(64)) + b"\r\n")' |
  raw 8 >"$CS_TMP/big_headers.out"
cs_json "$CS_TMP/big_headers.out" '(d["status"] == 431 or (d["status"] is None and d["closed"])) and "200" not in d["status_line"]' \
  "64 KB of headers: refused (431 or closed without a reply)"
python3 -c 'import sys; sys.stdout.buffer.write(b"GET / HTTP/1.1\r\nHost: x\r\nCookie: " + b"a" * 65536 + b"\r\n\r\n")' |
  raw 8 >"$CS_TMP/big_cookie.out"
cs_json "$CS_TMP/big_cookie.out" '(d["status"] == 431 or (d["status"] is None and d["closed"]))' \
  "one 64 KB header: refused"
cs_wait_log "$log" "WARN .*refused an HTTP request whose headers exceed 8192 bytes" 2 ||
  cs_fail "no warn line for the oversized headers"

# ---- methods -----------------------------------------------------------------
for req in 'FOO / HTTP/1.1' 'DELETE / HTTP/1.1' 'POST /stats HTTP/1.1' 'PUT /index.html HTTP/1.1' \
  'OPTIONS * HTTP/1.1' 'GET'; do
  printf '%s\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n' "$req" | raw 3 >"$CS_TMP/method.out"
  cs_json "$CS_TMP/method.out" '(d["status"] is not None and 400 <= d["status"] < 500) or (d["status"] is None and d["closed"])' \
    "'$req': 4xx or closed"
done
cs_wait_log "$log" "WARN .*refused HTTP request .*method [A-Z]+ not allowed \(Allow: GET\) -> 405" 2 ||
  cs_fail "no warn line for the 405"
# Upgrades: to h2c refused; "WebSocket" in another case is still a WebSocket.
printf 'GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAARAAAAAAAIAAAAA\r\n\r\n' |
  raw 3 >"$CS_TMP/h2c.out"
cs_json "$CS_TMP/h2c.out" 'd["status"] == 400' "Upgrade: h2c refused (400)"
printf 'GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: WebSocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n' |
  raw 1 >"$CS_TMP/ws_case.out"
cs_json "$CS_TMP/ws_case.out" 'd["status"] == 101' "Upgrade: WebSocket (any case) accepted"

# ---- path traversal, raw -----------------------------------------------------
for path in '/../../etc/passwd' '/%2e%2e/%2e%2e/etc/passwd' '/%2E%2E/%2E%2E/etc/passwd' \
  '/..%2fetc/passwd' '/..%2Fetc%2Fpasswd' '/..%5c..%5cetc%5cpasswd' '/%252e%252e/etc/passwd' \
  '/index.html/../../x' '/index.html/../../../etc/passwd' '//etc/passwd' '/./../etc/passwd' \
  '/..\..\etc\passwd' '/stats%3Fx' '/etc/passwd' '/proc/self/environ' \
  '/.%2e/.%2e/etc/passwd' '/%c0%ae%c0%ae/etc/passwd'; do
  printf 'GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' "$path" | raw 3 >"$CS_TMP/path.out"
  cs_json "$CS_TMP/path.out" '(d["status"] == 404 or (d["status"] is None and d["closed"])) and "root:" not in d["body"] and "CS_" not in d["body"]' \
    "GET $path: 404 (or dropped), no file contents"
done
# lws ends the decoded path at a %00: these name the page itself ("/",
# "/index.html") and get it, nothing else.
for path in '/%00' '/index.html%00../../etc/passwd'; do
  printf 'GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n' "$path" | raw 3 >"$CS_TMP/path.out"
  cs_json "$CS_TMP/path.out" '(d["status"] in (404, None) or (d["status"] == 200 and d["body"].startswith("<!doctype html>\n<html"))) and "root:" not in d["body"]' \
    "GET $path: the page or 404, nothing else"
done
cs_wait_log "$log" "WARN .*refused HTTP request .*no such file -> 404" 2 || cs_fail "no warn line for a 404"

# ---- a request trickled one byte a second ------------------------------------
cat >"$CS_TMP/trickle.py" <<'PY'
import json, socket, sys, time
s = socket.create_connection((sys.argv[1], int(sys.argv[2])))
req = b"GET / HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 60 + b"\r\n\r\n"
t0, sent, reply, closed = time.monotonic(), 0, b"", False
s.settimeout(1.0)
for b in req:
    try:
        s.send(bytes([b]))
        sent += 1
    except OSError:
        closed = True
        break
    try:
        d = s.recv(65536)
        if not d:
            closed = True
            break
        reply += d
    except socket.timeout:
        pass
    except OSError:
        closed = True
        break
print(json.dumps({"closed": closed, "after_s": round(time.monotonic() - t0, 1), "sent": sent,
                  "of": len(req), "reply": reply[:40].decode("latin-1")}), flush=True)
PY
cs_ns python3 "$CS_TMP/trickle.py" "$CS_SERVER_IP" "$CS_PORT" >"$CS_TMP/trickle.out"
cs_json "$CS_TMP/trickle.out" 'd["closed"] and d["after_s"] <= 8 and d["sent"] < d["of"] and d["reply"] == ""' \
  "one byte a second: closed within 8 s (request deadline 5 s), never served"

# ---- WebSocket message flood -------------------------------------------------
ice='{"type":"ice","candidate":"candidate:1 1 udp 2122260223 10.0.0.9 50000 typ host","sdpMLineIndex":0}'
probe ws "$CS_URL" offer "flood=30:$ice" open:2 close >"$CS_TMP/honest.out"
cs_json "$CS_TMP/honest.out:3" 'd["sent"] == 30' "honest burst: an offer and 30 candidates sent"
cs_json "$CS_TMP/honest.out:4" 'd["ok"] and not any("too many" in str(m) for m in d.get("messages", []))' \
  "honest burst: no 'too many messages', socket open"
probe ws "$CS_URL" "paced=90:40" open:1 >"$CS_TMP/paced.out"
cs_json "$CS_TMP/paced.out:3" 'd["ok"] and not any("too many" in str(m) for m in d.get("messages", []))' \
  "90 messages at 40/s (burst 50 + 20/s): still open, no 'too many messages'"
probe ws "$CS_URL" flood=500 closed:3 >"$CS_TMP/flood.out"
cs_json "$CS_TMP/flood.out:2" 'd["closed"] and d["sent"] < 500 and any(isinstance(m, dict) and m.get("type") == "error" and "too many messages" in m.get("message", "") for m in d.get("messages", []))' \
  "flood of 500 messages: error 'too many messages', then closed before the end"
cs_wait_log "$log" "WARN .*viewer=[0-9]+( remote=[^ ]+)? too many messages .*; closing its socket" 2 ||
  cs_fail "no warn line for the flood"
[[ $(grep -c "too many messages" "$log") == 1 ]] || cs_fail "not exactly one log line for the flood"

# ---- nothing hurt ------------------------------------------------------------
cs_server_alive || cs_fail "server died"
probe http "http://$CS_SERVER_IP:$CS_PORT/" >"$CS_TMP/page_after.out"
cs_json "$CS_TMP/page_after.out" "d['status'] == 200 and d['body_sha256'] == '$index_sha'" "the page is still served"
cs_await_viewer "$viewer" viewer
cs_json "$CS_TMP/viewer.out" 'd["frames"] >= 300 and d["max_gap_ms"] <= 200' \
  "the viewer kept its frames throughout (>= 300, no gap over 200 ms)"
cs_log "viewer: $(head -c 400 "$CS_TMP/viewer.out")"
cs_pass "hostile HTTP and WebSocket input refused; server and viewer unhurt"
