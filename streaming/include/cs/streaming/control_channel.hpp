#pragma once
// One viewer's control data channel (SCTP over its DTLS transport; the
// protocol is cs::control's). webrtcbin announces the channel and delivers
// its messages on its own threads: attach() runs there, in the
// on-data-channel callback, so that no message can arrive before its
// handler; every message then goes to the main loop through `post`, as
// text, for the viewer it was attached for. Everything else (send, the
// destructor) is main-loop only.
#include <gst/webrtc/webrtc.h>

#include <functional>
#include <memory>
#include <string>

#include "cs/streaming/gst_ref.hpp"

namespace cs::streaming {

class ControlChannel {
 public:
  // Called with each message: text, or empty `text` and `binary` true for a
  // binary one (refused by the protocol). Runs on webrtcbin's thread and
  // must only post to the main loop.
  using Deliver = std::function<void(std::string text, bool binary)>;

  static std::unique_ptr<ControlChannel> attach(GstWebRTCDataChannel* channel, Deliver deliver);
  ~ControlChannel();
  ControlChannel(const ControlChannel&) = delete;
  ControlChannel& operator=(const ControlChannel&) = delete;

  // False (with `error`) when the channel cannot take it (closing, full).
  bool send(const std::string& text, std::string& error);

 private:
  explicit ControlChannel(GstWebRTCDataChannel* channel);
  GRef<GstWebRTCDataChannel> channel_;
  gulong on_string_ = 0, on_data_ = 0;
};

}  // namespace cs::streaming
