#pragma once
// The seed design, kept only as the benchmark's baseline (`--baseline`):
// one whole pipeline per viewer,
//   appsrc RGBA → videoconvert → x264enc (zerolatency, ultrafast) →
//   rtph264pay → webrtcbin
// fed with the same RGBA frame by the render thread. Main loop for
// everything but BaselineFanout's FrameTarget side (render thread).
#include <mutex>
#include <vector>

#include "cs/render/frame_target.hpp"
#include "cs/streaming/encoder.hpp"
#include "cs/streaming/video_pipeline.hpp"
#include "cs/streaming/viewer_branch.hpp"
#include "cs/streaming/viewer_media.hpp"

namespace cs::streaming {

// Copies each rendered frame into one GstBuffer and pushes a reference to
// every viewer's appsrc.
class BaselineFanout final : public render::FrameTarget {
 public:
  void add(GstElement* appsrc, GstElement* pipeline);
  void remove(GstElement* appsrc);
  render::FrameSlot acquire(std::size_t bytes) override;
  void submit(render::FrameSlot slot, const render::FrameInfo& info, bool ok) override;
  void set_frame_duration(GstClockTime duration) { frame_duration_ = duration; }

 private:
  struct Target {
    GstElement* appsrc;
    GstElement* pipeline;
  };
  std::mutex mutex_;
  std::vector<Target> targets_;
  GstClockTime frame_duration_ = GST_CLOCK_TIME_NONE;
};

class BaselineMediaSource final : public MediaSource {
 public:
  using ErrorHandler = std::function<void(GstObject* source, const std::string& message)>;
  BaselineMediaSource(EncoderSettings encoder, IceSettings ice, BaselineFanout& fanout,
                      ErrorHandler on_error);
  std::unique_ptr<ViewerMedia> add_viewer(const std::string& name, const OfferSummary& offer,
                                          const ViewerOptions& options,
                                          std::string& error) override;
  PipelineTimes& times() { return times_; }

 private:
  EncoderSettings encoder_;
  IceSettings ice_;
  BaselineFanout& fanout_;
  ErrorHandler on_error_;
  PipelineTimes times_;
};

}  // namespace cs::streaming
