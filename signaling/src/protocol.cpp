#include "cs/signaling/protocol.hpp"

#include <nlohmann/json.hpp>

namespace cs::signaling {

using nlohmann::json;

ParsedMessage parse_client_message(std::string_view text) {
  if (text.size() > kMaxMessageBytes) return {std::nullopt, "message too large"};
  const json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return {std::nullopt, "message is not valid JSON"};
  if (!doc.is_object()) return {std::nullopt, "message must be a JSON object"};
  const auto type = doc.find("type");
  if (type == doc.end() || !type->is_string())
    return {std::nullopt, "message needs a string 'type'"};
  const auto& kind = type->get_ref<const std::string&>();

  if (kind == "offer") {
    const auto sdp = doc.find("sdp");
    if (sdp == doc.end() || !sdp->is_string() || sdp->get_ref<const std::string&>().empty())
      return {std::nullopt, "offer needs a non-empty string 'sdp'"};
    OfferMessage offer{sdp->get<std::string>(), std::nullopt, false};
    if (const auto rung = doc.find("rung"); rung != doc.end() && !rung->is_null()) {
      if (!rung->is_number_unsigned() || rung->get<std::uint64_t>() > 15)
        return {std::nullopt, "offer 'rung' must be a whole number from 0 (the top) to 15"};
      offer.rung = rung->get<int>();
    }
    if (const auto sync = doc.find("sync"); sync != doc.end() && !sync->is_null()) {
      if (!sync->is_boolean()) return {std::nullopt, "offer 'sync' must be true or false"};
      offer.lip_sync = sync->get<bool>();
    }
    return {offer, {}};
  }
  if (kind == "ice") {
    const auto candidate = doc.find("candidate");
    if (candidate == doc.end() || !(candidate->is_string() || candidate->is_null()))
      return {std::nullopt, "ice needs a string 'candidate'"};
    IceMessage ice;
    if (candidate->is_string()) ice.candidate = candidate->get<std::string>();
    const auto index = doc.find("sdpMLineIndex");
    if (index != doc.end() && !index->is_null()) {
      if (!index->is_number_unsigned() || index->get<std::uint64_t>() > 64)
        return {std::nullopt, "ice 'sdpMLineIndex' must be a small non-negative integer"};
      ice.sdp_mline_index = index->get<unsigned>();
    }
    return {ice, {}};
  }
  if (kind == "answer") return {std::nullopt, "the server answers; send an offer instead"};
  return {std::nullopt, "unknown message type '" + kind.substr(0, 32) + "'"};
}

namespace {

// The text may quote what a peer sent; bytes that are not UTF-8 become
// U+FFFD instead of throwing (dump()'s default), so every writer is total.
std::string dump(const json& doc) {
  return doc.dump(-1, ' ', false, json::error_handler_t::replace);
}

}  // namespace

std::string answer_json(std::string_view sdp) {
  return dump({{"type", "answer"}, {"sdp", sdp}});
}

std::string ice_json(std::string_view candidate, unsigned sdp_mline_index) {
  return dump({{"type", "ice"}, {"candidate", candidate}, {"sdpMLineIndex", sdp_mline_index}});
}

std::string error_json(std::string_view message) {
  return dump({{"type", "error"}, {"message", message}});
}

std::string rendition_json(const RenditionMessage& r) {
  return dump({{"type", "rendition"},
               {"codec", r.codec},
               {"rung", r.rung},
               {"rungs", r.rungs},
               {"kbps", r.kbps},
               {"width", r.width},
               {"height", r.height},
               {"fps", r.fps}});
}

std::string ice_servers_json(const IceServerList& servers) {
  nlohmann::json list = nlohmann::json::array();
  if (!servers.stun_url.empty()) list.push_back({{"urls", {servers.stun_url}}});
  if (!servers.turn_urls.empty()) {
    nlohmann::json turn = {{"urls", servers.turn_urls}};
    if (!servers.username.empty()) {
      turn["username"] = servers.username;
      turn["credential"] = servers.credential;
    }
    list.push_back(turn);
  }
  return nlohmann::json{{"iceServers", list}}.dump();
}

}  // namespace cs::signaling
