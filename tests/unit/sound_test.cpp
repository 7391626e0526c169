#include <doctest/doctest.h>

#include <cmath>
#include <cstdlib>
#include <vector>

#include "cs/audio/scene_sound.hpp"

using namespace cs::audio;
using cs::render::Scene;

namespace {
constexpr std::int64_t kMs = 1'000'000;
constexpr double kTurnS = 2.0 * 3.14159265358979323846 / 0.9;

// The first sample at or above `level` (of full scale), or -1.
int first_above(const std::vector<std::int16_t>& samples, double level) {
  for (std::size_t i = 0; i < samples.size(); ++i)
    if (std::abs(samples[i]) >= level * 32767) return static_cast<int>(i);
  return -1;
}

// Zero crossings upwards per second: the tone's frequency.
double crossings_hz(const std::vector<std::int16_t>& samples, int rate) {
  int ups = 0;
  for (std::size_t i = 1; i < samples.size(); ++i)
    if (samples[i - 1] < 0 && samples[i] >= 0) ++ups;
  return ups * static_cast<double>(rate) / samples.size();
}
}  // namespace

TEST_CASE("sound: the tone's pitch follows the spin speed, an octave each 4x") {
  SoundSettings s;
  CHECK(tone_hz_for(s, 0) == doctest::Approx(220));
  CHECK(tone_hz_for(s, 1) == doctest::Approx(261.6).epsilon(0.001));
  CHECK(tone_hz_for(s, -8) == doctest::Approx(880));
}

TEST_CASE(
    "sound: a soft tone at the default speed, silence while paused, no click without a turn") {
  SceneSound sound;
  Scene scene;
  scene.step(0, {});
  sound.on_frame(0, scene, true);
  std::vector<std::int16_t> block(48000);
  sound.synthesize(0, block);
  // After the glide: the default pitch, at the tone's level.
  std::vector<std::int16_t> tail(block.begin() + 4800, block.end());
  CHECK(crossings_hz(tail, 48000) == doctest::Approx(261.6).epsilon(0.02));
  CHECK(first_above(tail, 0.07) >= 0);
  CHECK(first_above(tail, 0.1) == -1);
  CHECK(sound.clicks() == 0u);

  cs::render::SceneChanges pause;
  pause.add({cs::render::SceneInput::Kind::pause});
  scene.step(1000 * kMs, pause);
  sound.on_frame(1000 * kMs, scene, false);
  sound.synthesize(1000 * kMs, block);
  std::vector<std::int16_t> paused(block.begin() + 4800, block.end());
  CHECK(first_above(paused, 0.001) == -1);
}

TEST_CASE("sound: the click starts at the sample of the frame that counted the turn") {
  SceneSound sound;
  Scene scene;
  scene.step(0, {});
  sound.on_frame(0, scene, true);
  // Frames every 33 ms until one counts a turn.
  std::int64_t turn_ns = -1;
  for (std::int64_t t = 33 * kMs; turn_ns < 0; t += 33 * kMs) {
    scene.step(t, {});
    sound.on_frame(t, scene, false);
    if (scene.turns() == 1) turn_ns = t;
  }
  CHECK(turn_ns == doctest::Approx(kTurnS * 1e9).epsilon(0.01));
  // Blocks of 10 ms from 100 ms before the turn: the click (0.7 of full
  // scale, the tone is 0.08) begins exactly at the turn's sample.
  const std::int64_t start = turn_ns - 100 * kMs;
  std::vector<std::int16_t> all;
  for (std::int64_t b = start; b < start + 200 * kMs; b += 10 * kMs) {
    std::vector<std::int16_t> block(480);
    sound.synthesize(b, block);
    all.insert(all.end(), block.begin(), block.end());
  }
  const auto expected = static_cast<int>(std::ceil((turn_ns - start) * 48000.0 / 1e9));
  CHECK(first_above(all, 0.5) == expected);
  CHECK(sound.clicks() == 1u);
  // Rings for 8 ms, then only the tone.
  std::vector<std::int16_t> after(all.begin() + expected + 400, all.end());
  CHECK(first_above(after, 0.1) == -1);
  CHECK(sound.late_clicks() == 0u);
}

TEST_CASE("sound: an event told after its time sounds at once and is counted late (clicks)") {
  SceneSound sound;
  Scene scene;
  scene.step(0, {});
  sound.on_frame(0, scene, true);
  std::vector<std::int16_t> block(480);
  sound.synthesize(0, block);
  // The turn's frame at 7 s, but the sound is already at 8 s.
  scene.step(static_cast<std::int64_t>(7e9), {});
  sound.on_frame(static_cast<std::int64_t>(7e9), scene, false);
  REQUIRE(scene.turns() == 1u);
  sound.synthesize(static_cast<std::int64_t>(8e9), block);
  CHECK(first_above(block, 0.5) == 0);
  CHECK(sound.late_clicks() == 1u);
}
