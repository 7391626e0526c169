#pragma once
// Command line of cs-test-viewer.
#include <optional>
#include <string>

namespace cstest {

enum class Mode { Normal, Stall, Churn, Cycle };

struct Options {
  std::string url;
  double duration_s = 10.0;
  int viewers = 1;
  bool decode = true;
  bool candidates_first = false;  // all ICE candidates before the offer; none of the server's
  Mode mode = Mode::Normal;
  int churn_count = 30;
  int concurrent = 10;   // cycle: viewers at once
  double watch_s = 1.0;  // cycle: seconds of video each viewer waits for
};

// Parses argv; on error prints usage/the problem to stderr and returns nullopt.
std::optional<Options> parse_options(int argc, char** argv);

const char* mode_name(Mode mode);

}  // namespace cstest
