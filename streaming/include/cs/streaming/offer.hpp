#pragma once
// What we need from a browser's SDP offer to answer it with our one H.264
// stream. Pure: any thread.
#include <optional>
#include <string>

namespace cs::streaming {

inline constexpr const char* kPlayoutDelayUri =
    "http://www.webrtc.org/experiments/rtp-hdrext/playout-delay";

// What a viewer's offer must include, named in the error when it does not.
inline constexpr const char* kSendableCodecs = "H264 (packetization-mode=1)";

struct OfferSummary {
  unsigned video_mline = 0;       // index of the first video m-line
  int h264_payload_type = -1;     // chosen H.264 payload, packetization-mode=1
  std::string profile_level_id;   // of that payload, if given
  int playout_delay_ext_id = -1;  // extmap id the browser offers, or -1
};

struct OfferAnalysis {
  std::optional<OfferSummary> summary;
  std::string error;  // why the offer cannot be answered
};

// Prefers constrained baseline (42e0xx, then 42xxxx), the profile we encode.
OfferAnalysis analyse_offer(const std::string& sdp);

}  // namespace cs::streaming
