// A job's periodic phase timeline in simulated time. From `start` the step's phases repeat until
// `end`; before and after, the job is absent. Integrals over any window are computed in closed
// form (whole steps times the per-step integral, plus the partial steps at the edges), so a window
// of one second and one of a day cost the same and no per-step events are needed.
#pragma once

#include <cstdint>
#include <vector>

#include "core/sim_time.h"
#include "workload/training_step.h"

namespace firstwall::workload {

class PhaseTimeline {
 public:
  PhaseTimeline(std::vector<Phase> phases, SimTime start, SimTime end);

  // Integral over [from, to) of a value that is `per_phase[i]` during phase i and 0 outside the
  // job's lifetime, in value x seconds.
  double Integrate(const std::vector<double>& per_phase, SimTime from, SimTime to) const;
  // Seconds of [from, to) during which the job runs.
  double RunningSeconds(SimTime from, SimTime to) const;
  // Whole steps finished by time t.
  int64_t StepsCompletedBy(SimTime t) const;

  double step_seconds() const { return step_s_; }
  SimTime start() const { return start_; }
  SimTime end() const { return end_; }
  const std::vector<Phase>& phases() const { return phases_; }

 private:
  // Integral from the job's start over `elapsed` seconds of running time.
  double Cumulative(const std::vector<double>& per_phase, double elapsed) const;

  std::vector<Phase> phases_;
  std::vector<double> phase_s_;
  double step_s_ = 0;
  SimTime start_, end_;
};

}  // namespace firstwall::workload
