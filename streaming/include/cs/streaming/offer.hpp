#pragma once
// What we need from a browser's SDP offer to answer it: the best codec it
// offers among those the server sends (CS_CODECS order), and its payload
// type. Pure: any thread.
#include <optional>
#include <string>
#include <vector>

#include "cs/config.hpp"

namespace cs::streaming {

inline constexpr const char* kPlayoutDelayUri =
    "http://www.webrtc.org/experiments/rtp-hdrext/playout-delay";

// What a viewer's offer must include, named in the error when it does not:
// "H264 (packetization-mode=1), VP8".
std::string sendable_codecs(const std::vector<VideoCodec>& codecs);

struct OfferSummary {
  unsigned video_mline = 0;  // index of the first video m-line
  VideoCodec codec = VideoCodec::h264;
  int payload_type = -1;          // the chosen codec's (H.264: packetization-mode=1)
  std::string profile_level_id;   // H.264: of that payload, if given
  int playout_delay_ext_id = -1;  // extmap id the browser offers, or -1
  // The first audio m-line the viewer can receive Opus on (CS_AUDIO): its
  // index and Opus payload type; -1 when the offer has none (video only).
  int audio_mline = -1;
  int opus_payload_type = -1;
};

struct OfferAnalysis {
  std::optional<OfferSummary> summary;
  std::string error;  // why the offer cannot be answered
};

// Takes the first of `codecs` the offer has. For H.264 it prefers
// constrained baseline (42e0xx, then 42xxxx), the profile we encode; VP9
// must be profile 0 (or unspecified).
OfferAnalysis analyse_offer(const std::string& sdp,
                            const std::vector<VideoCodec>& codecs = {VideoCodec::h264});

}  // namespace cs::streaming
