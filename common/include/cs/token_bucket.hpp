#pragma once
// A token bucket: `burst` messages at once, refilled at `per_second`. Pure
// (the caller passes the time); one owner, no locking.
#include <cstdint>

namespace cs {

class TokenBucket {
 public:
  TokenBucket(double per_second, double burst, std::int64_t now_ns)
      : per_second_(per_second), burst_(burst), tokens_(burst), last_ns_(now_ns) {}
  // Takes one token if there is one.
  bool take(std::int64_t now_ns);

 private:
  double per_second_;
  double burst_;
  double tokens_;
  std::int64_t last_ns_;
};

}  // namespace cs
