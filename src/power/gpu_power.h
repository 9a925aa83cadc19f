// GPU board power as a function of activity. The foundation model is linear between idle and TDP,
//   P(a) = P_idle + (P_tdp - P_idle) * a,   a in [0, 1],
// clipped at the configured power cap (never above TDP). Linear-in-utilization board power is the
// model ORNL's RAPS uses for Frontier's GPUs (88 W idle / 560 W max).
//
// Under a power limit the GPU lowers its clock (DVFS) until it draws the limit. Dynamic power goes
// as f V^2 and, in the DVFS range, V roughly as f, so as f^3 (the textbook CMOS model; the
// exponent is an assumption, kDvfsPowerExponent): a phase that would draw P(a) > limit runs at
//   f = ((limit - P_idle) / (P(a) - P_idle))^(1/3)
// and takes 1/f as long, drawing the limit. This treats the phase as clock-bound; memory- and
// communication-bound time slows less, so the stretch is an upper bound.
#pragma once

#include "units/quantity.h"

namespace firstwall::power {

inline constexpr double kDvfsPowerExponent = 3.0;

class GpuPowerModel {
 public:
  // `cap` above `tdp` is clipped to `tdp`.
  GpuPowerModel(units::Power idle, units::Power tdp, units::Power cap);
  units::Power At(double activity) const;
  // A phase of `activity` under `limit` (at most the configured cap): how much longer it takes,
  // and the activity at which it then runs.
  struct Limited {
    double stretch = 1.0;
    double activity = 0.0;
  };
  Limited UnderLimit(double activity, units::Power limit) const;
  units::Power idle() const { return idle_; }
  units::Power limit() const { return limit_; }

 private:
  units::Power idle_;
  units::Power tdp_;
  units::Power limit_;
};

}  // namespace firstwall::power
