#include "cs/log.hpp"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>

namespace cs::log {
namespace {
std::atomic<int> g_level{static_cast<int>(Level::info)};

const char* tag(Level level) {
  switch (level) {
    case Level::error:
      return "ERROR";
    case Level::warn:
      return "WARN ";
    case Level::info:
      return "INFO ";
    case Level::debug:
      return "DEBUG";
  }
  return "?";
}
}  // namespace

void set_level(Level level) {
  g_level.store(static_cast<int>(level));
}
bool enabled(Level level) {
  return static_cast<int>(level) <= g_level.load();
}

void write(Level level, std::string_view line) {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  tm parts{};
  gmtime_r(&ts.tv_sec, &parts);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%H:%M:%S", &parts);
  // One fprintf per line keeps lines from different threads whole.
  std::fprintf(stderr, "%s.%03ld %s %.*s\n", stamp, ts.tv_nsec / 1000000, tag(level),
               static_cast<int>(line.size()), line.data());
}

}  // namespace cs::log
