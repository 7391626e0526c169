#include "cs/streaming/shared_media.hpp"

#include "cs/log.hpp"
#include "cs/streaming/rung_controller.hpp"

namespace cs::streaming {
namespace {

std::int64_t now_ms() {
  return g_get_monotonic_time() / 1000;
}

// What the viewer's RTP session knows of its link: the last receiver report
// about our media, and the NACKs it has sent (they come at once on loss,
// RRs about once a second).
struct ReceiverReport {
  bool have_report = false;
  unsigned highest_seq = 0;  // changes with every new report
  double fraction_lost = 0;
  double rtt_ms = -1;
  unsigned nacks = 0;  // NACK messages received for our media, all along
};

std::vector<int> ladder_kbps(const VideoPipeline& pipeline) {
  std::vector<int> kbps;
  for (const auto& rung : pipeline.ladder()) kbps.push_back(rung.kbps);
  return kbps;
}

// The last report block the viewer sent about `ssrc`, if any: RTPSource's
// stats, read on the main loop (webrtcbin's get-stats reads the same, on
// its own thread, and interns per-SSRC names it never frees).
std::optional<ReceiverReport> last_report(GObject* session, guint ssrc) {
  GValueArray* sources = nullptr;
  g_object_get(session, "sources", &sources, nullptr);
  if (!sources) return std::nullopt;
  std::optional<ReceiverReport> found;
  G_GNUC_BEGIN_IGNORE_DEPRECATIONS
  for (guint i = 0; i < sources->n_values; ++i) {
    GObject* source = static_cast<GObject*>(g_value_get_object(g_value_array_get_nth(sources, i)));
    // The viewer's own (remote) source carries the last report block it
    // sent, naming the SSRC it reports on.
    GstStructure* stats = nullptr;
    g_object_get(source, "stats", &stats, nullptr);
    if (!stats) continue;
    gboolean internal = FALSE;
    guint source_ssrc = 0, about = 0;
    gst_structure_get_boolean(stats, "internal", &internal);
    gst_structure_get_uint(stats, "ssrc", &source_ssrc);
    if (internal && source_ssrc == ssrc) {
      if (!found) found = ReceiverReport{};
      gst_structure_get_uint(stats, "recv-nack-count", &found->nacks);
    }
    if (internal || !gst_structure_get_uint(stats, "rb-ssrc", &about) || about != ssrc) {
      gst_structure_free(stats);
      continue;
    }
    gboolean have_rb = FALSE;
    guint fraction = 0, rtt = 0, highest = 0;
    gst_structure_get_boolean(stats, "have-rb", &have_rb);
    if (have_rb && gst_structure_get_uint(stats, "rb-fractionlost", &fraction) &&
        gst_structure_get_uint(stats, "rb-exthighestseq", &highest)) {
      if (!found) found = ReceiverReport{};
      found->have_report = true;
      found->highest_seq = highest;
      found->fraction_lost = fraction / 256.0;
      // 1/65536 s; 0 when the report's LSR named no sender report of ours.
      if (gst_structure_get_uint(stats, "rb-round-trip", &rtt) && rtt > 0)
        found->rtt_ms = rtt * 1000.0 / 65536.0;
    }
    gst_structure_free(stats);
  }
  g_value_array_free(sources);
  G_GNUC_END_IGNORE_DEPRECATIONS
  return found;
}

class SharedViewer final : public ViewerMedia {
 public:
  SharedViewer(const std::string& name, VideoPipeline& pipeline, ViewerOptions options,
               RenditionKey key, std::unique_ptr<ViewerBranch> branch)
      : name_(name),
        pipeline_(pipeline),
        options_(std::move(options)),
        key_(key),
        branch_(std::move(branch)),
        controller_(ladder_kbps(pipeline)) {
    controller_.on_moved(now_ms(), key.rung);
  }
  ~SharedViewer() override {
    if (timer_) g_source_remove(timer_);
    branch_.reset();  // off the tees before their renditions may go
    if (pending_) pipeline_.release(*pending_);
    pipeline_.release(key_);
  }
  GstElement* webrtcbin() const override { return branch_->webrtcbin(); }
  // Its branch, or the rendition it receives when that is not the primary
  // (whose failures the encoder supervisor repairs for everyone).
  bool owns(GstObject* object) const override {
    if (branch_->owns(object)) return true;
    Rendition* r = pipeline_.secondary_owning(object);
    return r && r == current();
  }
  void on_connected() override {
    if (Rendition* r = current()) r->request_keyframe();
    pipeline_.watch_send_latency(branch_->webrtcbin());
    if (!timer_ && pipeline_.rungs() > 1 && !options_.rung)
      timer_ = g_timeout_add(kTickMs, on_timer, this);
  }
  std::optional<RenditionInfo> rendition() const override {
    if (Rendition* r = current()) return r->info();
    return std::nullopt;
  }
  void request_keyframe() override {
    if (Rendition* r = current()) r->request_keyframe();
  }
  std::string step_rung(int step) override {
    const int from = pending_ ? pending_->rung : key_.rung;
    const int to = from + step;
    if (to < 0) return "already on the top rung (best quality)";
    if (to >= pipeline_.rungs())
      return "already on the lowest rung of " + std::to_string(pipeline_.rungs());
    // As ?rung=N: the viewer's own choice, no adaptation from now on.
    options_.rung = to;
    if (!timer_) timer_ = g_timeout_add(kTickMs, on_timer, this);
    if (!pending_) start_switch(to, now_ms());
    return {};
  }

 private:
  static constexpr guint kTickMs = 200;
  static constexpr std::int64_t kSwitchTimeoutMs = 3000;

  static gboolean on_timer(gpointer self) {
    static_cast<SharedViewer*>(self)->tick();
    return G_SOURCE_CONTINUE;
  }

  Rendition* current() const { return pipeline_.find(key_); }

  void tick() {
    const std::int64_t now = now_ms();
    if (pending_) {
      if (branch_->finish_switch()) {
        complete_switch(now);
      } else if (now - switch_started_ms_ > kSwitchTimeoutMs) {
        log::warn(name_, ": no keyframe from rung ", pending_->rung, " within ", kSwitchTimeoutMs,
                  " ms; staying on rung ", key_.rung);
        branch_->cancel_switch();
        if (Rendition* r = current()) r->request_keyframe();
        pipeline_.release(*pending_);
        pending_.reset();
        controller_.on_moved(now, key_.rung);
      }
      return;
    }
    if (options_.rung) {
      // Pinned: the viewer's choice, which may have changed while a switch ran.
      if (*options_.rung != key_.rung) start_switch(*options_.rung, now);
      return;
    }
    read_report(now);
    controller_.on_tick(now);
    if (controller_.wanted() != key_.rung) start_switch(controller_.wanted(), now);
  }

  void read_report(std::int64_t now) {
    if (!session_) find_session();
    if (!session_ || !ssrc_) return;
    const auto report = last_report(session_.get(), ssrc_);
    if (!report) return;
    if (report->nacks > last_nacks_) controller_.on_nacks(now, report->nacks - last_nacks_);
    last_nacks_ = report->nacks;
    if (!report->have_report || report->highest_seq == last_highest_seq_) return;
    last_highest_seq_ = report->highest_seq;
    log::debug(name_, ": receiver report: ", static_cast<int>(report->fraction_lost * 100),
               " % lost, RTT ", static_cast<int>(report->rtt_ms), " ms (rung ", key_.rung, ")");
    controller_.on_report(now, report->fraction_lost, report->rtt_ms);
  }

  void find_session() {
    GstElement* rtpbin = nullptr;
    for_each_element(GST_BIN(branch_->webrtcbin()), [&](GstElement* e) {
      if (!rtpbin && made_by(e, "rtpbin")) rtpbin = e;
    });
    if (!rtpbin) return;
    GObject* session = nullptr;
    g_signal_emit_by_name(rtpbin, "get-internal-session", 0u, &session);
    if (!session) return;
    session_ = GRef<GObject>::adopt(session);
    ssrc_ = branch_->media_ssrc();
    log::debug(name_, ": congestion signals from RTP session 0, media SSRC ", ssrc_);
  }

  void start_switch(int rung, std::int64_t now) {
    const RenditionKey next{key_.codec, rung};
    std::string error;
    Rendition* target = pipeline_.acquire(next, error);
    if (!target) {
      log::warn(name_, ": cannot move to rung ", rung, ": ", error);
      controller_.on_moved(now, key_.rung);
      return;
    }
    const auto switch_point = branch_->switch_to(target->tee());
    if (!switch_point) {
      pipeline_.release(next);
      controller_.on_moved(now, key_.rung);
      return;
    }
    target->request_keyframe(*switch_point);
    pending_ = next;
    switch_started_ms_ = now;
  }

  void complete_switch(std::int64_t now) {
    log::info(name_, ": rung ", key_.rung, " -> ", pending_->rung, " after ",
              now - switch_started_ms_, " ms");
    pipeline_.release(key_);
    key_ = *pending_;
    pending_.reset();
    controller_.on_moved(now, key_.rung);
    if (options_.on_rendition)
      if (auto info = rendition()) options_.on_rendition(*info);
  }

  std::string name_;
  VideoPipeline& pipeline_;
  ViewerOptions options_;
  RenditionKey key_;
  std::optional<RenditionKey> pending_;
  std::int64_t switch_started_ms_ = 0;
  std::unique_ptr<ViewerBranch> branch_;
  RungController controller_;
  GRef<GObject> session_;
  guint ssrc_ = 0;
  unsigned last_highest_seq_ = 0;
  unsigned last_nacks_ = 0;
  guint timer_ = 0;
};

}  // namespace

std::unique_ptr<ViewerMedia> SharedMediaSource::add_viewer(const std::string& name,
                                                           const OfferSummary& offer,
                                                           const ViewerOptions& options,
                                                           std::string& error) {
  const RenditionKey key{offer.codec, options.rung.value_or(0)};
  Rendition* rendition = pipeline_.acquire(key, error);
  if (!rendition) return nullptr;
  GstElement* sound_tee = sound_ && !sound_->stopped() ? sound_->tee() : nullptr;
  auto branch = ViewerBranch::create(name, offer, ice_, recovery_, sound_tee, error);
  if (!branch || !branch->attach(pipeline_.pipeline(), rendition->tee())) {
    if (branch) error = "the viewer's branch failed to start";
    branch.reset();
    pipeline_.release(key);
    return nullptr;
  }
  // A new rendition starts with a keyframe; a running one's next periodic
  // keyframe (<= 1 s) gives the payloader its caps (and so webrtcbin its
  // answer's SSRC); the hub waits for it before answering.
  return std::make_unique<SharedViewer>(name, pipeline_, options, key, std::move(branch));
}

}  // namespace cs::streaming
