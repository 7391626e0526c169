#include "cs/streaming/negotiation.hpp"

#include <string_view>

namespace cs::streaming {
namespace {

bool ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

std::vector<std::string_view> split_spaces(std::string_view text) {
  std::vector<std::string_view> fields;
  size_t pos = 0;
  while (pos <= text.size()) {
    size_t end = text.find(' ', pos);
    if (end == std::string_view::npos) end = text.size();
    fields.push_back(text.substr(pos, end - pos));
    pos = end + 1;
  }
  return fields;
}

// "candidate:<foundation> <component> <transport> <priority> <address> ..."
std::string_view candidate_address(std::string_view c) {
  const auto fields = split_spaces(c);
  return fields.size() > 4 ? fields[4] : std::string_view();
}

bool all_of(std::string_view s, bool (*ok)(char)) {
  if (s.empty()) return false;
  for (char ch : s)
    if (!ok(ch)) return false;
  return true;
}

bool is_digit(char ch) {
  return ch >= '0' && ch <= '9';
}
// RFC 8839 ice-char: ALPHA / DIGIT / "+" / "/"
bool is_ice_char(char ch) {
  return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || is_digit(ch) || ch == '+' ||
         ch == '/';
}
// An IPv4/IPv6 literal or a host name (mDNS "<uuid>.local"): no parsing
// beyond the characters, libnice resolves or rejects the rest.
bool is_address_char(char ch) {
  return is_ice_char(ch) || ch == '.' || ch == ':' || ch == '-' || ch == '_' || ch == '%';
}
bool is_token_char(char ch) {
  return ch > ' ' && ch < 0x7f;
}

bool number_in(std::string_view s, size_t max_digits, unsigned long long max) {
  if (!all_of(s, is_digit) || s.size() > max_digits) return false;
  unsigned long long v = 0;
  for (char ch : s) v = v * 10 + static_cast<unsigned>(ch - '0');
  return v <= max;
}

}  // namespace

// RFC 8839 section 5.1: "candidate:" foundation SP component-id SP transport
// SP priority SP connection-address SP port SP "typ" SP cand-type, then
// name/value pairs (raddr, rport, tcptype, generation, ufrag, ...).
std::optional<std::string> candidate_syntax_error(std::string_view c) {
  constexpr std::string_view kPrefix = "candidate:";
  if (c.substr(0, kPrefix.size()) != kPrefix) return "candidate must start with 'candidate:'";
  const auto f = split_spaces(c.substr(kPrefix.size()));
  if (f.size() < 8) return "candidate has fewer than 8 fields";
  if (!all_of(f[0], is_ice_char) || f[0].size() > 32) return "candidate foundation is malformed";
  if (!number_in(f[1], 3, 256) || f[1] == "0") return "candidate component-id is malformed";
  if (!all_of(f[2], is_token_char) || f[2].size() > 16) return "candidate transport is malformed";
  if (!number_in(f[3], 10, 4294967295ULL)) return "candidate priority is malformed";
  if (!all_of(f[4], is_address_char) || f[4].size() > 253) return "candidate address is malformed";
  if (!number_in(f[5], 5, 65535)) return "candidate port is malformed";
  if (f[6] != "typ") return "candidate lacks 'typ'";
  if (!all_of(f[7], is_token_char)) return "candidate type is malformed";
  if ((f.size() - 8) % 2 != 0) return "candidate extension has a name without a value";
  for (size_t i = 8; i < f.size(); i += 2) {
    if (!all_of(f[i], is_token_char) || !all_of(f[i + 1], is_token_char))
      return "candidate extension is malformed";
    if (f[i] == "raddr" && (!all_of(f[i + 1], is_address_char) || f[i + 1].size() > 253))
      return "candidate raddr is malformed";
    if (f[i] == "rport" && !number_in(f[i + 1], 5, 65535)) return "candidate rport is malformed";
  }
  return std::nullopt;
}

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
  if (c.mline_index > 16) return {Action::reject, "sdpMLineIndex out of range"};
  if (state_ == State::failed) return {Action::drop, "connection failed"};
  if (!c.candidate.empty()) {
    // Checked now, before any offer too: a held candidate that webrtcbin
    // refuses later could not be answered any more (1.22 takes some bad
    // strings as end-of-candidates without a word).
    if (c.candidate.size() > 1024) return {Action::reject, "candidate too long"};
    if (auto error = candidate_syntax_error(c.candidate)) return {Action::reject, *error};
    // mDNS names leak a resolver each in webrtcbin 1.22.0; ICE still
    // connects through the browser's checks (peer-reflexive).
    if (ends_with(candidate_address(c.candidate), ".local"))
      return {Action::drop, "mDNS candidate"};
  }
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

std::string_view candidate_type(std::string_view c) {
  const auto fields = split_spaces(c);
  for (std::size_t i = 0; i + 1 < fields.size(); ++i)
    if (fields[i] == "typ") return fields[i + 1];
  return {};
}

std::string announce_host_address(std::string_view c, std::string_view public_ip) {
  if (public_ip.empty() || candidate_type(c) != "host") return std::string(c);
  const auto fields = split_spaces(c);
  if (fields.size() <= 4) return std::string(c);
  const auto begin = static_cast<std::size_t>(fields[4].data() - c.data());
  std::string out(c);
  out.replace(begin, fields[4].size(), public_ip);
  return out;
}

namespace {
// "c=IN IP4 10.0.0.1" → "c=IN IP4 <public_ip>" (IP6 for an IPv6 address).
std::string announce_connection_line(std::string_view line, std::string_view public_ip) {
  if (line == "c=IN IP4 0.0.0.0") return std::string(line);  // no address yet: keep it so
  const char* family = public_ip.find(':') == std::string_view::npos ? "IP4" : "IP6";
  return "c=IN " + std::string(family) + " " + std::string(public_ip);
}
}  // namespace

std::string announce_host_addresses_in_sdp(std::string_view sdp, std::string_view public_ip) {
  if (public_ip.empty()) return std::string(sdp);
  std::string out;
  std::size_t pos = 0;
  while (pos < sdp.size()) {
    std::size_t end = sdp.find('\n', pos);
    if (end == std::string_view::npos) end = sdp.size();
    std::string_view line = sdp.substr(pos, end - pos);
    const bool cr = !line.empty() && line.back() == '\r';
    if (cr) line.remove_suffix(1);
    if (line.rfind("a=candidate:", 0) == 0)
      out += "a=" + announce_host_address(line.substr(2), public_ip);
    else if (line.rfind("c=IN ", 0) == 0)
      out += announce_connection_line(line, public_ip);
    else
      out += line;
    if (cr) out += '\r';
    if (end < sdp.size()) out += '\n';
    pos = end + 1;
  }
  return out;
}

}  // namespace cs::streaming
