#include "cs/streaming/recorder.hpp"

#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <ctime>
#include <mutex>

#include "cs/log.hpp"
#include "cs/streaming/viewer_branch.hpp"

namespace cs::streaming {

struct Recorder::Shared {
  std::string path;
  bool segmented = false;
  // Frames that refer to ones the file does not have are dropped until the
  // next keyframe: at the start, and after the queue dropped frames.
  std::atomic<bool> awaiting_keyframe{true};
  std::atomic<bool> started{false};
  std::mutex mutex;
  std::condition_variable finished;
  bool stopping = false;     // the EOS stop() sent, not a segment's
  bool eos_at_sink = false;  // it reached the file sink: every byte is written
};

namespace {

// mp4mux writes a fragment (moof + mdat) every this many ms: what a kill -9
// loses at most, besides what waits in the queue.
constexpr guint kFragmentMs = 500;
// A disk that stalls this long makes the recording drop frames, never the
// viewers (the queue is leaky).
constexpr guint64 kQueueNs = 3 * GST_SECOND;
// See Recorder::split().
constexpr GstClockTime kSplitLeadNs = 300 * GST_MSECOND;

GstPadProbeReturn gate_until_keyframe(GstPad*, GstPadProbeInfo* info, gpointer data) {
  auto& shared = *static_cast<Recorder::Shared*>(data);
  const bool delta =
      GST_BUFFER_FLAG_IS_SET(GST_PAD_PROBE_INFO_BUFFER(info), GST_BUFFER_FLAG_DELTA_UNIT);
  if (!shared.awaiting_keyframe.load(std::memory_order_relaxed)) return GST_PAD_PROBE_OK;
  if (delta) return GST_PAD_PROBE_DROP;
  shared.awaiting_keyframe.store(false, std::memory_order_relaxed);
  // A segmented recording names its first file in on_format_location.
  if (!shared.started.exchange(true) && !shared.segmented)
    log::info("recording: started ", shared.path);
  return GST_PAD_PROBE_OK;
}

void on_overrun(GstElement*, gpointer data) {
  auto& shared = *static_cast<Recorder::Shared*>(data);
  if (shared.started.load() && !shared.awaiting_keyframe.exchange(true))
    log::warn("recording: the disk is behind; frames dropped until the next keyframe");
}

// When `first` (a segment's first frame) was captured, in UTC seconds: the
// segment opens a GOP later than that (splitmuxsink collects whole GOPs).
std::time_t captured_utc(GstElement* element, GstSample* first) {
  const gint64 now_us = g_get_real_time();
  GstBuffer* buffer = first ? gst_sample_get_buffer(first) : nullptr;
  const GstSegment* segment = first ? gst_sample_get_segment(first) : nullptr;
  auto clock = GRef<GstClock>::adopt(gst_element_get_clock(element));
  gint64 captured_us = now_us;
  if (buffer && segment && clock && GST_BUFFER_PTS_IS_VALID(buffer)) {
    const GstClockTime captured =
        gst_segment_to_running_time(segment, GST_FORMAT_TIME, GST_BUFFER_PTS(buffer));
    const GstClockTime running =
        gst_clock_get_time(clock.get()) - gst_element_get_base_time(element);
    if (GST_CLOCK_TIME_IS_VALID(captured) && captured <= running)
      captured_us -= static_cast<gint64>((running - captured) / GST_USECOND);
  }
  return static_cast<std::time_t>(captured_us / G_USEC_PER_SEC);
}

// splitmuxsink's streaming thread, as each segment opens.
gchar* on_format_location(GstElement* splitter, guint fragment_id, GstSample* first,
                          gpointer data) {
  auto& shared = *static_cast<Recorder::Shared*>(data);
  const std::time_t now = captured_utc(splitter, first);
  std::string name;
  unsigned n = 0;
  do {
    name = segment_path(shared.path, now, n++);
  } while (access(name.c_str(), F_OK) == 0);
  log::info(fragment_id == 0 ? "recording: started " : "recording: new segment ", name);
  return g_strdup(name.c_str());
}

GstPadProbeReturn watch_final_eos(GstPad*, GstPadProbeInfo* info, gpointer data) {
  if (GST_EVENT_TYPE(GST_PAD_PROBE_INFO_EVENT(info)) != GST_EVENT_EOS) return GST_PAD_PROBE_OK;
  auto& shared = *static_cast<Recorder::Shared*>(data);
  std::lock_guard lock(shared.mutex);
  if (shared.stopping) {
    shared.eos_at_sink = true;
    shared.finished.notify_all();
  }
  return GST_PAD_PROBE_OK;
}

}  // namespace

Recorder::Result Recorder::start(VideoPipeline& pipeline, const RecorderSettings& settings,
                                 std::function<void()> on_stopped) {
  std::unique_ptr<Recorder> recorder(new Recorder(pipeline));
  recorder->on_stopped_ = std::move(on_stopped);
  if (auto error = recorder->build(settings); !error.empty()) {
    recorder->detach();
    return {nullptr, error};
  }
  // The file starts at a keyframe: the next periodic one, or this one.
  pipeline.request_keyframe();
  return {std::move(recorder), {}};
}

std::string Recorder::build(const RecorderSettings& settings) {
  const auto container = record_container_for(settings.path);
  if (!container) return "cannot tell the container from " + settings.path;
  shared_ = std::make_unique<Shared>();
  shared_->path = settings.path;
  shared_->segmented = settings.segment_seconds > 0;

  auto bin_ref = ElementRef::ref_sink(gst_bin_new("recorder"));
  auto queue = make_element("queue", "recorder-queue");
  auto parse = make_element("h264parse", "recorder-parse");
  auto muxer = make_element(
      *container == RecordContainer::fragmented_mp4 ? "mp4mux" : "matroskamux", "recorder-mux");
  file_sink_ = make_element("filesink", "recorder-file");
  ElementRef splitter;
  if (shared_->segmented) splitter = make_element("splitmuxsink", "recorder-segments");
  if (!bin_ref || !queue || !parse || !muxer || !file_sink_ || (shared_->segmented && !splitter))
    return "cannot create the recorder's elements";

  g_object_set(queue.get(), "max-size-buffers", 0u, "max-size-bytes", 0u, "max-size-time", kQueueNs,
               nullptr);
  gst_util_set_object_arg(G_OBJECT(queue.get()), "leaky", "downstream");
  if (*container == RecordContainer::fragmented_mp4)
    g_object_set(muxer.get(), "fragment-duration", kFragmentMs, nullptr);
  // Unbuffered: what the muxer has written is in the kernel's hands when the
  // process dies. sync/async off: a file sink has no reason to wait for the
  // clock or to hold the live pipeline's state changes.
  g_object_set(file_sink_.get(), "sync", FALSE, "async", FALSE, nullptr);
  gst_util_set_object_arg(G_OBJECT(file_sink_.get()), "buffer-mode", "unbuffered");

  GstBin* bin = GST_BIN(bin_ref.get());
  gst_bin_add_many(bin, queue.get(), parse.get(), nullptr);
  bool linked = gst_element_link(queue.get(), parse.get());
  if (shared_->segmented) {
    // Splits come from split_timer_, not max-size-time: splitmuxsink 1.22
    // splits *before* a GOP that would pass the limit, so with the periodic
    // keyframes drifting against its own requests 3 s segments came out
    // 2, 3, 2 s long (measured). A keyframe asked for at each tick starts
    // the next file there instead.
    g_object_set(splitter.get(), "muxer", muxer.get(), "sink", file_sink_.get(), nullptr);
    g_signal_connect(splitter.get(), "format-location-full", G_CALLBACK(on_format_location),
                     shared_.get());
    gst_bin_add(bin, splitter.get());
    linked = linked && gst_element_link_pads(parse.get(), "src", splitter.get(), "video");
  } else {
    if (access(settings.path.c_str(), F_OK) == 0)
      log::warn("recording: ", settings.path, " exists and is replaced");
    g_object_set(file_sink_.get(), "location", settings.path.c_str(), nullptr);
    gst_bin_add_many(bin, muxer.get(), file_sink_.get(), nullptr);
    linked = linked && gst_element_link_many(parse.get(), muxer.get(), file_sink_.get(), nullptr);
  }
  if (!linked) return "cannot link the recorder's elements";

  auto queue_src = PadRef::adopt(gst_element_get_static_pad(queue.get(), "src"));
  gst_pad_add_probe(queue_src.get(), GST_PAD_PROBE_TYPE_BUFFER, gate_until_keyframe, shared_.get(),
                    nullptr);
  g_signal_connect(queue.get(), "overrun", G_CALLBACK(on_overrun), shared_.get());
  auto file_in = PadRef::adopt(gst_element_get_static_pad(file_sink_.get(), "sink"));
  gst_pad_add_probe(file_in.get(), GST_PAD_PROBE_TYPE_EVENT_DOWNSTREAM, watch_final_eos,
                    shared_.get(), nullptr);
  auto queue_sink = PadRef::adopt(gst_element_get_static_pad(queue.get(), "sink"));
  gst_element_add_pad(bin_ref.get(), make_shielded_sink(queue_sink.get()));
  if (auto error = tap_.attach(std::move(bin_ref), "the recorder"); !error.empty()) return error;
  if (splitter) {
    splitter_ = std::move(splitter);
    split_timer_ = g_timeout_add(
        static_cast<guint>(settings.segment_seconds) * 1000,
        [](gpointer self) -> gboolean {
          static_cast<Recorder*>(self)->split();
          return G_SOURCE_CONTINUE;
        },
        this);
  }
  return {};
}

void Recorder::split() {
  GstElement* pipeline = pipeline_.pipeline();
  auto clock = GRef<GstClock>::adopt(gst_element_get_clock(pipeline));
  if (!clock) return;
  const GstClockTime now = gst_clock_get_time(clock.get()) - gst_element_get_base_time(pipeline);
  // The first keyframe from kSplitLeadNs ago on starts the next file, and
  // one is asked for now. The lead covers the frame the encoder turns into
  // that keyframe having been captured a little before now, and a periodic
  // keyframe just before now, which makes the encoder's throttle
  // (min-force-key-unit-interval) hold the one asked for: either way the
  // split waited for the next periodic keyframe (4 s segments of 3 seen).
  const GstClockTime at = now > kSplitLeadNs ? now - kSplitLeadNs : 0;
  g_signal_emit_by_name(splitter_.get(), "split-at-running-time", static_cast<guint64>(at));
  pipeline_.request_keyframe();
}

Recorder::Recorder(VideoPipeline& pipeline) : pipeline_(pipeline), tap_(pipeline) {}

Recorder::~Recorder() {
  detach();
}

bool Recorder::on_error(GstObject* source, const std::string& message) {
  if (!tap_.owns(source)) return false;
  // One failure can post several errors (the sink's, then the queue's
  // "streaming stopped"); the first ends the recording.
  if (!tap_.attached()) {
    log::debug("recording: after it stopped: ", GST_OBJECT_NAME(source), ": ", message);
    return true;
  }
  log::error("recording: stopped (", GST_OBJECT_NAME(source), ": ", message,
             "); streaming goes on");
  detach();
  if (on_stopped_) on_stopped_();
  return true;
}

void Recorder::stop(const std::string& why, int wait_ms) {
  if (!tap_.attached()) return;
  // No frame after the EOS.
  tap_.unlink();
  {
    std::lock_guard lock(shared_->mutex);
    shared_->stopping = true;
  }
  auto sink = PadRef::adopt(gst_element_get_static_pad(tap_.bin(), "sink"));
  // The muxer writes its last fragment and index on EOS, then passes it on.
  const bool sent = sink && gst_pad_send_event(sink.get(), gst_event_new_eos());
  bool finished = false;
  if (sent) {
    std::unique_lock lock(shared_->mutex);
    finished = shared_->finished.wait_for(lock, std::chrono::milliseconds(wait_ms),
                                          [this] { return shared_->eos_at_sink; });
  }
  detach();
  if (finished)
    log::info("recording: stopped (", why, ")");
  else
    log::warn("recording: stopped (", why, "); the muxer did not finish within ", wait_ms,
              " ms: the file ends at its last complete fragment");
}

void Recorder::detach() {
  if (split_timer_) g_source_remove(split_timer_);
  split_timer_ = 0;
  tap_.detach();
}

}  // namespace cs::streaming
