// The emulator's answer to a coolant supply setpoint written over Modbus (modbus_server.h,
// docs/operations.md "Apply"). The simulation runs with the scenario's setpoint from start to end
// (the site model takes facility.cooling.liquid_supply once, site/site.h); rather than restart it,
// each tick's row is re-evaluated with the cooling plant's own model (thermal/cooling_plant.h):
// its steady state at the row's building heat (IT + conversion losses) and outdoor conditions,
// once at the scenario's supply and once at the written one. The row's chiller, pump and fan
// electricity move by the difference of the two states' (and the cooling, facility and grid power
// with them, the heat rejected by the difference of theirs), the GPU coolant temperature by the
// difference of the two states' GPU coolant. Not modelled: the loops' lag after the change (the
// shift takes effect at the next tick) and its feedback on the GPUs' leakage power.
#pragma once

#include "report/tick_series.h"
#include "thermal/cooling_plant.h"
#include "thermal/weather.h"

namespace firstwall::live {

// `row` as it would read with the liquid supply at `supply_c` (C) instead of
// `cooling.liquid_supply`, in outdoor conditions `outdoor`.
report::TickRow ShiftSupplySetpoint(const report::TickRow& row,
                                    const thermal::CoolingConfig& cooling,
                                    const thermal::OutdoorConditions& outdoor, double supply_c);

}  // namespace firstwall::live
