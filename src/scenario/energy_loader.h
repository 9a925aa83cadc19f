// The facility's energy supply in a scenario: `facility.battery`, `facility.generation` and
// `facility.renewables` (site/site_config.h); and how the cooling captures its liquid share,
// `facility.cooling.liquid` (thermal/cooling_plant.h). Internal to the loader.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "power/renewable.h"
#include "scenario/reader.h"
#include "site/site_config.h"
#include "thermal/cooling_plant.h"

namespace firstwall::scenario {

// Refuses (InputError at the key): a battery without any discharge or charge rule; a charge
// level above its discharge level (charge_below over discharge_above, charge_price_below over
// discharge_price_above, charge_carbon_below over discharge_carbon_above).
site::SiteBattery ReadBattery(const Section& b);
// Refuses fuel_price or fuel_co2_kg_per_mmbtu without heat_rate_btu_per_kwh.
site::SiteGeneration ReadGeneration(const Section& g);
// `facility.renewables`: each profile read with `read_file(path, where named)`; `first_hour` is
// the series hour at simulated time zero. Refuses two plants of one name and a bad profile
// (file:line:col, with the scenario line that named it).
using ReadFileFn = std::function<std::string(const std::string&, const SourceLocation&)>;
std::vector<power::RenewableSource> ReadRenewables(const Section& facility,
                                                   const std::string& base_dir, int first_hour,
                                                   const ReadFileFn& read_file);

// `connects_at` of each plant in `facility.renewables` and of `facility.battery`, resolved against
// f.power_chain: the named stage must serve all `racks` of the site (no smaller racks_per_unit)
// and not be IT equipment. Refuses an unknown name (listing the stages), converter_efficiency
// without connects_at and connects_at without it.
void ReadDcBuses(const Section& facility, site::FacilityConfig& f, int racks);

// `facility.cooling.liquid` and its keys into `c`. Refuses immersion with liquid_share 0,
// fluid_pump_share without single-phase immersion and boiling_point without two-phase.
void ReadLiquidCooling(const Section& cooling, thermal::CoolingConfig& c);

}  // namespace firstwall::scenario
