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
  SampleWindow<>* elapsed_ms;
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
                     SampleWindow<>* elapsed_ms, std::atomic<std::uint64_t>* count) {
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

AgeProbe::AgeProbe(GstElement* pipeline, SampleWindow<>* window)
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
        if (!buffer || !GST_BUFFER_PTS_IS_VALID(buffer)) return GST_PAD_PROBE_OK;
        // Encoders shift timestamps (and their segment) by an offset: the
        // running time, not the PTS, is what maps back to the capture time.
        GstEvent* event = gst_pad_get_sticky_event(pad, GST_EVENT_SEGMENT, 0);
        if (!event) return GST_PAD_PROBE_OK;
        const GstSegment* segment = nullptr;
        gst_event_parse_segment(event, &segment);
        const GstClockTime running =
            gst_segment_to_running_time(segment, GST_FORMAT_TIME, GST_BUFFER_PTS(buffer));
        gst_event_unref(event);
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
  if (pool_) gst_buffer_pool_set_active(pool_.get(), FALSE);
}

std::string VideoPipeline::build() {
  const auto& e = settings_.encoder;
  pipeline_ = ElementRef::ref_sink(gst_pipeline_new("cube-streamer"));
  appsrc_ = make_element("appsrc", "frames");
  input_caps_ = make_element("capsfilter", "encoder-input");
  encoder_ = make_encoder(settings_.encoder_factory, e);
  encoder_factory_ = settings_.encoder_factory;
  h264caps_ = make_element("capsfilter", "h264-caps");
  tee_ = make_element("tee", "fanout");
  GstElement* capsfilter = input_caps_.get();
  GstElement* h264caps = h264caps_.get();
  if (!pipeline_ || !appsrc_ || !capsfilter || !encoder_ || !h264caps || !tee_)
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

  // 4:2:0 into the encoder: x264 would otherwise take 4:4:4 from
  // videoconvert, which constrained baseline refuses.
  std::unique_ptr<GstCaps, CapsDeleter> yuv420(
      gst_caps_from_string(rgba ? "video/x-raw,format=I420" : "video/x-raw,format=NV12"));
  g_object_set(capsfilter, "caps", yuv420.get(), nullptr);
  std::unique_ptr<GstCaps, CapsDeleter> h264(
      gst_caps_from_string(encoder_output_caps(settings_.encoder_factory).c_str()));
  g_object_set(h264caps, "caps", h264.get(), nullptr);
  g_object_set(tee_.get(), "allow-not-linked", TRUE, nullptr);

  GstBin* bin = GST_BIN(pipeline_.get());
  gst_bin_add_many(bin, appsrc_.get(), capsfilter, encoder_.get(), h264caps, tee_.get(), nullptr);
  bool linked;
  if (rgba) {
    gst_bin_add(bin, convert_.get());
    linked = gst_element_link_many(appsrc_.get(), convert_.get(), capsfilter, encoder_.get(),
                                   h264caps, tee_.get(), nullptr);
  } else {
    linked = gst_element_link_many(appsrc_.get(), capsfilter, encoder_.get(), h264caps, tee_.get(),
                                   nullptr);
  }
  if (!linked) return "cannot link the shared pipeline (caps do not intersect?)";

  // The pool's buffer size comes from the caps: caps that describe no
  // frame GStreamer can size (e.g. too large) must stop here, not size the
  // pool from an unfilled GstVideoInfo.
  GstVideoInfo info;
  if (!gst_video_info_from_caps(&info, raw_caps.get()) || info.size == 0) {
    gchar* text = gst_caps_to_string(raw_caps.get());
    std::string error = std::string("the frame caps describe no video frame GStreamer can size: ") +
                        (text ? text : "?");
    g_free(text);
    return error;
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

namespace {
// The live stream never ends: shutdown goes straight to NULL. An EOS into
// the tee can only be a failing appsrc's (basesrc sends one after a fatal
// flow error), and it would end every viewer's stream while the encoder is
// being replaced.
GstPadProbeReturn drop_eos(GstPad*, GstPadProbeInfo* info, gpointer) {
  return GST_EVENT_TYPE(GST_PAD_PROBE_INFO_EVENT(info)) == GST_EVENT_EOS ? GST_PAD_PROBE_DROP
                                                                         : GST_PAD_PROBE_OK;
}
}  // namespace

void VideoPipeline::install_stage_probes() {
  auto to_tee = PadRef::adopt(gst_element_get_static_pad(h264caps_.get(), "src"));
  gst_pad_add_probe(to_tee.get(), GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, drop_eos, nullptr, nullptr);
  if (convert_) measure_element(convert_.get(), &convert_in_ns_, &times_.convert_ms, nullptr);
  install_encoder_probes();
}

namespace {

// CS_TEST_FAULTS encoder-error@N / encoder-stall@N: the encoder's Nth input
// frame fails as an encoder error does (an error message from the encoder
// and GST_FLOW_ERROR back to appsrc), or from it on every frame vanishes
// into the encoder with nothing coming out. Once per process, so the
// replacement encoder works; encoder-broken@N fails every encoder at its Nth
// frame, so that no replacement does.
struct EncoderFault {
  GstElement* encoder;
  std::int64_t frames = 0;
  bool stalled = false;
};

GstPadProbeReturn inject_encoder_fault(GstPad*, GstPadProbeInfo* info, gpointer data) {
  auto* fault = static_cast<EncoderFault*>(data);
  ++fault->frames;
  if (fault->stalled || faults::fire_once("encoder-stall", fault->frames)) {
    fault->stalled = true;
    return GST_PAD_PROBE_DROP;
  }
  const auto broken_at = faults::armed("encoder-broken");
  if (faults::fire_once("encoder-error", fault->frames) ||
      (broken_at && fault->frames == *broken_at)) {
    GST_ELEMENT_ERROR(fault->encoder, STREAM, ENCODE, ("injected encoder failure"),
                      ("CS_TEST_FAULTS=encoder-error"));
    gst_buffer_unref(GST_PAD_PROBE_INFO_BUFFER(info));
    GST_PAD_PROBE_INFO_FLOW_RETURN(info) = GST_FLOW_ERROR;
    return GST_PAD_PROBE_HANDLED;
  }
  return GST_PAD_PROBE_OK;
}

}  // namespace

void VideoPipeline::install_encoder_probes() {
  if (faults::armed("encoder-error") || faults::armed("encoder-stall") ||
      faults::armed("encoder-broken")) {
    auto sink = PadRef::adopt(gst_element_get_static_pad(encoder_.get(), "sink"));
    gst_pad_add_probe(sink.get(), GST_PAD_PROBE_TYPE_BUFFER, inject_encoder_fault,
                      new EncoderFault{encoder_.get()},
                      [](gpointer data) { delete static_cast<EncoderFault*>(data); });
  }
  measure_element(encoder_.get(), &encode_in_ns_, &times_.encode_ms, &times_.frames_encoded);
  auto encoded = PadRef::adopt(gst_element_get_static_pad(encoder_.get(), "src"));
  AgeProbe::attach(encoded.get(), new AgeProbe(pipeline_.get(), &times_.render_to_encoded_ms));
}

bool VideoPipeline::owns_encoder_stage(GstObject* object) const {
  for (const ElementRef* e : {&appsrc_, &convert_, &input_caps_, &encoder_, &h264caps_}) {
    if (!*e) continue;
    auto* owner = GST_OBJECT(e->get());
    if (object == owner || gst_object_has_as_ancestor(object, owner)) return true;
  }
  return false;
}

std::string VideoPipeline::replace_encoder(const std::string& factory) {
  auto fresh = make_encoder(factory, settings_.encoder);
  if (!fresh) return "cannot create " + factory;
  // appsrc's streaming thread is the one that runs the encoder: stopping it
  // first means no buffer is inside the old encoder while it goes.
  gst_element_set_state(appsrc_.get(), GST_STATE_NULL);
  gst_element_set_state(encoder_.get(), GST_STATE_NULL);
  gst_element_unlink_many(input_caps_.get(), encoder_.get(), h264caps_.get(), nullptr);
  gst_bin_remove(GST_BIN(pipeline_.get()), encoder_.get());
  encoder_ = std::move(fresh);
  encoder_factory_ = factory;
  std::unique_ptr<GstCaps, CapsDeleter> h264(
      gst_caps_from_string(encoder_output_caps(factory).c_str()));
  g_object_set(h264caps_.get(), "caps", h264.get(), nullptr);
  gst_bin_add(GST_BIN(pipeline_.get()), encoder_.get());
  if (!gst_element_link_many(input_caps_.get(), encoder_.get(), h264caps_.get(), nullptr))
    return "cannot link " + factory + " into the pipeline";
  install_encoder_probes();
  if (!gst_element_sync_state_with_parent(encoder_.get()) ||
      !gst_element_sync_state_with_parent(appsrc_.get()))
    return factory + " failed to start";
  return {};
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
}

void watch_network_sinks(GstElement* webrtcbin, GstElement* pipeline, SampleWindow<>* window) {
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
struct EventDeleter {
  void operator()(GstEvent* event) const { gst_event_unref(event); }
};
}  // namespace

void VideoPipeline::request_keyframe() {
  std::unique_ptr<GstEvent, EventDeleter> event(
      gst_video_event_new_upstream_force_key_unit(GST_CLOCK_TIME_NONE, TRUE, 0));
  auto pad = PadRef::adopt(encoder_ ? gst_element_get_static_pad(encoder_.get(), "src") : nullptr);
  if (!event || !pad) {
    log::warn("pipeline: keyframe request refused (",
              !event ? "no event" : "the encoder has no src pad", ")");
    return;  // the event, if any, goes with `event`
  }
  // gst_pad_send_event takes the event whatever it returns.
  if (!gst_pad_send_event(pad.get(), event.release()))
    log::warn("pipeline: keyframe request refused");
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
    gst_buffer_unref(buffer);
    return;
  }
  GST_BUFFER_PTS(buffer) = capture - base;
  GST_BUFFER_DTS(buffer) = GST_CLOCK_TIME_NONE;
  GST_BUFFER_DURATION(buffer) = frame_duration_;
  GST_BUFFER_OFFSET(buffer) = info.frame_number;
  times_.frames_in.fetch_add(1, std::memory_order_relaxed);
  if (gst_app_src_push_buffer(GST_APP_SRC(appsrc_.get()), buffer) != GST_FLOW_OK)
    log::debug("pipeline: appsrc refused a frame (not playing)");
}

}  // namespace cs::streaming
