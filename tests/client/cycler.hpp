#pragma once
// Cycle: many complete viewers, one after another on `--concurrent` lanes.
// Each connects, negotiates, watches until it has received `--watch`
// seconds of video (first to last frame), then leaves politely (peer to
// NULL, close frame) and the next one starts on its lane, `--churn-count`
// in all. The leak test (tests/e2e/churn.sh) drives the server with it: a
// viewer that gets no video within kViewerDeadlineMs is a failure, not a
// retry, so the JSON line says exactly how many were really served.
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "client.hpp"
#include "options.hpp"
#include "raii.hpp"
#include "viewer.hpp"

namespace cstest {

class Cycler : public Client {
 public:
  Cycler(int id, const Options& options);
  void start() override;
  void shutdown() override;
  bool done() const override { return finished_; }
  bool closed() const override;
  bool connected() const override { return opened_ > 0; }
  nlohmann::json report() const override;

 private:
  struct Lane {
    std::unique_ptr<Viewer> viewer;
    int number = -1;              // which of the churn-count viewers
    std::int64_t started_ms = 0;  // steady clock
    std::int64_t leaving_ms = 0;  // when shutdown() was called; 0 = watching
    bool watched = false;         // got `--watch` seconds of video
  };

  static gboolean on_tick(gpointer self);
  void tick();
  void start_viewer(Lane& lane);
  void check_watching(Lane& lane, std::int64_t now);
  void finish_viewer(Lane& lane);

  int id_;
  Options options_;  // a copy: each Viewer keeps a reference to it
  std::vector<Lane> lanes_;
  SourceId tick_;
  int started_ = 0;
  int finished_viewers_ = 0;
  int opened_ = 0;
  int with_frames_ = 0;
  int watched_ = 0;
  int not_increasing_ = 0;              // anywhere, the first frames included
  int not_increasing_after_start_ = 0;  // after FrameStats' start frames
  int timecode_failures_ = 0;
  std::vector<std::uint64_t> frames_;      // per finished viewer
  std::vector<std::int64_t> first_frame_;  // ms from its start, viewers with frames
  std::vector<std::int64_t> lifetime_;     // ms from its start to its socket closed
  std::vector<std::string> errors_;        // first few, prefixed with the viewer number
  std::uint64_t error_count_ = 0;
  std::vector<std::string> decreases_;  // first few viewers whose frame numbers went back
  bool finished_ = false;
  bool stopping_ = false;
};

}  // namespace cstest
