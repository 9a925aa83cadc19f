#include "hardware/gemm.h"

#include <algorithm>

namespace firstwall::hardware {

GemmModel DefaultGemmModel() { return GemmModel{0.75, 0.66, 128, units::Microseconds(8), 0.95}; }

units::Duration GemmTime(const GemmModel& g, double m, double n, double k, double bytes_per_element,
                         units::FlopRate peak, units::Bandwidth hbm) {
  if (m <= 0 || n <= 0 || k <= 0) return units::Seconds(0);
  const double efficiency = g.max_efficiency * m / (m + g.half_rows);
  const double compute_s = 2.0 * m * n * k / (units::ToFlopPerSecond(peak) * efficiency);
  const double memory_s = (m * k + k * n + m * n) * bytes_per_element /
                          (units::ToBytesPerSecond(hbm) * g.memory_efficiency);
  return g.overhead + units::Seconds(std::max(compute_s, memory_s));
}

units::Duration StreamTime(const GemmModel& g, units::DataSize bytes, units::Bandwidth hbm) {
  return bytes / (hbm * g.memory_efficiency);
}

}  // namespace firstwall::hardware
