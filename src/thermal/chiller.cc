#include "thermal/chiller.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace firstwall::thermal {
namespace {

double Biquadratic(const std::array<double, 6>& k, double x, double y) {
  return k[0] + k[1] * x + k[2] * x * x + k[3] * y + k[4] * y * y + k[5] * x * y;
}

const std::vector<ChillerCurves>& Known() {
  static const std::vector<ChillerCurves> known = {
      // Coefficients of the EnergyPlus chiller dataset record "ElectricEIRChiller Carrier 19XR
      // 1143kW/6.57COP/VSD" (EnergyPlus DataSets/Chillers.idf), as also published in the Modelica
      // Buildings library, Buildings.Fluid.Chillers.Data.ElectricEIR: reference 1,142.9 kW at 10 C
      // leaving chilled water and 26.67 C entering condenser water, COP 6.57; fitted for
      // 7.22-12.78 C chilled and 12.78-26.67 C condenser water; minimum part load and minimum
      // unloading ratio 0.20.
      {"carrier-19xr-1143kw",
       "EnergyPlus DataSets/Chillers.idf, ElectricEIRChiller Carrier 19XR 1143kW/6.57COP/VSD",
       6.57,
       {7.939538E-01, 4.096493E-02, -1.419397E-03, -1.639813E-03, -5.220497E-04, 1.348786E-03},
       {9.475580E-01, -1.187942E-02, 8.799326E-05, 2.250775E-04, 1.815775E-04, 2.178409E-04},
       {1.408822E-01, -1.578153E-01, 1.014316E+00},
       0.20,
       0.20,
       7.22,
       12.78,
       12.78,
       26.67},
      // "ElectricEIRChiller Carrier 19XR 1410kW/8.54COP/VSD", same dataset: 6.11 C leaving chilled
      // and 12.78 C entering condenser water at reference, fitted 6.11-12.78 C / 12.78-23.89 C;
      // minimum part load and minimum unloading ratio 0.18.
      {"carrier-19xr-1410kw",
       "EnergyPlus DataSets/Chillers.idf, ElectricEIRChiller Carrier 19XR 1410kW/8.54COP/VSD",
       8.54,
       {9.597856E-01, -6.247187E-03, -1.117998E-03, 6.991040E-03, -6.321252E-04, 1.765068E-03},
       {1.131014E+00, -6.735406E-02, 3.034309E-06, 1.307361E-02, 3.384625E-04, 7.872113E-04},
       {9.662908E-02, 7.475978E-01, 1.566368E-01},
       0.18,
       0.18,
       6.11,
       12.78,
       12.78,
       23.89},
  };
  return known;
}

}  // namespace

const ChillerCurves* FindChiller(const std::string& name) {
  for (const ChillerCurves& c : Known()) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

std::string ChillerNames(const std::string& separator) {
  std::string out;
  for (const ChillerCurves& c : Known()) out += (out.empty() ? "" : separator) + c.name;
  return out;
}

ChillerOperation RunChillers(const ChillerCurves& c, int units, units::Power unit_capacity,
                             units::Power load, units::Temperature chilled_water,
                             units::Temperature condenser_entering, LowLoad low_load) {
  ChillerOperation best;
  const double q = units::ToWatts(load);
  if (q <= 0 || units <= 0) return best;
  const double tchw = std::clamp(units::ToCelsius(chilled_water), c.t_chw_min, c.t_chw_max);
  const double tcond = std::clamp(units::ToCelsius(condenser_entering), c.t_cond_min, c.t_cond_max);
  const double avail = units::ToWatts(unit_capacity) * Biquadratic(c.cap_ft, tchw, tcond);
  const double eir_ft = Biquadratic(c.eir_ft, tchw, tcond);
  const int needed = std::clamp(static_cast<int>(std::ceil(q / avail - 1e-12)), 1, units);
  // n units at equal part-load ratio; the staging keeps the n that draws least (the fewest on a
  // tie), from the fewest that carry the load to all of them.
  auto run = [&](int n) {
    ChillerOperation op;
    op.units_running = n;
    const double carried = std::min(q, avail * n);
    op.unmet = units::Watts(q - carried);
    op.part_load = carried / (avail * n);
    // Unloading stops at the minimum unloading ratio: the EIR curve is read there below it.
    const double plr = std::max(op.part_load, c.min_unloading);
    // Below PLR_min a cycling chiller is on for PLR / PLR_min of the time.
    op.cycling_ratio = low_load == LowLoad::kCycling && c.plr_min > 0
                           ? std::min(op.part_load / c.plr_min, 1.0)
                           : 1.0;
    // Whatever the unit removes beyond the load while it runs is bypassed hot gas (false load).
    op.false_load = units::Watts(std::max(0.0, plr * op.cycling_ratio - op.part_load) * avail * n);
    const double eir_plr = c.eir_plr[0] + c.eir_plr[1] * plr + c.eir_plr[2] * plr * plr;
    op.electric = units::Watts(n * avail / c.cop_ref * eir_ft * eir_plr * op.cycling_ratio);
    return op;
  };
  best = run(needed);
  for (int n = needed + 1; n <= units; ++n) {
    const ChillerOperation op = run(n);
    if (units::ToWatts(op.electric) < units::ToWatts(best.electric) * (1 - 1e-12)) best = op;
  }
  return best;
}

}  // namespace firstwall::thermal
