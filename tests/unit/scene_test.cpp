#include <doctest/doctest.h>

#include <cmath>
#include <thread>
#include <vector>

#include "cs/render/scene.hpp"

using namespace cs::render;

namespace {
constexpr std::int64_t kSecond = 1'000'000'000;

SceneInput rotate(float yaw, float pitch, std::uint32_t stamp) {
  SceneInput in;
  in.kind = SceneInput::Kind::rotate;
  in.yaw_deg = yaw;
  in.pitch_deg = pitch;
  in.stamp_ms = stamp;
  return in;
}

SceneInput of(SceneInput::Kind kind, std::uint32_t stamp, float speed = 1) {
  SceneInput in;
  in.kind = kind;
  in.speed = speed;
  in.stamp_ms = stamp;
  return in;
}
}  // namespace

TEST_CASE("scene: spins with the clock from 0, no input stamp until an input") {
  Scene scene;
  scene.step(5 * kSecond, {});
  CHECK(scene.pose().spin == 0.0);
  scene.step(6 * kSecond, {});
  CHECK(scene.pose().spin == doctest::Approx(1.0));
  CHECK(scene.input_ms() == 0u);
}

TEST_CASE("scene: rotate, speed, pause, resume and reset apply at the next step") {
  Scene scene;
  SceneInbox inbox;
  scene.step(0, inbox.take());
  inbox.post(rotate(90, -45, 100));
  inbox.post(rotate(90, 0, 101));
  scene.step(kSecond, inbox.take());
  CHECK(scene.pose().yaw == doctest::Approx(std::acos(-1.0f)).epsilon(1e-4));
  CHECK(scene.pose().pitch == doctest::Approx(-std::acos(-1.0f) / 4));
  CHECK(scene.input_ms() == 101u);

  inbox.post(of(SceneInput::Kind::speed, 102, -2));
  scene.step(2 * kSecond, inbox.take());  // the new speed counts from this step
  const double spin = scene.pose().spin;
  scene.step(3 * kSecond, inbox.take());
  CHECK(scene.pose().spin == doctest::Approx(spin - 2.0));
  CHECK(scene.input_ms() == 102u);  // no new input: the stamp stays

  inbox.post(of(SceneInput::Kind::pause, 103));
  scene.step(4 * kSecond, inbox.take());
  const double paused_at = scene.pose().spin;
  scene.step(9 * kSecond, inbox.take());
  CHECK(scene.pose().spin == paused_at);
  CHECK(scene.paused());

  inbox.post(of(SceneInput::Kind::resume, 104));
  scene.step(10 * kSecond, inbox.take());
  scene.step(11 * kSecond, inbox.take());
  CHECK(scene.pose().spin == doctest::Approx(paused_at - 2.0));

  // A reset undoes what was posted before it in the same frame, not after.
  inbox.post(rotate(30, 30, 105));
  inbox.post(of(SceneInput::Kind::reset, 106));
  inbox.post(rotate(0, 10, 107));
  scene.step(12 * kSecond, inbox.take());
  CHECK(scene.pose().yaw == 0.0f);
  CHECK(scene.pose().pitch == doctest::Approx(std::acos(-1.0f) / 18));
  CHECK(scene.pose().spin == 0.0);
  CHECK(scene.speed() == 1.0f);
  CHECK_FALSE(scene.paused());
  CHECK(scene.input_ms() == 107u);
}

TEST_CASE(
    "scene: the start speed (CS_SPIN_SPEED) holds at the start, after a reset and a restart") {
  Scene scene(-4);
  SceneInbox inbox;
  scene.step(0, {});
  scene.step(kSecond, {});
  CHECK(scene.pose().spin == doctest::Approx(-4.0));
  inbox.post(of(SceneInput::Kind::speed, 1, 2));
  scene.step(2 * kSecond, inbox.take());
  CHECK(scene.speed() == 2.0f);
  inbox.post(of(SceneInput::Kind::reset, 2));
  scene.step(3 * kSecond, inbox.take());
  CHECK(scene.speed() == -4.0f);
  scene.restart();
  CHECK(scene.speed() == -4.0f);
  CHECK(scene.pose().spin == 0.0);
}

TEST_CASE("scene: angles stay bounded however long it spins or is dragged") {
  Scene scene;
  scene.step(0, {});
  SceneChanges drag;
  for (int i = 0; i < 100000; ++i) drag.add(rotate(7, 11, 1));
  scene.step(1000000 * kSecond, drag);
  CHECK(std::abs(scene.pose().yaw) <= 3.15f);
  CHECK(std::abs(scene.pose().pitch) <= 3.15f);
  CHECK(std::abs(scene.pose().spin) <= 63.0);
}

TEST_CASE("scene inbox: posts from several threads fold into one change") {
  SceneInbox inbox;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 1000; ++i) inbox.post(rotate(0.5f, 0, 9));
    });
  for (auto& t : threads) t.join();
  const SceneChanges changes = inbox.take();
  CHECK(changes.any);
  CHECK(changes.yaw_deg == doctest::Approx(2000.0f));
  CHECK_FALSE(inbox.take().any);
}

TEST_CASE("scene: counts a full turn each 2*pi/0.9 units of spin, either way, across wraps") {
  constexpr double kTurnS = 2.0 * 3.14159265358979323846 / 0.9;  // at the default speed
  Scene scene;
  scene.step(0, {});
  scene.step(static_cast<std::int64_t>((kTurnS - 0.01) * kSecond), {});
  CHECK(scene.turns() == 0u);
  scene.step(static_cast<std::int64_t>((kTurnS + 0.01) * kSecond), {});
  CHECK(scene.turns() == 1u);
  // 140 s in 1 s steps: past the pose's wrap at 20*pi (62.8 s) and -20*pi.
  for (int s = 1; s <= 140; ++s)
    scene.step(static_cast<std::int64_t>((kTurnS + 0.01 + s) * kSecond), {});
  CHECK(scene.turns() == static_cast<std::uint32_t>((kTurnS + 0.01 + 140) / kTurnS));
  // Backwards counts too; paused counts nothing.
  const std::uint32_t before = scene.turns();
  std::int64_t t = static_cast<std::int64_t>((kTurnS + 0.01 + 140) * kSecond);
  scene.step(t, [] {
    SceneChanges c;
    c.add(of(SceneInput::Kind::speed, 1, -2));
    return c;
  }());
  t += static_cast<std::int64_t>(kTurnS * kSecond);  // two turns' worth at -2x
  scene.step(t, {});
  CHECK(scene.turns() - before == 2u);
  scene.step(t, [] {
    SceneChanges c;
    c.add(of(SceneInput::Kind::pause, 2));
    return c;
  }());
  scene.step(t + 100 * kSecond, {});
  CHECK(scene.turns() - before == 2u);
  scene.restart();
  CHECK(scene.turns() == 0u);
}
