#pragma once
// The text WHEP adds around SDP (draft-ietf-wish-whep, RFC 8840, RFC 8288),
// pure so it can be unit-tested and fuzzed: the player's trickle fragment
// (PATCH, application/trickle-ice-sdpfrag), the ICE facts of its offer, the
// answer with the server's gathered candidates written in, the `Link`
// headers that hand the player the ICE servers, and session names.
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cs/signaling/protocol.hpp"

namespace cs::whep {

// What an offer says about its ICE: the credentials (session level, or the
// first media section's) and the mid of each media section, in order.
struct OfferIce {
  std::string ufrag;
  std::string pwd;
  std::vector<std::string> mids;  // "" for a section without a=mid
};
OfferIce offer_ice(std::string_view sdp);

// One PATCH body. Candidates are named by the mid of the section they
// follow (RFC 8840); before any section they belong to the first.
struct TrickleFragment {
  std::string ufrag;  // "" when the fragment names none
  std::string pwd;
  struct Candidate {
    std::string mid;        // "" before any a=mid
    std::string candidate;  // "candidate:...", or "" for a=end-of-candidates
  };
  std::vector<Candidate> candidates;
};
struct FragmentParse {
  std::optional<TrickleFragment> fragment;
  std::string error;  // why not, one line
};
inline constexpr std::size_t kMaxFragmentLines = 256;
FragmentParse parse_trickle_fragment(std::string_view body);

// `answer` with, at the end of media section i, an a=candidate line for each
// of `candidates` whose index is i, and a=end-of-candidates after them when
// `complete`.
std::string answer_with_candidates(std::string_view answer,
                                   const std::vector<std::pair<unsigned, std::string>>& candidates,
                                   bool complete);

// One `Link: <url>; rel="ice-server"` value per ICE server (RFC 8288
// quoting), TURN ones with their username and credential.
std::vector<std::string> ice_server_links(const signaling::IceServerList& servers);

// The media type of a Content-Type value, lower-cased, without parameters.
std::string media_type(std::string_view content_type);

// A session's resource name: 32 hex characters from the system's random
// source, so that one player cannot guess another's resource.
std::string new_session_name();

// `rung=N` in a request's query ("a=1&rung=2"): N, or nullopt without one;
// `error` when it is there but not a number 0-15.
std::optional<int> rung_in_query(std::string_view query, std::string& error);
// "sync=1" in the query: lip sync (the picture waits for the sound); false
// without it. Anything but 0 or 1 sets `error`.
bool lip_sync_in_query(std::string_view query, std::string& error);

}  // namespace cs::whep
