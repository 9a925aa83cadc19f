#include "workload/phase_timeline.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace firstwall::workload {

PhaseTimeline::Segment PhaseTimeline::MakeSegment(SimTime begin, std::vector<Phase> phases,
                                                  bool makes_progress) {
  Segment s;
  s.begin = begin;
  s.makes_progress = makes_progress;
  s.phases = std::move(phases);
  for (const Phase& p : s.phases) {
    s.phase_s.push_back(units::ToSeconds(p.duration));
    s.step_s += s.phase_s.back();
  }
  FW_CHECK(s.step_s > 0, "a step must take time");
  return s;
}

PhaseTimeline::PhaseTimeline(std::vector<Phase> phases, SimTime start, SimTime end)
    : start_(start), end_(end) {
  segments_.push_back(MakeSegment(start, std::move(phases), true));
}

void PhaseTimeline::Rebase(SimTime at, std::vector<Phase> phases, bool makes_progress) {
  FW_CHECK(at >= segments_.back().begin, "rebase must move forward in time");
  if (at <= segments_.back().begin) {
    segments_.back() = MakeSegment(at, std::move(phases), makes_progress);
    return;
  }
  segments_.push_back(MakeSegment(std::max(at, start_), std::move(phases), makes_progress));
}

SimTime PhaseTimeline::SegmentEnd(size_t i) const {
  return i + 1 < segments_.size() ? segments_[i + 1].begin : end_;
}

double PhaseTimeline::Cumulative(const Segment& seg, const std::vector<double>& per_phase,
                                 double elapsed) {
  if (elapsed <= 0) return 0;
  double per_step = 0;
  for (size_t i = 0; i < seg.phases.size(); ++i) per_step += per_phase[i] * seg.phase_s[i];
  const double whole = std::floor(elapsed / seg.step_s);
  double rest = elapsed - whole * seg.step_s;
  double sum = whole * per_step;
  for (size_t i = 0; i < seg.phases.size() && rest > 0; ++i) {
    const double d = std::min(rest, seg.phase_s[i]);
    sum += per_phase[i] * d;
    rest -= d;
  }
  return sum;
}

double PhaseTimeline::Integrate(const std::vector<std::vector<double>>& per_phase, SimTime from,
                                SimTime to) const {
  FW_CHECK(per_phase.size() >= segments_.size(), "values for every segment");
  double sum = 0;
  for (size_t i = 0; i < segments_.size(); ++i) {
    const Segment& seg = segments_[i];
    FW_CHECK(per_phase[i].size() == seg.phases.size(), "one value per phase");
    const SimTime a = std::max(from, seg.begin), b = std::min(to, SegmentEnd(i));
    if (b <= a) continue;
    sum += Cumulative(seg, per_phase[i], (b - seg.begin).seconds()) -
           Cumulative(seg, per_phase[i], (a - seg.begin).seconds());
  }
  return sum;
}

double PhaseTimeline::RunningSeconds(SimTime from, SimTime to) const {
  const SimTime a = std::max(from, start_), b = std::min(to, end_);
  return b > a ? (b - a).seconds() : 0.0;
}

int64_t PhaseTimeline::StepsCompletedBy(SimTime t) const {
  int64_t steps = 0;
  for (size_t i = 0; i < segments_.size(); ++i) {
    const SimTime b = std::min(t, SegmentEnd(i));
    if (b <= segments_[i].begin || !segments_[i].makes_progress) continue;
    // A hair of tolerance so a step that ends exactly at a boundary counts despite rounding.
    steps += static_cast<int64_t>(
        std::floor((b - segments_[i].begin).seconds() / segments_[i].step_s + 1e-9));
  }
  return steps;
}

}  // namespace firstwall::workload
