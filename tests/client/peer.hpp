#pragma once
// One receiving WebRTC peer connection: a pipeline holding a webrtcbin with a
// single recvonly video transceiver offering the given codecs (best first)
// and, once media arrives, a depay (and optionally decode) chain for the
// codec the server sends, ending in an appsink that feeds FrameStats.
#include <gst/gst.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "control_script.hpp"
#include "frame_stats.hpp"
#include "options.hpp"
#include "raii.hpp"
#include "sound_stats.hpp"

namespace cstest {

enum class PeerMode { Decode, NoDecode };

// ICE servers in webrtcbin's URI form, and the transport policy.
struct PeerIce {
  std::string stun_server;
  std::vector<std::string> turn_servers;
  bool relay_only = false;
};

class Peer {
 public:
  struct Callbacks {  // invoked on the main loop thread
    std::function<void(const std::string& sdp)> on_offer;
    std::function<void(guint mline, const std::string& candidate)> on_candidate;
  };

  Peer(int id, PeerMode mode, FrameStats& stats, Callbacks callbacks, PeerIce ice = {},
       std::vector<Codec> codecs = {Codec::H264, Codec::VP8}, SoundStats* sound = nullptr);
  ~Peer();
  Peer(const Peer&) = delete;
  Peer& operator=(const Peer&) = delete;

  // Builds the pipeline and starts it; the offer follows via on_offer.
  bool start();
  // Called (main loop thread) once ICE gathering has completed; set before
  // start().
  void set_on_gathering_complete(std::function<void()> fn) {
    on_gathering_complete_ = std::move(fn);
  }
  void set_answer(const std::string& sdp);
  // Answerer mode, for servers that offer (the Janus API): call instead of
  // waiting for on_offer, after start() with `answerer` set; the answer comes
  // via on_answer.
  void set_remote_offer(const std::string& sdp);
  // Before start(): no transceiver of its own, no offer; the remote offer's
  // media are received.
  void set_answerer() { answerer_ = true; }
  // Before start(): open the control data channel for this script.
  void set_control(ControlScript* control) { control_ = control; }
  // Answerer mode: the answer (already the local description), main loop.
  void set_on_answer(std::function<void(const std::string& sdp)> fn) { on_answer_ = std::move(fn); }
  void add_candidate(guint mline, const std::string& candidate);
  // Pipeline to NULL: no streaming-thread callbacks after this returns.
  void stop();
  bool ice_connected() const { return ice_connected_; }
  // Steady-clock ms when the connection state first became connected (ICE
  // and DTLS up), or -1.
  std::int64_t connected_at_ms() const { return connected_at_ms_; }
  const std::string& connection_state() const { return connection_state_; }

 private:
  bool build();
  bool add_transceiver();
  bool open_control_channel();
  void connect_signals();
  GstElement* make_sink_chain(const std::string& encoding_name);
  template <typename Fn>
  void post(Fn fn);

  static void on_negotiation_needed(GstElement* webrtc, gpointer self);
  static void on_offer_created(GstPromise* promise, gpointer self);
  static void on_answer_created(GstPromise* promise, gpointer self);
  static void on_ice_candidate(GstElement*, guint mline, gchar* candidate, gpointer self);
  static void on_pad_added(GstElement*, GstPad* pad, gpointer self);
  static void on_connection_state(GObject*, GParamSpec*, gpointer self);
  static void on_gathering_state(GObject*, GParamSpec*, gpointer self);
  static gboolean on_bus_message(GstBus*, GstMessage* msg, gpointer self);
  static GstFlowReturn on_new_sample(GstElement* appsink, gpointer self);
  static GstFlowReturn on_new_sound(GstElement* appsink, gpointer self);

  int id_;
  PeerMode mode_;
  FrameStats& stats_;
  Callbacks callbacks_;
  PeerIce ice_;
  std::vector<Codec> codecs_;
  SoundStats* sound_;                 // --audio: an Opus transceiver too; null: video only
  ControlScript* control_ = nullptr;  // --control
  std::function<void()> on_gathering_complete_;
  std::function<void(const std::string& sdp)> on_answer_;
  GstObjPtr<GstElement> pipeline_;
  GstElement* webrtc_ = nullptr;  // owned by pipeline_
  SourceId bus_watch_;            // after pipeline_: removed before the pipeline is released
  bool answerer_ = false;
  bool offer_requested_ = false;  // main loop
  bool ice_connected_ = false;
  std::int64_t connected_at_ms_ = -1;
  std::string connection_state_ = "new";
  // Lets callbacks queued to the main loop notice that the Peer is gone.
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

}  // namespace cstest
