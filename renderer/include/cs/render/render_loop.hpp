#pragma once
// The render thread: owns the EGL context and every GL call. Paced by the
// monotonic clock; runs only between resume() and pause(), and sleeps on a
// condition variable otherwise (no CPU with no viewer).
//
// A frame that fails (a GL error, a lost EGL context) makes the thread throw
// its EGL context and GL resources away and build new ones, with a log line;
// frames then go on. When that fails, or the thread ends on its own for any
// other reason (an exception), it calls `on_fatal` with the cause, for it to
// log and act on (without one, it logs the cause itself).
//
// Thread rules: construct, resume(), pause() and the destructor from one
// controlling thread (the GLib main loop); the FrameTarget is called on the
// render thread and must be thread-safe on its side (appsrc push is), and so
// must `on_fatal` (called once, on the render thread, only after
// wait_ready() succeeded).
//
// Test faults (cs/faults.hpp): gl-context-lost@N makes frame N (counted from
// the first frame the thread renders) fail as a lost context would;
// gl-rebuild-fail@N does the same and makes the rebuild fail too.
#include <array>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "cs/render/cube_renderer.hpp"
#include "cs/render/frame_target.hpp"

namespace cs::render {

struct RenderLoopSettings {
  RenderSettings render;
  int fps = 30;
  RenderDevice device;   // CS_RENDER_DEVICE
  float spin_speed = 1;  // CS_SPIN_SPEED: the scene's start speed
};

class EglContext;

class RenderLoop {
 public:
  RenderLoop(const RenderLoopSettings& settings, FrameTarget& target,
             std::function<void(const std::string& why)> on_fatal = {});
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

  // Viewer input for the cube, applied at the start of the next frame.
  // Thread-safe (any thread).
  void steer(const SceneInput& input);
  // Told of each frame's scene on the render thread (the sound). Set before
  // the first resume(); it must outlive the loop.
  void listen(SceneListener* listener);

 private:
  enum class State { starting, paused, running, stopping, failed };
  // The EGL context and what was made in it; render thread only.
  struct Gpu {
    std::unique_ptr<EglContext> egl;
    std::unique_ptr<CubeRenderer> renderer;
    ~Gpu();
  };
  void run();
  void run_guarded();
  std::string build(Gpu& gpu);
  bool rebuild(Gpu& gpu, const std::string& why);
  void end_with(const std::string& why);
  bool render_until_paused(Gpu& gpu);
  static std::int64_t next_fault_frame(std::int64_t frame);
  bool render_one(CubeRenderer& renderer, std::uint32_t frame_number);

  static constexpr std::uint32_t kWarmUpFrames = 10;
  // More rebuilds than this within kRebuildWindowNs: GL keeps failing, stop.
  static constexpr std::size_t kMaxRebuilds = 3;
  static constexpr std::int64_t kRebuildWindowNs = 10'000'000'000;

  RenderLoopSettings settings_;
  std::function<void(const std::string&)> on_fatal_;
  // Render thread only.
  bool jit_pages_released_ = false;
  std::uint32_t frames_since_build_ = 0;
  std::int64_t frames_started_ = 0;                       // every frame the thread began
  std::int64_t next_fault_frame_ = -1;                    // frames_started_ of an armed fault
  bool fail_next_build_ = false;                          // gl-rebuild-fail fired
  std::array<std::int64_t, kMaxRebuilds> rebuilds_ns_{};  // when, oldest first
  Scene scene_;                                           // render thread only
  SceneInbox inbox_;
  SceneListener* listener_ = nullptr;  // set before the thread renders (under mutex_)
  FrameTarget& target_;
  StageTimes times_;
  std::mutex mutex_;
  std::condition_variable changed_;
  State state_ = State::starting;
  std::string error_;
  std::thread thread_;
};

std::int64_t monotonic_ns();

// One frame, as the render thread makes each: the clock sampled (the
// timecode stamp and capture time with it), the input posted to `inbox`
// since the last frame applied and `scene` stepped to that time, drawn, read
// back into a slot of `target`, handed over (with ReadBackMode::ring, the
// frame before it: the frame of each call comes out of the next one, one
// frame period later; a skipped frame empties the ring). False when GL
// failed (renderer.failure() says how); true also when the target skipped
// the frame. `inbox`, `times` and `listener` may be null; frame 0 is the
// first after a restart. Render thread (a current context).
bool render_frame(CubeRenderer& renderer, FrameTarget& target, std::uint32_t frame_number,
                  Scene& scene, SceneInbox* inbox, StageTimes* times,
                  SceneListener* listener = nullptr);

}  // namespace cs::render
