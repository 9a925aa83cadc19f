#include "power/renewable.h"

#include "power/hourly_csv.h"

namespace firstwall::power {

double RenewableSource::OutputWatts(SimTime t) const {
  if (capacity_factor.empty()) return 0.0;
  const double cf = capacity_factor[HourlyRow(t.seconds(), first_hour, capacity_factor.size())];
  return units::ToWatts(capacity) * share * cf;
}

std::vector<double> ReadCapacityFactors(const std::string& text, const std::string& path) {
  HourlyCsvSpec spec;
  spec.what = "renewable profile";
  spec.header = "hour,output_kw_per_kw";
  spec.units = "output over nameplate capacity, 0 to 1 (kW delivered per kW installed)";
  spec.columns = {{"output", 0, 1, [](const std::string& f) {
                     return "capacity factor " + f + " out of range: expected 0 to 1";
                   }}};
  return ReadHourlyCsv(text, path, spec)[0];
}

}  // namespace firstwall::power
