#pragma once
// stderr logging for the test viewer; safe from any thread.
#include <string>

namespace cstest {

void log_info(int viewer, const std::string& message);

}  // namespace cstest
