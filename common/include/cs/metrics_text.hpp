#pragma once
// Prometheus text exposition (format 0.0.4), written by hand: families with
// `# HELP` / `# TYPE`, label values escaped, histograms with cumulative
// buckets, +Inf, _sum and _count. Pure; a new writer per scrape.
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cs/histogram.hpp"

namespace cs {

using MetricLabels = std::vector<std::pair<std::string, std::string>>;

class MetricsText {
 public:
  static constexpr const char* kContentType = "text/plain; version=0.0.4; charset=utf-8";

  // A family's header; every sample of it follows before the next family.
  void family(std::string_view name, std::string_view type, std::string_view help);
  void sample(std::string_view name, const MetricLabels& labels, double value);

  // One-sample families. A counter's name ends in _total.
  void counter(std::string_view name, std::string_view help, double value);
  void gauge(std::string_view name, std::string_view help, double value);
  // `name` without suffixes; writes name_bucket{le=...}, name_sum, name_count.
  void histogram(std::string_view name, std::string_view help, const Histogram::Snapshot& h,
                 const MetricLabels& labels = {});

  const std::string& text() const { return out_; }

 private:
  std::string out_;
};

// A label value as the format writes it: backslash, double quote and
// newline escaped.
std::string escape_label_value(std::string_view value);
// A number as the format writes it: integers without a fraction, NaN,
// +Inf, -Inf spelled out.
std::string format_metric_value(double value);

}  // namespace cs
