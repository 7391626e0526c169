#pragma once
// The control data channel's messages (SPEC.md "Control channel" in the
// README): small JSON objects a viewer sends to steer the cube or ask for
// its stream to change, and what the server answers. Parsed and written here
// only. Pure: any thread. Input never asserts; a bad message yields an error
// text.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "cs/config.hpp"
#include "cs/render/scene.hpp"

namespace cs::control {

// The data channel's label; the page opens it before its offer.
inline constexpr std::string_view kChannelLabel = "control";
inline constexpr std::size_t kMaxMessageBytes = 1024;
// Bounds of what a message may carry.
inline constexpr double kMaxDegreesPerMessage = 360;
inline constexpr double kMaxSpeed = kMaxSpinSpeed;

// Steering input for the cube: rotate, speed, pause, resume, reset.
struct SteerCommand {
  render::SceneInput input;
  bool stamped = false;  // "t" was given; otherwise the server stamps it on arrival
};
// {"type":"keyframe"}: a keyframe of the viewer's stream now.
struct KeyframeCommand {};
// {"type":"quality","step":"lower"|"higher"}: one rung down or up the
// ladder; the viewer then stays there (no adaptation), as with ?rung=N.
struct QualityCommand {
  int step = 0;  // -1 = higher quality (towards rung 0), +1 = lower
};

using Command = std::variant<SteerCommand, KeyframeCommand, QualityCommand>;

struct Parsed {
  std::optional<Command> command;
  std::string error;  // set when command is empty
};

Parsed parse_command(std::string_view text);

// {"type":"control","steer":true,"policy":"first"}: whether this viewer may
// steer now; sent when the channel opens and whenever that changes.
std::string control_state_json(bool may_steer, ControlPolicy policy);
// {"type":"error","message":"..."}
std::string error_json(std::string_view message);

}  // namespace cs::control
