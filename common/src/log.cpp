#include "cs/log.hpp"

#include <nlohmann/json.hpp>

#include <atomic>
#include <cstdio>

namespace cs::log {
namespace {
std::atomic<int> g_level{static_cast<int>(Level::info)};
std::atomic<int> g_format{static_cast<int>(Format::text)};

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

const char* json_level(Level level) {
  switch (level) {
    case Level::error:
      return "error";
    case Level::warn:
      return "warn";
    case Level::info:
      return "info";
    case Level::debug:
      return "debug";
  }
  return "?";
}

// Text lines stay one line whatever the message holds (an SDP, a peer's
// bytes): control characters are written as escapes.
void append_printable(std::string& out, std::string_view text) {
  for (unsigned char ch : text) {
    if (ch == '\n') {
      out += "\\n";
    } else if (ch == '\r') {
      out += "\\r";
    } else if (ch == '\t') {
      out += "\\t";
    } else if (ch < 0x20 || ch == 0x7f) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02x", ch);
      out += hex;
    } else {
      out += static_cast<char>(ch);
    }
  }
}

std::string text_line(Level level, const timespec& when, std::string_view text,
                      const Viewer* viewer) {
  std::string out = iso_time(when);
  out += ' ';
  out += tag(level);
  out += ' ';
  if (viewer) {
    out += "viewer=" + std::to_string(viewer->id) + ' ';
    if (!viewer->remote.empty()) {
      out += "remote=";
      append_printable(out, viewer->remote);
      out += ' ';
    }
  }
  append_printable(out, text);
  return out;
}

std::string json_line(Level level, const timespec& when, std::string_view text,
                      const Viewer* viewer) {
  // ordered_json keeps time, level, msg first, as a reader expects.
  nlohmann::ordered_json line;
  line["time"] = iso_time(when);
  line["level"] = json_level(level);
  line["msg"] = std::string(text);
  if (viewer) {
    line["viewer"] = viewer->id;
    if (!viewer->remote.empty()) line["remote"] = std::string(viewer->remote);
  }
  // Invalid UTF-8 (a peer's bytes) becomes U+FFFD instead of an exception.
  return line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}
}  // namespace

void set_level(Level level) {
  g_level.store(static_cast<int>(level));
}
bool enabled(Level level) {
  return static_cast<int>(level) <= g_level.load();
}
void set_format(Format format) {
  g_format.store(static_cast<int>(format));
}

std::string iso_time(const timespec& when) {
  tm parts{};
  gmtime_r(&when.tv_sec, &parts);
  char date[32];
  std::strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &parts);
  const int ms = static_cast<int>((when.tv_nsec / 1000000) % 1000);
  char stamp[48];
  std::snprintf(stamp, sizeof stamp, "%s.%03dZ", date, ms);
  return stamp;
}

std::string format_line(Format format, Level level, const timespec& when, std::string_view text,
                        const Viewer* viewer) {
  return format == Format::json ? json_line(level, when, text, viewer)
                                : text_line(level, when, text, viewer);
}

void write(Level level, std::string_view text, const Viewer* viewer) noexcept {
  timespec now{};
  clock_gettime(CLOCK_REALTIME, &now);
  try {
    std::string line = format_line(static_cast<Format>(g_format.load()), level, now, text, viewer);
    line += '\n';
    // One fwrite per line keeps lines from different threads whole.
    std::fwrite(line.data(), 1, line.size(), stderr);
  } catch (...) {
    // Out of memory or the like: say so rather than throw out of a log call.
    std::fputs("(a log line could not be formatted)\n", stderr);
  }
}

}  // namespace cs::log
