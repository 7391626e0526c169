#include "cs/render/scene.hpp"

#include <cmath>
#include <numbers>
#include <utility>

namespace cs::render {

namespace {
constexpr float kRadiansPerDegree = std::numbers::pi_v<float> / 180.0f;
// The spin turns about two axes at 0.9 and 0.55 rad per unit: the pose
// repeats every 2*pi/0.05 units, and the main axis turns once every
// 2*pi/0.9 (18 turns a period, so wrapping the spin keeps the count).
constexpr double kSpinPeriodUnits = 2.0 * std::numbers::pi / 0.05;
constexpr double kTurnUnits = 2.0 * std::numbers::pi / 0.9;

// Keeps an accumulated angle small, so float precision never drifts.
float wrapped(float radians) {
  return std::remainder(radians, 2.0f * std::numbers::pi_v<float>);
}
}  // namespace

void SceneChanges::add(const SceneInput& input) {
  any = true;
  stamp_ms = input.stamp_ms;
  switch (input.kind) {
    case SceneInput::Kind::rotate:
      yaw_deg += input.yaw_deg;
      pitch_deg += input.pitch_deg;
      break;
    case SceneInput::Kind::speed:
      speed = input.speed;
      break;
    case SceneInput::Kind::pause:
      paused = true;
      break;
    case SceneInput::Kind::resume:
      paused = false;
      break;
    case SceneInput::Kind::reset:
      // What came before it is undone by it.
      *this = SceneChanges{};
      any = true;
      reset = true;
      stamp_ms = input.stamp_ms;
      break;
  }
}

// The time since the last frame passed under the state it had; the
// changes take effect from this frame on.
void Scene::step(std::int64_t now_ns, const SceneChanges& changes) {
  if (last_ns_ && !paused_) {
    const double spin = pose_.spin + static_cast<double>(now_ns - *last_ns_) * 1e-9 * speed_;
    turns_ += static_cast<std::uint32_t>(
        std::abs(std::floor(spin / kTurnUnits) - std::floor(pose_.spin / kTurnUnits)));
    pose_.spin = std::remainder(spin, kSpinPeriodUnits);
  }
  last_ns_ = now_ns;
  if (!changes.any) return;
  if (changes.reset) {
    pose_ = {};
    speed_ = start_speed_;
    paused_ = false;
  }
  pose_.yaw = wrapped(pose_.yaw + changes.yaw_deg * kRadiansPerDegree);
  pose_.pitch = wrapped(pose_.pitch + changes.pitch_deg * kRadiansPerDegree);
  if (changes.speed) speed_ = *changes.speed;
  if (changes.paused) paused_ = *changes.paused;
  input_ms_ = changes.stamp_ms;
}

void Scene::restart() {
  *this = Scene{start_speed_};
}

void SceneInbox::post(const SceneInput& input) {
  std::lock_guard lock(mutex_);
  pending_.add(input);
}

SceneChanges SceneInbox::take() {
  std::lock_guard lock(mutex_);
  return std::exchange(pending_, SceneChanges{});
}

}  // namespace cs::render
