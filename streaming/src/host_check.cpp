#include "cs/streaming/host_check.hpp"

#include <algorithm>

namespace cs::streaming {

std::string gstreamer_version() {
  guint major = 0, minor = 0, micro = 0, nano = 0;
  gst_version(&major, &minor, &micro, &nano);
  return std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(micro);
}

namespace {
bool wants_vp8(const Config& c) {
  return std::find(c.codecs.begin(), c.codecs.end(), VideoCodec::vp8) != c.codecs.end();
}
bool wants_control(const Config& c) {
  return c.control != ControlPolicy::none;
}
bool wants_sound(const Config& c) {
  return c.audio;
}
bool wants_recording(const Config& c) {
  return !c.record_path.empty();
}
}  // namespace

const std::vector<RequiredElement>& required_elements() {
  static const std::vector<RequiredElement> elements = {
      {"appsrc", "the frames from the renderer (gst-plugins-base: app)"},
      {"capsfilter", "the shared pipeline's caps (gstreamer core)"},
      {"tee", "the fan-out to the viewers (gstreamer core)"},
      {"queue", "each viewer's leaky queue (gstreamer core)"},
      {"videoconvert", "--baseline and RGBA input (gst-plugins-base)"},
      {"x264enc", "the fallback encoder (gst-plugins-ugly)"},
      {"rtph264pay", "each viewer's payloader (gst-plugins-good: rtp)"},
      {"webrtcbin", "each viewer's WebRTC session (gst-plugins-bad: webrtc)"},
      {"nicesrc", "ICE, inside webrtcbin (gstreamer1.0-nice)"},
      {"nicesink", "ICE, inside webrtcbin (gstreamer1.0-nice)"},
      {"dtlssrtpenc", "DTLS, inside webrtcbin (gst-plugins-bad: dtls)"},
      {"dtlssrtpdec", "DTLS, inside webrtcbin (gst-plugins-bad: dtls)"},
      {"srtpenc", "SRTP, inside webrtcbin (gst-plugins-bad: srtp)"},
      {"srtpdec", "SRTP, inside webrtcbin (gst-plugins-bad: srtp)"},
      {"rtpbin", "RTP sessions, inside webrtcbin (gst-plugins-good: rtpmanager)"},
      {"rtprtxsend", "retransmissions (CS_NACK), inside webrtcbin (gst-plugins-good)"},
      {"rtpulpfecenc", "FEC (CS_FEC_PERCENT), inside webrtcbin (gst-plugins-good: rtp)"},
      {"rtpredenc", "RED for FEC, inside webrtcbin (gst-plugins-good: rtp)"},
      {"sctpenc", "the control data channel, inside webrtcbin (gst-plugins-bad: sctp)",
       "CS_CONTROL other than none", wants_control},
      {"sctpdec", "the control data channel, inside webrtcbin (gst-plugins-bad: sctp)",
       "CS_CONTROL other than none", wants_control},
      {"vp8enc", "VP8 for viewers without H.264 (gst-plugins-good: vpx)", "vp8 in CS_CODECS",
       wants_vp8},
      {"rtpvp8pay", "VP8 payloader (gst-plugins-good: rtp)", "vp8 in CS_CODECS", wants_vp8},
      {"opusenc", "the scene's sound (gst-plugins-base: opus)", "CS_AUDIO=1", wants_sound},
      {"rtpopuspay", "the sound's payloader (gst-plugins-good: rtp)", "CS_AUDIO=1", wants_sound},
      {"mp4mux", "recording to .mp4 (gst-plugins-good: isomp4)", "CS_RECORD_PATH", wants_recording},
      {"matroskamux", "recording to .mkv (gst-plugins-good: matroska)", "CS_RECORD_PATH",
       wants_recording},
      {"splitmuxsink", "recording (gst-plugins-good: multifile)", "CS_RECORD_PATH",
       wants_recording},
  };
  return elements;
}

std::vector<RequiredElement> missing_elements() {
  std::vector<RequiredElement> missing;
  for (const auto& element : required_elements()) {
    GstElementFactory* factory = gst_element_factory_find(element.factory);
    if (factory)
      gst_object_unref(factory);
    else
      missing.push_back(element);
  }
  return missing;
}

EncodedFrameWatch::EncodedFrameWatch(VideoPipeline& pipeline) : pipeline_(pipeline) {
  pad_ = PadRef::adopt(gst_element_get_static_pad(pipeline.tee(), "sink"));
  if (!pad_) return;
  probe_id_ = gst_pad_add_probe(
      pad_.get(), GST_PAD_PROBE_TYPE_BUFFER,
      [](GstPad*, GstPadProbeInfo* info, gpointer data) -> GstPadProbeReturn {
        auto* self = static_cast<EncodedFrameWatch*>(data);
        GstBuffer* buffer = GST_PAD_PROBE_INFO_BUFFER(info);
        {
          std::lock_guard lock(self->mutex_);
          if (!self->frame_)
            self->frame_ = Frame{gst_buffer_get_size(buffer),
                                 !GST_BUFFER_FLAG_IS_SET(buffer, GST_BUFFER_FLAG_DELTA_UNIT)};
        }
        self->arrived_.notify_all();
        return GST_PAD_PROBE_OK;
      },
      this, nullptr);
}

EncodedFrameWatch::~EncodedFrameWatch() {
  if (pad_ && probe_id_) gst_pad_remove_probe(pad_.get(), probe_id_);
}

EncodedFrameWatch::Outcome EncodedFrameWatch::wait(std::chrono::milliseconds timeout) {
  if (!pad_ || !probe_id_) return {std::nullopt, "the shared pipeline has no tee sink pad"};
  auto bus = GRef<GstBus>::adopt(gst_element_get_bus(pipeline_.pipeline()));
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      // Short slices: the bus is polled in between for an error.
      arrived_.wait_for(lock, std::chrono::milliseconds(20), [this] { return frame_.has_value(); });
      if (frame_) return {frame_, {}};
    }
    if (GstMessage* message = gst_bus_pop_filtered(bus.get(), GST_MESSAGE_ERROR)) {
      GError* error = nullptr;
      gst_message_parse_error(message, &error, nullptr);
      std::string text = std::string(GST_OBJECT_NAME(GST_MESSAGE_SRC(message))) + ": " +
                         (error ? error->message : "error");
      if (error) g_error_free(error);
      gst_message_unref(message);
      return {std::nullopt, text};
    }
    if (std::chrono::steady_clock::now() >= deadline)
      return {std::nullopt, "no encoded frame within " + std::to_string(timeout.count()) + " ms"};
  }
}

}  // namespace cs::streaming
