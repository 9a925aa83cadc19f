#include "power/gpu_power.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace firstwall::power {

GpuPowerModel::GpuPowerModel(units::Power idle, units::Power tdp, units::Power cap)
    : idle_(idle), tdp_(tdp), limit_(std::min(cap, tdp)) {
  FW_CHECK(idle <= tdp, "idle power above TDP");
}

GpuPowerModel::Limited GpuPowerModel::UnderLimit(double activity, units::Power limit) const {
  const double idle = units::ToWatts(idle_), span = units::ToWatts(tdp_ - idle_);
  const double cap = std::max(idle, units::ToWatts(std::min(limit, limit_)));
  const double want = idle + span * std::clamp(activity, 0.0, 1.0);
  if (want <= cap || span <= 0) return {1.0, activity};
  if (cap <= idle) return {1e6, 0.0};  // no power above idle: the work does not progress
  return {std::pow((want - idle) / (cap - idle), 1.0 / kDvfsPowerExponent), (cap - idle) / span};
}

units::Power GpuPowerModel::At(double activity) const {
  const double a = std::clamp(activity, 0.0, 1.0);
  return std::min(limit_, idle_ + (tdp_ - idle_) * a);
}

}  // namespace firstwall::power
