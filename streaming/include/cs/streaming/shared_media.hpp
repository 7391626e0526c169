#pragma once
// The product's MediaSource: every viewer is a branch off the tee of the
// rendition (codec, rung) it receives; a viewer not pinned to a rung moves
// along the ladder as its receiver reports say (RungController). Main loop
// only.
#include "cs/streaming/sound_track.hpp"
#include "cs/streaming/video_pipeline.hpp"
#include "cs/streaming/viewer_branch.hpp"
#include "cs/streaming/viewer_media.hpp"

namespace cs::streaming {

class SharedMediaSource final : public MediaSource {
 public:
  // `sound`: the shared sound (CS_AUDIO), or null; once stopped, viewers
  // that join get video only.
  SharedMediaSource(VideoPipeline& pipeline, IceSettings ice, RecoverySettings recovery,
                    const SoundTrack* sound = nullptr)
      : pipeline_(pipeline), ice_(std::move(ice)), recovery_(recovery), sound_(sound) {}
  std::unique_ptr<ViewerMedia> add_viewer(const std::string& name, const OfferSummary& offer,
                                          const ViewerOptions& options,
                                          std::string& error) override;

 private:
  VideoPipeline& pipeline_;
  IceSettings ice_;
  RecoverySettings recovery_;
  const SoundTrack* sound_;
};

}  // namespace cs::streaming
