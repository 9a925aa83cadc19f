#include "scenario/schema.h"

#include <charconv>

#include "core/error.h"
#include "thermal/chiller.h"
#include "units/parse.h"

namespace firstwall::scenario {
namespace {
using units::Dimension;
using VT = ValueType;

KeySpec Section(std::string path, bool required, std::string description) {
  return {std::move(path),       VT::kSection, Dimension::kPower, required, "", "", "", "",
          std::move(description)};
}
KeySpec List(std::string path, bool required, std::string description) {
  return {std::move(path),       VT::kList, Dimension::kPower, required, "", "", "", "",
          std::move(description)};
}
KeySpec Str(std::string path, bool required, std::string description) {
  return {std::move(path),       VT::kString, Dimension::kPower, required, "", "", "", "",
          std::move(description)};
}
KeySpec Int(std::string path, std::string def, std::string lo, std::string hi,
            std::string description) {
  const bool required = def.empty();
  return {std::move(path), VT::kInt, Dimension::kPower,     required, std::move(def), std::move(lo),
          std::move(hi),   "",       std::move(description)};
}
KeySpec OptInt(std::string path, std::string lo, std::string hi, std::string description) {
  return {std::move(path), VT::kInt, Dimension::kPower,     false, "", std::move(lo),
          std::move(hi),   "",       std::move(description)};
}
KeySpec Num(std::string path, std::string def, std::string lo, std::string hi,
            std::string description) {
  const bool required = def.empty();
  return {std::move(path),       VT::kNumber,   Dimension::kPower, required,
          std::move(def),        std::move(lo), std::move(hi),     "",
          std::move(description)};
}
KeySpec OptNum(std::string path, std::string lo, std::string hi, std::string description) {
  return {std::move(path), VT::kNumber, Dimension::kPower,     false, "", std::move(lo),
          std::move(hi),   "",          std::move(description)};
}
KeySpec Frac(std::string path, std::string def, std::string lo, std::string hi,
             std::string description) {
  const bool required = def.empty();
  return {std::move(path),       VT::kFraction, Dimension::kPower, required,
          std::move(def),        std::move(lo), std::move(hi),     "",
          std::move(description)};
}
KeySpec Enum(std::string path, std::string def, std::string choices, std::string description) {
  const bool required = def.empty();
  return {std::move(path),
          VT::kEnum,
          Dimension::kPower,
          required,
          std::move(def),
          "",
          "",
          std::move(choices),
          std::move(description)};
}
// Quantity: required when `def` is "!", optional without default when "".
KeySpec Qty(std::string path, Dimension dim, std::string def, std::string lo, std::string hi,
            std::string description) {
  const bool required = def == "!";
  if (required) def.clear();
  return {std::move(path),       VT::kQuantity, dim,           required,
          std::move(def),        std::move(lo), std::move(hi), "",
          std::move(description)};
}
// A data file named by its path relative to the scenario.
KeySpec FileKey(std::string path, bool required, std::string description) {
  return {std::move(path),       VT::kFile, Dimension::kPower, required, "", "", "", "",
          std::move(description)};
}
// An optional threshold on the tariff's price or carbon intensity, over their files' ranges.
KeySpec PriceThreshold(std::string path, std::string description) {
  return Qty(std::move(path), Dimension::kEnergyPrice, "", "-10 USD/kWh", "100 USD/kWh",
             std::move(description));
}
KeySpec CarbonThreshold(std::string path, std::string description) {
  return Qty(std::move(path), Dimension::kCarbonIntensity, "", "0 g/kWh", "5000 g/kWh",
             std::move(description));
}

std::string Parent(std::string_view path) {
  const size_t dot = path.rfind('.');
  return dot == std::string_view::npos ? std::string() : std::string(path.substr(0, dot));
}

std::optional<double> Bound(const KeySpec& k, const std::string& text) {
  if (text.empty()) return std::nullopt;
  if (k.type == VT::kQuantity) return units::ParseBase(text, k.dim);
  double v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  FW_CHECK(ec == std::errc() && end == text.data() + text.size(), "bad bound " + text);
  return v;
}

std::string TypeText(const KeySpec& k) {
  switch (k.type) {
    case VT::kSection:
      return "section";
    case VT::kList:
      return "list of sections";
    case VT::kInt:
      return "integer";
    case VT::kNumber:
      return "number";
    case VT::kFraction:
      return "fraction (0.96 or \"96 %\")";
    case VT::kBool:
      return "true/false";
    case VT::kString:
      return "text";
    case VT::kEnum:
      return "one of " + k.choices;
    case VT::kQuantity:
      return std::string(units::DimensionName(k.dim));
    case VT::kFile:
      return "file path";
    case VT::kStringMap:
      return "map of text";
    case VT::kNumberList:
      return "list of numbers";
    case VT::kTextList:
      return "list of values";
  }
  return "";
}

}  // namespace

Schema::Schema(std::string name, std::vector<KeySpec> keys)
    : name_(std::move(name)), keys_(std::move(keys)) {
  for (const KeySpec& k : keys_) {
    // Bounds and defaults are checked once here, so a typo in this file fails every test.
    (void)MinOf(k);
    (void)MaxOf(k);
    if (k.type == VT::kQuantity && !k.default_text.empty()) {
      (void)units::ParseBase(k.default_text, k.dim);
    }
  }
}

const KeySpec* Schema::Find(std::string_view path) const {
  for (const KeySpec& k : keys_) {
    if (k.path == path) return &k;
  }
  return nullptr;
}

std::vector<std::string> Schema::ChildNames(std::string_view prefix) const {
  std::vector<std::string> out;
  for (const KeySpec& k : keys_) {
    if (Parent(k.path) == prefix) {
      out.push_back(prefix.empty() ? k.path : k.path.substr(prefix.size() + 1));
    }
  }
  return out;
}

std::optional<double> MinOf(const KeySpec& k) { return Bound(k, k.min_text); }
std::optional<double> MaxOf(const KeySpec& k) { return Bound(k, k.max_text); }

namespace {
// The switch keys shared by a scenario's cluster.fabric and `firstwall collective --fabric`.
std::vector<KeySpec> FabricSwitchKeys(const std::string& prefix) {
  return {
      Int(prefix + "leaf_radix", "64", "2", "1024", "Ports of a leaf switch."),
      Num(prefix + "oversubscription", "1", "0.1", "64",
          "Leaf down capacity over up capacity (1 = non-blocking, 4 = 4:1)."),
      Num(prefix + "spine_oversubscription", "1", "0.1", "64",
          "Spine down capacity over up capacity to the super-spines, when the fabric needs a "
          "third tier (1 = non-blocking)."),
      Qty(prefix + "switch_latency", Dimension::kDuration, "1 us", "0 s", "1 ms",
          "Latency per network hop."),
      Int(prefix + "planes", "1", "1", "16",
          "Independent scale-out planes; each GPU's NIC bandwidth is split over one port per "
          "plane and traffic is striped over them. Fault targets take a pK/ prefix (plane 0 "
          "without)."),
  };
}

std::vector<KeySpec> With(std::vector<KeySpec> keys, const std::vector<KeySpec>& more) {
  keys.insert(keys.end(), more.begin(), more.end());
  return keys;
}

}  // namespace

const Schema& ScenarioSchema() {
  using D = Dimension;
  static const Schema schema(
      "scenario",
      With(
          {
              Int("firstwall", "", "1", "1",
                  "Scenario format version. This build reads version 1."),
              Section("site", true, "Where the site is and what its energy costs."),
              Str("site.name", true, "Name of the site, copied into the outputs."),
              {"site.weather_file", VT::kFile, D::kPower, false, "", "", "", "",
               "EnergyPlus weather file (.epw) with hourly outdoor conditions, relative to the "
               "scenario file. Without it the outdoor conditions are constant."},
              Qty("site.outdoor_temperature", D::kTemperature, "20 C", "-60 C", "60 C",
                  "Constant outdoor dry-bulb temperature, used when there is no weather file."),
              Frac("site.outdoor_relative_humidity", "0.5", "0", "1",
                   "Constant outdoor relative humidity, used when there is no weather file."),
              Qty("site.electricity_price", D::kEnergyPrice, "", "0 USD/kWh", "10 USD/kWh",
                  "Price of electricity drawn from the grid (flat tariff). Required unless "
                  "tariff_file gives an hourly price."),
              Qty("site.carbon_intensity", D::kCarbonIntensity, "0 g/kWh", "0 g/kWh", "5000 g/kWh",
                  "CO2 emitted per kWh drawn from the grid (flat); about 367 g/kWh for the US "
                  "grid average (EIA, 2023: 0.81 lb/kWh). Without it carbon is not counted."),
              FileKey("site.tariff_file", false,
                      "Hourly price and carbon intensity: a CSV with header "
                      "hour,price_usd_per_mwh,carbon_g_per_kwh whose rows repeat (24: daily, 168: "
                      "weekly, 8,760: yearly, 8,784: a leap year; other counts are refused), "
                      "relative to the scenario; replaces electricity_price and carbon_intensity."),
              Qty("site.grid_import_limit", D::kPower, "", "1 kW", "10 GW",
                  "Largest power the grid connection may deliver; compared with the peak demand."),
              Qty("site.grid_ramp_limit", D::kPower, "", "1 kW", "10 GW",
                  "Largest rise of the site's draw within one minute the grid connection allows "
                  "(a rate: this much per minute). firstwall forecast raises a finding when jobs "
                  "restarting together after a failure ramp faster (summary.json restarts), and "
                  "the power expert answers it by staggering restarts. Without it, unrated."),

              Section("cluster", true,
                      "The GPU cluster: what GPUs, how many, how they are racked."),
              Str("cluster.system", false,
                  "A system of the catalog (`firstwall catalog`: GB200-NVL72, GB300-NVL72, "
                  "HGX-B300): its GPU, gpus_per_node, nvlink_domain, nodes_per_rack, "
                  "node_base_power, rack_power_limit and facility.cooling.liquid_share become "
                  "the defaults of those keys."),
              Str("cluster.gpu", false,
                  "GPU type, a name from the catalog (`firstwall catalog`) or from catalog.gpus. "
                  "Required without cluster.system."),
              Int("cluster.nodes", "", "1", "1000000", "Number of GPU nodes (servers)."),
              Int("cluster.gpus_per_node", "8", "1", "72",
                  "GPUs in each node (an HGX server, or a compute tray of an NVL72 rack); also the "
                  "number of rails of the fabric, GPU i of every node on rail i."),
              OptInt("cluster.nvlink_domain", "1", "576",
                     "GPUs joined by NVLink, a multiple of gpus_per_node: 72 for GB200/GB300 NVL72 "
                     "racks of 4-GPU trays. Without it, one node is one NVLink domain."),
              Int("cluster.nodes_per_rack", "4", "1", "128", "Nodes in each rack."),
              Qty("cluster.node_base_power", D::kPower, "", "0 W", "50 kW",
                  "Non-GPU power of one node (CPUs, memory, NICs, fans, drives), taken as "
                  "constant; required without cluster.system. "
                  "For DGX H100: rated 10.2 kW, of which the 8 GPUs take at most 5.6 kW; measured "
                  "node maximum in training 8.4 kW (Latif et al., IEEE Access 2025)."),
              Qty("cluster.gpu_power_cap", D::kPower, "", "10 W", "5 kW",
                  "Power limit set on every GPU (nvidia-smi -pl). Without it GPUs may draw up to "
                  "TDP."),
              Qty("cluster.nic_bandwidth", D::kBandwidth, "400 Gb/s", "1 Gb/s", "1.6 Tb/s",
                  "Scale-out bandwidth per GPU, one direction (one NDR 400 Gb/s NIC per GPU is the "
                  "common HGX design)."),
              Qty("cluster.link_latency", D::kDuration, "5 us", "0 s", "1 ms",
                  "Latency per hop of a ring collective step."),
              Qty("cluster.rack_power_limit", D::kPower, "", "1 kW", "2 MW",
                  "Power a rack may draw (its PDUs or busway rating); compared with the peak "
                  "rack."),
              Section("cluster.fabric", false,
                      "Scale-out fabric: rail-optimized Clos, one NIC per GPU at nic_bandwidth "
                      "(src/network/fabric.h)."),
              Enum("cluster.fabric.routing", "ecmp", "ecmp|adaptive",
                   "ecmp: a hash of the flow picks the spine; adaptive: the least-loaded spine. "
                   "Without it: adaptive for technology infiniband (Quantum-2 adaptive "
                   "routing), spectrum-x and ultra-ethernet (packet spraying), ecmp otherwise."),
              Enum("cluster.fabric.topology", "rail_optimized", "rail_optimized|rail_only",
                   "rail_optimized: every leaf on every spine. rail_only: each rail a Clos of its "
                   "own, no switch joining two rails; a flow between rails crosses its NVLink "
                   "domain to the GPU on the other rail first (Wang et al., arXiv:2307.12169). A "
                   "rail-only rail is at most two tiers: leaf_radix leaves. Its rails run through "
                   "the positions of an NVLink domain (a node's GPUs, or the 72 of an NVL72 "
                   "rack), so it needs whole domains; it takes no spine_oversubscription."),
              {"cluster.fabric.technology", VT::kEnum, D::kPower, false, "", "", "",
               "infiniband|roce|spectrum-x|ultra-ethernet",
               "What the scale-out fabric is built from (src/network/fabric_power.h): "
               "infiniband on NVIDIA Quantum-2 QM9700 switches (64 x 400 Gb/s, 747 W), roce, "
               "spectrum-x and ultra-ethernet on 51.2 Tb/s Ethernet switches (Spectrum-4 SN5600: "
               "64 x 800 GbE to 256 x 200 GbE, 940 W). It sets the leaf radix at the NIC's port "
               "speed and the default routing, and counts the switches' and their optics' "
               "power into the IT load, shared over the nodes (so node and rack power include "
               "it). Without it the fabric draws nothing (the summary says so)."},
              Enum("cluster.fabric.optics", "pluggable", "pluggable|cpo|copper",
                   "Optics in the switches' ports, with technology: pluggable (21.25 pJ/bit, an "
                   "800G twin-port OSFP at 17 W), cpo (co-packaged, 3.5x less: 6.07 pJ/bit) or "
                   "copper (passive DAC, 0.1 W a port)."),
              Qty("cluster.fabric.switch_power", D::kPower, "", "0 W", "50 kW",
                  "Power of one switch without optics, with technology; default the technology's "
                  "switch's typical power."),
              Enum("cluster.fabric.kind", "clos", "clos|torus",
                   "clos: NVLink domains and the rail-optimized Clos. torus: the accelerators' own "
                   "inter-chip torus (Google TPU ICI; the card needs an ici block) is the scale-up "
                   "and scale-out fabric of one slice: every collective of a training job runs on "
                   "it (hardware/torus.h), the Clos keys are unused and the slice is one domain. "
                   "Traffic beyond the slice (multislice over the data-center network) is not "
                   "modelled: one slice, at most the card's pod. A card with ici (TPU) needs "
                   "torus."),
              {"cluster.fabric.torus_dims", VT::kNumberList, D::kPower, false, "", "1", "64", "",
               "Chips along each dimension of the torus slice, x first (e.g. [4, 4, 4] for a "
               "v5p cube, [16, 16] for a Trillium pod): as many entries as the card's "
               "ici.torus_dims, their product the cluster's nodes x gpus_per_node. Required with "
               "kind torus. Tensor parallelism runs along x, data parallelism over the next "
               "dimensions (rank order tp, cp, dp, pp)."},
              {"cluster.fabric.twisted", VT::kBool, D::kPower, false, "false", "", "", "",
               "Twist the torus (TPU v4 and v5p slices k x k x 2k or k x 2k x 2k, k a multiple "
               "of 4): each short dimension's wraparound lands k chips along the long ones "
               "(hardware/torus.h). The whole slice's all-to-all runs faster (4x4x8: 1.75x); a "
               "group smaller than the slice loses the short dimensions' wraparound."},
              Section("cluster.storage_network", false,
                      "Front-end network to the storage system, separate from the GPU fabric; "
                      "carries checkpoints (workloads[].checkpoint_every)."),
              Qty("cluster.storage_network.nic_per_node", D::kBandwidth, "!", "1 Gb/s", "3.2 Tb/s",
                  "Front-end bandwidth of one node, one direction (for example 2 x 200 Gb/s "
                  "on a DGX H100)."),
              Qty("cluster.storage_network.storage_bandwidth", D::kBandwidth, "!", "1 Gb/s",
                  "10 PB/s",
                  "Aggregate write bandwidth of the storage system, shared max-min by the jobs "
                  "that checkpoint at the same time."),

              Section("facility", true, "Power conversion and cooling of the building."),
              List("facility.power_chain", true,
                   "Conversion stages from the IT load outward to the grid (for example rack PSU, "
                   "PDU, UPS, transformer). Each draws (P_out + fixed_loss) / efficiency. At least "
                   "one stage; a lossless connection is one stage of efficiency 1."),
              Str("facility.power_chain[].name", true, "Name of the stage."),
              Frac("facility.power_chain[].efficiency", "", "0.5", "1",
                   "Proportional efficiency of the stage."),
              Qty("facility.power_chain[].fixed_loss", D::kPower, "0 W", "0 W", "100 MW",
                  "No-load loss of each module of the stage, drawn whatever the load."),
              Qty("facility.power_chain[].rating", D::kPower, "", "1 W", "10 GW",
                  "Rated output of the stage; its peak load is reported against it."),
              Qty("facility.power_chain[].apparent_rating", D::kApparentPower, "", "1 VA",
                  "10000 MVA",
                  "Nameplate in kVA (transformers, UPS) instead of rating: the rating is this x "
                  "power_factor."),
              Frac("facility.power_chain[].power_factor", "0.95", "0.5", "1",
                   "Real over apparent power of the load the stage carries, for apparent_rating "
                   "(server PSUs with power-factor correction: about 0.95-0.99)."),
              Frac("facility.power_chain[].resistive_loss", "0", "0", "0.2",
                   "I^2 R loss at rated load as a share of the rating (grows with the square of "
                   "the load); needs a rating."),
              OptInt("facility.power_chain[].racks_per_unit", "1", "1000000",
                     "Makes the chain a tree: one unit of this stage per this many racks (a PDU "
                     "per rack, a UPS per row), each with the rating, losses and modules given "
                     "here and carrying its racks' load; a tripped unit darkens only its racks. "
                     "Outward, each stage must group whole units of the stage inside it. Without "
                     "it, one unit for the whole site."),
              Int("facility.power_chain[].modules", "1", "1", "10000",
                  "N: modules whose ratings add up to the stage's rating (UPS modules, "
                  "transformers, PSUs)."),
              Enum("facility.power_chain[].redundancy", "N", "N|N+1|2N",
                   "Modules installed beyond N; all share the load, each adds its fixed loss, "
                   "and the resistive loss spreads over them."),
              Enum("facility.power_chain[].on_overload", "report", "report|cap_gpus|trip",
                   "When the stage's load exceeds its rating: report it, lower the GPUs' power "
                   "limit until it fits (slower steps), or trip (everything behind it goes dark "
                   "and the jobs stop). Needs a rating."),
              {"facility.power_chain[].it_equipment", VT::kBool, D::kPower, false, "false", "", "",
               "",
               "The stage is part of the IT equipment (server PSUs, node DC-DC): PUE measures IT "
               "power at the input of the outermost such stage, so its losses count as IT (The "
               "Green Grid). IT-equipment stages come first in the list."},
              Section(
                  "facility.battery", false,
                  "Battery storage at the grid connection (or, with connects_at, on a DC bus): it "
                  "shaves the facility's peaks, follows the tariff's price or carbon intensity, "
                  "and stores surplus renewable output (docs/models.md, Energy supply). It "
                  "charges from the grid up to 98 % of the import limit (of the bus stage's "
                  "rating on a bus)."),
              Qty("facility.battery.power", D::kPower, "!", "1 kW", "10 GW",
                  "Charge and discharge power limit."),
              Qty("facility.battery.energy", D::kEnergy, "!", "1 kWh", "100 GWh", "Usable energy."),
              Frac("facility.battery.round_trip_efficiency", "0.9", "0.5", "1",
                   "Energy out over energy in (lithium-ion systems: about 85-90%)."),
              Frac("facility.battery.initial_soc", "0.5", "0", "1",
                   "State of charge at the start, as a share of the energy."),
              Str("facility.battery.connects_at", false,
                  "Direct-DC storage: the name of the power_chain stage whose output bus the "
                  "battery sits on (the 800 VDC bus a solid-state transformer feeds). Its rules "
                  "then read that bus's load after the plants on it, and it charges from the grid "
                  "only within that stage's rating. Without it, at the grid connection."),
              Qty("facility.battery.discharge_above", D::kPower, "", "0 W", "10 GW",
                  "Peak shaving: the battery discharges while the facility (on a DC bus: the "
                  "bus's load after the plants on it) draws more than this. The battery needs at "
                  "least one of the discharge and charge rules."),
              Qty("facility.battery.charge_below", D::kPower, "", "0 W", "10 GW",
                  "Peak shaving: the battery charges while the facility (on a DC bus: the bus's "
                  "load) draws less than this."),
              PriceThreshold(
                  "facility.battery.discharge_price_above",
                  "Price arbitrage: while the tariff's price is above this the battery "
                  "discharges to cover the site's whole demand (within its power). A discharge "
                  "rule that fires wins over a charge rule."),
              PriceThreshold(
                  "facility.battery.charge_price_below",
                  "Price arbitrage: while the tariff's price is below this the battery charges "
                  "at full power."),
              CarbonThreshold(
                  "facility.battery.discharge_carbon_above",
                  "Carbon: while the tariff's carbon intensity is above this the battery "
                  "discharges to cover the site's whole demand."),
              CarbonThreshold(
                  "facility.battery.charge_carbon_below",
                  "Carbon: while the tariff's carbon intensity is below this the battery charges "
                  "at full power. Surplus renewable output always charges it."),
              Section("facility.generation", false,
                      "Dispatchable on-site generation (gas turbines, engines, a small modular "
                      "reactor) "
                      "covering demand above "
                      "site.grid_import_limit."),
              Qty("facility.generation.capacity", D::kPower, "!", "1 kW", "10 GW",
                  "Largest output."),
              Qty("facility.generation.ramp_time", D::kDuration, "10 min", "1 s", "1 d",
                  "Time to ramp from zero to full output (the ramp-rate limit)."),
              OptNum("facility.generation.heat_rate_btu_per_kwh", "3412", "30000",
                     "Fuel burnt per kWh generated, in Btu (3,412 Btu is 1 kWh). EIA Electric "
                     "Power Annual, Tables 8.1-8.2: about 7,600 for combined-cycle gas, about "
                     "11,000 for simple-cycle gas turbines, about 10,450 for nuclear plants. "
                     "Without it fuel, its cost and its CO2 are not counted."),
              Qty("facility.generation.fuel_price", D::kEnergyPrice, "0 USD/MMBtu", "0 USD/MMBtu",
                  "1000 USD/MMBtu",
                  "Price of the fuel's energy (USD/MMBtu or USD/GJ), charged on heat_rate x the "
                  "energy generated. EIA Electric Power Monthly, Table 4.2: natural gas delivered "
                  "to US power plants cost about 2.5-3.5 USD/MMBtu in 2023-2024. Nuclear fuel: "
                  "about 0.5-0.7 USD/MMBtu (NEI's fuel cost of about 5-7 USD/MWh over 10,450 "
                  "Btu/kWh)."),
              Num("facility.generation.fuel_co2_kg_per_mmbtu", "0", "0", "200",
                  "CO2 emitted per MMBtu of fuel burnt: 53.06 for natural gas (EPA, 40 CFR 98 "
                  "Subpart C, Table C-1), 0 for nuclear fuel."),
              List("facility.renewables", false,
                   "Solar and wind plants supplying the site behind the meter, each an hourly "
                   "capacity-factor profile scaled by its capacity and share. Their output is "
                   "used first; a surplus charges the battery and the rest is curtailed (the site "
                   "exports nothing)."),
              Str("facility.renewables[].name", true, "Name of the plant."),
              FileKey("facility.renewables[].profile", true,
                      "Hourly output, relative to the scenario, in one of three layouts told "
                      "apart by their first line: firstwall's CSV with header "
                      "hour,output_kw_per_kw (output over nameplate, 0 to 1; 24, 168, 8,760 or "
                      "8,784 rows repeating, as the tariff); a renewables.ninja point download "
                      "as published (kW for the capacity in its metadata line, hours moved from "
                      "UTC to local standard time by its local_time column); or a PVWatts hourly "
                      "download as published (watts for its DC System Size). Row k holds from "
                      "hour k of the weather year. data/renewables/ has solar and wind profiles "
                      "for Leesburg, VA (data/README.md)."),
              Enum("facility.renewables[].output", "ac", "ac|dc",
                   "Which output of a PVWatts file: ac (AC System Output, after the inverter) or "
                   "dc (DC Array Output, for a plant on a DC bus: connects_at). Only for PVWatts "
                   "files."),
              Qty("facility.renewables[].capacity", D::kPower, "!", "1 kW", "100 GW",
                  "Nameplate capacity of the plant (the profile's 1 kW per kW): a published "
                  "file's output is divided by the capacity it was computed for and scaled to "
                  "this."),
              Str("facility.renewables[].connects_at", false,
                  "Direct-DC supply: the name of the power_chain stage whose output bus the plant "
                  "feeds through its own DC-DC converter (a solar array on the 800 VDC bus "
                  "after the solid-state transformer), so that stage and those outward of it "
                  "carry only what the plant leaves; the stage must serve the whole site. Needs "
                  "converter_efficiency. Without it, at the grid connection."),
              {"facility.renewables[].converter_efficiency", VT::kFraction, D::kPower, false, "",
               "0.5", "1", "",
               "With connects_at: the plant's DC-DC converter onto the bus, its output over "
               "the profile's (MPPT DC-DC converters: about 98-99 %). The profile should then be "
               "the plant's DC output, before any inverter."},
              Frac("facility.renewables[].share", "1", "0", "1",
                   "Share of the plant's output the site takes: 1 for a plant of its own, less "
                   "for a power purchase agreement on part of a larger plant."),
              Qty("facility.renewables[].price", D::kEnergyPrice, "0 USD/MWh", "0 USD/MWh",
                  "10 USD/kWh",
                  "Price paid per unit of the site's share of the output, used or curtailed (a "
                  "pay-as-produced PPA; 0 for a plant whose cost is sunk). LBNL, Utility-Scale "
                  "Solar 2024 Edition: newly signed solar PPAs averaged 35 USD/MWh (levelized, "
                  "2023 dollars)."),
              Section("facility.cooling", true,
                      "The cooling chain: cold plates and CRAHs, water loops, economizer, "
                      "chillers, cooling towers or dry coolers (src/thermal/cooling_plant.h)."),
              OptNum("facility.cooling.cop", "0.5", "100",
                     "A constant whole-plant coefficient of performance (heat removed per unit of "
                     "electricity) instead of the cooling chain: the foundation model, for quick "
                     "studies; the chain's keys must then be left out."),
              Qty("facility.cooling.capacity", D::kPower, "", "1 kW", "10 GW",
                  "Design heat of the plant: chillers, fans and pumps are sized to it, and the "
                  "peak "
                  "heat load is reported against it. Required by the cooling chain."),
              Frac("facility.cooling.liquid_share", "0", "0", "1",
                   "Share of the IT heat captured by direct-to-chip cold plates (about 70-85% "
                   "for liquid-cooled GPU racks); the rest, and the conversion losses, go to "
                   "air."),
              Enum("facility.cooling.liquid", "cold_plate",
                   "cold_plate|single_phase_immersion|two_phase_immersion",
                   "How liquid_share of the IT heat is captured: direct-to-chip cold plates, "
                   "servers immersed in a pumped dielectric oil (single phase), or in a fluid that "
                   "boils on the chips and condenses on water-fed coils (two phase). Immersion "
                   "captures the whole server's heat: set liquid_share near 1 (and node_base_power "
                   "without server fans). src/thermal/cooling_plant.h has the model."),
              Frac("facility.cooling.fluid_pump_share", "0.008", "0", "0.2",
                   "Single-phase immersion: power of the pumps moving the dielectric fluid per "
                   "unit of tank heat, on top of pump_share (a 10 K rise in an 800 kg/m3, 2.2 "
                   "kJ/(kg K) oil at 100 kPa with 70% efficient pumps: 0.8%)."),
              Qty("facility.cooling.boiling_point", D::kTemperature, "50 C", "20 C", "90 C",
                  "Two-phase immersion: the fluid's boiling point in the tank, the chips' coolant "
                  "(3M Fluorinert FC-3284: 50 C at one atmosphere). Facility water warmer than "
                  "this, after the condenser's approach, raises it."),
              Qty("facility.cooling.liquid_supply", D::kTemperature, "32 C", "5 C", "60 C",
                  "Facility-water supply temperature of the cold-plate loop (ASHRAE W32: up to "
                  "32 C)."),
              Qty("facility.cooling.air_supply", D::kTemperature, "12 C", "4 C", "30 C",
                  "Chilled-water supply temperature of the CRAH coils."),
              Qty("facility.cooling.loop_delta_t", D::kTemperatureDifference, "10 K", "1 K", "30 K",
                  "Return minus supply temperature of each water loop."),
              Enum("facility.cooling.heat_sink", "cooling_tower", "cooling_tower|dry_cooler",
                   "Where the heat goes: evaporative cooling towers (track the wet bulb, use "
                   "water) or dry coolers (track the dry bulb, no water)."),
              Qty("facility.cooling.tower_approach", D::kTemperatureDifference, "4 K", "1 K",
                  "15 K", "Tower leaving water minus outdoor wet bulb (about 4-6 K)."),
              Qty("facility.cooling.dry_cooler_approach", D::kTemperatureDifference, "8 K", "1 K",
                  "25 K", "Dry-cooler leaving water minus outdoor dry bulb."),
              {"facility.cooling.economizer", VT::kBool, D::kPower, false, "true", "", "", "",
               "Water-side economizer: a plate heat exchanger cools the loops with sink water "
               "whenever it is cold enough, the chillers trim the rest."},
              Qty("facility.cooling.economizer_approach", D::kTemperatureDifference, "2 K", "0 K",
                  "10 K", "Approach of the economizer's plate heat exchanger."),
              Enum("facility.cooling.chiller", "carrier-19xr-1143kw", thermal::ChillerNames("|"),
                   "Chiller performance curves (DOE-2/EnergyPlus electric EIR model) from the "
                   "EnergyPlus chiller dataset."),
              Int("facility.cooling.chillers", "4", "0", "1000",
                  "Identical chillers per water loop, sharing its design heat; as many run, at "
                  "equal part load, as draw the least power. 0: a chiller-less plant, whose supply "
                  "temperature floats up "
                  "to what the economizer reaches on hot days."),
              Enum("facility.cooling.low_load", "cycling", "cycling|hot_gas_bypass",
                   "What a chiller does below its minimum part-load ratio: cycle on and off, "
                   "drawing its minimum-load power for the share of the time it is on "
                   "(EnergyPlus's Chiller:Electric:EIR), or run all the time at that power with "
                   "hot gas bypassed to make up the load (false loading)."),
              Frac("facility.cooling.cdu_effectiveness", "0.8", "0.3", "0.99",
                   "Effectiveness of the CDU's heat exchanger (about 0.8, REFERENCE.md): the cold "
                   "plates' supply sits (1 - eps) / eps x the secondary rise above the facility "
                   "water."),
              Qty("facility.cooling.cdu_secondary_delta_t", D::kTemperatureDifference, "10 K",
                  "1 K", "30 K",
                  "Temperature rise of the cold plates' secondary loop at design heat (1.5 L/min "
                  "per kW gives about 10 K); it scales with the load."),
              Qty("facility.cooling.cdu_capacity", D::kPower, "", "1 kW", "100 MW",
                  "Rated heat of one CDU (at its rated approach), which makes the CDUs resources "
                  "of the site: each carries liquid_share of its racks' IT heat, the busiest one's "
                  "peak is reported against this and `walls` finds it, and an overloaded CDU "
                  "warms its racks' cold plates. Large liquid-to-liquid CDUs carry about "
                  "1-1.4 MW. Needs racks_per_cdu; none: CDUs unrated."),
              OptInt("facility.cooling.racks_per_cdu", "1", "100000",
                     "Consecutive racks served by one CDU (the last one serves what is left); "
                     "also the CDUs of failures, when failures.racks_per_cdu is left out."),
              Qty("facility.cooling.crah_approach", D::kTemperatureDifference, "10 K", "0 K",
                  "25 K", "Server inlet air above the chilled-water supply (an assumption)."),
              Qty("facility.cooling.chip_to_coolant", D::kThermalResistance, "0.04 K/W",
                  "0.001 K/W", "1 K/W",
                  "GPU temperature rise over its coolant per watt: about 0.03-0.04 K/W for cold "
                  "plates (vendor figures, secondary); higher for air heat sinks."),
              Qty("facility.cooling.chip_time_constant", D::kDuration, "30 s", "1 s", "1 h",
                  "Thermal time constant of a GPU package on its cold plate or heat sink."),
              Frac(
                  "facility.cooling.pump_share", "0.01", "0", "0.2",
                  "Pump power (CDU, facility and condenser water) per unit of heat carried: a 10 K "
                  "loop at 300 kPa with 70% efficient pumps needs about 1%."),
              Frac("facility.cooling.crah_fan_share", "0.03", "0", "0.3",
                   "CRAH fan power per unit of air-side design heat at full airflow (affinity "
                   "law below it)."),
              Frac("facility.cooling.sink_fan_share", "0.01", "0", "0.2",
                   "Cooling-tower or dry-cooler fan power per unit of heat rejected at design "
                   "(affinity law below it)."),
              Num("facility.cooling.cycles_of_concentration", "4", "1.5", "50",
                  "Tower water cycles of concentration: blowdown = evaporation / (cycles - 1)."),
              Qty("facility.cooling.loop_time_constant", D::kDuration, "5 min", "1 s", "12 h",
                  "Time constant of the water loops' thermal mass: the heat reaching the plant "
                  "follows the building's heat with this lag."),

              List("workloads", false,
                   "The training jobs that run on the cluster (a scenario has workloads, "
                   "services or both)."),
              Str("workloads[].name", true, "Name of the job, unique in the scenario."),
              Enum("workloads[].type", "", "training", "Kind of workload."),
              Str("workloads[].model", true,
                  "Model card: a catalog name (`firstwall catalog`), a name from catalog.models, "
                  "or a "
                  "path to a model card YAML file relative to the scenario."),
              OptInt(
                  "workloads[].gpus", "1", "10000000",
                  "GPUs of the job; must equal tp x pp x dp x cp. Gives dp when dp is left out."),
              Int("workloads[].tp", "1", "1", "72",
                  "Tensor-parallel degree, inside one node's NVLink domain."),
              Int("workloads[].pp", "1", "1", "1024", "Pipeline-parallel degree (1F1B schedule)."),
              Int("workloads[].vpp", "1", "1", "64",
                  "Virtual pipeline stages per GPU (interleaved 1F1B); 1 for plain 1F1B."),
              {"workloads[].layers_per_stage", VT::kNumberList, D::kPower, false, "", "0", "10000",
               "",
               "Transformer layers on each pipeline stage, first to last: pp whole numbers summing "
               "to the model's layers, e.g. [7, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 8, 7] for "
               "Llama 3 405B's 126 layers on 16 stages. Each stage holds at least one layer per "
               "virtual stage (vpp), except that the first and the last may hold one fewer (a "
               "virtual stage with only the embedding, or only the output head and loss). Without "
               "it: an even split when pp x vpp divides the layers, else the split that makes the "
               "slowest stage fastest, counting the embedding on the first stage and the output "
               "head and loss on the last."},
              Int("workloads[].cp", "1", "1", "1024",
                  "Context-parallel degree (ring attention over the sequence)."),
              Int("workloads[].ep", "1", "1", "1024",
                  "Expert-parallel degree (MoE models), across data-parallel ranks."),
              OptInt("workloads[].dp", "1", "10000000",
                     "Data-parallel degree. Derived from gpus / (tp x pp x cp) when left out."),
              Int("workloads[].global_batch", "", "1", "100000000", "Sequences per training step."),
              {"workloads[].micro_batch", VT::kInt, D::kPower, false, "1", "1", "65536", "auto",
               "Sequences per micro-batch on each data-parallel rank, or auto: the fastest that "
               "fits "
               "in memory."},
              Int("workloads[].sequence_length", "", "1", "10000000", "Tokens per sequence."),
              Enum("workloads[].dtype", "auto", "auto|fp32|tf32|fp16|bf16|fp8|fp4",
                   "Data type of the matrix math; auto: bf16 where the GPU card has it, else fp16 "
                   "(with loss scaling). fp8 and fp4 (NVFP4 training) cast GEMM inputs only; "
                   "activations and attention stay in 16 bits. One the GPU card has."),
              Enum("workloads[].recompute", "none", "none|selective|full|auto",
                   "Activation recomputation; auto picks the fastest mode that fits in memory."),
              {"workloads[].sequence_parallel", VT::kBool, D::kPower, false, "true", "", "", "",
               "Sequence parallelism with tensor parallelism (Korthikanti et al. 2022): norms and "
               "dropout split across the TP group, all-gather/reduce-scatter instead of "
               "all-reduce."},
              Int("workloads[].zero", "1", "0", "3",
                  "ZeRO stage: 0 all-reduces gradients; 1 shards optimizer state (Megatron's "
                  "distributed optimizer); 2 also gradients; 3 also weights."),
              {"workloads[].overlap_grad_reduce", VT::kBool, D::kPower, false, "true", "", "", "",
               "Overlap the data-parallel gradient reduction with the last micro-batch's "
               "backward."},
              Num("workloads[].expert_imbalance", "1", "1", "16",
                  "MoE load imbalance: tokens of the busiest expert over the mean."),
              Enum("workloads[].ep_overlap", "none", "none|dualpipe",
                   "Expert all-to-all and compute: none exposes every dispatch and combine; "
                   "dualpipe hides each chunk's all-to-all under another micro-batch's compute "
                   "(DeepSeek-V3, arXiv:2412.19437 sec. 3.2.1), the excess exposed."),
              Enum("workloads[].layer_kernels", "eager", "eager|fused",
                   "How a layer's non-GEMM work runs: eager (each norm, activation, residual, "
                   "rotary and cast its own kernel and HBM pass, as eager PyTorch FSDP, "
                   "TorchTitan, llm-foundry) or fused (Megatron-LM, Transformer Engine). "
                   "docs/models.md gives the calibration."),
              Qty("workloads[].start", D::kDuration, "0 s", "0 s", "3660 d",
                  "When the job starts, from the start of the simulation. With a scheduler: "
                  "when it is submitted to the queue."),
              Qty("workloads[].duration", D::kDuration, "", "1 s", "3660 d",
                  "How long the job runs. Without it, until the end of the simulation. With a "
                  "scheduler: its work, the wall time it needs alone on a healthy cluster."),
              OptInt("workloads[].steps", "1", "1000000000",
                     "With a scheduler: the job's length in training steps (its work is steps x "
                     "the step time of the training model); instead of duration or tokens."),
              OptNum("workloads[].tokens", "1", "1000000000000000000",
                     "With a scheduler: the job's length in training tokens, rounded up to whole "
                     "steps of global_batch x sequence_length; instead of duration or steps."),
              Str("workloads[].tenant", false,
                  "With a scheduler: who owns the job (its quota, scheduler.quotas). Default: "
                  "the job's name."),
              Int("workloads[].priority", "0", "-1000000", "1000000",
                  "With a scheduler: higher runs first under the priority policy and may "
                  "preempt lower."),
              {"workloads[].preemptible", VT::kBool, D::kPower, false, "true", "", "", "",
               "With a scheduler: the priority policy may stop the job for a higher-priority "
               "one (it resumes from its last checkpoint)."},
              Enum("workloads[].placement", "cluster", "nvlink_domain|node|rack|leaf|pod|cluster",
                   "With a scheduler: keep the job's nodes inside one group of this level "
                   "(preferred, or required with placement_required)."),
              {"workloads[].placement_required", VT::kBool, D::kPower, false, "false", "", "", "",
               "With a scheduler: wait until one group of the placement level has room instead "
               "of spreading."},
              {"workloads[].checkpoint_every", VT::kQuantity, D::kDuration, false, "", "1 min",
               "3660 d", "auto",
               "Interval between synchronous checkpoints: training stops while the model state "
               "is written over the storage network (cluster.storage_network), and the GPUs "
               "idle. Without it, no checkpoints. With a scheduler, auto: Daly's optimum for the "
               "write time and the job's own failure rate."},
              Qty("workloads[].restart_overhead", D::kDuration, "", "0 s", "1 d",
                  "With a scheduler: reload from the last checkpoint and warm-up after a restart "
                  "(as scheduler.restart_overhead). Default: scheduler.restart_overhead."),
              {"workloads[].flexible", VT::kBool, D::kPower, false, "false", "", "", "",
               "With a scheduler: the job's first start may be deferred, and its GPUs capped, "
               "by power- and carbon-aware scheduling (scheduler.flexibility)."},
              Qty("workloads[].deadline", D::kDuration, "", "1 s", "3660 d",
                  "With a scheduler: when the job's work must be done, from the start of the "
                  "simulation (after workloads[].start). Summary: scheduler.deadlines_missed; "
                  "flexibility never holds the job past its latest start (deadline less its work "
                  "and checkpoint writes at nominal speed). Without it, no deadline."),
              Qty("workloads[].checkpoint_size", D::kDataSize, "", "1 MB", "1 PB",
                  "Bytes written per checkpoint. Without it, the model state: 14 bytes per "
                  "parameter (bf16 weights, fp32 master weights and two Adam moments; "
                  "Rajbhandari et al., ZeRO, SC20)."),
              Section("workloads[].activity", false,
                      "GPU activity (0 idle, 1 full power) in each phase of a step. Assumptions of "
                      "the foundation model, to be replaced by per-op power."),
              Frac("workloads[].activity.compute", "0.9", "0", "1",
                   "Activity during forward and backward math."),
              Frac("workloads[].activity.communication", "0.3", "0", "1",
                   "Activity while waiting on collectives."),
              Frac("workloads[].activity.optimizer", "0.5", "0", "1",
                   "Activity during the optimizer update (HBM-bound)."),

              List("services", false,
                   "Inference services beside the training jobs: replicas of one model on the "
                   "cluster's GPUs, continuous batching, fed by traces or synthetic requests "
                   "(workload/serving.h). Their replicas take whole nodes after the workloads'."),
              Str("services[].name", true, "Name of the service, unique in the scenario."),
              Str("services[].model", true,
                  "Model card: a catalog name, a name from catalog.models, or a model card file."),
              Int("services[].replicas", "", "1", "1000000",
                  "Replicas of the model; with autoscaling, the most that may serve."),
              Int("services[].tp", "1", "1", "72", "Tensor-parallel degree of each replica."),
              Int("services[].pp", "1", "1", "64",
                  "Pipeline-parallel degree of each replica; stages need not divide the layers "
                  "(the slowest stage paces an iteration, docs/models.md)."),
              Int("services[].ep", "1", "1", "1024",
                  "Expert-parallel degree (MoE). Up to tp: the experts split inside each tensor-"
                  "parallel group (tp x pp GPUs a replica). Above tp, a multiple of it: wide EP, "
                  "attention in ep/tp data-parallel groups and the routed experts over all ep "
                  "GPUs (ep x pp GPUs a replica; engine.max_seqs must split over the groups)."),
              Enum("services[].dtype", "auto", "auto|fp16|bf16|fp8|int8|fp4",
                   "Data type of weights and math; auto: bf16 where the GPU card has it, else "
                   "fp16. fp8, int8 and fp4 (NVFP4/MXFP4, 4.5 bits with its block scales) hold "
                   "the weights and GEMM inputs; activations stay in 16 bits. One the GPU card "
                   "has."),
              Enum("services[].kv_cache_dtype", "auto", "auto|fp8",
                   "Data type of the KV cache: auto, the activations' 16 bits; fp8, one byte an "
                   "element (any GPU: it is stored, not computed, in fp8)."),
              Section("services[].speculative", false,
                      "Speculative decoding or multi-token prediction (workload/speculative.h): a "
                      "drafter proposes draft_tokens tokens, the model checks them in one pass of "
                      "draft_tokens + 1 tokens a sequence and keeps (1 - a^(g+1)) / (1 - a) on "
                      "average (Leviathan et al. 2023)."),
              Enum("services[].speculative.method", "", "draft|ngram|mtp",
                   "draft: a smaller draft model on the same GPUs; ngram: prompt lookup (no "
                   "model, no GPU cost); mtp: the model's multi-token-prediction module, one "
                   "layer of its shape (DeepSeek-V3)."),
              Str("services[].speculative.draft_model", false,
                  "method draft: the draft model, a catalog name or model card file; it must "
                  "share the model's vocabulary."),
              OptInt("services[].speculative.draft_tokens", "1", "16",
                     "Tokens drafted per step (gamma; for mtp the prediction depth). Default: 1 "
                     "for mtp, 4 otherwise."),
              Frac("services[].speculative.acceptance", "", "0", "1",
                   "Chance that each drafted token is accepted (alpha), below 1: measured for "
                   "the workload (DeepSeek-V3 reports 0.85-0.9 for its MTP's second token)."),
              Qty("services[].start", D::kDuration, "0 s", "0 s", "3660 d",
                  "When the service starts; its requests' times count from here."),
              Qty("services[].duration", D::kDuration, "", "1 s", "3660 d",
                  "How long it serves. Without it, until the end of the simulation."),
              Enum("services[].router", "least_tokens", "round_robin|least_tokens|prefix_aware",
                   "How requests are spread over replicas: in turn, to the replica with the "
                   "fewest outstanding tokens, or to the replica caching the longest prefix of "
                   "the prompt unless it is overloaded."),
              OptInt("services[].sample_replicas", "1", "1000000",
                     "Simulate only this many replicas, each fed its share of the requests at "
                     "random, and scale counts, tokens and energy to the fleet (for large "
                     "fleets; docs/validation.md gives the error)."),
              OptInt("services[].priority", "-1000000", "1000000",
                     "With a scheduler: the priority of the service's replicas in the scheduler's "
                     "queue; under the priority policy a replica may preempt lower-priority "
                     "preemptible jobs. Default: one above the highest priority of the queue's "
                     "jobs."),
              Section("services[].slo", false, "Service-level objectives of each request."),
              Qty("services[].slo.ttft", D::kDuration, "2 s", "1 ms", "1 h",
                  "Time to first token."),
              Qty("services[].slo.tpot", D::kDuration, "100 ms", "0.1 ms", "1 min",
                  "Mean time per output token after the first."),
              Section("services[].engine", false, "The serving engine's scheduler and memory."),
              Int("services[].engine.max_seqs", "256", "1", "65536",
                  "Sequences in a batch at most (vLLM max_num_seqs)."),
              Int("services[].engine.max_batched_tokens", "8192", "16", "1048576",
                  "Tokens in one iteration at most (vLLM max_num_batched_tokens)."),
              {"services[].engine.chunked_prefill", VT::kBool, D::kPower, false, "true", "", "", "",
               "Split prompts to fill each iteration's token budget beside the decodes; without "
               "it prompts run whole in iterations of their own and decodes pause."},
              {"services[].engine.two_batch_overlap", VT::kBool, D::kPower, false, "false", "", "",
               "",
               "Wide EP (ep above tp): run each attention group's sequences as two micro-batches, "
               "one's all-to-all dispatch and combine in flight while the other computes (SGLang's "
               "--enable-two-batch-overlap, DeepSeek's dual micro-batch overlap). Needs pp 1."},
              {"services[].engine.prefix_caching", VT::kBool, D::kPower, false, "true", "", "", "",
               "Keep prompts' prefix blocks in HBM after use and skip recomputing them."},
              Int("services[].engine.block_tokens", "16", "1", "512",
                  "Tokens per KV-cache block (paged attention); must divide 512."),
              Enum("services[].engine.preemption", "recompute", "recompute|swap",
                   "When the KV cache is full: drop the newest sequence's KV and recompute it "
                   "later, or swap it to host memory over PCIe."),
              Frac("services[].engine.memory_fraction", "0.9", "0.1", "1",
                   "Share of HBM the engine may use for weights, KV cache and workspace."),
              Section("services[].engine.kv_offload", false,
                      "A KV offload tier (LMCache/Mooncake-style): prefix blocks evicted from HBM "
                      "are kept in host DRAM or CXL-attached memory and read back over the link "
                      "instead of recomputed. Needs prefix_caching; running sequences' K/V stays "
                      "in HBM."),
              Qty("services[].engine.kv_offload.capacity", D::kDataSize, "!", "1 GB", "1 PB",
                  "Tier memory per replica for K/V (all its GPUs' shares of a block)."),
              Qty("services[].engine.kv_offload.link", D::kBandwidth, "50 GB/s", "1 GB/s",
                  "10 TB/s",
                  "Read bandwidth per GPU, one direction. Default: what K/V blocks move at from "
                  "host DRAM to an H100 over PCIe 5.0 x16, about 50 GB/s measured (vLLM blog, "
                  "\"Inside vLLM's New Offloading Connector\", 2026) of the link's 63 GB/s "
                  "(32 GT/s x 16 lanes at 128b/130b); a CXL 2.0 x16 link runs on the same PHY."),
              Section("services[].autoscale", false,
                      "Scale replicas with load: every interval, the replicas needed for the "
                      "sequences held to fill target_utilization of max_seqs."),
              Int("services[].autoscale.min_replicas", "1", "1", "1000000",
                  "Replicas always serving."),
              Frac("services[].autoscale.target_utilization", "0.7", "0.05", "1",
                   "Target share of each replica's batch slots (max_seqs) in use."),
              Qty("services[].autoscale.interval", D::kDuration, "1 min", "1 s", "1 d",
                  "Time between scaling decisions."),
              Qty("services[].autoscale.spin_up", D::kDuration, "2 min", "0 s", "1 d",
                  "From the decision to a new replica serving (weights loaded)."),
              Section("services[].disaggregation", false,
                      "Prefill and decode on separate replicas: prompts on the prefill replicas, "
                      "their KV cache then sent over the cluster's network to a decode replica."),
              Int("services[].disaggregation.prefill_replicas", "", "1", "1000000",
                  "Replicas that run prefills; the others decode."),
              Qty("services[].disaggregation.link", D::kBandwidth, "", "1 Gb/s", "100 Tb/s",
                  "KV transfer bandwidth per GPU, one direction. Without it, the cluster's NIC "
                  "bandwidth (over: network) or the GPU's NVLink (over: nvlink)."),
              Enum("services[].disaggregation.over", "network", "network|nvlink",
                   "What carries the KV from prefill to decode. network: the GPUs' NICs. nvlink: "
                   "the scale-up fabric, when the service's prefill and decode pools share one "
                   "NVLink domain (e.g. an NVL72 rack): each GPU's NVLink bandwidth one way at "
                   "the card's collective bus efficiency. The service's nodes must then lie in "
                   "one domain as placed (after the workloads, in order); not with a scheduler."),
              List("services[].requests", true,
                   "Where requests come from: trace files and synthetic sources, merged."),
              Str("services[].requests[].class", false,
                  "Name of this source's requests in the per-class results (default: the "
                  "trace's file name or 'synthetic')."),
              {"services[].requests[].trace", VT::kFile, D::kPower, false, "", "", "", "",
               "A request trace in its own format: the Azure LLM inference CSV "
               "(TIMESTAMP,ContextTokens,GeneratedTokens) or Mooncake JSON lines (timestamp, "
               "input_length, output_length, hash_ids), by its extension (.csv, .jsonl)."},
              Num("services[].requests[].rate_scale", "1", "0.001", "1000",
                  "Replay the trace this many times as fast (arrival times divided by it)."),
              {"services[].requests[].loop", VT::kBool, D::kPower, false, "false", "", "", "",
               "Trace: repeat it until the service ends, each lap one period later (the trace's "
               "span from first to last request, after rate_scale, plus one mean gap) with its own "
               "prefix ids. Without it a trace that ends before the service leaves the replicas "
               "idle, and the summary warns."},
              Enum("services[].requests[].arrivals", "poisson", "poisson|gamma",
                   "Synthetic arrivals: Poisson, or gamma-distributed gaps for bursts."),
              Qty("services[].requests[].rate", D::kRequestRate, "", "0.0001 req/s",
                  "1000000 req/s",
                  "Synthetic: mean arrival rate (over the day when a diurnal profile is given)."),
              Num("services[].requests[].cv", "1", "0.05", "20",
                  "Gamma arrivals: coefficient of variation of the gaps (1 is Poisson)."),
              {"services[].requests[].diurnal", VT::kNumberList, D::kPower, false, "", "0", "1000",
               "",
               "Synthetic: 24 relative rates, hour 0 to 23 of each day (normalised to mean 1)."},
              Int("services[].requests[].prompt_tokens", "1000", "1", "10000000",
                  "Synthetic: mean prompt length."),
              Int("services[].requests[].output_tokens", "250", "1", "10000000",
                  "Synthetic: mean output length."),
              Enum("services[].requests[].lengths", "lognormal", "fixed|lognormal",
                   "Synthetic: length distribution of prompts and outputs."),
              Num("services[].requests[].length_cv", "1", "0", "10",
                  "Lognormal lengths: coefficient of variation."),
              Int("services[].requests[].max_tokens", "131072", "2", "10000000",
                  "Synthetic: longest prompt or output drawn."),
              Int("services[].requests[].steps", "1", "1", "1000",
                  "Synthetic: calls per session (reasoning, agents): each follow-up carries the "
                  "previous prompt and answer plus step_prompt_tokens."),
              Qty("services[].requests[].step_gap", D::kDuration, "0 s", "0 s", "1 d",
                  "Synthetic sessions: from a call's end to the next call (tool time)."),
              Int("services[].requests[].step_prompt_tokens", "200", "1", "10000000",
                  "Synthetic sessions: mean new tokens of each follow-up call."),
              Int("services[].requests[].shared_prefix_tokens", "0", "0", "1000000",
                  "Synthetic: a system prompt shared by every first call (prefix caching)."),

              List("faults", false,
                   "Scheduled fabric faults. A job whose traffic crosses a faulty link gets longer "
                   "steps (lower GPU activity and power) for as long as the fault lasts."),
              Str("faults[].target", true,
                  "What fails: nic:G (GPU G's NIC), nvlink:G (GPU G's NVLink ports), leaf:L, "
                  "spine:S (numbered pod by pod), leaf:L-spine:S (a trunk in L's pod) or "
                  "superspine:J (three-tier fabrics); pK/ before a NIC, leaf, spine or trunk "
                  "names plane K of a multi-plane fabric."),
              Qty("faults[].at", D::kDuration, "!", "0 s", "3660 d",
                  "When the fault starts, from the start of the simulation."),
              Qty("faults[].for", D::kDuration, "", "1 ms", "3660 d",
                  "How long it lasts; without it, until the end of the simulation."),
              Frac(
                  "faults[].bandwidth", "0", "0", "1",
                  "Bandwidth the target keeps: 0 for down, 25 % for a link degraded to a quarter."),

              List(
                  "random_faults", false,
                  "Faults drawn at random (seeded by simulation.seed): for each kind of component, "
                  "failures arrive as a Poisson process of rate components / mtbf, hit a component "
                  "chosen uniformly, and last an exponentially distributed repair time."),
              Enum("random_faults[].kind", "", "nic|leaf|spine|superspine",
                   "Which components fail: every GPU's NIC, leaf switches, spines or super-spine "
                   "groups (three-tier fabrics)."),
              Qty("random_faults[].mtbf", D::kDuration, "!", "1 min", "100000000 h",
                  "Mean time between failures of one component."),
              Qty("random_faults[].repair", D::kDuration, "!", "1 s", "3660 d",
                  "Mean time to repair."),
              Frac("random_faults[].bandwidth", "0", "0", "1",
                   "Bandwidth a failed component keeps (0: down)."),

              Section("scheduler", false,
                      "A queue in front of the cluster (src/scheduler): workloads and trace jobs "
                      "are submitted at their start, wait for nodes, are placed on the topology, "
                      "fail, restart from their last checkpoint and end when their work is done. "
                      "Without it every workload runs on fixed nodes from its start."),
              Enum("scheduler.policy", "fcfs", "fcfs|priority|sjf|easy",
                   "fcfs: first come, first served; priority: highest first, preempting lower "
                   "priority; sjf: shortest work first; easy: FCFS with EASY backfill."),
              Int("scheduler.spare_nodes", "0", "0", "1000000",
                  "Nodes held back to replace failed ones at once."),
              Int("scheduler.exclude_after", "0", "0", "1000",
                  "Failures of a node's own hardware after which it is taken out for good; 0: "
                  "never."),
              Qty("scheduler.failure_detection", D::kDuration, "2 min", "0 s", "1 d",
                  "From a failure to the job's stop being noticed (an assumption: NCCL's watchdog "
                  "fires in minutes); the job holds its nodes meanwhile."),
              Qty("scheduler.restart_overhead", D::kDuration, "10 min", "0 s", "1 d",
                  "Reload from the last checkpoint and warm-up after a restart, alone on the "
                  "storage network (an assumption of the order reported for large runs). The "
                  "reload is the checkpoint's bytes read back (its write time alone), stretched "
                  "when other jobs share the storage network; the rest is warm-up, a fixed time. "
                  "A reload longer than this overhead takes its own time."),
              Qty("scheduler.restart_stagger", D::kDuration, "0 s", "0 s", "1 h",
                  "Gap between restarts that begin at the same instant, so their power ramps do "
                  "not coincide at the meter; 0: all together."),
              List("scheduler.quotas", false,
                   "GPU quotas of tenants, in Kueue's terms (ClusterQueue): a nominal quota, a "
                   "cohort whose unused quota members may borrow, and a borrowing limit. Tenants "
                   "without a quota are not limited."),
              Str("scheduler.quotas[].tenant", true, "Tenant (workloads[].tenant)."),
              Int("scheduler.quotas[].nominal_gpus", "", "0", "100000000",
                  "GPUs the tenant is guaranteed."),
              Str("scheduler.quotas[].cohort", false,
                  "Cohort: tenants that lend each other their unused nominal quota."),
              OptInt("scheduler.quotas[].borrowing_limit_gpus", "0", "100000000",
                     "Most GPUs the tenant may borrow beyond its nominal quota; without it, all "
                     "the cohort's unused quota."),
              Section("scheduler.flexibility", false,
                      "Power- and carbon-aware scheduling of flexible jobs (workloads[].flexible, "
                      "job_traces[].flexible): while a signal closes the gate, their first starts "
                      "wait (at most max_delay) and, with cap_gpu_power, their running GPUs are "
                      "capped. The gate is checked every check_every from time zero (the "
                      "tariff's hour edges). The run is compared with the same scenario without "
                      "flexibility (summary.json `flexibility`; the run is simulated twice). "
                      "docs/models.md says how the gate acts on the queue."),
              PriceThreshold("scheduler.flexibility.price_above",
                             "Close the gate while the tariff's price is above this (needs "
                             "site.tariff_file: a flat price never changes)."),
              CarbonThreshold(
                  "scheduler.flexibility.carbon_above",
                  "Close the gate while the tariff's carbon intensity is above this (needs "
                  "site.tariff_file)."),
              {"scheduler.flexibility.grid_margin", VT::kFraction, D::kPower, false, "", "0", "1",
               "",
               "Close the gate while the last window's grid import is within this share of "
               "site.grid_import_limit (10 %: at or above 90 % of the limit)."},
              {"scheduler.flexibility.stage_margin", VT::kFraction, D::kPower, false, "", "0", "1",
               "",
               "Close the gate while some rated power-chain stage's most loaded unit is within "
               "this share of its rating."},
              {"scheduler.flexibility.defer", VT::kBool, D::kPower, false, "true", "", "", "",
               "Hold flexible jobs' first starts while the gate is closed (false: caps only)."},
              Qty("scheduler.flexibility.cap_gpu_power", D::kPower, "", "1 W", "10 kW",
                  "Per-GPU power limit of running flexible jobs while the gate is closed (between "
                  "the GPU's idle power and its TDP); without it, no caps."),
              Qty("scheduler.flexibility.max_delay", D::kDuration, "24 h", "1 min", "3660 d",
                  "Longest hold of one job's first start; then it queues whatever the gate says."),
              Qty("scheduler.flexibility.check_every", D::kDuration, "1 h", "1 min", "1 d",
                  "Period of the gate's checks, from time zero."),

              List("job_traces", false,
                   "Cluster job traces replayed through the scheduler (requires scheduler): "
                   "jobs without a model, at a constant GPU activity. Every job takes whole "
                   "nodes, so a 1-GPU pod holds a node (summary: scheduler.stranded_gpu_h). "
                   "Alibaba's QoS class sets tenant and priority (BE 0, Burstable 1, LS 2, "
                   "Guaranteed 3; only BE is preemptible: src/scheduler/job_traces.h)."),
              {"job_traces[].file", VT::kFile, D::kPower, true, "", "", "", "",
               "The trace, relative to the scenario."},
              Enum("job_traces[].format", "", "alibaba_v2023|philly|helios|swf",
                   "alibaba_v2023: openb_pod_list_*.csv of the Alibaba GPU trace v2023; philly: "
                   "Philly cluster_job_log (JSON); helios: Helios cluster_log.csv; swf: Standard "
                   "Workload Format 2.2."),
              Num("job_traces[].rate_scale", "1", "0.001", "1000",
                  "Replay the trace this many times as fast (submit times divided by it)."),
              Qty("job_traces[].from", D::kDuration, "0 s", "0 s", "3660 d",
                  "Keep the jobs submitted from this trace time on (moved to start at 0)."),
              Qty("job_traces[].length", D::kDuration, "", "1 s", "3660 d",
                  "Keep the jobs submitted within this span after from; without it, all."),
              Enum("job_traces[].oversize", "skip", "skip|clip",
                   "A job wider than the cluster: skip it, or clip it to the cluster's GPUs."),
              {"job_traces[].keep_failed", VT::kBool, D::kPower, false, "true", "", "", "",
               "Keep jobs that ended failed or cancelled (they held GPUs until then)."},
              {"job_traces[].loop", VT::kBool, D::kPower, false, "false", "", "", "",
               "Repeat the window end to end until the run ends (needs length): copy k of a "
               "job arrives k x length / rate_scale after the original and is named name@k."},
              Num("job_traces[].gpus_per_processor", "1", "0.0001", "1024",
                  "SWF: GPUs per processor of the log's machine."),
              Frac("job_traces[].gpu_activity", "0.7", "0", "1",
                   "GPU activity of the trace's jobs where the trace gives none (an assumption; "
                   "Alibaba's gpu_milli gives it for shared GPUs)."),
              {"job_traces[].flexible", VT::kBool, D::kPower, false, "false", "", "", "",
               "The trace's jobs are flexible (scheduler.flexibility)."},

              Section("failures", false,
                      "Component failures with their blast radius (requires scheduler): rates "
                      "per component from the Llama 3 report (arXiv:2407.21783, Table 5) unless "
                      "overridden; a synchronous job stops when any of its nodes does."),
              Enum("failures.table", "llama3", "llama3|none",
                   "Default rates: llama3 (Meta's 419 interruptions in 54 days on 16,384 H100) or "
                   "none."),
              Num("failures.rate_scale", "1", "0", "1000",
                  "Multiplies every rate (stress studies; 0 leaves only scripted failures)."),
              List("failures.causes", false,
                   "Causes added to the table (or replacing its causes of the same name)."),
              Str("failures.causes[].name", true, "Name of the cause."),
              Enum("failures.causes[].component", "",
                   "gpu|hbm|nvlink|nic|cable|host|psu|leaf|spine|pdu|cdu|software",
                   "What fails; its blast radius follows (node, leaf group, racks of a PDU or "
                   "CDU)."),
              OptNum("failures.causes[].per_1000_component_days", "0", "1000000",
                     "Rate in events per 1,000 component-days (or give mtbf)."),
              Qty("failures.causes[].mtbf", D::kDuration, "", "1 h", "100000000 h",
                  "Mean time between failures of one component (or give "
                  "per_1000_component_days)."),
              List("failures.components", false,
                   "Per kind of component: lifetime shape and repair."),
              Enum("failures.components[].component", "",
                   "gpu|hbm|nvlink|nic|cable|host|psu|leaf|spine|pdu|cdu|software",
                   "The kind of component."),
              Num("failures.components[].weibull_shape", "1", "0.1", "10",
                  "Weibull shape of one component's time between failures; 1: exponential."),
              Qty("failures.components[].repair", D::kDuration, "", "0 s", "3660 d",
                  "Mean repair time (default: src/scheduler/failures.h, assumptions)."),
              Enum("failures.components[].repair_distribution", "exponential", "exponential|fixed",
                   "Repair times drawn around the mean, or always the mean."),
              {"failures.fresh_start", VT::kBool, D::kPower, false, "false", "", "", "",
               "Components with a Weibull shape start new at time zero (a new cluster: infant "
               "mortality below shape 1); otherwise each starts at its stationary residual life."},
              Int("failures.racks_per_pdu", "1", "1", "100000", "Racks behind one PDU."),
              Int("failures.racks_per_cdu", "1", "1", "100000",
                  "Racks served by one CDU; default facility.cooling.racks_per_cdu when that is "
                  "declared (the two must agree), else 1."),
              {"failures.cdu_stops", VT::kBool, D::kPower, false, "false", "", "", "",
               "A CDU failure stops its racks' nodes instead of throttling them."},
              List("failures.scripted", false,
                   "Failures at given times, in time order, besides the random ones."),
              Enum("failures.scripted[].component", "",
                   "gpu|hbm|nvlink|nic|cable|host|psu|leaf|spine|pdu|cdu|software",
                   "The kind of component."),
              Int("failures.scripted[].index", "", "0", "1000000000",
                  "Which one, counted from 0 in node order (leaf: leaf switch, per leaf group "
                  "one per rail)."),
              Qty("failures.scripted[].at", D::kDuration, "!", "0 s", "3660 d", "When it fails."),
              Qty("failures.scripted[].repair", D::kDuration, "!", "0 s", "3660 d",
                  "How long until it is repaired."),

              Section("catalog", false, "Additions to the built-in catalog, or overrides of it."),
              List("catalog.gpus", false,
                   "GPU cards (keys as in the GPU card table). A card named like a built-in one "
                   "overrides only the keys it gives."),
              List(
                  "catalog.models", false,
                  "Model cards (keys as in the model card table). A card named like a built-in one "
                  "overrides only the keys it gives."),
              List("catalog.systems", false,
                   "System cards (keys as in the system card table; sources optional): new "
                   "systems that cluster.system can name, racking a GPU of the catalog or of "
                   "catalog.gpus. A built-in system is not overridden here: the cluster keys of "
                   "the same names override its figures."),

              Section("power_swings", false,
                      "A window recorded at fine resolution to measure the power swings of "
                      "synchronous training and compare mitigations (src/power/swing.h); written "
                      "to swings.csv and summarized in summary.json."),
              Qty("power_swings.start", D::kDuration, "0 s", "0 s", "366 d",
                  "Start of the window, from the start of the simulation."),
              Qty("power_swings.duration", D::kDuration, "60 s", "1 s", "1 h",
                  "Length of the window."),
              Qty("power_swings.resolution", D::kDuration, "10 ms", "1 ms", "10 ms",
                  "Sample period (each sample is the exact average over it)."),
              Qty("power_swings.band_low", D::kFrequency, "0.1 Hz", "0.001 Hz", "50 Hz",
                  "Lower edge of the critical band whose spectral content is reported."),
              Qty("power_swings.band_high", D::kFrequency, "20 Hz", "0.01 Hz", "500 Hz",
                  "Upper edge of the critical band."),
              Qty("power_swings.gpu_power_floor", D::kPower, "", "0 W", "5 kW",
                  "Mitigation: every GPU of a running job draws at least this (filler work)."),
              Qty("power_swings.gpu_ramp_time", D::kDuration, "", "1 ms", "1 h",
                  "Mitigation: the shortest time a GPU may take to go from idle to TDP power (a "
                  "ramp-rate limit); falls are slowed by burning power, rises are delayed."),
              Section("power_swings.battery", false,
                      "Mitigation: a battery holding the grid to a moving average of the site's "
                      "power."),
              Qty("power_swings.battery.power", D::kPower, "!", "1 kW", "10 GW",
                  "Charge and discharge power limit."),
              Qty("power_swings.battery.energy", D::kEnergy, "!", "1 kWh", "100 GWh",
                  "Usable energy; the window starts at half charge."),
              Frac("power_swings.battery.round_trip_efficiency", "0.9", "0.5", "1",
                   "Energy out over energy in."),
              Qty("power_swings.battery.smoothing", D::kDuration, "10 s", "10 ms", "1 h",
                  "Time constant of the moving average the grid is held to."),

              Section("simulation", true, "How long and how finely to simulate."),
              Qty("simulation.duration", D::kDuration, "!", "1 s", "366 d", "Simulated time."),
              Qty("simulation.tick", D::kDuration, "1 s", "1 ms", "1 h",
                  "Physics tick: the step of the continuous models. A run takes at most 10^9 "
                  "ticks (duration / tick)."),
              Qty("simulation.output_interval", D::kDuration, "", "1 ms", "1 d",
                  "Rows of timeseries.csv (default: one per tick): a whole number of ticks; each "
                  "row holds the time-weighted means over its interval (peaks: the highest "
                  "tick)."),
              Qty("simulation.max_output_size", D::kDataSize, "1 GB", "1 MB", "10 TB",
                  "Largest timeseries.csv a run may write. The size is estimated before the run "
                  "starts and a larger one is refused: raise this limit to accept it, or choose "
                  "a longer output_interval."),
              Enum("simulation.windows", "per_event", "per_event|per_tick",
                   "Where the physics windows are cut. per_event: at every tick and every event, "
                   "so power and heat change exactly when a job starts or stops. per_tick: at "
                   "ticks only; the events inside a tick still run at their own times (starts, "
                   "ends, GPU-hours and energy per job stay exact: each job's power counts for "
                   "the part of the tick it ran), but what an event reads of power, cooling and "
                   "temperatures is as of the tick's start, a pooled service's replica that "
                   "moves inside a tick counts at the tick's end, and a job's chip temperature "
                   "is not followed through the part of a tick after it ends. A stage's overload "
                   "(on_overload cap_gpus or trip) is judged on each window's mean power: per "
                   "tick on the tick's mean, so caps and trips, and the books after them, can "
                   "differ from per_event. For runs whose events outnumber their ticks (a year's "
                   "queue): several times faster."),
              Int("simulation.seed", "1", "0", "9007199254740992",
                  "Seed of the random streams; same seed, same outputs."),
              Int("simulation.start_day_of_year", "1", "1", "365",
                  "Day of the weather year (1 = January 1st) at which the simulation starts."),
          },
          FabricSwitchKeys("cluster.fabric.")));
  return schema;
}

const Schema& GpuCardSchema() {
  using D = Dimension;
  static const Schema schema(
      "GPU card",
      {
          Str("name", true, "Catalog name, as scenarios refer to it."),
          Str("vendor", false, "Maker."),
          Section("peak_dense", false, "Peak dense (no sparsity) tensor throughput per data type."),
          Qty("peak_dense.fp32", D::kFlopRate, "", "0.1 TFLOP/s", "100 PFLOP/s", "FP32."),
          Qty("peak_dense.tf32", D::kFlopRate, "", "0.1 TFLOP/s", "100 PFLOP/s", "TF32."),
          Qty("peak_dense.fp16", D::kFlopRate, "", "0.1 TFLOP/s", "100 PFLOP/s", "FP16."),
          Qty("peak_dense.bf16", D::kFlopRate, "", "0.1 TFLOP/s", "100 PFLOP/s", "BF16."),
          Qty("peak_dense.fp8", D::kFlopRate, "", "0.1 TFLOP/s", "100 PFLOP/s", "FP8."),
          Qty("peak_dense.int8", D::kFlopRate, "", "0.1 TFLOP/s", "100 PFLOP/s",
              "INT8 (tera-operations per second, written as TFLOP/s)."),
          Qty("peak_dense.fp4", D::kFlopRate, "", "0.1 TFLOP/s", "100 PFLOP/s",
              "FP4 (NVFP4 or MXFP4 block-scaled 4-bit)."),
          Qty("hbm_capacity", D::kDataSize, "", "1 GB", "4 TB", "HBM capacity."),
          Qty("hbm_bandwidth", D::kBandwidth, "", "100 GB/s", "100 TB/s", "HBM bandwidth."),
          Qty("tdp", D::kPower, "", "50 W", "5 kW", "Thermal design power (board)."),
          Qty("idle_power", D::kPower, "", "1 W", "1 kW", "Board power when idle."),
          Qty("nvlink_bandwidth", D::kBandwidth, "", "1 GB/s", "50 TB/s",
              "Scale-up (NVLink, Infinity Fabric) bandwidth per GPU, both directions summed. "
              "Every GPU has one: the models run tensor, context and expert parallelism over "
              "it and have no PCIe-only path, so a card without NVLink cannot be described."),
          Section("gemm", false,
                  "Achievable matrix-multiply efficiency (hardware/gemm.h). Defaults are the fit "
                  "to measured H100 operator times."),
          Frac("gemm.max_efficiency", "0.75", "0.05", "1",
               "Efficiency ceiling e_max of large 16-bit GEMMs, as a fraction of the dense peak."),
          Frac("gemm.fp8_max_efficiency", "0.66", "0.05", "1",
               "Efficiency ceiling of large fp8 GEMMs, as a fraction of the fp8 dense peak; "
               "int8 and fp4 GEMMs use it too, of their own peaks."),
          Section("capabilities", false,
                  "What the GPU runs; the models choose their kernels from it. The data types "
                  "it has tensor cores for are the keys of peak_dense (a card without bf16, as "
                  "V100, trains and serves in fp16)."),
          Enum("capabilities.flash_attention", "2", "none|1|2|3",
               "Highest FlashAttention generation the GPU runs: none (attention unfused, the "
               "score matrix through HBM: Volta and older), 1 (Turing), 2 (Ampere, Ada, Hopper, "
               "ROCm MI200/MI300), 3 (Hopper only). Generations 2 and 3 run at FlashAttention-2's "
               "efficiency, 1 at about half of it (Dao 2023)."),
          Section("collective", false,
                  "How this generation's NVLink and NVSwitch run NCCL collectives "
                  "(hardware/collective.h). Defaults are the fit to measured DGX-H100 all-reduce."),
          Frac("collective.nvlink_efficiency", "0.77", "0.05", "1",
               "Ring bus bandwidth over NVLink as a fraction of the per-direction NVLink "
               "bandwidth."),
          Qty("collective.launch_latency", D::kDuration, "24 us", "0 s", "1 ms",
              "Fixed cost of one collective (alpha_0)."),
          Frac("collective.nvls_efficiency", "0", "0", "1",
               "NVLink SHARP (in-switch reduction, NVSwitch gen 3 and later) all-reduce algbw as "
               "a fraction of the per-direction NVLink bandwidth; 0: the switch cannot reduce."),
          Qty("collective.nvls_latency", D::kDuration, "98 us", "0 s", "10 ms",
              "Fixed cost of one NVLS all-reduce, launch included."),
          Section("ici", false,
                  "Inter-chip interconnect of an accelerator whose chips link directly in a torus "
                  "(Google TPU ICI; hardware/torus.h). Its bandwidth is nvlink_bandwidth, spread "
                  "evenly over the ports. Only a card with it can run on cluster.fabric.kind: "
                  "torus."),
          Int("ici.ports", "", "2", "12",
              "ICI links per chip: 2 per torus dimension (6 on a 3-D torus, 4 on a 2-D one)."),
          Int("ici.torus_dims", "", "1", "4",
              "Dimensions of the torus the chips form (3 for v4 and v5p, 2 for v5e and "
              "Trillium)."),
          Int("ici.pod_chips", "", "1", "100000",
              "Chips of the largest torus the links join (a pod); a cluster of more is refused."),
          Section("thermal", false, "Temperature thresholds."),
          Qty("thermal.max_operating", D::kTemperature, "", "30 C", "150 C",
              "Highest temperature for sustained operation."),
          Qty("thermal.slowdown", D::kTemperature, "", "30 C", "150 C", "Above this, clocks drop."),
          Qty("thermal.shutdown", D::kTemperature, "", "30 C", "150 C",
              "Above this, the GPU stops."),
          {"sources", VT::kStringMap, D::kPower, false, "", "", "", "",
           "Public source of each figure, keyed by the figure's key. Required for every figure "
           "of the built-in catalog."},
      });
  return schema;
}

const Schema& SystemCardSchema() {
  using D = Dimension;
  static const Schema schema(
      "system card",
      {
          Str("name", true, "Catalog name, as cluster.system refers to it."),
          Str("vendor", true, "Maker."),
          Str("gpu", true, "The GPU card (catalog/gpus) of its accelerators."),
          Int("gpus_per_node", "", "1", "72",
              "GPUs of one node: an HGX baseboard, or a compute tray of a rack-scale system."),
          Int("nvlink_domain", "", "1", "576", "GPUs joined by one NVLink (scale-up) fabric."),
          Int("nodes_per_rack", "", "1", "128", "Nodes (compute trays) in one rack."),
          Qty("node_base_power", D::kPower, "!", "0 W", "50 kW",
              "Non-GPU power of one node, with its share of the rack's switch trays and fans."),
          Qty("rack_power", D::kPower, "", "1 kW", "2 MW",
              "Rated power of one rack; the default of cluster.rack_power_limit."),
          {"liquid_share", VT::kFraction, D::kPower, false, "", "0", "1", "",
           "Share of the rack's IT heat its cold plates carry; the default of "
           "facility.cooling.liquid_share."},
          {"sources", VT::kStringMap, D::kPower, false, "", "", "", "",
           "Public source of each figure, keyed by the figure's key. Required for every figure "
           "of the built-in catalog."},
      });
  return schema;
}

const Schema& ModelCardSchema() {
  static const Schema schema(
      "model card",
      {
          Str("name", true, "Catalog name, as scenarios refer to it."),
          OptInt("layers", "1", "10000", "Transformer layers."),
          OptInt("hidden_size", "1", "1000000", "Model (embedding) dimension."),
          OptInt("attention_heads", "1", "100000", "Query heads."),
          Int("kv_heads", "= attention_heads", "1", "100000",
              "Key/value heads (grouped-query attention)."),
          Int("ffn_hidden_size", "= 4 x hidden_size", "1", "10000000",
              "Inner dimension of the MLP."),
          Enum("ffn_type", "gelu", "gelu|swiglu",
               "MLP form: gelu (2 matrices) or swiglu (3 matrices)."),
          OptInt("vocab_size", "1", "10000000", "Vocabulary size."),
          {"tied_embeddings", VT::kBool, Dimension::kPower, false, "false", "", "", "",
           "Whether the output projection shares the input embedding's weights."},
          Int("mtp_depth", "0", "0", "16",
              "Multi-token-prediction modules trained with the model (DeepSeek-V3: 1); "
              "speculative decoding with method mtp needs at least one."),
          Section("moe", false,
                  "Mixture of experts: every MLP becomes routed experts plus shared experts."),
          OptInt("moe.experts", "1", "100000", "Routed experts per layer."),
          OptInt("moe.top_k", "1", "1024", "Routed experts each token uses."),
          OptInt("moe.expert_ffn_hidden_size", "1", "10000000", "Inner dimension of one expert."),
          Int("moe.shared_experts", "0", "0", "1024", "Experts every token uses."),
          Section("mla", false,
                  "Multi-head latent attention (DeepSeek-V2/V3): the K/V cache as one latent per "
                  "token and layer; read by the inference model's decode."),
          OptInt("mla.kv_lora_rank", "1", "100000", "Elements of the compressed K/V latent."),
          OptInt("mla.qk_rope_head_dim", "0", "100000",
                 "Elements of the decoupled rotary key cached beside the latent."),
          OptInt("mla.heads", "1", "100000", "Query heads that attend to the latent."),
          Str("note", false,
              "Caveat the catalog prints with the card: where the card's shape departs from the "
              "published model, and how its parameter count compares with the published one."),
          {"sources", VT::kStringMap, Dimension::kPower, false, "", "", "", "",
           "Public source of each figure, keyed by the figure's key. Required for every figure "
           "of the built-in catalog."},
      });
  return schema;
}

const Schema& FabricSchema() {
  using D = Dimension;
  static const Schema schema(
      "fabric file",
      With(
          {
              Qty("nic_bandwidth", D::kBandwidth, "400 Gb/s", "1 Gb/s", "1.6 Tb/s",
                  "Scale-out bandwidth per GPU (one NIC per GPU), one direction."),
              Qty("nvlink_latency", D::kDuration, "0.5 us", "0 s", "1 ms",
                  "Latency per NVLink hop (fitted to vidur's DGX-H100 all-reduce)."),
              Frac("nvlink_efficiency", "0.77", "0.05", "1",
                   "Achieved collective bus bandwidth over NVLink bandwidth (fitted, as above). In "
                   "`firstwall collective`, absent: the GPU card's collective.nvlink_efficiency."),
              Frac("network_efficiency", "0.94", "0.05", "1",
                   "Achieved collective bus bandwidth over NIC bandwidth (public NCCL figures of "
                   "large messages: 0.92-0.96)."),
          },
          FabricSwitchKeys("")));
  return schema;
}

const Schema& SweepSchema() {
  using D = Dimension;
  static const Schema schema(
      "sweep file",
      {
          Int("firstwall_sweep", "", "1", "1",
              "Sweep file format version. This build reads version 1."),
          {"scenario", VT::kFile, D::kPower, false, "", "", "", "",
           "Base scenario, relative to the sweep file. Left out: the built-in default "
           "(examples/default.yaml)."},
          Int("seed", "1", "0", "9007199254740992",
              "Seed of the samples (latin_hypercube, random), of the replicas' simulation.seed and "
              "of the uncertain inputs' draws."),
          {"set", VT::kStringMap, D::kPower, false, "", "", "", "",
           "Scenario keys set to one value at every point (`simulation.duration: 10 min`), by key "
           "path as `firstwall run --set` takes them."},
          List("vary", false, "The keys that change from one design point to the next."),
          Str("vary[].key", true,
              "Scenario key path (`cluster.nodes`, `facility.power_chain[UPS].rating`)."),
          {"vary[].values", VT::kTextList, D::kPower, false, "", "", "", "",
           "The values, each written as the key takes it (`[64, 96]`, `[1 MW, 1.5 MW]`). Give "
           "`values` or `range`."},
          Section("vary[].range", false,
                  "Evenly spaced values of a numeric key: `from`, `to` and `steps` or `step`; with "
                  "design latin_hypercube or random, the interval the samples are drawn from."),
          Str("vary[].range.from", true, "First value, with the key's unit (`1 MW`)."),
          Str("vary[].range.to", true, "Last value (inclusive), with the key's unit."),
          OptInt("vary[].range.steps", "2", "1000000",
                 "Number of values from `from` to `to`, both included (grid and zip)."),
          Str("vary[].range.step", false,
              "Distance between values from `from` towards `to` (grid and zip); `to` is included "
              "when it falls on a step."),
          {"vary[].range.log", VT::kBool, D::kPower, false, "false", "", "", "",
           "Spaced evenly on a logarithmic scale (steps, samples); `from` and `to` above zero."},
          Enum("design", "grid", "grid|zip|latin_hypercube|random",
               "grid: every combination of the values, the first key varying slowest; zip: the "
               "i-th value of every key together (lists of one length); latin_hypercube: "
               "`samples` points, each key's interval cut into `samples` strata hit once each; "
               "random: `samples` independent uniform points."),
          OptInt("samples", "1", "1000000", "Points drawn by latin_hypercube and random."),
          Int("replicas", "1", "1", "100000",
              "Runs of each design point, replica r with its own simulation.seed and draws of "
              "the uncertain inputs (the same for replica r of every point)."),
          List("uncertain", false,
               "Inputs drawn anew for each replica, so that a design point's results carry a "
               "band (bands.csv)."),
          Str("uncertain[].key", true, "Scenario key path of a numeric key."),
          Str("uncertain[].value", true,
              "A distribution: `700 W +- 5%` or `700 W ± 50 W` (normal, standard deviation "
              "relative or absolute), `uniform(650 W, 750 W)`, `triangular(650 W, 700 W, "
              "750 W)` (low, mode, high). Draws outside the key's range are drawn again."),
          {"outputs", VT::kTextList, D::kPower, false, "", "", "", "",
           "Extra columns: JSON pointers into the point's summary.json (`/goodput/ettr`), beyond "
           "the headline columns."},
          Section("walls", false,
                  "Run `firstwall walls` at every point, so the wall's position is an output: "
                  "the first two walls and where they bind along `grow` (columns walls_*)."),
          Str("walls.grow", true,
              "The axis, as `firstwall walls --grow` takes it: gpus, it_power, rate:SERVICE, "
              "job_size:JOB, outdoor_temperature or a numeric key."),
          Str("walls.from", false, "Start of the axis in its unit (default: the point's value)."),
          Str("walls.to", false, "End of the axis (default: 4 times the point's value)."),
          Int("walls.steps", "10", "2", "1000",
              "Evenly spaced runs along the axis before bisecting, at each point."),
      });
  return schema;
}

std::string SchemaMarkdown() {
  std::string md;
  md += "# Input reference\n\n";
  md +=
      "Generated by `firstwall schema --markdown` from the declarations in "
      "src/scenario/schema.cc; a test fails when this file is out of date.\n\n";
  md +=
      "Quantities are written with their unit (\"700 W\", \"400 Gb/s\", \"80 GiB\", "
      "\"25 C\", \"15 min\"). A bare number where a quantity is expected is an error. Bits and "
      "bytes differ: `b` is a bit, `B` a byte, so \"400 Gb/s\" is 50 GB/s. Unknown keys are "
      "errors; every error names file:line:col.\n\n"
      "A key left out takes its default (or, for a section, leaves the section out). A key "
      "written without a value (`key:`, `key: ~` or `key: null`) is an error, never a default: "
      "remove the key to use the default, or write `key: {}` for a section with every default. "
      "A required list needs at least one item, and a file path may not be empty. Files are "
      "UTF-8 text without control characters other than tab, newline and carriage return. A "
      "scenario whose run would need more than 8 GB of memory by the loader's estimate (requests "
      "held by services, GPUs of the cluster; src/scenario/budget.h) is refused with the "
      "estimate.\n";
  for (const Schema* s : {&ScenarioSchema(), &GpuCardSchema(), &ModelCardSchema(),
                          &SystemCardSchema(), &FabricSchema(), &SweepSchema()}) {
    md += "\n## " + s->name() + " keys\n\n";
    if (s == &SystemCardSchema()) {
      md +=
          "A built-in rack-scale or HGX system (catalog/systems, `firstwall catalog`): the GPU "
          "card and how the GPUs are racked. `cluster.system` takes its keys as the defaults of "
          "the cluster's and `facility.cooling.liquid_share`; keys the scenario gives win.\n\n";
    } else if (s == &SweepSchema()) {
      md +=
          "The file `firstwall sweep` reads (docs/sweep.md): a base scenario, the keys to vary "
          "and how design points are drawn from them.\n\n";
    } else if (s == &FabricSchema()) {
      md +=
          "The file `firstwall collective --fabric FILE` reads: a rail-optimized two-tier Clos "
          "(src/network/fabric.h). Every key is optional; an empty or comment-only "
          "file is the default fabric.\n\n";
    } else if (s != &ScenarioSchema()) {
      md +=
          "A new card needs every key except those with a default; a card in a scenario's "
          "`catalog:` named like a built-in one overrides only the keys it gives. Built-in "
          "cards cite a source for every figure under `sources:`.\n\n";
    }
    md += SchemaTable(*s);
  }
  return md;
}

std::string SchemaTable(const Schema& s) {
  std::string md = "| key | type | default | range | description |\n|---|---|---|---|---|\n";
  for (const KeySpec& k : s.keys()) {
    std::string def = k.required ? "required" : (k.default_text.empty() ? "none" : k.default_text);
    std::string range;
    if (!k.min_text.empty() || !k.max_text.empty()) {
      range = (k.min_text.empty() ? std::string("-inf") : k.min_text) + " .. " +
              (k.max_text.empty() ? std::string("inf") : k.max_text);
    }
    md += "| `" + k.path + "` | " + TypeText(k) + " | " + def + " | " + range + " | " +
          k.description + " |\n";
  }
  return md;
}

}  // namespace firstwall::scenario
