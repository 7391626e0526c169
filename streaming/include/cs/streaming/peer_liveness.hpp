#pragma once
// When a viewer's peer last sent us anything over its media transport
// (RTCP receiver reports, NACKs, DTLS: whatever reaches a nicesrc inside its
// webrtcbin). A live browser sends RTCP at least every second; a frozen or
// vanished one sends nothing while its TCP socket may stay open for minutes.
//
// Threads: construct and destroy on the GLib main loop; silent_ns() from
// any thread (the probes write an atomic on webrtcbin's streaming threads).
#include <gst/gst.h>

#include <atomic>
#include <cstdint>
#include <memory>

namespace cs::streaming {

class PeerLiveness {
 public:
  explicit PeerLiveness(GstElement* webrtcbin);
  ~PeerLiveness();
  PeerLiveness(const PeerLiveness&) = delete;
  PeerLiveness& operator=(const PeerLiveness&) = delete;

  // Monotonic nanoseconds since the last inbound packet (since construction
  // while none has arrived).
  std::int64_t silent_ns() const;
  // The longest silence between two inbound packets so far: how often this
  // peer reports (Chromium every second, GStreamer every 5-8 s).
  std::int64_t longest_gap_ns() const;

  struct Stamps {
    std::atomic<std::int64_t> last_ns;
    std::atomic<std::int64_t> longest_gap_ns{0};
  };

 private:
  std::shared_ptr<Stamps> stamps_;
  GstElement* webrtcbin_;  // borrowed: the viewer's media outlives this
  gulong handler_ = 0;
};

}  // namespace cs::streaming
