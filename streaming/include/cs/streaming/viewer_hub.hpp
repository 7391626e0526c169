#pragma once
// All viewers of the shared pipeline: their negotiation, their branches and
// their lifetime. Every method runs on the GLib main loop; webrtcbin's
// callbacks (its own threads) come back to it through idle sources that name
// the viewer by id, so a callback for a viewer already gone does nothing.
#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <gst/webrtc/webrtc.h>

#include "cs/control/steering.hpp"
#include "cs/log.hpp"
#include "cs/refusals.hpp"
#include "cs/render/scene.hpp"
#include "cs/streaming/negotiation.hpp"
#include "cs/streaming/viewer_media.hpp"

namespace cs::streaming {

using ViewerId = std::uint64_t;
class ControlChannel;

// How the hub talks back to a viewer; implemented by the app over the
// signaling server. Called on the main loop.
class ViewerOutbox {
 public:
  virtual ~ViewerOutbox() = default;
  virtual void send_answer(ViewerId id, const std::string& sdp) = 0;
  virtual void send_candidate(ViewerId id, unsigned mline_index, const std::string& candidate) = 0;
  virtual void send_error(ViewerId id, const std::string& message) = 0;
  // The viewer is refused or cut off for `reason`; close() follows. A
  // transport that answers with a status (WHEP) maps the reason to one.
  virtual void send_refusal(ViewerId id, Refusal /*reason*/, const std::string& message) {
    send_error(id, message);
  }
  // The server's candidates are all out (ICE gathering complete).
  virtual void gathering_done(ViewerId /*id*/) {}
  // What the viewer receives: after the answer, and after every rung switch.
  virtual void send_rendition(ViewerId id, const RenditionInfo& rendition) = 0;
  virtual void close(ViewerId id) = 0;
};

struct HubSettings {
  int max_viewers = 32;  // viewers that have sent an offer
  // CS_CODECS: each viewer gets the first of these its offer has.
  std::vector<VideoCodec> codecs = {VideoCodec::h264};
  int rungs = 1;  // the ladder's, for checking an offer's pinned rung
  // From the socket opening to the media connecting; then an error and the
  // socket is closed. A socket that never offers holds no viewer slot and
  // starts no rendering, but it lives until then.
  int negotiation_timeout_s = 30;
  // Sockets open at once that have not offered yet; further ones are refused.
  int max_waiting_sockets = 64;
  // A connected viewer that sends nothing over its media transport for this
  // long, or for twice the longest silence it has shown before if that is
  // longer, is gone. Chromium reports (RTCP) every second, a GStreamer
  // receiver only every 5-8 s (measured: up to 7.1 s of silence); a frozen
  // viewer's WebSocket stops answering pings within 8 s as well.
  int peer_silence_timeout_s = 9;
  // CS_ICE_PUBLIC_IP: announced in host candidates (answer and trickled).
  std::string public_ip;
  // For the checks when a viewer's gathering completes, and their messages:
  // the TURN relays ("host:port", no credentials) and CS_ICE_PORT_RANGE.
  std::vector<std::string> turn_relays;
  std::string port_range;  // "50000-50100", or empty
  // Where refusals are counted by reason (/metrics); may be null.
  RefusalCounts* refusals = nullptr;
  // CS_CONTROL: who may steer over the control data channel, and where
  // accepted steering goes (the render loop; thread-safe). No `steer`: the
  // channel still answers, steering is refused.
  ControlPolicy control = ControlPolicy::all;
  std::function<void(const render::SceneInput&)> steer;
};

// What an offer asks for beside its SDP.
struct OfferChoices {
  std::optional<int> rung;  // pinned to this rung of the ladder
  // Lip sync: the picture waits for the sound. The video goes without the
  // zero playout-delay extension, so the browser may hold frames back to
  // match its sound's jitter buffer and output (README "Sound").
  bool lip_sync = false;
};

class ViewerHub {
 public:
  // `on_activity(true)` when the first viewer offers, `(false)` when the
  // last one leaves: the app starts and stops rendering on it. A socket
  // that has not offered is not a viewer yet: it takes no slot.
  ViewerHub(const HubSettings& settings, MediaSource& media, ViewerOutbox& outbox,
            std::function<void(bool active)> on_activity);
  ~ViewerHub();

  // `remote`: the client's address, carried in this viewer's log lines.
  void on_connected(ViewerId id, const std::string& remote = {});
  void on_offer(ViewerId id, const std::string& sdp, const OfferChoices& choices = {});
  void on_candidate(ViewerId id, unsigned mline_index, const std::string& candidate);
  // The viewer's transport is gone (its socket closed, its WHEP session deleted).
  void on_disconnected(ViewerId id, const std::string& why = "socket closed");
  // A bus error from inside some viewer's branch: drop that viewer only.
  bool on_element_error(GstObject* source, const std::string& message);
  void close_all();

  // A viewer's log context: its id and remote address (empty when unknown).
  log::Viewer who(ViewerId id) const;

  std::size_t viewer_count() const;  // sockets that have offered
  std::size_t connected_count() const;
  // viewer_count() as of the last change, readable from any thread (/stats).
  const std::atomic<int>& published_viewer_count() const { return published_count_; }

 private:
  struct Viewer;
  Viewer* find(ViewerId id);
  void remove(ViewerId id, const std::string& why);
  // Sends `message`, removes the viewer and closes its socket.
  void refuse(ViewerId id, Refusal reason, const std::string& message, const std::string& why);
  void on_negotiation_timeout(ViewerId id);
  void start_answer(ViewerId id, Viewer& viewer);
  void on_remote_description_set(ViewerId id);
  void on_answer_created(ViewerId id, GstWebRTCSessionDescription* answer);
  void on_local_candidate(ViewerId id, unsigned mline_index, const std::string& candidate);
  void on_connection_state(ViewerId id, int state);
  void on_gathering_done(ViewerId id);
  void on_host_candidates_due(ViewerId id);
  void apply_candidate(Viewer& viewer, const RemoteCandidate& candidate);
  void connect_signals(ViewerId id, Viewer& viewer);
  void on_control_channel(ViewerId id, std::shared_ptr<ControlChannel> channel);
  void on_control_message(ViewerId id, const std::string& text, bool binary);
  void send_control(ViewerId id, Viewer& viewer, const std::string& text);
  void tell_steering(const std::vector<std::uint64_t>& changed);
  void update_activity();
  void remove_silent_viewers();

  HubSettings settings_;
  MediaSource& media_;
  ViewerOutbox& outbox_;
  std::function<void(bool)> on_activity_;
  std::map<ViewerId, std::unique_ptr<Viewer>> viewers_;
  control::Steering steering_;
  bool active_ = false;
  std::atomic<int> published_count_{0};
  std::uint64_t next_name_ = 0;
  guint liveness_timer_ = 0;
};

}  // namespace cs::streaming
