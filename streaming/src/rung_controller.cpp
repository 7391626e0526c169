#include "cs/streaming/rung_controller.hpp"

#include <algorithm>

namespace cs::streaming {

RungController::RungController(std::vector<int> kbps) : RungController(std::move(kbps), {}) {}

RungController::RungController(std::vector<int> kbps, Settings settings)
    : kbps_(std::move(kbps)), settings_(settings), up_hold_(kbps_.size(), settings.up_hold_ms) {
  if (kbps_.empty()) kbps_.push_back(0);
}

bool RungController::overloaded(double fraction_lost, double rtt_ms) const {
  if (fraction_lost >= settings_.overload_loss) return true;
  if (fraction_lost >= settings_.repeated_loss && last_report_lossy_) return true;
  // A queue building up at the bottleneck; one slow report can be the
  // sender's or receiver's own scheduling (a loaded machine), two are not.
  return slow(rtt_ms) && last_report_slow_;
}

bool RungController::slow(double rtt_ms) const {
  return rtt_ms >= 0 && min_rtt_ms_ >= 0 &&
         rtt_ms > min_rtt_ms_ + std::max(settings_.rtt_rise_ms, min_rtt_ms_);
}

bool RungController::probing(std::int64_t now_ms) const {
  return last_move_was_probe_ && rung_ == wanted_ &&
         now_ms - moved_at_ms_ < settings_.probe_window_ms;
}

void RungController::fail_probe() {
  auto& hold = up_hold_[static_cast<std::size_t>(rung_)];
  hold = std::min(hold * 2, settings_.max_up_hold_ms);
  wanted_ = rung_ + 1;  // back where it was
}

void RungController::on_nacks(std::int64_t now_ms, unsigned count) {
  if (!probing(now_ms)) return;
  probe_nacks_ += count;
  if (probe_nacks_ >= settings_.probe_nacks) fail_probe();
}

int RungController::rung_for_throughput(double kbps) const {
  for (std::size_t r = 0; r < kbps_.size(); ++r)
    if (kbps_[r] <= settings_.fit * kbps) return static_cast<int>(r);
  return static_cast<int>(kbps_.size()) - 1;
}

void RungController::on_report(std::int64_t now_ms, double fraction_lost, double rtt_ms) {
  const bool settling = moved_at_ms_ >= 0 && now_ms - moved_at_ms_ < settings_.settle_ms;
  const bool bad = !settling && overloaded(fraction_lost, rtt_ms);
  if (rtt_ms >= 0 && (min_rtt_ms_ < 0 || rtt_ms < min_rtt_ms_)) min_rtt_ms_ = rtt_ms;
  const bool lossy = fraction_lost >= settings_.repeated_loss;
  if (!settling) {
    last_report_lossy_ = lossy;
    last_report_slow_ = slow(rtt_ms);
  }
  if (bad || fraction_lost >= settings_.clean_loss || slow(rtt_ms)) {
    clean_since_ms_ = -1;
  } else if (clean_since_ms_ < 0 && !settling) {
    clean_since_ms_ = now_ms;
  }
  if (!bad || rung_ != wanted_ || rung_ + 1 >= static_cast<int>(kbps_.size())) return;
  const bool probe_failed =
      last_move_was_probe_ && now_ms - moved_at_ms_ < settings_.probe_window_ms;
  if (probe_failed) {
    auto& hold = up_hold_[static_cast<std::size_t>(rung_)];
    hold = std::min(hold * 2, settings_.max_up_hold_ms);
    wanted_ = rung_ + 1;  // back where it was
    return;
  }
  // What got through: the rung's bitrate less what was lost (for a delay
  // signal with no loss, one rung down).
  const double throughput = kbps_[static_cast<std::size_t>(rung_)] * (1.0 - fraction_lost);
  wanted_ = std::max(rung_ + 1, fraction_lost > 0 ? rung_for_throughput(throughput) : rung_ + 1);
}

void RungController::on_tick(std::int64_t now_ms) {
  if (rung_ != wanted_ || rung_ == 0 || clean_since_ms_ < 0) return;
  const std::int64_t clean_for = now_ms - std::max(clean_since_ms_, moved_at_ms_);
  if (clean_for >= up_hold_[static_cast<std::size_t>(rung_ - 1)]) wanted_ = rung_ - 1;
}

void RungController::on_moved(std::int64_t now_ms, int rung) {
  // A probe that held through its window earned the rung: the next probe
  // to it (after a later fall) waits the normal time again.
  if (last_move_was_probe_ && moved_at_ms_ >= 0 &&
      now_ms - moved_at_ms_ >= settings_.probe_window_ms)
    up_hold_[static_cast<std::size_t>(rung_)] = settings_.up_hold_ms;
  last_move_was_probe_ = rung < rung_;
  rung_ = wanted_ = rung;
  moved_at_ms_ = now_ms;
  clean_since_ms_ = -1;
  last_report_lossy_ = last_report_slow_ = false;
  probe_nacks_ = 0;
}

}  // namespace cs::streaming
