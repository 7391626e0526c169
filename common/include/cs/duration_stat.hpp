#pragma once
// One measured duration (a pipeline stage's, say), kept two ways: the
// recent samples in milliseconds for /stats' medians, and every sample since
// the start in seconds for /metrics' histograms. Any thread.
#include "cs/histogram.hpp"
#include "cs/sample_window.hpp"

namespace cs {

class DurationStat {
 public:
  void add(double ms) {
    recent_ms_.add(ms);
    all_seconds_.observe(ms / 1000.0);
  }
  SampleSummary summary() const { return recent_ms_.summary(); }             // ms
  Histogram::Snapshot histogram() const { return all_seconds_.snapshot(); }  // seconds

 private:
  SampleWindow<> recent_ms_;
  Histogram all_seconds_;
};

}  // namespace cs
