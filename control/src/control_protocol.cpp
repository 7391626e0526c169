#include "cs/control/control_protocol.hpp"

#include <cmath>
#include <nlohmann/json.hpp>

namespace cs::control {
namespace {

using nlohmann::json;
using Kind = render::SceneInput::Kind;

Parsed fail(std::string why) {
  return {std::nullopt, std::move(why)};
}

// A finite number within [-limit, limit] at `key`; nullopt when absent or
// when it is not one (then `error` says why).
std::optional<double> bounded_number(const json& message, const char* key, double limit,
                                     std::string& error) {
  const auto it = message.find(key);
  if (it == message.end()) return std::nullopt;
  if (!it->is_number() || !std::isfinite(it->get<double>()) ||
      std::abs(it->get<double>()) > limit) {
    const int bound = static_cast<int>(limit);
    error = std::string("\"") + key + "\" must be a number from " + std::to_string(-bound) +
            " to " + std::to_string(bound);
    return std::nullopt;
  }
  return it->get<double>();
}

// "t": the viewer's wall clock in ms at the input; the strip carries it
// modulo 2^32 (row 2).
bool read_stamp(const json& message, SteerCommand& command, std::string& error) {
  const auto it = message.find("t");
  if (it == message.end()) return true;
  if (!it->is_number() || !std::isfinite(it->get<double>()) || it->get<double>() < 0 ||
      it->get<double>() > 9007199254740991.0) {
    error = "\"t\" must be a wall-clock time in ms (a non-negative number)";
    return false;
  }
  const auto ms = static_cast<std::uint64_t>(it->get<double>());
  command.input.stamp_ms = static_cast<std::uint32_t>(ms & 0xFFFFFFFFu);
  command.stamped = true;
  return true;
}

Parsed steer(const json& message, Kind kind) {
  SteerCommand command;
  command.input.kind = kind;
  std::string error;
  if (kind == Kind::rotate) {
    const auto yaw = bounded_number(message, "yaw", kMaxDegreesPerMessage, error);
    if (!error.empty()) return fail(error);
    const auto pitch = bounded_number(message, "pitch", kMaxDegreesPerMessage, error);
    if (!error.empty()) return fail(error);
    if (!yaw && !pitch) return fail("rotate needs \"yaw\" or \"pitch\" (degrees)");
    command.input.yaw_deg = static_cast<float>(yaw.value_or(0));
    command.input.pitch_deg = static_cast<float>(pitch.value_or(0));
  } else if (kind == Kind::speed) {
    const auto value = bounded_number(message, "value", kMaxSpeed, error);
    if (!error.empty()) return fail(error);
    if (!value) return fail("speed needs \"value\" (a multiple of the default spin)");
    command.input.speed = static_cast<float>(*value);
  }
  if (!read_stamp(message, command, error)) return fail(error);
  return {Command{command}, {}};
}

}  // namespace

Parsed parse_command(std::string_view text) {
  if (text.size() > kMaxMessageBytes)
    return fail("control message too long (more than " + std::to_string(kMaxMessageBytes) +
                " bytes)");
  const json message = json::parse(text, nullptr, false);
  if (message.is_discarded() || !message.is_object()) return fail("not a JSON object");
  const auto type = message.find("type");
  if (type == message.end() || !type->is_string()) return fail("no \"type\"");
  const std::string& name = type->get_ref<const std::string&>();
  if (name == "rotate") return steer(message, Kind::rotate);
  if (name == "speed") return steer(message, Kind::speed);
  if (name == "pause") return steer(message, Kind::pause);
  if (name == "resume") return steer(message, Kind::resume);
  if (name == "reset") return steer(message, Kind::reset);
  if (name == "keyframe") return {Command{KeyframeCommand{}}, {}};
  if (name == "quality") {
    const auto step = message.find("step");
    if (step != message.end() && *step == "lower") return {Command{QualityCommand{+1}}, {}};
    if (step != message.end() && *step == "higher") return {Command{QualityCommand{-1}}, {}};
    return fail("quality needs \"step\": \"lower\" or \"higher\"");
  }
  return fail("unknown control message type \"" + name.substr(0, 40) +
              "\" (rotate, speed, pause, resume, reset, keyframe, quality)");
}

std::string control_state_json(bool may_steer, ControlPolicy policy) {
  return json{{"type", "control"}, {"steer", may_steer}, {"policy", to_string(policy)}}.dump();
}

std::string error_json(std::string_view message) {
  return json{{"type", "error"}, {"message", message}}.dump();
}

}  // namespace cs::control
