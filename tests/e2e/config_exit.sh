#!/usr/bin/env bash
# Start-up configuration and shutdown (no namespace, loopback only):
# a value that does not parse or is out of range exits 2 with one stderr line
# naming the variable and the value; --help exits 0 and lists every CS_
# variable of env.example with its flag and the default env.example gives;
# --version exits 0 with the project version of CMakeLists.txt; a flag wins
# over the same variable in the environment; SIGTERM to a running server
# exits 0 within 5 s.
# Usage: config_exit.sh [BUILD_DIR]
set -u
here="$(dirname "$(readlink -f "$0")")"
source "$here/netns.sh"
cs_setup_loopback config "${1:-/work/main/build}"
env_example="$here/../../env.example"
[[ -f "$env_example" ]] || { echo "no env.example at $env_example" >&2; exit 1; }

# --- bad values: exit 2, one line naming variable and value -----------------
# CS_WIDTH=1282 is even but the NV12 read-back needs a multiple of 4: refused
# here, not at renderer start with exit 1.
for bad in CS_PORT=abc CS_ENCODER=h265 CS_WIDTH=1281 CS_WIDTH=1282 CS_NEGOTIATION_TIMEOUT=0; do
  var="${bad%%=*}" value="${bad#*=}"
  timeout 10 env "$bad" "$CS_SERVER_BIN" >"$CS_TMP/bad.out" 2>"$CS_TMP/bad.err"
  rc=$?
  [[ $rc -eq 2 ]] || cs_fail "$bad: exit status $rc, expected 2"
  lines=$(grep -c '' "$CS_TMP/bad.err")
  [[ $lines -eq 1 ]] || cs_fail "$bad: $lines lines on stderr, expected 1: $(cat "$CS_TMP/bad.err")"
  grep -q -- "$var" "$CS_TMP/bad.err" || cs_fail "$bad: stderr does not name $var: $(cat "$CS_TMP/bad.err")"
  grep -qF -- "$value" "$CS_TMP/bad.err" ||
    cs_fail "$bad: stderr does not name the value '$value': $(cat "$CS_TMP/bad.err")"
  cs_log "ok: $bad exits 2: $(cat "$CS_TMP/bad.err")"
done

# With CS_LOG_FORMAT=json the refusal is one JSON object too.
timeout 10 env CS_LOG_FORMAT=json CS_PORT=abc "$CS_SERVER_BIN" >"$CS_TMP/bad.out" 2>"$CS_TMP/bad.err"
rc=$?
[[ $rc -eq 2 ]] || cs_fail "CS_LOG_FORMAT=json CS_PORT=abc: exit status $rc, expected 2"
cs_json "$CS_TMP/bad.err" 'd["level"] == "error" and "CS_PORT=" in d["msg"] and "abc" in d["msg"]' \
  "CS_LOG_FORMAT=json: the configuration error is one JSON line"
[[ $(grep -c '' "$CS_TMP/bad.err") -eq 1 ]] || cs_fail "CS_LOG_FORMAT=json: more than one line"

# --- --help --------------------------------------------------------------------
timeout 10 "$CS_SERVER_BIN" --help >"$CS_TMP/help.out" 2>"$CS_TMP/help.err"
rc=$?
[[ $rc -eq 0 ]] || cs_fail "--help: exit status $rc, expected 0"
vars=$(grep -oE '^#? *CS_[A-Z0-9_]+=' "$env_example" | grep -oE 'CS_[A-Z0-9_]+' | sort -u)
[[ $(wc -w <<<"$vars") -ge 10 ]] || cs_fail "env.example lists too few CS_ variables: $vars"
for var in $vars; do
  grep -qw -- "$var" "$CS_TMP/help.out" "$CS_TMP/help.err" || cs_fail "--help does not list $var"
done
# Each variable on one line with its flag and env.example's default.
while IFS='=' read -r var value; do
  flag="--$(tr 'A-Z_' 'a-z-' <<<"${var#CS_}")"
  shown="${value:-none}"
  grep -qE -- "^  $flag +$var \(default: ${shown//./\\.}\)$" "$CS_TMP/help.out" ||
    cs_fail "--help: no line '  $flag $var (default: $shown)': $(grep -w -- "$var" "$CS_TMP/help.out")"
done < <(grep -E '^CS_[A-Z0-9_]+=' "$env_example")
cs_log "ok: --help exits 0 and lists all $(wc -w <<<"$vars") variables of env.example with flag and default"

# --- --version -------------------------------------------------------------------
project_version=$(grep -oE 'project\(cube_streamer VERSION [0-9.]+' "$here/../../CMakeLists.txt" | grep -oE '[0-9.]+$')
timeout 10 "$CS_SERVER_BIN" --version >"$CS_TMP/version.out" 2>"$CS_TMP/version.err"
rc=$?
[[ $rc -eq 0 ]] || cs_fail "--version: exit status $rc, expected 0"
version_re="^cube-streamer ${project_version//./\\.}( \(git [0-9a-f]{7,}(-dirty)?\))? GStreamer [0-9]+\.[0-9]+\.[0-9]+$"
[[ $(grep -c '' "$CS_TMP/version.out") -eq 1 ]] && grep -qE "$version_re" "$CS_TMP/version.out" ||
  cs_fail "--version printed '$(cat "$CS_TMP/version.out")', expected $version_re"
cs_log "ok: --version: $(cat "$CS_TMP/version.out")"

# --- SIGTERM -------------------------------------------------------------------
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
# CS_PORT in the environment is refused (exit 2) unless the flag wins.
CS_HOST=127.0.0.1 CS_PORT=not-a-port CS_ICE_ADDRESSES=127.0.0.1 "$CS_SERVER_BIN" --port "$port" \
  >"$CS_TMP/server.out" 2>"$CS_TMP/server.err" &
server=$!
CS_PIDS+=("$server")
deadline=$(( $(cs_now_ms) + 30000 ))
until bash -c "exec 3<>/dev/tcp/127.0.0.1/$port" 2>/dev/null; do
  kill -0 "$server" 2>/dev/null || cs_fail "server exited before opening 127.0.0.1:$port"
  (( $(cs_now_ms) < deadline )) || cs_fail "server did not open 127.0.0.1:$port within 30 s"
  sleep 0.05
done
cs_log "server up on 127.0.0.1:$port (pid $server): --port won over CS_PORT=not-a-port"
# One viewer (hand-made offer; its media never connects) holds a socket open.
python3 "$here/wsprobe.py" ws "ws://127.0.0.1:$port/ws" offer expect=answer:5 closed:20 \
  >"$CS_TMP/probe.out" 2>"$CS_TMP/probe.err" &
probe=$!
CS_PIDS+=("$probe")
cs_wait_log "$CS_TMP/probe.out" '"want": "answer"' 10 || cs_fail "no answer to the probe's offer"
t0=$(cs_now_ms)
kill -TERM "$server"
cs_wait_pid "$server" 5 || cs_fail "server still running 5 s after SIGTERM"
wait "$server"
rc=$?
cs_log "server exited with status $rc $(( $(cs_now_ms) - t0 )) ms after SIGTERM"
[[ $rc -eq 0 ]] || cs_fail "exit status $rc after SIGTERM, expected 0"
cs_wait_pid "$probe" 5 || cs_fail "probe still running 5 s after the server stopped"
cs_json "$CS_TMP/probe.out:3" 'd["ok"] and d["msg"]["type"] == "answer"' "probe had its answer"
cs_json "$CS_TMP/probe.out:4" 'd["ok"] and d["closed"]' "the viewer's socket was closed at shutdown"
cs_pass "configuration errors, --help and SIGTERM"
