#pragma once
// The product's MediaSource: every viewer is a branch off the one shared
// encoder's tee. Main loop only.
#include "cs/streaming/video_pipeline.hpp"
#include "cs/streaming/viewer_branch.hpp"
#include "cs/streaming/viewer_media.hpp"

namespace cs::streaming {

class SharedMediaSource final : public MediaSource {
 public:
  SharedMediaSource(VideoPipeline& pipeline, IceSettings ice, RecoverySettings recovery)
      : pipeline_(pipeline), ice_(std::move(ice)), recovery_(recovery) {}
  std::unique_ptr<ViewerMedia> add_viewer(const std::string& name, const OfferSummary& offer,
                                          std::string& error) override;

 private:
  VideoPipeline& pipeline_;
  IceSettings ice_;
  RecoverySettings recovery_;
};

}  // namespace cs::streaming
