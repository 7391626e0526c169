#include "cycler.hpp"

#include <algorithm>

#include "frame_stats.hpp"
#include "log.hpp"

namespace cstest {

using nlohmann::json;

namespace {

constexpr guint kTickMs = 20;
// From connecting to having watched: generous, because 2 shared cores run
// the server, 10 viewers and their DTLS handshakes at once.
constexpr std::int64_t kViewerDeadlineMs = 15000;
// From shutdown() to the close handshake done.
constexpr std::int64_t kCloseDeadlineMs = 3000;
constexpr std::size_t kMaxErrors = 20;

template <typename T>
T percentile(std::vector<T> values, double p) {
  if (values.empty()) return T{};
  std::sort(values.begin(), values.end());
  auto index = static_cast<std::size_t>(p * static_cast<double>(values.size() - 1) + 0.5);
  return values[std::min(index, values.size() - 1)];
}

}  // namespace

Cycler::Cycler(int id, const Options& options) : id_(id), options_(options) {
  options_.mode = Mode::Normal;  // each lane's viewer is an ordinary one
  lanes_.resize(static_cast<std::size_t>(std::max(1, options.concurrent)));
}

void Cycler::start() {
  for (auto& lane : lanes_) start_viewer(lane);
  tick_.reset(g_timeout_add(kTickMs, &Cycler::on_tick, this));
}

gboolean Cycler::on_tick(gpointer self) {
  static_cast<Cycler*>(self)->tick();
  return G_SOURCE_CONTINUE;
}

void Cycler::start_viewer(Lane& lane) {
  if (stopping_ || started_ >= options_.churn_count) return;
  lane.number = started_++;
  lane.started_ms = steady_ms();
  lane.leaving_ms = 0;
  lane.watched = false;
  lane.viewer = std::make_unique<Viewer>(lane.number, options_);
  lane.viewer->start();
}

void Cycler::tick() {
  const std::int64_t now = steady_ms();
  bool any = false;
  for (auto& lane : lanes_) {
    if (!lane.viewer) continue;
    any = true;
    if (lane.leaving_ms == 0) {
      check_watching(lane, now);
    } else if (lane.viewer->closed() || now - lane.leaving_ms > kCloseDeadlineMs) {
      finish_viewer(lane);
      start_viewer(lane);
    }
  }
  if (!any && (stopping_ || started_ >= options_.churn_count)) {
    finished_ = true;
    tick_.reset();
    log_info(id_, "cycle finished: " + std::to_string(finished_viewers_) + " viewers");
  }
}

// Leaves once the viewer has `--watch` seconds of video, or gives up on it.
void Cycler::check_watching(Lane& lane, std::int64_t now) {
  const json r = lane.viewer->report();
  const auto span_ms =
      r["last_frame_wall_ms"].get<std::int64_t>() - r["first_frame_wall_ms"].get<std::int64_t>();
  lane.watched = r["frames"].get<std::uint64_t>() > 0 &&
                 span_ms >= static_cast<std::int64_t>(options_.watch_s * 1000);
  if (lane.watched || lane.viewer->done() || now - lane.started_ms > kViewerDeadlineMs) {
    lane.leaving_ms = now;
    lane.viewer->shutdown();
  }
}

void Cycler::finish_viewer(Lane& lane) {
  const json r = lane.viewer->report();
  const std::int64_t now = steady_ms();
  ++finished_viewers_;
  if (r["connected"].get<bool>()) ++opened_;
  const auto frames = r["frames"].get<std::uint64_t>();
  frames_.push_back(frames);
  if (frames > 0) {
    ++with_frames_;
    first_frame_.push_back(r["first_frame_ms"].get<std::int64_t>());
    if (!r["frame_numbers_increasing"].get<bool>()) ++not_increasing_;
    if (!r["frame_numbers_increasing_after_start"].get<bool>()) ++not_increasing_after_start_;
    timecode_failures_ += r["timecode_failures"].get<int>();
  }
  lifetime_.push_back(now - lane.started_ms);
  auto note = [&](const std::string& what) {
    ++error_count_;
    if (errors_.size() < kMaxErrors)
      errors_.push_back("viewer " + std::to_string(lane.number) + ": " + what);
  };
  if (lane.watched)
    ++watched_;
  else
    note("no " + std::to_string(options_.watch_s) + " s of video within " +
         std::to_string(kViewerDeadlineMs) + " ms (" + std::to_string(frames) + " frames)");
  if (!lane.viewer->closed())
    note("socket still open " + std::to_string(kCloseDeadlineMs) + " ms after leaving");
  for (const auto& e : r["errors"]) note(e.get<std::string>());
  if (frames > 0 && !r["frame_numbers_increasing"].get<bool>() && decreases_.size() < kMaxErrors)
    decreases_.push_back("viewer " + std::to_string(lane.number) +
                         ": frame numbers not increasing (" + r["first_frame_number"].dump() +
                         " .. " + r["last_frame_number"].dump() + ", " +
                         r.value("first_decrease", std::string()) + ")");
  lane.viewer.reset();
}

void Cycler::shutdown() {
  stopping_ = true;
  tick_.reset();
  for (auto& lane : lanes_)
    if (lane.viewer && lane.leaving_ms == 0) {
      lane.leaving_ms = steady_ms();
      lane.viewer->shutdown();
    }
}

bool Cycler::closed() const {
  for (const auto& lane : lanes_)
    if (lane.viewer && !lane.viewer->closed()) return false;
  return true;
}

json Cycler::report() const {
  // Viewers still on a lane (the run was cut short) count as not served.
  int unfinished = 0;
  for (const auto& lane : lanes_)
    if (lane.viewer) ++unfinished;
  return json{
      {"viewer", id_},
      {"mode", "cycle"},
      {"connected", opened_ > 0},
      {"requested", options_.churn_count},
      {"concurrent", lanes_.size()},
      {"watch_s", options_.watch_s},
      {"started", started_},
      {"finished", finished_viewers_},
      {"unfinished", unfinished},
      {"opened", opened_},
      {"with_frames", with_frames_},
      {"watched", watched_},
      {"frames_min", frames_.empty() ? 0 : *std::min_element(frames_.begin(), frames_.end())},
      {"frames_p50", percentile(frames_, 0.5)},
      {"first_frame_ms_p50", percentile(first_frame_, 0.5)},
      {"first_frame_ms_max", percentile(first_frame_, 1.0)},
      {"lifetime_ms_p50", percentile(lifetime_, 0.5)},
      {"lifetime_ms_max", percentile(lifetime_, 1.0)},
      {"not_increasing", not_increasing_},
      {"not_increasing_after_start", not_increasing_after_start_},
      {"timecode_failures", timecode_failures_},
      {"decreases", decreases_},
      {"error_count", error_count_},
      {"errors", errors_}};
}

}  // namespace cstest
