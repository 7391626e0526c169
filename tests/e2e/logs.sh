#!/usr/bin/env bash
# The server's log, with one real viewer (cs-test-viewer) in a namespace:
# (1) CS_LOG_FORMAT=json with GST_DEBUG=webrtcbin:4: every line of ours is one
#     JSON object with an ISO 8601 UTC time, a level and msg, the viewer's
#     lines carry "viewer" (its id) and "remote" (the viewer's address: a
#     probe connecting from the client address has that; cs-test-viewer,
#     which cannot pick its source, comes from the server address, as both
#     ends are in one namespace); GStreamer's own webrtcbin lines reach
#     stderr too (GST_DEBUG passes).
# (2) text at CS_LOG_LEVEL=debug: "TIME LEVEL viewer=N remote=ADDR ..." and
#     DEBUG lines; without GST_DEBUG no GStreamer line.
# (3) CS_LOG_LEVEL=warn: no INFO or DEBUG line, WARN lines still come.
# Usage: logs.sh [BUILD_DIR]
set -u
source "$(dirname "$(readlink -f "$0")")/netns.sh"
cs_setup logs "${1:-/work/main/build}"
client_re="${CS_CLIENT_IP//./\\.}"
time_re='[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z'

# A socket from the client address offers (hand-made offer: it gets an
# answer, its media never connects) and closes; then one real viewer watches
# for 3 s; then the server stops. Its stderr is kept as NAME.log.
watch_once() {
  local name="$1"
  cs_ns python3 "$CS_E2E_DIR/wsprobe.py" --source "$CS_CLIENT_IP" ws "$CS_URL" offer expect=answer:5 \
    close >"$CS_TMP/$name-probe.out" 2>&1 || cs_fail "$name: the probe had no answer"
  cs_start_bg "$name-viewer" "$CS_VIEWER" --url "$CS_URL" --duration 3
  cs_await_viewer "$CS_LAST_PID" "$name viewer"
  cs_json "$CS_TMP/$name-viewer.out" 'd["frames"] >= 10' "$name: the viewer got frames"
  cs_stop_server
  cp "$CS_TMP/server.err" "$CS_TMP/$name.log"
}

# --- (1) JSON, with GStreamer's own debug lines mixed in ---------------------------
cs_start_server CS_LOG_FORMAT=json CS_LOG_LEVEL=debug GST_DEBUG=webrtcbin:4 GST_DEBUG_NO_COLOR=1
watch_once json
python3 - "$CS_TMP/json.log" "$CS_CLIENT_IP" "$CS_SERVER_IP" "$time_re" <<'PY' || cs_fail "JSON log lines (above)"
import json, re, sys
path, client, server, time_re = sys.argv[1:5]
remotes = {}  # viewer id -> the remotes its lines name
connected = set()  # viewers whose peer connection connected
ours = viewer_lines = gst = 0
levels = set()
for n, line in enumerate(open(path, errors="replace"), 1):
    line = line.rstrip("\n")
    if not line.startswith("{"):
        # Not ours: then GStreamer's (or libnice's) own format, never our text form.
        if re.match(time_re, line):
            sys.exit(f"line {n} is our text format in JSON mode: {line}")
        if " webrtcbin " in line or "gstwebrtcbin.c" in line:
            gst += 1
        continue
    try:
        d = json.loads(line)
    except ValueError as e:
        sys.exit(f"line {n} is not JSON ({e}): {line}")
    ours += 1
    if not isinstance(d, dict) or not {"time", "level", "msg"} <= d.keys():
        sys.exit(f"line {n} lacks time/level/msg: {line}")
    if not re.fullmatch(time_re, d["time"]) or d["level"] not in ("error", "warn", "info", "debug"):
        sys.exit(f"line {n}: bad time or level: {line}")
    levels.add(d["level"])
    if "viewer" in d:
        if not isinstance(d["viewer"], int) or d.get("remote") not in (client, server):
            sys.exit(f"line {n}: viewer {d.get('viewer')!r} with remote {d.get('remote')!r}: {line}")
        remotes.setdefault(d["viewer"], set()).add(d["remote"])
        if d["msg"] == "peer connection connected":
            connected.add(d["viewer"])
        viewer_lines += 1
    if re.search(r"offer received|peer connection connected|removed \(", d["msg"]) and "viewer" not in d:
        sys.exit(f"line {n}: a viewer's line without the viewer: {line}")
need = [("offer received", 1), ("peer connection connected", 1), ("removed (", 1)]
for text, count in need:
    found = [l for l in open(path, errors="replace") if l.startswith("{") and text in json.loads(l)["msg"]]
    if len(found) < count:
        sys.exit(f"no JSON line with {text!r}")
if ours < 5 or viewer_lines < 3 or not {"info", "debug"} <= levels:
    sys.exit(f"too few of our lines: {ours} ours, {viewer_lines} about the viewer, levels {levels}")
if len(remotes) != 2 or any(len(r) != 1 for r in remotes.values()):
    sys.exit(f"expected two viewers, each with one remote: {remotes}")
by_remote = {next(iter(r)): v for v, r in remotes.items()}
if set(by_remote) != {client, server}:
    sys.exit(f"expected one viewer from {client} (the probe) and one from {server}: {remotes}")
if connected != {by_remote[server]}:
    sys.exit(f"the real viewer (from {server}) should be the one that connected: {connected}")
if gst == 0:
    sys.exit("GST_DEBUG=webrtcbin:4 produced no GStreamer webrtcbin line")
print(f"{ours} JSON lines of ours, {viewer_lines} with viewer and remote {remotes}, {gst} GStreamer webrtcbin lines")
PY
cs_log "ok: json: $(grep -m1 'offer received' "$CS_TMP/json.log")"

# --- (2) text at debug ---------------------------------------------------------------------
cs_start_server CS_LOG_LEVEL=debug
watch_once text
server_re="${CS_SERVER_IP//./\\.}"
for what in "offer received" "removed \\("; do
  grep -qE "^$time_re (INFO |DEBUG|WARN |ERROR) viewer=[0-9]+ remote=$client_re $what" "$CS_TMP/text.log" ||
    cs_fail "text: no line 'TIME LEVEL viewer=N remote=$CS_CLIENT_IP $what' (the probe)"
done
grep -qE "^$time_re INFO  viewer=[0-9]+ remote=$server_re peer connection connected" "$CS_TMP/text.log" ||
  cs_fail "text: no line 'TIME INFO  viewer=N remote=$CS_SERVER_IP peer connection connected'"
grep -qE "^$time_re DEBUG " "$CS_TMP/text.log" || cs_fail "text: no DEBUG line at CS_LOG_LEVEL=debug"
grep -qE "^$time_re INFO  cube-streamer ready" "$CS_TMP/text.log" || cs_fail "text: no ready line"
grep -qE 'gstwebrtcbin\.c' "$CS_TMP/text.log" && cs_fail "text: GStreamer debug lines without GST_DEBUG"
cs_log "ok: text: $(grep -m1 'offer received' "$CS_TMP/text.log")"

# --- (3) CS_LOG_LEVEL=warn ---------------------------------------------------------------
cs_start_server CS_LOG_LEVEL=warn
# A request for a file that does not exist: one WARN line naming the cause.
cs_ns curl -s -o /dev/null --max-time 2 "http://$CS_SERVER_IP:$CS_PORT/nope"
watch_once warn
grep -qE "^$time_re WARN  .*no such file -> 404" "$CS_TMP/warn.log" || cs_fail "warn: the 404's WARN line is missing"
grep -qE "^$time_re (INFO |DEBUG)" "$CS_TMP/warn.log" &&
  cs_fail "warn: INFO/DEBUG lines at CS_LOG_LEVEL=warn: $(grep -m1 -E "^$time_re (INFO |DEBUG)" "$CS_TMP/warn.log")"
cs_log "ok: warn: $(grep -c '' "$CS_TMP/warn.log") line(s): $(head -n1 "$CS_TMP/warn.log")"
cs_pass "log formats, fields, levels and GST_DEBUG"
