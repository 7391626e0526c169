#pragma once
// The render thread: owns the EGL context and every GL call. Paced by the
// monotonic clock; runs only between resume() and pause(), and sleeps on a
// condition variable otherwise (no CPU with no viewer).
//
// Thread rules: construct, resume(), pause() and the destructor from one
// controlling thread (the GLib main loop); the FrameTarget is called on the
// render thread and must be thread-safe on its side (appsrc push is).
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <thread>

#include "cs/render/cube_renderer.hpp"
#include "cs/render/frame_target.hpp"

namespace cs::render {

struct RenderLoopSettings {
  RenderSettings render;
  int fps = 30;
};

class RenderLoop {
 public:
  RenderLoop(const RenderLoopSettings& settings, FrameTarget& target);
  ~RenderLoop();
  RenderLoop(const RenderLoop&) = delete;
  RenderLoop& operator=(const RenderLoop&) = delete;

  // Waits until the thread has made its context and renderer; returns the
  // error if it could not (the thread has then ended).
  std::string wait_ready();
  // Frame numbers restart at 0 on each resume.
  void resume();
  void pause();

  const StageTimes& stage_times() const { return times_; }

 private:
  enum class State { starting, paused, running, stopping, failed };
  void run();
  void render_until_paused(CubeRenderer& renderer);
  bool render_one(CubeRenderer& renderer, std::uint32_t frame_number, std::int64_t start_ns);

  static constexpr std::uint32_t kWarmUpFrames = 10;

  RenderLoopSettings settings_;
  bool jit_pages_released_ = false;  // render thread only
  FrameTarget& target_;
  StageTimes times_;
  std::mutex mutex_;
  std::condition_variable changed_;
  State state_ = State::starting;
  std::string error_;
  std::thread thread_;
};

std::int64_t monotonic_ns();

}  // namespace cs::render
