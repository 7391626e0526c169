#pragma once
// A cumulative histogram for /metrics: every sample since the start counted
// into fixed buckets (Prometheus' `le` bounds), lock-free. A SampleWindow
// keeps only recent samples, which a scraper cannot turn into rates; this
// keeps counts that only grow. observe() and snapshot() from any thread.
#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>

namespace cs {

class Histogram {
 public:
  // Upper bounds in seconds: 0.5 ms (a draw on a GPU) to 5 s (a stuck stage).
  static constexpr std::array<double, 13> kBounds = {0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05,
                                                     0.1,    0.2,   0.5,   1,     2,    5};

  struct Snapshot {
    std::array<std::uint64_t, kBounds.size()> cumulative{};  // samples <= kBounds[i]
    std::uint64_t count = 0;                                 // all samples: the +Inf bucket
    double sum = 0;
  };

  void observe(double value) {
    std::size_t i = 0;
    while (i < kBounds.size() && value > kBounds[i]) ++i;
    buckets_[i].fetch_add(1, std::memory_order_relaxed);
    sum_.fetch_add(value, std::memory_order_relaxed);
  }

  // Counts taken one bucket at a time while samples may arrive: each
  // bucket is exact at its read, and the cumulative series is ordered.
  Snapshot snapshot() const {
    Snapshot s;
    std::uint64_t running = 0;
    for (std::size_t i = 0; i < kBounds.size(); ++i) {
      running += buckets_[i].load(std::memory_order_relaxed);
      s.cumulative[i] = running;
    }
    s.count = running + buckets_[kBounds.size()].load(std::memory_order_relaxed);
    s.sum = sum_.load(std::memory_order_relaxed);
    return s;
  }

 private:
  std::array<std::atomic<std::uint64_t>, kBounds.size() + 1> buckets_{};  // last: > every bound
  std::atomic<double> sum_{0};
};

}  // namespace cs
