// The power-swing window of a run (scenario key power_swings): the site's power sampled at fine
// resolution from the jobs' phase timelines after the run, with each configured mitigation applied
// to the same series (power/swing.h).
//
// Facility power per sample = the conversion chain's input for that sample's IT power + the
// cooling plant's power, held at its steady value for the window's mean heat (the water loops
// smooth seconds-scale pulses away: their time constant is minutes).
#pragma once

#include <string>
#include <vector>

#include "power/swing.h"
#include "site/site.h"

namespace firstwall::report {

struct SwingVariant {
  std::string name;              // none, gpu_power_floor, gpu_ramp_limit, battery, all
  power::SwingMetrics metrics;   // of facility power
  double extra_energy_j = 0;     // drawn above the unmitigated facility over the window
  double deferred_energy_j = 0;  // GPU energy a ramp limit held back (a throughput cost)
  double battery_min_soc = 0, battery_max_soc = 0;
  std::vector<double> facility_w;
};

struct SwingReport {
  double start_s = 0, duration_s = 0, resolution_s = 0, band_low_hz = 0, band_high_hz = 0;
  std::vector<SwingVariant> variants;
};

SwingReport RecordSwings(const site::Site& site);
// swings.csv: time_s, then facility_<variant>_mw for every variant.
std::string SwingCsv(const SwingReport& r);

}  // namespace firstwall::report
