#pragma once
// One-line logging to stderr, safe from any thread.
#include <sstream>
#include <string>
#include <string_view>

namespace cs::log {

enum class Level { error = 0, warn = 1, info = 2, debug = 3 };

void set_level(Level level);
bool enabled(Level level);
void write(Level level, std::string_view line);

template <typename... Args>
void at(Level level, const Args&... args) {
  if (!enabled(level)) return;
  std::ostringstream out;
  (out << ... << args);
  write(level, out.str());
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
