#include "cs/streaming/video_pipeline.hpp"

#include <gst/app/gstappsrc.h>
#include <gst/video/video.h>

#include "cs/faults.hpp"
#include "cs/log.hpp"

namespace cs::streaming {
namespace {

std::int64_t mono_ns() {
  return static_cast<std::int64_t>(g_get_monotonic_time()) * 1000;
}

GstPadProbeReturn stamp_probe(GstPad*, GstPadProbeInfo*, gpointer slot) {
  static_cast<std::atomic<std::int64_t>*>(slot)->store(mono_ns(), std::memory_order_relaxed);
  return GST_PAD_PROBE_OK;
}

struct StageProbe {
  std::atomic<std::int64_t>* started;
  DurationStat* elapsed_ms;
  std::atomic<std::uint64_t>* count;
};

GstPadProbeReturn elapsed_probe(GstPad*, GstPadProbeInfo*, gpointer data) {
  auto* p = static_cast<StageProbe*>(data);
  const std::int64_t started = p->started->load(std::memory_order_relaxed);
  if (started > 0) p->elapsed_ms->add(static_cast<double>(mono_ns() - started) / 1e6);
  if (p->count) p->count->fetch_add(1, std::memory_order_relaxed);
  return GST_PAD_PROBE_OK;
}

void delete_stage_probe(gpointer data) {
  delete static_cast<StageProbe*>(data);
}

}  // namespace

void measure_element(GstElement* element, std::atomic<std::int64_t>* started,
                     DurationStat* elapsed_ms, std::atomic<std::uint64_t>* count) {
  auto sink = PadRef::adopt(gst_element_get_static_pad(element, "sink"));
  auto src = PadRef::adopt(gst_element_get_static_pad(element, "src"));
  if (!sink || !src) return;
  gst_pad_add_probe(sink.get(), GST_PAD_PROBE_TYPE_BUFFER, stamp_probe, started, nullptr);
  gst_pad_add_probe(src.get(), GST_PAD_PROBE_TYPE_BUFFER, elapsed_probe,
                    new StageProbe{started, elapsed_ms, count}, delete_stage_probe);
}

namespace {
struct MappedFrame {
  GstBuffer* buffer;
  GstMapInfo map;
};
}  // namespace

render::FrameSlot map_for_writing(GstBuffer* buffer, std::size_t bytes) {
  auto* frame = new MappedFrame{buffer, {}};
  if (!gst_buffer_map(buffer, &frame->map, GST_MAP_WRITE)) {
    delete frame;
    gst_buffer_unref(buffer);
    return {};
  }
  if (frame->map.size < bytes) {
    log::error("pipeline: frame buffer of ", frame->map.size, " bytes is too small for ", bytes);
    gst_buffer_unref(unmap_written({frame->map.data, bytes, frame}));
    return {};
  }
  return {frame->map.data, bytes, frame};
}

GstBuffer* unmap_written(render::FrameSlot slot) {
  auto* frame = static_cast<MappedFrame*>(slot.handle);
  GstBuffer* buffer = frame->buffer;
  gst_buffer_unmap(buffer, &frame->map);
  delete frame;
  return buffer;
}

AgeProbe::AgeProbe(GstElement* pipeline, DurationStat* window)
    : pipeline_(pipeline), window_(window) {}

void AgeProbe::attach(GstPad* pad, AgeProbe* probe) {
  gst_pad_add_probe(
      pad, static_cast<GstPadProbeType>(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST),
      [](GstPad* pad, GstPadProbeInfo* info, gpointer data) {
        auto* self = static_cast<AgeProbe*>(data);
        GstBuffer* buffer = nullptr;
        if (info->type & GST_PAD_PROBE_TYPE_BUFFER)
          buffer = GST_PAD_PROBE_INFO_BUFFER(info);
        else if (GstBufferList* list = GST_PAD_PROBE_INFO_BUFFER_LIST(info))
          buffer = gst_buffer_list_length(list) ? gst_buffer_list_get(list, 0) : nullptr;
        // The running time, not the PTS, maps back to the capture time.
        const GstClockTime running = running_time_at(pad, buffer);
        if (!GST_CLOCK_TIME_IS_VALID(running)) return GST_PAD_PROBE_OK;
        const auto capture =
            static_cast<std::int64_t>(running + gst_element_get_base_time(self->pipeline_));
        self->window_->add(static_cast<double>(mono_ns() - capture) / 1e6);
        return GST_PAD_PROBE_OK;
      },
      probe, [](gpointer data) { delete static_cast<AgeProbe*>(data); });
}

VideoPipeline::Result VideoPipeline::create(const PipelineSettings& settings) {
  std::unique_ptr<VideoPipeline> p(new VideoPipeline(settings));
  if (auto error = p->build(); !error.empty()) return {nullptr, error};
  return {std::move(p), {}};
}

VideoPipeline::~VideoPipeline() {
  stop();
  others_.clear();
  primary_.reset();
  if (pool_) gst_buffer_pool_set_active(pool_.get(), FALSE);
}

std::string VideoPipeline::build() {
  const auto& e = settings_.encoder;
  ladder_ =
      settings_.ladder.empty() ? std::vector<LadderRung>{{e.bitrate_kbps, 0, 0}} : settings_.ladder;
  for (auto& rung : ladder_) {
    if (rung.width == 0) rung.width = e.width;
    if (rung.height == 0) rung.height = e.height;
  }
  pipeline_ = ElementRef::ref_sink(gst_pipeline_new("cube-streamer"));
  appsrc_ = make_element("appsrc", "frames");
  input_caps_ = make_element("capsfilter", "encoder-input");
  frames_tee_ = make_element("tee", "frames-fanout");
  encoder_factory_ = settings_.encoder_factory;
  encoder_name_ = encoder_factory_;
  GstElement* capsfilter = input_caps_.get();
  if (!pipeline_ || !appsrc_ || !capsfilter || !frames_tee_)
    return "cannot create the shared pipeline's elements";
  const bool rgba = settings_.input_format == render::PixelFormat::rgba;
  if (rgba) {
    convert_ = make_element("videoconvert", "convert");
    if (!convert_) return "videoconvert missing";
  }

  // The pipeline clock is the monotonic system clock: the render thread's
  // CLOCK_MONOTONIC capture time minus base time is the buffer's running time.
  auto clock = GRef<GstClock>::adopt(gst_system_clock_obtain());
  gst_pipeline_use_clock(GST_PIPELINE(pipeline_.get()), clock.get());

  std::unique_ptr<GstCaps, CapsDeleter> raw_caps(gst_caps_new_simple(
      "video/x-raw", "format", G_TYPE_STRING, rgba ? "RGBA" : "NV12", "width", G_TYPE_INT, e.width,
      "height", G_TYPE_INT, e.height, "framerate", GST_TYPE_FRACTION, e.fps, 1, nullptr));
  if (!rgba) {
    // The GPU-side conversion writes BT.601 limited range.
    gst_caps_set_simple(raw_caps.get(), "colorimetry", G_TYPE_STRING, "bt601", nullptr);
  }
  g_object_set(appsrc_.get(), "caps", raw_caps.get(), "is-live", TRUE, "format", GST_FORMAT_TIME,
               "do-timestamp", FALSE, "block", FALSE, "max-buffers", static_cast<guint64>(2),
               "max-bytes", static_cast<guint64>(0), "max-time", static_cast<guint64>(0), nullptr);
  gst_util_set_object_arg(G_OBJECT(appsrc_.get()), "leaky-type", "downstream");

  // 4:2:0 into the encoders: x264 would otherwise take 4:4:4 from
  // videoconvert, which constrained baseline refuses.
  std::unique_ptr<GstCaps, CapsDeleter> yuv420(
      gst_caps_from_string(rgba ? "video/x-raw,format=I420" : "video/x-raw,format=NV12"));
  g_object_set(capsfilter, "caps", yuv420.get(), nullptr);
  g_object_set(frames_tee_.get(), "allow-not-linked", TRUE, nullptr);

  GstBin* bin = GST_BIN(pipeline_.get());
  gst_bin_add_many(bin, appsrc_.get(), capsfilter, frames_tee_.get(), nullptr);
  bool linked;
  if (rgba) {
    gst_bin_add(bin, convert_.get());
    linked = gst_element_link_many(appsrc_.get(), convert_.get(), capsfilter, frames_tee_.get(),
                                   nullptr);
  } else {
    linked = gst_element_link_many(appsrc_.get(), capsfilter, frames_tee_.get(), nullptr);
  }
  if (!linked) return "cannot link the shared pipeline (caps do not intersect?)";

  std::string error;
  primary_ = Rendition::create(pipeline_.get(), spec_for({VideoCodec::h264, 0}),
                               {&times_.encode_ms, &times_.render_to_encoded_ms,
                                &times_.keyframes_forced, &times_.frames_encoded},
                               error);
  if (!primary_) return error;
  // Linked now; it starts with the pipeline.
  if (auto linked_error = primary_->start(frames_tee_.get()); !linked_error.empty())
    return linked_error;

  // The pool's buffer size comes from the caps: caps that describe no
  // frame GStreamer can size (e.g. too large) must stop here, not size the
  // pool from an unfilled GstVideoInfo.
  GstVideoInfo info;
  if (!gst_video_info_from_caps(&info, raw_caps.get()) || info.size == 0) {
    gchar* text = gst_caps_to_string(raw_caps.get());
    std::string error_text =
        std::string("the frame caps describe no video frame GStreamer can size: ") +
        (text ? text : "?");
    g_free(text);
    return error_text;
  }
  pool_ = GRef<GstBufferPool>::adopt(gst_buffer_pool_new());
  GstStructure* config = gst_buffer_pool_get_config(pool_.get());
  // max 0: acquire never blocks the render thread; leaky appsrc bounds use.
  gst_buffer_pool_config_set_params(config, raw_caps.get(), static_cast<guint>(info.size), 4, 0);
  if (!gst_buffer_pool_set_config(pool_.get(), config) ||
      !gst_buffer_pool_set_active(pool_.get(), TRUE))
    return "cannot set up the frame buffer pool";
  frame_duration_ = gst_util_uint64_scale_int(GST_SECOND, 1, e.fps);
  install_stage_probes();
  return {};
}

Rendition::Spec VideoPipeline::spec_for(const RenditionKey& key) const {
  Rendition::Spec spec;
  spec.key = key;
  spec.factory = key.codec == VideoCodec::h264  ? encoder_factory_
                 : key.codec == VideoCodec::vp8 ? "vp8enc"
                                                : "vp9enc";
  spec.encoder = settings_.encoder;
  const LadderRung& rung = ladder_.at(static_cast<std::size_t>(key.rung));
  spec.encoder.bitrate_kbps = rung.kbps;
  spec.encoder.width = rung.width;
  spec.encoder.height = rung.height;
  spec.source_width = settings_.encoder.width;
  spec.source_height = settings_.encoder.height;
  spec.rungs = rungs();
  return spec;
}

Rendition* VideoPipeline::acquire(const RenditionKey& key, std::string& error) {
  if (key.rung < 0 || key.rung >= rungs()) {
    error =
        "no rung " + std::to_string(key.rung) + " (the ladder has " + std::to_string(rungs()) + ")";
    return nullptr;
  }
  if (key == primary_->key()) {
    ++primary_users_;
    update_primary_idle();
    return primary_.get();
  }
  if (auto it = others_.find(key); it != others_.end()) {
    ++it->second.users;
    return it->second.rendition.get();
  }
  auto made = Rendition::create(pipeline_.get(), spec_for(key),
                                {&times_.encode_ms, &times_.render_to_encoded_ms,
                                 &times_.keyframes_forced, &times_.frames_encoded},
                                error);
  if (!made) return nullptr;
  if (error = made->start(frames_tee_.get()); !error.empty()) return nullptr;
  log::info("pipeline: ", made->describe(), " starts (", made->factory(), ")");
  Rendition* raw = made.get();
  others_[key] = {std::move(made), 1};
  update_primary_idle();
  return raw;
}

void VideoPipeline::release(const RenditionKey& key) {
  if (key == primary_->key()) {
    --primary_users_;
    update_primary_idle();
    return;
  }
  auto it = others_.find(key);
  if (it == others_.end() || --it->second.users > 0) return;
  log::info("pipeline: ", it->second.rendition->describe(), " stops (no viewer left)");
  others_.erase(it);
  update_primary_idle();
}

void VideoPipeline::update_primary_idle() {
  // It encodes whenever nothing else does (as it always did: --check, the
  // start-up, a server with no viewer), and while anyone uses it.
  primary_->set_idle(primary_users_ <= 0 && !others_.empty());
}

Rendition* VideoPipeline::find(const RenditionKey& key) const {
  if (key == primary_->key()) return primary_.get();
  auto it = others_.find(key);
  return it == others_.end() ? nullptr : it->second.rendition.get();
}

Rendition* VideoPipeline::secondary_owning(GstObject* object) const {
  for (const auto& [key, in_use] : others_)
    if (in_use.rendition->owns(object)) return in_use.rendition.get();
  return nullptr;
}

namespace {
GstPadProbeReturn drop_eos(GstPad*, GstPadProbeInfo* info, gpointer) {
  return GST_EVENT_TYPE(GST_PAD_PROBE_INFO_EVENT(info)) == GST_EVENT_EOS ? GST_PAD_PROBE_DROP
                                                                         : GST_PAD_PROBE_OK;
}
}  // namespace

void drop_eos_on(GstPad* pad) {
  if (pad) gst_pad_add_probe(pad, GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, drop_eos, nullptr, nullptr);
}

// The live stream never ends: shutdown goes straight to NULL. An EOS into
// the tee can only be a failing appsrc's (basesrc sends one after a fatal
// flow error), and it would end every viewer's stream while the encoder is
// being replaced.
void VideoPipeline::install_stage_probes() {
  auto to_tee = PadRef::adopt(gst_element_get_static_pad(frames_tee_.get(), "sink"));
  drop_eos_on(to_tee.get());
  if (convert_) measure_element(convert_.get(), &convert_in_ns_, &times_.convert_ms, nullptr);
}

bool VideoPipeline::owns_encoder_stage(GstObject* object) const {
  for (const ElementRef* e : {&appsrc_, &convert_, &input_caps_}) {
    if (!*e) continue;
    auto* owner = GST_OBJECT(e->get());
    if (object == owner || gst_object_has_as_ancestor(object, owner)) return true;
  }
  return primary_ && primary_->owns(object);
}

std::string VideoPipeline::replace_encoder(const std::string& factory) {
  // appsrc's thread feeds every rendition: stopped, the frames wait (are
  // refused) while the primary's encoder is swapped.
  gst_element_set_state(appsrc_.get(), GST_STATE_NULL);
  std::string error = primary_->replace_encoder(factory);
  if (error.empty()) {
    encoder_factory_ = factory;
    std::lock_guard lock(encoder_name_mutex_);
    encoder_name_ = factory;
  }
  if (!gst_element_sync_state_with_parent(appsrc_.get()) && error.empty())
    error = "the frames source failed to restart";
  return error;
}

std::string VideoPipeline::start() {
  if (gst_element_set_state(pipeline_.get(), GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE)
    return "the shared pipeline failed to start";
  playing_.store(true);
  return {};
}

void VideoPipeline::stop() {
  playing_.store(false);
  if (pipeline_) gst_element_set_state(pipeline_.get(), GST_STATE_NULL);
}

void VideoPipeline::watch_send_latency(GstElement* webrtcbin) {
  watch_network_sinks(webrtcbin, pipeline_.get(), &times_.render_to_send_ms);
  count_viewer_traffic(webrtcbin, &times_);
}

void watch_network_sinks(GstElement* webrtcbin, GstElement* pipeline, DurationStat* window) {
  // A viewer's connection can become CONNECTED again after an ICE
  // disconnect; a sink already watched must not count each packet twice.
  static constexpr const char* kWatched = "cs-send-latency-watched";
  for_each_element(GST_BIN(webrtcbin), [&](GstElement* element) {
    if (!made_by(element, "nicesink") || g_object_get_data(G_OBJECT(element), kWatched)) return;
    auto sink = PadRef::adopt(gst_element_get_static_pad(element, "sink"));
    if (!sink) return;
    AgeProbe::attach(sink.get(), new AgeProbe(pipeline, window));
    g_object_set_data(G_OBJECT(element), kWatched, GINT_TO_POINTER(1));
  });
}

namespace {

// Buffers and bytes in a probe's buffer or buffer list.
void count_buffers(GstPadProbeInfo* info, std::uint64_t& buffers, std::uint64_t& bytes) {
  if (info->type & GST_PAD_PROBE_TYPE_BUFFER) {
    buffers = 1;
    bytes = gst_buffer_get_size(GST_PAD_PROBE_INFO_BUFFER(info));
  } else if (GstBufferList* list = GST_PAD_PROBE_INFO_BUFFER_LIST(info)) {
    buffers = gst_buffer_list_length(list);
    bytes = gst_buffer_list_calculate_size(list);
  }
}

constexpr auto kBufferProbes =
    static_cast<GstPadProbeType>(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST);

GstPadProbeReturn count_sent(GstPad*, GstPadProbeInfo* info, gpointer data) {
  auto* counters = static_cast<PipelineTimes*>(data);
  std::uint64_t buffers = 0, bytes = 0;
  count_buffers(info, buffers, bytes);
  counters->packets_sent.fetch_add(buffers, std::memory_order_relaxed);
  counters->bytes_sent.fetch_add(bytes, std::memory_order_relaxed);
  return GST_PAD_PROBE_OK;
}

// rtprtxsend passes the media packets through and adds RTX packets (RFC
// 4588, their own payload type) on the same src pad: an outgoing packet
// whose payload type is not the incoming one is a retransmission.
struct RtxWatch {
  PipelineTimes* counters;
  std::atomic<int> media_pt{-1};
};

int payload_type(GstBuffer* buffer) {
  std::uint8_t header[2];
  if (gst_buffer_extract(buffer, 0, header, 2) != 2) return -1;
  return header[1] & 0x7f;
}

template <typename Fn>
void for_each_buffer(GstPadProbeInfo* info, Fn fn) {
  if (info->type & GST_PAD_PROBE_TYPE_BUFFER) {
    fn(GST_PAD_PROBE_INFO_BUFFER(info));
  } else if (GstBufferList* list = GST_PAD_PROBE_INFO_BUFFER_LIST(info)) {
    for (guint i = 0; i < gst_buffer_list_length(list); ++i) fn(gst_buffer_list_get(list, i));
  }
}

void watch_rtx(GstElement* rtxsend, PipelineTimes* counters) {
  auto sink = PadRef::adopt(gst_element_get_static_pad(rtxsend, "sink"));
  auto src = PadRef::adopt(gst_element_get_static_pad(rtxsend, "src"));
  if (!sink || !src) return;
  auto* watch = new RtxWatch{counters};
  // Freed with the element; its pads (and so the probes) go first.
  g_object_set_data_full(G_OBJECT(rtxsend), "cs-rtx-watch", watch,
                         [](gpointer data) { delete static_cast<RtxWatch*>(data); });
  gst_pad_add_probe(
      sink.get(), kBufferProbes,
      [](GstPad*, GstPadProbeInfo* info, gpointer data) {
        auto* w = static_cast<RtxWatch*>(data);
        for_each_buffer(info, [w](GstBuffer* b) {
          if (const int pt = payload_type(b); pt >= 0) w->media_pt.store(pt);
        });
        return GST_PAD_PROBE_OK;
      },
      watch, nullptr);
  gst_pad_add_probe(
      src.get(), kBufferProbes,
      [](GstPad*, GstPadProbeInfo* info, gpointer data) {
        auto* w = static_cast<RtxWatch*>(data);
        const int media = w->media_pt.load();
        for_each_buffer(info, [w, media](GstBuffer* b) {
          if (const int pt = payload_type(b); pt >= 0 && media >= 0 && pt != media)
            w->counters->retransmissions.fetch_add(1, std::memory_order_relaxed);
        });
        return GST_PAD_PROBE_OK;
      },
      watch, nullptr);
}

// RTPSession::on-feedback-rtcp, on the session's RTCP thread.
void on_feedback(GObject*, guint type, guint fbtype, guint, guint, GstBuffer*, gpointer data) {
  auto* counters = static_cast<PipelineTimes*>(data);
  constexpr guint kRtpfb = 205, kPsfb = 206;      // RFC 4585 packet types
  constexpr guint kNack = 1, kPli = 1, kFir = 4;  // their feedback message types
  if (type == kRtpfb && fbtype == kNack)
    counters->nacks_received.fetch_add(1, std::memory_order_relaxed);
  else if (type == kPsfb && (fbtype == kPli || fbtype == kFir))
    counters->plis_received.fetch_add(1, std::memory_order_relaxed);
}

void watch_feedback(GstElement* rtpbin, PipelineTimes* counters) {
  // max-bundle: every m-line shares RTP session 0. The signal is the
  // RTPSession object's ("get-session" gives the rtpsession element).
  GObject* session = nullptr;
  g_signal_emit_by_name(rtpbin, "get-internal-session", 0u, &session);
  if (!session) {
    log::debug("pipeline: no RTP session 0 in ", GST_OBJECT_NAME(rtpbin), ": NACK/PLI not counted");
    return;
  }
  g_signal_connect(session, "on-feedback-rtcp", G_CALLBACK(on_feedback), counters);
  g_object_unref(session);
}

}  // namespace

void count_viewer_traffic(GstElement* webrtcbin, PipelineTimes* counters) {
  // A viewer's connection can become CONNECTED again after an ICE
  // disconnect: count each element once.
  static constexpr const char* kCounted = "cs-traffic-counted";
  for_each_element(GST_BIN(webrtcbin), [&](GstElement* element) {
    if (g_object_get_data(G_OBJECT(element), kCounted)) return;
    if (made_by(element, "nicesink")) {
      auto sink = PadRef::adopt(gst_element_get_static_pad(element, "sink"));
      if (!sink) return;
      gst_pad_add_probe(sink.get(), kBufferProbes, count_sent, counters, nullptr);
    } else if (made_by(element, "rtprtxsend")) {
      watch_rtx(element, counters);
    } else if (made_by(element, "rtpbin")) {
      watch_feedback(element, counters);
    } else {
      return;
    }
    g_object_set_data(G_OBJECT(element), kCounted, GINT_TO_POINTER(1));
  });
}

render::FrameSlot VideoPipeline::acquire(std::size_t bytes) {
  if (!playing_.load(std::memory_order_relaxed)) return {};
  GstBuffer* buffer = nullptr;
  if (gst_buffer_pool_acquire_buffer(pool_.get(), &buffer, nullptr) != GST_FLOW_OK) return {};
  return map_for_writing(buffer, bytes);
}

void VideoPipeline::submit(render::FrameSlot slot, const render::FrameInfo& info, bool ok) {
  GstBuffer* buffer = unmap_written(slot);
  const GstClockTime base = gst_element_get_base_time(pipeline_.get());
  const auto capture = static_cast<GstClockTime>(info.capture_mono_ns);
  if (!ok || !playing_.load(std::memory_order_relaxed) || capture < base) {
    times_.frames_refused.fetch_add(1, std::memory_order_relaxed);
    gst_buffer_unref(buffer);
    return;
  }
  GST_BUFFER_PTS(buffer) = capture - base;
  GST_BUFFER_DTS(buffer) = GST_CLOCK_TIME_NONE;
  GST_BUFFER_DURATION(buffer) = frame_duration_;
  GST_BUFFER_OFFSET(buffer) = info.frame_number;
  times_.frames_in.fetch_add(1, std::memory_order_relaxed);
  if (gst_app_src_push_buffer(GST_APP_SRC(appsrc_.get()), buffer) != GST_FLOW_OK) {
    times_.frames_refused.fetch_add(1, std::memory_order_relaxed);
    log::debug("pipeline: appsrc refused a frame (not playing)");
  }
}

}  // namespace cs::streaming
