#include <doctest/doctest.h>

#include <string>
#include <variant>

#include "cs/control/control_protocol.hpp"
#include "cs/control/steering.hpp"

using namespace cs::control;
using Kind = cs::render::SceneInput::Kind;

TEST_CASE("control protocol: steering messages, with and without the viewer's stamp") {
  auto p = parse_command(R"({"type":"rotate","yaw":12.5,"pitch":-3,"t":1796213818978})");
  REQUIRE(p.command);
  const auto& rotate = std::get<SteerCommand>(*p.command);
  CHECK(rotate.input.kind == Kind::rotate);
  CHECK(rotate.input.yaw_deg == doctest::Approx(12.5));
  CHECK(rotate.input.pitch_deg == doctest::Approx(-3));
  CHECK(rotate.stamped);
  CHECK(rotate.input.stamp_ms == static_cast<std::uint32_t>(1796213818978ull & 0xFFFFFFFFu));

  p = parse_command(R"({"type":"rotate","pitch":90})");
  REQUIRE(p.command);
  CHECK_FALSE(std::get<SteerCommand>(*p.command).stamped);

  p = parse_command(R"({"type":"speed","value":-2.5})");
  REQUIRE(p.command);
  CHECK(std::get<SteerCommand>(*p.command).input.speed == doctest::Approx(-2.5));
  for (const char* kind : {"pause", "resume", "reset"}) {
    CAPTURE(kind);
    p = parse_command(std::string(R"({"type":")") + kind + R"("})");
    REQUIRE(p.command);
    CHECK(std::holds_alternative<SteerCommand>(*p.command));
  }
}

TEST_CASE("control protocol: keyframe and quality requests") {
  auto p = parse_command(R"({"type":"keyframe"})");
  REQUIRE(p.command);
  CHECK(std::holds_alternative<KeyframeCommand>(*p.command));
  p = parse_command(R"({"type":"quality","step":"lower"})");
  REQUIRE(p.command);
  CHECK(std::get<QualityCommand>(*p.command).step == 1);
  p = parse_command(R"({"type":"quality","step":"higher"})");
  REQUIRE(p.command);
  CHECK(std::get<QualityCommand>(*p.command).step == -1);
}

TEST_CASE("control protocol: bad input gets a reason, never a command") {
  const std::pair<const char*, const char*> cases[] = {
      {"", "not a JSON object"},
      {"[1,2]", "not a JSON object"},
      {"{\"type\":", "not a JSON object"},
      {R"({"yaw":1})", "no \"type\""},
      {R"({"type":7})", "no \"type\""},
      {R"({"type":"explode"})", "unknown control message type \"explode\""},
      {R"({"type":"rotate"})", "rotate needs"},
      {R"({"type":"rotate","yaw":"left"})", "\"yaw\" must be a number"},
      {R"({"type":"rotate","yaw":1e9})", "\"yaw\" must be a number"},
      {R"({"type":"rotate","pitch":null})", "\"pitch\" must be a number"},
      {R"({"type":"speed"})", "speed needs"},
      {R"({"type":"speed","value":9})", "\"value\" must be a number"},
      {R"({"type":"rotate","yaw":1,"t":-5})", "\"t\" must be"},
      {R"({"type":"rotate","yaw":1,"t":"now"})", "\"t\" must be"},
      {R"({"type":"quality","step":"sideways"})", "quality needs"},
  };
  for (const auto& [text, reason] : cases) {
    CAPTURE(text);
    const auto p = parse_command(text);
    CHECK_FALSE(p.command);
    CHECK(p.error.find(reason) != std::string::npos);
  }
  const auto big = parse_command(std::string(2000, ' '));
  CHECK_FALSE(big.command);
  CHECK(big.error.find("too long") != std::string::npos);
}

TEST_CASE("control protocol: the server's messages") {
  CHECK(control_state_json(true, cs::ControlPolicy::first) ==
        R"({"policy":"first","steer":true,"type":"control"})");
  CHECK(error_json("x \"y\"") == R"({"message":"x \"y\"","type":"error"})");
}

TEST_CASE("steering: all, none, and first until it leaves") {
  Steering all(cs::ControlPolicy::all);
  all.joined(1);
  all.joined(2);
  CHECK(all.may_steer(1));
  CHECK(all.may_steer(2));

  Steering none(cs::ControlPolicy::none);
  none.joined(1);
  CHECK_FALSE(none.may_steer(1));

  Steering first(cs::ControlPolicy::first);
  CHECK(first.joined(5) == std::vector<std::uint64_t>{5});
  first.joined(7);
  first.joined(9);
  CHECK(first.may_steer(5));
  CHECK_FALSE(first.may_steer(7));
  CHECK(first.left(9).empty());                           // not the holder: nobody changes
  CHECK(first.left(5) == std::vector<std::uint64_t>{7});  // the next in line holds it now
  CHECK(first.may_steer(7));
  CHECK(first.left(42).empty());
}
