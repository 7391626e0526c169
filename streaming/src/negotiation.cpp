#include "cs/streaming/negotiation.hpp"

#include <string_view>

namespace cs::streaming {
namespace {

// "candidate:<foundation> <component> <transport> <priority> <address> ..."
std::string_view candidate_address(std::string_view c) {
  int field = 0;
  size_t pos = 0;
  while (pos < c.size()) {
    size_t end = c.find(' ', pos);
    if (end == std::string_view::npos) end = c.size();
    if (field == 4) return c.substr(pos, end - pos);
    ++field;
    pos = end + 1;
  }
  return {};
}

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

}  // namespace

std::optional<std::string> Negotiation::on_offer() {
  if (state_ != State::awaiting_offer) return "an offer was already received on this connection";
  state_ = State::answering;
  return std::nullopt;
}

std::vector<RemoteCandidate> Negotiation::on_answer_sent() {
  if (state_ == State::answering) state_ = State::answered;
  std::vector<RemoteCandidate> out;
  out.swap(held_);
  return out;
}

Negotiation::CandidateDecision Negotiation::on_remote_candidate(RemoteCandidate c) {
  using Action = CandidateDecision::Action;
  if (state_ == State::failed) return {Action::drop, "connection failed"};
  if (!c.candidate.empty()) {
    // webrtcbin 1.22 takes any other string as end-of-candidates.
    if (c.candidate.rfind("candidate:", 0) != 0)
      return {Action::reject, "candidate must start with 'candidate:'"};
    if (c.candidate.size() > 1024) return {Action::reject, "candidate too long"};
    if (c.candidate.find_first_of("\r\n") != std::string::npos)
      return {Action::reject, "candidate contains a line break"};
    // mDNS names leak a resolver each in webrtcbin 1.22.0; ICE still
    // connects through the browser's checks (peer-reflexive).
    if (ends_with(candidate_address(c.candidate), ".local"))
      return {Action::drop, "mDNS candidate"};
  }
  if (c.mline_index > 16) return {Action::reject, "sdpMLineIndex out of range"};
  if (++candidates_seen_ > kMaxCandidates) return {Action::reject, "too many candidates"};
  if (state_ == State::awaiting_offer || state_ == State::answering) {
    held_.push_back(std::move(c));
    return {Action::hold, {}};
  }
  return {Action::apply, {}};
}

const char* to_string(Negotiation::State state) {
  switch (state) {
    case Negotiation::State::awaiting_offer:
      return "awaiting-offer";
    case Negotiation::State::answering:
      return "answering";
    case Negotiation::State::answered:
      return "answered";
    case Negotiation::State::connected:
      return "connected";
    case Negotiation::State::failed:
      return "failed";
  }
  return "?";
}

}  // namespace cs::streaming
