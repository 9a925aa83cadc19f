// Moist-air relations the cooling plant needs.
#pragma once

#include "units/quantity.h"

namespace firstwall::thermal {

// Wet-bulb temperature from dry bulb and relative humidity at sea-level pressure, by Stull's
// empirical fit (R. Stull, "Wet-Bulb Temperature from Relative Humidity and Air Temperature",
// J. Appl. Meteor. Climatol. 50, 2267-2269, 2011): within -1 to +0.65 K of the psychrometric
// value for RH 5-99% and -20 to 50 C. Outside that range the inputs are clamped to it, and the
// result never exceeds the dry bulb.
units::Temperature WetBulb(units::Temperature dry_bulb, double relative_humidity);

}  // namespace firstwall::thermal
