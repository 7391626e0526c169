#pragma once
// One viewer's control data channel (SCTP over its DTLS transport; the
// protocol is cs::control's). webrtcbin announces the channel and delivers
// its messages on its own threads. In the on-data-channel callback, on that
// thread: make(), hand the channel to the main loop, then listen(), so that
// no message can arrive before its handler, and none reaches the main loop
// before the channel does (one FIFO of idle sources). Every message goes to
// the main loop as text. Everything else (send) is main-loop only; the
// destructor runs wherever the last reference goes.
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

  static std::shared_ptr<ControlChannel> make(GstWebRTCDataChannel* channel);
  // Once, on the thread that made it, right after handing it to the main
  // loop (which only stores it until its first message comes).
  void listen(Deliver deliver);
  ~ControlChannel();
  ControlChannel(const ControlChannel&) = delete;
  ControlChannel& operator=(const ControlChannel&) = delete;

  // False (with `error`) when the channel cannot take it (closing, full).
  bool send(const std::string& text, std::string& error);

 private:
  explicit ControlChannel(GstWebRTCDataChannel* channel);
  // Written by listen(), read by the destructor: never at once, since the
  // thread in listen() holds a reference.
  GRef<GstWebRTCDataChannel> channel_;
  gulong on_string_ = 0, on_data_ = 0;
};

}  // namespace cs::streaming
