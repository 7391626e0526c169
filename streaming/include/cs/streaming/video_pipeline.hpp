#pragma once
// The shared part of the graph: appsrc (NV12 from the GPU side, or RGBA →
// videoconvert) → 4:2:0 → encoder →
// H.264 caps → tee. One encoder serves every viewer; viewer branches hang
// off the tee (viewer_branch.hpp).
//
// Threads: create/start/stop and the tee from the GLib main loop; acquire()
// and submit() from the render thread (they only touch appsrc and a buffer
// pool, both thread-safe).
#include <atomic>
#include <memory>
#include <string>

#include "cs/render/cube_renderer.hpp"
#include "cs/render/frame_target.hpp"
#include "cs/sample_window.hpp"
#include "cs/streaming/encoder.hpp"
#include "cs/streaming/gst_ref.hpp"

namespace cs::streaming {

struct PipelineSettings {
  EncoderSettings encoder;
  std::string encoder_factory = "x264enc";
  render::PixelFormat input_format = render::PixelFormat::nv12;
};

// Figures the pipeline measures itself (ms, recent frames), any thread.
struct PipelineTimes {
  SampleWindow<> convert_ms;  // CPU colour conversion (RGBA input only)
  SampleWindow<> encode_ms;
  SampleWindow<> render_to_encoded_ms;  // capture time → encoder output
  SampleWindow<> render_to_send_ms;     // capture time → packet handed to the network
  std::atomic<std::uint64_t> frames_in{0};
  std::atomic<std::uint64_t> frames_encoded{0};
};

// Records, per buffer passing a pad, how long ago its frame was captured
// (PTS + base time against the monotonic clock). Owned by the probe.
class AgeProbe {
 public:
  AgeProbe(GstElement* pipeline, SampleWindow<>* window);
  static void attach(GstPad* pad, AgeProbe* probe);

 private:
  GstElement* pipeline_;
  SampleWindow<>* window_;
};

// Times `element` from a buffer entering its sink pad to one leaving its src
// pad (one buffer in flight at a time, as in encoders and converters here).
// `started_ns` is scratch for the probes; `count` may be null.
void measure_element(GstElement* element, std::atomic<std::int64_t>* started_ns,
                     SampleWindow<>* elapsed_ms, std::atomic<std::uint64_t>* count);

// A GstBuffer mapped for the render thread to write a frame into, and back.
render::FrameSlot map_for_writing(GstBuffer* buffer, std::size_t bytes);
GstBuffer* unmap_written(render::FrameSlot slot);

// Measures capture → network time at every nicesink inside `webrtcbin`.
void watch_network_sinks(GstElement* webrtcbin, GstElement* pipeline, SampleWindow<>* window);

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
  GstElement* tee() const { return tee_.get(); }
  GstElement* encoder() const { return encoder_.get(); }
  const PipelineSettings& settings() const { return settings_; }
  const PipelineTimes& times() const { return times_; }

  // The encoder in use (settings().encoder_factory until a replacement).
  const std::string& encoder_factory() const { return encoder_factory_; }
  // A bus message's source is part of the encoding front (appsrc, converter,
  // encoder, caps filters): its error means "the encoder failed".
  bool owns_encoder_stage(GstObject* object) const;
  // Swaps the encoder for a fresh one of `factory` while the tee and every
  // viewer branch stay as they are: the render thread's frames are refused
  // for the few milliseconds it takes, and the new encoder starts with an
  // IDR (SPS/PPS), so viewers continue without renegotiating. Returns the
  // error text on failure.
  std::string replace_encoder(const std::string& factory);

  // Asks the shared encoder for an IDR with SPS/PPS (throttled by the
  // encoder's min-force-key-unit-interval).
  void request_keyframe();
  // Adds capture → network timing to a connected viewer's webrtcbin.
  void watch_send_latency(GstElement* webrtcbin);

  // FrameTarget (render thread).
  render::FrameSlot acquire(std::size_t bytes) override;
  void submit(render::FrameSlot slot, const render::FrameInfo& info, bool ok) override;

 private:
  explicit VideoPipeline(const PipelineSettings& settings) : settings_(settings) {}
  std::string build();
  void install_stage_probes();
  void install_encoder_probes();

  PipelineSettings settings_;
  ElementRef pipeline_;
  ElementRef appsrc_;
  ElementRef convert_;
  ElementRef input_caps_;
  ElementRef encoder_;
  ElementRef h264caps_;
  ElementRef tee_;
  std::string encoder_factory_;
  GRef<GstBufferPool> pool_;
  std::atomic<bool> playing_{false};
  GstClockTime frame_duration_ = GST_CLOCK_TIME_NONE;
  PipelineTimes times_;
  // Written on streaming threads by the probes, read by them only.
  std::atomic<std::int64_t> convert_in_ns_{0};
  std::atomic<std::int64_t> encode_in_ns_{0};
};

}  // namespace cs::streaming
