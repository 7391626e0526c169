#include <doctest/doctest.h>

#include <cmath>
#include <string>
#include <thread>
#include <vector>

#include "cs/duration_stat.hpp"
#include "cs/histogram.hpp"
#include "cs/metrics_text.hpp"
#include "cs/refusals.hpp"

TEST_CASE("histogram: cumulative buckets, +Inf, sum and count") {
  cs::Histogram h;
  h.observe(0.0001);  // first bucket
  h.observe(0.001);   // on a bound: counted in it (le)
  h.observe(0.003);
  h.observe(7.0);  // beyond every bound
  const auto s = h.snapshot();
  CHECK(s.count == 4);
  CHECK(s.cumulative[0] == 1);  // le 0.0005
  CHECK(s.cumulative[1] == 2);  // le 0.001
  CHECK(s.cumulative[2] == 2);  // le 0.002
  CHECK(s.cumulative[3] == 3);  // le 0.005
  CHECK(s.cumulative.back() == 3);
  CHECK(s.sum == doctest::Approx(7.0041));
  for (std::size_t i = 1; i < s.cumulative.size(); ++i)
    CHECK(s.cumulative[i] >= s.cumulative[i - 1]);
}

TEST_CASE("histogram: observations from several threads all count") {
  cs::Histogram h;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&] {
      for (int i = 0; i < 10000; ++i) h.observe(0.01);
    });
  for (auto& t : threads) t.join();
  const auto s = h.snapshot();
  CHECK(s.count == 40000);
  CHECK(s.sum == doctest::Approx(400.0));
}

TEST_CASE("duration stat: milliseconds for the window, seconds for the histogram") {
  cs::DurationStat d;
  d.add(4.0);
  d.add(6.0);
  CHECK(d.summary().count == 2);
  CHECK(d.summary().max == doctest::Approx(6.0));
  const auto h = d.histogram();
  CHECK(h.count == 2);
  CHECK(h.sum == doctest::Approx(0.010));
  CHECK(h.cumulative[3] == 1);  // 0.004 <= 0.005
  CHECK(h.cumulative[4] == 2);  // 0.006 <= 0.01
}

TEST_CASE("metrics text: families, labels escaped, numbers as the format spells them") {
  cs::MetricsText m;
  m.counter("cs_things_total", "Things.\nSecond line with \\.", 3);
  m.gauge("cs_level", "A level.", 0.25);
  m.family("cs_info", "gauge", "Info.");
  m.sample("cs_info", {{"name", "a\"b\\c\nd"}, {"v", "1"}}, 1);
  const std::string& t = m.text();
  CHECK(t.find("# HELP cs_things_total Things.\\nSecond line with \\\\.\n") != std::string::npos);
  CHECK(t.find("# TYPE cs_things_total counter\ncs_things_total 3\n") != std::string::npos);
  CHECK(t.find("# TYPE cs_level gauge\ncs_level 0.25\n") != std::string::npos);
  CHECK(t.find("cs_info{name=\"a\\\"b\\\\c\\nd\",v=\"1\"} 1\n") != std::string::npos);
  CHECK(cs::format_metric_value(12345678901.0) == "12345678901");
  CHECK(cs::format_metric_value(std::nan("")) == "NaN");
  CHECK(cs::format_metric_value(INFINITY) == "+Inf");
  CHECK(cs::format_metric_value(-INFINITY) == "-Inf");
  CHECK(cs::format_metric_value(0.001) == "0.001");
}

TEST_CASE("metrics text: a histogram has every bucket in order, +Inf, _sum and _count") {
  cs::Histogram h;
  h.observe(0.004);
  h.observe(10);
  cs::MetricsText m;
  m.histogram("cs_stage_seconds", "A stage.", h.snapshot(), {{"stage", "x"}});
  const std::string& t = m.text();
  CHECK(t.find("# TYPE cs_stage_seconds histogram\n") != std::string::npos);
  CHECK(t.find("cs_stage_seconds_bucket{stage=\"x\",le=\"0.0005\"} 0\n") != std::string::npos);
  CHECK(t.find("cs_stage_seconds_bucket{stage=\"x\",le=\"0.005\"} 1\n") != std::string::npos);
  CHECK(t.find("cs_stage_seconds_bucket{stage=\"x\",le=\"5\"} 1\n") != std::string::npos);
  CHECK(t.find("cs_stage_seconds_bucket{stage=\"x\",le=\"+Inf\"} 2\n") != std::string::npos);
  CHECK(t.find("cs_stage_seconds_sum{stage=\"x\"} 10.004\n") != std::string::npos);
  CHECK(t.find("cs_stage_seconds_count{stage=\"x\"} 2\n") != std::string::npos);
  // Buckets in increasing `le`, +Inf last.
  CHECK(t.find("le=\"0.0005\"") < t.find("le=\"0.001\""));
  CHECK(t.find("le=\"5\"") < t.find("le=\"+Inf\""));
}

TEST_CASE("refusal reasons: one fixed label value each") {
  cs::RefusalCounts counts;
  counts.add(cs::Refusal::server_full);
  counts.add(cs::Refusal::server_full);
  counts.add(cs::Refusal::stopping);
  CHECK(counts.get(cs::Refusal::server_full) == 2);
  CHECK(counts.get(cs::Refusal::stopping) == 1);
  CHECK(counts.get(cs::Refusal::origin) == 0);
  CHECK(std::string(cs::refusal_name(cs::Refusal::server_full)) == "server_full");
  CHECK(std::string(cs::refusal_name(cs::Refusal::stopping)) == "stopping");
  for (std::size_t i = 0; i < cs::kRefusalCount; ++i) {
    const std::string name = cs::refusal_name(static_cast<cs::Refusal>(i));
    CHECK(!name.empty());
    CHECK(name.find_first_not_of("abcdefghijklmnopqrstuvwxyz_") == std::string::npos);
  }
}
