// Solar and wind hourly profiles in the layouts their public sources publish, read as downloaded,
// besides firstwall's own `hour,output_kw_per_kw` (power/renewable.h):
//
// - renewables.ninja point downloads (Pfenninger and Staffell, Energy 114, 2016,
//   doi:10.1016/j.energy.2016.08.060; Staffell and Pfenninger, Energy 114, 2016,
//   doi:10.1016/j.energy.2016.08.068; layout per renewables.ninja's documentation, "Data format for
//   individual sites"): three '#' comment lines, the third a JSON object whose
//   params.capacity is the plant's capacity in kW (units.electricity must be "kW"), then a header
//   naming `time` (UTC, the start of the hour, "YYYY-MM-DD HH:MM"), `local_time` and
//   `electricity` (the hour's mean output in kW), then one row per hour of one calendar year from
//   1 January 00:00 UTC (8,760 rows, 8,784 in a leap year). Other columns (irradiance,
//   temperature, wind speed) are ignored. Hours are moved from UTC to the site's local standard
//   time by the file's own offset: the least of local_time - time over the year (daylight saving
//   only adds), rounded to a whole hour. A file without local_time is refused (its offset is
//   unknown).
// - NREL PVWatts hourly downloads ("pvwatts_hourly.csv" of the PVWatts calculator, versions 5 to
// 8):
//   quoted metadata rows, among them "DC System Size (kW)", then the header row
//   ("Month","Day","Hour",...,"DC Array Output (W)","AC System Output (W)") and 8,760 rows of a
//   365-day typical year in local standard time (Hour 0 to 23), and with older versions a closing
//   "Totals" row. Columns are found by name. `output` picks the AC column (after the inverter and
//   its clipping) or the DC column (the array's output, for a plant feeding a DC bus).
//
// Every format gives the output per kW of the file's capacity (the DC system size for PVWatts, as
// its "DC System Size (kW)" is the array's nameplate), row k the hour from k to k + 1 of the year
// in local standard time, as the weather file's hours. Errors are InputErrors at file:line:col.
#pragma once

#include <string>
#include <vector>

namespace firstwall::power {

enum class ProfileOutput { kAc, kDc };

struct RenewableProfile {
  enum class Format { kFirstwall, kRenewablesNinja, kPvwatts };
  Format format = Format::kFirstwall;
  std::vector<double> capacity_factor;  // output over the file's capacity, per hour
  double file_capacity_kw = 0;          // the capacity the file was computed for (0: firstwall's)
  int utc_offset_h = 0;                 // renewables.ninja: the hours moved from UTC
};

// The largest output over capacity accepted: a PV array's DC output can pass its nameplate in cold,
// bright hours (its rating is at 25 C cell temperature), by a few percent.
inline constexpr double kMaxPublishedCapacityFactor = 1.25;

const char* FormatName(RenewableProfile::Format f);

// Reads `text` (path for messages) in whichever of the three layouts it is. `output` matters only
// for PVWatts (the other two publish one output column). Throws InputError for a layout it does not
// recognise (naming the three), and within each layout for what it needs and does not find.
RenewableProfile ReadRenewableProfile(const std::string& text, const std::string& path,
                                      ProfileOutput output);

}  // namespace firstwall::power
