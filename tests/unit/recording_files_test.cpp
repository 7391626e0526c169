#include <doctest/doctest.h>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <map>

#include "cs/config.hpp"
#include "cs/recording_files.hpp"

namespace {
cs::ConfigResult parse_with(std::map<std::string, std::string> vars) {
  return cs::parse_config([vars](std::string_view name) -> std::optional<std::string> {
    auto it = vars.find(std::string(name));
    if (it == vars.end()) return std::nullopt;
    return it->second;
  });
}
}  // namespace

TEST_CASE("the recording's container follows the extension") {
  CHECK(cs::record_container_for("/tmp/rec.mp4") == cs::RecordContainer::fragmented_mp4);
  CHECK(cs::record_container_for("rec.mkv") == cs::RecordContainer::matroska);
  CHECK(cs::record_container_for("/a.b/rec.mkv") == cs::RecordContainer::matroska);
  CHECK_FALSE(cs::record_container_for("/tmp/rec.avi"));
  CHECK_FALSE(cs::record_container_for("/tmp/rec.MP4"));
  CHECK_FALSE(cs::record_container_for("/tmp/rec"));
  CHECK_FALSE(cs::record_container_for("/tmp/.mp4"));
  CHECK_FALSE(cs::record_container_for("/tmp.mp4/rec"));
}

TEST_CASE("segments are named <stem>-YYYYMMDD-HHMMSS[-n].<ext> in UTC") {
  const std::time_t t = 1796135045;  // 2026-12-01 14:24:05 UTC
  CHECK(cs::segment_path("/rec/cube.mp4", t, 0) == "/rec/cube-20261201-142405.mp4");
  CHECK(cs::segment_path("/rec/cube.mp4", t, 2) == "/rec/cube-20261201-142405-2.mp4");
  CHECK(cs::segment_path("cube.mkv", 0, 0) == "cube-19700101-000000.mkv");
  CHECK(cs::segment_path("/r.d/cube.mkv", t + 60, 1) == "/r.d/cube-20261201-142505-1.mkv");
}

TEST_CASE("CS_RECORD_PATH needs .mp4 or .mkv in a directory that exists and can be written") {
  auto r = parse_with({{"CS_RECORD_PATH", "/tmp/rec.mp4"}});
  REQUIRE(r.config);
  CHECK(r.config->record_path == "/tmp/rec.mp4");
  CHECK(r.config->record_segment_s == 0);
  CHECK(parse_with({{"CS_RECORD_PATH", "/tmp/rec.mkv"}}).config);

  r = parse_with({{"CS_RECORD_PATH", "/tmp/rec.avi"}});
  CHECK_FALSE(r.config);
  CHECK(r.error.find(".mp4") != std::string::npos);
  CHECK(r.error.find(".mkv") != std::string::npos);

  r = parse_with({{"CS_RECORD_PATH", "/nonexistent-dir/rec.mp4"}});
  CHECK_FALSE(r.config);
  CHECK(r.error.find("/nonexistent-dir: No such file or directory") != std::string::npos);
  CHECK(r.error.find('\n') == std::string::npos);

  r = parse_with({{"CS_RECORD_PATH", "/etc/hostname/rec.mp4"}});
  CHECK_FALSE(r.config);
  CHECK(r.error.find("/etc/hostname is not one") != std::string::npos);

  // Root may write anywhere; tests/e2e/recording.sh checks this as nobody.
  if (geteuid() != 0) {
    char dir[] = "/tmp/cs-readonly-XXXXXX";
    REQUIRE(mkdtemp(dir));
    chmod(dir, 0555);
    r = parse_with({{"CS_RECORD_PATH", std::string(dir) + "/rec.mkv"}});
    CHECK_FALSE(r.config);
    CHECK(r.error.find("may write") != std::string::npos);
    rmdir(dir);
  }
}

TEST_CASE("CS_RECORD_SEGMENT_S is 0 to 86400 and needs CS_RECORD_PATH") {
  auto r = parse_with({{"CS_RECORD_PATH", "/tmp/rec.mp4"}, {"CS_RECORD_SEGMENT_S", "3"}});
  REQUIRE(r.config);
  CHECK(r.config->record_segment_s == 3);
  CHECK_FALSE(
      parse_with({{"CS_RECORD_PATH", "/tmp/rec.mp4"}, {"CS_RECORD_SEGMENT_S", "86401"}}).config);
  r = parse_with({{"CS_RECORD_SEGMENT_S", "3"}});
  CHECK_FALSE(r.config);
  CHECK(r.error.find("CS_RECORD_PATH") != std::string::npos);
}
