#include "cs/streaming/rtp_forward.hpp"

#include "cs/log.hpp"
#include "cs/streaming/viewer_branch.hpp"

namespace cs::streaming {
namespace {

// A forward that stalls (it never should: udpsink does not block) drops
// frames at its queue, never the viewers'.
constexpr guint64 kQueueNs = 500 * GST_MSECOND;
// Below most paths' MTU, as the viewers' payloaders.
constexpr guint kMtu = 1200;
constexpr guint kPayloadType = 96;
// A sender report a second (rtpsession's default is 5 s): a restarted Janus
// learns where to send its PLIs within a second of coming back.
constexpr guint64 kRtcpIntervalNs = GST_SECOND;

void count_buffer(ForwardCounters* counters, GstBuffer* buffer) {
  counters->packets.fetch_add(1, std::memory_order_relaxed);
  counters->bytes.fetch_add(gst_buffer_get_size(buffer), std::memory_order_relaxed);
}

GstPadProbeReturn count_sent(GstPad*, GstPadProbeInfo* info, gpointer data) {
  auto* counters = static_cast<ForwardCounters*>(data);
  if (GST_PAD_PROBE_INFO_TYPE(info) & GST_PAD_PROBE_TYPE_BUFFER) {
    count_buffer(counters, GST_PAD_PROBE_INFO_BUFFER(info));
  } else if (GST_PAD_PROBE_INFO_TYPE(info) & GST_PAD_PROBE_TYPE_BUFFER_LIST) {
    GstBufferList* list = GST_PAD_PROBE_INFO_BUFFER_LIST(info);
    for (guint i = 0; i < gst_buffer_list_length(list); ++i)
      count_buffer(counters, gst_buffer_list_get(list, i));
  }
  return GST_PAD_PROBE_OK;
}

GstPadProbeReturn count_rtcp_in(GstPad*, GstPadProbeInfo*, gpointer data) {
  static_cast<ForwardCounters*>(data)->rtcp_received.fetch_add(1, std::memory_order_relaxed);
  return GST_PAD_PROBE_OK;
}

// RTPSession::on-feedback-rtcp, on the session's thread.
void on_feedback(GObject*, guint type, guint fbtype, guint, guint, GstBuffer*, gpointer data) {
  constexpr guint kPsfb = 206;         // RFC 4585 payload-specific feedback
  constexpr guint kPli = 1, kFir = 4;  // its message types
  if (type == kPsfb && (fbtype == kPli || fbtype == kFir))
    static_cast<ForwardCounters*>(data)->plis_received.fetch_add(1, std::memory_order_relaxed);
}

// The first address `host` names (a literal is its own), or null.
GRef<GInetAddress> resolve(const std::string& host, std::string& error) {
  if (GInetAddress* literal = g_inet_address_new_from_string(host.c_str()))
    return GRef<GInetAddress>::adopt(literal);
  auto resolver = GRef<GResolver>::adopt(g_resolver_get_default());
  GError* raw = nullptr;
  GList* addresses = g_resolver_lookup_by_name(resolver.get(), host.c_str(), nullptr, &raw);
  if (!addresses) {
    error = "cannot resolve " + host + ": " + (raw ? raw->message : "no address");
    if (raw) g_error_free(raw);
    return {};
  }
  auto first = GRef<GInetAddress>::ref_sink(G_INET_ADDRESS(addresses->data));
  g_resolver_free_addresses(addresses);
  return first;
}

}  // namespace

RtpForward::RtpForward(VideoPipeline& pipeline, const RtpTarget& target, ForwardCounters* counters)
    : target_(target), counters_(counters), tap_(pipeline) {
  const bool v6 = target.host.find(':') != std::string::npos;
  name_ = (v6 ? "[" + target.host + "]" : target.host) + ":" + std::to_string(target.port);
}

RtpForward::Result RtpForward::start(VideoPipeline& pipeline, const RtpTarget& target,
                                     ForwardCounters* counters) {
  std::unique_ptr<RtpForward> forward(new RtpForward(pipeline, target, counters));
  if (auto error = forward->build(); !error.empty()) {
    forward->tap_.detach();
    return {nullptr, error};
  }
  // Janus shows a viewer nothing before a keyframe with SPS/PPS.
  pipeline.request_keyframe();
  log::info("forward: RTP to ", forward->name_, ", RTCP to and from port ", target.port + 1,
            " (H.264 pt ", kPayloadType, ")");
  return {std::move(forward), {}};
}

std::string RtpForward::build() {
  std::string error;
  auto address = resolve(target_.host, error);
  if (!address) return error;
  const GSocketFamily family = g_inet_address_get_family(address.get());
  // The RTCP socket: bound once, to any address of the target's family and a
  // port the system picks; RTCP leaves from it and Janus' PLIs come back to it.
  GError* raw = nullptr;
  rtcp_socket_ = GRef<GSocket>::adopt(
      g_socket_new(family, G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_UDP, &raw));
  if (rtcp_socket_) {
    auto any = GRef<GInetAddress>::adopt(g_inet_address_new_any(family));
    auto local = GRef<GSocketAddress>::adopt(g_inet_socket_address_new(any.get(), 0));
    if (!g_socket_bind(rtcp_socket_.get(), local.get(), FALSE, &raw)) rtcp_socket_.reset();
  }
  if (!rtcp_socket_) {
    error = std::string("cannot open the RTCP socket: ") + (raw ? raw->message : "?");
    if (raw) g_error_free(raw);
    return error;
  }

  auto bin = ElementRef::ref_sink(gst_bin_new(("forward-" + name_).c_str()));
  auto queue = make_element("queue");
  auto pay = make_element("rtph264pay");
  auto session = make_element("rtpsession");
  auto rtp_sink = make_element("udpsink");
  auto rtcp_sink = make_element("udpsink");
  auto rtcp_src = make_element("udpsrc");
  auto sync_sink = make_element("fakesink");  // sender reports from Janus: not used
  if (!bin || !queue || !pay || !session || !rtp_sink || !rtcp_sink || !rtcp_src || !sync_sink)
    return "cannot create the forward's elements";

  g_object_set(queue.get(), "max-size-buffers", 0u, "max-size-bytes", 0u, "max-size-time", kQueueNs,
               nullptr);
  gst_util_set_object_arg(G_OBJECT(queue.get()), "leaky", "downstream");
  g_object_set(pay.get(), "config-interval", -1, "pt", kPayloadType, "mtu", kMtu, nullptr);
  g_object_set(session.get(), "rtcp-min-interval", kRtcpIntervalNs, nullptr);
  g_object_set(rtp_sink.get(), "host", target_.host.c_str(), "port", target_.port, "sync", FALSE,
               "async", FALSE, nullptr);
  const char* socket_property = family == G_SOCKET_FAMILY_IPV6 ? "socket-v6" : "socket";
  g_object_set(rtcp_sink.get(), "host", target_.host.c_str(), "port", target_.port + 1,
               socket_property, rtcp_socket_.get(), "close-socket", FALSE, "sync", FALSE, "async",
               FALSE, nullptr);
  auto rtcp_caps =
      std::unique_ptr<GstCaps, CapsDeleter>(gst_caps_new_empty_simple("application/x-rtcp"));
  g_object_set(rtcp_src.get(), "socket", rtcp_socket_.get(), "close-socket", FALSE, "caps",
               rtcp_caps.get(), nullptr);
  g_object_set(sync_sink.get(), "sync", FALSE, "async", FALSE, nullptr);

  gst_bin_add_many(GST_BIN(bin.get()), queue.get(), pay.get(), session.get(), rtp_sink.get(),
                   rtcp_sink.get(), rtcp_src.get(), sync_sink.get(), nullptr);
  bool linked = gst_element_link(queue.get(), pay.get()) &&
                gst_element_link_pads(pay.get(), "src", session.get(), "send_rtp_sink") &&
                gst_element_link_pads(session.get(), "send_rtp_src", rtp_sink.get(), "sink") &&
                gst_element_link_pads(session.get(), "send_rtcp_src", rtcp_sink.get(), "sink") &&
                gst_element_link_pads(rtcp_src.get(), "src", session.get(), "recv_rtcp_sink") &&
                gst_element_link_pads(session.get(), "sync_src", sync_sink.get(), "sink");
  if (!linked) return "cannot link the forward's elements";

  auto sent = PadRef::adopt(gst_element_get_static_pad(rtp_sink.get(), "sink"));
  gst_pad_add_probe(
      sent.get(),
      static_cast<GstPadProbeType>(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST),
      count_sent, counters_, nullptr);
  auto rtcp_in = PadRef::adopt(gst_element_get_static_pad(rtcp_src.get(), "src"));
  gst_pad_add_probe(rtcp_in.get(), GST_PAD_PROBE_TYPE_BUFFER, count_rtcp_in, counters_, nullptr);
  GObject* internal = nullptr;
  g_object_get(session.get(), "internal-session", &internal, nullptr);
  if (!internal) return "the forward's RTP session has no internal session";
  g_signal_connect(internal, "on-feedback-rtcp", G_CALLBACK(on_feedback), counters_);
  g_object_unref(internal);

  auto queue_sink = PadRef::adopt(gst_element_get_static_pad(queue.get(), "sink"));
  gst_element_add_pad(bin.get(), make_shielded_sink(queue_sink.get()));
  return tap_.attach(std::move(bin), "the forward");
}

RtpForward::~RtpForward() {
  tap_.detach();
  if (rtcp_socket_) g_socket_close(rtcp_socket_.get(), nullptr);
}

bool RtpForward::on_error(GstObject* source, const std::string& message) {
  if (!tap_.owns(source)) return false;
  if (!tap_.attached()) {
    log::debug("forward ", name_, ": after it stopped: ", GST_OBJECT_NAME(source), ": ", message);
    return true;
  }
  log::error("forward ", name_, ": stopped (", GST_OBJECT_NAME(source), ": ", message,
             "); streaming goes on");
  tap_.detach();
  return true;
}

void RtpForward::stop(const std::string& why) {
  if (!tap_.attached()) return;
  tap_.detach();
  log::info("forward ", name_, ": stopped (", why, ")");
}

}  // namespace cs::streaming
