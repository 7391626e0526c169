#include "log.hpp"

#include <cstdio>
#include <mutex>

#include "frame_stats.hpp"

namespace cstest {

void log_info(int viewer, const std::string& message) {
  static std::mutex mutex;
  std::lock_guard lock(mutex);
  std::fprintf(stderr, "[cs-test-viewer %lld] viewer %d: %s\n",
               static_cast<long long>(epoch_ms() % 100000000), viewer, message.c_str());
}

}  // namespace cstest
