#pragma once
// Per-viewer frame statistics, fed from the appsink streaming thread and read
// on the main thread at the end. All members are guarded by one mutex.
#include <array>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include <nlohmann/json.hpp>

namespace cstest {

struct DecodedFrame {
  int width = 0;
  int height = 0;
  std::optional<std::uint32_t> render_ms;     // from the timecode strip
  std::optional<std::uint32_t> frame_number;  // from the timecode strip
  std::optional<std::uint32_t> input_ms;      // row 2: the newest input applied
  std::optional<std::uint32_t> turns;         // row 3: full turns of the cube
  std::array<int, 3> center_rgb{};
  bool has_pixels = false;  // false for --no-decode access units
};

class FrameStats {
 public:
  FrameStats();
  // Restarts the clock that first_frame_ms is measured from.
  void mark_start();
  // Called once per decoded frame / access unit, from any thread.
  void add_frame(const DecodedFrame& frame);
  void add_error(std::string message);
  // The encoding-name received ("H264", "VP8"), from the media pad's caps.
  void set_codec(std::string encoding_name);
  // The rung of the server's latest "rendition" message: frames from now on
  // count for it (attribution by arrival: the switch's first frames may
  // arrive a little before or after its message).
  void set_rung(int rung);
  // Fields describing the frames seen, for the final JSON line.
  void fill_json(nlohmann::json& out) const;
  // Wall-clock arrival of each frame whose row 3 (full turns) went up, and
  // the count it showed (the first kMaxArrivals).
  std::vector<std::pair<std::int64_t, std::uint32_t>> turn_arrivals() const;
  // Each frame whose row 2 (the newest input applied) changed: its
  // wall-clock arrival, the stamp, and its index among all frames (0 first).
  std::vector<std::tuple<std::int64_t, std::uint32_t, std::uint64_t>> input_arrivals() const;
  // Frames (access units) received so far.
  std::uint64_t frames() const;
  // The errors recorded so far (at most the first 50).
  std::vector<std::string> errors() const;

 private:
  void track_arrival(std::int64_t now_ms);
  void track_timecode(const DecodedFrame& frame);
  void track_center(const DecodedFrame& frame);

  // Frames counted for one rung or one frame size, and the time between
  // consecutive frames that both belong to it (a rung left and re-entered
  // does not count the time away).
  struct Span {
    std::uint64_t frames = 0;
    std::uint64_t intervals = 0;
    std::int64_t interval_ms = 0;
  };
  static void count(Span& span, Span*& previous, std::int64_t now_ms, std::int64_t last_ms);
  static nlohmann::json span_json(const Span& span);

  mutable std::mutex mutex_;
  std::int64_t start_ms_;  // steady clock at construction
  std::uint64_t frames_ = 0;
  int width_ = 0;
  int height_ = 0;
  std::optional<std::int64_t> first_arrival_ms_;
  std::int64_t last_arrival_ms_ = 0;
  std::int64_t first_wall_ms_ = 0;
  std::int64_t last_wall_ms_ = 0;
  std::int64_t max_gap_ms_ = 0;
  // Wall-clock arrival of each frame (the first kMaxArrivals), for tests
  // that judge a time window (e.g. after a rung switch).
  static constexpr std::size_t kMaxArrivals = 6000;
  std::vector<std::int64_t> arrivals_wall_ms_;
  std::uint32_t last_input_ms_ = 0;  // row 2 of the last frame
  std::vector<std::tuple<std::int64_t, std::uint32_t, std::uint64_t>> input_arrivals_;
  std::optional<std::uint32_t> first_turns_;
  std::optional<std::uint32_t> last_turns_;
  std::vector<std::pair<std::int64_t, std::uint32_t>> turn_arrivals_;
  std::optional<std::uint32_t> first_frame_number_;
  std::optional<std::uint32_t> last_frame_number_;
  bool increasing_ = true;
  std::string first_decrease_;
  std::vector<std::uint32_t> first_numbers_;  // the first kFirstNumbers, for the report
  bool increasing_after_start_ =
      true;  // from frame kStartFrames on  // "A -> B at frame N": what broke increasing_
  std::uint64_t timecode_failures_ = 0;
  std::vector<std::int64_t> latencies_ms_;
  std::array<int, 3> center_rgb_{};
  std::uint64_t saturated_centers_ = 0;
  std::vector<std::string> errors_;
  std::string codec_;
  std::optional<int> rung_;
  std::map<int, Span> by_rung_;          // frames while that rung was the latest announced
  std::map<std::string, Span> by_size_;  // "WxH" of the frames themselves
  Span* last_rung_span_ = nullptr;       // the previous frame's (map nodes are stable)
  Span* last_size_span_ = nullptr;
};

// Wall clock (CLOCK_REALTIME) in full milliseconds since the epoch.
std::int64_t epoch_ms();
// Monotonic milliseconds.
std::int64_t steady_ms();

}  // namespace cstest
