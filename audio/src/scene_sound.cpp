#include "cs/audio/scene_sound.hpp"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace cs::audio {

double tone_hz_for(const SoundSettings& settings, float speed) {
  return settings.tone_hz * std::exp2(std::abs(static_cast<double>(speed)) / 4.0);
}

SceneSound::SceneSound(SoundSettings settings) : settings_(settings) {
  target_hz_ = hz_ = tone_hz_for(settings_, 1.0f);
  target_level_ = level_ = settings_.tone_level;
}

void SceneSound::on_frame(std::int64_t now_ns, const render::Scene& scene, bool restarted) {
  if (restarted) last_turns_ = scene.turns();
  const bool click = scene.turns() != last_turns_;
  const bool changed = restarted || scene.speed() != last_speed_ || scene.paused() != last_paused_;
  last_turns_ = scene.turns();
  last_speed_ = scene.speed();
  last_paused_ = scene.paused();
  if (!click && !changed) return;
  std::lock_guard lock(mutex_);
  if (events_.size() == kMaxEvents) events_.pop_front();
  events_.push_back({now_ns, scene.speed(), scene.paused(), click});
}

void SceneSound::apply(const Event& event) {
  target_hz_ = tone_hz_for(settings_, event.speed);
  target_level_ = event.paused ? 0.0 : settings_.tone_level;
  if (event.click) {
    click_ages_.push_back(0);
    clicks_.fetch_add(1, std::memory_order_relaxed);
  }
}

float SceneSound::next_sample() {
  const double rate = settings_.sample_rate;
  // Glides of about 5 ms: no zipper noise when the speed changes each frame.
  const double glide = 1.0 - std::exp(-1.0 / (0.005 * rate));
  hz_ += (target_hz_ - hz_) * glide;
  level_ += (target_level_ - level_) * glide;
  phase_ += hz_ / rate;
  phase_ -= std::floor(phase_);
  double sample = level_ * std::sin(2.0 * std::numbers::pi * phase_);
  // A click starts at its peak (a cosine), so its onset is its first sample.
  const int click_samples = static_cast<int>(settings_.click_ms * rate / 1000.0);
  for (int& age : click_ages_) {
    const double t = age / rate;
    sample += settings_.click_level * std::cos(2.0 * std::numbers::pi * settings_.click_hz * t) *
              std::exp(-t / 0.002);
    ++age;
  }
  std::erase_if(click_ages_, [click_samples](int age) { return age >= click_samples; });
  return static_cast<float>(std::clamp(sample, -1.0, 1.0));
}

void SceneSound::synthesize(std::int64_t start_ns, std::span<std::int16_t> out) {
  const double rate = settings_.sample_rate;
  const auto end_ns = start_ns + static_cast<std::int64_t>(std::llround(out.size() * 1e9 / rate));
  due_.clear();
  {
    std::lock_guard lock(mutex_);
    while (!events_.empty() && events_.front().at_ns < end_ns) {
      due_.push_back(events_.front());
      events_.pop_front();
    }
  }
  std::size_t next = 0;
  for (std::size_t i = 0; i < out.size(); ++i) {
    // Sample i sounds at start + i/rate: every event due by then applies first.
    const auto at_ns = start_ns + static_cast<std::int64_t>(std::llround(i * 1e9 / rate));
    for (; next < due_.size() && due_[next].at_ns <= at_ns; ++next) {
      if (due_[next].click && due_[next].at_ns < start_ns)
        late_clicks_.fetch_add(1, std::memory_order_relaxed);
      apply(due_[next]);
    }
    out[i] = static_cast<std::int16_t>(std::lround(next_sample() * 32767.0));
  }
}

}  // namespace cs::audio
