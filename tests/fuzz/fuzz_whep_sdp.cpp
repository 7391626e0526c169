// Fuzzes what WHEP reads from a player (whep_sdp.hpp): the PATCH body
// (trickle-ice-sdpfrag) and the offer's ICE facts, and the answer it writes
// with candidates taken from the same input. Properties besides "no crash,
// no leak, no UB": a parsed fragment holds no more candidates than lines and
// none with a control character; the answer keeps every line of its input
// and gains exactly one a=candidate line per candidate of a section that
// exists (plus one a=end-of-candidates per section).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cs/whep/whep_sdp.hpp"

namespace {

void require(bool ok) {
  if (!ok) std::abort();
}

std::size_t count(std::string_view text, std::string_view needle) {
  std::size_t n = 0;
  for (auto at = text.find(needle); at != std::string_view::npos; at = text.find(needle, at + 1))
    ++n;
  return n;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const cs::whep::FragmentParse parsed = cs::whep::parse_trickle_fragment(text);
  require(parsed.fragment.has_value() == parsed.error.empty());
  std::vector<std::pair<unsigned, std::string>> candidates;
  if (parsed.fragment) {
    require(parsed.fragment->candidates.size() <= cs::whep::kMaxFragmentLines);
    for (const auto& c : parsed.fragment->candidates) {
      for (const char ch : c.candidate)
        require(static_cast<unsigned char>(ch) >= 0x20 && ch != 0x7f);
      if (!c.candidate.empty())
        candidates.emplace_back(static_cast<unsigned>(c.mid.size() % 3), c.candidate);
    }
  }
  const cs::whep::OfferIce ice = cs::whep::offer_ice(text);
  require(ice.ufrag.find('\n') == std::string::npos && ice.pwd.find('\n') == std::string::npos);
  // The input as an answer: sections are its "m=" lines.
  const std::string answer = cs::whep::answer_with_candidates(text, candidates, true);
  const std::size_t sections = ice.mids.size();
  std::size_t placed = 0;
  for (const auto& [index, c] : candidates) placed += index < sections ? 1 : 0;
  require(count(answer, "\r\n") >= placed + sections);
  require(answer.size() >= placed * 4);
  return 0;
}
