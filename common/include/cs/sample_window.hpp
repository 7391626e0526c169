#pragma once
// The last N samples of one measured figure (a stage's duration, say), for
// medians and percentiles on demand. add() and summary() may be called from
// any thread; a short lock per call, off the hot path's critical work.
#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <vector>

namespace cs {

struct SampleSummary {
  std::size_t count = 0;  // samples in the window
  double p50 = 0, p95 = 0, max = 0;
};

template <std::size_t N = 512>
class SampleWindow {
 public:
  void add(double value) {
    std::lock_guard lock(mutex_);
    samples_[next_] = value;
    next_ = (next_ + 1) % N;
    count_ = std::min(count_ + 1, N);
  }

  SampleSummary summary() const {
    std::vector<double> v;
    {
      std::lock_guard lock(mutex_);
      v.assign(samples_.begin(), samples_.begin() + static_cast<std::ptrdiff_t>(count_));
    }
    SampleSummary s;
    s.count = v.size();
    if (v.empty()) return s;
    std::sort(v.begin(), v.end());
    auto at = [&](double q) {
      return v[std::min(v.size() - 1, static_cast<std::size_t>(q * (v.size() - 1) + 0.5))];
    };
    s.p50 = at(0.5);
    s.p95 = at(0.95);
    s.max = v.back();
    return s;
  }

 private:
  mutable std::mutex mutex_;
  std::array<double, N> samples_{};
  std::size_t next_ = 0;
  std::size_t count_ = 0;
};

}  // namespace cs
