#include <doctest/doctest.h>

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
    {"CS_ENCODER", "x264", "h265", "auto, x264, vaapi, nvenc"},
    {"CS_STUN_SERVER", "stun://127.0.0.1:3478", "http://x", "stun://host"},
    {"CS_TURN_SERVER", "turn://127.0.0.1:3478", "turn://a b", "turn://host"},
    {"CS_ICE_ADDRESSES", "10.77.0.1,10.77.0.2", "10.77.0.1,,x", "comma list"},
    {"CS_TIMECODE", "0", "yes", "0 or 1"},
    {"CS_MAX_VIEWERS", "5", "0", "1 to 1000"},
    {"CS_LOG_LEVEL", "debug", "loud", "error, warn, info, debug"},
    {"CS_TURN_USER", "alice", "a@b", "user name"},
    {"CS_TURN_PASS", "secret", "x y", "password"},
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
  CHECK(c.turn_server.empty());
  CHECK(c.ice_addresses.empty());
  CHECK(c.timecode);
  CHECK(c.max_viewers == 32);
  CHECK(c.log_level == cs::log::Level::info);
}

TEST_CASE("a refused secret is never echoed") {
  auto r = parse_with({{"CS_AUTH_TOKEN", "hunter2 with spaces"}});
  CHECK_FALSE(r.config);
  CHECK(r.error.find("hunter2") == std::string::npos);
  CHECK(r.error.find("CS_AUTH_TOKEN") != std::string::npos);
  r = parse_with({{"CS_TURN_SERVER", "turn://127.0.0.1"}, {"CS_TURN_PASS", "s3cret/x"}});
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
    auto good = base;
    good[tc.variable] = tc.good;
    CHECK(parse_with(good).config.has_value());
    auto bad = base;
    bad[tc.variable] = tc.bad;
    auto r = parse_with(bad);
    CHECK_FALSE(r.config.has_value());
    CHECK(r.error.find(tc.variable) != std::string::npos);
    const bool secret = name == "CS_TURN_PASS" || name == "CS_AUTH_TOKEN";
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
                       {"CS_TURN_PASS", "p"}});
  REQUIRE(r.config);
  CHECK(r.config->port == 9000);
  CHECK(r.config->encoder == cs::EncoderChoice::vaapi);
  CHECK(r.config->ice_addresses == std::vector<std::string>{"10.77.0.1", "::1"});
  CHECK_FALSE(r.config->timecode);
  CHECK(r.config->turn_uri() == "turn://u:p@relay:3478");
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
