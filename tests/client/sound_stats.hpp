#pragma once
// The received sound (--audio): decoded Opus samples, fed from the appsink
// streaming thread, and the clicks found in them (the server clicks on each
// full turn of the cube). Matched at the end against the frames whose
// timecode row 3 counted a turn: the A/V offset at this viewer. One mutex.
#include <cstdint>
#include <mutex>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

namespace cstest {

class SoundStats {
 public:
  // Mono 16-bit samples at `rate`, arrived (decoded) at wall-clock
  // `arrival_ms`: the last sample's time.
  void add_samples(const std::int16_t* samples, std::size_t count, int rate,
                   std::int64_t arrival_ms);
  // `turns`: wall-clock arrival of each frame whose row 3 went up, and the
  // count it showed. Fills "sound" in `out`.
  void fill_json(nlohmann::json& out,
                 const std::vector<std::pair<std::int64_t, std::uint32_t>>& turns) const;

 private:
  mutable std::mutex mutex_;
  std::uint64_t samples_ = 0;
  std::uint64_t buffers_ = 0;
  int rate_ = 0;
  std::int64_t first_ms_ = 0;
  std::int64_t last_ms_ = 0;
  std::int64_t peak_ = 0;
  std::uint64_t loud_samples_ = 0;  // above the tone (a click or noise)
  std::int64_t samples_since_click_ = 1 << 30;
  std::vector<double> clicks_ms_;  // wall-clock, at their onset
};

}  // namespace cstest
