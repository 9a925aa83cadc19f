#include "live/setpoint_shift.h"

namespace firstwall::live {

report::TickRow ShiftSupplySetpoint(const report::TickRow& row,
                                    const thermal::CoolingConfig& cooling,
                                    const thermal::OutdoorConditions& outdoor, double supply_c) {
  thermal::CoolingConfig moved = cooling;
  moved.liquid_supply = units::Celsius(supply_c);
  const units::Power it = units::Watts(row.it_w), loss = units::Watts(row.loss_w);
  const thermal::CoolingState a = thermal::CoolingPlant(cooling).Steady(it, loss, outdoor);
  const thermal::CoolingState b = thermal::CoolingPlant(moved).Steady(it, loss, outdoor);
  report::TickRow out = row;
  out.chillers_w += units::ToWatts(b.chillers) - units::ToWatts(a.chillers);
  out.pumps_w += units::ToWatts(b.pumps) - units::ToWatts(a.pumps);
  out.crah_fans_w += units::ToWatts(b.crah_fans) - units::ToWatts(a.crah_fans);
  out.sink_fans_w += units::ToWatts(b.sink_fans) - units::ToWatts(a.sink_fans);
  const double d_electric = units::ToWatts(b.electric) - units::ToWatts(a.electric);
  out.cooling_w += d_electric;
  out.facility_w += d_electric;
  out.grid_w += d_electric;
  out.rejected_w += units::ToWatts(b.rejected) - units::ToWatts(a.rejected);
  out.economizer_share = b.economizer_share;
  out.liquid_free_share = b.liquid_free_share;
  out.gpu_coolant_c += units::ToCelsius(b.gpu_coolant) - units::ToCelsius(a.gpu_coolant);
  return out;
}

}  // namespace firstwall::live
