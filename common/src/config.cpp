#include "cs/config.hpp"

#include "cs/recording_files.hpp"

#include <arpa/inet.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <sstream>

namespace cs {
namespace {

using Setter = std::optional<std::string> (*)(Config&, const std::string&);

struct Row {
  ConfigVariable variable;
  Setter set;  // returns what is allowed when the value is refused
};

std::optional<int> to_int(const std::string& text) {
  int value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (ec != std::errc() || ptr != end || text.empty()) return std::nullopt;
  return value;
}

template <int Min, int Max, int Config::*Field>
std::optional<std::string> set_int(Config& c, const std::string& text) {
  auto v = to_int(text);
  if (!v || *v < Min || *v > Max)
    return "an integer from " + std::to_string(Min) + " to " + std::to_string(Max);
  c.*Field = *v;
  return std::nullopt;
}

template <int Min, int Max, int Multiple, int Config::*Field>
std::optional<std::string> set_multiple_int(Config& c, const std::string& text) {
  auto v = to_int(text);
  if (!v || *v < Min || *v > Max || *v % Multiple != 0)
    return "a multiple of " + std::to_string(Multiple) + " from " + std::to_string(Min) + " to " +
           std::to_string(Max);
  c.*Field = *v;
  return std::nullopt;
}

// scheme://host[:port], as a browser sends it in Origin.
bool is_origin(std::string_view text) {
  std::string_view rest;
  if (text.rfind("http://", 0) == 0)
    rest = text.substr(7);
  else if (text.rfind("https://", 0) == 0)
    rest = text.substr(8);
  else
    return false;
  return !rest.empty() && rest.find_first_of(" /?#@,") == std::string_view::npos;
}

std::optional<std::string> set_allowed_origins(Config& c, const std::string& text) {
  c.allowed_origins.clear();
  if (text.empty()) return std::nullopt;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    if (item != "*" && !is_origin(item))
      return "* or a comma list of origins such as https://example.org:8443";
    c.allowed_origins.push_back(item);
  }
  return std::nullopt;
}

std::optional<std::string> set_auth_token(Config& c, const std::string& text) {
  if (text.empty()) return std::nullopt;
  const bool url_safe = std::all_of(text.begin(), text.end(), [](unsigned char ch) {
    return std::isalnum(ch) || ch == '-' || ch == '_' || ch == '.' || ch == '~';
  });
  if (text.size() < 16 || text.size() > 256 || !url_safe)
    return "16 to 256 characters of A-Z a-z 0-9 - _ . ~";
  c.auth_token = text;
  return std::nullopt;
}

template <std::string Config::*Field>
std::optional<std::string> set_readable_file(Config& c, const std::string& text) {
  if (text.empty()) return std::nullopt;
  if (access(text.c_str(), R_OK) != 0) return "the path of a readable PEM file";
  c.*Field = text;
  return std::nullopt;
}

bool is_ip_literal(const std::string& text) {
  unsigned char buf[16];
  return inet_pton(AF_INET, text.c_str(), buf) == 1 || inet_pton(AF_INET6, text.c_str(), buf) == 1;
}

std::optional<std::string> set_host(Config& c, const std::string& text) {
  if (text == "localhost") {
    c.host = "127.0.0.1";
    return std::nullopt;
  }
  if (!is_ip_literal(text)) return "an IPv4 or IPv6 address, or localhost";
  c.host = text;
  return std::nullopt;
}

std::optional<std::string> set_encoder(Config& c, const std::string& text) {
  if (text == "auto")
    c.encoder = EncoderChoice::auto_select;
  else if (text == "x264")
    c.encoder = EncoderChoice::x264;
  else if (text == "vaapi")
    c.encoder = EncoderChoice::vaapi;
  else if (text == "nvenc")
    c.encoder = EncoderChoice::nvenc;
  else
    return "one of auto, x264, vaapi, nvenc";
  return std::nullopt;
}

std::optional<std::string> set_render_device(Config& c, const std::string& text) {
  auto device = parse_render_device(text);
  if (!device)
    return "auto, surfaceless, an EGL device index from 0 to 63, or a render node path such as "
           "/dev/dri/renderD128";
  c.render_device = *device;
  return std::nullopt;
}

std::optional<std::string> set_control(Config& c, const std::string& text) {
  if (text == "all")
    c.control = ControlPolicy::all;
  else if (text == "none")
    c.control = ControlPolicy::none;
  else if (text == "first")
    c.control = ControlPolicy::first;
  else
    return "all, none or first";
  return std::nullopt;
}

std::optional<std::string> set_read_back(Config& c, const std::string& text) {
  if (text == "sync")
    c.read_back = ReadBackMode::sync;
  else if (text == "ring")
    c.read_back = ReadBackMode::ring;
  else
    return "sync or ring";
  return std::nullopt;
}

// host[:port] after a scheme, with no spaces or credentials.
bool is_server_uri(const std::string& text, std::initializer_list<std::string_view> schemes) {
  for (auto scheme : schemes) {
    if (text.rfind(scheme, 0) != 0) continue;
    const std::string rest = text.substr(scheme.size());
    if (rest.empty() || rest.find_first_of(" @/?#") != std::string::npos) return false;
    const auto colon = rest.rfind(':');
    if (colon != std::string::npos && rest.front() != '[') {
      auto port = to_int(rest.substr(colon + 1));
      if (!port || *port < 1 || *port > 65535 || colon == 0) return false;
    }
    return true;
  }
  return false;
}

std::optional<std::string> set_stun(Config& c, const std::string& text) {
  if (text.empty()) return std::nullopt;
  if (!is_server_uri(text, {"stun://"})) return "stun://host[:port]";
  c.stun_server = text;
  return std::nullopt;
}

// turn(s)://host[:port][?transport=udp|tcp]; turns:// is TLS over TCP.
bool is_turn_uri(const std::string& text) {
  const auto query = text.find('?');
  const std::string server = text.substr(0, query);
  if (!is_server_uri(server, {"turn://", "turns://"})) return false;
  if (query == std::string::npos) return true;
  const std::string q = text.substr(query + 1);
  return q == "transport=udp" || q == "transport=tcp";
}

std::optional<std::string> set_turn(Config& c, const std::string& text) {
  c.turn_servers.clear();
  if (text.empty()) return std::nullopt;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    if (!is_turn_uri(item))
      return "a comma list of turn://host[:port] or turns://host[:port], each optionally with "
             "?transport=udp or ?transport=tcp";
    c.turn_servers.push_back(item);
  }
  return std::nullopt;
}

// Credentials travel percent-escaped (streaming/ice_servers.hpp), so any
// printable character is fine; whitespace and control bytes are not.
bool printable_without_spaces(const std::string& text) {
  return std::all_of(text.begin(), text.end(),
                     [](unsigned char ch) { return ch > 0x20 && ch < 0x7f; });
}

template <std::string Config::*Field>
std::optional<std::string> set_credential(Config& c, const std::string& text) {
  if (!printable_without_spaces(text)) return "printable ASCII without spaces";
  c.*Field = text;
  return std::nullopt;
}

// 50000-50100: a range a container publishes as it is.
std::optional<std::string> set_port_range(Config& c, const std::string& text) {
  c.ice_port_min = c.ice_port_max = 0;
  if (text.empty()) return std::nullopt;
  const auto dash = text.find('-');
  const char* allowed = "MIN-MAX, two ports from 1024 to 65535 with MIN <= MAX";
  if (dash == std::string::npos) return allowed;
  auto min = to_int(text.substr(0, dash));
  auto max = to_int(text.substr(dash + 1));
  if (!min || !max || *min < 1024 || *max > 65535 || *min > *max) return allowed;
  c.ice_port_min = *min;
  c.ice_port_max = *max;
  return std::nullopt;
}

std::optional<std::string> set_public_ip(Config& c, const std::string& text) {
  if (text.empty()) return std::nullopt;
  if (!is_ip_literal(text)) return "an IPv4 or IPv6 address";
  c.ice_public_ip = text;
  return std::nullopt;
}

std::optional<std::string> set_ice_addresses(Config& c, const std::string& text) {
  c.ice_addresses.clear();
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    if (item.empty() || !is_ip_literal(item)) return "a comma list of IP addresses";
    c.ice_addresses.push_back(item);
  }
  return std::nullopt;
}

// A DNS name: dot-separated labels of letters, digits and '-' (not at a
// label's ends), 253 characters at most.
bool is_host_name(const std::string& text) {
  if (text.empty() || text.size() > 253) return false;
  std::stringstream in(text);
  std::string label;
  int labels = 0;
  while (std::getline(in, label, '.')) {
    ++labels;
    if (label.empty() || label.size() > 63 || label.front() == '-' || label.back() == '-')
      return false;
    if (!std::all_of(label.begin(), label.end(),
                     [](unsigned char ch) { return std::isalnum(ch) || ch == '-'; }))
      return false;
  }
  return labels > 0 && text.back() != '.';
}

// host:port or [IPv6]:port, comma separated; RTCP uses port + 1.
std::optional<std::string> set_forward_rtp(Config& c, const std::string& text) {
  c.forward_rtp.clear();
  if (text.empty()) return std::nullopt;
  const char* allowed =
      "a comma list of host:port or [IPv6]:port, host an IP address or a name, port 1 to 65534 "
      "(RTCP uses port+1)";
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    const auto colon = item.rfind(':');
    if (colon == std::string::npos || colon == 0) return allowed;
    std::string host = item.substr(0, colon);
    const auto port = to_int(item.substr(colon + 1));
    if (!port || *port < 1 || *port > 65534) return allowed;
    if (host.front() == '[') {
      if (host.size() < 3 || host.back() != ']') return allowed;
      host = host.substr(1, host.size() - 2);
      unsigned char buf[16];
      if (inet_pton(AF_INET6, host.c_str(), buf) != 1) return allowed;
    } else if (host.find(':') != std::string::npos ||
               (!is_ip_literal(host) && !is_host_name(host))) {
      return allowed;  // a bare IPv6 address: its colons are ambiguous
    }
    RtpTarget target{host, *port};
    if (std::find(c.forward_rtp.begin(), c.forward_rtp.end(), target) != c.forward_rtp.end())
      return allowed + std::string(", each once");
    c.forward_rtp.push_back(std::move(target));
  }
  if (text.back() == ',') return allowed;
  return std::nullopt;
}

std::optional<std::string> set_timecode(Config& c, const std::string& text) {
  if (text != "0" && text != "1") return "0 or 1";
  c.timecode = text == "1";
  return std::nullopt;
}

std::optional<std::string> set_spin_speed(Config& c, const std::string& text) {
  double value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc() || ptr != end || !(std::abs(value) <= kMaxSpinSpeed))
    return "a number from -8 to 8 (a multiple of the default spin; negative turns the other way)";
  c.spin_speed = static_cast<float>(value);
  return std::nullopt;
}

template <bool Config::*Field>
std::optional<std::string> set_flag(Config& c, const std::string& text) {
  if (text != "0" && text != "1") return "0 or 1";
  c.*Field = text == "1";
  return std::nullopt;
}

std::optional<std::string> set_log_level(Config& c, const std::string& text) {
  if (text == "error")
    c.log_level = log::Level::error;
  else if (text == "warn")
    c.log_level = log::Level::warn;
  else if (text == "info")
    c.log_level = log::Level::info;
  else if (text == "debug")
    c.log_level = log::Level::debug;
  else
    return "one of error, warn, info, debug";
  return std::nullopt;
}

std::optional<std::string> set_log_format(Config& c, const std::string& text) {
  if (text == "text")
    c.log_format = log::Format::text;
  else if (text == "json")
    c.log_format = log::Format::json;
  else
    return "text or json";
  return std::nullopt;
}

// Checked at start, so that a recording that can never be written stops the
// start (exit 2) instead of failing quietly later.
std::optional<std::string> set_record_path(Config& c, const std::string& text) {
  if (text.empty()) return std::nullopt;
  if (!record_container_for(text))
    return "a file name ending in .mp4 (fragmented MP4) or .mkv (Matroska)";
  const auto slash = text.rfind('/');
  const std::string dir = slash == std::string::npos ? std::string(".")
                          : slash == 0               ? "/"
                                                     : text.substr(0, slash);
  struct stat info {};
  if (stat(dir.c_str(), &info) != 0)
    return "a file in an existing directory (" + dir + ": " + std::strerror(errno) + ")";
  if (!S_ISDIR(info.st_mode)) return "a file in an existing directory (" + dir + " is not one)";
  if (access(dir.c_str(), W_OK | X_OK) != 0)
    return "a file in a directory this process may write (" + dir + ": " + std::strerror(errno) +
           ")";
  if (stat(text.c_str(), &info) == 0 && S_ISDIR(info.st_mode)) return "a file, not a directory";
  c.record_path = text;
  return std::nullopt;
}

std::optional<std::string> set_codecs(Config& c, const std::string& text) {
  c.codecs.clear();
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    std::optional<VideoCodec> codec;
    if (item == "h264") codec = VideoCodec::h264;
    if (item == "vp8") codec = VideoCodec::vp8;
    if (item == "vp9") codec = VideoCodec::vp9;
    if (!codec || std::find(c.codecs.begin(), c.codecs.end(), *codec) != c.codecs.end())
      return "a comma list of distinct codecs from h264, vp8, vp9 (best first)";
    c.codecs.push_back(*codec);
  }
  if (c.codecs.empty()) return "a comma list of distinct codecs from h264, vp8, vp9 (best first)";
  return std::nullopt;
}

// "2500,1000@640x360,400@640x360": kbit/s, falling, each with an optional size.
std::optional<std::string> set_ladder(Config& c, const std::string& text) {
  constexpr const char* kAllowed =
      "a comma list of rungs KBPS[@WIDTHxHEIGHT], top first, bitrates falling (100-100000 "
      "kbit/s; sizes even, width a multiple of 4, at least 64x64), at most 6";
  c.ladder.clear();
  if (text.empty()) return std::nullopt;  // the default, filled in by parse_config
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    LadderRung rung;
    const auto at = item.find('@');
    const auto kbps = to_int(item.substr(0, at));
    if (!kbps || *kbps < 100 || *kbps > 100000) return kAllowed;
    rung.kbps = *kbps;
    if (at != std::string::npos) {
      const std::string size = item.substr(at + 1);
      const auto x = size.find('x');
      if (x == std::string::npos) return kAllowed;
      const auto w = to_int(size.substr(0, x));
      const auto h = to_int(size.substr(x + 1));
      if (!w || !h || *w < 64 || *h < 64 || *w > 3840 || *h > 2160 || *w % 4 || *h % 2)
        return kAllowed;
      rung.width = *w;
      rung.height = *h;
    }
    if (!c.ladder.empty() && rung.kbps >= c.ladder.back().kbps) return kAllowed;
    c.ladder.push_back(rung);
  }
  if (c.ladder.empty() || c.ladder.size() > 6) return kAllowed;
  return std::nullopt;
}

const std::vector<Row>& rows() {
  static const std::vector<Row> table = {
      {{"CS_HOST", "0.0.0.0", "address the HTTP/WebSocket server binds"}, set_host},
      {{"CS_PORT", "8080", "its port"}, set_int<1, 65535, &Config::port>},
      // The NV12 read-back packs 4 luma pixels per RGBA texel: width % 4.
      {{"CS_WIDTH", "1280", "frame width in pixels (a multiple of 4)"},
       set_multiple_int<64, 3840, 4, &Config::width>},
      {{"CS_HEIGHT", "720", "frame height in pixels (even)"},
       set_multiple_int<64, 2160, 2, &Config::height>},
      {{"CS_FPS", "30", "frames per second"}, set_int<1, 120, &Config::fps>},
      {{"CS_BITRATE_KBPS", "2500", "target video bitrate in kbit/s"},
       set_int<100, 100000, &Config::bitrate_kbps>},
      {{"CS_CODECS", "h264,vp8",
        "video codecs offered to viewers, best first (h264, vp8, vp9); each gets the first its "
        "offer has"},
       set_codecs},
      {{"CS_LADDER", "",
        "quality ladder, top first: KBPS[@WxH],... (default CS_BITRATE_KBPS, then 1000 and 400 at "
        "half size); one rung = no adaptation"},
       set_ladder},
      {{"CS_ENCODER", "auto", "auto, x264, vaapi, nvenc; auto takes the best that works here"},
       set_encoder},
      {{"CS_RENDER_DEVICE", "auto",
        "EGL device that renders: auto (a GPU if one works, else Mesa's software renderer), "
        "surfaceless, a device index (0, 1, ...; --check lists them) or a render node such as "
        "/dev/dri/renderD128"},
       set_render_device},
      {{"CS_READBACK", "sync",
        "frame read-back: sync (glReadPixels each frame), or ring (pixel-pack buffers: frame N "
        "is read while N+1 draws; one frame more latency)"},
       set_read_back},
      {{"CS_STUN_SERVER", "", "STUN server, e.g. stun://host:3478"}, set_stun},
      {{"CS_TURN_SERVER", "",
        "TURN relay(s), comma list, e.g. turn://host:3478,turn://host:3478?transport=tcp"},
       set_turn},
      {{"CS_TURN_USER", "", "TURN user name (static credentials)"},
       set_credential<&Config::turn_user>},
      {{"CS_TURN_PASS", "", "TURN password (static credentials)", true},
       set_credential<&Config::turn_pass>},
      {{"CS_TURN_SECRET", "",
        "TURN REST secret (coturn static-auth-secret): short-lived credentials per viewer", true},
       set_credential<&Config::turn_secret>},
      {{"CS_TURN_CREDENTIAL_TTL", "86400", "seconds a minted TURN REST credential stays valid"},
       set_int<60, 604800, &Config::turn_credential_ttl_s>},
      {{"CS_ICE_ADDRESSES", "",
        "comma list of local addresses for ICE host candidates (default all)"},
       set_ice_addresses},
      {{"CS_ICE_PORT_RANGE", "", "UDP ports for viewers' media, MIN-MAX (default: any)"},
       set_port_range},
      {{"CS_ICE_PUBLIC_IP", "",
        "address announced in host candidates instead of the local one (1:1 NAT)"},
       set_public_ip},
      {{"CS_ICE_UPNP", "0", "let libnice map ports with UPnP (SSDP on the LAN): 1 or 0"},
       set_flag<&Config::ice_upnp>},
      {{"CS_TIMECODE", "1", "draw the timecode strip (1) or not (0)"}, set_timecode},
      {{"CS_SPIN_SPEED", "1",
        "the cube's spin at the start and after a reset, a multiple of the default (-8 to 8; 0 "
        "stands still)"},
       set_spin_speed},
      {{"CS_AUDIO", "0",
        "send the scene's sound (a tone that follows the spin, a click each full turn) as Opus "
        "to viewers whose offer has audio: 1 or 0"},
       set_flag<&Config::audio>},
      {{"CS_CONTROL", "all",
        "who may steer the cube over the control data channel: all, none (view-only), or first "
        "(the longest-connected viewer)"},
       set_control},
      {{"CS_MAX_VIEWERS", "32", "viewers at once; the next gets an error and is closed"},
       set_int<1, 1000, &Config::max_viewers>},
      {{"CS_NACK", "1", "retransmit lost packets a viewer asks for (NACK/RTX): 1 or 0"},
       set_flag<&Config::nack>},
      {{"CS_RTX_COPIES", "2", "copies of each retransmission (1 or 2)"},
       set_int<1, 2, &Config::rtx_copies>},
      {{"CS_FEC_PERCENT", "0", "forward error correction (ULPFEC) overhead in %; 0 = off"},
       set_int<0, 100, &Config::fec_percent>},
      {{"CS_KEYFRAME_INTERVAL", "0", "frames between periodic keyframes; 0 = one a second"},
       set_int<0, 3600, &Config::keyframe_interval_frames>},
      {{"CS_MAX_PER_IP", "8",
        "WebSockets open at once from one client address; the next is refused; 0 = no limit"},
       set_int<0, 10000, &Config::max_per_ip>},
      {{"CS_NEGOTIATION_TIMEOUT", "30",
        "seconds from a viewer's socket opening to its media connecting, or it is closed"},
       set_int<1, 600, &Config::negotiation_timeout_s>},
      {{"CS_ALLOWED_ORIGINS", "",
        "origins whose pages may open /ws (comma list, or *); default: the server's own"},
       set_allowed_origins},
      {{"CS_AUTH_TOKEN", "", "when set, every request needs it (Authorization: Bearer, or ?token=)",
        true},
       set_auth_token},
      {{"CS_TLS_CERT", "", "PEM certificate (chain): serve HTTPS and WSS on the same port"},
       set_readable_file<&Config::tls_cert>},
      {{"CS_TLS_KEY", "", "PEM private key for CS_TLS_CERT"}, set_readable_file<&Config::tls_key>},
      {{"CS_LOG_LEVEL", "info", "error, warn, info, debug"}, set_log_level},
      {{"CS_LOG_FORMAT", "text", "text, or json: one JSON object a line for log collectors"},
       set_log_format},
      {{"CS_RECORD_PATH", "",
        "also write the stream to this .mp4 (fragmented) or .mkv file, viewers or not"},
       set_record_path},
      {{"CS_RECORD_SEGMENT_S", "0",
        "with CS_RECORD_PATH: a new timestamped file every N seconds; 0 = one file"},
       set_int<0, 86400, &Config::record_segment_s>},
      {{"CS_FORWARD_RTP", "",
        "also send the top H.264 rung as RTP to host:port[,host:port...] (e.g. Janus), RTCP on "
        "port+1, viewers or not"},
       set_forward_rtp},
  };
  return table;
}

std::string flag_for(std::string_view variable) {
  std::string flag = "--";
  for (char ch : variable.substr(3)) flag += ch == '_' ? '-' : static_cast<char>(std::tolower(ch));
  return flag;
}

}  // namespace

const std::vector<ConfigVariable>& config_variables() {
  static const std::vector<ConfigVariable> vars = [] {
    std::vector<ConfigVariable> out;
    for (const auto& row : rows()) out.push_back(row.variable);
    return out;
  }();
  return vars;
}

ConfigResult parse_config(const EnvLookup& lookup) {
  Config config;
  for (const auto& row : rows()) {
    auto value = lookup(row.variable.name);
    if (!value) continue;
    if (auto allowed = row.set(config, *value)) {
      const std::string shown = row.variable.secret ? "(hidden)" : "'" + *value + "'";
      return {std::nullopt,
              std::string(row.variable.name) + "=" + shown + " is invalid: expected " + *allowed};
    }
  }
  const bool static_credentials = !config.turn_user.empty() || !config.turn_pass.empty();
  if (config.turn_servers.empty() && (static_credentials || !config.turn_secret.empty()))
    return {std::nullopt,
            "CS_TURN_USER/CS_TURN_PASS/CS_TURN_SECRET are set but CS_TURN_SERVER is not"};
  if (static_credentials && !config.turn_secret.empty())
    return {std::nullopt, "CS_TURN_SECRET and CS_TURN_USER/CS_TURN_PASS exclude each other"};
  if (config.tls_cert.empty() != config.tls_key.empty())
    return {std::nullopt, "CS_TLS_CERT and CS_TLS_KEY must be set together"};
  if (config.record_segment_s > 0 && config.record_path.empty())
    return {std::nullopt, "CS_RECORD_SEGMENT_S is set but CS_RECORD_PATH is not"};
  if (config.ladder.empty())
    config.ladder = default_ladder(config.bitrate_kbps, config.width, config.height);
  for (const auto& rung : config.ladder)
    if (rung.width > config.width || rung.height > config.height)
      return {std::nullopt, "CS_LADDER: a rung's size " + std::to_string(rung.width) + "x" +
                                std::to_string(rung.height) + " is larger than the frame (" +
                                std::to_string(config.width) + "x" + std::to_string(config.height) +
                                ")"};
  return {config, {}};
}

CommandLine parse_command_line(int argc, char** argv, const std::vector<std::string>& app_flags) {
  CommandLine out;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg == "-h" || arg == "--help") {
      out.help = true;
      continue;
    }
    if (std::find(app_flags.begin(), app_flags.end(), arg) != app_flags.end()) {
      out.other_flags.push_back(arg);
      continue;
    }
    std::string value;
    bool has_value = false;
    if (auto eq = arg.find('='); eq != std::string::npos) {
      value = arg.substr(eq + 1);
      arg = arg.substr(0, eq);
      has_value = true;
    }
    const auto& vars = config_variables();
    auto it = std::find_if(vars.begin(), vars.end(),
                           [&](const ConfigVariable& v) { return flag_for(v.name) == arg; });
    if (it == vars.end()) {
      out.error = "unknown option '" + arg + "' (see --help)";
      return out;
    }
    if (!has_value) {
      if (i + 1 >= argc) {
        out.error = "option '" + arg + "' needs a value";
        return out;
      }
      value = argv[++i];
    }
    out.overrides.emplace_back(it->name, value);
  }
  return out;
}

EnvLookup environment_with(const CommandLine& command_line) {
  return [overrides = command_line.overrides](std::string_view name) -> std::optional<std::string> {
    for (auto it = overrides.rbegin(); it != overrides.rend(); ++it)
      if (it->first == name) return it->second;
    if (const char* v = std::getenv(std::string(name).c_str())) return std::string(v);
    return std::nullopt;
  };
}

std::string config_help() {
  std::ostringstream out;
  out << "Usage: cube-streamer [options]\n\nEvery option is also an environment variable:\n\n";
  for (const auto& v : config_variables()) {
    std::string flag = flag_for(v.name);
    out << "  " << flag << std::string(flag.size() < 20 ? 20 - flag.size() : 1, ' ') << v.name
        << " (default: " << (*v.default_value ? v.default_value : "none") << ")\n"
        << "                      " << v.meaning << "\n";
  }
  out << "\nOther options:\n\n"
         "  --check             check this host (EGL devices, encoders, one frame rendered and\n"
         "                      encoded, GStreamer plugins); exit 0 when ready, else 1\n"
         "  --version           print the version (and GStreamer's) and exit\n"
         "  --help, -h          print this help and exit\n"
         "  --baseline          serve the seed design (one whole pipeline per viewer) for "
         "comparison\n";
  return out.str();
}

std::optional<RenderDevice> parse_render_device(std::string_view text) {
  RenderDevice device;
  if (text == "auto") return device;
  if (text == "surfaceless") {
    device.kind = RenderDevice::Kind::surfaceless;
    return device;
  }
  constexpr std::string_view kNodePrefix = "/dev/dri/";
  if (text.rfind(kNodePrefix, 0) == 0) {
    const std::string_view name = text.substr(kNodePrefix.size());
    if (name.empty() || name.find_first_of("/ ") != std::string_view::npos) return std::nullopt;
    device.kind = RenderDevice::Kind::render_node;
    device.path = std::string(text);
    return device;
  }
  auto index = to_int(std::string(text));
  // Digits only: no sign, no spaces (from_chars takes a leading '-').
  if (!index || text.front() == '-' || *index > 63) return std::nullopt;
  device.kind = RenderDevice::Kind::index;
  device.index = *index;
  return device;
}

std::string to_string(ControlPolicy policy) {
  switch (policy) {
    case ControlPolicy::all:
      return "all";
    case ControlPolicy::none:
      return "none";
    case ControlPolicy::first:
      return "first";
  }
  return "all";
}

std::string to_string(const RenderDevice& device) {
  switch (device.kind) {
    case RenderDevice::Kind::auto_select:
      return "auto";
    case RenderDevice::Kind::surfaceless:
      return "surfaceless";
    case RenderDevice::Kind::index:
      return std::to_string(device.index);
    case RenderDevice::Kind::render_node:
      return device.path;
  }
  return "?";
}

std::string_view to_string(EncoderChoice choice) {
  switch (choice) {
    case EncoderChoice::auto_select:
      return "auto";
    case EncoderChoice::x264:
      return "x264";
    case EncoderChoice::vaapi:
      return "vaapi";
    case EncoderChoice::nvenc:
      return "nvenc";
  }
  return "?";
}

std::string_view to_string(VideoCodec codec) {
  switch (codec) {
    case VideoCodec::h264:
      return "H264";
    case VideoCodec::vp8:
      return "VP8";
    case VideoCodec::vp9:
      return "VP9";
  }
  return "?";
}

std::vector<LadderRung> default_ladder(int bitrate_kbps, int width, int height) {
  std::vector<LadderRung> ladder{{bitrate_kbps, 0, 0}};
  // Half the size, rounded down to what the encoders take (width % 4, even height).
  const int half_w = width / 2 / 4 * 4, half_h = height / 2 / 2 * 2;
  for (const int kbps : {1000, 400})
    if (kbps < ladder.back().kbps && half_w >= 64 && half_h >= 64)
      ladder.push_back({kbps, half_w, half_h});
  return ladder;
}

}  // namespace cs
