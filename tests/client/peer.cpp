#include "peer.hpp"

#define GST_USE_UNSTABLE_API
#include <gst/app/gstappsink.h>
#include <gst/sdp/sdp.h>
#include <gst/video/video.h>
#include <gst/webrtc/webrtc.h>

#include <cs/timecode.hpp>

#include "log.hpp"

namespace cstest {
namespace {

// What the transceiver offers for each codec, as a browser offers it: NACK,
// PLI and FIR feedback. Fixed payload types, listed in --codecs order (the
// order of the caps' structures is the m-line's order of preference).
const char* caps_for(Codec codec) {
  switch (codec) {
    case Codec::H264:
      return "application/x-rtp,media=video,encoding-name=H264,clock-rate=90000,payload=96,"
             "packetization-mode=(string)1,profile-level-id=(string)42e01f,"
             "level-asymmetry-allowed=(string)1,rtcp-fb-nack-pli=(boolean)true,"
             "rtcp-fb-ccm-fir=(boolean)true,rtcp-fb-nack=(boolean)true";
    case Codec::VP8:
      return "application/x-rtp,media=video,encoding-name=VP8,clock-rate=90000,payload=97,"
             "rtcp-fb-nack-pli=(boolean)true,rtcp-fb-ccm-fir=(boolean)true,"
             "rtcp-fb-nack=(boolean)true";
    case Codec::VP9:
      return "application/x-rtp,media=video,encoding-name=VP9,clock-rate=90000,payload=98,"
             "profile-id=(string)0,rtcp-fb-nack-pli=(boolean)true,"
             "rtcp-fb-ccm-fir=(boolean)true,rtcp-fb-nack=(boolean)true";
  }
  return "";
}

// Depayload (and decode) chains by the received pad's encoding-name. The
// decoders run single-threaded: tests run many viewers on two cores.
constexpr const char* kToAppsink =
    "videoconvert ! video/x-raw,format=RGBA ! appsink name=sink sync=false max-buffers=4";
constexpr const char* kAuAppsink = "appsink name=sink sync=false max-buffers=4";

std::string chain_for(const std::string& encoding_name, PeerMode mode) {
  const bool decode = mode == PeerMode::Decode;
  if (encoding_name == "OPUS")
    return "rtpopusdepay ! opusdec ! audioconvert ! audioresample ! "
           "audio/x-raw,format=S16LE,channels=1,rate=48000 ! appsink name=sink sync=false";
  if (encoding_name == "H264")
    return decode
               ? std::string("rtph264depay ! h264parse ! avdec_h264 max-threads=1 ! ") + kToAppsink
               : std::string(
                     "rtph264depay ! video/x-h264,stream-format=byte-stream,"
                     "alignment=au ! ") +
                     kAuAppsink;
  if (encoding_name == "VP8")
    return std::string("rtpvp8depay ! ") + (decode ? "vp8dec threads=1 ! " : "") +
           (decode ? kToAppsink : kAuAppsink);
  if (encoding_name == "VP9")
    return std::string("rtpvp9depay ! ") + (decode ? "vp9dec threads=1 ! " : "") +
           (decode ? kToAppsink : kAuAppsink);
  return {};
}

DecodedFrame read_rgba_frame(GstSample* sample) {
  DecodedFrame frame;
  GstVideoInfo info;
  if (!gst_video_info_from_caps(&info, gst_sample_get_caps(sample))) return frame;
  frame.width = GST_VIDEO_INFO_WIDTH(&info);
  frame.height = GST_VIDEO_INFO_HEIGHT(&info);
  GstVideoFrame vframe;
  if (!gst_video_frame_map(&vframe, &info, gst_sample_get_buffer(sample), GST_MAP_READ))
    return frame;
  const auto* pixels = static_cast<const std::uint8_t*>(GST_VIDEO_FRAME_PLANE_DATA(&vframe, 0));
  int stride = GST_VIDEO_FRAME_PLANE_STRIDE(&vframe, 0);
  if (auto stamp = cs::timecode::decode(pixels, frame.width, frame.height, stride, 4)) {
    frame.render_ms = stamp->render_ms;
    frame.frame_number = stamp->frame_number;
    frame.input_ms = stamp->input_ms;
    frame.turns = stamp->turns;
  }
  const auto* centre = pixels + (frame.height / 2) * stride + (frame.width / 2) * 4;
  frame.center_rgb = {centre[0], centre[1], centre[2]};
  frame.has_pixels = true;
  gst_video_frame_unmap(&vframe);
  return frame;
}

DecodedFrame read_access_unit(GstSample* sample) {
  DecodedFrame frame;
  if (auto* s = gst_caps_get_structure(gst_sample_get_caps(sample), 0)) {
    gst_structure_get_int(s, "width", &frame.width);
    gst_structure_get_int(s, "height", &frame.height);
  }
  return frame;
}

}  // namespace

Peer::Peer(int id, PeerMode mode, FrameStats& stats, Callbacks callbacks, PeerIce ice,
           std::vector<Codec> codecs, SoundStats* sound)
    : id_(id),
      mode_(mode),
      stats_(stats),
      callbacks_(std::move(callbacks)),
      ice_(std::move(ice)),
      codecs_(std::move(codecs)),
      sound_(sound) {}

Peer::~Peer() {
  stop();
}

template <typename Fn>
void Peer::post(Fn fn) {
  std::weak_ptr<int> alive = alive_;
  run_on_main([alive, fn = std::move(fn)]() {
    if (alive.lock()) fn();
  });
}

bool Peer::start() {
  if (!build()) return false;
  if (gst_element_set_state(pipeline_.get(), GST_STATE_PLAYING) == GST_STATE_CHANGE_FAILURE) {
    stats_.add_error("pipeline refused PLAYING");
    return false;
  }
  return true;
}

bool Peer::build() {
  pipeline_.reset(GST_ELEMENT(gst_object_ref_sink(gst_pipeline_new(nullptr))));
  webrtc_ = gst_element_factory_make("webrtcbin", nullptr);
  if (!webrtc_) {
    stats_.add_error("no webrtcbin element (gstreamer1.0-plugins-bad, gstreamer1.0-nice)");
    return false;
  }
  g_object_set(webrtc_, "bundle-policy", GST_WEBRTC_BUNDLE_POLICY_MAX_BUNDLE, nullptr);
  if (!ice_.stun_server.empty())
    g_object_set(webrtc_, "stun-server", ice_.stun_server.c_str(), nullptr);
  for (const auto& turn : ice_.turn_servers) {
    gboolean added = FALSE;
    g_signal_emit_by_name(webrtc_, "add-turn-server", turn.c_str(), &added);
    if (!added) stats_.add_error("webrtcbin refused a TURN server from --ice-servers");
  }
  if (ice_.relay_only)
    g_object_set(webrtc_, "ice-transport-policy", GST_WEBRTC_ICE_TRANSPORT_POLICY_RELAY, nullptr);
  gst_bin_add(GST_BIN(pipeline_.get()), webrtc_);
  GstObjPtr<GstBus> bus(gst_element_get_bus(pipeline_.get()));
  bus_watch_.reset(gst_bus_add_watch(bus.get(), &on_bus_message, this));
  connect_signals();
  if (answerer_) return true;
  return add_transceiver() && open_control_channel();
}

// webrtcbin makes data channels from READY on; made before PLAYING, the
// channel is in the first offer (negotiation-needed comes after).
bool Peer::open_control_channel() {
  if (!control_) return true;
  if (gst_element_set_state(pipeline_.get(), GST_STATE_READY) == GST_STATE_CHANGE_FAILURE) {
    stats_.add_error("pipeline refused READY");
    return false;
  }
  GstWebRTCDataChannel* raw = nullptr;
  g_signal_emit_by_name(webrtc_, "create-data-channel", "control", nullptr, &raw);
  GObjPtr<GstWebRTCDataChannel> channel(raw);
  if (!channel) {
    stats_.add_error("create-data-channel refused");
    return false;
  }
  control_->attach(channel.get());
  return true;
}

bool Peer::add_transceiver() {
  CapsPtr caps(gst_caps_new_empty());
  for (Codec codec : codecs_) {
    CapsPtr one(gst_caps_from_string(caps_for(codec)));
    if (!one) {
      stats_.add_error(std::string("bad caps for ") + codec_name(codec));
      return false;
    }
    gst_caps_append(caps.get(), one.release());
  }
  GstWebRTCRTPTransceiver* raw = nullptr;
  g_signal_emit_by_name(webrtc_, "add-transceiver", GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_RECVONLY,
                        caps.get(), &raw);
  GstObjPtr<GstWebRTCRTPTransceiver> transceiver(raw);
  if (!transceiver) {
    stats_.add_error("add-transceiver failed");
    return false;
  }
  // add-transceiver sets codec-preferences from the caps; set it again
  // explicitly since webrtcbin needs it to produce the m-line's formats.
  g_object_set(transceiver.get(), "codec-preferences", caps.get(), nullptr);
  if (!sound_) return true;
  // --audio: an Opus m-line after the video's, as a browser offers it.
  CapsPtr opus(
      gst_caps_from_string("application/x-rtp,media=audio,encoding-name=OPUS,clock-rate=48000,"
                           "encoding-params=(string)2,payload=111"));
  GstWebRTCRTPTransceiver* audio = nullptr;
  g_signal_emit_by_name(webrtc_, "add-transceiver", GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_RECVONLY,
                        opus.get(), &audio);
  GstObjPtr<GstWebRTCRTPTransceiver> audio_transceiver(audio);
  if (!audio_transceiver) {
    stats_.add_error("add-transceiver (audio) failed");
    return false;
  }
  g_object_set(audio_transceiver.get(), "codec-preferences", opus.get(), nullptr);
  return true;
}

namespace {
// Report every second, as browsers do, instead of rtpsession's 5 s minimum:
// the server takes a long silence on the media transport for a vanished
// viewer (the media_cut test), and a browser-like client tests that path.
void report_like_a_browser(GstBin*, GstBin*, GstElement* element, gpointer) {
  GstElementFactory* factory = gst_element_get_factory(element);
  if (factory && g_strcmp0(GST_OBJECT_NAME(factory), "rtpsession") == 0)
    g_object_set(element, "rtcp-min-interval", static_cast<guint64>(GST_SECOND), nullptr);
}
}  // namespace

void Peer::connect_signals() {
  g_signal_connect(webrtc_, "deep-element-added", G_CALLBACK(&report_like_a_browser), nullptr);
  g_signal_connect(webrtc_, "on-negotiation-needed", G_CALLBACK(&on_negotiation_needed), this);
  g_signal_connect(webrtc_, "on-ice-candidate", G_CALLBACK(&on_ice_candidate), this);
  g_signal_connect(webrtc_, "pad-added", G_CALLBACK(&on_pad_added), this);
  g_signal_connect(webrtc_, "notify::connection-state", G_CALLBACK(&on_connection_state), this);
  g_signal_connect(webrtc_, "notify::ice-gathering-state", G_CALLBACK(&on_gathering_state), this);
}

// One offer per connection (the protocol has no renegotiation): made on the
// main loop once start() has added everything, so that it has all of it
// even when webrtcbin asks after the first part (the control channel, made
// at READY, can bring a second request).
void Peer::on_negotiation_needed(GstElement*, gpointer data) {
  auto* self = static_cast<Peer*>(data);
  if (self->answerer_) return;  // the server offers
  self->post([self] {
    if (self->offer_requested_) return;
    self->offer_requested_ = true;
    auto* promise = gst_promise_new_with_change_func(&on_offer_created, self, nullptr);
    g_signal_emit_by_name(self->webrtc_, "create-offer", nullptr, promise);
  });
}

void Peer::on_offer_created(GstPromise* raw_promise, gpointer data) {
  auto* self = static_cast<Peer*>(data);
  PromisePtr promise(raw_promise);
  GstWebRTCSessionDescription* offer = nullptr;
  const GstStructure* reply = gst_promise_get_reply(promise.get());
  if (reply)
    gst_structure_get(reply, "offer", GST_TYPE_WEBRTC_SESSION_DESCRIPTION, &offer, nullptr);
  if (!offer) {
    self->stats_.add_error("create-offer gave no offer");
    return;
  }
  g_signal_emit_by_name(self->webrtc_, "set-local-description", offer, nullptr);
  CharPtr text(gst_sdp_message_as_text(offer->sdp));
  gst_webrtc_session_description_free(offer);
  self->post([self, sdp = std::string(text.get())]() {
    if (self->callbacks_.on_offer) self->callbacks_.on_offer(sdp);
  });
}

void Peer::on_ice_candidate(GstElement*, guint mline, gchar* candidate, gpointer data) {
  auto* self = static_cast<Peer*>(data);
  self->post([self, mline, c = std::string(candidate ? candidate : "")]() {
    if (self->callbacks_.on_candidate) self->callbacks_.on_candidate(mline, c);
  });
}

void Peer::set_answer(const std::string& sdp) {
  GstSDPMessage* message = nullptr;
  if (gst_sdp_message_new_from_text(sdp.c_str(), &message) != GST_SDP_OK) {
    stats_.add_error("answer SDP does not parse");
    return;
  }
  auto* answer = gst_webrtc_session_description_new(GST_WEBRTC_SDP_TYPE_ANSWER, message);
  PromisePtr promise(gst_promise_new());
  g_signal_emit_by_name(webrtc_, "set-remote-description", answer, promise.get());
  gst_promise_wait(promise.get());
  const GstStructure* reply = gst_promise_get_reply(promise.get());
  const GValue* err = reply ? gst_structure_get_value(reply, "error") : nullptr;
  if (err) {
    auto* e = static_cast<GError*>(g_value_get_boxed(err));
    stats_.add_error(std::string("set-remote-description: ") + (e ? e->message : "?"));
  }
  gst_webrtc_session_description_free(answer);
}

void Peer::set_remote_offer(const std::string& sdp) {
  GstSDPMessage* message = nullptr;
  if (gst_sdp_message_new_from_text(sdp.c_str(), &message) != GST_SDP_OK) {
    stats_.add_error("offer SDP does not parse");
    return;
  }
  auto* offer = gst_webrtc_session_description_new(GST_WEBRTC_SDP_TYPE_OFFER, message);
  PromisePtr promise(gst_promise_new());
  g_signal_emit_by_name(webrtc_, "set-remote-description", offer, promise.get());
  gst_promise_wait(promise.get());
  gst_webrtc_session_description_free(offer);
  const GstStructure* reply = gst_promise_get_reply(promise.get());
  const GValue* err = reply ? gst_structure_get_value(reply, "error") : nullptr;
  if (err) {
    auto* e = static_cast<GError*>(g_value_get_boxed(err));
    stats_.add_error(std::string("set-remote-description (offer): ") + (e ? e->message : "?"));
    return;
  }
  auto* created = gst_promise_new_with_change_func(&on_answer_created, this, nullptr);
  g_signal_emit_by_name(webrtc_, "create-answer", nullptr, created);
}

void Peer::on_answer_created(GstPromise* raw_promise, gpointer data) {
  auto* self = static_cast<Peer*>(data);
  PromisePtr promise(raw_promise);
  GstWebRTCSessionDescription* answer = nullptr;
  const GstStructure* reply = gst_promise_get_reply(promise.get());
  if (reply)
    gst_structure_get(reply, "answer", GST_TYPE_WEBRTC_SESSION_DESCRIPTION, &answer, nullptr);
  if (!answer) {
    self->post([self] { self->stats_.add_error("create-answer gave no answer"); });
    return;
  }
  g_signal_emit_by_name(self->webrtc_, "set-local-description", answer, nullptr);
  CharPtr text(gst_sdp_message_as_text(answer->sdp));
  gst_webrtc_session_description_free(answer);
  self->post([self, sdp = std::string(text.get())]() {
    if (self->on_answer_) self->on_answer_(sdp);
  });
}

void Peer::add_candidate(guint mline, const std::string& candidate) {
  g_signal_emit_by_name(webrtc_, "add-ice-candidate", mline, candidate.c_str());
}

GstElement* Peer::make_sink_chain(const std::string& encoding_name) {
  const std::string description = chain_for(encoding_name, mode_);
  if (description.empty()) {
    stats_.add_error("received encoding-name '" + encoding_name + "': no depayloader for it");
    return nullptr;
  }
  GError* raw_error = nullptr;
  GstElement* bin = gst_parse_bin_from_description(description.c_str(), TRUE, &raw_error);
  ErrorPtr error(raw_error);
  if (!bin) {
    stats_.add_error(std::string("sink chain: ") + (error ? error->message : "?"));
    return nullptr;
  }
  GstObjPtr<GstElement> sink(gst_bin_get_by_name(GST_BIN(bin), "sink"));
  g_object_set(sink.get(), "emit-signals", TRUE, nullptr);
  g_signal_connect(sink.get(), "new-sample",
                   G_CALLBACK(encoding_name == "OPUS" ? &on_new_sound : &on_new_sample), this);
  return bin;
}

void Peer::on_pad_added(GstElement*, GstPad* pad, gpointer data) {
  auto* self = static_cast<Peer*>(data);
  if (GST_PAD_DIRECTION(pad) != GST_PAD_SRC) return;
  // The pad's caps come from the answer's payload type map: the codec the
  // server chose for this viewer.
  CapsPtr caps(gst_pad_get_current_caps(pad));
  if (!caps) caps.reset(gst_pad_query_caps(pad, nullptr));
  const GstStructure* s =
      caps && !gst_caps_is_empty(caps.get()) ? gst_caps_get_structure(caps.get(), 0) : nullptr;
  const char* name = s ? gst_structure_get_string(s, "encoding-name") : nullptr;
  const std::string encoding_name = name ? name : "";
  if (encoding_name == "OPUS" && !self->sound_) {
    self->stats_.add_error("received Opus without asking for it (no --audio)");
    return;
  }
  if (encoding_name != "OPUS") self->stats_.set_codec(encoding_name);
  GstElement* bin = self->make_sink_chain(encoding_name);
  if (!bin) return;
  gst_bin_add(GST_BIN(self->pipeline_.get()), bin);
  GstObjPtr<GstPad> sinkpad(gst_element_get_static_pad(bin, "sink"));
  if (gst_pad_link(pad, sinkpad.get()) != GST_PAD_LINK_OK)
    self->stats_.add_error("could not link webrtcbin src pad");
  gst_element_sync_state_with_parent(bin);
  log_info(self->id_, "media pad added, receiving " + encoding_name);
}

void Peer::on_connection_state(GObject* webrtc, GParamSpec*, gpointer data) {
  auto* self = static_cast<Peer*>(data);
  GstWebRTCPeerConnectionState state{};
  g_object_get(webrtc, "connection-state", &state, nullptr);
  self->post([self, state]() {
    static const char* names[] = {"new",          "connecting", "connected",
                                  "disconnected", "failed",     "closed"};
    auto index = static_cast<unsigned>(state);
    self->connection_state_ = index < 6 ? names[index] : "unknown";
    if (state == GST_WEBRTC_PEER_CONNECTION_STATE_CONNECTED) {
      self->ice_connected_ = true;
      if (self->connected_at_ms_ < 0) self->connected_at_ms_ = steady_ms();
    }
    log_info(self->id_, "connection state " + self->connection_state_);
  });
}

void Peer::on_gathering_state(GObject* webrtc, GParamSpec*, gpointer data) {
  auto* self = static_cast<Peer*>(data);
  GstWebRTCICEGatheringState state{};
  g_object_get(webrtc, "ice-gathering-state", &state, nullptr);
  if (state != GST_WEBRTC_ICE_GATHERING_STATE_COMPLETE) return;
  // Usually after the candidates' own posts; a late one is counted by the
  // viewer (candidates_after_offer), so a test can tell.
  self->post([self]() {
    log_info(self->id_, "ICE gathering complete");
    if (self->on_gathering_complete_) self->on_gathering_complete_();
  });
}

gboolean Peer::on_bus_message(GstBus*, GstMessage* msg, gpointer data) {
  auto* self = static_cast<Peer*>(data);
  if (GST_MESSAGE_TYPE(msg) != GST_MESSAGE_ERROR && GST_MESSAGE_TYPE(msg) != GST_MESSAGE_WARNING)
    return G_SOURCE_CONTINUE;
  GError* raw_error = nullptr;
  if (GST_MESSAGE_TYPE(msg) == GST_MESSAGE_ERROR)
    gst_message_parse_error(msg, &raw_error, nullptr);
  else
    gst_message_parse_warning(msg, &raw_error, nullptr);
  ErrorPtr error(raw_error);
  std::string text = std::string(GST_MESSAGE_TYPE_NAME(msg)) + " from " +
                     GST_OBJECT_NAME(GST_MESSAGE_SRC(msg)) + ": " + (error ? error->message : "?");
  log_info(self->id_, text);
  self->stats_.add_error(text);
  return G_SOURCE_CONTINUE;
}

GstFlowReturn Peer::on_new_sample(GstElement* appsink, gpointer data) {
  auto* self = static_cast<Peer*>(data);
  SamplePtr sample(gst_app_sink_pull_sample(GST_APP_SINK(appsink)));
  if (!sample) return GST_FLOW_EOS;
  self->stats_.add_frame(self->mode_ == PeerMode::Decode ? read_rgba_frame(sample.get())
                                                         : read_access_unit(sample.get()));
  return GST_FLOW_OK;
}

GstFlowReturn Peer::on_new_sound(GstElement* appsink, gpointer data) {
  auto* self = static_cast<Peer*>(data);
  SamplePtr sample(gst_app_sink_pull_sample(GST_APP_SINK(appsink)));
  if (!sample) return GST_FLOW_EOS;
  GstMapInfo map;
  GstBuffer* buffer = gst_sample_get_buffer(sample.get());
  if (buffer && gst_buffer_map(buffer, &map, GST_MAP_READ)) {
    self->sound_->add_samples(reinterpret_cast<const std::int16_t*>(map.data), map.size / 2, 48000,
                              epoch_ms());
    gst_buffer_unmap(buffer, &map);
  }
  return GST_FLOW_OK;
}

void Peer::stop() {
  if (pipeline_) gst_element_set_state(pipeline_.get(), GST_STATE_NULL);
}

}  // namespace cstest
