#include "cs/recording_files.hpp"

namespace cs {

std::optional<RecordContainer> record_container_for(std::string_view path) {
  const auto slash = path.rfind('/');
  const std::string_view name = slash == std::string_view::npos ? path : path.substr(slash + 1);
  const auto dot = name.rfind('.');
  // ".mp4" alone is a hidden file's name, not an extension.
  if (dot == std::string_view::npos || dot == 0) return std::nullopt;
  const std::string_view extension = name.substr(dot);
  if (extension == ".mp4") return RecordContainer::fragmented_mp4;
  if (extension == ".mkv") return RecordContainer::matroska;
  return std::nullopt;
}

std::string segment_path(std::string_view path, std::time_t utc, unsigned n) {
  const auto slash = path.rfind('/');
  const auto dot = path.rfind('.');
  const bool has_extension =
      dot != std::string_view::npos && (slash == std::string_view::npos || dot > slash + 1);
  const std::string_view stem = has_extension ? path.substr(0, dot) : path;
  const std::string_view extension = has_extension ? path.substr(dot) : std::string_view();
  std::tm parts{};
  gmtime_r(&utc, &parts);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "-%Y%m%d-%H%M%S", &parts);
  std::string out(stem);
  out += stamp;
  if (n > 0) {
    out += '-';
    out += std::to_string(n);
  }
  out += extension;
  return out;
}

}  // namespace cs
