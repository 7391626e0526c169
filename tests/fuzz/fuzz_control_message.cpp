// Fuzzes the control channel's parser (control_protocol.hpp). Properties
// besides "no crash, no leak, no UB": exactly one of command and error; a
// steering command's numbers are finite and within the protocol's bounds,
// so nothing a viewer sends can put a NaN or a huge angle into the scene.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>
#include <variant>

#include "cs/control/control_protocol.hpp"

namespace {
void require(bool ok) {
  if (!ok) std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto parsed = cs::control::parse_command(text);
  require(parsed.command.has_value() == parsed.error.empty());
  if (!parsed.command) return 0;
  if (const auto* steer = std::get_if<cs::control::SteerCommand>(&*parsed.command)) {
    const auto& in = steer->input;
    for (float v : {in.yaw_deg, in.pitch_deg, in.speed}) require(std::isfinite(v));
    require(std::abs(in.yaw_deg) <= cs::control::kMaxDegreesPerMessage);
    require(std::abs(in.pitch_deg) <= cs::control::kMaxDegreesPerMessage);
    require(std::abs(in.speed) <= cs::control::kMaxSpeed);
  }
  if (const auto* quality = std::get_if<cs::control::QualityCommand>(&*parsed.command))
    require(quality->step == 1 || quality->step == -1);
  return 0;
}
