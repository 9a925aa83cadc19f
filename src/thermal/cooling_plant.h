// Heat rejection, foundation model: the plant removes the heat released in the building (IT power
// plus electrical conversion losses) with a constant coefficient of performance,
//   P_cooling = Q_heat / COP.
// COP here is whole-plant (chillers or dry coolers, pumps, fans, CRAH/CDU) heat removed per unit of
// electricity. Weather-dependent chiller, tower and economizer models replace it in the facility
// physics issue.
#pragma once

#include "units/quantity.h"

namespace firstwall::thermal {

class CoolingPlant {
 public:
  // `capacity` is the heat the plant can reject; zero means unrated.
  CoolingPlant(double cop, units::Power capacity);
  units::Power ElectricPower(units::Power heat) const { return heat / cop_; }
  double cop() const { return cop_; }
  units::Power capacity() const { return capacity_; }

 private:
  double cop_;
  units::Power capacity_;
};

}  // namespace firstwall::thermal
