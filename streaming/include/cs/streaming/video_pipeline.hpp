#pragma once
// The shared part of the graph: appsrc (NV12 from the GPU side, or RGBA →
// videoconvert) → 4:2:0 → frames tee → one Rendition per codec and rung in
// use (rendition.hpp: queue → [scale] → encoder → tee). The top H.264
// rendition always exists (the "primary": what a server with only H.264
// viewers on the top rung runs, and what the supervisor and recorder use);
// the others are made when a viewer needs one and go with the last. Viewer
// branches hang off a rendition's tee (viewer_branch.hpp).
//
// Threads: create/start/stop and the tee from the GLib main loop; acquire()
// and submit() from the render thread (they only touch appsrc and a buffer
// pool, both thread-safe).
#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "cs/duration_stat.hpp"
#include "cs/render/cube_renderer.hpp"
#include "cs/render/frame_target.hpp"
#include "cs/streaming/encoder.hpp"
#include "cs/streaming/gst_ref.hpp"
#include "cs/streaming/rendition.hpp"

namespace cs::streaming {

struct PipelineSettings {
  EncoderSettings encoder;  // the top rung's; the ladder's rungs override bitrate and size
  std::string encoder_factory = "x264enc";  // H.264's
  std::vector<LadderRung> ladder;           // empty: one rung, `encoder`'s
  render::PixelFormat input_format = render::PixelFormat::nv12;
};

// Figures the pipeline measures itself (ms, recent frames), any thread.
struct PipelineTimes {
  DurationStat convert_ms;  // CPU colour conversion (RGBA input only)
  DurationStat encode_ms;
  DurationStat render_to_encoded_ms;  // capture time → encoder output
  DurationStat render_to_send_ms;     // capture time → packet handed to the network
  std::atomic<std::uint64_t> frames_in{0};
  std::atomic<std::uint64_t> frames_encoded{0};    // by every rendition
  std::atomic<std::uint64_t> frames_refused{0};    // rendered but not taken (a failed frame,
                                                   // not playing, appsrc refused it)
  std::atomic<std::uint64_t> keyframes_forced{0};  // force-key-unit requests reaching the encoder
  // Every viewer's traffic since the start (shared design; the counts
  // outlive the viewers). Written by streaming threads' probes and signals.
  std::atomic<std::uint64_t> bytes_sent{0};  // RTP and RTCP handed to the network
  std::atomic<std::uint64_t> packets_sent{0};
  std::atomic<std::uint64_t> nacks_received{0};   // RTCP generic NACK messages
  std::atomic<std::uint64_t> plis_received{0};    // RTCP PLI and FIR messages
  std::atomic<std::uint64_t> retransmissions{0};  // RTX packets sent (NACK answers)
};

// Records, per buffer passing a pad, how long ago its frame was captured
// (PTS + base time against the monotonic clock). Owned by the probe.
class AgeProbe {
 public:
  AgeProbe(GstElement* pipeline, DurationStat* window);
  static void attach(GstPad* pad, AgeProbe* probe);

 private:
  GstElement* pipeline_;
  DurationStat* window_;
};

// Times `element` from a buffer entering its sink pad to one leaving its src
// pad (one buffer in flight at a time, as in encoders and converters here).
// `started_ns` is scratch for the probes; `count` may be null.
void measure_element(GstElement* element, std::atomic<std::int64_t>* started_ns,
                     DurationStat* elapsed_ms, std::atomic<std::uint64_t>* count);

// Drops EOS events going down through `pad`: the live stream never ends,
// and a failing source's EOS must not end the viewers' sessions.
void drop_eos_on(GstPad* pad);

// A GstBuffer mapped for the render thread to write a frame into, and back.
render::FrameSlot map_for_writing(GstBuffer* buffer, std::size_t bytes);
GstBuffer* unmap_written(render::FrameSlot slot);

// Measures capture → network time at every nicesink inside `webrtcbin`.
void watch_network_sinks(GstElement* webrtcbin, GstElement* pipeline, DurationStat* window);

// Counts a connected viewer's traffic into `counters` (bytes and packets at
// its nicesinks, RTX packets at its rtprtxsend, NACK/PLI/FIR feedback from
// its RTP session). Main loop; a webrtcbin already counted is left alone.
void count_viewer_traffic(GstElement* webrtcbin, PipelineTimes* counters);

class VideoPipeline final : public render::FrameTarget {
 public:
  struct Result {
    std::unique_ptr<VideoPipeline> pipeline;
    std::string error;
  };
  static Result create(const PipelineSettings& settings);
  ~VideoPipeline() override;

  // PLAYING; returns the error text on failure.
  std::string start();
  void stop();

  GstElement* pipeline() const { return pipeline_.get(); }
  // The primary rendition's (top H.264).
  GstElement* tee() const { return primary_->tee(); }
  GstElement* encoder() const { return primary_->encoder(); }
  Rendition& primary() const { return *primary_; }

  // The rendition for `key`, made and started if none runs; each call is one
  // user, given back with release(). Null (and `error`) when it cannot be
  // made: an encoder missing or failing here.
  Rendition* acquire(const RenditionKey& key, std::string& error);
  // The last user gone, a rendition other than the primary stops.
  void release(const RenditionKey& key);
  // Rungs in the ladder (>= 1); renditions running now.
  int rungs() const { return static_cast<int>(ladder_.size()); }
  const std::vector<LadderRung>& ladder() const { return ladder_; }
  // The running rendition for `key`, or null (no user is added).
  Rendition* find(const RenditionKey& key) const;
  std::size_t rendition_count() const { return 1 + others_.size(); }
  // A rendition other than the primary whose stage `object` is, or null.
  Rendition* secondary_owning(GstObject* object) const;
  const PipelineSettings& settings() const { return settings_; }
  const PipelineTimes& times() const { return times_; }

  // The encoder in use (settings().encoder_factory until a replacement).
  const std::string& encoder_factory() const { return encoder_factory_; }
  // The same, from any thread (/metrics, /healthz).
  std::string encoder_in_use() const {
    std::lock_guard lock(encoder_name_mutex_);
    return encoder_name_;
  }
  // A bus message's source is part of the encoding front (appsrc, converter,
  // encoder, caps filters): its error means "the encoder failed".
  bool owns_encoder_stage(GstObject* object) const;
  // Swaps the encoder for a fresh one of `factory` while the tee and every
  // viewer branch stay as they are: the render thread's frames are refused
  // for the few milliseconds it takes, and the new encoder starts with an
  // IDR (SPS/PPS), so viewers continue without renegotiating. Returns the
  // error text on failure.
  std::string replace_encoder(const std::string& factory);

  // Asks the primary encoder for an IDR with SPS/PPS (throttled by the
  // encoder's min-force-key-unit-interval).
  void request_keyframe() { primary_->request_keyframe(); }
  // Adds capture → network timing to a connected viewer's webrtcbin.
  void watch_send_latency(GstElement* webrtcbin);

  // FrameTarget (render thread).
  render::FrameSlot acquire(std::size_t bytes) override;
  void submit(render::FrameSlot slot, const render::FrameInfo& info, bool ok) override;

 private:
  explicit VideoPipeline(const PipelineSettings& settings) : settings_(settings) {}
  std::string build();
  void install_stage_probes();
  Rendition::Spec spec_for(const RenditionKey& key) const;
  void update_primary_idle();

  PipelineSettings settings_;
  std::vector<LadderRung> ladder_;  // sizes filled in (0 = the frame's)
  ElementRef pipeline_;
  ElementRef appsrc_;
  ElementRef convert_;
  ElementRef input_caps_;
  ElementRef frames_tee_;
  std::unique_ptr<Rendition> primary_;
  struct InUse {
    std::unique_ptr<Rendition> rendition;
    int users = 0;
  };
  std::map<RenditionKey, InUse> others_;
  int primary_users_ = 0;
  std::string encoder_factory_;
  mutable std::mutex encoder_name_mutex_;
  std::string encoder_name_;  // encoder_factory_'s copy for other threads
  GRef<GstBufferPool> pool_;
  std::atomic<bool> playing_{false};
  GstClockTime frame_duration_ = GST_CLOCK_TIME_NONE;
  PipelineTimes times_;
  // Written on streaming threads by the probes, read by them only.
  std::atomic<std::int64_t> convert_in_ns_{0};
};

}  // namespace cs::streaming
