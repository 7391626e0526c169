#pragma once
// Which rung of the quality ladder a viewer's link carries, from its own
// receiver reports: fraction lost and round-trip time (RFC 3550 RR, with
// LSR/DLSR). Down at once when a report says the link is overloaded, to the
// rung its measured throughput fits; up one rung after a clean spell, a
// probe: a probe that overloads the link (a report, or NACKs as soon as
// packets go missing) goes back and waits twice as long
// before the next (up to a cap), so a narrow link is probed rarely and a
// link that widens is climbed within seconds. Pure: any thread, no clock.
#include <cstdint>
#include <vector>

namespace cs::streaming {

class RungController {
 public:
  struct Settings {
    double overload_loss = 0.10;          // one report at or above: overloaded
    double repeated_loss = 0.04;          // two reports in a row at or above: overloaded
    double clean_loss = 0.02;             // below, and RTT normal: a clean report
    double rtt_rise_ms = 80;              // RTT above the path's lowest by this (or 2x): queueing
    std::int64_t settle_ms = 1000;        // reports this soon after a move describe the old rung
    std::int64_t up_hold_ms = 4000;       // clean spell before a probe up
    std::int64_t max_up_hold_ms = 8000;   // after failed probes
    std::int64_t probe_window_ms = 5000;  // an overload this soon after a probe fails it
    double fit = 0.85;                    // a rung fits when its bitrate is below fit x throughput
    unsigned probe_nacks = 3;             // NACKs within a probe window that fail it
  };

  // `kbps`: the ladder's bitrates, top first.
  explicit RungController(std::vector<int> kbps);
  RungController(std::vector<int> kbps, Settings settings);

  // A new receiver report: `rtt_ms` < 0 when it carries none.
  void on_report(std::int64_t now_ms, double fraction_lost, double rtt_ms);
  // NACKs arrived since the last call (they come as soon as packets go
  // missing): during a probe, enough of them fail it at once, before the
  // next receiver report, so that a probe of a narrow link costs little.
  void on_nacks(std::int64_t now_ms, unsigned count);
  // Time passing (for the clean spell that leads to a probe).
  void on_tick(std::int64_t now_ms);
  // The viewer now receives `rung` (its switch happened).
  void on_moved(std::int64_t now_ms, int rung);

  int rung() const { return rung_; }      // what the viewer receives
  int wanted() const { return wanted_; }  // where it should be
  std::int64_t up_hold_ms(int target) const { return up_hold_[static_cast<std::size_t>(target)]; }

 private:
  bool overloaded(double fraction_lost, double rtt_ms) const;
  bool probing(std::int64_t now_ms) const;
  bool slow(double rtt_ms) const;
  void fail_probe();
  int rung_for_throughput(double kbps) const;

  std::vector<int> kbps_;
  Settings settings_;
  std::vector<std::int64_t> up_hold_;  // per target rung
  int rung_ = 0;
  int wanted_ = 0;
  std::int64_t moved_at_ms_ = -1;
  bool last_move_was_probe_ = false;
  std::int64_t clean_since_ms_ = -1;
  bool last_report_lossy_ = false;
  bool last_report_slow_ = false;  // RTT risen: two in a row are a signal
  unsigned probe_nacks_ = 0;
  double min_rtt_ms_ = -1;
};

}  // namespace cs::streaming
