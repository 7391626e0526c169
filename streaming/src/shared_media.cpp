#include "cs/streaming/shared_media.hpp"

namespace cs::streaming {
namespace {

class SharedViewer final : public ViewerMedia {
 public:
  SharedViewer(VideoPipeline& pipeline, std::unique_ptr<ViewerBranch> branch)
      : pipeline_(pipeline), branch_(std::move(branch)) {}
  GstElement* webrtcbin() const override { return branch_->webrtcbin(); }
  bool owns(GstObject* object) const override { return branch_->owns(object); }
  void on_connected() override {
    pipeline_.request_keyframe();
    pipeline_.watch_send_latency(branch_->webrtcbin());
  }

 private:
  VideoPipeline& pipeline_;
  std::unique_ptr<ViewerBranch> branch_;
};

}  // namespace

std::unique_ptr<ViewerMedia> SharedMediaSource::add_viewer(const std::string& name,
                                                           const OfferSummary& offer,
                                                           std::string& error) {
  auto branch = ViewerBranch::create(name, offer, ice_, recovery_, error);
  if (!branch) return nullptr;
  if (!branch->attach(pipeline_.pipeline(), pipeline_.tee())) {
    error = "the viewer's branch failed to start";
    return nullptr;
  }
  // Its payloader sets its caps (and so webrtcbin its answer's SSRC) only
  // once it has seen SPS/PPS, i.e. at the next periodic keyframe (<= 1 s);
  // the hub waits for it before answering.
  return std::make_unique<SharedViewer>(pipeline_, std::move(branch));
}

}  // namespace cs::streaming
