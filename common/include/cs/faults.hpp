#pragma once
// Test-only fault injection: lets the end-to-end tests make a real part fail
// on purpose (an encoder error, a lost GL context, a dying thread) so that
// the recovery paths run against the real pipeline.
//
// Faults are named in CS_TEST_FAULTS as a comma list of `name` or
// `name@N` (N: a count whose meaning the fault defines, e.g. a frame
// number). It is read only in builds configured with CS_FAULT_INJECTION
// (on in test builds, off in the README's plain set-up); elsewhere every
// query answers "not armed". Any thread.
#include <cstdint>
#include <optional>
#include <string_view>

namespace cs::faults {

// Whether this build reads CS_TEST_FAULTS at all.
bool compiled_in();

// N of `name@N` (0 for a bare `name`), or nothing when `name` is not armed.
std::optional<std::int64_t> armed(std::string_view name);

// True exactly once per process for an armed fault, when `count` reaches
// its N: for faults that fire at one moment.
bool fire_once(std::string_view name, std::int64_t count);

}  // namespace cs::faults
