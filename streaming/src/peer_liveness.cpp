#include "cs/streaming/peer_liveness.hpp"

#include "cs/render/render_loop.hpp"
#include "cs/streaming/gst_ref.hpp"

namespace cs::streaming {
namespace {

using render::monotonic_ns;

constexpr const char* kWatched = "cs-peer-liveness-watched";

using Stamp = std::shared_ptr<PeerLiveness::Stamps>;

void delete_stamp(gpointer data) {
  delete static_cast<Stamp*>(data);
}

GstPadProbeReturn stamp_inbound(GstPad*, GstPadProbeInfo*, gpointer data) {
  PeerLiveness::Stamps& stamps = **static_cast<Stamp*>(data);
  const std::int64_t now = monotonic_ns();
  const std::int64_t gap = now - stamps.last_ns.exchange(now, std::memory_order_relaxed);
  // One writer at a time per nicesrc; a lost race only loses a near-equal gap.
  if (gap > stamps.longest_gap_ns.load(std::memory_order_relaxed))
    stamps.longest_gap_ns.store(gap, std::memory_order_relaxed);
  return GST_PAD_PROBE_OK;
}

// May run on whichever thread adds the element; each probe and handler holds
// its own copy of the stamp, so none outlives what it writes to.
void watch(GstElement* element, const Stamp& stamp) {
  if (!made_by(element, "nicesrc")) return;
  if (g_object_get_data(G_OBJECT(element), kWatched)) return;
  g_object_set_data(G_OBJECT(element), kWatched, GINT_TO_POINTER(1));
  auto src = PadRef::adopt(gst_element_get_static_pad(element, "src"));
  if (!src) return;
  gst_pad_add_probe(
      src.get(),
      static_cast<GstPadProbeType>(GST_PAD_PROBE_TYPE_BUFFER | GST_PAD_PROBE_TYPE_BUFFER_LIST),
      stamp_inbound, new Stamp(stamp), delete_stamp);
}

void on_element_added(GstBin*, GstBin*, GstElement* element, gpointer stamp) {
  watch(element, *static_cast<Stamp*>(stamp));
}

}  // namespace

PeerLiveness::PeerLiveness(GstElement* webrtcbin)
    : stamps_(std::make_shared<Stamps>(monotonic_ns())), webrtcbin_(webrtcbin) {
  // webrtcbin makes its transports (and their nicesrc) when a description is
  // set, which may be before or after this point: watch both ways.
  handler_ = g_signal_connect_data(
      webrtcbin_, "deep-element-added", G_CALLBACK(on_element_added), new Stamp(stamps_),
      [](gpointer data, GClosure*) { delete_stamp(data); }, GConnectFlags(0));
  for_each_element(GST_BIN(webrtcbin_), [this](GstElement* e) { watch(e, stamps_); });
}

PeerLiveness::~PeerLiveness() {
  if (handler_) g_signal_handler_disconnect(webrtcbin_, handler_);
}

std::int64_t PeerLiveness::silent_ns() const {
  return monotonic_ns() - stamps_->last_ns.load(std::memory_order_relaxed);
}

std::int64_t PeerLiveness::longest_gap_ns() const {
  return stamps_->longest_gap_ns.load(std::memory_order_relaxed);
}

}  // namespace cs::streaming
