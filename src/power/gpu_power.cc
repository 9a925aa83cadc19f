#include "power/gpu_power.h"

#include <algorithm>

#include "core/error.h"

namespace firstwall::power {

GpuPowerModel::GpuPowerModel(units::Power idle, units::Power tdp, units::Power cap)
    : idle_(idle), tdp_(tdp), limit_(std::min(cap, tdp)) {
  FW_CHECK(idle <= tdp, "idle power above TDP");
}

units::Power GpuPowerModel::At(double activity) const {
  const double a = std::clamp(activity, 0.0, 1.0);
  return std::min(limit_, idle_ + (tdp_ - idle_) * a);
}

}  // namespace firstwall::power
