#include "scenario/energy_loader.h"

#include <set>

#include "power/published_profiles.h"
#include "units/quantity.h"

namespace firstwall::scenario {
using namespace units;

namespace {
constexpr double kJoulesPerKwh = 3.6e6;
constexpr double kJoulesPerBtu = 1055.05585262;  // international-table Btu (NIST SP 811)
constexpr double kJoulesPerMmbtu = 1e6 * kJoulesPerBtu;

// A charge level above the discharge level of the same signal would charge and discharge at once.
void CheckOrder(const Section& b, const char* charge, const char* discharge,
                const std::optional<double>& lo, const std::optional<double>& hi) {
  if (lo && hi && *lo > *hi) {
    b.Fail(charge,
           std::string("the battery would charge above the level at which it discharges (") +
               charge + " over " + discharge + ")",
           std::string("set ") + charge + " at or below " + discharge);
  }
}

std::optional<double> Base(const std::optional<Power>& p) {
  return p ? std::optional<double>(ToWatts(*p)) : std::nullopt;
}
}  // namespace

site::SiteBattery ReadBattery(const Section& b) {
  site::SiteBattery bat;
  bat.power = b.Quantity<Power>("power");
  bat.energy = b.Quantity<Energy>("energy");
  bat.round_trip_efficiency = b.Fraction("round_trip_efficiency");
  bat.initial_soc = b.Fraction("initial_soc");
  bat.discharge_above = b.OptionalQuantity<Power>("discharge_above");
  bat.charge_below = b.OptionalQuantity<Power>("charge_below");
  auto price = [&](const char* key) {
    const auto p = b.OptionalQuantity<EnergyPrice>(key);
    return p ? std::optional<double>(p->base()) : std::nullopt;
  };
  auto carbon = [&](const char* key) {
    const auto c = b.OptionalQuantity<CarbonIntensity>(key);
    return c ? std::optional<double>(c->base()) : std::nullopt;  // g/J
  };
  bat.discharge_price_above_usd_per_j = price("discharge_price_above");
  bat.charge_price_below_usd_per_j = price("charge_price_below");
  bat.discharge_carbon_above_g_per_j = carbon("discharge_carbon_above");
  bat.charge_carbon_below_g_per_j = carbon("charge_carbon_below");
  const bool any = bat.discharge_above || bat.charge_below || bat.discharge_price_above_usd_per_j ||
                   bat.charge_price_below_usd_per_j || bat.discharge_carbon_above_g_per_j ||
                   bat.charge_carbon_below_g_per_j;
  if (!any) {
    b.Fail("power", "the battery has no rule telling it when to charge or discharge",
           "give discharge_above/charge_below (peak shaving), discharge_price_above/"
           "charge_price_below (price) or discharge_carbon_above/charge_carbon_below (carbon)");
  }
  CheckOrder(b, "charge_below", "discharge_above", Base(bat.charge_below),
             Base(bat.discharge_above));
  CheckOrder(b, "charge_price_below", "discharge_price_above", bat.charge_price_below_usd_per_j,
             bat.discharge_price_above_usd_per_j);
  CheckOrder(b, "charge_carbon_below", "discharge_carbon_above", bat.charge_carbon_below_g_per_j,
             bat.discharge_carbon_above_g_per_j);
  return bat;
}

site::SiteGeneration ReadGeneration(const Section& g) {
  site::SiteGeneration gen;
  gen.capacity = g.Quantity<Power>("capacity");
  gen.ramp_time = g.Quantity<Duration>("ramp_time");
  if (g.Has("heat_rate_btu_per_kwh")) {
    gen.heat_rate = g.Number("heat_rate_btu_per_kwh") * kJoulesPerBtu / kJoulesPerKwh;
    gen.fuel_usd_per_j = g.Quantity<EnergyPrice>("fuel_price").base();
    gen.fuel_co2_g_per_j = g.Number("fuel_co2_kg_per_mmbtu") * 1e3 / kJoulesPerMmbtu;
  } else {
    for (const char* key : {"fuel_price", "fuel_co2_kg_per_mmbtu"}) {
      if (g.Has(key)) {
        g.Fail(key,
               std::string(key) +
                   " needs the generator's heat rate to turn fuel into "
                   "electricity",
               "add heat_rate_btu_per_kwh (about 7,600 for combined-cycle gas)");
      }
    }
  }
  return gen;
}

std::vector<power::RenewableSource> ReadRenewables(const Section& facility,
                                                   const std::string& base_dir, int first_hour,
                                                   const ReadFileFn& read_file) {
  std::vector<power::RenewableSource> out;
  if (!facility.Has("renewables")) return out;
  std::set<std::string> names;
  for (const Section& r : facility.List("renewables")) {
    power::RenewableSource src;
    src.name = r.String("name");
    if (!names.insert(src.name).second) {
      r.Fail("name", "two renewable plants are named '" + src.name + "'");
    }
    const std::string path = r.File("profile", base_dir);
    const std::string csv = read_file(path, r.ValueAt("profile"));
    const power::ProfileOutput output =
        r.Enum("output") == "dc" ? power::ProfileOutput::kDc : power::ProfileOutput::kAc;
    const power::RenewableProfile profile =
        ReadNamedFile(r, "profile", [&] { return power::ReadRenewableProfile(csv, path, output); });
    if (r.Has("output") && profile.format != power::RenewableProfile::Format::kPvwatts) {
      r.Fail("output",
             std::string("output picks a column of a PVWatts file; '") + path + "' is a " +
                 power::FormatName(profile.format) + " profile with one output",
             "leave output out");
    }
    src.capacity_factor = profile.capacity_factor;
    src.first_hour = first_hour;
    src.capacity = r.Quantity<Power>("capacity");
    src.share = r.Fraction("share");
    src.usd_per_joule = r.Quantity<EnergyPrice>("price").base();
    out.push_back(std::move(src));
  }
  return out;
}

namespace {
int BusStage(const Section& s, const std::vector<power::ConversionStage>& chain, int racks) {
  const std::string name = s.String("connects_at");
  std::string names;
  for (size_t i = 0; i < chain.size(); ++i) {
    names += (i ? ", '" : "'") + chain[i].name + "'";
    if (chain[i].name != name) continue;
    if (chain[i].it_equipment) {
      s.Fail("connects_at", "'" + name + "' is IT equipment, inside the servers",
             "connect at a facility stage's bus (the 800 VDC bus: the stage feeding it)");
    }
    if (chain[i].racks_per_unit > 0 && chain[i].racks_per_unit < racks) {
      s.Fail("connects_at",
             "'" + name + "' has a unit per " + std::to_string(chain[i].racks_per_unit) +
                 " racks; a plant or battery feeds one bus that serves the whole site",
             "connect at a stage without racks_per_unit (or one whose unit serves all " +
                 std::to_string(racks) + " racks)");
    }
    return static_cast<int>(i);
  }
  s.Fail("connects_at", "no power_chain stage is named '" + name + "'",
         names.empty() ? "give facility.power_chain first" : "the stages are " + names);
}
}  // namespace

void ReadDcBuses(const Section& facility, site::FacilityConfig& f, int racks) {
  if (facility.Has("renewables")) {
    const std::vector<Section> plants = facility.List("renewables");
    for (size_t k = 0; k < plants.size(); ++k) {
      const Section& r = plants[k];
      const bool at = r.Has("connects_at"), conv = r.Has("converter_efficiency");
      if (conv && !at) {
        r.Fail("converter_efficiency",
               "converter_efficiency is the DC-DC converter of a plant on a DC bus",
               "give connects_at (the stage whose bus it feeds), or leave it out");
      }
      if (!at) continue;
      if (!conv) {
        r.Fail("connects_at", "a plant on a DC bus needs its DC-DC converter's efficiency",
               "give converter_efficiency (MPPT DC-DC converters: about 98-99 %)");
      }
      f.renewables[k].bus_stage = BusStage(r, f.power_chain, racks);
      f.renewables[k].converter_efficiency = r.Fraction("converter_efficiency");
    }
  }
  if (f.battery && facility.Sub("battery").Has("connects_at")) {
    f.battery->bus_stage = BusStage(facility.Sub("battery"), f.power_chain, racks);
  }
}

void ReadLiquidCooling(const Section& cooling, thermal::CoolingConfig& c) {
  const std::string kind = cooling.Enum("liquid");
  c.liquid = kind == "single_phase_immersion" ? thermal::LiquidCooling::kSinglePhaseImmersion
             : kind == "two_phase_immersion"  ? thermal::LiquidCooling::kTwoPhaseImmersion
                                              : thermal::LiquidCooling::kColdPlate;
  if (c.liquid != thermal::LiquidCooling::kColdPlate && c.liquid_share <= 0) {
    cooling.Fail("liquid",
                 "immersion captures the servers' heat in its tanks, and liquid_share is 0",
                 "give liquid_share, near 1 for immersed servers (e.g. liquid_share: 95 %)");
  }
  const bool single = c.liquid == thermal::LiquidCooling::kSinglePhaseImmersion;
  const bool two = c.liquid == thermal::LiquidCooling::kTwoPhaseImmersion;
  if (cooling.Has("fluid_pump_share") && !single) {
    cooling.Fail("fluid_pump_share", "fluid_pump_share is for single-phase immersion's fluid pumps",
                 "set liquid: single_phase_immersion, or leave fluid_pump_share out");
  }
  if (cooling.Has("boiling_point") && !two) {
    cooling.Fail("boiling_point", "boiling_point is the two-phase immersion fluid's",
                 "set liquid: two_phase_immersion, or leave boiling_point out");
  }
  c.fluid_pump_share = single ? cooling.Fraction("fluid_pump_share") : 0.0;
  c.boiling_point = cooling.Quantity<Temperature>("boiling_point");
}

}  // namespace firstwall::scenario
