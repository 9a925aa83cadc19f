#include "thermal/cooling_plant.h"

#include "core/error.h"

namespace firstwall::thermal {

CoolingPlant::CoolingPlant(double cop, units::Power capacity) : cop_(cop), capacity_(capacity) {
  FW_CHECK(cop > 0, "COP must be positive");
}

}  // namespace firstwall::thermal
