#pragma once
// CS_RECORD_PATH: the shared encoder's H.264, written to a file as it is
// (no second encode), by one more branch off the tee:
//   tee → queue (leaky) → h264parse → mp4mux (fragmented) | matroskamux → filesink
// or, with segments, h264parse → splitmuxsink (a new timestamped file every
// N seconds, each starting at a keyframe). A file starts at a keyframe and
// stays readable up to its last fragment (MP4) or block (Matroska) when the
// process is killed.
//
// Threads: create, on_error, stop and the destructor on the GLib main loop
// (stop may also run after the loop has ended, at shutdown). The branch's
// probes run on its streaming threads and only log and count.
#include <gst/gst.h>

#include <atomic>
#include <functional>
#include <memory>
#include <string>

#include "cs/recording_files.hpp"
#include "cs/streaming/gst_ref.hpp"
#include "cs/streaming/primary_tap.hpp"
#include "cs/streaming/video_pipeline.hpp"

namespace cs::streaming {

struct RecorderSettings {
  std::string path;         // .mp4 or .mkv (config.cpp checked it)
  int segment_seconds = 0;  // 0: one file
};

class Recorder {
 public:
  struct Result {
    std::unique_ptr<Recorder> recorder;
    std::string error;
  };
  // Builds the branch and attaches it to the running pipeline's tee; asks
  // the encoder for a keyframe, where the file starts. `on_stopped` runs on
  // the main loop when a failure ends the recording (not at stop()).
  static Result start(VideoPipeline& pipeline, const RecorderSettings& settings,
                      std::function<void()> on_stopped);
  ~Recorder();
  Recorder(const Recorder&) = delete;
  Recorder& operator=(const Recorder&) = delete;

  // A bus error from inside the recorder's branch (disk full, permission,
  // muxer): logs it, ends the recording, streaming goes on. False when the
  // source is not the recorder's.
  bool on_error(GstObject* source, const std::string& message);
  // Ends the file properly: no more frames from the tee, EOS through the
  // muxer, waited for up to `wait_ms`, then the branch goes.
  void stop(const std::string& why, int wait_ms = 3000);
  bool recording() const { return tap_.attached(); }

  // Shared with the branch's streaming threads; outlives the branch.
  struct Shared;

 private:
  explicit Recorder(VideoPipeline& pipeline);
  std::string build(const RecorderSettings& settings);
  void detach();
  void split();  // main loop, every segment_seconds

  VideoPipeline& pipeline_;
  std::function<void()> on_stopped_;
  std::unique_ptr<Shared> shared_;  // declared before tap_: destroyed after the branch
  PrimaryTap tap_;
  ElementRef file_sink_;
  ElementRef splitter_;  // segmented recordings only
  guint split_timer_ = 0;
};

}  // namespace cs::streaming
