// Fuzzes what a viewer sends on /ws (SPEC.md's messages) and the writers
// whose output goes back to it:
// - parse_client_message never crashes, whatever the bytes;
// - what parses round-trips: ice_json of a parsed candidate parses back to
//   the same message, answer_json keeps the SDP exactly;
// - answer_json, ice_json and error_json give valid JSON for any string,
//   including bytes that are not UTF-8 (an SDP or an error text may quote
//   what a peer sent), and keep a valid UTF-8 string exactly.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <variant>

#include "cs/signaling/protocol.hpp"

namespace {

using nlohmann::json;
using namespace cs::signaling;

// Aborts (a crash libFuzzer saves) when a property does not hold.
void require(bool ok) {
  if (!ok) std::abort();
}

json parse_ours(const std::string& text) {
  json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  require(!doc.is_discarded() && doc.is_object());
  return doc;
}

// RFC 3629 UTF-8 (no overlong forms, no surrogates, at most U+10FFFF): what
// nlohmann's strict dump() accepts. Written out, not by catching dump()'s
// exception, which would slow the fuzzer down tenfold.
bool valid_utf8(std::string_view s) {
  std::size_t i = 0;
  while (i < s.size()) {
    const auto b = static_cast<unsigned char>(s[i]);
    std::size_t n = 0;
    unsigned char lo = 0x80, hi = 0xBF;  // range of the second byte
    if (b < 0x80) {
      ++i;
      continue;
    } else if (b >= 0xC2 && b <= 0xDF) {
      n = 1;
    } else if (b >= 0xE0 && b <= 0xEF) {
      n = 2;
      if (b == 0xE0) lo = 0xA0;
      if (b == 0xED) hi = 0x9F;
    } else if (b >= 0xF0 && b <= 0xF4) {
      n = 3;
      if (b == 0xF0) lo = 0x90;
      if (b == 0xF4) hi = 0x8F;
    } else {
      return false;
    }
    if (s.size() - i <= n) return false;
    for (std::size_t k = 1; k <= n; ++k) {
      const auto c = static_cast<unsigned char>(s[i + k]);
      if (c < (k == 1 ? lo : 0x80) || c > (k == 1 ? hi : 0xBF)) return false;
    }
    i += n + 1;
  }
  return true;
}

// The written message is JSON with these fields; a UTF-8 text survives as is.
void check_written(const std::string& text, const char* type, const char* field,
                   std::string_view value) {
  const json doc = parse_ours(text);
  require(doc.value("type", "") == type);
  const auto it = doc.find(field);
  require(it != doc.end() && it->is_string());
  if (valid_utf8(value)) require(it->get_ref<const std::string&>() == value);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);

  const ParsedMessage parsed = parse_client_message(text);
  require(parsed.message.has_value() == parsed.error.empty());
  if (parsed.message) {
    if (const auto* offer = std::get_if<OfferMessage>(&*parsed.message)) {
      require(!offer->sdp.empty());
      check_written(answer_json(offer->sdp), "answer", "sdp", offer->sdp);
    } else {
      const auto& ice = std::get<IceMessage>(*parsed.message);
      const std::string written = ice_json(ice.candidate, ice.sdp_mline_index);
      check_written(written, "ice", "candidate", ice.candidate);
      const ParsedMessage again = parse_client_message(written);
      require(again.message.has_value());
      const auto* back = std::get_if<IceMessage>(&*again.message);
      require(back && back->candidate == ice.candidate &&
              back->sdp_mline_index == ice.sdp_mline_index);
    }
  } else {
    check_written(error_json(parsed.error), "error", "message", parsed.error);
  }

  // The writers on the raw bytes.
  check_written(answer_json(text), "answer", "sdp", text);
  check_written(ice_json(text, static_cast<unsigned>(size)), "ice", "candidate", text);
  check_written(error_json(text), "error", "message", text);
  return 0;
}
