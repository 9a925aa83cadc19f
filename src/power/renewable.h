// Solar and wind supply from an hourly capacity-factor profile: a CSV with header
// hour,output_kw_per_kw whose value is the plant's output over its nameplate for that hour (0..1),
// rows repeating as in power/hourly_csv.h (24, 168, 8,760 or 8,784). The site takes `share` of the
// plant's output (the share of the plant contracted by a power purchase agreement, 1 for a plant
// of its own) and pays `price` per unit of that energy, whether it uses it or not (a
// pay-as-produced PPA). Output of hour k holds from hour k to k + 1 of the series, counted from
// the first hour of the simulation's weather year. Profiles firstwall ships, and how they were
// made, are listed in data/README.md.
#pragma once

#include <string>
#include <vector>

#include "core/sim_time.h"
#include "units/quantity.h"

namespace firstwall::power {

struct RenewableSource {
  std::string name;
  // Per hour of the series: 0..1, or up to kMaxPublishedCapacityFactor from a published file
  // (power/published_profiles.h).
  std::vector<double> capacity_factor;
  int first_hour = 0;        // series hour at simulated time zero
  units::Power capacity;     // nameplate the profile is scaled by
  double share = 1.0;        // contracted share of the plant's output, 0..1
  double usd_per_joule = 0;  // price of the contracted energy
  // Direct-DC supply: the index of the power-chain stage whose output bus the plant feeds through
  // its own DC-DC converter (efficiency `converter_efficiency`), so the stages from that one
  // outward carry only what the plant leaves; -1: the grid connection.
  int bus_stage = -1;
  double converter_efficiency = 1.0;

  // What the site receives at `t`: capacity x share x the hour's capacity factor, in watts.
  double OutputWatts(SimTime t) const;
};

// Reads a capacity-factor profile (path for messages). Throws InputError as ReadHourlyCsv does,
// and for a capacity factor outside 0..1.
std::vector<double> ReadCapacityFactors(const std::string& text, const std::string& path);

}  // namespace firstwall::power
