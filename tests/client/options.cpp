#include "options.hpp"

#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace cstest {
namespace {

constexpr const char* kUsage =
    "usage: cs-test-viewer --url ws://HOST:PORT/ws [--duration SECONDS] [--viewers N]\n"
    "                      [--candidates-first]\n"
    "                      [--no-decode] [--mode normal|stall|churn|cycle] [--churn-count N]\n"
    "                      [--concurrent N] [--watch SECONDS]\n";

bool fail(const std::string& message) {
  std::fprintf(stderr, "cs-test-viewer: %s\n%s", message.c_str(), kUsage);
  return false;
}

bool parse_number(const std::string& flag, const char* text, double lo, double hi, double& out) {
  char* end = nullptr;
  double value = std::strtod(text, &end);
  if (end == text || *end != '\0' || value < lo || value > hi)
    return fail(flag + ": '" + text + "' is not a number in [" + std::to_string(lo) + ", " +
                std::to_string(hi) + "]");
  out = value;
  return true;
}

bool parse_int(const std::string& flag, const char* text, int lo, int hi, int& out) {
  double value = 0;
  if (!parse_number(flag, text, lo, hi, value)) return false;
  out = static_cast<int>(value);
  return true;
}

bool parse_mode(const char* text, Mode& out) {
  std::string_view v(text);
  if (v == "normal")
    out = Mode::Normal;
  else if (v == "stall")
    out = Mode::Stall;
  else if (v == "churn")
    out = Mode::Churn;
  else if (v == "cycle")
    out = Mode::Cycle;
  else
    return fail(std::string("--mode: '") + text + "' is not normal, stall, churn or cycle");
  return true;
}

bool apply(Options& o, const std::string& flag, const char* value) {
  if (flag == "--url") {
    o.url = value;
    return true;
  }
  if (flag == "--duration") return parse_number(flag, value, 0.1, 3600, o.duration_s);
  if (flag == "--viewers") return parse_int(flag, value, 1, 256, o.viewers);
  if (flag == "--mode") return parse_mode(value, o.mode);
  if (flag == "--churn-count") return parse_int(flag, value, 1, 100000, o.churn_count);
  if (flag == "--concurrent") return parse_int(flag, value, 1, 64, o.concurrent);
  if (flag == "--watch") return parse_number(flag, value, 0.1, 60, o.watch_s);
  return fail("unknown option " + flag);
}

}  // namespace

const char* mode_name(Mode mode) {
  switch (mode) {
    case Mode::Normal:
      return "normal";
    case Mode::Stall:
      return "stall";
    case Mode::Churn:
      return "churn";
    case Mode::Cycle:
      return "cycle";
  }
  return "?";
}

std::optional<Options> parse_options(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string flag = argv[i];
    if (flag == "--help" || flag == "-h") {
      std::fputs(kUsage, stderr);
      return std::nullopt;
    }
    if (flag == "--no-decode") {
      o.decode = false;
      continue;
    }
    if (flag == "--candidates-first") {
      o.candidates_first = true;
      continue;
    }
    if (i + 1 >= argc) {
      fail(flag + " needs a value");
      return std::nullopt;
    }
    if (!apply(o, flag, argv[++i])) return std::nullopt;
  }
  if (o.url.rfind("ws://", 0) != 0 && o.url.rfind("wss://", 0) != 0) {
    fail("--url must be given as ws://HOST:PORT/ws");
    return std::nullopt;
  }
  return o;
}

}  // namespace cstest
