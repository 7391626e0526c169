#include "cs/streaming/rendition.hpp"

#include <gst/video/video.h>

#include "cs/faults.hpp"
#include "cs/log.hpp"
#include "cs/streaming/video_pipeline.hpp"

namespace cs::streaming {
namespace {

constexpr const char* kRenditionTag = "cs-rendition";

struct EventDeleter {
  void operator()(GstEvent* event) const { gst_event_unref(event); }
};

// CS_TEST_FAULTS encoder-error@N / encoder-stall@N: the encoder's Nth input
// frame fails as an encoder error does (an error message from the encoder
// and GST_FLOW_ERROR back upstream), or from it on every frame vanishes
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

GstPadProbeReturn count_keyframe_requests(GstPad*, GstPadProbeInfo* info, gpointer counter) {
  if (counter && gst_video_event_is_force_key_unit(GST_PAD_PROBE_INFO_EVENT(info)))
    static_cast<std::atomic<std::uint64_t>*>(counter)->fetch_add(1, std::memory_order_relaxed);
  return GST_PAD_PROBE_OK;
}

GstPadProbeReturn note_first_output(GstPad*, GstPadProbeInfo*, gpointer flag) {
  static_cast<std::atomic<bool>*>(flag)->store(true);
  return GST_PAD_PROBE_REMOVE;
}

// GstVideoEncoder 1.22 with a minimum PTS (x264enc's 1000 h) takes a
// keyframe request pending at an encoder's first frame as made at running
// time 1000 h, and min-force-key-unit-interval then throttles every later
// request of that encoder for good (GST_DEBUG=videoencoder:6: "Not
// requesting a new key unit yet due to throttling (1000:00:00.000000000 +
// 0:00:00.250000000 > ..."): a rendition started for a viewer's switch
// answered no PLI again, only its 1 s GOP. Its first frame is a keyframe
// anyway, so until then requests are not let in.
GstPadProbeReturn hold_keyframe_requests_until_output(GstPad*, GstPadProbeInfo* info,
                                                      gpointer flag) {
  if (!gst_video_event_is_force_key_unit(GST_PAD_PROBE_INFO_EVENT(info))) return GST_PAD_PROBE_OK;
  return static_cast<std::atomic<bool>*>(flag)->load() ? GST_PAD_PROBE_OK : GST_PAD_PROBE_DROP;
}

GstPadProbeReturn count_output(GstPad*, GstPadProbeInfo*, gpointer counter) {
  static_cast<std::atomic<std::uint64_t>*>(counter)->fetch_add(1, std::memory_order_relaxed);
  return GST_PAD_PROBE_OK;
}

bool scales(const Rendition::Spec& spec) {
  return spec.encoder.width != spec.source_width || spec.encoder.height != spec.source_height;
}

}  // namespace

std::unique_ptr<Rendition> Rendition::create(GstElement* pipeline, const Spec& spec,
                                             const EncodeCounters& counters, std::string& error) {
  std::unique_ptr<Rendition> r(new Rendition(pipeline, spec, counters));
  error = r->build();
  if (!error.empty()) return nullptr;
  return r;
}

std::string Rendition::build() {
  const std::string tag =
      std::string(to_string(spec_.key.codec)) + "-" + std::to_string(spec_.key.rung);
  queue_ = make_element("queue", ("rendition-" + tag).c_str());
  encoder_ = make_encoder(spec_.factory, spec_.encoder);
  name_encoder();
  codec_caps_ = make_element("capsfilter", ("codec-caps-" + tag).c_str());
  tee_ = make_element("tee", ("fanout-" + tag).c_str());
  if (!queue_ || !encoder_ || !codec_caps_ || !tee_)
    return "cannot create the elements of " + describe() + " (" + spec_.factory + ")";
  // Leaky and short: an encoder that falls behind loses frames, it never
  // holds the render thread or the other renditions.
  g_object_set(queue_.get(), "max-size-buffers", 2u, "max-size-bytes", 0u, "max-size-time",
               static_cast<guint64>(0), nullptr);
  gst_util_set_object_arg(G_OBJECT(queue_.get()), "leaky", "downstream");
  std::unique_ptr<GstCaps, CapsDeleter> caps(
      gst_caps_from_string(encoder_output_caps(spec_.factory).c_str()));
  g_object_set(codec_caps_.get(), "caps", caps.get(), nullptr);
  g_object_set(tee_.get(), "allow-not-linked", TRUE, nullptr);

  GstBin* bin = GST_BIN(pipeline_);
  gst_bin_add_many(bin, queue_.get(), encoder_.get(), codec_caps_.get(), tee_.get(), nullptr);
  GstElement* before_encoder = queue_.get();
  if (scales(spec_)) {
    scale_ = make_element("videoscale", ("scale-" + tag).c_str());
    size_caps_ = make_element("capsfilter", ("size-caps-" + tag).c_str());
    if (!scale_ || !size_caps_) return "videoscale missing (for " + describe() + ")";
    std::unique_ptr<GstCaps, CapsDeleter> size(gst_caps_new_simple(
        "video/x-raw", "width", G_TYPE_INT, spec_.encoder.width, "height", G_TYPE_INT,
        spec_.encoder.height, "pixel-aspect-ratio", GST_TYPE_FRACTION, 1, 1, nullptr));
    g_object_set(size_caps_.get(), "caps", size.get(), nullptr);
    gst_bin_add_many(bin, scale_.get(), size_caps_.get(), nullptr);
    if (!gst_element_link_many(queue_.get(), scale_.get(), size_caps_.get(), nullptr))
      return "cannot link the scaler of " + describe();
    before_encoder = size_caps_.get();
  }
  // libvpx takes I420 only; the frames are NV12 (from the GPU side): a
  // plane shuffle, after the scaler, on the smaller frame.
  if (spec_.key.codec != VideoCodec::h264) {
    convert_ = make_element("videoconvert", ("convert-" + tag).c_str());
    if (!convert_) return "videoconvert missing (for " + describe() + ")";
    gst_bin_add(bin, convert_.get());
    if (!gst_element_link(before_encoder, convert_.get()))
      return "cannot link the converter of " + describe();
    before_encoder = convert_.get();
  }
  if (!gst_element_link_many(before_encoder, encoder_.get(), codec_caps_.get(), tee_.get(),
                             nullptr))
    return "cannot link " + spec_.factory + " for " + describe() + " (caps do not intersect?)";
  install_encoder_probes();
  tag_elements();
  auto door = PadRef::adopt(gst_element_get_static_pad(queue_.get(), "sink"));
  gst_pad_add_probe(
      door.get(), GST_PAD_PROBE_TYPE_BUFFER,
      [](GstPad*, GstPadProbeInfo*, gpointer self) {
        auto* r = static_cast<Rendition*>(self);
        if (r->idle_.load(std::memory_order_relaxed)) return GST_PAD_PROBE_DROP;
        r->frames_in_.fetch_add(1, std::memory_order_relaxed);
        return GST_PAD_PROBE_OK;
      },
      this, nullptr);
  return {};
}

void Rendition::tag_elements() {
  for (const ElementRef* e : {&queue_, &scale_, &size_caps_, &convert_, &encoder_, &codec_caps_})
    if (*e) g_object_set_data(G_OBJECT(e->get()), kRenditionTag, GINT_TO_POINTER(1));
}

void Rendition::set_idle(bool idle) {
  if (idle_.exchange(idle) == idle) return;
  log::info("pipeline: ", describe(), idle ? " idle (no viewer)" : " encodes again");
  if (!idle) request_keyframe();
}

// Names are unique in a bin: the primary's encoder is "encoder" (as it
// always was, in logs and GST_DEBUG), another's carries its codec and rung.
void Rendition::name_encoder() {
  if (!encoder_ || (spec_.key.codec == VideoCodec::h264 && spec_.key.rung == 0)) return;
  const std::string name =
      "encoder-" + std::string(to_string(spec_.key.codec)) + "-" + std::to_string(spec_.key.rung);
  gst_object_set_name(GST_OBJECT(encoder_.get()), name.c_str());
}

void Rendition::install_encoder_probes() {
  if (faults::armed("encoder-error") || faults::armed("encoder-stall") ||
      faults::armed("encoder-broken")) {
    auto sink = PadRef::adopt(gst_element_get_static_pad(encoder_.get(), "sink"));
    gst_pad_add_probe(sink.get(), GST_PAD_PROBE_TYPE_BUFFER, inject_encoder_fault,
                      new EncoderFault{encoder_.get()},
                      [](gpointer data) { delete static_cast<EncoderFault*>(data); });
  }
  if (counters_.encode_ms)
    measure_element(encoder_.get(), &encode_in_ns_, counters_.encode_ms, &frames_encoded_);
  auto encoded = PadRef::adopt(gst_element_get_static_pad(encoder_.get(), "src"));
  encoder_has_output_.store(false);
  gst_pad_add_probe(encoded.get(), GST_PAD_PROBE_TYPE_BUFFER, note_first_output,
                    &encoder_has_output_, nullptr);
  gst_pad_add_probe(encoded.get(), GST_PAD_PROBE_TYPE_EVENT_UPSTREAM,
                    hold_keyframe_requests_until_output, &encoder_has_output_, nullptr);
  if (counters_.frames_encoded)
    gst_pad_add_probe(encoded.get(), GST_PAD_PROBE_TYPE_BUFFER, count_output,
                      counters_.frames_encoded, nullptr);
  if (counters_.render_to_encoded_ms)
    AgeProbe::attach(encoded.get(), new AgeProbe(pipeline_, counters_.render_to_encoded_ms));
  // Every keyframe request passes here on its way in (a viewer connecting,
  // switching or catching up, a PLI/FIR through its payloader and the tee).
  gst_pad_add_probe(encoded.get(), GST_PAD_PROBE_TYPE_EVENT_UPSTREAM, count_keyframe_requests,
                    counters_.keyframes_forced, nullptr);
}

bool is_rendition_element(GstObject* object) {
  for (GstObject* o = object; o; o = GST_OBJECT_PARENT(o))
    if (g_object_get_data(G_OBJECT(o), kRenditionTag)) return true;
  return false;
}

std::string Rendition::start(GstElement* frames_tee) {
  // Downstream first: nothing upstream pushes into an element not yet playing.
  for (GstElement* e : {tee_.get(), codec_caps_.get(), encoder_.get(), convert_.get(),
                        size_caps_.get(), scale_.get(), queue_.get()}) {
    if (e && !gst_element_sync_state_with_parent(e))
      return std::string(GST_OBJECT_NAME(e)) + " failed to start";
  }
  frames_pad_ = PadRef::adopt(gst_element_request_pad_simple(frames_tee, "src_%u"));
  auto sink = PadRef::adopt(gst_element_get_static_pad(queue_.get(), "sink"));
  if (!frames_pad_ || gst_pad_link(frames_pad_.get(), sink.get()) != GST_PAD_LINK_OK)
    return "cannot link " + describe() + " to the frames";
  frames_tee_ = frames_tee;
  return {};
}

void Rendition::stop() {
  if (frames_tee_ && frames_pad_) gst_element_release_request_pad(frames_tee_, frames_pad_.get());
  frames_pad_.reset();
  frames_tee_ = nullptr;
  for (ElementRef* e : {&queue_, &scale_, &size_caps_, &convert_, &encoder_, &codec_caps_, &tee_}) {
    if (!*e || GST_OBJECT_PARENT(e->get()) != GST_OBJECT(pipeline_)) continue;
    gst_element_set_locked_state(e->get(), TRUE);
    gst_element_set_state(e->get(), GST_STATE_NULL);
    gst_bin_remove(GST_BIN(pipeline_), e->get());
  }
}

Rendition::~Rendition() {
  stop();
}

std::string Rendition::replace_encoder(const std::string& factory) {
  auto fresh = make_encoder(factory, spec_.encoder);
  if (!fresh) return "cannot create " + factory;
  // The queue's streaming thread runs the encoder: stopped, no buffer is
  // inside the old encoder while it goes.
  gst_element_set_state(queue_.get(), GST_STATE_NULL);
  gst_element_set_state(encoder_.get(), GST_STATE_NULL);
  GstElement* before = convert_ ? convert_.get() : size_caps_ ? size_caps_.get() : queue_.get();
  gst_element_unlink_many(before, encoder_.get(), codec_caps_.get(), nullptr);
  gst_bin_remove(GST_BIN(pipeline_), encoder_.get());
  encoder_ = std::move(fresh);
  spec_.factory = factory;
  name_encoder();
  std::unique_ptr<GstCaps, CapsDeleter> caps(
      gst_caps_from_string(encoder_output_caps(factory).c_str()));
  g_object_set(codec_caps_.get(), "caps", caps.get(), nullptr);
  gst_bin_add(GST_BIN(pipeline_), encoder_.get());
  if (!gst_element_link_many(before, encoder_.get(), codec_caps_.get(), nullptr))
    return "cannot link " + factory + " into the pipeline";
  install_encoder_probes();
  tag_elements();
  if (!gst_element_sync_state_with_parent(encoder_.get()) ||
      !gst_element_sync_state_with_parent(queue_.get()))
    return factory + " failed to start";
  return {};
}

void Rendition::request_keyframe(GstClockTime running_time) {
  std::unique_ptr<GstEvent, EventDeleter> event(
      gst_video_event_new_upstream_force_key_unit(running_time, TRUE, 0));
  auto pad = PadRef::adopt(encoder_ ? gst_element_get_static_pad(encoder_.get(), "src") : nullptr);
  if (!event || !pad) {
    log::warn("pipeline: keyframe request for ", describe(), " refused (",
              !event ? "no event" : "the encoder has no src pad", ")");
    return;  // the event, if any, goes with `event`
  }
  // gst_pad_send_event takes the event whatever it returns.
  if (!gst_pad_send_event(pad.get(), event.release()))
    log::warn("pipeline: keyframe request for ", describe(), " refused");
}

bool Rendition::owns(GstObject* object) const {
  for (const ElementRef* e : {&queue_, &scale_, &size_caps_, &convert_, &encoder_, &codec_caps_}) {
    if (!*e) continue;
    auto* owner = GST_OBJECT(e->get());
    if (object == owner || gst_object_has_as_ancestor(object, owner)) return true;
  }
  return false;
}

RenditionInfo Rendition::info() const {
  return {spec_.key.codec,     spec_.key.rung,       spec_.rungs,      spec_.encoder.bitrate_kbps,
          spec_.encoder.width, spec_.encoder.height, spec_.encoder.fps};
}

std::string Rendition::describe() const {
  return std::string(to_string(spec_.key.codec)) + " rung " + std::to_string(spec_.key.rung) +
         " (" + std::to_string(spec_.encoder.bitrate_kbps) + " kbit/s, " +
         std::to_string(spec_.encoder.width) + "x" + std::to_string(spec_.encoder.height) + ")";
}

}  // namespace cs::streaming
