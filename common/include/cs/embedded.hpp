#pragma once
// Files embedded into the binary at build time (cmake/EmbedFiles.cmake).
#include <cstddef>
#include <optional>
#include <string_view>

namespace cs {

struct EmbeddedFile {
  const char* name;
  const unsigned char* data;
  std::size_t size;
  std::string_view view() const { return {reinterpret_cast<const char*>(data), size}; }
};

struct EmbeddedFiles {
  const EmbeddedFile* begin_;
  std::size_t count;
  const EmbeddedFile* begin() const { return begin_; }
  const EmbeddedFile* end() const { return begin_ + count; }
  std::optional<std::string_view> find(std::string_view name) const {
    for (const auto& f : *this)
      if (name == f.name) return f.view();
    return std::nullopt;
  }
};

}  // namespace cs
