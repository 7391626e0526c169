#include <doctest/doctest.h>

#include <cctype>
#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "cs/config.hpp"

using cs::Config;
using cs::parse_config;

namespace {
cs::ConfigResult parse_with(std::map<std::string, std::string> vars) {
  return parse_config([vars](std::string_view name) -> std::optional<std::string> {
    auto it = vars.find(std::string(name));
    if (it == vars.end()) return std::nullopt;
    return it->second;
  });
}

struct Case {
  const char* variable;
  const char* good;
  const char* bad;
  const char* allowed;  // part of the error line
};

const Case kCases[] = {
    {"CS_HOST", "127.0.0.1", "not-an-ip", "IPv4 or IPv6"},
    {"CS_PORT", "9000", "70000", "1 to 65535"},
    {"CS_WIDTH", "1920", "1282", "multiple of 4"},
    {"CS_HEIGHT", "1080", "abc", "multiple of 2"},
    {"CS_FPS", "60", "0", "1 to 120"},
    {"CS_BITRATE_KBPS", "4000", "-5", "100 to 100000"},
    {"CS_CODECS", "vp8", "h265", "h264, vp8, vp9"},
    {"CS_LADDER", "2000,500@640x360", "500,2000", "bitrates falling"},
    {"CS_ENCODER", "x264", "h265", "auto, x264, vaapi, nvenc"},
    {"CS_RENDER_DEVICE", "1", "gpu0", "auto, surfaceless, an EGL device index"},
    {"CS_READBACK", "ring", "async", "sync or ring"},
    {"CS_STUN_SERVER", "stun://127.0.0.1:3478", "http://x", "stun://host"},
    {"CS_TURN_SERVER", "turn://127.0.0.1:3478,turn://127.0.0.1:3478?transport=tcp", "turn://a b",
     "turn://host"},
    {"CS_TURN_SECRET", "s3cret:with/odd+chars", "two words", "printable"},
    {"CS_TURN_CREDENTIAL_TTL", "3600", "10", "60 to 604800"},
    {"CS_ICE_PORT_RANGE", "50000-50100", "50100-50000", "MIN-MAX"},
    {"CS_ICE_PUBLIC_IP", "203.0.113.7", "example.org", "IPv4 or IPv6"},
    {"CS_ICE_UPNP", "1", "yes", "0 or 1"},
    {"CS_ICE_ADDRESSES", "10.77.0.1,10.77.0.2", "10.77.0.1,,x", "comma list"},
    {"CS_TIMECODE", "0", "yes", "0 or 1"},
    {"CS_SPIN_SPEED", "-2.5", "9", "-8 to 8"},
    {"CS_AUDIO", "1", "on", "0 or 1"},
    {"CS_CONTROL", "first", "some", "all, none or first"},
    {"CS_MAX_VIEWERS", "5", "0", "1 to 1000"},
    {"CS_LOG_LEVEL", "debug", "loud", "error, warn, info, debug"},
    {"CS_TURN_USER", "1733000000:alice@x", "a b", "printable"},
    {"CS_TURN_PASS", "se/cr:et+=", "x y", "printable"},
    {"CS_NACK", "0", "on", "0 or 1"},
    {"CS_FEC_PERCENT", "20", "101", "0 to 100"},
    {"CS_RTX_COPIES", "1", "3", "1 to 2"},
    {"CS_KEYFRAME_INTERVAL", "60", "-1", "0 to 3600"},
    {"CS_MAX_PER_IP", "0", "-1", "0 to 10000"},
    {"CS_NEGOTIATION_TIMEOUT", "5", "0", "1 to 600"},
    {"CS_ALLOWED_ORIGINS", "https://a.example:8443,http://b", "a.example", "origins"},
    {"CS_AUTH_TOKEN", "0123456789abcdef", "short", "16 to 256"},
    {"CS_TLS_CERT", "/etc/hostname", "/nonexistent.pem", "readable PEM"},
    {"CS_TLS_KEY", "/etc/hostname", "/nonexistent.pem", "readable PEM"},
    {"CS_LOG_FORMAT", "json", "xml", "text or json"},
    {"CS_RECORD_PATH", "/tmp/rec.mp4", "/tmp/rec.avi", ".mp4 (fragmented MP4) or .mkv"},
    {"CS_RECORD_SEGMENT_S", "10", "-1", "0 to 86400"},
    {"CS_FORWARD_RTP", "10.77.0.1:5004,janus.example:6000", "10.77.0.1:65535", "port+1"},
};
}  // namespace

TEST_CASE("config defaults match SPEC.md") {
  auto r = parse_with({});
  REQUIRE(r.config);
  const Config& c = *r.config;
  CHECK(c.host == "0.0.0.0");
  CHECK(c.port == 8080);
  CHECK(c.width == 1280);
  CHECK(c.height == 720);
  CHECK(c.fps == 30);
  CHECK(c.bitrate_kbps == 2500);
  CHECK(c.encoder == cs::EncoderChoice::auto_select);
  CHECK(c.stun_server.empty());
  CHECK(c.turn_servers.empty());
  CHECK(c.ice_port_min == 0);
  CHECK(c.ice_public_ip.empty());
  CHECK_FALSE(c.ice_upnp);
  CHECK(c.ice_addresses.empty());
  CHECK(c.timecode);
  CHECK(c.max_viewers == 32);
  CHECK(c.log_level == cs::log::Level::info);
  CHECK(c.log_format == cs::log::Format::text);
}

TEST_CASE("a refused secret is never echoed") {
  auto r = parse_with({{"CS_AUTH_TOKEN", "hunter2 with spaces"}});
  CHECK_FALSE(r.config);
  CHECK(r.error.find("hunter2") == std::string::npos);
  CHECK(r.error.find("CS_AUTH_TOKEN") != std::string::npos);
  r = parse_with({{"CS_TURN_SERVER", "turn://127.0.0.1"}, {"CS_TURN_PASS", "s3cret x"}});
  CHECK_FALSE(r.config);
  CHECK(r.error.find("s3cret") == std::string::npos);
}

TEST_CASE("TLS needs both the certificate and the key") {
  CHECK_FALSE(parse_with({{"CS_TLS_CERT", "/etc/hostname"}}).config);
  CHECK_FALSE(parse_with({{"CS_TLS_KEY", "/etc/hostname"}}).config);
  CHECK(parse_with({{"CS_TLS_CERT", "/etc/hostname"}, {"CS_TLS_KEY", "/etc/hostname"}}).config);
}

TEST_CASE("each variable takes a good value and refuses a bad one with one clear line") {
  for (const auto& tc : kCases) {
    CAPTURE(tc.variable);
    std::map<std::string, std::string> base;
    if (std::string(tc.variable).rfind("CS_TURN_", 0) == 0 &&
        std::string(tc.variable) != "CS_TURN_SERVER")
      base["CS_TURN_SERVER"] = "turn://127.0.0.1:3478";
    const std::string name = tc.variable;
    if (name == "CS_TLS_CERT") base["CS_TLS_KEY"] = "/etc/hostname";
    if (name == "CS_TLS_KEY") base["CS_TLS_CERT"] = "/etc/hostname";
    if (name == "CS_RECORD_SEGMENT_S") base["CS_RECORD_PATH"] = "/tmp/rec.mp4";
    auto good = base;
    good[tc.variable] = tc.good;
    CHECK(parse_with(good).config.has_value());
    auto bad = base;
    bad[tc.variable] = tc.bad;
    auto r = parse_with(bad);
    CHECK_FALSE(r.config.has_value());
    CHECK(r.error.find(tc.variable) != std::string::npos);
    const bool secret =
        name == "CS_TURN_PASS" || name == "CS_AUTH_TOKEN" || name == "CS_TURN_SECRET";
    CHECK((r.error.find(tc.bad) != std::string::npos) == !secret);
    CHECK(r.error.find(tc.allowed) != std::string::npos);
    CHECK(r.error.find('\n') == std::string::npos);
  }
}

TEST_CASE("good values land in the config") {
  auto r = parse_with({{"CS_PORT", "9000"},
                       {"CS_ENCODER", "vaapi"},
                       {"CS_ICE_ADDRESSES", "10.77.0.1,::1"},
                       {"CS_TIMECODE", "0"},
                       {"CS_TURN_SERVER", "turn://relay:3478"},
                       {"CS_TURN_USER", "u"},
                       {"CS_TURN_PASS", "p"},
                       {"CS_LOG_FORMAT", "json"}});
  REQUIRE(r.config);
  CHECK(r.config->log_format == cs::log::Format::json);
  CHECK(r.config->port == 9000);
  CHECK(r.config->encoder == cs::EncoderChoice::vaapi);
  CHECK(r.config->ice_addresses == std::vector<std::string>{"10.77.0.1", "::1"});
  CHECK_FALSE(r.config->timecode);
  CHECK(r.config->turn_servers == std::vector<std::string>{"turn://relay:3478"});
  CHECK(r.config->turn_user == "u");
}

TEST_CASE("TURN servers, port range and public address land in the config") {
  auto r = parse_with({{"CS_TURN_SERVER", "turn://relay:3478,turns://relay:5349?transport=tcp"},
                       {"CS_TURN_SECRET", "k"},
                       {"CS_ICE_PORT_RANGE", "50000-50010"},
                       {"CS_ICE_PUBLIC_IP", "203.0.113.7"}});
  REQUIRE(r.config);
  CHECK(r.config->turn_servers ==
        std::vector<std::string>{"turn://relay:3478", "turns://relay:5349?transport=tcp"});
  CHECK(r.config->turn_secret == "k");
  CHECK(r.config->ice_port_min == 50000);
  CHECK(r.config->ice_port_max == 50010);
  CHECK(r.config->ice_public_ip == "203.0.113.7");
  CHECK_FALSE(parse_with({{"CS_TURN_SERVER", "turn://relay?transport=sctp"}}).config);
  CHECK_FALSE(parse_with({{"CS_TURN_SERVER", "turn://u:p@relay:3478"}}).config);
  CHECK_FALSE(parse_with({{"CS_ICE_PORT_RANGE", "80-90"}}).config);
}

TEST_CASE("a TURN secret and static TURN credentials exclude each other") {
  auto r = parse_with(
      {{"CS_TURN_SERVER", "turn://relay"}, {"CS_TURN_SECRET", "k"}, {"CS_TURN_USER", "u"}});
  CHECK_FALSE(r.config);
  CHECK(r.error.find("CS_TURN_SECRET") != std::string::npos);
  CHECK_FALSE(parse_with({{"CS_TURN_SECRET", "k"}}).config);  // no server
}

TEST_CASE("TURN credentials without a TURN server are refused") {
  auto r = parse_with({{"CS_TURN_USER", "u"}});
  CHECK_FALSE(r.config);
  CHECK(r.error.find("CS_TURN_SERVER") != std::string::npos);
}

TEST_CASE("command-line flags stand for variables and win over the environment") {
  const char* argv[] = {"cube-streamer", "--port", "9001", "--log-level=debug", "--baseline"};
  auto cl = cs::parse_command_line(5, const_cast<char**>(argv), {"--baseline"});
  REQUIRE(cl.error.empty());
  CHECK(cl.other_flags == std::vector<std::string>{"--baseline"});
  auto r = parse_config(cs::environment_with(cl));
  REQUIRE(r.config);
  CHECK(r.config->port == 9001);
  CHECK(r.config->log_level == cs::log::Level::debug);

  const char* bad[] = {"cube-streamer", "--colour", "red"};
  CHECK_FALSE(cs::parse_command_line(3, const_cast<char**>(bad), {}).error.empty());
}

TEST_CASE("a flag wins over the same variable in the process environment") {
  // environment_with reads the real environment: set it, and put it back.
  struct Restore {
    ~Restore() {
      unsetenv("CS_PORT");
      unsetenv("CS_FPS");
      unsetenv("CS_LOG_FORMAT");
    }
  } restore;
  setenv("CS_PORT", "9000", 1);
  setenv("CS_FPS", "25", 1);
  setenv("CS_LOG_FORMAT", "text", 1);
  const char* argv[] = {"cube-streamer", "--port=9001", "--log-format", "json", "--port", "9002"};
  auto cl = cs::parse_command_line(6, const_cast<char**>(argv), {});
  REQUIRE(cl.error.empty());
  auto r = parse_config(cs::environment_with(cl));
  REQUIRE(r.config);
  CHECK(r.config->port == 9002);  // the flag, and of two the last
  CHECK(r.config->log_format == cs::log::Format::json);
  CHECK(r.config->fps == 25);  // no flag: the environment

  // Without flags the environment alone.
  const char* none[] = {"cube-streamer"};
  auto env_only =
      parse_config(cs::environment_with(cs::parse_command_line(1, const_cast<char**>(none), {})));
  REQUIRE(env_only.config);
  CHECK(env_only.config->port == 9000);
  CHECK(env_only.config->log_format == cs::log::Format::text);

  // A bad flag value is refused like a bad variable, naming the variable.
  const char* bad[] = {"cube-streamer", "--port", "0"};
  auto refused =
      parse_config(cs::environment_with(cs::parse_command_line(3, const_cast<char**>(bad), {})));
  CHECK_FALSE(refused.config);
  CHECK(refused.error.find("CS_PORT='0'") != std::string::npos);

  const char* missing[] = {"cube-streamer", "--port"};
  CHECK(cs::parse_command_line(2, const_cast<char**>(missing), {}).error.find("needs a value") !=
        std::string::npos);
}

TEST_CASE("--help names each variable's flag, variable and default, and no secret value") {
  setenv("CS_TURN_PASS", "hunter2-secret", 1);
  setenv("CS_AUTH_TOKEN", "0123456789abcdefSECRETVALUE", 1);
  const std::string help = cs::config_help();
  unsetenv("CS_TURN_PASS");
  unsetenv("CS_AUTH_TOKEN");
  for (const auto& v : cs::config_variables()) {
    CAPTURE(v.name);
    std::string flag = "--";
    for (char ch : std::string_view(v.name).substr(3))
      flag += ch == '_' ? '-' : static_cast<char>(std::tolower(ch));
    const std::string default_text =
        std::string("(default: ") + (*v.default_value ? v.default_value : "none") + ")";
    // flag, variable and default on one line.
    const auto at = help.find("  " + flag + " ");
    REQUIRE(at != std::string::npos);
    const std::string line = help.substr(at, help.find('\n', at) - at);
    CHECK(line.find(std::string(" ") + v.name + " ") != std::string::npos);
    CHECK(line.find(default_text) != std::string::npos);
  }
  for (const char* flag : {"--help", "--version", "--check", "--baseline"}) {
    CAPTURE(flag);
    CHECK(help.find(std::string("  ") + flag) != std::string::npos);
  }
  CHECK(help.find("hunter2-secret") == std::string::npos);
  CHECK(help.find("SECRETVALUE") == std::string::npos);
}

TEST_CASE("the CS_ table, env.example, --help and the README agree") {
  std::set<std::string> in_code;
  for (const auto& v : cs::config_variables()) in_code.insert(v.name);
  CHECK(in_code.size() == std::size(kCases));

  std::ifstream example(CS_SOURCE_DIR "/env.example");
  REQUIRE(example.good());
  std::set<std::string> in_example;
  std::string line;
  while (std::getline(example, line)) {
    auto start = line.find("CS_");
    auto eq = line.find('=');
    if (start != std::string::npos && eq != std::string::npos && start < eq)
      in_example.insert(line.substr(start, eq - start));
  }
  CHECK(in_example == in_code);

  const std::string help = cs::config_help();
  std::ifstream readme_file(CS_SOURCE_DIR "/README.md");
  std::stringstream readme;
  readme << readme_file.rdbuf();
  for (const auto& name : in_code) {
    CAPTURE(name);
    CHECK(help.find(name) != std::string::npos);
    CHECK(readme.str().find(name) != std::string::npos);
  }
}

TEST_CASE("CS_FORWARD_RTP: a list of RTP targets, RTCP on port+1") {
  auto r = parse_with({{"CS_FORWARD_RTP", "10.77.0.1:5004,[::1]:6000,janus-1.example:7002"}});
  REQUIRE(r.config);
  const std::vector<cs::RtpTarget> expected{
      {"10.77.0.1", 5004}, {"::1", 6000}, {"janus-1.example", 7002}};
  CHECK(r.config->forward_rtp == expected);
  CHECK(parse_with({}).config->forward_rtp.empty());
  CHECK(parse_with({{"CS_FORWARD_RTP", ""}}).config->forward_rtp.empty());
  CHECK(parse_with({{"CS_FORWARD_RTP", "127.0.0.1:65534"}}).config);  // RTCP on 65535
  for (const char* bad : {"10.77.0.1",
                          "10.77.0.1:",
                          ":5004",
                          "10.77.0.1:0",
                          "10.77.0.1:65535",
                          "10.77.0.1:-4",
                          "10.77.0.1:50x",
                          "::1:5004",
                          "[::1:5004",
                          "[10.0.0.1]:5004",
                          "[]:5004",
                          "bad host:5004",
                          "-x.example:5004",
                          "a..b:5004",
                          "a.:5004",
                          "10.77.0.1:5004,",
                          ",10.77.0.1:5004",
                          "10.77.0.1:5004,,10.77.0.2:5004",
                          "10.77.0.1:5004,10.77.0.1:5004",
                          "udp://10.77.0.1:5004"}) {
    CAPTURE(bad);
    auto refused = parse_with({{"CS_FORWARD_RTP", bad}});
    CHECK_FALSE(refused.config);
    CHECK(refused.error.find("CS_FORWARD_RTP") != std::string::npos);
    CHECK(refused.error.find('\n') == std::string::npos);
  }
}

TEST_CASE("CS_RENDER_DEVICE: auto, surfaceless, an index or a render node; nothing else") {
  using Kind = cs::RenderDevice::Kind;
  CHECK(cs::parse_render_device("auto")->kind == Kind::auto_select);
  CHECK(cs::parse_render_device("surfaceless")->kind == Kind::surfaceless);
  auto two = cs::parse_render_device("2");
  REQUIRE(two);
  CHECK(two->kind == Kind::index);
  CHECK(two->index == 2);
  CHECK(cs::parse_render_device("63")->index == 63);
  auto node = cs::parse_render_device("/dev/dri/renderD129");
  REQUIRE(node);
  CHECK(node->kind == Kind::render_node);
  CHECK(node->path == "/dev/dri/renderD129");
  CHECK(cs::to_string(*node) == "/dev/dri/renderD129");
  CHECK(cs::to_string(*two) == "2");
  for (const char* bad : {"", "-1", "+1", "64", "1.5", " 1", "1 ", "0x1", "gpu", "Auto",
                          "/dev/dri/", "/dev/dri/a/b", "/tmp/renderD128", "renderD128"}) {
    CAPTURE(bad);
    CHECK_FALSE(cs::parse_render_device(bad));
  }
  // The default, and through the environment.
  CHECK(parse_with({}).config->render_device == cs::RenderDevice{});
  CHECK(parse_with({}).config->read_back == cs::ReadBackMode::sync);
  auto r = parse_with({{"CS_RENDER_DEVICE", "surfaceless"}, {"CS_READBACK", "ring"}});
  REQUIRE(r.config);
  CHECK(r.config->render_device.kind == Kind::surfaceless);
  CHECK(r.config->read_back == cs::ReadBackMode::ring);
  auto refused = parse_with({{"CS_RENDER_DEVICE", "99"}});
  CHECK_FALSE(refused.config);
  CHECK(refused.error.find("CS_RENDER_DEVICE='99' is invalid") != std::string::npos);
}
