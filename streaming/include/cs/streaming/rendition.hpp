#pragma once
// One encoded stream fed by the rendered frames: a codec at one rung of the
// quality ladder, with its own encoder and fan-out.
//   frames tee → queue (leaky) → [videoscale → size caps] → [videoconvert]
//   → encoder → codec caps → tee
// Viewer branches hang off its tee. Built, changed and torn down on the GLib
// main loop; its encoder runs on the queue's streaming thread, so that two
// renditions encode on two cores at once.
#include <atomic>
#include <cstdint>
#include <string>

#include "cs/config.hpp"
#include "cs/duration_stat.hpp"
#include "cs/streaming/encoder.hpp"
#include "cs/streaming/gst_ref.hpp"

namespace cs::streaming {

struct RenditionKey {
  VideoCodec codec = VideoCodec::h264;
  int rung = 0;  // index into the ladder, 0 = top
  auto operator<=>(const RenditionKey&) const = default;
};

// What the viewer is told it receives (the "rendition" message).
struct RenditionInfo {
  VideoCodec codec = VideoCodec::h264;
  int rung = 0;
  int rungs = 1;
  int kbps = 0;
  int width = 0;
  int height = 0;
  int fps = 0;
};

// Figures every rendition adds to (the pipeline's, any thread).
struct EncodeCounters {
  DurationStat* encode_ms = nullptr;
  DurationStat* render_to_encoded_ms = nullptr;
  std::atomic<std::uint64_t>* keyframes_forced = nullptr;
  std::atomic<std::uint64_t>* frames_encoded = nullptr;  // by every encoder
};

// `object` is (inside) an element some rendition made, running or gone: a
// late error from a rendition already torn down is no reason to stop.
bool is_rendition_element(GstObject* object);

class Rendition {
 public:
  struct Spec {
    RenditionKey key;
    std::string factory;      // the encoder: x264enc, vp8enc, ...
    EncoderSettings encoder;  // its size is the rendition's output size
    int source_width = 0;     // the frames' size: a smaller output scales them
    int source_height = 0;
    int rungs = 1;
  };

  // Builds the elements into `pipeline` (not yet linked to the frames).
  static std::unique_ptr<Rendition> create(GstElement* pipeline, const Spec& spec,
                                           const EncodeCounters& counters, std::string& error);
  ~Rendition();
  Rendition(const Rendition&) = delete;
  Rendition& operator=(const Rendition&) = delete;

  // Starts its elements and links it to a new pad of `frames_tee`, in that
  // order, so frames reach only a running encoder.
  std::string start(GstElement* frames_tee);
  // Unlinks from the frames, stops and removes its elements.
  void stop();

  // Swaps the encoder for a fresh one of `factory`; the caller has stopped
  // the frames (see VideoPipeline::replace_encoder). Returns the error text.
  std::string replace_encoder(const std::string& factory);
  // Asks its encoder for a keyframe (with SPS/PPS) at the first frame from
  // `running_time` (NONE: the next one), throttled by the encoder's
  // min-force-key-unit-interval.
  void request_keyframe(GstClockTime running_time = GST_CLOCK_TIME_NONE);
  // A bus message's source is one of its elements.
  bool owns(GstObject* object) const;

  const RenditionKey& key() const { return spec_.key; }
  RenditionInfo info() const;
  const std::string& factory() const { return spec_.factory; }
  GstElement* tee() const { return tee_.get(); }
  GstElement* encoder() const { return encoder_.get(); }
  GstElement* queue() const { return queue_.get(); }
  std::uint64_t frames_encoded() const { return frames_encoded_.load(std::memory_order_relaxed); }
  // Frames that reached its encoder's queue while not idle.
  std::uint64_t frames_in() const { return frames_in_.load(std::memory_order_relaxed); }
  // Idle: frames are dropped at its door (nobody watches it); back on, the
  // encoder's next frame is a keyframe (asked for here).
  void set_idle(bool idle);
  bool idle() const { return idle_.load(std::memory_order_relaxed); }
  // Whole readable name, e.g. "VP8 rung 1 (1000 kbit/s, 640x360)".
  std::string describe() const;

 private:
  Rendition(GstElement* pipeline, const Spec& spec, const EncodeCounters& counters)
      : pipeline_(pipeline), spec_(spec), counters_(counters) {}
  std::string build();
  void install_encoder_probes();
  void name_encoder();
  void tag_elements();

  GstElement* pipeline_;  // borrowed: the pipeline outlives its renditions
  Spec spec_;
  EncodeCounters counters_;
  ElementRef queue_;
  ElementRef scale_;
  ElementRef size_caps_;
  ElementRef convert_;
  ElementRef encoder_;
  ElementRef codec_caps_;
  ElementRef tee_;
  GstElement* frames_tee_ = nullptr;
  PadRef frames_pad_;
  std::atomic<std::uint64_t> frames_encoded_{0};
  std::atomic<std::uint64_t> frames_in_{0};
  std::atomic<bool> idle_{false};
  std::atomic<bool> encoder_has_output_{false};  // its encoder sent a frame
  std::atomic<std::int64_t> encode_in_ns_{0};    // scratch for the encode-time probes
};

}  // namespace cs::streaming
