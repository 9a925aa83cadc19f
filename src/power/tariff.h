// What grid energy costs and emits over time: constants, or an hourly series from a CSV file whose
// rows repeat: 24 rows make a daily profile, 168 a weekly one, 8,760 a year and 8,784 a leap year;
// any other count is refused. The CSV's header names its columns with their units:
// hour,price_usd_per_mwh,carbon_g_per_kwh; hour k's values hold from hour k to k + 1 of the series,
// counted from the first hour of the simulation's weather year.
#pragma once

#include <string>
#include <vector>

#include "core/sim_time.h"
#include "units/quantity.h"

namespace firstwall::power {

class Tariff {
 public:
  Tariff() = default;
  Tariff(units::EnergyPrice price, double carbon_g_per_kwh);
  // Reads the CSV text; `path` for error messages (file:line:col). `first_hour` is the series hour
  // at simulated time zero. Throws InputError for an empty file, a wrong header, a row without
  // three finite numbers, hours not 0, 1, 2, ... in order, a price outside -10,000..100,000
  // USD/MWh or a carbon intensity outside 0..5,000 g/kWh, and a row count not listed above. A UTF-8
  // byte-order mark before the header is ignored; a NUL byte is refused.
  static Tariff FromCsv(const std::string& text, const std::string& path, int first_hour);

  double UsdPerJoule(SimTime t) const;
  double CarbonGramsPerJoule(SimTime t) const;
  bool Hourly() const { return !usd_per_j_.empty(); }

 private:
  size_t Index(SimTime t) const;
  double usd_per_j_const_ = 0, g_per_j_const_ = 0;
  std::vector<double> usd_per_j_, g_per_j_;
  int first_hour_ = 0;
};

}  // namespace firstwall::power
