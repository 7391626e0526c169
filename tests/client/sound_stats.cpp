#include "sound_stats.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>

namespace cstest {
namespace {
// The server's tone peaks at 0.08 of full scale and its click at 0.7: a
// sample above 0.35 is a click's; one click rings for 8 ms, and the next
// is at least 0.8 s away (8x the default spin), so 100 ms apart are two.
constexpr int kClickThreshold = static_cast<int>(0.35 * 32767);
constexpr double kRefractoryS = 0.1;
// A turn and its click this far apart (either way) belong together.
constexpr double kMatchMs = 200;
// Clicks and turns this close to either end of the sound are not judged:
// one stream may start or stop a little before the other, and in the first
// second the encoder's start and the viewers' joining delay single frames
// by up to ~300 ms (seen here), beyond kMatchMs.
constexpr double kStartEdgeMs = 1500;
constexpr double kEndEdgeMs = 600;
}  // namespace

void SoundStats::add_samples(const std::int16_t* samples, std::size_t count, int rate,
                             std::int64_t arrival_ms) {
  std::lock_guard lock(mutex_);
  if (buffers_++ == 0) first_ms_ = arrival_ms;
  last_ms_ = arrival_ms;
  rate_ = rate;
  samples_ += count;
  const auto refractory = static_cast<std::int64_t>(kRefractoryS * rate);
  for (std::size_t i = 0; i < count; ++i) {
    const int level = std::abs(static_cast<int>(samples[i]));
    peak_ = std::max<std::int64_t>(peak_, level);
    ++samples_since_click_;
    if (level < kClickThreshold) continue;
    ++loud_samples_;
    if (samples_since_click_ < refractory) continue;
    samples_since_click_ = 0;
    clicks_ms_.push_back(static_cast<double>(arrival_ms) -
                         static_cast<double>(count - 1 - i) * 1000.0 / rate);
  }
}

void SoundStats::fill_json(nlohmann::json& out,
                           const std::vector<std::pair<std::int64_t, std::uint32_t>>& turns) const {
  std::lock_guard lock(mutex_);
  nlohmann::json s;
  s["buffers"] = buffers_;
  s["samples"] = samples_;
  s["rate"] = rate_;
  s["seconds"] = rate_ > 0 ? static_cast<double>(samples_) / rate_ : 0.0;
  s["peak"] = peak_;
  s["clicks"] = clicks_ms_.size();
  const double from = static_cast<double>(first_ms_) + kStartEdgeMs;
  const double to = static_cast<double>(last_ms_) - kEndEdgeMs;
  auto inside = [&](double t) { return buffers_ > 0 && t >= from && t <= to; };
  std::vector<double> offsets;  // click - frame, ms
  int turns_inside = 0, unmatched_turns = 0;
  for (const auto& [arrival, count] : turns) {
    const auto t = static_cast<double>(arrival);
    if (!inside(t)) continue;
    ++turns_inside;
    auto nearest = std::min_element(clicks_ms_.begin(), clicks_ms_.end(), [t](double a, double b) {
      return std::abs(a - t) < std::abs(b - t);
    });
    if (nearest == clicks_ms_.end() || std::abs(*nearest - t) > kMatchMs)
      ++unmatched_turns;
    else
      offsets.push_back(*nearest - t);
  }
  int clicks_inside = 0, unmatched_clicks = 0;
  for (double c : clicks_ms_) {
    if (!inside(c)) continue;
    ++clicks_inside;
    const bool matched = std::any_of(turns.begin(), turns.end(), [c](const auto& turn) {
      return std::abs(static_cast<double>(turn.first) - c) <= kMatchMs;
    });
    if (!matched) ++unmatched_clicks;
  }
  s["turns_judged"] = turns_inside;
  s["clicks_judged"] = clicks_inside;
  s["unmatched_turns"] = unmatched_turns;
  s["unmatched_clicks"] = unmatched_clicks;
  s["av_offsets_ms"] = offsets;  // positive: the click came after its frame
  if (!offsets.empty()) {
    auto sorted = offsets;
    std::sort(sorted.begin(), sorted.end());
    s["av_offset_median_ms"] = sorted[sorted.size() / 2];
  }
  out["sound"] = s;
}

}  // namespace cstest
