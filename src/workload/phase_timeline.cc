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
  ++rebases_;
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

template <size_t N>
std::array<double, N> PhaseTimeline::Cumulative(
    const Segment& seg, const std::array<const std::vector<double>*, N>& per_phase,
    const std::array<double, N>& per_step, double elapsed) {
  std::array<double, N> sum{};
  if (elapsed <= 0) return sum;
  const double whole = std::floor(elapsed / seg.step_s);
  double rest = elapsed - whole * seg.step_s;
  for (size_t n = 0; n < N; ++n) sum[n] = whole * per_step[n];
  for (size_t i = 0; i < seg.phases.size() && rest > 0; ++i) {
    const double d = std::min(rest, seg.phase_s[i]);
    for (size_t n = 0; n < N; ++n) sum[n] += (*per_phase[n])[i] * d;
    rest -= d;
  }
  return sum;
}

template <size_t N>
std::array<double, N> PhaseTimeline::IntegrateN(const std::array<const Values*, N>& per_phase,
                                                SimTime from, SimTime to, Memo3* memo) const {
  static_assert(N == 1 || N == 3);
  for (size_t n = 0; n < N; ++n) {
    FW_CHECK(per_phase[n]->size() >= segments_.size(), "values for every segment");
  }
  std::array<double, N> sum{};
  // Segments begin in increasing order: start at the one holding `from` and stop at the first
  // beginning at or after `to` (the others add nothing), so a window costs the segments it
  // overlaps, not the job's whole history of rebases.
  const auto first = std::upper_bound(segments_.begin(), segments_.end(), from,
                                      [](SimTime t, const Segment& seg) { return t < seg.begin; });
  for (size_t i = first == segments_.begin() ? 0
                                             : static_cast<size_t>(first - segments_.begin()) - 1;
       i < segments_.size() && segments_[i].begin < to; ++i) {
    const Segment& seg = segments_[i];
    std::array<const std::vector<double>*, N> values;
    for (size_t n = 0; n < N; ++n) {
      values[n] = &(*per_phase[n])[i];
      FW_CHECK(values[n]->size() == seg.phases.size(), "one value per phase");
    }
    const SimTime a = std::max(from, seg.begin), b = std::min(to, SegmentEnd(i));
    if (b <= a) continue;
    // A memo of this segment holds its per-step integrals, and the integrals up to `a` when the
    // last window ended there: the same numbers this would compute again.
    bool same_segment = false, at_a = false;
    if constexpr (N == 3) {
      same_segment = memo != nullptr && memo->rebases == rebases_ && memo->segment == i;
      at_a = same_segment && memo->at == a;
    }
    if (seg.phases.size() == 1) {
      // One phase (a constant-activity job, a stall): the value times the time, with none of the
      // cancellation of two integrals from the segment's start (which grow over a year).
      const double d = (b - a).seconds();
      for (size_t n = 0; n < N; ++n) sum[n] += values[n]->front() * d;
      if constexpr (N == 3) {
        if (memo != nullptr) *memo = Memo3{};  // nothing to reuse
      }
      continue;
    }
    std::array<double, N> per_step{};  // each value's integral over one step
    if constexpr (N == 3) {
      if (same_segment) per_step = memo->per_step;
    }
    if (!same_segment) {
      for (size_t k = 0; k < seg.phases.size(); ++k) {
        for (size_t n = 0; n < N; ++n) per_step[n] += (*values[n])[k] * seg.phase_s[k];
      }
    }
    const std::array<double, N> hi =
        Cumulative<N>(seg, values, per_step, (b - seg.begin).seconds());
    std::array<double, N> lo{};
    if constexpr (N == 3) {
      if (at_a) lo = memo->to_at;
    }
    if (!at_a) lo = Cumulative<N>(seg, values, per_step, (a - seg.begin).seconds());
    for (size_t n = 0; n < N; ++n) sum[n] += hi[n] - lo[n];
    if constexpr (N == 3) {
      if (memo != nullptr) *memo = {rebases_, i, b, hi, per_step};
    }
  }
  return sum;
}

bool PhaseTimeline::Record(const Values& a, const Values& b, const Values& c, SimTime t,
                           StepRecord* record) const {
  const Span span = SegmentAt(t);
  const Segment& seg = segments_[span.index];
  const size_t n = seg.phases.size();
  StepRecord& r = *record;
  r.rebases = rebases_;
  r.begin = span.begin;
  r.end = span.end;
  r.phases = 0;
  if (n < 2 || n > StepRecord::kMaxPhases) return false;
  r.step_s = seg.step_s;
  r.phases = n;
  r.per_step = {};
  const std::array<const std::vector<double>*, 3> values = {&a[span.index], &b[span.index],
                                                            &c[span.index]};
  for (size_t k = 0; k < n; ++k) {
    r.phase[4 * k] = seg.phase_s[k];
    for (size_t v = 0; v < 3; ++v) {
      r.phase[4 * k + 1 + v] = (*values[v])[k];
      r.per_step[v] += (*values[v])[k] * seg.phase_s[k];  // as IntegrateN sums it
    }
  }
  r.at = SimTime::Never();
  return true;
}

// The same operations in the same order as Cumulative<3>, on the record's copy.
std::array<double, 3> PhaseTimeline::StepRecord::Cumulative(double elapsed) const {
  std::array<double, 3> sum{};
  if (elapsed <= 0) return sum;
  const double whole = std::floor(elapsed / step_s);
  double rest = elapsed - whole * step_s;
  for (size_t v = 0; v < 3; ++v) sum[v] = whole * per_step[v];
  for (size_t k = 0; k < phases && rest > 0; ++k) {
    const double d = std::min(rest, phase[4 * k]);
    for (size_t v = 0; v < 3; ++v) sum[v] += phase[4 * k + 1 + v] * d;
    rest -= d;
  }
  return sum;
}

std::array<double, 3> PhaseTimeline::StepRecord::Integrate(SimTime from, SimTime to) {
  const std::array<double, 3> hi = Cumulative((to - begin).seconds());
  const std::array<double, 3> lo = at == from ? to_at : Cumulative((from - begin).seconds());
  at = to;
  to_at = hi;
  std::array<double, 3> sum{};
  for (size_t v = 0; v < 3; ++v) sum[v] += hi[v] - lo[v];
  return sum;
}

double PhaseTimeline::Integrate(const Values& per_phase, SimTime from, SimTime to) const {
  return IntegrateN<1>({&per_phase}, from, to, nullptr)[0];
}

std::array<double, 3> PhaseTimeline::Integrate3(const Values& a, const Values& b, const Values& c,
                                                SimTime from, SimTime to, Memo3* memo) const {
  return IntegrateN<3>({&a, &b, &c}, from, to, memo);
}

PhaseTimeline::Span PhaseTimeline::SegmentAt(SimTime t) const {
  const auto after = std::upper_bound(segments_.begin(), segments_.end(), t,
                                      [](SimTime x, const Segment& seg) { return x < seg.begin; });
  const size_t i =
      after == segments_.begin() ? 0 : static_cast<size_t>(after - segments_.begin()) - 1;
  return {i, segments_[i].begin,
          i + 1 < segments_.size() ? segments_[i + 1].begin : SimTime::Never(),
          segments_[i].phases.size() == 1};
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
