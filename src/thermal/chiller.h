// Electric chiller by the DOE-2 / EnergyPlus "Chiller:Electric:EIR" model (EnergyPlus
// Engineering Reference, "Electric Chiller Model Based on Condenser Entering Temperature"):
//
//   available capacity  Q_avail = Q_ref x CAPFT(T_chw, T_cond)
//   part-load ratio     PLR = Q / Q_avail   (at least PLR_min: below it the chiller false-loads)
//   electric power      P = Q_avail / COP_ref x EIRFT(T_chw, T_cond) x EIRFPLR(PLR)
//
// with T_chw the leaving chilled-water and T_cond the entering condenser-water temperature (C),
// CAPFT and EIRFT biquadratic, f = a + b x + c x^2 + d y + e y^2 + f x y, and EIRFPLR quadratic in
// PLR. Temperatures outside the curve's fitted range are clamped to it (EnergyPlus does the same).
// A plant of several identical units stages them: as few run as carry the load, at equal PLR.
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
  double plr_min = 0.2;
  double t_chw_min = 0, t_chw_max = 0;    // C
  double t_cond_min = 0, t_cond_max = 0;  // C
};

// The chillers firstwall knows by name ("carrier-19xr-1143kw"); nullptr when unknown.
const ChillerCurves* FindChiller(const std::string& name);
std::string ChillerNames(const std::string& separator = ", ");

struct ChillerOperation {
  units::Power electric;
  int units_running = 0;
  double part_load = 0;  // of the running units
  units::Power unmet;    // load above what every unit together can carry
};

// `units` identical chillers of `unit_capacity` each (at reference conditions) carrying `load`.
ChillerOperation RunChillers(const ChillerCurves& c, int units, units::Power unit_capacity,
                             units::Power load, units::Temperature chilled_water,
                             units::Temperature condenser_entering);

}  // namespace firstwall::thermal
