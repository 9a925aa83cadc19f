// Outdoor conditions over the simulated time: constant, or hourly records from an EnergyPlus
// weather file (EPW; format in the EnergyPlus "Auxiliary Programs" manual, chapter "Weather
// Converter Program", section "EnergyPlus Weather File (EPW) Data Dictionary"). EPW data rows are
// hourly, the value of row k (1-based hour k) stands at the end of that hour; between rows the
// conditions are interpolated linearly, and the year wraps around.
#pragma once

#include <string>
#include <vector>

#include "core/sim_time.h"
#include "units/quantity.h"

namespace firstwall::thermal {

struct OutdoorConditions {
  units::Temperature dry_bulb;
  double relative_humidity = 0.5;  // fraction
};

class Weather {
 public:
  // Constant conditions.
  explicit Weather(OutdoorConditions constant);
  // Hourly series; `first_hour` is the hour of the year (0-based) at simulated time zero.
  Weather(std::vector<OutdoorConditions> hourly, int first_hour, std::string source);

  OutdoorConditions At(SimTime t) const;
  bool Constant() const { return hourly_.empty(); }
  const std::string& source() const { return source_; }

 private:
  OutdoorConditions constant_;
  std::vector<OutdoorConditions> hourly_;
  int first_hour_ = 0;
  std::string source_;
};

// Reads the dry-bulb temperature and relative humidity of every data row of an EPW file. `path` is
// used in error messages (file:line:col). Throws InputError on a malformed or incomplete file.
std::vector<OutdoorConditions> ReadEpw(const std::string& text, const std::string& path);

}  // namespace firstwall::thermal
