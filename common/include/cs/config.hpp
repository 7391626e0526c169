#pragma once
// Configuration: every CS_ variable of SPEC.md, parsed and validated here and
// nowhere else. Immutable after start-up; any thread may read it.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cs/log.hpp"

namespace cs {

enum class EncoderChoice { auto_select, x264, vaapi, nvenc };

struct Config {
  std::string host = "0.0.0.0";
  int port = 8080;
  int width = 1280;
  int height = 720;
  int fps = 30;
  int bitrate_kbps = 2500;
  EncoderChoice encoder = EncoderChoice::auto_select;
  std::string stun_server;  // empty: none
  std::string turn_server;  // empty: none
  std::string turn_user;
  std::string turn_pass;
  std::vector<std::string> ice_addresses;  // empty: all interfaces
  bool timecode = true;
  int max_viewers = 32;
  bool nack = true;                  // answer NACKs with retransmissions (RTX)
  int rtx_copies = 2;                // copies of each retransmission
  int fec_percent = 0;               // ULPFEC redundancy; 0 = off
  int keyframe_interval_frames = 0;  // 0: one a second (CS_FPS)
  int max_per_ip = 8;                // WebSockets open at once from one address; 0 = no limit
  int negotiation_timeout_s = 30;    // socket open → media connected, or closed
  // Origins allowed to open /ws ("https://host:port"); empty: the server's
  // own origin only; "*": any. Clients that send no Origin are let in.
  std::vector<std::string> allowed_origins;
  std::string auth_token;  // empty: no authentication
  std::string tls_cert;    // PEM paths; both or neither
  std::string tls_key;
  log::Level log_level = log::Level::info;

  // webrtcbin's turn-server URI with the credentials folded in, or empty.
  std::string turn_uri() const;
};

// One row of SPEC.md's table; drives parsing, --help and env.example.
struct ConfigVariable {
  const char* name;           // CS_PORT
  const char* default_value;  // "8080", or "" for none
  const char* meaning;
  bool secret = false;  // its value is never printed (errors, --help, logs)
};

const std::vector<ConfigVariable>& config_variables();

struct ConfigResult {
  std::optional<Config> config;
  std::string error;  // one line: variable, value given, what is allowed
};

using EnvLookup = std::function<std::optional<std::string>(std::string_view name)>;

// Parses every variable through `lookup` (the process environment in
// production, a map in tests).
ConfigResult parse_config(const EnvLookup& lookup);

// The process environment, overlaid with command-line flags: `--port 9000`
// or `--port=9000` stands for CS_PORT=9000. Unknown flags are an error.
struct CommandLine {
  std::vector<std::pair<std::string, std::string>> overrides;  // CS_ name, value
  bool help = false;
  std::vector<std::string> other_flags;  // flags the caller handles (e.g. --baseline)
  std::string error;
};
CommandLine parse_command_line(int argc, char** argv, const std::vector<std::string>& app_flags);
EnvLookup environment_with(const CommandLine& command_line);

std::string config_help();

std::string_view to_string(EncoderChoice choice);

}  // namespace cs
