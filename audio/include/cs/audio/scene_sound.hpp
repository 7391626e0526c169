#pragma once
// The sound that belongs to the scene: a soft tone whose pitch follows the
// spin speed (silent while paused) and a click at each full turn of the
// cube, at the very time of the frame whose timecode row 3 counts that turn,
// so that A/V sync can be measured at a viewer (the click's onset against
// that frame).
//
// Threads: on_frame() on the render thread (a mutex and a push, once a
// frame); synthesize() on the sound track's pacing thread. They meet at the
// event queue only.
#include <atomic>
#include <cstdint>
#include <deque>
#include <mutex>
#include <span>
#include <vector>

#include "cs/render/scene.hpp"

namespace cs::audio {

struct SoundSettings {
  int sample_rate = 48000;
  double tone_hz = 220;      // at speed 0; an octave higher every 4x the default spin
  double tone_level = 0.08;  // of full scale: soft, far below the click
  double click_level = 0.7;
  double click_hz = 2000;
  double click_ms = 8;  // decays by e every 2 ms, cut after this
};

// The tone's pitch at `speed` (a multiple of the default spin): 220 Hz *
// 2^(|speed|/4), so 261.6 Hz at the default, 880 Hz at 8x.
double tone_hz_for(const SoundSettings& settings, float speed);

class SceneSound final : public render::SceneListener {
 public:
  explicit SceneSound(SoundSettings settings = {});

  // Render thread: a click when the frame counted a turn, a new pitch when
  // the speed or pause state changed.
  void on_frame(std::int64_t now_ns, const render::Scene& scene, bool restarted) override;

  // Pacing thread: fills `out` (mono, 16-bit) with the sound of the time
  // from `start_ns` (CLOCK_MONOTONIC), one sample each 1/sample_rate s.
  // Events due before `start_ns` (told too late) take effect at its start.
  // Not reentrant: one pacing thread.
  void synthesize(std::int64_t start_ns, std::span<std::int16_t> out);

  const SoundSettings& settings() const { return settings_; }
  // Any thread.
  std::uint64_t clicks() const { return clicks_.load(std::memory_order_relaxed); }
  // Clicks told after their block was made: they sounded late, at its start.
  std::uint64_t late_clicks() const { return late_clicks_.load(std::memory_order_relaxed); }

 private:
  struct Event {
    std::int64_t at_ns = 0;
    float speed = 1;
    bool paused = false;
    bool click = false;
  };
  void apply(const Event& event);
  float next_sample();

  SoundSettings settings_;
  // Render thread only.
  std::uint32_t last_turns_ = 0;
  float last_speed_ = 1;
  bool last_paused_ = false;
  // Shared, bounded: a stalled pacing thread loses old events, never grows it.
  static constexpr std::size_t kMaxEvents = 512;
  std::mutex mutex_;
  std::deque<Event> events_;
  // Pacing thread only.
  std::vector<Event> due_;
  double phase_ = 0;  // of the tone, cycles
  double hz_ = 0;     // gliding to target_hz_
  double target_hz_ = 0;
  double level_ = 0;  // gliding to target_level_
  double target_level_ = 0;
  std::vector<int> click_ages_;  // samples since each sounding click began
  std::atomic<std::uint64_t> clicks_{0};
  std::atomic<std::uint64_t> late_clicks_{0};
};

}  // namespace cs::audio
