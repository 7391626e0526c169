#include "cs/token_bucket.hpp"

#include <algorithm>

namespace cs {

bool TokenBucket::take(std::int64_t now_ns) {
  if (now_ns > last_ns_) {
    tokens_ =
        std::min(burst_, tokens_ + static_cast<double>(now_ns - last_ns_) * 1e-9 * per_second_);
    last_ns_ = now_ns;
  }
  if (tokens_ < 1.0) return false;
  tokens_ -= 1.0;
  return true;
}

}  // namespace cs
