#pragma once
// One viewer's negotiation, without sockets or a pipeline: what state it is
// in and what to do with each event. Remote candidates arriving before the
// answer is sent are held here and released with it. Main-loop thread.
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cs::streaming {

struct RemoteCandidate {
  unsigned mline_index = 0;
  std::string candidate;  // "candidate:..." or "" (end of candidates)
};

class Negotiation {
 public:
  enum class State { awaiting_offer, answering, answered, connected, failed };

  static constexpr std::size_t kMaxCandidates = 64;

  State state() const { return state_; }

  // Returns an error text when an offer is not acceptable now.
  std::optional<std::string> on_offer();
  // The answer has been sent: returns the held candidates, to apply now.
  std::vector<RemoteCandidate> on_answer_sent();
  void on_connected() {
    if (state_ == State::answered) state_ = State::connected;
  }
  void on_failed() { state_ = State::failed; }

  struct CandidateDecision {
    enum class Action { apply, hold, drop, reject } action;
    std::string reason;  // for drop/reject
  };
  // Validates a remote candidate and decides what to do with it. Held ones
  // are kept inside until on_answer_sent().
  CandidateDecision on_remote_candidate(RemoteCandidate candidate);

 private:
  State state_ = State::awaiting_offer;
  std::vector<RemoteCandidate> held_;
  std::size_t candidates_seen_ = 0;
};

const char* to_string(Negotiation::State state);

// Why `candidate` is not an RFC 8839 candidate attribute, or nothing.
std::optional<std::string> candidate_syntax_error(std::string_view candidate);

// A candidate's type ("host", "srflx", "prflx", "relay"), or "" when it has
// none (the end-of-candidates mark).
std::string_view candidate_type(std::string_view candidate);

// 1:1 NAT (CS_ICE_PUBLIC_IP): a host candidate with its connection address
// replaced by `public_ip`; any other candidate, or an empty `public_ip`,
// unchanged. The local address stays what libnice bound, so checks that
// the NAT forwards to it still match (TRAPS.md, "ICE behind NAT").
std::string announce_host_address(std::string_view candidate, std::string_view public_ip);

// The same for every a=candidate line of an SDP, and the c= lines.
std::string announce_host_addresses_in_sdp(std::string_view sdp, std::string_view public_ip);

}  // namespace cs::streaming
