// Electric chiller by the DOE-2 / EnergyPlus "Chiller:Electric:EIR" model (EnergyPlus
// Engineering Reference, "Electric Chiller Model Based on Condenser Entering Temperature"):
//
//   available capacity  Q_avail = Q_ref x CAPFT(T_chw, T_cond)
//   part-load ratio     PLR = Q / Q_avail
//   electric power      P = Q_avail / COP_ref x EIRFT(T_chw, T_cond) x EIRFPLR(max(PLR, PLR_unl))
//                             x CR
//
// Low load. The compressor unloads down to the minimum unloading ratio PLR_unl; between PLR_unl
// and the minimum part-load ratio PLR_min (PLR_min <= PLR_unl) it false-loads at constant power;
// below PLR_min it cycles on and off, on for the cycling ratio CR = min(PLR / PLR_min, 1) of the
// time and drawing its PLR_min power while on (EnergyPlus Engineering Reference, "Electric Chiller
// Model Based on Condenser Entering Temperature": "the power consumption during the on cycle is
// the same as when the chiller is operating at the minimum part load ratio"). So below PLR_min the
// power falls in proportion to the load. The alternative, `LowLoad::kHotGasBypass`, never cycles:
// hot gas bypassed to the evaporator adds the false load PLR_unl - PLR and the chiller draws its
// PLR_unl power all the time (CR = 1).
//
// with T_chw the leaving chilled-water and T_cond the entering condenser-water temperature (C),
// CAPFT and EIRFT biquadratic, f = a + b x + c x^2 + d y + e y^2 + f x y, and EIRFPLR quadratic in
// PLR. Temperatures outside the curve's fitted range are clamped to it (EnergyPlus does the same).
// A plant of several identical units stages them by least power: every count from the fewest
// that carry the load to all of them runs at equal PLR, and the count that draws least is kept
// (the fewest on a tie): the optimal chiller loading problem (Energies 2020, 13(23), 6372) for
// identical units. Variable-speed units are most efficient at part load, so this often runs more
// than the load needs; staging by the fewest made the power fall as the condenser water warmed.
#pragma once

#include <array>
#include <string>

#include "units/quantity.h"

namespace firstwall::thermal {

struct ChillerCurves {
  std::string name;
  std::string source;
  double cop_ref = 0;
  std::array<double, 6> cap_ft{};
  std::array<double, 6> eir_ft{};
  std::array<double, 3> eir_plr{};
  double plr_min = 0.2;                 // minimum part-load ratio: below it the chiller cycles
  double min_unloading = 0.2;           // minimum unloading ratio: below it the chiller false-loads
  double t_chw_min = 0, t_chw_max = 0;  // C
  double t_cond_min = 0, t_cond_max = 0;  // C
};

// The chillers firstwall knows by name ("carrier-19xr-1143kw"); nullptr when unknown.
const ChillerCurves* FindChiller(const std::string& name);
std::string ChillerNames(const std::string& separator = ", ");

// What a chiller does below its minimum part-load ratio (see the top of this file); the scenario
// key facility.cooling.low_load: cycling | hot_gas_bypass.
enum class LowLoad {
  kCycling,      // on-off cycling, EnergyPlus's Chiller:Electric:EIR (the default)
  kHotGasBypass  // false loading by hot-gas bypass at the minimum unloading power, no cycling
};

struct ChillerOperation {
  units::Power electric;
  int units_running = 0;
  double part_load = 0;      // of the running units, load / available capacity
  double cycling_ratio = 1;  // share of the time the running units are on (1 above PLR_min)
  units::Power false_load;   // bypassed hot gas the running units carry on top of the load
  units::Power unmet;        // load above what every unit together can carry
};

// `units` identical chillers of `unit_capacity` each (at reference conditions) carrying `load`.
// As many run, at equal part-load ratio, as draw the least power.
ChillerOperation RunChillers(const ChillerCurves& c, int units, units::Power unit_capacity,
                             units::Power load, units::Temperature chilled_water,
                             units::Temperature condenser_entering,
                             LowLoad low_load = LowLoad::kCycling);

}  // namespace firstwall::thermal
