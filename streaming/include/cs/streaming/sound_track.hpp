#pragma once
// The shared audio encode (CS_AUDIO): appsrc (mono S16 48 kHz) → opusenc
// (10 ms frames, CELT-only low delay) → tee, in the video's pipeline and on
// its clock, encoded once for every viewer as the video is. A pacing thread
// of its own asks `fill` for each 10 ms block once the block's time has
// passed (as a microphone would deliver it) and pushes it with its capture
// time as PTS, so a sound made for a frame's capture time plays in sync
// with that frame. Viewers' branches take it from the tee
// (viewer_branch.hpp).
//
// Threads: create/start/stop and tee() from the GLib main loop; `fill` on
// the pacing thread; times() from any thread.
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <thread>

#include "cs/duration_stat.hpp"
#include "cs/streaming/gst_ref.hpp"

namespace cs::streaming {

struct SoundTimes {
  DurationStat encode_ms;                 // per 10 ms frame
  std::atomic<std::uint64_t> frames{0};   // Opus frames out of the encoder
  std::atomic<std::uint64_t> bytes{0};    // their payload
  std::atomic<std::uint64_t> skipped{0};  // blocks not made: the pacing thread fell behind
  std::atomic<std::uint64_t> refused{0};  // blocks appsrc did not take (not playing)
};

class SoundTrack {
 public:
  static constexpr int kSampleRate = 48000;
  static constexpr int kFrameMs = 10;
  static constexpr int kBitrate = 32000;
  using Fill = std::function<void(std::int64_t start_ns, std::span<std::int16_t> samples)>;

  struct Result {
    std::unique_ptr<SoundTrack> track;
    std::string error;
  };
  // Adds the elements to `pipeline` (not yet playing).
  static Result create(GstElement* pipeline, Fill fill);
  ~SoundTrack();
  SoundTrack(const SoundTrack&) = delete;
  SoundTrack& operator=(const SoundTrack&) = delete;

  // After the pipeline went to PLAYING. stop(): for good (an error, or
  // shutdown); viewers that join after it get video only.
  void start();
  void stop();
  bool stopped() const { return stopped_.load(std::memory_order_relaxed); }

  // Sound is made only while the cube is rendered (viewers, a recording, a
  // forward): it belongs to the scene, and it starts again with it.
  // Any thread.
  void set_active(bool active) { active_.store(active, std::memory_order_relaxed); }

  GstElement* tee() const { return tee_.get(); }
  bool owns(GstObject* object) const;
  const SoundTimes& times() const { return times_; }

 private:
  SoundTrack(GstElement* pipeline, Fill fill) : pipeline_(pipeline), fill_(std::move(fill)) {}
  std::string build();
  void pace();
  // False when the block was not taken (pipeline not playing, no memory).
  bool push_block(std::int64_t start_ns, bool discont);
  void fail_for_test();  // CS_TEST_FAULTS=sound-error@N: after N blocks

  GstElement* pipeline_;  // borrowed: the pipeline outlives the track
  Fill fill_;
  ElementRef appsrc_;
  ElementRef encoder_;
  ElementRef tee_;
  SoundTimes times_;
  std::atomic<std::int64_t> encode_started_ns_{0};
  std::atomic<bool> running_{false};
  std::atomic<bool> stopped_{false};
  std::int64_t blocks_ = 0;  // pacing thread: blocks made
  std::atomic<bool> active_{false};
  std::thread thread_;
};

}  // namespace cs::streaming
