// A job's phase timeline in simulated time. From `start` the step's phases repeat until `end`;
// before and after, the job is absent. The step can change (a fault slows communication, a power
// cap slows compute): Rebase(t, phases) starts a new segment at t whose steps follow the new
// phases; the step in flight at t is abandoned and restarts at the new pace (a conservative
// approximation: at most one step's progress is lost per change).
//
// Integrals over any window are computed in closed form per segment (whole steps times the per-step
// integral, plus the partial steps at the edges), so a window of one second and one of a day cost
// the same and no per-step events are needed.
#pragma once

#include <algorithm>
#include <array>
#include <cstdint>
#include <vector>

#include "core/sim_time.h"
#include "workload/training_step.h"

namespace firstwall::workload {

class PhaseTimeline {
 public:
  PhaseTimeline(std::vector<Phase> phases, SimTime start, SimTime end);

  // From `at` on (start <= at < end), steps follow `phases`. A segment that `makes_progress` false
  // (a checkpoint stall) repeats its phases without counting steps.
  void Rebase(SimTime at, std::vector<Phase> phases, bool makes_progress = true);

  // The job ends at `at` instead (a trip): nothing runs after it.
  void Stop(SimTime at) { end_ = std::min(end_, std::max(at, start_)); }

  // Integral over [from, to) of a value that is `per_phase[s][i]` during phase i of segment s and
  // 0 outside the job's lifetime, in value x seconds. Segments are numbered in Rebase order.
  double Integrate(const std::vector<std::vector<double>>& per_phase, SimTime from,
                   SimTime to) const;
  // Three such integrals over one window in one walk of the segments and phases (a site's
  // per-window roll-up needs several per job); each equals Integrate's, bit for bit.
  using Values = std::vector<std::vector<double>>;
  // What Integrate3 keeps between consecutive windows of one caller: the last window's upper edge
  // in its segment (the integrals from the segment's start up to it, and per step), so that the
  // next window starting there reuses them. Valid while the timeline is not rebased; the caller
  // passes the same three series with the same memo each time.
  struct Memo3 {
    uint64_t rebases = ~uint64_t{0};
    size_t segment = 0;
    SimTime at;
    std::array<double, 3> to_at{}, per_step{};
  };
  std::array<double, 3> Integrate3(const Values& a, const Values& b, const Values& c, SimTime from,
                                   SimTime to, Memo3* memo = nullptr) const;
  // Seconds of [from, to) during which the job runs.
  double RunningSeconds(SimTime from, SimTime to) const;
  // Whole steps finished by time t.
  int64_t StepsCompletedBy(SimTime t) const;

  // A compact copy of one segment of several phases (at most kMaxPhases) with three values per
  // phase, for a caller that integrates window after window inside it (a site's per-window
  // roll-up of a training job): one contiguous record instead of the timeline's and the value
  // lists' separate allocations. Integrate gives Integrate3's numbers bit for bit.
  struct StepRecord {
    static constexpr size_t kMaxPhases = 8;
    uint64_t rebases = ~uint64_t{0};
    SimTime begin, end;  // the segment's [begin, end)
    double step_s = 0;
    size_t phases = 0;
    std::array<double, 3> per_step{};
    std::array<double, 4 * kMaxPhases> phase{};  // per phase: seconds, then the three values
    SimTime at = SimTime::Never();               // the last window's upper edge, and
    std::array<double, 3> to_at{};               // the integrals from `begin` up to it
    // Whether [from, to) lies inside the recorded segment of a timeline with `rebases` rebases.
    bool Covers(uint64_t timeline_rebases, SimTime from, SimTime to) const {
      return phases > 0 && Holds(timeline_rebases, from) && to <= end;
    }
    // Whether the record is of the segment holding `t` (recorded or found unfit: phases 0).
    bool Holds(uint64_t timeline_rebases, SimTime t) const {
      return rebases == timeline_rebases && t >= begin && t < end;
    }
    // The three integrals over [from, to) (Covers, and the job running all of it).
    std::array<double, 3> Integrate(SimTime from, SimTime to);

   private:
    std::array<double, 3> Cumulative(double elapsed) const;
  };
  // Fills `record` with the segment holding `t` and the values a, b, c of its phases; false (the
  // record then holds the segment with no phases) when it has one phase or more than kMaxPhases.
  bool Record(const Values& a, const Values& b, const Values& c, SimTime t,
              StepRecord* record) const;

  // Rebase calls so far: a caller's cache of a segment is valid while this is unchanged.
  uint64_t rebases() const { return rebases_; }
  // The segment holding `t` (t at or after its beginning; the first if t is earlier): its index,
  // [begin, end) up to the next segment (Never for the last; the job's own end is apart), and
  // whether it has a single phase (its values are then constant over it).
  struct Span {
    size_t index = 0;
    SimTime begin, end;
    bool single_phase = false;
  };
  Span SegmentAt(SimTime t) const;
  size_t segment_count() const { return segments_.size(); }
  double step_seconds(size_t segment = 0) const { return segments_[segment].step_s; }
  const std::vector<Phase>& phases(size_t segment = 0) const { return segments_[segment].phases; }
  SimTime start() const { return start_; }
  SimTime end() const { return end_; }

 private:
  struct Segment {
    SimTime begin;
    std::vector<Phase> phases;
    std::vector<double> phase_s;
    double step_s = 0;
    bool makes_progress = true;
  };
  static Segment MakeSegment(SimTime begin, std::vector<Phase> phases, bool makes_progress);
  // Integrals over the first `elapsed` seconds of a segment, of N values (per_phase[n][i]: value
  // n in phase i; per_step[n]: its integral over one step).
  template <size_t N>
  static std::array<double, N> Cumulative(
      const Segment& seg, const std::array<const std::vector<double>*, N>& per_phase,
      const std::array<double, N>& per_step, double elapsed);
  template <size_t N>
  std::array<double, N> IntegrateN(const std::array<const Values*, N>& per_phase, SimTime from,
                                   SimTime to, Memo3* memo) const;
  SimTime SegmentEnd(size_t i) const;

  std::vector<Segment> segments_;
  SimTime start_, end_;
  uint64_t rebases_ = 0;  // Rebase calls so far (a Memo3 of an older count is stale)
};

}  // namespace firstwall::workload
