#!/usr/bin/env bash
# Sockets that never complete an HTTP request or WebSocket upgrade are
# dropped by the server (lws timeouts, 5 s here), while a request sent slowly
# but completely within that time is still served, and the page and /ws work
# alongside. Usage: idle_sockets.sh [BUILD_DIR]
set -u
source "$(dirname "$(readlink -f "$0")")/netns.sh"
cs_setup idle "${1:-/work/main/build}"
cs_start_server
probe_py="$(dirname "$(readlink -f "$0")")/wsprobe.py"

# One JSON line per socket: when the server closed it and what it answered.
cat >"$CS_TMP/idle.py" <<'PY'
import json, socket, sys, threading, time
host, port = sys.argv[1], int(sys.argv[2])
cases = {
    "silent": [],
    "half_request": [b"GET / HTTP/1.1\r\nHost: x\r\n"],
    "half_upgrade": [b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"],
    # Complete after 2 s, in four pieces: a slow client, still served.
    "slow_request": [b"GET / HT", b"TP/1.1\r\nHo", b"st: x\r\nConnection: cl", b"ose\r\n\r\n"],
}
results = {}
def run(name, parts):
    s = socket.create_connection((host, port))
    t0 = time.monotonic()
    for i, part in enumerate(parts):
        if i and name == "slow_request":
            time.sleep(0.66)
        s.sendall(part)
    s.settimeout(30)
    data = b""
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
    except OSError as e:
        data += f"[{e}]".encode()
    status = data.split(b"\r\n", 1)[0].decode("latin-1") if data else ""
    results[name] = {"closed_after_s": round(time.monotonic() - t0, 2), "status": status,
                     "bytes": len(data)}
threads = [threading.Thread(target=run, args=c) for c in cases.items()]
for t in threads: t.start()
for t in threads: t.join()
print(json.dumps(results), flush=True)
PY
cs_start_bg idle python3 "$CS_TMP/idle.py" "$CS_SERVER_IP" "$CS_PORT"
idle=$CS_LAST_PID

# Meanwhile the page, /stats and a signaling exchange work.
cs_ns python3 "$probe_py" http "http://$CS_SERVER_IP:$CS_PORT/" >"$CS_TMP/page.out"
cs_json "$CS_TMP/page.out" 'd["status"] == 200 and d["content_type"].startswith("text/html")' "page loads"
cs_ns python3 "$probe_py" ws "$CS_URL" offer expect=answer:10 close >"$CS_TMP/ws.out"
cs_json "$CS_TMP/ws.out:2" 'd["ok"]' "an offer on /ws gets its answer"

cs_wait_pid "$idle" 20 || cs_fail "idle sockets still open 20 s later"
out="$CS_TMP/idle.out"
for c in silent half_request half_upgrade; do
  cs_json "$out" "d['$c']['closed_after_s'] <= 7 and d['$c']['bytes'] == 0" \
    "$c: closed within 7 s (lws's own default: 10 s), nothing served"
done
cs_json "$out" 'd["slow_request"]["status"] == "HTTP/1.1 200 OK"' "slow but complete request served"
cs_log "idle: $(head -n1 "$out")"
cs_server_alive || cs_fail "server died"
cs_pass "incomplete requests are dropped; slow complete ones and the page are served"
