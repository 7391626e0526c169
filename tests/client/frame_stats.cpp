#include "frame_stats.hpp"

#include <algorithm>
#include <chrono>

#include <cs/timecode.hpp>

namespace cstest {
namespace {

constexpr std::size_t kMaxErrors = 50;
constexpr std::size_t kFirstNumbers = 12;
// Order from here on is told apart from order at the start, where a server
// that sends frames referring to pictures the viewer never got shows up
// (decoded, their timecodes read as going back: "0 0 0 2 3 12 13 ...").
constexpr std::uint64_t kStartFrames = 10;

std::int64_t percentile(std::vector<std::int64_t> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  auto index = static_cast<std::size_t>(p * static_cast<double>(values.size() - 1) + 0.5);
  return values[std::min(index, values.size() - 1)];
}

// True when the colour is clearly chromatic (not black, not grey).
bool is_saturated(const std::array<int, 3>& rgb) {
  auto [lo, hi] = std::minmax({rgb[0], rgb[1], rgb[2]});
  return hi >= 80 && hi - lo >= 50;
}

}  // namespace

std::int64_t epoch_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

std::int64_t steady_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

FrameStats::FrameStats() : start_ms_(steady_ms()) {}

void FrameStats::mark_start() {
  std::lock_guard lock(mutex_);
  start_ms_ = steady_ms();
}

void FrameStats::add_frame(const DecodedFrame& frame) {
  std::lock_guard lock(mutex_);
  ++frames_;
  width_ = frame.width;
  height_ = frame.height;
  const std::int64_t now = steady_ms();
  const std::int64_t last = last_arrival_ms_;
  track_arrival(now);
  if (rung_)
    count(by_rung_[*rung_], last_rung_span_, now, last);
  else
    last_rung_span_ = nullptr;
  count(by_size_[std::to_string(frame.width) + "x" + std::to_string(frame.height)], last_size_span_,
        now, last);
  if (!frame.has_pixels) return;
  track_timecode(frame);
  track_center(frame);
}

void FrameStats::track_arrival(std::int64_t now_ms) {
  if (!first_arrival_ms_) {
    first_arrival_ms_ = now_ms;
    first_wall_ms_ = epoch_ms();
  } else {
    max_gap_ms_ = std::max(max_gap_ms_, now_ms - last_arrival_ms_);
  }
  last_arrival_ms_ = now_ms;
  last_wall_ms_ = epoch_ms();
  if (arrivals_wall_ms_.size() < kMaxArrivals) arrivals_wall_ms_.push_back(last_wall_ms_);
}

void FrameStats::track_timecode(const DecodedFrame& frame) {
  if (!frame.render_ms || !frame.frame_number) {
    ++timecode_failures_;
    return;
  }
  // Unsigned subtraction handles the wrap at 2^32; a small negative value
  // (clock skew) comes out as a negative int32.
  auto delta = static_cast<std::int32_t>(cs::timecode::wall_clock_ms() - *frame.render_ms);
  latencies_ms_.push_back(delta);
  if (last_frame_number_ && *frame.frame_number <= *last_frame_number_ && increasing_) {
    increasing_ = false;
    first_decrease_ = std::to_string(*last_frame_number_) + " -> " +
                      std::to_string(*frame.frame_number) + " at frame " + std::to_string(frames_);
  }
  if (last_frame_number_ && *frame.frame_number <= *last_frame_number_ && frames_ > kStartFrames)
    increasing_after_start_ = false;
  if (first_numbers_.size() < kFirstNumbers) first_numbers_.push_back(*frame.frame_number);
  if (!first_frame_number_) first_frame_number_ = frame.frame_number;
  if (frame.input_ms && *frame.input_ms != last_input_ms_ && input_arrivals_.size() < kMaxArrivals)
    input_arrivals_.emplace_back(last_wall_ms_, *frame.input_ms, frames_ - 1);
  last_input_ms_ = frame.input_ms.value_or(0);
  if (frame.turns) {
    if (last_turns_ && *frame.turns > *last_turns_ && turn_arrivals_.size() < kMaxArrivals)
      turn_arrivals_.emplace_back(last_wall_ms_, *frame.turns);
    if (!first_turns_) first_turns_ = frame.turns;
    last_turns_ = frame.turns;
  }
  last_frame_number_ = frame.frame_number;
}

std::vector<std::tuple<std::int64_t, std::uint32_t, std::uint64_t>> FrameStats::input_arrivals()
    const {
  std::lock_guard lock(mutex_);
  return input_arrivals_;
}

std::uint64_t FrameStats::frames() const {
  std::lock_guard lock(mutex_);
  return frames_;
}

std::vector<std::pair<std::int64_t, std::uint32_t>> FrameStats::turn_arrivals() const {
  std::lock_guard lock(mutex_);
  return turn_arrivals_;
}

void FrameStats::track_center(const DecodedFrame& frame) {
  center_rgb_ = frame.center_rgb;
  if (is_saturated(frame.center_rgb)) ++saturated_centers_;
}

void FrameStats::count(Span& span, Span*& previous, std::int64_t now_ms, std::int64_t last_ms) {
  ++span.frames;
  if (previous == &span) {
    ++span.intervals;
    span.interval_ms += now_ms - last_ms;
  }
  previous = &span;
}

nlohmann::json FrameStats::span_json(const Span& span) {
  const double seconds = static_cast<double>(span.interval_ms) / 1000.0;
  return {{"frames", span.frames},
          {"fps", seconds > 0 ? static_cast<double>(span.intervals) / seconds : 0.0}};
}

void FrameStats::set_codec(std::string encoding_name) {
  std::lock_guard lock(mutex_);
  codec_ = std::move(encoding_name);
}

void FrameStats::set_rung(int rung) {
  std::lock_guard lock(mutex_);
  rung_ = rung;
}

void FrameStats::add_error(std::string message) {
  std::lock_guard lock(mutex_);
  if (errors_.size() < kMaxErrors) errors_.push_back(std::move(message));
}

std::vector<std::string> FrameStats::errors() const {
  std::lock_guard lock(mutex_);
  return errors_;
}

void FrameStats::fill_json(nlohmann::json& out) const {
  std::lock_guard lock(mutex_);
  out["frames"] = frames_;
  out["width"] = width_;
  out["height"] = height_;
  out["first_frame_ms"] = first_arrival_ms_ ? *first_arrival_ms_ - start_ms_ : -1;
  out["first_frame_wall_ms"] = first_wall_ms_;
  out["last_frame_wall_ms"] = last_wall_ms_;
  out["arrivals_wall_ms"] = arrivals_wall_ms_;
  out["max_gap_ms"] = max_gap_ms_;
  out["frame_numbers_increasing"] = increasing_;
  out["frame_numbers_increasing_after_start"] = increasing_after_start_;
  if (!increasing_) {
    std::string numbers;
    for (auto n : first_numbers_) {
      if (!numbers.empty()) numbers += ' ';
      numbers += std::to_string(n);
    }
    out["first_decrease"] = first_decrease_ + "; first numbers: " + numbers;
  }
  out["first_turns"] = first_turns_ ? nlohmann::json(*first_turns_) : nullptr;
  out["last_turns"] = last_turns_ ? nlohmann::json(*last_turns_) : nullptr;
  out["first_frame_number"] = first_frame_number_ ? nlohmann::json(*first_frame_number_) : nullptr;
  out["last_frame_number"] = last_frame_number_ ? nlohmann::json(*last_frame_number_) : nullptr;
  out["timecode_failures"] = timecode_failures_;
  out["last_input_ms"] = last_input_ms_;
  out["center_rgb"] = center_rgb_;
  out["center_saturated_fraction"] =
      frames_ ? static_cast<double>(saturated_centers_) / static_cast<double>(frames_) : 0.0;
  out["latency_ms_p50"] = percentile(latencies_ms_, 0.50);
  out["latency_ms_p95"] = percentile(latencies_ms_, 0.95);
  out["latency_ms_max"] =
      latencies_ms_.empty() ? 0 : *std::max_element(latencies_ms_.begin(), latencies_ms_.end());
  double span_s = static_cast<double>(last_arrival_ms_ - first_arrival_ms_.value_or(0)) / 1000.0;
  out["fps"] = frames_ > 1 && span_s > 0 ? static_cast<double>(frames_ - 1) / span_s : 0.0;
  out["codec"] = codec_;
  // Per rung (while it was the latest announced) and per frame size: frames
  // and their rate.
  out["frames_by_rung"] = nlohmann::json::object();
  for (const auto& [rung, span] : by_rung_)
    out["frames_by_rung"][std::to_string(rung)] = span_json(span);
  out["frames_by_size"] = nlohmann::json::object();
  for (const auto& [size, span] : by_size_) out["frames_by_size"][size] = span_json(span);
  out["errors"] = errors_;
}

}  // namespace cstest
