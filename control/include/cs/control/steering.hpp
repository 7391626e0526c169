#pragma once
// Who may steer the cube under CS_CONTROL, from the order in which viewers'
// control channels opened. Pure: one owner (the main loop), no clock.
#include <cstdint>
#include <vector>

#include "cs/config.hpp"

namespace cs::control {

class Steering {
 public:
  explicit Steering(ControlPolicy policy) : policy_(policy) {}

  // A viewer's control channel opened. Returns the viewers whose right to
  // steer changed (the caller tells them), this one included.
  std::vector<std::uint64_t> joined(std::uint64_t viewer);
  // A viewer left (or its channel closed). Returns the viewers whose right
  // changed: under `first`, the next holder.
  std::vector<std::uint64_t> left(std::uint64_t viewer);
  bool may_steer(std::uint64_t viewer) const;
  ControlPolicy policy() const { return policy_; }

 private:
  ControlPolicy policy_;
  std::vector<std::uint64_t> order_;  // channels open, oldest first
};

}  // namespace cs::control
