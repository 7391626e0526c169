#pragma once
// SPEC.md's signaling messages as types, parsed and written here only.
// Pure: any thread. Input never asserts; a bad message yields an error text.
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace cs::signaling {

struct OfferMessage {
  std::string sdp;
  std::optional<int> rung;  // "rung": pin the viewer to this rung of the ladder (0 = top)
  // "sync": true: the viewer wants its picture in step with its sound
  // (lip sync) rather than shown at once; README "Sound".
  bool lip_sync = false;
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

// {"type":"rendition","codec":"VP8","rung":1,"rungs":3,"kbps":1000,
//  "width":640,"height":360,"fps":30}: what the viewer receives now.
struct RenditionMessage {
  std::string codec;
  int rung = 0, rungs = 1, kbps = 0, width = 0, height = 0, fps = 0;
};
std::string rendition_json(const RenditionMessage& rendition);

// GET /ice-servers: the RTCConfiguration members the page passes to
// RTCPeerConnection, {"iceServers":[{"urls":[...]},{"urls":[...],
// "username":...,"credential":...}]}: STUN (if any) and every TURN URL
// with one pair of credentials.
struct IceServerList {
  std::string stun_url;                // "stun:host:port", or empty
  std::vector<std::string> turn_urls;  // "turn:host:port?transport=tcp", ...
  std::string username;
  std::string credential;
};
std::string ice_servers_json(const IceServerList& servers);

}  // namespace cs::signaling
