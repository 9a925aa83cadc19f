#include "thermal/psychrometrics.h"

#include <algorithm>
#include <cmath>

namespace firstwall::thermal {

units::Temperature WetBulb(units::Temperature dry_bulb, double relative_humidity) {
  const double t = std::clamp(units::ToCelsius(dry_bulb), -20.0, 50.0);
  const double rh = std::clamp(relative_humidity, 0.05, 0.99) * 100.0;  // percent in the fit
  const double tw = t * std::atan(0.151977 * std::sqrt(rh + 8.313659)) + std::atan(t + rh) -
                    std::atan(rh - 1.676331) +
                    0.00391838 * std::pow(rh, 1.5) * std::atan(0.023101 * rh) - 4.686035;
  return units::Celsius(std::min(tw, units::ToCelsius(dry_bulb)));
}

}  // namespace firstwall::thermal
