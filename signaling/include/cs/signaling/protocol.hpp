#pragma once
// SPEC.md's signaling messages as types, parsed and written here only.
// Pure: any thread. Input never asserts; a bad message yields an error text.
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace cs::signaling {

struct OfferMessage {
  std::string sdp;
};

struct IceMessage {
  std::string candidate;  // "" = end of candidates
  unsigned sdp_mline_index = 0;
};

using ClientMessage = std::variant<OfferMessage, IceMessage>;

struct ParsedMessage {
  std::optional<ClientMessage> message;
  std::string error;  // set when message is empty
};

inline constexpr std::size_t kMaxMessageBytes = 64 * 1024;

ParsedMessage parse_client_message(std::string_view text);

std::string answer_json(std::string_view sdp);
std::string ice_json(std::string_view candidate, unsigned sdp_mline_index);
std::string error_json(std::string_view message);

}  // namespace cs::signaling
