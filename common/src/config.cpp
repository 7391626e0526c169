#include "cs/config.hpp"

#include <arpa/inet.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>
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

std::optional<std::string> set_turn(Config& c, const std::string& text) {
  if (text.empty()) return std::nullopt;
  if (!is_server_uri(text, {"turn://", "turns://"}))
    return "turn://host[:port] or turns://host[:port]";
  c.turn_server = text;
  return std::nullopt;
}

std::optional<std::string> set_turn_user(Config& c, const std::string& text) {
  if (text.find_first_of(":@/ ") != std::string::npos) return "a user name without : @ / or spaces";
  c.turn_user = text;
  return std::nullopt;
}

std::optional<std::string> set_turn_pass(Config& c, const std::string& text) {
  if (text.find_first_of("@/ ") != std::string::npos) return "a password without @ / or spaces";
  c.turn_pass = text;
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

std::optional<std::string> set_timecode(Config& c, const std::string& text) {
  if (text != "0" && text != "1") return "0 or 1";
  c.timecode = text == "1";
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
      {{"CS_ENCODER", "auto", "auto, x264, vaapi, nvenc; auto takes the best that works here"},
       set_encoder},
      {{"CS_STUN_SERVER", "", "STUN server, e.g. stun://host:3478"}, set_stun},
      {{"CS_TURN_SERVER", "", "TURN relay, e.g. turn://host:3478"}, set_turn},
      {{"CS_TURN_USER", "", "TURN user name"}, set_turn_user},
      {{"CS_TURN_PASS", "", "TURN password", true}, set_turn_pass},
      {{"CS_ICE_ADDRESSES", "",
        "comma list of local addresses for ICE host candidates (default all)"},
       set_ice_addresses},
      {{"CS_TIMECODE", "1", "draw the timecode strip (1) or not (0)"}, set_timecode},
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
  };
  return table;
}

std::string flag_for(std::string_view variable) {
  std::string flag = "--";
  for (char ch : variable.substr(3)) flag += ch == '_' ? '-' : static_cast<char>(std::tolower(ch));
  return flag;
}

}  // namespace

std::string Config::turn_uri() const {
  if (turn_server.empty()) return {};
  const auto scheme_end = turn_server.find("://") + 3;
  if (turn_user.empty()) return turn_server;
  return turn_server.substr(0, scheme_end) + turn_user + ":" + turn_pass + "@" +
         turn_server.substr(scheme_end);
}

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
  if (config.turn_server.empty() && (!config.turn_user.empty() || !config.turn_pass.empty()))
    return {std::nullopt, "CS_TURN_USER/CS_TURN_PASS are set but CS_TURN_SERVER is not"};
  if (config.tls_cert.empty() != config.tls_key.empty())
    return {std::nullopt, "CS_TLS_CERT and CS_TLS_KEY must be set together"};
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
  out << "\n  --baseline          serve the seed design (one whole pipeline per viewer) for "
         "comparison\n";
  return out.str();
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

}  // namespace cs
