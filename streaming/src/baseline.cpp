#include "cs/streaming/baseline.hpp"

#include <gst/app/gstappsrc.h>
#include <gst/video/video.h>

#include <algorithm>

#include "cs/log.hpp"

namespace cs::streaming {

void BaselineFanout::add(GstElement* appsrc, GstElement* pipeline) {
  std::lock_guard lock(mutex_);
  targets_.push_back({appsrc, pipeline});
}

void BaselineFanout::remove(GstElement* appsrc) {
  std::lock_guard lock(mutex_);
  targets_.erase(std::remove_if(targets_.begin(), targets_.end(),
                                [&](const Target& t) { return t.appsrc == appsrc; }),
                 targets_.end());
}

render::FrameSlot BaselineFanout::acquire(std::size_t bytes) {
  {
    std::lock_guard lock(mutex_);
    if (targets_.empty()) return {};
  }
  return map_for_writing(gst_buffer_new_allocate(nullptr, bytes, nullptr), bytes);
}

void BaselineFanout::submit(render::FrameSlot slot, const render::FrameInfo& info, bool ok) {
  GstBuffer* buffer = unmap_written(slot);
  if (ok) {
    std::lock_guard lock(mutex_);
    for (const auto& t : targets_) {
      const GstClockTime base = gst_element_get_base_time(t.pipeline);
      const auto capture = static_cast<GstClockTime>(info.capture_mono_ns);
      if (capture < base) continue;
      // Each pipeline has its own base time, so each gets its own stamps.
      GstBuffer* copy = gst_buffer_copy(buffer);
      GST_BUFFER_PTS(copy) = capture - base;
      GST_BUFFER_DURATION(copy) = frame_duration_;
      gst_app_src_push_buffer(GST_APP_SRC(t.appsrc), copy);
    }
  }
  gst_buffer_unref(buffer);
}

namespace {

gboolean forward_bus_error(GstBus*, GstMessage* message, gpointer data) {
  if (GST_MESSAGE_TYPE(message) != GST_MESSAGE_ERROR) return G_SOURCE_CONTINUE;
  GError* error = nullptr;
  gst_message_parse_error(message, &error, nullptr);
  (*static_cast<BaselineMediaSource::ErrorHandler*>(data))(GST_MESSAGE_SRC(message),
                                                           error ? error->message : "error");
  if (error) g_error_free(error);
  return G_SOURCE_CONTINUE;
}

class BaselineViewer final : public ViewerMedia {
 public:
  BaselineViewer(BaselineFanout& fanout, PipelineTimes& times) : fanout_(fanout), times_(times) {}
  ~BaselineViewer() override {
    if (appsrc_) fanout_.remove(appsrc_);
    if (bus_watch_) g_source_remove(bus_watch_);
    if (pipeline_) gst_element_set_state(pipeline_.get(), GST_STATE_NULL);
  }

  bool build(const std::string& name, const EncoderSettings& e, const OfferSummary& offer,
             const IceSettings& ice, BaselineMediaSource::ErrorHandler* on_error,
             std::string& error) {
    pipeline_ = ElementRef::ref_sink(gst_pipeline_new(name.c_str()));
    const std::string description =
        "appsrc name=src is-live=true format=time do-timestamp=false "
        "caps=\"video/x-raw,format=RGBA,"
        "width=" +
        std::to_string(e.width) + ",height=" + std::to_string(e.height) +
        ",framerate=" + std::to_string(e.fps) +
        "/1\" ! videoconvert name=convert ! "
        "video/x-raw,format=I420 ! x264enc name=encoder tune=zerolatency speed-preset=ultrafast "
        "bitrate=" +
        std::to_string(e.bitrate_kbps) + " key-int-max=" + std::to_string(e.fps) +
        " ! capsfilter caps=video/x-h264,profile=constrained-baseline";
    GError* parse_error = nullptr;
    // TRUE ghosts the capsfilter's unlinked src pad as the bin's "src".
    GstElement* front = gst_parse_bin_from_description(description.c_str(), TRUE, &parse_error);
    if (!front) {
      error = parse_error ? parse_error->message : "cannot build the baseline pipeline";
      if (parse_error) g_error_free(parse_error);
      return false;
    }
    gst_bin_add(GST_BIN(pipeline_.get()), front);
    const Sender sender =
        build_sender(GST_BIN(pipeline_.get()), offer, ice, SenderTuning::seed_defaults,
                     RecoverySettings{.nack = false}, error);
    if (!sender.webrtcbin) return false;
    webrtcbin_ = sender.webrtcbin;
    if (!gst_element_link(front, sender.payloader)) {
      error = "cannot link the baseline encoder to its payloader";
      return false;
    }
    appsrc_ = gst_bin_get_by_name(GST_BIN(front), "src");
    gst_object_unref(appsrc_);  // the pipeline keeps it alive
    GstElement* convert = gst_bin_get_by_name(GST_BIN(front), "convert");
    GstElement* encoder = gst_bin_get_by_name(GST_BIN(front), "encoder");
    install_timing(convert, encoder);
    gst_object_unref(convert);
    gst_object_unref(encoder);

    auto bus = GRef<GstBus>::adopt(gst_element_get_bus(pipeline_.get()));
    bus_watch_ = gst_bus_add_watch(bus.get(), forward_bus_error, on_error);
    if (gst_element_set_state(pipeline_.get(), GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
      error = "the baseline pipeline failed to start";
      return false;
    }
    fanout_.add(appsrc_, pipeline_.get());
    return true;
  }

  GstElement* webrtcbin() const override { return webrtcbin_; }
  bool owns(GstObject* object) const override {
    return object && (object == GST_OBJECT(pipeline_.get()) ||
                      gst_object_has_as_ancestor(object, GST_OBJECT(pipeline_.get())));
  }
  void on_connected() override {
    GstEvent* event = gst_video_event_new_upstream_force_key_unit(GST_CLOCK_TIME_NONE, TRUE, 0);
    gst_element_send_event(webrtcbin_, event);
    watch_network_sinks(webrtcbin_, pipeline_.get(), &times_.render_to_send_ms);
  }

 private:
  void install_timing(GstElement* convert, GstElement* encoder) {
    measure_element(convert, &convert_started_, &times_.convert_ms, nullptr);
    measure_element(encoder, &encode_started_, &times_.encode_ms, &times_.frames_encoded);
    auto encoded = PadRef::adopt(gst_element_get_static_pad(encoder, "src"));
    AgeProbe::attach(encoded.get(), new AgeProbe(pipeline_.get(), &times_.render_to_encoded_ms));
  }

  BaselineFanout& fanout_;
  PipelineTimes& times_;
  ElementRef pipeline_;
  GstElement* webrtcbin_ = nullptr;
  GstElement* appsrc_ = nullptr;
  guint bus_watch_ = 0;
  std::atomic<std::int64_t> convert_started_{0};
  std::atomic<std::int64_t> encode_started_{0};
};

}  // namespace

BaselineMediaSource::BaselineMediaSource(EncoderSettings encoder, IceSettings ice,
                                         BaselineFanout& fanout, ErrorHandler on_error)
    : encoder_(encoder), ice_(std::move(ice)), fanout_(fanout), on_error_(std::move(on_error)) {
  fanout_.set_frame_duration(gst_util_uint64_scale_int(GST_SECOND, 1, encoder_.fps));
}

std::unique_ptr<ViewerMedia> BaselineMediaSource::add_viewer(const std::string& name,
                                                             const OfferSummary& offer,
                                                             const ViewerOptions&,
                                                             std::string& error) {
  if (offer.codec != VideoCodec::h264) {
    error = "the seed baseline sends H.264 only";
    return nullptr;
  }
  auto viewer = std::make_unique<BaselineViewer>(fanout_, times_);
  if (!viewer->build(name, encoder_, offer, ice_, &on_error_, error)) return nullptr;
  return viewer;
}

}  // namespace cs::streaming
