#include "cs/streaming/offer.hpp"

#include <gst/sdp/sdp.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <string_view>

namespace cs::streaming {
namespace {

struct SdpMessageDeleter {
  void operator()(GstSDPMessage* m) const { gst_sdp_message_free(m); }
};

// "a=fmtp:<pt> key=value;key=value" → value of key, or empty.
std::string fmtp_value(std::string_view fmtp, std::string_view key) {
  size_t pos = 0;
  while (pos < fmtp.size()) {
    size_t end = fmtp.find(';', pos);
    if (end == std::string_view::npos) end = fmtp.size();
    std::string_view item = fmtp.substr(pos, end - pos);
    while (!item.empty() && item.front() == ' ') item.remove_prefix(1);
    if (item.size() > key.size() && item.substr(0, key.size()) == key && item[key.size()] == '=')
      return std::string(item.substr(key.size() + 1));
    pos = end + 1;
  }
  return {};
}

int profile_rank(const std::string& profile_level_id) {
  if (profile_level_id.size() != 6) return 3;
  std::string p = profile_level_id;
  for (auto& ch : p) ch = static_cast<char>(std::tolower(ch));
  if (p.rfind("42e0", 0) == 0) return 0;
  if (p.rfind("42", 0) == 0) return 1;
  return 2;
}

// Attribute value "<pt> rest" for payload pt, or nullptr.
const char* attribute_for(const GstSDPMedia* media, const char* key, int pt) {
  for (guint i = 0; i < gst_sdp_media_attributes_len(media); ++i) {
    const GstSDPAttribute* a = gst_sdp_media_get_attribute(media, i);
    if (!a->key || !a->value || std::strcmp(a->key, key) != 0) continue;
    char* end = nullptr;
    const long value_pt = std::strtol(a->value, &end, 10);
    if (end != a->value && value_pt == pt && *end == ' ') return end + 1;
  }
  return nullptr;
}

int extmap_id(const GstSDPMedia* media, const GstSDPMessage* message, const char* uri) {
  auto scan = [uri](const char* value) -> int {
    if (!value) return -1;
    char* end = nullptr;
    const long id = std::strtol(value, &end, 10);
    if (end == value) return -1;
    if (*end == '/') end = std::strchr(end, ' ');  // "id/direction uri"
    if (!end) return -1;
    while (*end == ' ') ++end;
    return std::strncmp(end, uri, std::strlen(uri)) == 0 && id >= 1 && id <= 14
               ? static_cast<int>(id)
               : -1;
  };
  for (guint i = 0; i < gst_sdp_media_attributes_len(media); ++i) {
    const GstSDPAttribute* a = gst_sdp_media_get_attribute(media, i);
    if (a->key && std::strcmp(a->key, "extmap") == 0)
      if (int id = scan(a->value); id > 0) return id;
  }
  for (guint i = 0; i < gst_sdp_message_attributes_len(message); ++i) {
    const GstSDPAttribute* a = gst_sdp_message_get_attribute(message, i);
    if (a->key && std::strcmp(a->key, "extmap") == 0)
      if (int id = scan(a->value); id > 0) return id;
  }
  return -1;
}

// "VP8, VP9, H264 (packetization-mode=0)": what a video m-line offers, for
// the error that says why none of it will do.
std::string offered_codecs(const GstSDPMedia* media) {
  std::string out;
  for (guint f = 0; f < gst_sdp_media_formats_len(media) && f < 16; ++f) {
    const int pt = std::atoi(gst_sdp_media_get_format(media, f));
    const char* rtpmap = attribute_for(media, "rtpmap", pt);
    if (!rtpmap) continue;
    std::string_view name(rtpmap);
    name = name.substr(0, std::min<std::size_t>(name.find('/'), 16));
    if (name == "rtx" || name == "red" || name == "ulpfec" || name == "flexfec-03") continue;
    std::string item(name);
    for (char& ch : item)
      if (!g_ascii_isalnum(ch) && ch != '-' && ch != '_') ch = '?';
    if (item == "H264") {
      const char* fmtp = attribute_for(media, "fmtp", pt);
      const std::string mode = fmtp_value(fmtp ? fmtp : "", "packetization-mode");
      item += " (packetization-mode=" + (mode.empty() ? std::string("0") : mode.substr(0, 4)) + ")";
    }
    if (out.find(item) != std::string::npos) continue;
    if (!out.empty()) out += ", ";
    out += item;
  }
  return out.empty() ? "none" : out;
}

// The server only sends: a video m-line must let the viewer receive.
bool viewer_can_receive(const GstSDPMedia* media) {
  for (guint i = 0; i < gst_sdp_media_attributes_len(media); ++i) {
    const char* key = gst_sdp_media_get_attribute(media, i)->key;
    if (key && (std::strcmp(key, "sendonly") == 0 || std::strcmp(key, "inactive") == 0))
      return false;
  }
  return true;
}

// The offer's best payload of `codec`, or nothing.
std::optional<OfferSummary> best_payload(const GstSDPMedia* media, VideoCodec codec) {
  const std::string rtpmap_prefix = std::string(to_string(codec)) + "/90000";
  std::optional<OfferSummary> best;
  int best_rank = 100;
  for (guint f = 0; f < gst_sdp_media_formats_len(media); ++f) {
    const int pt = std::atoi(gst_sdp_media_get_format(media, f));
    const char* rtpmap = attribute_for(media, "rtpmap", pt);
    if (!rtpmap || g_ascii_strncasecmp(rtpmap, rtpmap_prefix.c_str(), rtpmap_prefix.size()) != 0)
      continue;
    const char* fmtp = attribute_for(media, "fmtp", pt);
    const std::string_view params = fmtp ? fmtp : "";
    int rank = 0;
    std::string profile;
    if (codec == VideoCodec::h264) {
      if (fmtp_value(params, "packetization-mode") != "1") continue;
      profile = fmtp_value(params, "profile-level-id");
      rank = profile_rank(profile);
    } else if (codec == VideoCodec::vp9) {
      const std::string vp9_profile = fmtp_value(params, "profile-id");
      if (!vp9_profile.empty() && vp9_profile != "0") continue;  // we encode profile 0
    }
    if (rank < best_rank) {
      best_rank = rank;
      best = OfferSummary{};
      best->codec = codec;
      best->payload_type = pt;
      best->profile_level_id = profile;
    }
  }
  return best;
}

// Port 0 rejects an m-line, unless it is "bundle-only" (RFC 8843): a
// max-bundle offerer (webrtcbin, some WHEP clients) puts every m-line after
// the first on the first one's transport that way.
bool rejected(const GstSDPMedia* media) {
  return media->port == 0 && gst_sdp_media_get_attribute_val(media, "bundle-only") == nullptr;
}

// A dynamic payload type (96-127, what rtpopuspay can send) written as
// digits only, or -1.
int dynamic_payload_type(const char* text) {
  const std::string_view digits(text ? text : "");
  int pt = -1;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), pt);
  if (ec != std::errc() || end != digits.data() + digits.size() || pt < 96 || pt > 127) return -1;
  return pt;
}

// The Opus payload of a receivable audio m-line, or -1.
int opus_payload(const GstSDPMedia* media) {
  if (!media->media || std::strcmp(media->media, "audio") != 0 || rejected(media) ||
      !viewer_can_receive(media))
    return -1;
  for (guint f = 0; f < gst_sdp_media_formats_len(media); ++f) {
    const int pt = dynamic_payload_type(gst_sdp_media_get_format(media, f));
    if (pt < 0) continue;
    const char* rtpmap = attribute_for(media, "rtpmap", pt);
    if (rtpmap && g_ascii_strncasecmp(rtpmap, "opus/48000", 10) == 0) return pt;
  }
  return -1;
}

void find_audio(const GstSDPMessage* message, OfferSummary& summary) {
  for (guint m = 0; m < gst_sdp_message_medias_len(message); ++m) {
    if (const int pt = opus_payload(gst_sdp_message_get_media(message, m)); pt >= 0) {
      summary.audio_mline = static_cast<int>(m);
      summary.opus_payload_type = pt;
      return;
    }
  }
}

}  // namespace

std::string sendable_codecs(const std::vector<VideoCodec>& codecs) {
  std::string out;
  for (const VideoCodec codec : codecs) {
    if (!out.empty()) out += ", ";
    out += to_string(codec);
    if (codec == VideoCodec::h264) out += " (packetization-mode=1)";
  }
  return out;
}

OfferAnalysis analyse_offer(const std::string& sdp, const std::vector<VideoCodec>& codecs) {
  // GstSDP reads a C string: what follows a NUL would go unseen.
  if (sdp.find('\0') != std::string::npos) return {std::nullopt, "offer SDP contains a NUL byte"};
  // GstSDP takes an empty text for a caller's bug (a critical, and a message
  // that is allocated though it does not parse).
  if (sdp.empty()) return {std::nullopt, "offer SDP is empty"};
  GstSDPMessage* raw = nullptr;
  const GstSDPResult parsed = gst_sdp_message_new_from_text(sdp.c_str(), &raw);
  // Own the message before looking at the result: it is allocated either way.
  std::unique_ptr<GstSDPMessage, SdpMessageDeleter> message(raw);
  if (parsed != GST_SDP_OK || !message) return {std::nullopt, "offer SDP does not parse"};

  std::string other_media;
  for (guint m = 0; m < gst_sdp_message_medias_len(message.get()); ++m) {
    const GstSDPMedia* media = gst_sdp_message_get_media(message.get(), m);
    if (!media->media || std::strcmp(media->media, "video") != 0 || rejected(media)) {
      if (media->media && other_media.size() < 64)
        other_media += (other_media.empty() ? "" : ", ") + std::string(media->media).substr(0, 16);
      continue;
    }
    if (!viewer_can_receive(media))
      return {std::nullopt, "offer's video is sendonly or inactive: the server only sends video"};
    std::optional<OfferSummary> best;
    for (const VideoCodec codec : codecs) {
      best = best_payload(media, codec);
      if (best) break;
    }
    if (!best)
      return {std::nullopt, "offer has no codec the server can send: the server sends " +
                                sendable_codecs(codecs) + "; the offer has " +
                                offered_codecs(media)};
    best->video_mline = m;
    best->playout_delay_ext_id = extmap_id(media, message.get(), kPlayoutDelayUri);
    find_audio(message.get(), *best);
    return {best, {}};
  }
  return {std::nullopt, "offer has no video m-line" +
                            (other_media.empty() ? std::string() : " (only " + other_media + ")")};
}

}  // namespace cs::streaming
