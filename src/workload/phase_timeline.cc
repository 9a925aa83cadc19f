#include "workload/phase_timeline.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace firstwall::workload {

PhaseTimeline::PhaseTimeline(std::vector<Phase> phases, SimTime start, SimTime end)
    : phases_(std::move(phases)), start_(start), end_(end) {
  for (const Phase& p : phases_) {
    phase_s_.push_back(units::ToSeconds(p.duration));
    step_s_ += phase_s_.back();
  }
  FW_CHECK(step_s_ > 0, "a step must take time");
}

double PhaseTimeline::Cumulative(const std::vector<double>& per_phase, double elapsed) const {
  if (elapsed <= 0) return 0;
  double per_step = 0;
  for (size_t i = 0; i < phases_.size(); ++i) per_step += per_phase[i] * phase_s_[i];
  const double whole = std::floor(elapsed / step_s_);
  double rest = elapsed - whole * step_s_;
  double sum = whole * per_step;
  for (size_t i = 0; i < phases_.size() && rest > 0; ++i) {
    const double d = std::min(rest, phase_s_[i]);
    sum += per_phase[i] * d;
    rest -= d;
  }
  return sum;
}

double PhaseTimeline::Integrate(const std::vector<double>& per_phase, SimTime from,
                                SimTime to) const {
  FW_CHECK(per_phase.size() == phases_.size(), "one value per phase");
  const SimTime a = std::max(from, start_), b = std::min(to, end_);
  if (b <= a) return 0;
  return Cumulative(per_phase, (b - start_).seconds()) -
         Cumulative(per_phase, (a - start_).seconds());
}

double PhaseTimeline::RunningSeconds(SimTime from, SimTime to) const {
  const SimTime a = std::max(from, start_), b = std::min(to, end_);
  return b > a ? (b - a).seconds() : 0.0;
}

int64_t PhaseTimeline::StepsCompletedBy(SimTime t) const {
  const SimTime b = std::min(t, end_);
  if (b <= start_) return 0;
  // A hair of tolerance so a step that ends exactly at t counts despite rounding.
  return static_cast<int64_t>(std::floor((b - start_).seconds() / step_s_ + 1e-9));
}

}  // namespace firstwall::workload
