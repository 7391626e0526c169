// The log line formats (text and JSON), escaping, the viewer fields, and
// the version string.
#include <doctest/doctest.h>

#include <nlohmann/json.hpp>

#include <cctype>
#include <set>

#include "cs/build_info.hpp"
#include "cs/log.hpp"

using cs::log::Format;
using cs::log::Level;

namespace {
// 2026-12-01T16:40:17.123Z
const timespec kWhen{1796143217, 123456789};
}  // namespace

TEST_CASE("time is ISO 8601 UTC with milliseconds") {
  CHECK(cs::log::iso_time(kWhen) == "2026-12-01T16:40:17.123Z");
  CHECK(cs::log::iso_time({0, 999999999}) == "1970-01-01T00:00:00.999Z");
}

TEST_CASE("text: time, level, the viewer's fields, then the message") {
  CHECK(cs::log::format_line(Format::text, Level::info, kWhen, "rendering starts", nullptr) ==
        "2026-12-01T16:40:17.123Z INFO  rendering starts");
  const cs::log::Viewer viewer{7, "10.77.0.2"};
  CHECK(cs::log::format_line(Format::text, Level::warn, kWhen, "no pong for 8.0 s", &viewer) ==
        "2026-12-01T16:40:17.123Z WARN  viewer=7 remote=10.77.0.2 no pong for 8.0 s");
  const cs::log::Viewer no_remote{12, ""};
  CHECK(cs::log::format_line(Format::text, Level::debug, kWhen, "x", &no_remote) ==
        "2026-12-01T16:40:17.123Z DEBUG viewer=12 x");
  CHECK(cs::log::format_line(Format::text, Level::error, kWhen, "x", nullptr) ==
        "2026-12-01T16:40:17.123Z ERROR x");
}

TEST_CASE("text: one line whatever the message holds") {
  const std::string line = cs::log::format_line(
      Format::text, Level::debug, kWhen, std::string("answer\nv=0\r\na\tb\x01\x7f"), nullptr);
  CHECK(line.find('\n') == std::string::npos);
  CHECK(line.find('\r') == std::string::npos);
  CHECK(line.find("answer\\nv=0\\r\\na\\tb\\x01\\x7f") != std::string::npos);
}

TEST_CASE("json: one object a line with time, level, msg and the viewer's fields") {
  const cs::log::Viewer viewer{7, "10.77.0.2"};
  const std::string line =
      cs::log::format_line(Format::json, Level::info, kWhen, "offer received", &viewer);
  CHECK(line == R"({"time":"2026-12-01T16:40:17.123Z","level":"info","msg":"offer received",)"
                R"("viewer":7,"remote":"10.77.0.2"})");
  auto parsed = nlohmann::json::parse(line);
  CHECK(parsed["viewer"].is_number_unsigned());

  const std::string plain =
      cs::log::format_line(Format::json, Level::warn, kWhen, "server full", nullptr);
  auto p = nlohmann::json::parse(plain);
  CHECK(p["level"] == "warn");
  CHECK_FALSE(p.contains("viewer"));
  CHECK_FALSE(p.contains("remote"));
  for (Level level : {Level::error, Level::warn, Level::info, Level::debug}) {
    auto l = nlohmann::json::parse(cs::log::format_line(Format::json, level, kWhen, "m", nullptr));
    CHECK(std::set<std::string>{"error", "warn", "info", "debug"}.count(l["level"]) == 1);
  }
}

TEST_CASE("json: quotes, backslashes, control characters and bad UTF-8 are escaped") {
  const std::string nasty = std::string("say \"hi\" \\ to\nme\x01 \xff\xfe end");
  const std::string line = cs::log::format_line(Format::json, Level::warn, kWhen, nasty, nullptr);
  CHECK(line.find('\n') == std::string::npos);
  nlohmann::json parsed;
  REQUIRE_NOTHROW(parsed = nlohmann::json::parse(line));
  const std::string msg = parsed["msg"];
  CHECK(msg.rfind("say \"hi\" \\ to\nme\x01 ", 0) == 0);
  CHECK(msg.find("\xef\xbf\xbd") != std::string::npos);  // U+FFFD for the bad bytes
  CHECK(msg.find(" end") != std::string::npos);

  const cs::log::Viewer odd{3, "\xff\"::1"};
  REQUIRE_NOTHROW(parsed = nlohmann::json::parse(
                      cs::log::format_line(Format::json, Level::info, kWhen, "m", &odd)));
  CHECK(parsed["viewer"] == 3);
}

TEST_CASE("levels: a line is written only at or above the level set") {
  cs::log::set_level(Level::warn);
  CHECK(cs::log::enabled(Level::error));
  CHECK(cs::log::enabled(Level::warn));
  CHECK_FALSE(cs::log::enabled(Level::info));
  CHECK_FALSE(cs::log::enabled(Level::debug));
  cs::log::set_level(Level::debug);
  CHECK(cs::log::enabled(Level::debug));
  cs::log::set_level(Level::info);
}

TEST_CASE("version: project version, git revision when known, GStreamer's version") {
  // Three dot-separated numbers (std::regex trips GCC 12's warnings under ASan).
  const std::string version(cs::build::version());
  int dots = 0;
  bool digits = !version.empty() && std::isdigit(static_cast<unsigned char>(version.front())) &&
                std::isdigit(static_cast<unsigned char>(version.back()));
  for (std::size_t i = 0; i < version.size(); ++i) {
    if (version[i] == '.') {
      ++dots;
      digits = digits && i + 1 < version.size() && version[i + 1] != '.';
    } else {
      digits = digits && std::isdigit(static_cast<unsigned char>(version[i]));
    }
  }
  CHECK(digits);
  CHECK(dots == 2);
  const std::string line = cs::build::version_line("1.22.0");
  CHECK(line.rfind("cube-streamer " + std::string(cs::build::version()), 0) == 0);
  CHECK(line.size() > std::string_view(" GStreamer 1.22.0").size());
  CHECK(line.substr(line.size() - 17) == " GStreamer 1.22.0");
  if (cs::build::git_revision().empty())
    CHECK(line.find("(git") == std::string::npos);
  else
    CHECK(line.find(" (git " + std::string(cs::build::git_revision()) + ") ") != std::string::npos);
}
