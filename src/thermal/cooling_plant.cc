#include "thermal/cooling_plant.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "thermal/psychrometrics.h"

namespace firstwall::thermal {
using namespace units;

namespace {
constexpr double kEvaporationLitersPerKwh = 1.47;  // REFERENCE.md, "Cooling"
constexpr double kFanSpeedFloor = 0.2;

// Affinity law: fan power ~ speed^3, speed ~ heat at a fixed air temperature rise. Below the speed
// floor units stage off at floor speed: power in proportion to the heat.
double FanWatts(double share, double design_w, double heat_w) {
  if (design_w <= 0 || heat_w <= 0) return 0;
  const double speed = std::min(heat_w / design_w, 1.0);
  if (speed < kFanSpeedFloor) return share * kFanSpeedFloor * kFanSpeedFloor * heat_w;
  return share * design_w * speed * speed * speed;
}
}  // namespace

units::Temperature ChipCoolant(const CoolingConfig& c, units::Temperature secondary_supply) {
  if (c.liquid == LiquidCooling::kTwoPhaseImmersion) {
    return std::max(c.boiling_point, secondary_supply);
  }
  return secondary_supply;
}

CoolingPlant::CoolingPlant(CoolingConfig config) : config_(std::move(config)) {
  if (config_.constant_cop) {
    FW_CHECK(*config_.constant_cop > 0, "COP must be positive");
  } else {
    FW_CHECK(config_.chiller != nullptr && config_.capacity > Watts(0),
             "a cooling chain needs chillers and a design capacity");
    FW_CHECK(config_.chillers >= 0 && config_.cycles_of_concentration > 1, "bad cooling plant");
    FW_CHECK(config_.chillers > 0 || config_.economizer, "no chillers and no economizer");
  }
}

CoolingState CoolingPlant::Evaluate(Power it_heat, Power loss_heat, double carried_share,
                                    const OutdoorConditions& outdoor) const {
  const CoolingConfig& c = config_;
  CoolingState s;
  s.heat_in = it_heat + loss_heat;
  s.heat_carried = s.heat_in * carried_share;
  s.wet_bulb = WetBulb(outdoor.dry_bulb, outdoor.relative_humidity);
  s.liquid_supply = c.liquid_supply;
  s.air_supply = c.air_supply;
  auto finish_temperatures = [&] {
    s.server_inlet = s.air_supply + c.crah_approach;
    const double design = ToWatts(c.capacity) * c.liquid_share;
    const double load = design > 0 ? ToWatts(it_heat) * c.liquid_share / design : 1.0;
    s.cdu_approach = c.cdu_secondary_delta_t *
                     (std::min(load, 1.5) * (1.0 - c.cdu_effectiveness) / c.cdu_effectiveness);
    s.gpu_coolant =
        c.liquid_share > 0 ? ChipCoolant(c, s.liquid_supply + s.cdu_approach) : s.server_inlet;
  };
  if (c.constant_cop) {
    finish_temperatures();
    s.electric = s.chillers = s.heat_carried / *c.constant_cop;
    s.rejected = s.heat_carried + s.electric;
    return s;
  }
  const double cap = ToWatts(c.capacity);
  const double liquid_design = cap * c.liquid_share;
  const double air_design = cap * std::max(1.0 - c.liquid_share, 0.05);
  double q_liquid = ToWatts(it_heat) * c.liquid_share * carried_share;
  double q_air = (ToWatts(it_heat) * (1.0 - c.liquid_share) + ToWatts(loss_heat)) * carried_share;
  // CRAH fans and pumps heat the streams they move.
  const double crah = FanWatts(c.crah_fan_share, air_design, q_air);
  q_air += crah;
  double pumps = c.pump_share * (q_liquid + q_air);
  const double carried = q_liquid + q_air;
  if (carried > 0) {
    q_liquid += pumps * q_liquid / carried;
    q_air += pumps * q_air / carried;
  }
  if (c.liquid == LiquidCooling::kSinglePhaseImmersion) {
    // The immersion fluid's own pumps, on the tank's heat; their work heats the fluid.
    const double fluid = c.fluid_pump_share * ToWatts(it_heat) * c.liquid_share * carried_share;
    pumps += fluid;
    q_liquid += fluid;
  }
  const Temperature sink = c.sink == HeatSink::kCoolingTower
                               ? s.wet_bulb + c.tower_approach
                               : outdoor.dry_bulb + c.dry_cooler_approach;
  double chiller_w = 0, unmet_w = 0, economized_w = 0;
  auto loop = [&](double q, Temperature& supply, double design, double& free_out) {
    free_out = 1.0;
    if (c.chillers == 0) {
      // No chillers: the economizer carries everything, at whatever temperature it reaches.
      supply = std::max(supply, sink + c.economizer_approach);
      economized_w += q;
      return;
    }
    if (q <= 0) return;
    const Temperature ret = supply + c.loop_delta_t;
    double free_share = 0;
    if (c.economizer) {
      const Temperature available = sink + c.economizer_approach;
      free_share = std::clamp(
          ToKelvinDifference(ret - available) / ToKelvinDifference(c.loop_delta_t), 0.0, 1.0);
    }
    economized_w += free_share * q;
    free_out = free_share;
    // Each loop has its own chillers, `chillers` units sharing the loop's design heat.
    const ChillerOperation op =
        RunChillers(*c.chiller, c.chillers, Watts(std::max(design, 1.0) / c.chillers),
                    Watts((1.0 - free_share) * q), supply, sink, c.low_load);
    chiller_w += ToWatts(op.electric);
    unmet_w += ToWatts(op.unmet);
  };
  loop(q_liquid, s.liquid_supply, liquid_design, s.liquid_free_share);
  loop(q_air, s.air_supply, air_design, s.air_free_share);
  finish_temperatures();
  const double to_sink = q_liquid + q_air + chiller_w;
  const double sink_design = cap * (1.0 + (c.chillers > 0 ? 1.0 / c.chiller->cop_ref : 0.0));
  const double sink_fans = FanWatts(c.sink_fan_share, sink_design, to_sink);

  s.chillers = Watts(chiller_w);
  s.pumps = Watts(pumps);
  s.crah_fans = Watts(crah);
  s.sink_fans = Watts(sink_fans);
  s.electric = Watts(chiller_w + pumps + crah + sink_fans);
  s.rejected = Watts(to_sink);
  s.unmet = Watts(unmet_w);
  s.economizer_share = (q_liquid + q_air) > 0 ? economized_w / (q_liquid + q_air) : 1.0;
  if (c.sink == HeatSink::kCoolingTower) {
    const double evaporation = kEvaporationLitersPerKwh * to_sink / 3.6e6;  // L/s
    s.water_l_per_s = evaporation * (1.0 + 1.0 / (c.cycles_of_concentration - 1.0));
  }
  return s;
}

CoolingState CoolingPlant::Steady(Power it_heat, Power loss_heat,
                                  const OutdoorConditions& outdoor) const {
  return Evaluate(it_heat, loss_heat, 1.0, outdoor);
}

CoolingState CoolingPlant::Advance(double seconds, Power it_heat, Power loss_heat,
                                   const OutdoorConditions& outdoor) {
  const double in = ToWatts(it_heat + loss_heat);
  last_in_w_ = in;
  if (config_.constant_cop || carried_w_ < 0 || in <= 0) {
    carried_w_ = in;  // the foundation model has no loop; a first window starts settled
    return Evaluate(it_heat, loss_heat, 1.0, outdoor);
  }
  // Exact for a constant input over the window: x(t) = in + (x0 - in) e^(-t/tau).
  const double tau = ToSeconds(config_.loop_time_constant);
  const double decay = std::exp(-seconds / tau);
  const double gap = carried_w_ - in;
  const double average = in + gap * (seconds > 0 ? tau / seconds * (1.0 - decay) : 1.0);
  carried_w_ = in + gap * decay;
  stored_j_ += (in - average) * seconds;
  return Evaluate(it_heat, loss_heat, average / in, outdoor);
}

bool CoolingPlant::Settled() const {
  return config_.constant_cop || carried_w_ < 0 || std::abs(carried_w_ - last_in_w_) < 1.0;
}

}  // namespace firstwall::thermal
