#pragma once
// One-line logging to stderr, safe from any thread. Each line is one event:
// UTC time (ISO 8601, ms), level, the viewer it concerns (id and remote
// address) where there is one, and the text; as plain text or, with
// CS_LOG_FORMAT=json, one JSON object a line for log collectors. Logging
// never throws.
#include <cstdint>
#include <ctime>
#include <sstream>
#include <string>
#include <string_view>

namespace cs::log {

enum class Level { error = 0, warn = 1, info = 2, debug = 3 };
enum class Format { text, json };

// The viewer a line is about: `viewer=7 remote=10.77.0.2` in text,
// "viewer":7,"remote":"10.77.0.2" in JSON. An empty remote is left out.
struct Viewer {
  std::uint64_t id;
  std::string_view remote;
};

void set_level(Level level);
bool enabled(Level level);
void set_format(Format format);

// The line as it is written (without the newline); pure, for tests.
std::string format_line(Format format, Level level, const timespec& when, std::string_view text,
                        const Viewer* viewer);
// "2026-12-01T16:40:17.123Z".
std::string iso_time(const timespec& when);

void write(Level level, std::string_view text, const Viewer* viewer = nullptr) noexcept;

template <typename... Args>
void at(Level level, const Args&... args) {
  if (!enabled(level)) return;
  std::ostringstream out;
  (out << ... << args);
  write(level, out.str());
}

template <typename... Args>
void at(Level level, const Viewer& viewer, const Args&... args) {
  if (!enabled(level)) return;
  std::ostringstream out;
  (out << ... << args);
  write(level, out.str(), &viewer);
}

template <typename... Args>
void error(const Args&... args) {
  at(Level::error, args...);
}
template <typename... Args>
void warn(const Args&... args) {
  at(Level::warn, args...);
}
template <typename... Args>
void info(const Args&... args) {
  at(Level::info, args...);
}
template <typename... Args>
void debug(const Args&... args) {
  at(Level::debug, args...);
}

}  // namespace cs::log
