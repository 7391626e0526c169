#include "cs/streaming/viewer_branch.hpp"

#include <gst/sdp/sdp.h>
#include <gst/video/video.h>
#include <gst/webrtc/webrtc.h>
#include <nice/agent.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>

#include "cs/faults.hpp"
#include "cs/log.hpp"
#include "cs/streaming/encoder.hpp"
#include "cs/streaming/playout_delay.hpp"

namespace cs::streaming {
namespace {

NiceAgent* nice_agent_of(GstElement* webrtcbin) {
  GstObject* ice = nullptr;
  g_object_get(webrtcbin, "ice-agent", &ice, nullptr);
  if (!ice) return nullptr;
  NiceAgent* agent = nullptr;
  if (g_object_class_find_property(G_OBJECT_GET_CLASS(ice), "agent"))
    g_object_get(ice, "agent", &agent, nullptr);
  gst_object_unref(ice);
  return agent;  // a reference, or null
}

// What webrtcbin 1.22 says to its ICE agent itself: UDP only, the UDP port
// range (honoured when set before negotiation; TRAPS.md) and the TURN
// relays, each with credentials of this viewer's own.
// ICE-TCP is off: its passive candidates listen on the same range, and a
// connection the server closed leaves that port in TIME_WAIT for 60 s;
// libnice then cannot bind it and gives up the stream's whole gathering,
// UDP candidates too, so a freed port refused the next viewer (e2e_ice_nat,
// about 1 run in 6). Viewers that cannot use UDP use TURN over TCP instead.
void configure_ice_servers(GstElement* webrtcbin, const std::string& name, const IceSettings& ice) {
  GstObject* agent = nullptr;
  g_object_get(webrtcbin, "ice-agent", &agent, nullptr);
  if (agent) {
    if (g_object_class_find_property(G_OBJECT_GET_CLASS(agent), "ice-tcp"))
      g_object_set(agent, "ice-tcp", FALSE, nullptr);
    if (ice.port_min > 0)
      g_object_set(agent, "min-rtp-port", static_cast<guint>(ice.port_min), "max-rtp-port",
                   static_cast<guint>(ice.port_max), nullptr);
    gst_object_unref(agent);
  }
  if (!ice.servers.stun.empty())
    g_object_set(webrtcbin, "stun-server", ice.servers.stun.c_str(), nullptr);
  const auto credentials = ice.servers.credentials_for(name, g_get_real_time() / G_USEC_PER_SEC);
  for (const auto& server : ice.servers.turn) {
    gboolean added = FALSE;
    g_signal_emit_by_name(webrtcbin, "add-turn-server",
                          webrtcbin_turn_uri(server, credentials).c_str(), &added);
    if (!added) log::warn("ice: webrtcbin refused the TURN server ", ice_server_display(server));
  }
}

// Two things webrtcbin 1.22 cannot say to its NiceAgent itself:
// - libnice gathers on every interface unless told which addresses to use;
// - UPnP is on by default: each agent starts a gupnp-igd thread that binds
//   SSDP and HTTP sockets on every interface and multicasts on the LAN. A
//   server with known addresses has nothing to map, and for a viewer that
//   leaves while that thread is still discovering, thread and sockets are
//   never released (tests/e2e/churn.sh: 9 threads, ~180 fds after 60 such
//   viewers). Off before gathering starts unless CS_ICE_UPNP asks for it.
void configure_ice_agent(GstElement* webrtcbin, const IceSettings& ice) {
  NiceAgent* agent = nice_agent_of(webrtcbin);
  if (!agent) {
    log::warn("ice: no NiceAgent in this webrtcbin: UPnP stays on, CS_ICE_ADDRESSES unused");
    return;
  }
  g_object_set(agent, "upnp", ice.upnp ? TRUE : FALSE, nullptr);
  for (const auto& text : ice.ice_addresses) {
    NiceAddress address;
    nice_address_init(&address);
    if (nice_address_set_from_string(&address, text.c_str()))
      nice_agent_add_local_address(agent, &address);
    else
      log::warn("ice: cannot use address ", text);
  }
  g_object_unref(agent);
}

// A viewer's TURN allocations outlive its agent at the relay (for their
// whole lifetime, 600 s at coturn) unless they are deleted first (TRAPS.md).
// nice_agent_close_async sends the deleting refreshes and answers in the
// caller's thread-default context: a private one here, iterated until the
// relay answered, bounded, so a relay that is gone costs at most 1 s.
void release_turn_allocations(GstElement* webrtcbin) {
  NiceAgent* agent = nice_agent_of(webrtcbin);
  if (!agent) return;
  std::unique_ptr<GMainContext, void (*)(GMainContext*)> context(g_main_context_new(),
                                                                 g_main_context_unref);
  bool done = false;
  g_main_context_push_thread_default(context.get());
  nice_agent_close_async(
      agent, [](GObject*, GAsyncResult*, gpointer data) { *static_cast<bool*>(data) = true; },
      &done);
  const gint64 deadline = g_get_monotonic_time() + G_USEC_PER_SEC;
  while (!done && g_get_monotonic_time() < deadline) {
    if (!g_main_context_iteration(context.get(), FALSE)) g_usleep(2000);
  }
  g_main_context_pop_thread_default(context.get());
  if (!done)
    log::warn("ice: TURN relay did not confirm releasing the allocations within 1 s");
  else
    log::debug("ice: TURN allocations released in ",
               (g_get_monotonic_time() - deadline + G_USEC_PER_SEC) / 1000, " ms");
  g_object_unref(agent);
}

std::unique_ptr<GstCaps, CapsDeleter> codec_preferences(const OfferSummary& offer,
                                                        bool playout_delay) {
  std::unique_ptr<GstCaps, CapsDeleter> caps(
      gst_caps_new_simple("application/x-rtp", "media", G_TYPE_STRING, "video", "encoding-name",
                          G_TYPE_STRING, std::string(to_string(offer.codec)).c_str(), "clock-rate",
                          G_TYPE_INT, 90000, "payload", G_TYPE_INT, offer.payload_type, nullptr));
  if (offer.codec == VideoCodec::h264)
    gst_caps_set_simple(caps.get(), "packetization-mode", G_TYPE_STRING, "1", nullptr);
  // The answer carries the extension only if the preferences name it.
  if (playout_delay && offer.playout_delay_ext_id > 0) {
    const std::string field = "extmap-" + std::to_string(offer.playout_delay_ext_id);
    gst_caps_set_simple(caps.get(), field.c_str(), G_TYPE_STRING, kPlayoutDelayUri, nullptr);
  }
  return caps;
}

// The payloader for the viewer's codec, set up for the network (TRAPS.md):
// room for TURN and VPN headers, codec headers with every keyframe.
ElementRef make_payloader(const OfferSummary& offer) {
  const char* factory = offer.codec == VideoCodec::h264  ? "rtph264pay"
                        : offer.codec == VideoCodec::vp8 ? "rtpvp8pay"
                                                         : "rtpvp9pay";
  auto payloader = make_element(factory);
  if (!payloader) return payloader;
  g_object_set(payloader.get(), "pt", static_cast<guint>(offer.payload_type), "mtu", 1200u,
               nullptr);
  if (offer.codec == VideoCodec::h264)
    g_object_set(payloader.get(), "config-interval", -1, nullptr);
  else  // a picture id lets the browser tell a lost frame from a late one
    gst_util_set_object_arg(G_OBJECT(payloader.get()), "picture-id-mode", "15-bit");
  return payloader;
}

// Serialized queries (ALLOCATION after the encoder renegotiates when a
// viewer joins, DRAIN) wait in a queue until its thread has passed them
// downstream; behind a tee, one viewer whose webrtcbin is not yet flowing
// would hold them, and with them the encoder and every other viewer. The
// branch needs nothing from them, so answer them at its door.
GstPadProbeReturn answer_serialized_queries(GstPad*, GstPadProbeInfo* info, gpointer) {
  GstQuery* query = GST_PAD_PROBE_INFO_QUERY(info);
  if (GST_QUERY_IS_SERIALIZED(query)) return GST_PAD_PROBE_HANDLED;
  return GST_PAD_PROBE_OK;
}

// Sends each requested retransmission twice. Chromium re-asks for a packet
// only after its RTT estimate, which on a receive-only connection stays at
// libwebrtc's 100 ms default (no RTCP XR here): a lost retransmission costs a
// 100 ms freeze, two copies make that loss^2 instead of loss, for a bitrate
// cost of about the loss rate.
GstPadProbeReturn duplicate_retransmission(GstPad* pad, GstPadProbeInfo* info, gpointer) {
  GstEvent* event = GST_PAD_PROBE_INFO_EVENT(info);
  const GstStructure* s = gst_event_get_structure(event);
  if (!s || !gst_structure_has_name(s, "GstRTPRetransmissionRequest") ||
      gst_structure_has_field(s, "cs-copy"))
    return GST_PAD_PROBE_OK;
  GstStructure* copy = gst_structure_copy(s);
  gst_structure_set(copy, "cs-copy", G_TYPE_BOOLEAN, TRUE, nullptr);
  gst_pad_send_event(pad, gst_event_new_custom(GST_EVENT_CUSTOM_UPSTREAM, copy));
  return GST_PAD_PROBE_OK;
}

// webrtcbin makes rtprtxsend inside rtpbin when the answer has rtx; size its
// history in time, so that it holds a whole keyframe at any bitrate.
void set_up_rtx(GstBin*, GstBin*, GstElement* element, gpointer settings) {
  if (!made_by(element, "rtprtxsend")) return;
  const auto* recovery = static_cast<const RecoverySettings*>(settings);
  g_object_set(element, "max-size-time", recovery->rtx_history_ms, "max-size-packets", 0u, nullptr);
  if (recovery->rtx_copies > 1) {
    auto src = PadRef::adopt(gst_element_get_static_pad(element, "src"));
    gst_pad_add_probe(src.get(), GST_PAD_PROBE_TYPE_EVENT_UPSTREAM, duplicate_retransmission,
                      nullptr, nullptr);
  }
}

void set_up_recovery(GstElement* webrtcbin, GstWebRTCRTPTransceiver* transceiver,
                     const RecoverySettings& recovery) {
  // Without do-nack webrtcbin strips nack from its answer and the browser
  // never asks for a retransmission.
  g_object_set(transceiver, "do-nack", recovery.nack ? TRUE : FALSE, nullptr);
  if (recovery.nack)
    g_signal_connect_data(
        webrtcbin, "deep-element-added", G_CALLBACK(set_up_rtx), new RecoverySettings(recovery),
        [](gpointer data, GClosure*) { delete static_cast<RecoverySettings*>(data); },
        GConnectFlags(0));
  if (recovery.fec_percent > 0)
    g_object_set(transceiver, "fec-type", GST_WEBRTC_FEC_TYPE_ULP_RED, "fec-percentage",
                 recovery.fec_percent, nullptr);
}

// The tee stops pushing to every branch at the first fatal return of any one
// (gsttee.c: "stop pushing more buffers when we have a fatal error") and
// hands it to the shared encoder, whose appsrc then stops for good. What
// happens inside one viewer's branch is that viewer's affair: its error
// message removes it through the bus, and the tee always hears OK.
GstFlowReturn shield_chain(GstPad* pad, GstObject* parent, GstBuffer* buffer) {
  const GstFlowReturn ret = gst_proxy_pad_chain_default(pad, parent, buffer);
  if (ret != GST_FLOW_OK) GST_DEBUG_OBJECT(pad, "branch returned %s", gst_flow_get_name(ret));
  return GST_FLOW_OK;
}

GstFlowReturn shield_chain_list(GstPad* pad, GstObject* parent, GstBufferList* list) {
  const GstFlowReturn ret = gst_proxy_pad_chain_list_default(pad, parent, list);
  if (ret != GST_FLOW_OK) GST_DEBUG_OBJECT(pad, "branch returned %s", gst_flow_get_name(ret));
  return GST_FLOW_OK;
}

// A viewer that falls behind loses frames at its leaky queue, and with them
// references the frames after depend on: its picture stays broken until the
// next periodic keyframe. Once frames flow again, ask the shared encoder for
// one (throttled there, so a slow viewer cannot make everyone pay often).
// "Caught up" means no frame dropped for kCatchUpUs: one request per episode,
// not one per frame that squeezes through while the viewer is still slow.
constexpr gint64 kCatchUpUs = 300 * 1000;

struct CatchUp {
  std::string name;
  GstPad* queue_sink;                      // borrowed: the queue owns it and outlives the probe
  std::atomic<gint64> last_overrun_us{0};  // 0: none since the last keyframe asked
  std::atomic<bool> awaiting_keyframe{false};
  std::atomic<int> keyframes{0};  // passed so far, up to kStartKeyframes
};

// The first keyframe gives the payloader its caps (the hub answers then);
// frames after it are dropped at the queue while webrtcbin is not sending
// yet (negotiation, DTLS: the e2e viewer saw 8 frames missing after the
// first, in consecutive RTP packets), and the keyframe asked for at connect
// starts the stream proper. Later drops (a slow viewer) keep today's
// behaviour: the keyframe asked for once caught up repairs the picture.
constexpr int kStartKeyframes = 2;

void on_overrun(GstElement*, gpointer data) {
  auto* catch_up = static_cast<CatchUp*>(data);
  catch_up->last_overrun_us.store(g_get_monotonic_time(), std::memory_order_relaxed);
  if (catch_up->keyframes.load(std::memory_order_relaxed) < kStartKeyframes)
    catch_up->awaiting_keyframe.store(true, std::memory_order_relaxed);
}

// Once no frame was dropped for kCatchUpUs: one keyframe request per episode.
void request_keyframe_once_caught_up(CatchUp& catch_up) {
  gint64 last = catch_up.last_overrun_us.load(std::memory_order_relaxed);
  if (last == 0 || g_get_monotonic_time() - last < kCatchUpUs ||
      !catch_up.last_overrun_us.compare_exchange_strong(last, 0))
    return;
  log::info(catch_up.name, ": caught up after dropping frames; asking for a keyframe");
  // Pushed upstream from the queue's sink pad, from this streaming thread: a
  // PLI reaches the encoder the same way.
  gst_pad_push_event(catch_up.queue_sink,
                     gst_video_event_new_upstream_force_key_unit(GST_CLOCK_TIME_NONE, TRUE, 0));
}

// The frames behind a dropped one refer to it: decoded, they are broken
// pictures. At a viewer's start (see kStartKeyframes) they are not sent:
// the e2e viewer showed them as timecodes going back ("0 0 0 2 3 12 13 ..."),
// and in consecutive RTP packets nothing tells a browser they are broken.
GstPadProbeReturn gate_start_of_stream(CatchUp& catch_up, bool delta) {
  if (!delta && catch_up.keyframes.load(std::memory_order_relaxed) < kStartKeyframes)
    catch_up.keyframes.fetch_add(1, std::memory_order_relaxed);
  if (!catch_up.awaiting_keyframe.load(std::memory_order_relaxed)) return GST_PAD_PROBE_OK;
  if (delta) return GST_PAD_PROBE_DROP;
  catch_up.awaiting_keyframe.store(false, std::memory_order_relaxed);
  return GST_PAD_PROBE_OK;
}

// Every frame leaving a viewer's queue.
GstPadProbeReturn on_queue_output(GstPad*, GstPadProbeInfo* info, gpointer data) {
  auto& catch_up = *static_cast<CatchUp*>(data);
  request_keyframe_once_caught_up(catch_up);
  return gate_start_of_stream(catch_up, GST_BUFFER_FLAG_IS_SET(GST_PAD_PROBE_INFO_BUFFER(info),
                                                               GST_BUFFER_FLAG_DELTA_UNIT));
}

// The queue owns its CatchUp: object data outlives the queue's pads and
// signal handlers, so both callbacks may borrow it.
void watch_overruns(const std::string& name, GstElement* queue) {
  auto sink = PadRef::adopt(gst_element_get_static_pad(queue, "sink"));
  auto src = PadRef::adopt(gst_element_get_static_pad(queue, "src"));
  auto* catch_up = new CatchUp{name, sink.get()};
  g_object_set_data_full(G_OBJECT(queue), "cs-catch-up", catch_up,
                         [](gpointer data) { delete static_cast<CatchUp*>(data); });
  g_signal_connect(queue, "overrun", G_CALLBACK(on_overrun), catch_up);
  gst_pad_add_probe(src.get(), GST_PAD_PROBE_TYPE_BUFFER, on_queue_output, catch_up, nullptr);
}

// CS_TEST_FAULTS slow-branch@F: from the branch's Fth frame, its thread takes
// 150 ms per frame for 3 s (a viewer that cannot keep up), once per process.
void inject_slow_branch(GstElement* queue) {
  if (!faults::armed("slow-branch")) return;
  struct Slow {
    std::int64_t frames = 0;
    gint64 until_us = 0;
  };
  auto src = PadRef::adopt(gst_element_get_static_pad(queue, "src"));
  gst_pad_add_probe(
      src.get(), GST_PAD_PROBE_TYPE_BUFFER,
      [](GstPad*, GstPadProbeInfo*, gpointer data) {
        auto* slow = static_cast<Slow*>(data);
        if (faults::fire_once("slow-branch", ++slow->frames))
          slow->until_us = g_get_monotonic_time() + 3 * G_USEC_PER_SEC;
        if (g_get_monotonic_time() < slow->until_us) g_usleep(150 * 1000);
        return GST_PAD_PROBE_OK;
      },
      new Slow{}, [](gpointer data) { delete static_cast<Slow*>(data); });
}

// webrtcbin runs set-remote-description, create-answer and
// set-local-description later, in order, on its own thread. Set to NULL
// while one is still running there, 1.22 leaks what that one was building:
// a TransportReceiveBin with its nicesrc, DTLS connection and the NiceAgent's
// sockets (tests/e2e/churn.sh: 6 of 20 viewers that closed as soon as the
// answer came, ~5 fds each). One more task, waited for, means every earlier
// one is done. The task: a remote *answer*, which this server (it never
// offers) refuses in every signaling state before touching anything.
// get-stats would do too, but interns its per-SSRC stats ids as GQuarks,
// ~8 per viewer that are never freed. Bounded, so a webrtcbin that never
// answers cannot hold the main loop.
void wait_for_pending_operations(GstElement* webrtcbin) {
  struct Done {
    std::mutex mutex;
    std::condition_variable cv;
    bool done = false;
  };
  auto done = std::make_shared<Done>();
  GstPromise* promise = gst_promise_new_with_change_func(
      [](GstPromise*, gpointer data) {
        auto& d = **static_cast<std::shared_ptr<Done>*>(data);
        std::lock_guard lock(d.mutex);
        d.done = true;
        d.cv.notify_all();
      },
      new std::shared_ptr<Done>(done),
      [](gpointer data) { delete static_cast<std::shared_ptr<Done>*>(data); });
  GstSDPMessage* sdp = nullptr;
  gst_sdp_message_new_from_text("v=0\r\no=- 0 0 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n", &sdp);
  GstWebRTCSessionDescription* answer =
      gst_webrtc_session_description_new(GST_WEBRTC_SDP_TYPE_ANSWER, sdp);
  g_signal_emit_by_name(webrtcbin, "set-remote-description", answer, promise);
  gst_webrtc_session_description_free(answer);
  gst_promise_unref(promise);
  std::unique_lock lock(done->mutex);
  if (!done->cv.wait_for(lock, std::chrono::seconds(2), [&] { return done->done; }))
    log::warn(GST_OBJECT_NAME(webrtcbin), ": still busy after 2 s; stopping it anyway");
}

}  // namespace

std::unique_ptr<ViewerBranch> ViewerBranch::create(const std::string& name,
                                                   const OfferSummary& offer,
                                                   const IceSettings& ice,
                                                   const RecoverySettings& recovery,
                                                   GstElement* sound_tee, std::string& error) {
  std::unique_ptr<ViewerBranch> branch(new ViewerBranch());
  if (!branch->build(name, offer, ice, recovery, error)) return nullptr;
  if (sound_tee && offer.opus_payload_type >= 0) {
    // The picture matters more: a sound that cannot be built is left out.
    std::string sound_error;
    if (branch->build_sound(offer, sound_error))
      branch->sound_tee_ = sound_tee;
    else
      log::warn(name, ": video only: ", sound_error);
  }
  return branch;
}

// The sound's own leaky queue and payloader, on webrtcbin's second sink
// pad (transceiver 1), sendonly with the offer's Opus payload type. Its
// door is a shielded ghost pad like the video's, linked at attach().
bool ViewerBranch::build_sound(const OfferSummary& offer, std::string& error) {
  auto queue = make_element("queue");
  auto payloader = make_element("rtpopuspay");
  if (!queue || !payloader) {
    error = "cannot create the viewer's sound queue and Opus payloader";
    return false;
  }
  // 50 ms at most: a stalled viewer loses its own sound, never the tee's.
  g_object_set(queue.get(), "max-size-buffers", 5u, "max-size-bytes", 0u, "max-size-time",
               static_cast<guint64>(0), nullptr);
  gst_util_set_object_arg(G_OBJECT(queue.get()), "leaky", "downstream");
  g_object_set(payloader.get(), "pt", static_cast<guint>(offer.opus_payload_type), "mtu", 1200u,
               nullptr);
  if (!gst_bin_add(GST_BIN(bin_.get()), queue.get())) {
    error = "cannot add the viewer's sound queue";
    return false;
  }
  if (!gst_bin_add(GST_BIN(bin_.get()), payloader.get())) {
    gst_bin_remove(GST_BIN(bin_.get()), queue.get());
    error = "cannot add the viewer's Opus payloader";
    return false;
  }
  if (!gst_element_link(queue.get(), payloader.get()) ||
      !gst_element_link_pads(payloader.get(), "src", webrtcbin_.get(), "sink_%u")) {
    gst_bin_remove_many(GST_BIN(bin_.get()), queue.get(), payloader.get(), nullptr);
    error = "cannot link the viewer's sound to webrtcbin";
    return false;
  }
  GstWebRTCRTPTransceiver* transceiver = nullptr;
  g_signal_emit_by_name(webrtcbin_.get(), "get-transceiver", 1, &transceiver);
  if (!transceiver) {
    error = "webrtcbin made no transceiver for the sound";
    return false;
  }
  std::unique_ptr<GstCaps, CapsDeleter> prefs(gst_caps_new_simple(
      "application/x-rtp", "media", G_TYPE_STRING, "audio", "encoding-name", G_TYPE_STRING, "OPUS",
      "clock-rate", G_TYPE_INT, 48000, "encoding-params", G_TYPE_STRING, "2", "payload", G_TYPE_INT,
      offer.opus_payload_type, nullptr));
  g_object_set(transceiver, "direction", GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_SENDONLY,
               "codec-preferences", prefs.get(), nullptr);
  gst_object_unref(transceiver);
  auto target = PadRef::adopt(gst_element_get_static_pad(queue.get(), "sink"));
  GstPad* door = make_shielded_sink(target.get());
  gst_object_set_name(GST_OBJECT(door), "sound_sink");
  gst_pad_add_probe(door, GST_PAD_PROBE_TYPE_QUERY_DOWNSTREAM, answer_serialized_queries, nullptr,
                    nullptr);
  gst_pad_set_active(door, TRUE);
  // add_pad takes the floating reference, also when it refuses.
  if (!gst_element_add_pad(bin_.get(), door)) {
    error = "cannot add the viewer's sound pad";
    return false;
  }
  sound_door_ = door;
  return true;
}

Sender build_sender(GstBin* bin, const OfferSummary& offer, const IceSettings& ice,
                    SenderTuning tuning, const RecoverySettings& recovery, std::string& error) {
  auto payloader = make_payloader(offer);
  auto webrtcbin = make_element("webrtcbin");
  if (!payloader || !webrtcbin) {
    error = std::string("cannot create the ") + std::string(to_string(offer.codec)) +
            " payloader and webrtcbin";
    return {};
  }
  const bool low_latency = tuning == SenderTuning::low_latency;
  if (low_latency) {
    if (offer.codec == VideoCodec::h264)
      gst_util_set_object_arg(G_OBJECT(payloader.get()), "aggregate-mode", "zero-latency");
    // Measured with Chromium 156 here: without it, glass-to-glass p50 was
    // 32-35 ms; with it, 18-23 ms (same server, same run).
    if (GstElement* ext = make_playout_delay_extension(offer.playout_delay_ext_id)) {
      g_signal_emit_by_name(payloader.get(), "add-extension", ext);
      gst_object_unref(ext);
    }
  }
  gst_util_set_object_arg(G_OBJECT(webrtcbin.get()), "bundle-policy", "max-bundle");
  configure_ice_servers(webrtcbin.get(), GST_OBJECT_NAME(bin), ice);
  configure_ice_agent(webrtcbin.get(), ice);

  gst_bin_add_many(bin, payloader.get(), webrtcbin.get(), nullptr);
  if (!gst_element_link_pads(payloader.get(), "src", webrtcbin.get(), "sink_%u")) {
    error = "cannot link the payloader to webrtcbin";
    return {};
  }
  // The sink pad link made transceiver 0; answer only from it, with the
  // browser's own payload number.
  GstWebRTCRTPTransceiver* transceiver = nullptr;
  g_signal_emit_by_name(webrtcbin.get(), "get-transceiver", 0, &transceiver);
  if (!transceiver) {
    error = "webrtcbin made no transceiver";
    return {};
  }
  auto prefs = codec_preferences(offer, low_latency);
  g_object_set(transceiver, "direction", GST_WEBRTC_RTP_TRANSCEIVER_DIRECTION_SENDONLY,
               "codec-preferences", prefs.get(), nullptr);
  set_up_recovery(webrtcbin.get(), transceiver, recovery);
  gst_object_unref(transceiver);
  return {payloader.get(), webrtcbin.get()};
}

namespace {
GstPadProbeReturn note_sent_frame(GstPad* pad, GstPadProbeInfo* info, gpointer data) {
  const GstClockTime running = running_time_at(pad, GST_PAD_PROBE_INFO_BUFFER(info));
  if (GST_CLOCK_TIME_IS_VALID(running))
    static_cast<std::atomic<GstClockTime>*>(data)->store(running, std::memory_order_relaxed);
  return GST_PAD_PROBE_OK;
}
}  // namespace

bool ViewerBranch::build(const std::string& name, const OfferSummary& offer, const IceSettings& ice,
                         const RecoverySettings& recovery, std::string& error) {
  bin_ = ElementRef::ref_sink(gst_bin_new(name.c_str()));
  selector_ = make_element("input-selector");
  queue_ = make_element("queue");
  if (!bin_ || !selector_ || !queue_) {
    error = "cannot create the viewer's input selector and queue";
    return false;
  }
  // An input that is not the one sent drops its buffers at once; it must
  // never wait for the other (sync-streams would block that rendition's
  // tee, and with it every viewer on it).
  g_object_set(selector_.get(), "sync-streams", FALSE, "cache-buffers", FALSE, nullptr);
  // Leaky and small: a stalled viewer loses its own frames and never blocks
  // the tee, so the others go on.
  g_object_set(queue_.get(), "max-size-buffers", 4u, "max-size-bytes", 0u, "max-size-time",
               static_cast<guint64>(0), nullptr);
  gst_util_set_object_arg(G_OBJECT(queue_.get()), "leaky", "downstream");
  gst_bin_add_many(GST_BIN(bin_.get()), selector_.get(), queue_.get(), nullptr);
  auto selector_src = PadRef::adopt(gst_element_get_static_pad(selector_.get(), "src"));
  if (!selector_src) {
    error = "the viewer's input selector has no src pad";
    return false;
  }
  gst_pad_add_probe(selector_src.get(), GST_PAD_PROBE_TYPE_BUFFER, note_sent_frame,
                    &clock_.sent_running, nullptr);
  const Sender sender =
      build_sender(GST_BIN(bin_.get()), offer, ice, SenderTuning::low_latency, recovery, error);
  if (!sender.webrtcbin) return false;
  webrtcbin_ = ElementRef::adopt(GST_ELEMENT(gst_object_ref(sender.webrtcbin)));
  payloader_ = ElementRef::adopt(GST_ELEMENT(gst_object_ref(sender.payloader)));
  uses_turn_ = !ice.servers.turn.empty();
  if (!gst_element_link_many(selector_.get(), queue_.get(), sender.payloader, nullptr)) {
    error = "cannot link the viewer's queue";
    return false;
  }
  watch_overruns(name, queue_.get());
  inject_slow_branch(queue_.get());
  return true;
}
namespace {
// What an input's probes share with the branch during a switch.
struct SwitchGate {
  std::atomic<bool> active{false};             // the incoming input became the one sent
  std::atomic<bool> outgoing{false};           // the input being switched away from
  ViewerBranch::SwitchClock* clock = nullptr;  // the branch's: it outlives its inputs
};
}  // namespace

struct ViewerBranch::Input {
  GstElement* tee = nullptr;  // borrowed: the rendition outlives the link
  PadRef tee_pad;
  PadRef selector_pad;
  GstPad* door = nullptr;  // the bin's ghost pad (the bin owns it)
  SwitchGate gate;
};

namespace {
// Both valid and `running` at or after `mark`.
bool at_or_after(GstClockTime running, const std::atomic<GstClockTime>& mark) {
  const GstClockTime at = mark.load(std::memory_order_relaxed);
  return GST_CLOCK_TIME_IS_VALID(running) && GST_CLOCK_TIME_IS_VALID(at) && running >= at;
}

// The outgoing input stops short of the switch point, where the incoming
// one's keyframe was asked for: the encoders of two renditions finish the
// same frame at different times, and without this the viewer got the frame
// at the switch from both (the e2e viewer saw "240 -> 240"; one RTP
// timestamp for two pictures). Once stopped it stays stopped, even if the
// point moves later: what it would send next refers to what it dropped.
GstPadProbeReturn stop_at_switch_point(GstPad* pad, GstPadProbeInfo* info, gpointer data) {
  const auto* gate = static_cast<SwitchGate*>(data);
  if (!gate->outgoing.load(std::memory_order_relaxed)) return GST_PAD_PROBE_OK;
  auto& clock = *gate->clock;
  if (clock.outgoing_stopped.load(std::memory_order_relaxed) ||
      at_or_after(running_time_at(pad, GST_PAD_PROBE_INFO_BUFFER(info)), clock.switch_point)) {
    clock.outgoing_stopped.store(true, std::memory_order_relaxed);
    return GST_PAD_PROBE_DROP;
  }
  return GST_PAD_PROBE_OK;
}

// A rendition just started for this switch sends its first frame as a
// keyframe, of a frame the outgoing one has sent too; the encoder makes the
// next keyframe no sooner than kMinKeyUnitIntervalNs after it. The switch
// point moves there and that keyframe is asked for (upstream from this
// streaming thread, as a PLI reaches the encoder), so the outgoing input
// sends until the frame before it, unless it has stopped already (its first
// keyframe took longer than the point's lead: then the viewer waits).
void ask_again_after_first_keyframe(GstPad* pad, ViewerBranch::SwitchClock& clock,
                                    GstClockTime first) {
  const GstClockTime earliest = first + kMinKeyUnitIntervalNs;
  const GstClockTime point = clock.switch_point.load(std::memory_order_relaxed);
  const GstClockTime at = GST_CLOCK_TIME_IS_VALID(point) && point > earliest ? point : earliest;
  clock.switch_point.store(at, std::memory_order_relaxed);
  gst_pad_push_event(pad, gst_video_event_new_upstream_force_key_unit(at, TRUE, 0));
}

// Until the incoming input's first keyframe after the newest frame sent, its
// buffers are not wanted; at it, it becomes the selector's active pad (from
// this streaming thread: the selector takes its own lock) and the probe goes.
GstPadProbeReturn switch_at_keyframe(GstPad* pad, GstPadProbeInfo* info, gpointer data) {
  auto* gate = static_cast<SwitchGate*>(data);
  GstBuffer* buffer = GST_PAD_PROBE_INFO_BUFFER(info);
  if (GST_BUFFER_FLAG_IS_SET(buffer, GST_BUFFER_FLAG_DELTA_UNIT)) return GST_PAD_PROBE_DROP;
  const GstClockTime running = running_time_at(pad, buffer);
  const GstClockTime sent = gate->clock->sent_running.load(std::memory_order_relaxed);
  if (GST_CLOCK_TIME_IS_VALID(running) && GST_CLOCK_TIME_IS_VALID(sent) && running <= sent) {
    ask_again_after_first_keyframe(pad, *gate->clock, running);
    return GST_PAD_PROBE_DROP;
  }
  GstElement* selector = gst_pad_get_parent_element(pad);
  if (selector) {
    g_object_set(selector, "active-pad", pad, nullptr);
    gst_object_unref(selector);
  }
  gate->active.store(true);
  return GST_PAD_PROBE_REMOVE;
}
}  // namespace

std::unique_ptr<ViewerBranch::Input> ViewerBranch::link_input(GstElement* tee) {
  auto input = std::make_unique<Input>();
  input->selector_pad = PadRef::adopt(gst_element_request_pad_simple(selector_.get(), "sink_%u"));
  if (!input->selector_pad) return nullptr;
  const std::string door_name = "sink_" + std::to_string(inputs_made_++);
  input->door = make_shielded_sink(input->selector_pad.get());
  gst_object_set_name(GST_OBJECT(input->door), door_name.c_str());
  gst_pad_add_probe(input->door, GST_PAD_PROBE_TYPE_QUERY_DOWNSTREAM, answer_serialized_queries,
                    nullptr, nullptr);
  gst_pad_set_active(input->door, TRUE);
  gst_element_add_pad(bin_.get(), input->door);
  input->gate.clock = &clock_;
  gst_pad_add_probe(input->selector_pad.get(), GST_PAD_PROBE_TYPE_BUFFER, stop_at_switch_point,
                    &input->gate, nullptr);
  input->tee_pad = PadRef::adopt(gst_element_request_pad_simple(tee, "src_%u"));
  input->tee = tee;
  if (!input->tee_pad || gst_pad_link(input->tee_pad.get(), input->door) != GST_PAD_LINK_OK) {
    log::error(GST_OBJECT_NAME(bin_.get()), ": cannot link the branch to the rendition's tee");
    release_input(input);
    return nullptr;
  }
  return input;
}

void ViewerBranch::release_input(std::unique_ptr<Input>& input) {
  if (!input) return;
  // Releasing the request pad unlinks it under the tee's own lock; a
  // buffer in flight on it finishes first.
  if (input->tee && input->tee_pad)
    gst_element_release_request_pad(input->tee, input->tee_pad.get());
  if (input->door) {
    gst_pad_set_active(input->door, FALSE);
    gst_element_remove_pad(bin_.get(), input->door);
  }
  if (input->selector_pad)
    gst_element_release_request_pad(selector_.get(), input->selector_pad.get());
  input.reset();
}

GstPad* make_shielded_sink(GstPad* target) {
  GstPad* door = gst_ghost_pad_new("sink", target);
  gst_pad_set_chain_function(door, shield_chain);
  gst_pad_set_chain_list_function(door, shield_chain_list);
  return door;
}

bool ViewerBranch::attach(GstElement* pipeline, GstElement* tee) {
  if (!gst_bin_add(GST_BIN(pipeline), bin_.get())) return false;
  pipeline_ = pipeline;
  if (!gst_element_sync_state_with_parent(bin_.get())) {
    log::error("viewer: branch failed to start");
    return false;
  }
  input_ = link_input(tee);
  if (!input_) return false;
  if (!sound_tee_) return true;
  sound_input_ = std::make_unique<Input>();
  sound_input_->tee = sound_tee_;
  sound_input_->tee_pad = PadRef::adopt(gst_element_request_pad_simple(sound_tee_, "src_%u"));
  if (!sound_input_->tee_pad ||
      gst_pad_link(sound_input_->tee_pad.get(), sound_door_) != GST_PAD_LINK_OK) {
    // The video is linked and flowing: this viewer goes on without sound.
    log::warn(GST_OBJECT_NAME(bin_.get()),
              ": cannot link the branch to the sound's tee: video only");
    if (sound_input_->tee_pad)
      gst_element_release_request_pad(sound_tee_, sound_input_->tee_pad.get());
    sound_input_.reset();
  }
  return true;
}

std::optional<GstClockTime> ViewerBranch::switch_to(GstElement* tee) {
  if (next_ || !pipeline_ || !input_) return std::nullopt;
  next_ = link_input(tee);
  if (!next_) return std::nullopt;
  const GstClockTime sent = clock_.sent_running.load();
  const GstClockTime point =
      GST_CLOCK_TIME_IS_VALID(sent) ? sent + kSwitchLeadNs : GST_CLOCK_TIME_NONE;
  clock_.switch_point.store(point);
  clock_.outgoing_stopped.store(false);
  input_->gate.outgoing.store(true);
  gst_pad_add_probe(next_->selector_pad.get(), GST_PAD_PROBE_TYPE_BUFFER, switch_at_keyframe,
                    &next_->gate, nullptr);
  return point;
}

guint ViewerBranch::media_ssrc() const {
  GstStructure* stats = nullptr;
  g_object_get(payloader_.get(), "stats", &stats, nullptr);
  guint ssrc = 0;
  if (stats) {
    gst_structure_get_uint(stats, "ssrc", &ssrc);
    gst_structure_free(stats);
  }
  return ssrc;
}

bool ViewerBranch::finish_switch() {
  if (!next_ || !next_->gate.active.load()) return false;
  release_input(input_);
  input_ = std::move(next_);
  clock_.switch_point.store(GST_CLOCK_TIME_NONE);
  return true;
}

void ViewerBranch::cancel_switch() {
  // Its probe may be firing right now: once the pads are released, it
  // cannot run again, and `active` lives until then.
  release_input(next_);
  clock_.switch_point.store(GST_CLOCK_TIME_NONE);
  if (input_) input_->gate.outgoing.store(false);
  clock_.outgoing_stopped.store(false);
}

void ViewerBranch::detach() {
  release_input(next_);
  release_input(input_);
  // The door stays the bin's: only the tee's pad goes.
  if (sound_input_ && sound_input_->tee_pad)
    gst_element_release_request_pad(sound_tee_, sound_input_->tee_pad.get());
  sound_input_.reset();
  if (pipeline_) {
    if (webrtcbin_) {
      wait_for_pending_operations(webrtcbin_.get());
      if (uses_turn_) release_turn_allocations(webrtcbin_.get());
    }
    gst_element_set_locked_state(bin_.get(), TRUE);
    gst_element_set_state(bin_.get(), GST_STATE_NULL);
    gst_bin_remove(GST_BIN(pipeline_), bin_.get());
    pipeline_ = nullptr;
  }
}

ViewerBranch::~ViewerBranch() {
  detach();
  if (bin_) gst_element_set_state(bin_.get(), GST_STATE_NULL);
}

bool ViewerBranch::owns(GstObject* object) const {
  return object && bin_ &&
         (object == GST_OBJECT(bin_.get()) ||
          gst_object_has_as_ancestor(object, GST_OBJECT(bin_.get())));
}

}  // namespace cs::streaming
