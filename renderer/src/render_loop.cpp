#include "cs/render/render_loop.hpp"

#include <algorithm>
#include <ctime>
#include <exception>

#include "cs/faults.hpp"
#include "cs/log.hpp"
#include "cs/render/egl_context.hpp"
#include "cs/render/jit_pages.hpp"

namespace cs::render {

std::int64_t monotonic_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1000000000 + ts.tv_nsec;
}

namespace {
void sleep_until_ns(std::int64_t deadline) {
  timespec ts{static_cast<time_t>(deadline / 1000000000), static_cast<long>(deadline % 1000000000)};
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) == EINTR) {
  }
}
}  // namespace

RenderLoop::RenderLoop(const RenderLoopSettings& settings, FrameTarget& target,
                       std::function<void(const std::string&)> on_fatal)
    : settings_(settings),
      on_fatal_(std::move(on_fatal)),
      scene_(settings.spin_speed),
      target_(target),
      thread_([this] { run(); }) {}

// GL names belong to the context: the renderer goes first.
RenderLoop::Gpu::~Gpu() {
  renderer.reset();
  egl.reset();
}

RenderLoop::~RenderLoop() {
  {
    std::lock_guard lock(mutex_);
    if (state_ != State::failed) state_ = State::stopping;
  }
  changed_.notify_all();
  thread_.join();
}

std::string RenderLoop::wait_ready() {
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [&] { return state_ != State::starting; });
  return state_ == State::failed ? error_ : std::string();
}

void RenderLoop::resume() {
  {
    std::lock_guard lock(mutex_);
    if (state_ != State::paused) return;
    state_ = State::running;
  }
  changed_.notify_all();
}

void RenderLoop::pause() {
  std::lock_guard lock(mutex_);
  if (state_ == State::running) state_ = State::paused;
}

void RenderLoop::run() {
  try {
    run_guarded();
  } catch (const std::exception& e) {
    end_with(std::string("render thread ended by an exception: ") + e.what());
  } catch (...) {
    end_with("render thread ended by an unknown exception");
  }
}

// Ends the thread's work for good: before wait_ready() returned, the error
// goes to it; after, to the log and on_fatal.
void RenderLoop::end_with(const std::string& why) {
  bool was_ready = false;
  {
    std::lock_guard lock(mutex_);
    was_ready = state_ != State::starting;
    state_ = State::failed;
    error_ = why;
  }
  changed_.notify_all();
  if (!was_ready) return;
  if (on_fatal_)
    on_fatal_(why);  // which logs it
  else
    log::error("renderer: ", why);
}

std::string RenderLoop::build(Gpu& gpu) {
  if (fail_next_build_) {
    fail_next_build_ = false;
    return "eglCreateContext(GLES 3.0) failed: EGL_BAD_ALLOC (0x3003) (injected: "
           "CS_TEST_FAULTS=gl-rebuild-fail)";
  }
  auto egl = EglContext::create(settings_.device);
  if (!egl.context) return egl.error;
  gpu.egl = std::move(egl.context);
  auto renderer = CubeRenderer::create(settings_.render);
  if (!renderer.renderer) return renderer.error;
  gpu.renderer = std::move(renderer.renderer);
  frames_since_build_ = 0;
  jit_pages_released_ = false;
  return {};
}

// The next frame after `frame` at which an armed test fault fires, or -1:
// the frame path then needs one comparison.
std::int64_t RenderLoop::next_fault_frame(std::int64_t frame) {
  std::int64_t next = -1;
  for (const char* name : {"gl-context-lost", "gl-rebuild-fail"})
    if (auto at = faults::armed(name); at && *at > frame && (next < 0 || *at < next)) next = *at;
  return next;
}

void RenderLoop::run_guarded() {
  next_fault_frame_ = next_fault_frame(-1);

  Gpu gpu;
  if (auto error = build(gpu); !error.empty()) {
    end_with(error);
    return;
  }
  {
    std::lock_guard lock(mutex_);
    if (state_ == State::starting) state_ = State::paused;
  }
  changed_.notify_all();
  log::info("renderer: ", gpu.egl->description(), ", ", settings_.render.width, "x",
            settings_.render.height, " ",
            settings_.render.format == PixelFormat::nv12 ? "NV12" : "RGBA", " read-back (",
            settings_.render.read_back == ReadBackMode::ring ? "pixel-pack ring, one frame later"
                                                             : "sync",
            ")");

  for (;;) {
    {
      std::unique_lock lock(mutex_);
      changed_.wait(lock, [&] { return state_ != State::paused; });
      if (state_ != State::running) break;
    }
    if (!render_until_paused(gpu)) return;
  }
}

// Throws the context and everything made in it away and makes new ones.
// False (after end_with) when that fails or GL keeps failing.
bool RenderLoop::rebuild(Gpu& gpu, const std::string& why) {
  const std::int64_t now = monotonic_ns();
  if (rebuilds_ns_.front() != 0 && now - rebuilds_ns_.front() < kRebuildWindowNs) {
    end_with("frames keep failing (" + std::to_string(kMaxRebuilds + 1) + " times in " +
             std::to_string(kRebuildWindowNs / 1000000000) + " s), last: " + why);
    return false;
  }
  std::rotate(rebuilds_ns_.begin(), rebuilds_ns_.begin() + 1, rebuilds_ns_.end());
  rebuilds_ns_.back() = now;
  log::warn("renderer: frame failed (", why, "): rebuilding the EGL context and GL resources");
  gpu.renderer.reset();
  gpu.egl.reset();
  if (auto error = build(gpu); !error.empty()) {
    end_with("cannot rebuild after a failed frame (" + why + "): " + error);
    return false;
  }
  log::info("renderer: rebuilt in ", (monotonic_ns() - now) / 1000000, " ms, ",
            gpu.egl->description());
  return true;
}

bool RenderLoop::render_until_paused(Gpu& gpu) {
  const std::int64_t period = 1000000000 / settings_.fps;
  std::int64_t deadline = monotonic_ns();
  std::uint32_t frame_number = 0;
  // Frames still in the read-back ring are from before the pause, and so is
  // the pose: each run of frames starts the cube afresh.
  gpu.renderer->discard_pending();
  scene_.restart();
  inbox_.take();
  for (;;) {
    {
      std::lock_guard lock(mutex_);
      if (state_ != State::running) return true;
    }
    if (const auto stall_at = faults::armed("render-stall");
        stall_at && frames_started_ >= *stall_at && faults::fire_once("render-stall", *stall_at)) {
      // CS_TEST_FAULTS=render-stall@N: from frame N the thread hangs (as in
      // a driver that never returns) until the program stops.
      std::unique_lock lock(mutex_);
      changed_.wait(lock, [&] { return state_ == State::stopping; });
      return true;
    }
    bool ok;
    std::string why;
    if (frames_started_++ == next_fault_frame_) {
      // As if EGL had reported the context lost: this frame is not drawn.
      const std::int64_t frame = frames_started_ - 1;
      if (faults::armed("gl-rebuild-fail") == frame && faults::fire_once("gl-rebuild-fail", frame))
        fail_next_build_ = true;
      if (faults::armed("gl-context-lost") == frame) faults::fire_once("gl-context-lost", frame);
      next_fault_frame_ = next_fault_frame(frame);
      ok = false;
      why = egl_error_string(EGL_CONTEXT_LOST) + " (injected: CS_TEST_FAULTS)";
      ++frame_number;
    } else {
      ok = render_one(*gpu.renderer, frame_number++);
    }
    if (!ok) {
      if (why.empty()) {
        why = gpu.renderer->failure();
        if (auto egl = gpu.egl->diagnose(); !egl.empty()) why += (why.empty() ? "" : ", ") + egl;
        if (why.empty()) why = "no GL or EGL error reported";
      }
      if (!rebuild(gpu, why)) return false;
    }
    if (++frames_since_build_ == kWarmUpFrames && !jit_pages_released_) {
      // By now every shader variant this scene uses has been compiled.
      jit_pages_released_ = true;
      log::debug("renderer: advised ", release_jit_compiler_pages() >> 20,
                 " MiB of LLVM code out after warm-up");
    }
    deadline += period;
    const std::int64_t now = monotonic_ns();
    if (now > deadline + period) {
      // Behind by more than a frame: skip ahead rather than burst. The cube's
      // spin follows the clock, so skipped frames don't slow it.
      const std::int64_t missed = (now - deadline) / period;
      times_.late_frames.fetch_add(static_cast<std::uint64_t>(missed), std::memory_order_relaxed);
      deadline += missed * period;
    }
    sleep_until_ns(deadline);
  }
}

bool RenderLoop::render_one(CubeRenderer& renderer, std::uint32_t frame_number) {
  return render_frame(renderer, target_, frame_number, scene_, &inbox_, &times_, listener_);
}

void RenderLoop::steer(const SceneInput& input) {
  inbox_.post(input);
}

void RenderLoop::listen(SceneListener* listener) {
  std::lock_guard lock(mutex_);
  listener_ = listener;
}

bool render_frame(CubeRenderer& renderer, FrameTarget& target, std::uint32_t frame_number,
                  Scene& scene, SceneInbox* inbox, StageTimes* times, SceneListener* listener) {
  const std::int64_t t0 = monotonic_ns();
  scene.step(t0, inbox ? inbox->take() : SceneChanges{});
  if (listener) listener->on_frame(t0, scene, frame_number == 0);
  const FrameInfo info{frame_number, timecode::wall_clock_ms(), t0};
  const bool drawn = renderer.draw(
      scene.pose(), {info.render_ms, info.frame_number, scene.input_ms(), scene.turns()});
  const std::int64_t t1 = monotonic_ns();
  FrameSlot slot = target.acquire(frame_bytes(renderer.settings()));
  if (slot.data == nullptr) {
    renderer.discard_pending();
    return drawn;
  }
  FrameInfo delivered = info;
  const auto read =
      drawn ? renderer.read_back_frame(slot.data, info, delivered) : CubeRenderer::ReadBack::failed;
  const std::int64_t t2 = monotonic_ns();
  target.submit(slot, delivered, read == CubeRenderer::ReadBack::frame);
  if (times) {
    times->draw_ms.add(static_cast<double>(t1 - t0) / 1e6);
    times->read_back_ms.add(static_cast<double>(t2 - t1) / 1e6);
    times->frames.fetch_add(1, std::memory_order_relaxed);
  }
  return read != CubeRenderer::ReadBack::failed;
}

}  // namespace cs::render
