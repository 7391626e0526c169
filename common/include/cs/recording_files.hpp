#pragma once
// What CS_RECORD_PATH names: the container its extension chooses, and the
// file name of each timestamped segment (CS_RECORD_SEGMENT_S). Pure
// functions of their arguments; any thread.
#include <ctime>
#include <optional>
#include <string>
#include <string_view>

namespace cs {

enum class RecordContainer {
  fragmented_mp4,  // .mp4: readable up to its last fragment after a crash
  matroska,        // .mkv: readable up to its last block after a crash
};

// By the path's extension (case-sensitive, as file names are); nullopt for
// any other.
std::optional<RecordContainer> record_container_for(std::string_view path);

// "<stem>-YYYYMMDD-HHMMSS.<ext>" in UTC from `path` ("<stem>.<ext>"), with
// "-<n>" before the extension when n > 0 (a second segment in the same
// second, or a name already taken).
std::string segment_path(std::string_view path, std::time_t utc, unsigned n);

}  // namespace cs
