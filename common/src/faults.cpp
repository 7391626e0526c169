#include "cs/faults.hpp"

#include <charconv>
#include <cstdlib>
#include <map>
#include <mutex>
#include <string>

#include "cs/log.hpp"

namespace cs::faults {
namespace {

struct Table {
  std::map<std::string, std::int64_t, std::less<>> armed;
  std::map<std::string, bool, std::less<>> fired;
  std::mutex mutex;
};

Table& table() {
  static Table* t = [] {
    auto* out = new Table();  // process lifetime: read from every thread
    if (!compiled_in()) return out;
    const char* env = std::getenv("CS_TEST_FAULTS");
    std::string_view text = env ? env : "";
    while (!text.empty()) {
      const auto comma = text.find(',');
      std::string_view item = text.substr(0, comma);
      text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
      if (item.empty()) continue;
      std::int64_t n = 0;
      const auto at = item.find('@');
      if (at != std::string_view::npos) {
        const std::string_view digits = item.substr(at + 1);
        std::from_chars(digits.data(), digits.data() + digits.size(), n);
        item = item.substr(0, at);
      }
      out->armed.emplace(std::string(item), n);
      log::warn("faults: test fault '", item, "' armed at ", n);
    }
    return out;
  }();
  return *t;
}

}  // namespace

bool compiled_in() {
#ifdef CS_FAULT_INJECTION
  return true;
#else
  return false;
#endif
}

std::optional<std::int64_t> armed(std::string_view name) {
  Table& t = table();
  auto it = t.armed.find(name);
  if (it == t.armed.end()) return std::nullopt;
  return it->second;
}

bool fire_once(std::string_view name, std::int64_t count) {
  const auto at = armed(name);
  if (!at || count < *at) return false;
  Table& t = table();
  std::lock_guard lock(t.mutex);
  auto [it, inserted] = t.fired.emplace(std::string(name), true);
  if (!inserted) return false;
  log::warn("faults: injecting '", name, "' now");
  return true;
}

}  // namespace cs::faults
