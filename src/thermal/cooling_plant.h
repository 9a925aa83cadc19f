// The cooling chain from the racks to the outdoors, evaluated per window at the window's average
// heat (quasi-steady; the plant's own dynamics are the water loop's lag below).
//
// Heat paths. A share of the IT heat goes into cold plates (direct-to-chip liquid) and through the
// CDUs into the warm facility-water loop, supplied at `liquid_supply` (W32: 32 C); the rest of the
// IT heat and the electrical conversion losses go to air, to CRAHs on a colder chilled-water loop
// at `air_supply`. Each loop returns `loop_delta_t` warmer than it is supplied.
//
// Heat rejection, per loop. The sink water is the cooling tower's leaving water, wet bulb +
// `tower_approach`, or a dry cooler's, dry bulb + `dry_cooler_approach`. With a water-side
// economizer, a plate heat exchanger (`economizer_approach`) cools the return water toward the
// sink water: all of the load when sink + approach is at or below the supply temperature
// (economizer mode, chillers off), the share (T_return - T_available) / (T_return - T_supply) of
// it when the sink is between supply and return (partial), none above. Chillers
// (thermal/chiller.h) carry the rest, condensing into the sink water; their compressor work is
// rejected too.
//
// Auxiliaries. Pumps: `pump_share` of the heat carried (CDU, facility and condenser pumps; a 10 K
// loop at 300 kPa with 70% pumps needs about 1% of the heat, P = dp V / eta). CRAH fans and tower
// or dry-cooler fans follow the fan affinity law, power ~ airflow^3 with airflow ~ heat at a fixed
// air temperature rise: `fan_share` x design heat x (heat / design heat)^3, down to a 20% speed
// floor. Below the floor units stage off (or cycle) at floor speed, so the power falls in
// proportion to the heat, fan_share x 0.2^2 x heat: a plant at 0.1% of its design heat does not
// turn every CRAH and tower fan at its minimum speed (the fan counterpart of chiller staging and
// cycling below PLR_min). Water (towers only): evaporation 1.47 L per kWh rejected (latent heat of
// water at about 2,450 kJ/kg, REFERENCE.md) and blowdown = evaporation / (cycles of concentration -
// 1).
//
// Water loop thermal mass: the heat the plant rejects follows the building's heat with a
// first-order lag (time constant `loop_time_constant`, minutes), so pulses of the load reach the
// chillers and towers smoothed, and the energy stored in the loops is tracked for the balance.
//
// The foundation model (a constant whole-plant COP, `constant_cop`) remains for quick studies.
#pragma once

#include <optional>

#include "thermal/chiller.h"
#include "thermal/weather.h"
#include "units/quantity.h"

namespace firstwall::thermal {

enum class HeatSink { kCoolingTower, kDryCooler };
// How `liquid_share` of the IT heat reaches the facility water (issue #18).
//   kColdPlate: direct-to-chip cold plates on a CDU's secondary loop.
//   kSinglePhaseImmersion: the servers sit in a tank of dielectric fluid (a hydrocarbon oil) that
//     pumps circulate through the CDU's heat exchanger; the chips see the fluid's supply, the CDU
//     approach above the facility water, as with cold plates. The fluid pumps draw
//     `fluid_pump_share` of the tank's heat on top of `pump_share` (a 10 K rise in a fluid of
//     about 800 kg/m3 and 2.2 kJ/(kg K) at 100 kPa of head through 70 % efficient pumps: 1 /
//     (800 x 2200 x 10) m3/s per W x 100 kPa / 0.7 = 0.8 %; the density and heat capacity of
//     polyalphaolefin and gas-to-liquid immersion fluids, the head and efficiency assumptions).
//   kTwoPhaseImmersion: the fluid boils on the chips at its saturation temperature
//     `boiling_point` (50 C for 3M Fluorinert FC-3284 at one atmosphere, 3M product data) and
//     condenses on coils fed by the facility water; no fluid pumps. The chips see the boiling
//     fluid, or, when the water through the condenser (facility supply + the CDU approach) is
//     warmer than that, the fluid at that temperature (the tank's pressure rises until the vapour
//     condenses: a first-order stand-in for the fluid's saturation curve).
// In both immersion kinds the server fans are gone: the tank's heat needs no CRAH airflow (the
// rest of the IT heat and the conversion losses still go to air). Not modelled: the fluid's
// vapour losses, tank thermal mass, and chip-to-fluid resistances (give chip_to_coolant).
enum class LiquidCooling { kColdPlate, kSinglePhaseImmersion, kTwoPhaseImmersion };

struct CoolingConfig {
  std::optional<double> constant_cop;  // the foundation model when set
  units::Power capacity;               // design heat; zero: unrated (constant COP only)
  double liquid_share = 0;             // of the IT heat, into cold plates or immersion tanks
  LiquidCooling liquid = LiquidCooling::kColdPlate;
  double fluid_pump_share = 0.008;                        // single-phase immersion only
  units::Temperature boiling_point = units::Celsius(50);  // two-phase immersion only
  units::Temperature liquid_supply = units::Celsius(32);
  units::Temperature air_supply = units::Celsius(12);
  units::TemperatureDifference loop_delta_t = units::KelvinDifference(10);
  HeatSink sink = HeatSink::kCoolingTower;
  units::TemperatureDifference tower_approach = units::KelvinDifference(4);
  units::TemperatureDifference dry_cooler_approach = units::KelvinDifference(8);
  bool economizer = true;
  units::TemperatureDifference economizer_approach = units::KelvinDifference(2);
  const ChillerCurves* chiller = nullptr;
  int chillers = 4;  // identical units per loop, sharing its design heat; 0: chiller-less, the
                     // supply floats up to what the economizer reaches
  LowLoad low_load = LowLoad::kCycling;  // chillers below their minimum part-load ratio
  // What the chips see. The CDU is a counterflow heat exchanger of effectiveness eps between the
  // facility water and the cold plates' secondary loop (the secondary side the smaller heat
  // capacity rate): Q = eps C_sec (T_sec,return - T_fac,supply), so the secondary supply sits
  //   (1 - eps) / eps x dT_sec
  // above the facility supply, dT_sec the secondary loop's rise, which grows with the load at its
  // fixed flow (dT_sec = load share x the design rise). eps about 0.8 and 1.5 L/min per kW
  // (about 10 K) are REFERENCE.md's figures: 2.5 K at design. Server inlet air sits
  // `crah_approach` above the chilled water; then the chip-to-coolant thermal resistance and time
  // constant of the GPU package (site/site.h).
  double cdu_effectiveness = 0.8;
  units::TemperatureDifference cdu_secondary_delta_t = units::KelvinDifference(10);
  // The CDUs as rated units (optional). Each serves `racks_per_cdu` consecutive racks (the last
  // one what is left) and carries their cold plates' heat, liquid_share x their racks' IT power,
  // against `cdu_capacity` (its rated heat at its rated approach: liquid-to-liquid CDUs for AI
  // halls are built from a few hundred kW to about 1.35 MW, LiquidStack's CDU-1MW at N+1, with a
  // 3-5 K approach). The site (site/site.h) then reports the busiest CDU's peak and the heat and
  // hours above capacity, and gives each CDU's racks its own secondary supply, the approach above
  // at that CDU's load instead of the plant's: at fixed flows and effectiveness the approach
  // grows in proportion to the heat, so an overloaded CDU warms its racks' cold plates (a CDU at
  // twice its rating: 5 K instead of 2.5 K) and their GPUs throttle through the chip model when
  // that reaches their slowdown point. Not modelled: a CDU's pump flow limit and redundancy, its
  // secondary return temperature and thermal mass, any effect on the plant (the heat still reaches
  // the facility water). Zero capacity: unrated, and the plant's approach for all.
  units::Power cdu_capacity;  // per CDU; zero: unrated
  int racks_per_cdu = 0;      // 0: no CDU grouping declared
  units::TemperatureDifference crah_approach = units::KelvinDifference(10);
  units::ThermalResistance chip_to_coolant = units::KelvinPerWatt(0.04);
  units::Duration chip_time_constant = units::Seconds(30);
  double pump_share = 0.01;
  double crah_fan_share = 0.03;  // at design airflow
  double sink_fan_share = 0.01;  // tower or dry-cooler fans at design
  double cycles_of_concentration = 4;
  units::Duration loop_time_constant = units::Minutes(5);
};

// The temperature of the coolant the chips sit in, given the liquid secondary's supply: that
// supply for cold plates and single-phase immersion, no colder than the fluid's boiling point for
// two-phase immersion.
units::Temperature ChipCoolant(const CoolingConfig& c, units::Temperature secondary_supply);

// Window averages of the plant.
struct CoolingState {
  units::Power heat_in;       // from the building (IT + conversion losses)
  units::Power heat_carried;  // by the loops toward the plant (lagged heat_in)
  units::Power chillers, pumps, crah_fans, sink_fans;
  units::Power electric;        // all of the above
  units::Power rejected;        // to the outdoors: carried heat + chiller work + CRAH fans + pumps
  units::Power unmet;           // above the chillers' capacity
  double economizer_share = 0;  // of the carried heat removed without chillers
  double liquid_free_share = 0, air_free_share = 0;  // the same per loop (1 when a loop is empty)
  double water_l_per_s = 0;                          // evaporation + blowdown
  units::Temperature wet_bulb;
  units::Temperature liquid_supply, air_supply;  // as delivered (above setpoint when floating)
  units::Temperature server_inlet;               // air into the servers
  units::Temperature gpu_coolant;                // what the GPU packages reject heat into
  units::TemperatureDifference cdu_approach;     // secondary supply above facility supply
};

class CoolingPlant {
 public:
  explicit CoolingPlant(CoolingConfig config);

  // Advances the plant over a window of `seconds` with average building heat `it_heat` +
  // `loss_heat`, returning the window's averages.
  CoolingState Advance(double seconds, units::Power it_heat, units::Power loss_heat,
                       const OutdoorConditions& outdoor);
  // Steady state at constant heat (no lag), for tests and sizing.
  CoolingState Steady(units::Power it_heat, units::Power loss_heat,
                      const OutdoorConditions& outdoor) const;
  // Heat held in the loops above the steady state (J): heat in minus heat carried, integrated.
  double stored_j() const { return stored_j_; }
  // The lag has settled to within 1 W of the building's heat.
  bool Settled() const;
  const CoolingConfig& config() const { return config_; }
  units::Power capacity() const { return config_.capacity; }

 private:
  CoolingState Evaluate(units::Power it_heat, units::Power loss_heat, double carried_share,
                        const OutdoorConditions& outdoor) const;

  CoolingConfig config_;
  double carried_w_ = -1;  // heat the loops deliver now; < 0 before the first window
  double last_in_w_ = 0;
  double stored_j_ = 0;
};

}  // namespace firstwall::thermal
