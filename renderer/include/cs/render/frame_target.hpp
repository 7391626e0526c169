#pragma once
// Where rendered frames go. Implemented outside the renderer (streaming's
// appsrc writer), called on the render thread only.
#include <atomic>
#include <cstddef>
#include <cstdint>

#include "cs/duration_stat.hpp"

namespace cs::render {

struct FrameInfo {
  std::uint32_t frame_number;
  std::uint32_t render_ms;       // wall clock, as in the timecode strip
  std::int64_t capture_mono_ns;  // CLOCK_MONOTONIC when the scene time was sampled
};

// A writable frame of FrameTarget-defined memory.
struct FrameSlot {
  std::uint8_t* data = nullptr;
  std::size_t size = 0;
  void* handle = nullptr;  // the target's own bookkeeping
};

class FrameTarget {
 public:
  virtual ~FrameTarget() = default;
  // A slot of `bytes` to read the frame into; data == nullptr skips the frame.
  virtual FrameSlot acquire(std::size_t bytes) = 0;
  // Hands the filled slot over (or gives it back unfilled when ok is false).
  virtual void submit(FrameSlot slot, const FrameInfo& info, bool ok) = 0;
};

// Per-stage durations (ms) of recent frames and counters, readable from any
// thread: figures for metrics, not synchronisation.
struct StageTimes {
  DurationStat draw_ms;
  DurationStat read_back_ms;
  std::atomic<std::uint64_t> frames{0};
  std::atomic<std::uint64_t> late_frames{0};  // deadlines missed, frames skipped
};

}  // namespace cs::render
