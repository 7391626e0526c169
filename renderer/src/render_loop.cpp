#include "cs/render/render_loop.hpp"

#include <ctime>

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

RenderLoop::RenderLoop(const RenderLoopSettings& settings, FrameTarget& target)
    : settings_(settings), target_(target), thread_([this] { run(); }) {}

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
  auto egl = EglContext::create();
  CubeRenderer::Result renderer;
  if (egl.context) renderer = CubeRenderer::create(settings_.render);
  {
    std::lock_guard lock(mutex_);
    if (!egl.context || !renderer.renderer) {
      error_ = egl.context ? renderer.error : egl.error;
      state_ = State::failed;
    } else if (state_ == State::starting) {
      state_ = State::paused;
    }
  }
  changed_.notify_all();
  if (!renderer.renderer) return;
  log::info("renderer: ", egl.context->description(), ", ", settings_.render.width, "x",
            settings_.render.height, " ",
            settings_.render.format == PixelFormat::nv12 ? "NV12" : "RGBA", " read-back");

  for (;;) {
    {
      std::unique_lock lock(mutex_);
      changed_.wait(lock, [&] { return state_ != State::paused; });
      if (state_ != State::running) break;
    }
    render_until_paused(*renderer.renderer);
  }
}

void RenderLoop::render_until_paused(CubeRenderer& renderer) {
  const std::int64_t period = 1000000000 / settings_.fps;
  const std::int64_t start = monotonic_ns();
  std::int64_t deadline = start;
  std::uint32_t frame_number = 0;
  for (;;) {
    {
      std::lock_guard lock(mutex_);
      if (state_ != State::running) return;
    }
    if (!render_one(renderer, frame_number++, start)) {
      log::error("renderer: frame failed: ", CubeRenderer::take_gl_error());
    }
    if (frame_number == kWarmUpFrames && !jit_pages_released_) {
      // By now every shader variant this scene uses has been compiled.
      jit_pages_released_ = true;
      log::debug("renderer: advised ", release_jit_compiler_pages() >> 20,
                 " MiB of LLVM code out after warm-up");
    }
    deadline += period;
    const std::int64_t now = monotonic_ns();
    if (now > deadline + period) {
      // Behind by more than a frame: skip ahead rather than burst. The cube's
      // angle comes from the clock, so skipped frames don't slow it.
      const std::int64_t missed = (now - deadline) / period;
      times_.late_frames.fetch_add(static_cast<std::uint64_t>(missed), std::memory_order_relaxed);
      deadline += missed * period;
    }
    sleep_until_ns(deadline);
  }
}

bool RenderLoop::render_one(CubeRenderer& renderer, std::uint32_t frame_number,
                            std::int64_t start_ns) {
  const std::int64_t t0 = monotonic_ns();
  const FrameInfo info{frame_number, timecode::wall_clock_ms(), t0};
  const bool drawn =
      renderer.draw(static_cast<double>(t0 - start_ns) * 1e-9, {info.render_ms, info.frame_number});
  const std::int64_t t1 = monotonic_ns();
  FrameSlot slot = target_.acquire(frame_bytes(renderer.settings()));
  if (slot.data == nullptr) return drawn;
  const bool read = drawn && renderer.read_back(slot.data);
  const std::int64_t t2 = monotonic_ns();
  target_.submit(slot, info, read);
  times_.draw_ms.add(static_cast<double>(t1 - t0) / 1e6);
  times_.read_back_ms.add(static_cast<double>(t2 - t1) / 1e6);
  times_.frames.fetch_add(1, std::memory_order_relaxed);
  return read;
}

}  // namespace cs::render
