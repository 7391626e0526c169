#include "cs/streaming/sound_track.hpp"

#include <gst/app/gstappsrc.h>

#include <ctime>
#include <vector>

#include "cs/faults.hpp"
#include "cs/log.hpp"
#include "cs/streaming/video_pipeline.hpp"

namespace cs::streaming {
namespace {

constexpr int kBlockSamples = SoundTrack::kSampleRate * SoundTrack::kFrameMs / 1000;
constexpr std::int64_t kBlockNs = std::int64_t{SoundTrack::kFrameMs} * 1'000'000;
// A block is made this long after its end: the render thread tells the
// sound of a frame right after sampling the frame's time, and a click told
// after its block was made would sound late.
constexpr std::int64_t kMarginNs = 2'000'000;
// Further behind than this (a stalled thread), the sound skips ahead.
constexpr std::int64_t kMaxBehindNs = 200'000'000;

std::int64_t monotonic_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return std::int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

void sleep_until(std::int64_t ns) {
  timespec ts{static_cast<time_t>(ns / 1'000'000'000), static_cast<long>(ns % 1'000'000'000)};
  while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) == EINTR) {
  }
}

GstPadProbeReturn count_encoded(GstPad*, GstPadProbeInfo* info, gpointer data) {
  auto* times = static_cast<SoundTimes*>(data);
  times->frames.fetch_add(1, std::memory_order_relaxed);
  times->bytes.fetch_add(gst_buffer_get_size(GST_PAD_PROBE_INFO_BUFFER(info)),
                         std::memory_order_relaxed);
  return GST_PAD_PROBE_OK;
}

}  // namespace

SoundTrack::Result SoundTrack::create(GstElement* pipeline, Fill fill) {
  std::unique_ptr<SoundTrack> track(new SoundTrack(pipeline, std::move(fill)));
  if (auto error = track->build(); !error.empty()) return {nullptr, error};
  return {std::move(track), {}};
}

std::string SoundTrack::build() {
  appsrc_ = make_element("appsrc", "sound-src");
  encoder_ = make_element("opusenc", "sound-encoder");
  tee_ = make_element("tee", "sound-tee");
  if (!appsrc_ || !encoder_ || !tee_) return "cannot create the sound's appsrc, opusenc and tee";
  std::unique_ptr<GstCaps, CapsDeleter> caps(gst_caps_new_simple(
      "audio/x-raw", "format", G_TYPE_STRING, "S16LE", "rate", G_TYPE_INT, kSampleRate, "channels",
      G_TYPE_INT, 1, "layout", G_TYPE_STRING, "interleaved", nullptr));
  // Live, timestamped here, and never holding more than 100 ms: a stalled
  // encoder loses sound, it does not queue it up as latency.
  g_object_set(appsrc_.get(), "caps", caps.get(), "is-live", TRUE, "format", GST_FORMAT_TIME,
               "do-timestamp", FALSE, "max-bytes", static_cast<guint64>(10 * kBlockSamples * 2),
               "block", FALSE, nullptr);
  gst_util_set_object_arg(G_OBJECT(appsrc_.get()), "leaky-type", "downstream");
  // CELT only (restricted-lowdelay): 2.5 ms of look-ahead instead of 6.5;
  // constant bitrate, no DTX: the tone never stops long enough to matter.
  g_object_set(encoder_.get(), "bitrate", kBitrate, nullptr);
  gst_util_set_object_arg(G_OBJECT(encoder_.get()), "audio-type", "restricted-lowdelay");
  gst_util_set_object_arg(G_OBJECT(encoder_.get()), "frame-size", "10");
  gst_util_set_object_arg(G_OBJECT(encoder_.get()), "bitrate-type", "cbr");
  g_object_set(tee_.get(), "allow-not-linked", TRUE, nullptr);
  gst_bin_add_many(GST_BIN(pipeline_), appsrc_.get(), encoder_.get(), tee_.get(), nullptr);
  if (!gst_element_link_many(appsrc_.get(), encoder_.get(), tee_.get(), nullptr)) {
    // Out of the pipeline again: the video runs on without them.
    gst_bin_remove_many(GST_BIN(pipeline_), appsrc_.get(), encoder_.get(), tee_.get(), nullptr);
    return "cannot link the sound's appsrc, opusenc and tee";
  }
  // A failing appsrc or encoder ends its stream with EOS; through the
  // bundled RTP session it would end every viewer's video too (a BYE).
  auto to_tee = PadRef::adopt(gst_element_get_static_pad(tee_.get(), "sink"));
  drop_eos_on(to_tee.get());
  measure_element(encoder_.get(), &encode_started_ns_, &times_.encode_ms, nullptr);
  auto src = PadRef::adopt(gst_element_get_static_pad(encoder_.get(), "src"));
  gst_pad_add_probe(src.get(), GST_PAD_PROBE_TYPE_BUFFER, count_encoded, &times_, nullptr);
  return {};
}

// The probes above point into this object: its elements stop streaming
// before it goes, even while the pipeline still plays (an early exit).
SoundTrack::~SoundTrack() {
  stop();
  for (ElementRef* e : {&appsrc_, &encoder_, &tee_}) {
    if (!*e) continue;
    gst_element_set_locked_state(e->get(), TRUE);
    gst_element_set_state(e->get(), GST_STATE_NULL);
  }
}

void SoundTrack::start() {
  if (running_.exchange(true)) return;
  thread_ = std::thread([this] { pace(); });
}

void SoundTrack::stop() {
  stopped_.store(true);
  running_.store(false);
  if (thread_.joinable()) thread_.join();
}

bool SoundTrack::owns(GstObject* object) const {
  for (const ElementRef* e : {&appsrc_, &encoder_, &tee_})
    if (*e && (object == GST_OBJECT(e->get()) ||
               gst_object_has_as_ancestor(object, GST_OBJECT(e->get()))))
      return true;
  return false;
}

void SoundTrack::pace() {
  std::int64_t start = monotonic_ns();
  bool discont = true;
  while (running_.load(std::memory_order_relaxed)) {
    sleep_until(start + kBlockNs + kMarginNs);
    const std::int64_t now = monotonic_ns();
    if (!active_.load(std::memory_order_relaxed)) {
      start = now - kMarginNs;
      discont = true;
      continue;
    }
    // The newest block that is due now: anything older than kMaxBehindNs
    // before it is not made at all.
    const std::int64_t due = now - kBlockNs - kMarginNs;
    if (due - start > kMaxBehindNs) {
      times_.skipped.fetch_add(static_cast<std::uint64_t>((due - start) / kBlockNs),
                               std::memory_order_relaxed);
      start += (due - start) / kBlockNs * kBlockNs;
      discont = true;
    }
    discont = !push_block(start, discont);
    start += kBlockNs;
    if (faults::fire_once("sound-error", ++blocks_)) fail_for_test();
  }
}

// What a source that cannot go on does (basesrc after a fatal flow error):
// an error on the bus, then EOS down its stream.
void SoundTrack::fail_for_test() {
  GST_ELEMENT_ERROR(encoder_.get(), STREAM, ENCODE, ("test fault sound-error"), (nullptr));
  gst_app_src_end_of_stream(GST_APP_SRC(appsrc_.get()));
}

// Pacing thread: appsrc's push is thread-safe; the base time is read, not set.
bool SoundTrack::push_block(std::int64_t start_ns, bool discont) {
  const GstClockTime base = gst_element_get_base_time(pipeline_);
  GstState state = GST_STATE_NULL;
  // The state is read without waiting: a pipeline not (yet) playing refuses.
  gst_element_get_state(appsrc_.get(), &state, nullptr, 0);
  if (state != GST_STATE_PLAYING || static_cast<GstClockTime>(start_ns) < base) {
    times_.refused.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  GstBuffer* buffer = gst_buffer_new_allocate(nullptr, kBlockSamples * 2, nullptr);
  GstMapInfo map;
  if (!buffer || !gst_buffer_map(buffer, &map, GST_MAP_WRITE)) {
    if (buffer) gst_buffer_unref(buffer);
    times_.refused.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  fill_(start_ns, {reinterpret_cast<std::int16_t*>(map.data), kBlockSamples});
  gst_buffer_unmap(buffer, &map);
  GST_BUFFER_PTS(buffer) = static_cast<GstClockTime>(start_ns) - base;
  GST_BUFFER_DURATION(buffer) = kBlockNs;
  if (discont) GST_BUFFER_FLAG_SET(buffer, GST_BUFFER_FLAG_DISCONT);
  if (gst_app_src_push_buffer(GST_APP_SRC(appsrc_.get()), buffer) != GST_FLOW_OK) {
    times_.refused.fetch_add(1, std::memory_order_relaxed);
    return false;
  }
  return true;
}

}  // namespace cs::streaming
