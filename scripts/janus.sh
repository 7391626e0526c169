#!/usr/bin/env bash
# Starts Debian's Janus (package `janus`, 1.1.2) as a fan-out node for
# cube-streamer: a generated minimal configuration (Streaming plugin and HTTP
# transport only) with one H.264 RTP mountpoint (id 1) that a server started
# with CS_FORWARD_RTP=ADDRESS:RTP_PORT feeds. Viewers use the Janus HTTP API
# (create, attach janus.plugin.streaming, {"request":"watch","id":1},
# answer with {"request":"start"}).
#
#   scripts/janus.sh --interface 10.0.0.5 [--http-address 10.0.0.5] [--http-port 8088]
#                    [--rtp-address 10.0.0.5] [--rtp-port 5004] [--port-range 20000-20999]
#                    [--config-dir DIR] [--debug-level 0..7] [--print-config]
#
# --interface: the address Janus gathers ICE candidates on and puts in its SDP
#   (Janus skips loopback; a list that matches nothing gathers on every
#   interface, so give an address that exists). Required.
# --rtp-port: the mountpoint's RTP port; RTCP (keyframe requests back to the
#   server) is on RTP_PORT+1. --rtp-address: where those two bind (default:
#   the interface).
# --port-range: the viewers' media ports, one per viewer: its size caps the
#   audience of this node.
# --config-dir: where the configuration is written (default: a new temporary
#   directory, removed when Janus exits). --print-config writes it and prints
#   the directory instead of starting Janus.
# Janus runs in the foreground (exec): stop it with SIGTERM/SIGINT.
set -euo pipefail

interface="" http_address="" http_port=8088 rtp_address="" rtp_port=5004
port_range="20000-20999" config_dir="" debug_level=4 print_only=0
usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//' >&2; exit 2; }
while (($#)); do
  case "$1" in
    --interface) interface="${2:?}"; shift 2 ;;
    --http-address) http_address="${2:?}"; shift 2 ;;
    --http-port) http_port="${2:?}"; shift 2 ;;
    --rtp-address) rtp_address="${2:?}"; shift 2 ;;
    --rtp-port) rtp_port="${2:?}"; shift 2 ;;
    --port-range) port_range="${2:?}"; shift 2 ;;
    --config-dir) config_dir="${2:?}"; shift 2 ;;
    --debug-level) debug_level="${2:?}"; shift 2 ;;
    --print-config) print_only=1; shift ;;
    -h | --help) usage ;;
    *) echo "janus.sh: unknown option $1" >&2; usage ;;
  esac
done
fail() { echo "janus.sh: $*" >&2; exit 2; }
[[ -n "$interface" ]] || fail "--interface ADDRESS is required (Janus gathers ICE candidates there)"
is_port() { [[ "$1" =~ ^[0-9]+$ ]] && (($1 >= 1 && $1 <= 65535)); }
is_port "$http_port" || fail "--http-port: '$http_port' is not a port"
is_port "$rtp_port" && ((rtp_port < 65535)) || fail "--rtp-port: '$rtp_port' (RTCP is on +1)"
range_min="${port_range%%-*}" range_max="${port_range#*-}"
[[ "$port_range" == *-* ]] && is_port "$range_min" && is_port "$range_max" &&
  ((range_min <= range_max)) || fail "--port-range: '$port_range' is not MIN-MAX"
[[ "$debug_level" =~ ^[0-7]$ ]] || fail "--debug-level: 0 to 7"
http_address="${http_address:-$interface}"
rtp_address="${rtp_address:-$interface}"
command -v janus >/dev/null || fail "no janus binary (apt-get install janus)"

lib_dir="$(dirname "$(dpkg -L janus 2>/dev/null | grep -m1 '/janus/plugins/libjanus_streaming.so$')")"
[[ -d "$lib_dir" ]] || lib_dir=/usr/lib/x86_64-linux-gnu/janus/plugins
janus_lib="$(dirname "$lib_dir")"
# Every plugin and transport but the two used here stays unloaded (~70 ms start).
others() {
  local keep="$1" dir="$2" list="" f
  for f in "$dir"/libjanus_*.so; do
    [[ "$(basename "$f")" == "$keep" ]] || list+="${list:+,}$(basename "$f")"
  done
  echo "$list"
}

temporary=0
if [[ -z "$config_dir" ]]; then
  config_dir="$(mktemp -d /tmp/janus-conf.XXXXXX)"
  temporary=1
fi
mkdir -p "$config_dir"

cat >"$config_dir/janus.jcfg" <<CFG
general: {
	configs_folder = "$config_dir"
	plugins_folder = "$janus_lib/plugins"
	transports_folder = "$janus_lib/transports"
	events_folder = "$janus_lib/events"
	loggers_folder = "$janus_lib/loggers"
	debug_level = $debug_level
	debug_colors = false
	debug_timestamps = true
	interface = "$interface"
	server_name = "cube-streamer-fanout"
	session_timeout = 60
}
media: {
	rtp_port_range = "$port_range"
}
nat: {
	ice_enforce_list = "$interface"
}
plugins: {
	disable = "$(others libjanus_streaming.so "$janus_lib/plugins")"
}
transports: {
	disable = "$(others libjanus_http.so "$janus_lib/transports")"
}
loggers: {
	disable = "$(others none "$janus_lib/loggers")"
}
events: {
	broadcast = false
}
CFG

cat >"$config_dir/janus.transport.http.jcfg" <<CFG
general: {
	base_path = "/janus"
	http = true
	ip = "$http_address"
	port = $http_port
	https = false
}
admin: {
	admin_http = false
	admin_https = false
}
cors: {
}
CFG

cat >"$config_dir/janus.plugin.streaming.jcfg" <<CFG
general: {
}
cube: {
	type = "rtp"
	id = 1
	description = "cube-streamer"
	video = true
	videoiface = "$rtp_address"
	videoport = $rtp_port
	videortcpport = $((rtp_port + 1))
	videopt = 96
	videocodec = "h264"
	videofmtp = "profile-level-id=42e01f;packetization-mode=1"
	# Negotiates the playout-delay extension, so that a viewer may ask for
	# none ("configure" with min_delay/max_delay 0) as the server's own do.
	playoutdelay_ext = true
}
CFG

if ((print_only)); then
  echo "$config_dir"
  exit 0
fi
echo "janus.sh: config in $config_dir; HTTP API http://$http_address:$http_port/janus," \
  "mountpoint 1 takes RTP on $rtp_address:$rtp_port (RTCP $((rtp_port + 1)))," \
  "viewers on $interface ports $port_range" >&2
if ((temporary)); then
  # Not exec: the temporary directory goes when Janus does.
  trap 'kill -TERM "$pid" 2>/dev/null' TERM INT
  janus -F "$config_dir" -C "$config_dir/janus.jcfg" &
  pid=$!
  status=0
  wait "$pid" || status=$?
  wait "$pid" 2>/dev/null || true
  rm -rf "$config_dir"
  exit "$status"
fi
exec janus -F "$config_dir" -C "$config_dir/janus.jcfg"
