#include "cs/control/steering.hpp"

#include <algorithm>

namespace cs::control {

std::vector<std::uint64_t> Steering::joined(std::uint64_t viewer) {
  if (std::find(order_.begin(), order_.end(), viewer) == order_.end()) order_.push_back(viewer);
  return {viewer};
}

std::vector<std::uint64_t> Steering::left(std::uint64_t viewer) {
  const auto it = std::find(order_.begin(), order_.end(), viewer);
  if (it == order_.end()) return {};
  const bool was_holder = it == order_.begin();
  order_.erase(it);
  if (policy_ == ControlPolicy::first && was_holder && !order_.empty()) return {order_.front()};
  return {};
}

bool Steering::may_steer(std::uint64_t viewer) const {
  switch (policy_) {
    case ControlPolicy::all:
      return true;
    case ControlPolicy::none:
      return false;
    case ControlPolicy::first:
      return !order_.empty() && order_.front() == viewer;
  }
  return false;
}

}  // namespace cs::control
