#pragma once
// The cube's pose and what viewers may do to it (the control channel,
// CS_CONTROL). Any thread posts validated input into a SceneInbox; the
// render thread takes everything posted at the start of each frame and
// applies it in one step, so a frame never shows half an input.
#include <cstdint>
#include <mutex>
#include <optional>

namespace cs::render {

// One viewer input, already validated by the control protocol.
struct SceneInput {
  enum class Kind { rotate, speed, pause, resume, reset };
  Kind kind = Kind::rotate;
  float yaw_deg = 0;  // rotate: deltas, degrees
  float pitch_deg = 0;
  float speed = 1;             // speed: multiple of the default spin, may be negative
  std::uint32_t stamp_ms = 0;  // the viewer's wall clock at the input (mod 2^32)
};

// Everything posted since the last take(), folded: bounded however many
// inputs arrive between two frames.
struct SceneChanges {
  bool any = false;
  bool reset = false;  // applied before the rest
  float yaw_deg = 0;
  float pitch_deg = 0;
  std::optional<float> speed;
  std::optional<bool> paused;
  std::uint32_t stamp_ms = 0;  // of the newest input
  void add(const SceneInput& input);
};

// Radians. `spin` is the default animation's own angle.
struct ScenePose {
  double spin = 0;
  float yaw = 0;
  float pitch = 0;
};

// Render thread only.
class Scene {
 public:
  // `start_speed`: the spin at the start and after a reset (CS_SPIN_SPEED).
  explicit Scene(float start_speed = 1) : start_speed_(start_speed), speed_(start_speed) {}
  // Advances the spin to `now_ns` (CLOCK_MONOTONIC), then applies
  // `changes`. The first step after restart() only applies: the spin
  // starts at 0.
  void step(std::int64_t now_ns, const SceneChanges& changes);
  // Back to the start pose and speed, running, no input (on resume).
  void restart();
  const ScenePose& pose() const { return pose_; }
  // The stamp of the newest input applied, 0 when none (timecode row 2).
  std::uint32_t input_ms() const { return input_ms_; }
  // Full turns since restart(), either way round (timecode row 3): one each
  // time the spin's main axis (0.9 rad per unit) passes a multiple of 2*pi.
  std::uint32_t turns() const { return turns_; }
  bool paused() const { return paused_; }
  float speed() const { return speed_; }

 private:
  ScenePose pose_;
  float start_speed_ = 1;
  float speed_ = 1;
  bool paused_ = false;
  std::uint32_t input_ms_ = 0;
  std::uint32_t turns_ = 0;
  std::optional<std::int64_t> last_ns_;
};

// Told of every frame's scene as the render thread steps it (the sound
// follows the cube: audio/scene_sound.hpp). Called on the render thread,
// once per frame, before drawing: an implementation takes microseconds and
// never blocks on anything slower than a mutex.
class SceneListener {
 public:
  virtual ~SceneListener() = default;
  // `now_ns`: the frame's scene time (CLOCK_MONOTONIC), also its capture
  // time; `restarted`: the first frame after Scene::restart().
  virtual void on_frame(std::int64_t now_ns, const Scene& scene, bool restarted) = 0;
};

// Thread-safe: post() from any thread, take() on the render thread.
class SceneInbox {
 public:
  void post(const SceneInput& input);
  SceneChanges take();

 private:
  std::mutex mutex_;
  SceneChanges pending_;
};

}  // namespace cs::render
