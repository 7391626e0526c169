#pragma once
// Keeps the shared encoder producing. When the encoding front reports an
// error, or frames go in and nothing comes out for a second, it replaces the
// encoder (EncoderFallback picks which) while every viewer's branch stays
// connected; when no replacement works it calls on_fatal, so that the server
// exits instead of streaming nothing. Main loop only.
#include <gst/gst.h>

#include <cstdint>
#include <functional>
#include <string>

#include "cs/streaming/encoder.hpp"
#include "cs/streaming/video_pipeline.hpp"

namespace cs::streaming {

class EncoderSupervisor {
 public:
  EncoderSupervisor(VideoPipeline& pipeline, EncoderFallback fallback, EncoderProbe probe,
                    std::function<void(const std::string& why)> on_fatal);
  ~EncoderSupervisor();
  EncoderSupervisor(const EncoderSupervisor&) = delete;
  EncoderSupervisor& operator=(const EncoderSupervisor&) = delete;

  // A bus error: true when it came from the encoding front (handled here).
  bool on_error(GstObject* source, const std::string& message);

  static constexpr std::int64_t kStallNs = 1000000000;     // no output for 1 s
  static constexpr std::int64_t kEchoNs = 1000000000;      // errors after a swap
  static constexpr std::int64_t kHealthyNs = 30000000000;  // then it may be retried

 private:
  void check_output();
  void replace(const std::string& why);

  VideoPipeline& pipeline_;
  EncoderFallback fallback_;
  EncoderProbe probe_;
  std::function<void(const std::string&)> on_fatal_;
  guint timer_ = 0;
  bool failed_for_good_ = false;
  std::int64_t replaced_at_ns_ = 0;
  std::int64_t last_output_at_ns_ = 0;
  std::uint64_t last_output_count_ = 0;
  std::uint64_t input_at_last_output_ = 0;
};

}  // namespace cs::streaming
