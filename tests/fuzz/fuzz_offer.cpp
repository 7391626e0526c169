// Fuzzes a browser's SDP offer (analyse_offer, GstSDP underneath) and the
// remote ICE candidates of one viewer (Negotiation::on_remote_candidate).
// Properties besides "no crash, no leak, no UB":
// - an accepted offer names a real video m-line, an RTP payload type (0-127)
//   and an extmap id in 1-14 or none;
// - a candidate is only ever applied or held when it is one webrtcbin reads
//   as a candidate (or the empty end-of-candidates), short, on one line; never
//   more than kMaxCandidates are held or applied.
// The input is the offer; each of its lines (without "a=") is also a
// candidate, and the lines "offer", "answer", "connected" and "failed" move
// the negotiation on instead.
#include <gst/gst.h>
#include <gst/sdp/sdp.h>

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>

#include "cs/streaming/negotiation.hpp"
#include "cs/streaming/offer.hpp"

namespace {

using cs::streaming::Negotiation;
using cs::streaming::RemoteCandidate;

void require(bool ok) {
  if (!ok) std::abort();
}

struct SdpMessageDeleter {
  void operator()(GstSDPMessage* m) const { gst_sdp_message_free(m); }
};

void check_offer(const std::string& sdp) {
  const cs::streaming::OfferAnalysis a = cs::streaming::analyse_offer(sdp);
  require(a.summary.has_value() == a.error.empty());
  if (!a.summary) return;
  const auto& s = *a.summary;
  require(s.payload_type >= 0 && s.payload_type <= 127);
  require(s.playout_delay_ext_id == -1 ||
          (s.playout_delay_ext_id >= 1 && s.playout_delay_ext_id <= 14));
  // The m-line it names is a video one of the same offer.
  GstSDPMessage* raw = nullptr;
  require(gst_sdp_message_new_from_text(sdp.c_str(), &raw) == GST_SDP_OK && raw);
  std::unique_ptr<GstSDPMessage, SdpMessageDeleter> message(raw);
  require(s.video_mline < gst_sdp_message_medias_len(message.get()));
  const GstSDPMedia* media = gst_sdp_message_get_media(message.get(), s.video_mline);
  require(media->media && std::string_view(media->media) == "video");
}

bool acceptable(const RemoteCandidate& c) {
  if (c.mline_index > 16) return false;
  if (c.candidate.empty()) return true;
  return c.candidate.rfind("candidate:", 0) == 0 && c.candidate.size() <= 1024 &&
         c.candidate.find_first_of("\r\n") == std::string::npos;
}

void check_candidates(std::string_view text) {
  using Action = Negotiation::CandidateDecision::Action;
  Negotiation n;
  std::size_t accepted = 0;  // applied or held
  std::size_t held = 0;
  auto release = [&] {
    for (const RemoteCandidate& c : n.on_answer_sent()) {
      require(acceptable(c));
      --held;
    }
    require(held == 0);
  };
  std::size_t pos = 0;
  unsigned line_no = 0;
  while (pos <= text.size()) {
    std::size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (line == "offer") {
      (void)n.on_offer();
    } else if (line == "answer") {
      release();
    } else if (line == "connected") {
      n.on_connected();
    } else if (line == "failed") {
      n.on_failed();
    } else {
      if (line.substr(0, 2) == "a=") line.remove_prefix(2);
      // Mostly m-line 0, sometimes an index past the limit.
      RemoteCandidate c{line_no % 7 == 0 ? line_no : 0, std::string(line)};
      const bool ok = acceptable(c);
      const auto d = n.on_remote_candidate(c);
      if (d.action == Action::apply || d.action == Action::hold) {
        require(ok);
        ++accepted;
        if (d.action == Action::hold) ++held;
      } else {
        require(!d.reason.empty());
      }
    }
  }
  require(accepted <= Negotiation::kMaxCandidates);
  release();
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  gst_init(nullptr, nullptr);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  check_offer(text);
  check_candidates(text);
  return 0;
}
