// GPU board power as a function of activity. The foundation model is linear between idle and TDP,
//   P(a) = P_idle + (P_tdp - P_idle) * a,   a in [0, 1],
// clipped at the configured power cap (never above TDP). Linear-in-utilization board power is the
// model ORNL's RAPS uses for Frontier's GPUs (88 W idle / 560 W max); the clock and voltage
// dependence arrives with the thermal and DVFS models.
#pragma once

#include "units/quantity.h"

namespace firstwall::power {

class GpuPowerModel {
 public:
  // `cap` above `tdp` is clipped to `tdp`.
  GpuPowerModel(units::Power idle, units::Power tdp, units::Power cap);
  units::Power At(double activity) const;
  units::Power idle() const { return idle_; }
  units::Power limit() const { return limit_; }

 private:
  units::Power idle_;
  units::Power tdp_;
  units::Power limit_;
};

}  // namespace firstwall::power
