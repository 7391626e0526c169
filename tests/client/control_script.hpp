#pragma once
// --control: the native viewer drives the server's control data channel
// (README "Steering the cube") as a test script. It opens the channel
// "control" before the offer; once open it sends, every kTickMs, first a
// message that is not JSON and one of an unknown type (each must earn an
// `error`), then a rotate each tick stamped with the wall clock. At the end
// each rotate is matched to the first frame whose timecode row 2 shows its
// stamp: applied or not, how many frames arrived until then, and the input
// -> photon time (that frame's arrival - the send).
// With --quality-steps it sends, after the two bad messages, a quality step
// every kQualityEveryTicks ticks instead, lower and higher in turn: the
// server switches this viewer between rungs on a clean link.
//
// Threads: attach(), the ticks, fill_json() and the destructor on the main
// loop; the channel's signals arrive on webrtcbin's threads (mutex_).
#include <gst/gst.h>
#ifndef GST_USE_UNSTABLE_API
#define GST_USE_UNSTABLE_API  // gst/webrtc: "unstable" in 1.22, used as is
#endif
#include <gst/webrtc/webrtc.h>

#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "frame_stats.hpp"
#include "raii.hpp"

namespace cstest {

class ControlScript {
 public:
  ControlScript(FrameStats& stats, bool quality_steps)
      : stats_(stats), quality_steps_(quality_steps) {}
  ~ControlScript();
  ControlScript(const ControlScript&) = delete;
  ControlScript& operator=(const ControlScript&) = delete;

  // The channel webrtcbin made (a reference is taken); starts the ticks.
  void attach(GstWebRTCDataChannel* channel);
  void fill_json(nlohmann::json& out) const;

 private:
  static constexpr guint kTickMs = 500;
  static constexpr int kQualityEveryTicks = 3;
  struct Sent {
    std::uint32_t stamp;
    std::int64_t wall_ms;
    std::uint64_t frames_before;  // frames that had arrived at the send
    bool steer;                   // what the server last said
  };

  static void on_open(GstWebRTCDataChannel*, gpointer self);
  static void on_message(GstWebRTCDataChannel*, gchar* text, gpointer self);
  static void on_close(GstWebRTCDataChannel*, gpointer self);
  static gboolean on_tick(gpointer self);
  void send(const std::string& text);

  FrameStats& stats_;
  const bool quality_steps_;
  int quality_sent_ = 0;  // main loop
  GObjPtr<GstWebRTCDataChannel> channel_;
  SourceId tick_;
  int ticks_ = 0;  // main loop
  mutable std::mutex mutex_;
  bool open_ = false;
  bool closed_ = false;
  std::int64_t opened_wall_ms_ = 0;
  std::optional<bool> steer_;
  std::string policy_;
  std::vector<std::pair<std::int64_t, bool>> steer_changes_;  // wall ms, steer
  std::vector<std::string> errors_;                           // the first kMaxErrors
  std::uint64_t error_count_ = 0;
  std::vector<Sent> sent_;  // rotates
  static constexpr std::size_t kMaxErrors = 20;
  static constexpr std::size_t kMaxSent = 200;
};

}  // namespace cstest
