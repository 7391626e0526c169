#include "options.hpp"

#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace cstest {
namespace {

constexpr const char* kUsage =
    "usage: cs-test-viewer --url ws://HOST:PORT/ws [--duration SECONDS] [--viewers N]\n"
    "       cs-test-viewer --whep http://HOST:PORT/whep [--whep-token TOKEN] [...]\n"
    "                      [--candidates-first]\n"
    "                      [--no-decode] [--mode normal|stall|churn|cycle] [--churn-count N]\n"
    "                      [--concurrent N] [--watch SECONDS]\n"
    "                      [--ice-servers http://HOST:PORT/ice-servers] [--relay] [--audio]\n"
    "                      [--control] [--quality-steps]\n"
    "                      [--codecs h264,vp8,vp9] [--rung N]\n"
    "   or: cs-test-viewer --janus http://HOST:PORT/janus [--mountpoint ID] [--duration S]\n"
    "                      [--viewers N] [--no-decode]\n";

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

// A comma list of h264, vp8, vp9, each at most once; the order is the offer's.
bool parse_codecs(const char* text, std::vector<Codec>& out) {
  std::vector<Codec> codecs;
  std::string_view rest(text);
  while (true) {
    auto comma = rest.find(',');
    std::string_view item = rest.substr(0, comma);
    Codec codec{};
    if (item == "h264")
      codec = Codec::H264;
    else if (item == "vp8")
      codec = Codec::VP8;
    else if (item == "vp9")
      codec = Codec::VP9;
    else
      return fail("--codecs: '" + std::string(item) + "' is not h264, vp8 or vp9 (in '" + text +
                  "')");
    for (Codec c : codecs)
      if (c == codec) return fail("--codecs: " + std::string(item) + " is listed twice");
    codecs.push_back(codec);
    if (comma == std::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  out = std::move(codecs);
  return true;
}

bool apply(Options& o, const std::string& flag, const char* value) {
  if (flag == "--url") {
    o.url = value;
    return true;
  }
  if (flag == "--whep") {
    o.whep_url = value;
    return true;
  }
  if (flag == "--whep-token") {
    o.whep_token = value;
    return true;
  }
  if (flag == "--janus") {
    o.janus_url = value;
    if (o.janus_url.rfind("http://", 0) != 0 && o.janus_url.rfind("https://", 0) != 0)
      return fail("--janus must be an http(s):// URL of the Janus API (.../janus)");
    while (!o.janus_url.empty() && o.janus_url.back() == '/') o.janus_url.pop_back();
    return true;
  }
  if (flag == "--mountpoint") return parse_int(flag, value, 1, 1 << 30, o.janus_mountpoint);
  if (flag == "--ice-servers") {
    o.ice_servers_url = value;
    return true;
  }
  if (flag == "--duration") return parse_number(flag, value, 0.1, 3600, o.duration_s);
  if (flag == "--viewers") return parse_int(flag, value, 1, 256, o.viewers);
  if (flag == "--mode") return parse_mode(value, o.mode);
  if (flag == "--churn-count") return parse_int(flag, value, 1, 100000, o.churn_count);
  if (flag == "--concurrent") return parse_int(flag, value, 1, 64, o.concurrent);
  if (flag == "--watch") return parse_number(flag, value, 0.1, 60, o.watch_s);
  if (flag == "--codecs") return parse_codecs(value, o.codecs);
  if (flag == "--rung") {
    int rung = 0;
    if (!parse_int(flag, value, 0, 15, rung)) return false;
    o.rung = rung;
    return true;
  }
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

const char* codec_name(Codec codec) {
  switch (codec) {
    case Codec::H264:
      return "h264";
    case Codec::VP8:
      return "vp8";
    case Codec::VP9:
      return "vp9";
  }
  return "?";
}

nlohmann::json offer_message(const std::string& sdp, const Options& options) {
  nlohmann::json message{{"type", "offer"}, {"sdp", sdp}};
  if (options.rung) message["rung"] = *options.rung;
  return message;
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
    if (flag == "--relay") {
      o.relay_only = true;
      continue;
    }
    if (flag == "--audio") {
      o.audio = true;
      continue;
    }
    if (flag == "--control") {
      o.control = true;
      continue;
    }
    if (flag == "--quality-steps") {
      o.control = true;
      o.quality_steps = true;
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
  if (!o.whep_url.empty()) {
    if (o.whep_url.rfind("http://", 0) != 0 && o.whep_url.rfind("https://", 0) != 0) {
      fail("--whep must be given as http://HOST:PORT/whep");
      return std::nullopt;
    }
    if (o.mode != Mode::Normal || o.candidates_first) {
      fail("--whep works with --mode normal only, without --candidates-first");
      return std::nullopt;
    }
    return o;
  }
  if (o.janus_url.empty() && o.url.rfind("ws://", 0) != 0 && o.url.rfind("wss://", 0) != 0) {
    fail("--url must be given as ws://HOST:PORT/ws");
    return std::nullopt;
  }
  return o;
}

}  // namespace cstest
