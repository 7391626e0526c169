#pragma once
// CS_FORWARD_RTP: the primary rendition's H.264 (top rung), sent once more as
// plain RTP to one address, e.g. a Janus Streaming-plugin mountpoint, with no
// second encode and whether or not anyone watches the server directly:
//   tee → queue (leaky) → rtph264pay (SPS/PPS before every IDR) → rtpsession
//       → udpsink (RTP to port)
//   rtpsession RTCP → udpsink ┐ one socket, bound once: RTCP goes to port+1
//   udpsrc → rtpsession RTCP  ┘ from it and comes back to it
// Janus learns where to send its keyframe requests (PLI/FIR) from the first
// RTCP packet it gets, so they come back to the socket the sender reports
// from; rtpsession turns them into a force-key-unit event upstream, which
// reaches the shared encoder through the tee as a viewer's PLI does (and is
// throttled the same way, by the encoder's min-force-key-unit-interval).
//
// Threads: start, on_error, stop and the destructor on the GLib main loop.
// The probes and RTCP callbacks run on streaming threads and only count.
#include <gio/gio.h>
#include <gst/gst.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "cs/config.hpp"
#include "cs/streaming/gst_ref.hpp"
#include "cs/streaming/primary_tap.hpp"
#include "cs/streaming/video_pipeline.hpp"

namespace cs::streaming {

// Every forward's traffic since the start (/metrics); any thread.
struct ForwardCounters {
  std::atomic<std::uint64_t> packets{0};        // RTP packets handed to the network
  std::atomic<std::uint64_t> bytes{0};          // their bytes (RTP header and payload)
  std::atomic<std::uint64_t> plis_received{0};  // RTCP PLI and FIR messages from the receivers
  std::atomic<std::uint64_t> rtcp_received{0};  // RTCP packets from the receivers
};

class RtpForward {
 public:
  struct Result {
    std::unique_ptr<RtpForward> forward;
    std::string error;
  };
  // Resolves the host (a name: once, now), binds the RTCP socket, builds the
  // branch and attaches it to the running pipeline's primary tee; the forward
  // counts as a user of the primary rendition, so it keeps encoding.
  static Result start(VideoPipeline& pipeline, const RtpTarget& target, ForwardCounters* counters);
  ~RtpForward();
  RtpForward(const RtpForward&) = delete;
  RtpForward& operator=(const RtpForward&) = delete;

  // A bus error from inside this forward's branch: logs it and ends the
  // forward, streaming goes on. False when the source is not this forward's.
  bool on_error(GstObject* source, const std::string& message);
  void stop(const std::string& why);
  bool forwarding() const { return tap_.attached(); }
  // "10.77.0.1:5004" (RTCP on 5005).
  const std::string& name() const { return name_; }

 private:
  RtpForward(VideoPipeline& pipeline, const RtpTarget& target, ForwardCounters* counters);
  std::string build();

  RtpTarget target_;
  ForwardCounters* counters_;
  std::string name_;
  GRef<GSocket> rtcp_socket_;  // shared by the RTCP udpsrc and udpsink; closed here
  PrimaryTap tap_;
};

}  // namespace cs::streaming
