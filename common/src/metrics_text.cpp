#include "cs/metrics_text.hpp"

#include <charconv>
#include <cmath>

namespace cs {

std::string escape_label_value(std::string_view value) {
  std::string out;
  out.reserve(value.size());
  for (char c : value) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

namespace {
// HELP text escapes only backslash and newline.
std::string escape_help(std::string_view text) {
  std::string out;
  for (char c : text) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}
}  // namespace

std::string format_metric_value(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  char buffer[64];
  // Counters up to 2^53 are exact as doubles and print as integers.
  if (value == std::floor(value) && std::fabs(value) < 9007199254740992.0) {
    const auto r = std::to_chars(buffer, buffer + sizeof buffer, static_cast<std::int64_t>(value));
    return std::string(buffer, r.ptr);
  }
  // Shortest round trip; plain decimals ("0.0005", not "5e-04") where they are short.
  const double magnitude = std::fabs(value);
  const auto r =
      magnitude >= 1e-6 && magnitude < 1e15
          ? std::to_chars(buffer, buffer + sizeof buffer, value, std::chars_format::fixed)
          : std::to_chars(buffer, buffer + sizeof buffer, value);
  return std::string(buffer, r.ptr);
}

void MetricsText::family(std::string_view name, std::string_view type, std::string_view help) {
  out_.append("# HELP ").append(name).append(" ").append(escape_help(help)).append("\n");
  out_.append("# TYPE ").append(name).append(" ").append(type).append("\n");
}

void MetricsText::sample(std::string_view name, const MetricLabels& labels, double value) {
  out_.append(name);
  if (!labels.empty()) {
    out_ += '{';
    bool first = true;
    for (const auto& [key, label_value] : labels) {
      if (!first) out_ += ',';
      first = false;
      out_.append(key).append("=\"").append(escape_label_value(label_value)).append("\"");
    }
    out_ += '}';
  }
  out_.append(" ").append(format_metric_value(value)).append("\n");
}

void MetricsText::counter(std::string_view name, std::string_view help, double value) {
  family(name, "counter", help);
  sample(name, {}, value);
}

void MetricsText::gauge(std::string_view name, std::string_view help, double value) {
  family(name, "gauge", help);
  sample(name, {}, value);
}

void MetricsText::histogram(std::string_view name, std::string_view help,
                            const Histogram::Snapshot& h, const MetricLabels& labels) {
  family(name, "histogram", help);
  const std::string base(name);
  auto with_le = [&](std::string le) {
    MetricLabels l = labels;
    l.emplace_back("le", std::move(le));
    return l;
  };
  for (std::size_t i = 0; i < Histogram::kBounds.size(); ++i)
    sample(base + "_bucket", with_le(format_metric_value(Histogram::kBounds[i])),
           static_cast<double>(h.cumulative[i]));
  sample(base + "_bucket", with_le("+Inf"), static_cast<double>(h.count));
  sample(base + "_sum", labels, h.sum);
  sample(base + "_count", labels, static_cast<double>(h.count));
}

}  // namespace cs
