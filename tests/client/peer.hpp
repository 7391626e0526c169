#pragma once
// One receiving WebRTC peer connection: a pipeline holding a webrtcbin with a
// single recvonly H.264 transceiver and, once media arrives, a depay (and
// optionally decode) chain ending in an appsink that feeds FrameStats.
#include <gst/gst.h>

#include <functional>
#include <memory>
#include <string>

#include "frame_stats.hpp"
#include "raii.hpp"

namespace cstest {

enum class PeerMode { Decode, NoDecode };

class Peer {
 public:
  struct Callbacks {  // invoked on the main loop thread
    std::function<void(const std::string& sdp)> on_offer;
    std::function<void(guint mline, const std::string& candidate)> on_candidate;
  };

  Peer(int id, PeerMode mode, FrameStats& stats, Callbacks callbacks);
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
  void add_candidate(guint mline, const std::string& candidate);
  // Pipeline to NULL: no streaming-thread callbacks after this returns.
  void stop();
  bool ice_connected() const { return ice_connected_; }
  const std::string& connection_state() const { return connection_state_; }

 private:
  bool build();
  bool add_transceiver();
  void connect_signals();
  GstElement* make_sink_chain();
  template <typename Fn>
  void post(Fn fn);

  static void on_negotiation_needed(GstElement* webrtc, gpointer self);
  static void on_offer_created(GstPromise* promise, gpointer self);
  static void on_ice_candidate(GstElement*, guint mline, gchar* candidate, gpointer self);
  static void on_pad_added(GstElement*, GstPad* pad, gpointer self);
  static void on_connection_state(GObject*, GParamSpec*, gpointer self);
  static void on_gathering_state(GObject*, GParamSpec*, gpointer self);
  static gboolean on_bus_message(GstBus*, GstMessage* msg, gpointer self);
  static GstFlowReturn on_new_sample(GstElement* appsink, gpointer self);

  int id_;
  PeerMode mode_;
  FrameStats& stats_;
  Callbacks callbacks_;
  std::function<void()> on_gathering_complete_;
  GstObjPtr<GstElement> pipeline_;
  GstElement* webrtc_ = nullptr;  // owned by pipeline_
  SourceId bus_watch_;            // after pipeline_: removed before the pipeline is released
  bool ice_connected_ = false;
  std::string connection_state_ = "new";
  // Lets callbacks queued to the main loop notice that the Peer is gone.
  std::shared_ptr<int> alive_ = std::make_shared<int>(0);
};

}  // namespace cstest
