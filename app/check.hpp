#pragma once
// cube-streamer --check: a readiness report for a new host, printed to
// stdout in order (EGL, encoders, one frame rendered and encoded, GStreamer
// plugins), then "ready" or "NOT ready: <reasons>". Needs no network and no
// viewer. Call on the main thread after gst_init; it makes its own EGL
// context on that thread and ends with it.
#include "cs/config.hpp"

namespace cs::app {

// 0 when the host can serve with `config`, 1 otherwise.
int run_check(const Config& config);

}  // namespace cs::app
