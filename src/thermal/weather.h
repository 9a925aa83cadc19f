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
// used in error messages (file:line:col). Throws InputError for anything the EPW data dictionary
// does not allow, or that this model cannot use:
//  - line 1 not "LOCATION,...", line 8 not "DATA PERIODS,..." with 1 record per hour;
//  - a data row without exactly 35 fields; year, month (1-12), day (1 to the month's days),
//    hour (1-24) and minute (0-60) not whole numbers in range; rows not hourly and day by day from
//    1/1 hour 1 to 12/31 hour 24 (8,760 rows, or 8,784 with February 29);
//  - dry bulb and dew point not in (-70, 70) C, relative humidity not in [0, 110] %, station
//    pressure not in (31,000, 120,000) Pa, or any of them not a finite number ("nan", "inf");
//  - a dew point above the dry bulb by more than the files' 0.1 C rounding.
// A value is missing only when it equals its field's code (99.9 C, 99.9 C, 999 %, 999999 Pa;
// the dictionary calls values at or above the code missing, but one between the range and the
// code is reported as out of range). A missing dry bulb or humidity is refused (no gap filling);
// a missing dew point or pressure, which the model does not use, skips that field's checks.
// A UTF-8 byte-order mark before line 1 is ignored; a NUL byte anywhere is refused.
std::vector<OutdoorConditions> ReadEpw(const std::string& text, const std::string& path);

}  // namespace firstwall::thermal
