#include "scenario/loader.h"

#include "core/rng.h"
#include "workload/requests.h"
#include "workload/serving.h"

#include <climits>
#include <cmath>
#include <filesystem>

#include <fmt/format.h>
#include <fstream>
#include <mutex>
#include <optional>
#include <set>
#include <sstream>

#include "core/embedded.h"
#include "core/rng.h"
#include "scenario/budget.h"
#include "scenario/energy_loader.h"
#include "scenario/life_loader.h"
#include "scenario/service_loader.h"
#include "site/service_faults.h"
#include "thermal/weather.h"
#include "workload/requests.h"
#include "workload/serving.h"

namespace firstwall::scenario {
namespace {
using namespace units;

std::string ReadFile(const std::string& path, const SourceLocation& named_at) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(named_at, "cannot read '" + path + "'");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The hours of an EPW file. Sweeps and wall searches load one scenario many times, and parsing an
// 8,760-hour weather file was most of each load (about 10 ms), so the last parse is kept and
// reused when the same path has the same text: a pure function's memo, the same result either
// way, behind a mutex because points load on several threads. A file that fails to parse is not
// kept.
std::vector<thermal::OutdoorConditions> ParsedEpw(const std::string& epw, const std::string& path) {
  static std::mutex mu;
  static std::string last_path, last_text;
  static std::vector<thermal::OutdoorConditions> last_hours;
  {
    std::lock_guard lock(mu);
    if (path == last_path && epw == last_text) return last_hours;
  }
  std::vector<thermal::OutdoorConditions> hours = thermal::ReadEpw(epw, path);
  std::lock_guard lock(mu);
  last_path = path;
  last_text = epw;
  last_hours = hours;
  return hours;
}

// A name given to two cards of one list of the scenario: the second would silently replace (or
// override) the first.
void CheckFirstCard(const Section& s, const std::string& name,
                    std::map<std::string, SourceLocation>& seen) {
  const auto [it, fresh] = seen.emplace(name, s.KeyAt("name"));
  if (!fresh) {
    s.Fail("name",
           "a second card is named '" + name + "' (the first is at " + it->second.ToString() + ")",
           "give each card its own name; to change a card, edit the first");
  }
}

void ReadCatalogAdditions(const Section& root, Catalog& cat) {
  if (!root.Has("catalog")) return;
  const Section c = root.Sub("catalog");
  std::map<std::string, SourceLocation> gpus_seen, models_seen;
  for (const Section& s : c.ListOf("gpus", GpuCardSchema())) {
    const std::string name = s.String("name");
    CheckFirstCard(s, name, gpus_seen);
    auto it = cat.gpus.find(name);
    cat.gpus[name] = ReadGpuCard(s, it == cat.gpus.end() ? nullptr : &it->second, false);
    cat.origin[name] = s.where().ToString();
  }
  for (const Section& s : c.ListOf("models", ModelCardSchema())) {
    const std::string name = s.String("name");
    CheckFirstCard(s, name, models_seen);
    auto it = cat.models.find(name);
    cat.models[name] = ReadModelCard(s, it == cat.models.end() ? nullptr : &it->second, false);
    cat.origin[name] = s.where().ToString();
  }
  std::map<std::string, SourceLocation> systems_seen;
  for (const Section& s : c.ListOf("systems", SystemCardSchema())) {
    const std::string name = s.String("name");
    CheckFirstCard(s, name, systems_seen);
    if (cat.systems.count(name)) {
      s.Fail("name", "'" + name + "' is a built-in system, which catalog.systems does not override",
             "give the system another name, or keep cluster.system: " + name +
                 " and set the cluster keys of the figures to change (gpus_per_node, "
                 "nvlink_domain, nodes_per_rack, node_base_power, rack_power_limit, "
                 "facility.cooling.liquid_share)");
    }
    SystemSpec y = ReadSystemCard(s, false);
    if (!cat.gpus.count(y.gpu)) {
      s.Fail("gpu",
             "system '" + name + "' names GPU '" + y.gpu +
                 "', which is neither built in nor in catalog.gpus",
             UnknownNameHint(y.gpu, cat.gpus));
    }
    cat.systems[name] = std::move(y);
    cat.origin[name] = s.where().ToString();
  }
}

// The system cluster.system names, or nullptr without one.
const SystemSpec* ClusterSystem(const Section& s, const Catalog& cat) {
  if (!s.Has("system")) return nullptr;
  const std::string name = s.String("system");
  auto it = cat.systems.find(name);
  if (it == cat.systems.end()) {
    s.Fail("system", "unknown system '" + name + "'", UnknownNameHint(name, cat.systems));
  }
  return &it->second;
}

// cluster.fabric's topology, routing and technology. With a technology the leaf radix defaults to
// its switch's ports at the NIC's port speed (nic_bandwidth over planes), which must not exceed its
// top speed; returns the technology, or nullopt without one (optics and switch_power need one).
std::optional<network::FabricTransport> ReadFabricKind(const Section& cluster,
                                                       site::SiteConfig& cfg) {
  const Section f = cluster.Sub("fabric");
  const bool torus = f.Enum("kind") == "torus";
  for (const char* key : {"topology", "technology", "optics", "switch_power"}) {
    if (torus && f.Has(key)) {
      f.Fail(
          key,
          fmt::format("'{}' is for a Clos fabric; a torus links its chips directly", f.Name(key)),
          "drop it with cluster.fabric.kind: torus");
    }
  }
  if (f.Enum("topology") == "rail_only") cfg.fabric.topology = network::FabricTopology::kRailOnly;
  std::optional<network::FabricTransport> transport;
  if (f.Has("technology")) transport = network::ParseTransport(f.Enum("technology"));
  for (const char* key : {"optics", "switch_power"}) {
    if (!transport && f.Has(key)) {
      f.Fail(key, fmt::format("'{}' needs the fabric's technology", f.Name(key)),
             "add cluster.fabric.technology (infiniband, roce, spectrum-x or ultra-ethernet)");
    }
  }
  cfg.adaptive_routing = f.Has("routing") ? f.Enum("routing") == "adaptive"
                                          : transport && network::AdaptiveByDefault(*transport);
  if (transport) {  // never on a torus: refused above
    const network::SwitchSystem& sw = network::SwitchOf(*transport);
    const units::Bandwidth port = network::SwitchPort(site::FabricFor(cfg));
    const int ports = network::PortsAt(sw, port);
    auto gbps = [](units::Bandwidth b) {
      return fmt::format("{:g} Gb/s", units::ToBytesPerSecond(b) * 8 / 1e9);
    };
    const std::string port_text = gbps(port);
    if (ports == 0) {
      f.Fail("technology",
             fmt::format("a port of {} (nic_bandwidth over {} plane(s)) is faster than the {}'s "
                         "{} ports",
                         port_text, cfg.fabric.planes, sw.name, gbps(sw.top_port)),
             "split the NIC over more planes, or choose a faster technology");
    }
    if (!f.Has("leaf_radix")) {
      cfg.fabric.leaf_radix = ports;
    } else if (cfg.fabric.leaf_radix > ports) {
      f.Fail("leaf_radix",
             fmt::format("the {} has {} ports at {}; '{}' is {}", sw.name, ports, port_text,
                         f.Name("leaf_radix"), cfg.fabric.leaf_radix),
             fmt::format("at most {}, or drop it to use all of them", ports));
    }
  }
  if (cfg.fabric.topology == network::FabricTopology::kRailOnly) {
    const network::FabricSpec spec = site::FabricFor(cfg);
    // Wang et al.'s rails run through the GPUs' positions in a high-bandwidth domain: a flow
    // between rails is relayed to the GPU at the destination's position in the source's domain,
    // which a partial domain may not have.
    const int domain = cfg.cluster.nvlink_domain();
    if (cfg.cluster.gpu_count() % domain != 0) {
      f.Fail("topology",
             fmt::format("rail-only runs its rails through whole NVLink domains of {} GPUs; {} "
                         "GPUs leave a partial one",
                         domain, cfg.cluster.gpu_count()),
             fmt::format("nodes for a multiple of {} GPUs, or rail_optimized", domain));
    }
    if (f.Has("spine_oversubscription")) {
      f.Fail("spine_oversubscription",
             "rail-only has no third tier: 'spine_oversubscription' does not apply",
             "drop it with topology: rail_only");
    }
    const int leaves = network::Fabric::LeavesPerRail(spec);
    if (leaves > spec.leaf_radix) {
      f.Fail("topology",
             fmt::format("a rail-only rail here needs {} leaves, more than a {}-port spine "
                         "reaches: rail-only builds each rail in two tiers",
                         leaves, spec.leaf_radix),
             "rail_optimized (it adds a third tier), fewer nodes, or a higher leaf radix");
    }
  }
  return transport;
}

// cluster.fabric.kind torus: the slice's dimensions against the card's ICI and the cluster's
// chips; the whole slice becomes one scale-up domain.
void ReadTorus(const Section& s, site::ClusterConfig& c) {
  const Section f = s.Sub("fabric");
  if (f.Enum("kind") != "torus") {
    if (c.gpu.ici.present()) {
      s.Fail("gpu",
             c.gpu.name + " links its chips by ICI in a torus, not by NVLink switches and NICs",
             "set cluster.fabric.kind: torus and its torus_dims");
    }
    if (f.Has("torus_dims")) {
      f.Fail("torus_dims", "'" + f.Name("torus_dims") + "' is given but the fabric is a Clos",
             "set cluster.fabric.kind: torus, or drop torus_dims");
    }
    if (f.Has("twisted") && f.Bool("twisted")) {
      f.Fail("twisted", "'" + f.Name("twisted") + "' is given but the fabric is a Clos",
             "set cluster.fabric.kind: torus, or drop twisted");
    }
    return;
  }
  const hardware::IciSpec& ici = c.gpu.ici;
  if (!ici.present()) {
    f.Fail("kind",
           c.gpu.name +
               " has no inter-chip interconnect (its card has no ici block): a torus "
               "fabric needs chips that link directly, as TPUs do",
           "use a TPU card (TPU-v5p, TPU-v6e) or kind: clos");
  }
  if (s.Has("nvlink_domain")) {
    s.Fail("nvlink_domain", "a torus slice is one domain; nvlink_domain does not apply",
           "drop nvlink_domain with cluster.fabric.kind: torus");
  }
  if (!f.Has("torus_dims")) {
    f.Fail("kind", "a torus fabric needs its dimensions", "add torus_dims, e.g. [4, 4, 4]");
  }
  c.torus_dims = f.Integers("torus_dims");
  if (static_cast<int>(c.torus_dims.size()) != ici.torus_dims) {
    f.Fail("torus_dims",
           fmt::format("{} has a {}-D torus; '{}' gives {} dimensions", c.gpu.name, ici.torus_dims,
                       f.Name("torus_dims"), c.torus_dims.size()),
           fmt::format("give {} sizes", ici.torus_dims));
  }
  int64_t chips = 1;
  for (int k : c.torus_dims) chips *= k;
  if (chips != int64_t{c.nodes} * c.gpus_per_node) {
    f.Fail("torus_dims",
           fmt::format("a {} torus has {} chips, the cluster {} ({} nodes x {} per node)",
                       hardware::TorusDimsText(c.torus_dims), chips,
                       int64_t{c.nodes} * c.gpus_per_node, c.nodes, c.gpus_per_node),
           "the slice holds every chip of the cluster: make nodes x gpus_per_node its product");
  }
  if (chips > ici.pod_chips) {
    f.Fail("torus_dims",
           fmt::format("{} chips are more than a {} pod of {}: slices across pods (multislice "
                       "over the data-center network) are not modelled",
                       chips, c.gpu.name, ici.pod_chips));
  }
  c.nvlink_domain_gpus = static_cast<int>(chips);
  c.torus_twisted = f.Bool("twisted");
  if (const std::string why = hardware::TwistProblem(c.torus_dims);
      c.torus_twisted && !why.empty()) {
    f.Fail("twisted", why, "twist a v4 or v5p slice of those shapes, or leave twisted out");
  }
}

site::ClusterConfig ReadCluster(const Section& s, const Catalog& cat) {
  site::ClusterConfig c;
  // A system gives the defaults of the keys it names; keys the scenario gives win, but not
  // another GPU than the system's.
  const SystemSpec* sys = ClusterSystem(s, cat);
  if (!sys && !s.Has("gpu")) {
    s.Fail("gpu", "missing required key '" + s.Name("gpu") + "'",
           "name a GPU (cluster.gpu) or a system of the catalog (cluster.system)");
  }
  const std::string gpu = s.Has("gpu") ? s.String("gpu") : sys->gpu;
  if (sys && gpu != sys->gpu) {
    s.Fail("gpu", "system '" + sys->name + "' is built of " + sys->gpu + ", not " + gpu,
           "leave cluster.gpu out with cluster.system, or drop the system");
  }
  auto it = cat.gpus.find(gpu);
  if (it == cat.gpus.end()) {
    s.Fail("gpu", "unknown GPU '" + gpu + "'",
           UnknownNameHint(gpu, cat.gpus) + " (or add one under catalog.gpus)");
  }
  c.gpu = it->second;
  c.nodes = s.Int("nodes");
  c.gpus_per_node = sys && !s.Has("gpus_per_node") ? sys->gpus_per_node : s.Int("gpus_per_node");
  c.nvlink_domain_gpus = s.OptionalInt("nvlink_domain").value_or(sys ? sys->nvlink_domain : 0);
  if (c.nvlink_domain_gpus % c.gpus_per_node != 0) {
    s.Fail("nvlink_domain",
           "an NVLink domain of " + std::to_string(c.nvlink_domain_gpus) +
               " GPUs does not hold whole nodes of " + std::to_string(c.gpus_per_node),
           "use a multiple of gpus_per_node, e.g. 72 with 4 GPUs per node");
  }
  ReadTorus(s, c);
  c.nodes_per_rack =
      sys && !s.Has("nodes_per_rack") ? sys->nodes_per_rack : s.Int("nodes_per_rack");
  if (!sys && !s.Has("node_base_power")) {
    s.Fail("node_base_power", "missing required key '" + s.Name("node_base_power") + "'",
           "give the non-GPU power of a node, or name a system (cluster.system)");
  }
  c.node_base_power =
      s.Has("node_base_power") ? s.Quantity<Power>("node_base_power") : sys->node_base_power;
  c.gpu_power_cap = s.OptionalQuantity<Power>("gpu_power_cap").value_or(c.gpu.tdp);
  if (c.gpu_power_cap < c.gpu.idle_power) {
    s.Fail("gpu_power_cap", "power cap " + Format(c.gpu_power_cap) + " is below the idle power " +
                                Format(c.gpu.idle_power) + " of " + c.gpu.name);
  }
  if (c.gpu_power_cap > c.gpu.tdp) {
    s.Fail("gpu_power_cap",
           "power cap " + Format(c.gpu_power_cap) + " is above the TDP " + Format(c.gpu.tdp) +
               " of " + c.gpu.name,
           "leave gpu_power_cap out for uncapped GPUs");
  }
  c.nic_bandwidth = s.Quantity<Bandwidth>("nic_bandwidth");
  c.link_latency = s.Quantity<Duration>("link_latency");
  c.rack_power_limit = s.OptionalQuantity<Power>("rack_power_limit")
                           .value_or(sys && sys->rack_power ? *sys->rack_power : Watts(0));
  if (s.Has("storage_network")) {
    const Section st = s.Sub("storage_network");
    c.frontend_per_node = st.Quantity<Bandwidth>("nic_per_node");
    c.storage_bandwidth = st.Quantity<Bandwidth>("storage_bandwidth");
  }
  return c;
}

// `liquid_share`: the default of the key (the cluster's system's), or nullopt for the schema's.
thermal::CoolingConfig ReadCooling(const Section& s, std::optional<double> liquid_share) {
  thermal::CoolingConfig c;
  c.capacity = s.OptionalQuantity<Power>("capacity").value_or(Watts(0));
  if (s.Has("cop")) {
    // Every declared key of the section except these two belongs to the chain.
    for (const std::string& k : ScenarioSchema().ChildNames("facility.cooling")) {
      if (k != "cop" && k != "capacity" && s.Has(k)) {
        s.Fail(k,
               "'" + k + "' belongs to the cooling chain, but 'cop' asks for a constant-COP plant",
               "remove cop to model the chain, or the chain's keys to keep the constant COP");
      }
    }
    c.constant_cop = s.Number("cop");
    return c;
  }
  if (!s.Has("capacity")) {
    s.Fail("capacity", "the cooling chain needs its design heat 'capacity'",
           "for example capacity: 1.2 MW (or give a constant 'cop' instead of the chain)");
  }
  c.liquid_share =
      liquid_share && !s.Has("liquid_share") ? *liquid_share : s.Fraction("liquid_share");
  ReadLiquidCooling(s, c);
  c.liquid_supply = s.Quantity<Temperature>("liquid_supply");
  c.air_supply = s.Quantity<Temperature>("air_supply");
  c.loop_delta_t = s.Quantity<TemperatureDifference>("loop_delta_t");
  c.sink = s.Enum("heat_sink") == "dry_cooler" ? thermal::HeatSink::kDryCooler
                                               : thermal::HeatSink::kCoolingTower;
  c.tower_approach = s.Quantity<TemperatureDifference>("tower_approach");
  c.dry_cooler_approach = s.Quantity<TemperatureDifference>("dry_cooler_approach");
  c.economizer = s.Bool("economizer");
  c.economizer_approach = s.Quantity<TemperatureDifference>("economizer_approach");
  c.chiller = thermal::FindChiller(s.Enum("chiller"));
  c.chillers = s.Int("chillers");
  c.low_load = s.Enum("low_load") == "hot_gas_bypass" ? thermal::LowLoad::kHotGasBypass
                                                      : thermal::LowLoad::kCycling;
  c.pump_share = s.Fraction("pump_share");
  c.crah_fan_share = s.Fraction("crah_fan_share");
  c.sink_fan_share = s.Fraction("sink_fan_share");
  c.cycles_of_concentration = s.Number("cycles_of_concentration");
  c.loop_time_constant = s.Quantity<Duration>("loop_time_constant");
  c.cdu_effectiveness = s.Fraction("cdu_effectiveness");
  c.cdu_secondary_delta_t = s.Quantity<TemperatureDifference>("cdu_secondary_delta_t");
  c.cdu_capacity = s.OptionalQuantity<Power>("cdu_capacity").value_or(Watts(0));
  c.racks_per_cdu = s.OptionalInt("racks_per_cdu").value_or(0);
  if (s.Has("cdu_capacity") && c.racks_per_cdu == 0) {
    s.Fail("cdu_capacity", "a CDU capacity needs the racks each CDU serves",
           "add racks_per_cdu, e.g. racks_per_cdu: 8");
  }
  if (s.Has("cdu_capacity") && c.liquid_share <= 0) {
    s.Fail("cdu_capacity", "the CDUs carry the cold plates' heat, and liquid_share is 0",
           "give liquid_share (about 80 % for liquid-cooled GPU racks), or leave cdu_capacity out");
  }
  c.crah_approach = s.Quantity<TemperatureDifference>("crah_approach");
  c.chip_to_coolant = s.Quantity<ThermalResistance>("chip_to_coolant");
  c.chip_time_constant = s.Quantity<Duration>("chip_time_constant");
  if (c.chillers == 0 && !c.economizer) {
    s.Fail("chillers", "a plant without chillers needs the economizer to cool anything",
           "set economizer: true, or give chillers");
  }
  return c;
}

site::SwingConfig ReadSwings(const Section& s, const site::SiteConfig& cfg) {
  site::SwingConfig w;
  w.enabled = true;
  w.start = SimTime::From(s.Quantity<Duration>("start"));
  w.length = SimTime::From(s.Quantity<Duration>("duration"));
  w.resolution = SimTime::From(s.Quantity<Duration>("resolution"));
  if (w.start + w.length > cfg.duration) {
    s.Fail("duration", "the power-swing window ends after the simulation",
           "start + duration must be within simulation.duration");
  }
  if (w.length.ns() % w.resolution.ns() != 0) {
    s.Fail("resolution", "the window is not a whole number of samples");
  }
  w.band_low_hz = ToHertz(s.Quantity<Frequency>("band_low"));
  w.band_high_hz = ToHertz(s.Quantity<Frequency>("band_high"));
  if (w.band_high_hz <= w.band_low_hz)
    s.Fail("band_high", "the band's upper edge is below its lower");
  const double nyquist = 0.5 / w.resolution.seconds();
  if (w.band_high_hz > nyquist) {
    s.Fail("band_high",
           "the band reaches above the Nyquist frequency (" + Format(Hertz(nyquist)) +
               ") of the resolution",
           "use a finer resolution or a lower band_high");
  }
  w.gpu_power_floor = s.OptionalQuantity<Power>("gpu_power_floor");
  if (w.gpu_power_floor && *w.gpu_power_floor > cfg.cluster.gpu_power_cap) {
    s.Fail("gpu_power_floor",
           "the power floor is above the GPUs' power limit " + Format(cfg.cluster.gpu_power_cap));
  }
  w.gpu_ramp_time = s.OptionalQuantity<Duration>("gpu_ramp_time");
  if (s.Has("battery")) {
    const Section b = s.Sub("battery");
    power::Battery bat;
    bat.power_w = ToWatts(b.Quantity<Power>("power"));
    bat.capacity_j = ToJoules(b.Quantity<Energy>("energy"));
    bat.round_trip_efficiency = b.Fraction("round_trip_efficiency");
    bat.smoothing_s = ToSeconds(b.Quantity<Duration>("smoothing"));
    w.battery = bat;
  }
  return w;
}

site::FacilityConfig ReadFacility(const Section& s, std::optional<double> liquid_share) {
  site::FacilityConfig f;
  std::set<std::string> names;
  for (const Section& st : s.List("power_chain")) {
    power::ConversionStage stage;
    stage.name = st.String("name");
    if (!names.insert(stage.name).second) {
      st.Fail("name", "two power-chain stages are named '" + stage.name + "'");
    }
    stage.efficiency = st.Fraction("efficiency");
    stage.fixed_loss = st.Quantity<Power>("fixed_loss");
    stage.rating = st.OptionalQuantity<Power>("rating").value_or(Watts(0));
    if (const auto kva = st.OptionalQuantity<ApparentPower>("apparent_rating")) {
      if (st.Has("rating")) {
        st.Fail("apparent_rating",
                "stage '" + stage.name + "' has both a rating and an apparent_rating",
                "keep one: rating in kW, or apparent_rating in kVA with power_factor");
      }
      stage.rating = Watts(ToVoltAmperes(*kva) * st.Fraction("power_factor"));
    }
    stage.it_equipment = st.Bool("it_equipment");
    stage.resistive_loss = st.Fraction("resistive_loss");
    stage.modules = st.Int("modules");
    stage.racks_per_unit = st.OptionalInt("racks_per_unit").value_or(0);
    const std::string red = st.Enum("redundancy");
    stage.redundancy = red == "N+1"  ? power::Redundancy::kNPlus1
                       : red == "2N" ? power::Redundancy::k2N
                                     : power::Redundancy::kN;
    const std::string policy = st.Enum("on_overload");
    stage.on_overload = policy == "cap_gpus" ? power::OverloadPolicy::kCapGpus
                        : policy == "trip"   ? power::OverloadPolicy::kTrip
                                             : power::OverloadPolicy::kReport;
    for (const char* key : {"resistive_loss", "on_overload"}) {
      const bool used = std::string(key) == "resistive_loss"
                            ? stage.resistive_loss > 0
                            : stage.on_overload != power::OverloadPolicy::kReport;
      if (used && stage.rating <= Watts(0)) {
        st.Fail(key, "stage '" + stage.name + "' has no rating for " + key + " to act on",
                "give the stage a rating, e.g. rating: 1.5 MW");
      }
    }
    if (stage.it_equipment && !f.power_chain.empty() && !f.power_chain.back().it_equipment) {
      st.Fail("it_equipment",
              "stage '" + stage.name + "' is IT equipment but comes after a facility stage",
              "list the IT equipment's stages (PSU, DC-DC) first, from the load outward");
    }
    f.power_chain.push_back(stage);
  }
  f.cooling = ReadCooling(s.Sub("cooling"), liquid_share);
  if (s.Has("battery")) f.battery = ReadBattery(s.Sub("battery"));
  if (s.Has("generation")) f.generation = ReadGeneration(s.Sub("generation"));
  return f;
}

workload::ModelCard ResolveModel(const Section& w, const Catalog& cat, const std::string& base_dir,
                                 std::string_view key = "model") {
  const std::string name = w.String(key);
  auto it = cat.models.find(name);
  if (it != cat.models.end()) return it->second;
  const bool looks_like_path =
      name.find('/') != std::string::npos || name.ends_with(".yaml") || name.ends_with(".yml");
  if (looks_like_path) {
    std::filesystem::path p(name);
    if (p.is_relative() && !base_dir.empty()) p = std::filesystem::path(base_dir) / p;
    const std::string problem = FileProblem(p.string());
    if (problem == "not found") {
      w.Fail(key, "model card file not found: '" + p.string() + "'",
             "paths are relative to the scenario file");
    }
    if (!problem.empty() && problem != "is empty") {  // an empty card: the card reader says so
      w.Fail(key, "model card file '" + p.string() + "' " + problem);
    }
    return LoadModelCardFile(p.string());
  }
  w.Fail(key, "unknown model '" + name + "'",
         UnknownNameHint(name, cat.models) + " (or give a path to a model card file)");
}

// Tensor parallelism stays inside an NVLink domain (jobs and service replicas alike).
void CheckTensorParallel(const Section& s, int tp, const site::ClusterConfig& cluster) {
  if (tp > cluster.nvlink_domain()) {
    s.Fail("tp",
           "tensor parallelism " + std::to_string(tp) + " exceeds the " +
               std::to_string(cluster.nvlink_domain()) + " GPUs of an NVLink domain",
           "tensor parallelism stays inside an NVLink domain (cluster.nvlink_domain)");
  }
}

// The section's dtype ("auto": the card's default), which the cluster's GPU must have tensor
// throughput for.
hardware::DataType ReadDataType(const Section& s, const site::ClusterConfig& cluster,
                                const Catalog& cat) {
  const DataTypeChoice c = ChooseDataType(s.Enum("dtype"), cluster.gpu, cat);
  if (!c.problem.empty()) s.Fail("dtype", c.problem, c.hint);
  return c.type;
}

// `share`: the fraction of the requests the simulated replicas receive (sample_replicas).
// Appends to `warnings` what is allowed but likely unintended (a trace that ends early); `budget`
// is charged with the requests' memory before they are generated.
workload::RequestSet ReadRequests(const Section& svc, const std::string& base_dir, double service_s,
                                  uint64_t seed, double share, std::vector<std::string>& warnings,
                                  MemoryBudget& budget) {
  const std::string service = "service '" + svc.String("name") + "'";
  std::vector<workload::RequestSet> sets;
  std::vector<workload::SyntheticSource> synthetic;
  const std::vector<Section> sources = svc.List("requests");
  if (sources.empty()) svc.Fail("requests", "a service needs at least one request source");
  for (const Section& r : sources) {
    const bool trace = r.Has("trace");
    if (trace == r.Has("rate")) {
      r.Fail(trace ? "rate" : "trace", "a request source has either 'trace' or 'rate'",
             "replay a trace file, or generate requests at a rate (\"5 req/s\")");
    }
    if (trace) {
      // Every key of a source but these is for synthetic requests.
      for (const std::string& k : ScenarioSchema().ChildNames("services[].requests[]")) {
        if (k == "class" || k == "trace" || k == "rate_scale" || k == "rate" || k == "loop") {
          continue;
        }
        if (r.Has(k)) r.Fail(k, "'" + r.Name(k) + "' is for synthetic sources, not traces");
      }
      const std::string path = r.File("trace", base_dir);
      const std::string ext = std::filesystem::path(path).extension().string();
      const std::string label =
          r.Has("class") ? r.String("class") : std::filesystem::path(path).stem().string();
      if (ext != ".csv" && ext != ".jsonl") {
        r.Fail("trace", "unknown trace format '" + ext + "'",
               "Azure LLM traces end in .csv, Mooncake traces in .jsonl");
      }
      workload::RequestSet set = ReadNamedFile(r, "trace", [&] {
        return ext == ".csv" ? workload::ReadAzureTrace(path, label)
                             : workload::ReadMooncakeTrace(path, label);
      });
      workload::ScaleRate(set, r.Number("rate_scale"));
      if (r.Bool("loop")) {
        const double period = workload::LoopPeriod(set);
        if (period <= 0) {
          r.Fail("loop",
                 "the trace cannot loop: it has fewer than two requests, or all arrive at "
                 "one instant");
        }
        // Laps are thinned before they are copied, so memory follows the sampled share.
        const double laps = std::max(1.0, std::ceil(service_s / period));
        const double bytes = laps * share *
                             (static_cast<double>(set.requests.size()) * sizeof(workload::Request) +
                              static_cast<double>(set.hashes.size()) * sizeof(uint64_t));
        constexpr double kMaxBytes = 1024.0 * 1024 * 1024;
        if (bytes > kMaxBytes) {
          r.Fail("loop",
                 "looping the trace " + std::to_string(static_cast<long long>(laps)) +
                     " times over the service's " + units::Readable(units::Seconds(service_s)) +
                     " holds about " + units::Readable(units::Bytes(bytes)) +
                     " of requests; at most 1 GiB is allowed",
                 "a shorter duration, or sample_replicas to simulate a share of the replicas");
        }
        if (share < 1) workload::Thin(set, share, seed);
        workload::Loop(set, service_s);
        workload::Window(set, 0, service_s, 0);
      } else {
        // A trace that stops early leaves the replicas idle, which raises energy per token.
        double last = 0;
        for (const workload::Request& q : set.requests) {
          if (!q.follow_up) last = std::max(last, q.arrival_s);
        }
        if (last < 0.95 * service_s) {
          warnings.push_back(r.ValueAt("trace").ToString() + ": " + r.Name("trace") +
                             ": the trace's last request arrives " +
                             units::Readable(units::Seconds(last), 3) + " into the service's " +
                             units::Readable(units::Seconds(service_s), 3) +
                             "; its replicas idle after it, which raises energy per token "
                             "('loop: true' repeats the trace)");
        }
        workload::Window(set, 0, service_s, 0);
        if (share < 1) workload::Thin(set, share, seed);
      }
      budget.Charge(
          r, "trace",
          static_cast<double>(set.requests.size()) * kBytesPerRequest +
              static_cast<double>(set.hashes.size()) * kBytesPerPrefixBlock,
          service + " replays " + std::to_string(set.requests.size()) + " requests of this trace",
          "a shorter service or simulation, or sample_replicas to simulate a share of "
          "the replicas");
      sets.push_back(std::move(set));
      continue;
    }
    if (r.Has("rate_scale")) r.Fail("rate_scale", "rate_scale is for traces; change 'rate'");
    if (r.Has("loop")) r.Fail("loop", "loop is for traces; synthetic requests last the service");
    workload::SyntheticSource src;
    src.label = r.Has("class") ? r.String("class") : "synthetic";
    src.arrival = r.Enum("arrivals") == "gamma" ? workload::SyntheticSource::Arrival::kGamma
                                                : workload::SyntheticSource::Arrival::kPoisson;
    if (r.Has("cv") && src.arrival == workload::SyntheticSource::Arrival::kPoisson) {
      r.Fail("cv", "cv is for gamma arrivals", "set 'arrivals: gamma'");
    }
    // A random share of a renewal process, drawn directly (exact for Poisson arrivals).
    src.rate_per_s = r.Quantity<units::RequestRate>("rate").base() * share;
    src.cv = r.Number("cv");
    if (r.Has("diurnal")) {
      const std::vector<double> d = r.Numbers("diurnal");
      if (d.size() != 24) {
        r.Fail("diurnal", "expected 24 hourly values, got " + std::to_string(d.size()));
      }
      if (*std::max_element(d.begin(), d.end()) <= 0) {
        r.Fail("diurnal", "the diurnal profile is zero all day");
      }
      src.diurnal.emplace();
      std::copy(d.begin(), d.end(), src.diurnal->begin());
    }
    const bool lognormal = r.Enum("lengths") == "lognormal";
    const int max = r.Int("max_tokens");
    auto dist = [&](const char* key) {
      workload::LengthDistribution l;
      l.kind = lognormal ? workload::LengthDistribution::Kind::kLognormal
                         : workload::LengthDistribution::Kind::kFixed;
      l.a = r.Int(key);
      l.b = r.Number("length_cv");
      l.max = max;
      // Draws are cut at max_tokens; a length past it would be cut silently, every draw of a
      // fixed length and most of a lognormal's, so the set would not be the one asked for.
      if (l.a > max) {
        r.Fail(key,
               std::string(key) + " " + units::ShortestDouble(l.a) + " is above max_tokens " +
                   std::to_string(max) + (lognormal ? ": most draws" : ": every request") +
                   " would be cut to max_tokens",
               "raise max_tokens, or lower " + std::string(key));
      }
      return l;
    };
    src.prompt = dist("prompt_tokens");
    src.output = dist("output_tokens");
    src.step_prompt = dist("step_prompt_tokens");
    src.steps = r.Int("steps");
    src.step_gap_s = units::ToSeconds(r.Quantity<units::Duration>("step_gap"));
    src.shared_prefix_tokens = r.Int("shared_prefix_tokens");
    src.end_s = service_s;
    if (LongestContext(src) > INT_MAX) {
      r.Fail("steps",
             service + "'s sessions could grow to " + AboutCount(LongestContext(src)) +
                 " tokens of context (every length at max_tokens), more than a request holds "
                 "(2147483647)",
             "fewer steps, or a lower max_tokens");
    }
    const RequestLoad load = ExpectedLoad(src, workload::RequestSet().hash_block_tokens);
    budget.Charge(
        r, "rate", load.requests * kBytesPerRequest + load.prefix_blocks * kBytesPerPrefixBlock,
        service + " would hold about " + AboutCount(load.requests) + " requests with " +
            AboutCount(load.prefix_blocks) + " prefix blocks (" +
            units::ShortestDouble(kBytesPerRequest) + " B a request, " +
            units::ShortestDouble(kBytesPerPrefixBlock) + " B a 512-token block of prompt)",
        "a lower rate, a shorter service or simulation, fewer session steps or shorter "
        "prompts and outputs, or sample_replicas to simulate a share of the replicas");
    for (const workload::SyntheticSource& other : synthetic) {
      if (other.label == src.label) {
        r.Fail("class", "two synthetic sources of this service are named '" + src.label + "'",
               "give each a 'class'");
      }
    }
    synthetic.push_back(src);
  }
  if (!synthetic.empty()) sets.push_back(workload::Generate(synthetic, seed));
  return workload::Merge(std::move(sets));
}

// services[].speculative: the method, its drafter, draft length and acceptance, checked against
// the service's model and layout.
workload::Speculation ReadSpeculation(const Section& x, const workload::InferenceSetup& replica,
                                      const Catalog& cat, const std::string& base_dir) {
  workload::Speculation sp;
  sp.method = *workload::SpeculationMethodFromName(x.Enum("method"));  // the schema's choices
  if (sp.method == workload::SpeculationMethod::kDraft) {
    if (!x.Has("draft_model")) {
      x.Fail("method", "method draft needs a draft model ('" + x.Name("draft_model") + "')",
             "name one: a catalog model or a model card file sharing the model's vocabulary");
    }
    sp.draft = ResolveModel(x, cat, base_dir, "draft_model");
  } else if (x.Has("draft_model")) {
    x.Fail("draft_model",
           "only method draft runs a draft model; " + x.Enum("method") + " drafts without one",
           "leave draft_model out, or use method: draft");
  }
  sp.draft_tokens = x.OptionalInt("draft_tokens").value_or(DefaultDraftTokens(sp.method));
  sp.acceptance = x.Fraction("acceptance");
  if (sp.acceptance >= 1) {
    x.Fail("acceptance",
           "'" + x.Name("acceptance") + "' must be below 1 (the chance that a drafted token is " +
               "accepted; at 1 every draft would be kept)",
           "a measured acceptance rate, e.g. 0.7");
  }
  const std::string problem =
      workload::SpeculationProblem(replica.model, sp, replica.tp, replica.pp);
  if (!problem.empty()) x.Fail(x.Has("draft_model") ? "draft_model" : "method", problem);
  return sp;
}

site::ServiceConfig ReadService(const Section& v, const site::ClusterConfig& cluster,
                                const Catalog& cat, const std::string& base_dir, SimTime sim_end,
                                uint64_t seed, std::vector<std::string>& warnings,
                                MemoryBudget& budget) {
  site::ServiceConfig sc;
  workload::ServiceSetup& s = sc.setup;
  s.name = v.String("name");
  s.replica.model = ResolveModel(v, cat, base_dir);
  s.replica.gpu = cluster.gpu;
  s.replica.tp = v.Int("tp");
  s.replica.pp = v.Int("pp");
  s.replica.ep = v.Int("ep");
  s.replica.nvlink_domain = cluster.nvlink_domain();  // where the pipeline hand-offs run
  s.replica.nic_bandwidth = cluster.nic_bandwidth;
  s.replica.link_latency = cluster.link_latency;
  CheckTensorParallel(v, s.replica.tp, cluster);
  if (const std::string mla = workload::MlaTensorParallelProblem(s.replica.model, s.replica.tp);
      !mla.empty()) {
    v.Fail("tp", mla);
  }
  const std::string layout =
      workload::InferenceLayoutProblem(s.replica.model, s.replica.tp, s.replica.pp, s.replica.ep);
  if (!layout.empty()) v.Fail("ep", layout);
  s.replica.dtype = ReadDataType(v, cluster, cat);
  s.replica.kv_cache_fp8 = v.Enum("kv_cache_dtype") == "fp8";
  if (v.Has("speculative")) {
    s.replica.speculation = ReadSpeculation(v.Sub("speculative"), s.replica, cat, base_dir);
  }
  s.replicas = v.Int("replicas");
  s.start_s = units::ToSeconds(v.Quantity<units::Duration>("start"));
  if (s.start_s >= sim_end.seconds())
    v.Fail("start", "the service starts after the simulation ends");
  s.end_s = sim_end.seconds();
  if (auto d = v.OptionalQuantity<units::Duration>("duration")) {
    s.end_s = std::min(s.end_s, s.start_s + units::ToSeconds(*d));
  }
  s.routing = *workload::RoutingFromName(v.Enum("router"));  // the schema's choices
  if (auto k = v.OptionalInt("sample_replicas")) {
    if (*k > s.replicas) v.Fail("sample_replicas", "more sampled replicas than replicas");
    s.sample_replicas = *k;
  }
  const Section slo = v.Sub("slo");
  s.slo.ttft_s = units::ToSeconds(slo.Quantity<units::Duration>("ttft"));
  s.slo.tpot_s = units::ToSeconds(slo.Quantity<units::Duration>("tpot"));
  const Section e = v.Sub("engine");
  s.engine.max_seqs = e.Int("max_seqs");
  if (const int groups = workload::AttentionGroups(s.replica); s.engine.max_seqs % groups != 0) {
    e.Fail("max_seqs",
           "max_seqs " + std::to_string(s.engine.max_seqs) + " does not split over the " +
               std::to_string(groups) + " attention groups of wide expert parallelism (ep " +
               std::to_string(s.replica.ep) + " / tp " + std::to_string(s.replica.tp) + ")",
           std::string(e.Has("max_seqs") ? "" : "256 is the default of engine.max_seqs; ") +
               "it counts the replica's sequences over all its groups: a multiple of " +
               std::to_string(groups) + " (e.g. " +
               std::to_string(groups * std::clamp(65536 / groups, 1, 256)) + " for " +
               std::to_string(std::clamp(65536 / groups, 1, 256)) + " a group)");
  }
  s.engine.max_batched_tokens = e.Int("max_batched_tokens");
  s.engine.chunked_prefill = e.Bool("chunked_prefill");
  s.replica.two_batch_overlap = e.Bool("two_batch_overlap");
  if (const std::string why = workload::TwoBatchOverlapProblem(s.replica); !why.empty()) {
    e.Fail("two_batch_overlap", why);
  }
  if (const int groups = workload::AttentionGroups(s.replica);
      s.replica.two_batch_overlap && s.engine.max_seqs < 2 * groups) {
    warnings.push_back(e.ValueAt("two_batch_overlap").ToString() + ": " +
                       e.Name("two_batch_overlap") + ": engine.max_seqs " +
                       std::to_string(s.engine.max_seqs) + " gives each of the " +
                       std::to_string(groups) +
                       " attention groups one sequence at most: two-batch overlap never splits "
                       "one (it needs 2 a group)");
  }
  s.engine.prefix_caching = e.Bool("prefix_caching");
  s.engine.block_tokens = e.Int("block_tokens");
  if (512 % s.engine.block_tokens != 0) {
    e.Fail("block_tokens", "block_tokens must divide 512 (the traces' prefix block)",
           "use 8, 16, 32 or 64");
  }
  s.engine.preemption = e.Enum("preemption") == "swap" ? workload::Preemption::kSwap
                                                       : workload::Preemption::kRecompute;
  s.engine.memory_fraction = e.Fraction("memory_fraction");
  if (e.Has("kv_offload")) {
    const Section o = e.Sub("kv_offload");
    if (!s.engine.prefix_caching) {
      o.Fail("capacity", "the KV offload tier keeps prefix blocks, and prefix_caching is off",
             "set engine.prefix_caching: true, or leave kv_offload out");
    }
    s.engine.offload_bytes = units::ToBytes(o.Quantity<units::DataSize>("capacity"));
    s.engine.offload_link_bytes_per_s =
        units::ToBytesPerSecond(o.Quantity<units::Bandwidth>("link"));
  }
  if (v.Has("autoscale")) {
    const Section a = v.Sub("autoscale");
    s.autoscale.enabled = true;
    s.autoscale.min_replicas = a.Int("min_replicas");
    s.autoscale.max_replicas = s.replicas;
    if (s.autoscale.min_replicas > s.replicas) {
      a.Fail("min_replicas", "min_replicas exceeds the service's replicas");
    }
    s.autoscale.target_utilization = a.Fraction("target_utilization");
    s.autoscale.interval_s = units::ToSeconds(a.Quantity<units::Duration>("interval"));
    s.autoscale.spin_up_s = units::ToSeconds(a.Quantity<units::Duration>("spin_up"));
  }
  if (v.Has("disaggregation")) {
    const Section d = v.Sub("disaggregation");
    s.pd.prefill_replicas = d.Int("prefill_replicas");
    const auto link = d.OptionalQuantity<units::Bandwidth>("link");
    const bool nvlink = d.Enum("over") == "nvlink";
    // Over NVLink the KV moves as a collective's bytes do (hardware::NvlinkCollectives).
    const double nvlink_bytes_per_s = units::ToBytesPerSecond(cluster.gpu.NvlinkPerDirection()) *
                                      cluster.gpu.collective.bus_efficiency;
    if (nvlink && nvlink_bytes_per_s <= 0) {
      d.Fail("over", cluster.gpu.name + " has no NVLink", "over: network");
    }
    // Each pair at a GPU's whole NVLink bandwidth holds on a switched fabric (NVSwitch); AMD's
    // Infinity Fabric is a mesh, where one peer gets a link's share.
    if (nvlink && cluster.gpu.vendor != "NVIDIA") {
      d.Fail("over",
             cluster.gpu.name +
                 "'s GPUs are joined as a mesh, not by a switch: one peer gets a "
                 "fraction of its scale-up bandwidth, which this model does not take",
             "over: network, or give link as the peer-to-peer bandwidth");
    }
    s.pd.over_nvlink = nvlink;
    s.pd.link_bytes_per_s =
        link ? units::ToBytesPerSecond(*link)
             : (nvlink ? nvlink_bytes_per_s : units::ToBytesPerSecond(cluster.nic_bandwidth));
    if (s.pd.link_bytes_per_s <= 0) {
      d.Fail("link", "no KV transfer bandwidth: the cluster has no NIC bandwidth",
             "give disaggregation.link");
    }
  }
  const std::string problem = workload::ServiceProblem(s);
  if (!problem.empty()) v.Fail("replicas", "service '" + s.name + "': " + problem);
  const double share =
      s.sample_replicas > 0 ? static_cast<double>(s.sample_replicas) / s.replicas : 1.0;
  s.presampled = share < 1;
  sc.requests = ReadRequests(v, base_dir, s.end_s - s.start_s, seed ^ StableHash(s.name), share,
                             warnings, budget);
  return sc;
}

site::JobConfig ReadJob(const Section& w, const site::ClusterConfig& cluster, const Catalog& cat,
                        const std::string& base_dir, SimTime sim_end) {
  site::JobConfig j;
  j.name = w.String("name");
  (void)w.Enum("type");  // "training" is the only kind so far
  workload::TrainingSetup& t = j.setup;
  t.model = ResolveModel(w, cat, base_dir);
  t.gpu = cluster.gpu;
  t.tp = w.Int("tp");
  t.pp = w.Int("pp");
  t.vpp = w.Int("vpp");
  t.layers_per_stage = w.Integers("layers_per_stage");
  // As --layers-per-stage: an empty list is no split (leave the key out for the automatic one).
  if (w.Has("layers_per_stage") && t.layers_per_stage.empty()) {
    w.Fail("layers_per_stage", "'" + w.Name("layers_per_stage") + "' is an empty list",
           "give pp layer counts, or leave the key out for the even or balanced split");
  }
  t.cp = w.Int("cp");
  t.ep = w.Int("ep");
  CheckTensorParallel(w, t.tp, cluster);
  const int model_parallel = t.tp * t.pp * t.cp;
  const auto gpus = w.OptionalInt("gpus");
  const auto dp = w.OptionalInt("dp");
  if (dp) {
    t.dp = *dp;
    // In 64 bits: tp x pp x cp x dp may pass an int's range within the keys' bounds.
    const int64_t total = int64_t{model_parallel} * t.dp;
    if (total > cluster.gpu_count()) {
      w.Fail("dp", fmt::format("tp x pp x cp x dp = {} x {} x {} x {} = {} GPUs, more than the "
                               "cluster's {}",
                               t.tp, t.pp, t.cp, t.dp, total, cluster.gpu_count()));
    }
    if (gpus && *gpus != model_parallel * t.dp) {
      w.Fail("gpus",
             "gpus is " + std::to_string(*gpus) + " but tp x pp x cp x dp is " +
                 std::to_string(t.tp) + " x " + std::to_string(t.pp) + " x " +
                 std::to_string(t.cp) + " x " + std::to_string(t.dp) + " = " +
                 std::to_string(model_parallel * t.dp),
             "give gpus or dp, or make them agree");
    }
  } else if (gpus) {
    if (*gpus % model_parallel != 0) {
      w.Fail("gpus", "gpus " + std::to_string(*gpus) +
                         " is not a multiple of tp x pp x cp = " + std::to_string(model_parallel));
    }
    t.dp = *gpus / model_parallel;
  } else {
    w.Fail("gpus", "'" + w.Name("gpus") + "' or '" + w.Name("dp") + "' is needed",
           "gpus = tp x pp x cp x dp");
  }
  t.global_batch = w.Int("global_batch");
  t.micro_batch = w.IsWord("micro_batch") ? 0 : w.Int("micro_batch");
  t.sequence_length = w.Int("sequence_length");
  t.dtype = ReadDataType(w, cluster, cat);
  const std::string recompute = w.Enum("recompute");
  t.recompute_auto = recompute == "auto";
  t.recompute = recompute == "full"        ? workload::Recompute::kFull
                : recompute == "selective" ? workload::Recompute::kSelective
                                           : workload::Recompute::kNone;
  t.sequence_parallel = w.Bool("sequence_parallel") && t.tp > 1;
  t.zero = w.Int("zero");
  t.overlap_grad_reduce = w.Bool("overlap_grad_reduce");
  t.expert_imbalance = w.Number("expert_imbalance");
  t.ep_overlap = w.Enum("ep_overlap") == "dualpipe" ? workload::EpOverlap::kDualPipe
                                                    : workload::EpOverlap::kNone;
  if (t.ep_overlap == workload::EpOverlap::kDualPipe && !t.model.IsMoe()) {
    w.Fail("ep_overlap", t.model.name + " is a dense model: it has no expert all-to-all to overlap",
           "leave ep_overlap out (none)");
  }
  t.layer_kernels = w.Enum("layer_kernels") == "fused" ? workload::LayerKernels::kFused
                                                       : workload::LayerKernels::kEager;
  t.nvlink_domain = cluster.nvlink_domain();
  t.torus_dims = cluster.torus_dims;
  t.torus_twisted = cluster.torus_twisted;
  t.nic_bandwidth = cluster.nic_bandwidth;
  t.link_latency = cluster.link_latency;
  // A given split's faults point at the split (its entry, when one is at fault).
  int entry = -1;
  const std::string split = workload::StageSplitProblem(t, &entry);
  if (!split.empty() && !t.layers_per_stage.empty()) {
    const std::string message = "workload '" + j.name + "': " + split;
    if (entry >= 0) throw InputError(w.ItemAt("layers_per_stage", entry), message);
    w.Fail("layers_per_stage", message);
  }
  const std::string problem = workload::LayoutProblem(t);
  if (!problem.empty()) {
    const char* key = problem.find("batch") != std::string::npos    ? "global_batch"
                      : problem.find("layers") != std::string::npos ? "pp"
                      : problem.find("ep ") == 0 || problem.find("expert") != std::string::npos
                          ? "ep"
                          : "tp";
    w.Fail(key, "workload '" + j.name + "': " + problem);
  }
  const workload::StepEstimate est = workload::EstimateStep(t);
  if (!est.fits_in_memory) {
    w.Fail("model",
           "workload '" + j.name + "' needs " + units::Readable(est.memory.Total()) +
               " per GPU (weights " + units::Readable(est.memory.weights) + ", gradients " +
               units::Readable(est.memory.gradients) + ", optimizer " +
               units::Readable(est.memory.optimizer) + ", activations " +
               units::Readable(est.memory.activations) + ") but " + cluster.gpu.name + " has " +
               units::Readable(cluster.gpu.hbm_capacity),
           "more pipeline or tensor parallelism, zero: 1-3, recompute: full or auto, or "
           "micro_batch: auto; `firstwall step --search` lists layouts that fit");
  }
  const Section act = w.Sub("activity");
  t.activity.compute = act.Fraction("compute");
  t.activity.communication = act.Fraction("communication");
  t.activity.optimizer = act.Fraction("optimizer");
  j.start = SimTime::From(w.Quantity<Duration>("start"));
  if (j.start >= sim_end) {
    w.Fail("start", "the job starts at or after the end of the simulation");
  }
  if (auto d = w.OptionalQuantity<Duration>("duration")) j.end = j.start + SimTime::From(*d);
  // auto (Daly's optimum) is resolved with the scheduler's failure rates (life_loader.cc).
  const bool auto_every = w.IsWord("checkpoint_every");
  if (auto every = auto_every ? std::optional<Duration>(units::Seconds(0))
                              : w.OptionalQuantity<Duration>("checkpoint_every")) {
    if (cluster.storage_bandwidth <= units::BytesPerSecond(0)) {
      w.Fail("checkpoint_every",
             "workload '" + j.name + "' checkpoints, but the cluster has no storage network",
             "declare cluster.storage_network with nic_per_node and storage_bandwidth");
    }
    j.checkpoint_every = auto_every ? SimTime::Never() : SimTime::From(*every);
    j.checkpoint_size =
        w.OptionalQuantity<DataSize>("checkpoint_size")
            .value_or(units::Bytes(workload::kCheckpointBytesPerParam * t.model.TotalParams()));
  }
  return j;
}

// Poisson arrivals over all components of a kind; a component already failed is not hit again
// before its repair.
void DrawRandomFaults(const Section& rf, const network::Fabric& fabric, site::SiteConfig& cfg,
                      size_t index) {
  const std::string kind = rf.Enum("kind");
  const int count = kind == "nic"    ? fabric.gpu_count()
                    : kind == "leaf" ? fabric.leaf_count()
                    : kind == "spine"
                        ? fabric.spine_count()
                        : (fabric.three_tier() ? fabric.spine_count() / fabric.pod_count() : 0);
  if (count == 0) rf.Fail("kind", "this fabric has two tiers: it has no super-spines");
  const double mtbf = ToSeconds(rf.Quantity<Duration>("mtbf"));
  const double repair = ToSeconds(rf.Quantity<Duration>("repair"));
  const double health = rf.Fraction("bandwidth");
  const double rate = count / mtbf;  // failures per second over all components
  const double horizon = cfg.duration.seconds();
  constexpr double kMaxFaults = 100000;
  if (rate * horizon > kMaxFaults) {
    rf.Fail("mtbf",
            "about " + std::to_string(static_cast<long long>(rate * horizon)) +
                " faults would be drawn; at most 100000 are simulated",
            "a longer mtbf or a shorter simulation");
  }
  RngStream rng(cfg.seed, "random_faults/" + std::to_string(index) + "/" + kind);
  std::vector<double> down_until(static_cast<size_t>(count), -1.0);
  double t = 0;
  while (true) {
    t += rng.Exponential(1.0 / rate);
    if (t >= horizon) break;
    const int c = std::min(count - 1, static_cast<int>(rng.Uniform() * count));
    const double length = rng.Exponential(repair);
    if (down_until[static_cast<size_t>(c)] > t) continue;
    down_until[static_cast<size_t>(c)] = t + length;
    site::FaultConfig f;
    f.target = kind + ":" + std::to_string(c);
    std::string error;
    f.links = fabric.TargetLinks(f.target, &error);
    FW_CHECK(error.empty(), error);
    f.health = health;
    f.at = SimTime::From(Seconds(t));
    f.end = SimTime::From(Seconds(t + length));
    cfg.faults.push_back(std::move(f));
  }
}

}  // namespace

Scenario LoadScenarioText(const std::string& text, const std::string& file,
                          const std::string& base_dir) {
  return LoadScenarioDocument(Document::Parse(text, file), base_dir);
}

Scenario LoadScenarioDocument(const Document& doc, const std::string& base_dir) {
  const std::string& file = doc.file();
  const Section root(doc, ScenarioSchema(), doc.root(), "", "", doc.At(doc.root()));
  root.Int("firstwall");  // version, range-checked by the schema

  Scenario sc;
  sc.file = file;
  sc.catalog = BuiltinCatalog();
  ReadCatalogAdditions(root, sc.catalog);
  site::SiteConfig& cfg = sc.site;

  const Section sim = root.Sub("simulation");
  cfg.duration = SimTime::From(sim.Quantity<Duration>("duration"));
  cfg.tick = SimTime::From(sim.Quantity<Duration>("tick"));
  if (cfg.tick > cfg.duration) {
    sim.Fail("tick", "the tick is longer than the simulated duration");
  }
  // Ticks are integrated one by one while anything changes: past 10^9 a run takes hours.
  const double ticks = cfg.duration.seconds() / cfg.tick.seconds();
  if (ticks > 1e9) {
    sim.Fail("tick",
             fmt::format("{:.3g} physics ticks ({} / {}) is more than the 10^9 a run may take",
                         ticks, units::Readable(Seconds(cfg.duration.seconds())),
                         units::Readable(Seconds(cfg.tick.seconds()))),
             "choose a longer tick");
  }
  sc.output_interval = cfg.tick;
  if (auto every = sim.OptionalQuantity<Duration>("output_interval")) {
    sc.output_interval = SimTime::From(*every);
    if (sc.output_interval.ns() % cfg.tick.ns() != 0) {
      sim.Fail("output_interval", "the output interval must be a whole number of ticks",
               "the tick is " + units::Readable(Seconds(cfg.tick.seconds())));
    }
  }
  sc.max_output_bytes = units::ToBytes(sim.Quantity<DataSize>("max_output_size"));
  sc.output_at = sim.KeyAt(sim.Has("max_output_size") ? "max_output_size" : "duration");
  cfg.windows = sim.Enum("windows") == "per_tick" ? WindowCut::kTicks : WindowCut::kEvents;
  cfg.seed = static_cast<uint64_t>(sim.Int64("seed"));
  const int start_day = sim.Int("start_day_of_year");

  const Section site = root.Sub("site");
  cfg.name = site.String("name");
  if (site.Has("weather_file")) {
    for (const char* k : {"outdoor_temperature", "outdoor_relative_humidity"}) {
      if (site.Has(k)) {
        site.Fail(k, std::string("'") + k + "' and weather_file both set the outdoor conditions",
                  "keep one: the constant is used only without a weather file");
      }
    }
  }
  if (site.Has("tariff_file")) {
    for (const char* k : {"electricity_price", "carbon_intensity"}) {
      if (site.Has(k)) {
        site.Fail(k,
                  std::string("'") + k + "' and tariff_file both set the grid's " +
                      (std::string(k) == "electricity_price" ? "price" : "carbon intensity"),
                  "keep one");
      }
    }
    const std::string path = site.File("tariff_file", base_dir == kBuiltinDir ? "" : base_dir);
    const std::string csv = ReadFile(path, site.ValueAt("tariff_file"));
    cfg.tariff = ReadNamedFile(site, "tariff_file", [&] {
      return power::Tariff::FromCsv(csv, path, (start_day - 1) * 24);
    });
  } else {
    if (!site.Has("electricity_price")) {
      site.Fail("electricity_price", "the grid's price is missing",
                "give electricity_price (e.g. 0.08 USD/kWh) or an hourly tariff_file");
    }
    cfg.tariff =
        power::Tariff(site.Quantity<EnergyPrice>("electricity_price"),
                      ToGramsPerKilowattHour(site.Quantity<CarbonIntensity>("carbon_intensity")));
  }
  if (site.Has("weather_file")) {
    std::string path, epw;
    if (base_dir == kBuiltinDir) {
      // examples/<name> seen from the project root.
      path = (std::filesystem::path("examples") / site.String("weather_file"))
                 .lexically_normal()
                 .string();
      epw = EmbeddedText(path);
    } else {
      path = site.File("weather_file", base_dir);
      epw = ReadFile(path, site.ValueAt("weather_file"));
    }
    cfg.weather = ReadNamedFile(site, "weather_file", [&] {
      return thermal::Weather(ParsedEpw(epw, path), (start_day - 1) * 24, path);
    });
  } else {
    cfg.weather = thermal::Weather(
        thermal::OutdoorConditions{site.Quantity<Temperature>("outdoor_temperature"),
                                   site.Fraction("outdoor_relative_humidity")});
  }
  cfg.facility.grid_import_limit =
      site.OptionalQuantity<Power>("grid_import_limit").value_or(Watts(0));
  cfg.facility.grid_ramp_limit = site.OptionalQuantity<Power>("grid_ramp_limit").value_or(Watts(0));

  const Section cluster = root.Sub("cluster");
  cfg.cluster = ReadCluster(cluster, sc.catalog);
  if (const int domain = cfg.cluster.nvlink_domain_gpus; cfg.cluster.torus_dims.empty() &&
                                                         domain > cfg.cluster.gpus_per_node &&
                                                         cfg.cluster.gpu_count() % domain != 0) {
    // Allowed (a rack partly filled), but rarely meant: an NVL72 hall is whole racks.
    const int gpus = static_cast<int>(cfg.cluster.gpu_count());
    cfg.warnings.push_back(fmt::format(
        "cluster: {} GPUs make {} whole NVLink domain{} of {} and a partial one of {} GPUs ({} "
        "nodes of {} a domain: {} nodes would fill them)",
        gpus, gpus / domain, gpus / domain == 1 ? "" : "s", domain, gpus % domain,
        cfg.cluster.nodes, domain / cfg.cluster.gpus_per_node,
        (gpus / domain + 1) * (domain / cfg.cluster.gpus_per_node)));
  }
  // What the run will hold, estimated before anything large is built (scenario/budget.h).
  MemoryBudget budget;
  budget.Charge(cluster, "nodes", cfg.cluster.gpu_count() * kBytesPerGpu,
                "the cluster's " + AboutCount(cfg.cluster.gpu_count()) + " GPUs (" +
                    units::ShortestDouble(kBytesPerGpu) + " B each for the fabric and the site)",
                "fewer nodes or GPUs per node; a site is simulated whole");

  const Section facility = root.Sub("facility");
  const auto grid_limit = cfg.facility.grid_import_limit;
  const auto ramp_limit = cfg.facility.grid_ramp_limit;
  const SystemSpec* system = ClusterSystem(cluster, sc.catalog);
  cfg.facility = ReadFacility(facility, system ? system->liquid_share : std::nullopt);
  cfg.facility.grid_import_limit = grid_limit;
  cfg.facility.grid_ramp_limit = ramp_limit;
  cfg.facility.renewables = ReadRenewables(facility, base_dir == kBuiltinDir ? "" : base_dir,
                                           (start_day - 1) * 24, ReadFile);
  {
    // Tree levels nest: each stage's unit holds whole units of the stage inside it.
    const std::vector<Section> stages = facility.List("power_chain");
    int inner = 1;
    for (size_t i = 0; i < cfg.facility.power_chain.size(); ++i) {
      const int g = cfg.facility.power_chain[i].racks_per_unit;
      const int per = g > 0 ? g : cfg.cluster.rack_count();
      if (per % inner != 0 && per < cfg.cluster.rack_count()) {
        stages[i].Fail("racks_per_unit",
                       "a unit of '" + cfg.facility.power_chain[i].name + "' serves " +
                           std::to_string(per) + " racks, not a whole number of the " +
                           std::to_string(inner) + "-rack units inside it",
                       "use a multiple of " + std::to_string(inner));
      }
      if (g > 0 && per < inner) {
        stages[i].Fail("racks_per_unit",
                       "an outer stage cannot serve fewer racks than the one inside it");
      }
      inner = std::min(per, cfg.cluster.rack_count());
    }
  }
  ReadDcBuses(facility, cfg.facility, cfg.cluster.rack_count());
  if (cfg.facility.battery && cfg.facility.battery->bus_stage >= 0) {
    for (const power::RenewableSource& r : cfg.facility.renewables) {
      if (r.bus_stage >= 0) continue;
      // The bus battery is dispatched on its bus before the grid side is known.
      cfg.warnings.push_back(fmt::format(
          "{}: the battery sits on a DC bus and '{}' at the grid connection: that plant's surplus "
          "does not charge it, and it may discharge while that plant is curtailed (put both on "
          "one side to have the battery store the plant's surplus)",
          facility.Sub("battery").ValueAt("connects_at").ToString(), r.name));
      break;
    }
  }
  if (cfg.facility.generation && grid_limit <= Watts(0)) {
    facility.Sub("generation")
        .Fail("capacity", "on-site generation follows the demand above the grid import limit",
              "set site.grid_import_limit");
  }

  ReadFabricSwitches(cluster.Sub("fabric"), cfg.fabric);
  const std::optional<network::FabricTransport> transport = ReadFabricKind(cluster, cfg);
  const network::FabricSpec fabric_spec = site::FabricFor(cfg);
  if (const int64_t links = network::Fabric::LinkCount(fabric_spec);
      links > network::kMaxFabricLinks) {
    cluster.Fail("nodes",
                 fmt::format("the cluster's fabric would have {} links; the fabric model builds at "
                             "most {} (about 1 GiB of link state)",
                             links, network::kMaxFabricLinks),
                 "fewer nodes or GPUs per node");
  }
  // Three tiers reach as many pods as a super-spine has ports; more would need a fourth tier.
  if (const network::FabricSpec& spec = fabric_spec;
      cfg.cluster.torus_dims.empty() && spec.topology == network::FabricTopology::kRailOptimized &&
      network::Fabric::PodCount(spec) > spec.leaf_radix) {
    cluster.Fail(
        "nodes",
        fmt::format("the fabric would need {} pods under its super-spines, more than a "
                    "{}-port switch reaches: a fourth tier, which the model does not build",
                    network::Fabric::PodCount(spec), spec.leaf_radix),
        "fewer nodes, or switches of more ports (leaf_radix; with a technology, NICs split "
        "into planes)");
  }
  if (transport) {
    const Section fabric = cluster.Sub("fabric");
    const network::SwitchSystem& sw = network::SwitchOf(*transport);
    const std::optional<Power> own = fabric.OptionalQuantity<Power>("switch_power");
    cfg.fabric_equipment = network::EquipmentOf(
        fabric_spec, *transport, *network::ParseOptics(fabric.Enum("optics")),
        own ? "a switch of " + units::FormatReadable(own->base(), Dimension::kPower)
            : std::string(sw.name),
        own.value_or(sw.power));
  }
  if (!cfg.cluster.torus_dims.empty()) {
    // Only training jobs run on the torus model; the rest would silently use NVLink's.
    for (const char* key : {"faults", "random_faults", "services"}) {
      if (root.Has(key)) {
        root.Fail(key, fmt::format("'{}' on a torus fabric (cluster.fabric.kind: torus) is not "
                                   "modelled yet: only training jobs run on the torus",
                                   key));
      }
    }
  }
  // Fault targets are checked against the fabric the site will build (built once, only if needed).
  std::optional<network::Fabric> fabric_for_faults;
  if (root.Has("faults") || root.Has("random_faults")) {
    fabric_for_faults.emplace(fabric_spec);
  }
  if (root.Has("faults")) {
    const network::Fabric& fabric = *fabric_for_faults;
    for (const Section& f : root.List("faults")) {
      site::FaultConfig fault;
      fault.target = f.String("target");
      std::string error;
      fault.links = fabric.TargetLinks(fault.target, &error);
      if (fault.links.empty()) {
        f.Fail("target", "fault target '" + fault.target + "': " + error,
               "this fabric has " + std::to_string(fabric.gpu_count()) + " NICs, " +
                   std::to_string(fabric.leaf_count()) + " leaves and " +
                   std::to_string(network::Fabric::Inventory(fabric.spec()).spines /
                                  fabric.spec().planes) +
                   " spines");
      }
      fault.at = SimTime::From(f.Quantity<Duration>("at"));
      if (fault.at >= cfg.duration) f.Fail("at", "the fault starts after the simulation ends");
      if (auto d = f.OptionalQuantity<Duration>("for")) fault.end = fault.at + SimTime::From(*d);
      fault.health = f.Fraction("bandwidth");
      cfg.faults.push_back(std::move(fault));
    }
  }

  if (root.Has("random_faults")) {
    for (size_t i = 0; const Section& rf : root.List("random_faults")) {
      DrawRandomFaults(rf, *fabric_for_faults, cfg, i++);
    }
    std::stable_sort(
        cfg.faults.begin(), cfg.faults.end(),
        [](const site::FaultConfig& a, const site::FaultConfig& b) { return a.at < b.at; });
  }
  if (!cfg.faults.empty()) {
    budget.Charge(root, root.Has("random_faults") ? "random_faults" : "faults",
                  static_cast<double>(cfg.faults.size()) * kBytesPerFault,
                  "the run's " + AboutCount(static_cast<double>(cfg.faults.size())) +
                      " faults (each reroutes the fabric and records its links' changes)",
                  "fewer faults: a longer mtbf, a shorter run, or fewer listed faults");
  }

  if (root.Has("power_swings")) cfg.swings = ReadSwings(root.Sub("power_swings"), cfg);

  std::set<std::string> names;
  int nodes_used = 0;
  // With a scheduler the workloads queue for nodes: each must fit alone.
  const bool queued = root.Has("scheduler");
  const std::vector<Section> workloads = root.List("workloads");
  for (const Section& w : workloads) {
    site::JobConfig job = ReadJob(w, cfg.cluster, sc.catalog, base_dir, cfg.duration);
    if (!names.insert(job.name).second) {
      w.Fail("name", "two workloads are named '" + job.name + "'");
    }
    const int need = site::NodesFor(job, cfg.cluster);
    if (queued && need > cfg.cluster.nodes) {
      w.Fail("gpus", "workload '" + job.name + "' needs " + std::to_string(need) +
                         " nodes, more than the cluster's " + std::to_string(cfg.cluster.nodes));
    }
    if (!queued && nodes_used + need > cfg.cluster.nodes) {
      w.Fail("gpus",
             "workload '" + job.name + "' needs " + std::to_string(need) + " nodes, but only " +
                 std::to_string(cfg.cluster.nodes - nodes_used) + " of the cluster's " +
                 std::to_string(cfg.cluster.nodes) + " are left after the workloads before it",
             "jobs are placed on separate nodes in the order listed");
    }
    nodes_used += need;
    cfg.jobs.push_back(std::move(job));
  }
  for (const Section& v : root.List("services")) {
    site::ServiceConfig svc = ReadService(v, cfg.cluster, sc.catalog, base_dir, cfg.duration,
                                          cfg.seed, cfg.warnings, budget);
    if (!names.insert(svc.setup.name).second) {
      v.Fail("name", "a workload or service is already named '" + svc.setup.name + "'");
    }
    const int need = site::NodesFor(svc, cfg.cluster);
    // With a scheduler its replicas queue for nodes (ReadPooledServices checks that one fits).
    if (!queued && nodes_used + need > cfg.cluster.nodes) {
      v.Fail("replicas",
             "service '" + svc.setup.name + "' needs " + std::to_string(need) +
                 " nodes, but only " + std::to_string(cfg.cluster.nodes - nodes_used) +
                 " of the cluster's " + std::to_string(cfg.cluster.nodes) +
                 " are left after the workloads and services before it",
             "services are placed after the workloads, in the order listed");
    }
    if (svc.setup.pd.over_nvlink) {
      // Its prefill and decode replicas must share one NVLink domain where they are placed.
      const Section d = v.Sub("disaggregation");
      const int per_domain = cfg.cluster.nvlink_domain() / cfg.cluster.gpus_per_node;
      if (queued) {
        d.Fail("over",
               "'over: nvlink' needs the service on fixed nodes; a scheduler places "
               "replicas wherever nodes are free",
               "over: network with a scheduler");
      }
      if (nodes_used / per_domain != (nodes_used + need - 1) / per_domain) {
        d.Fail("over",
               fmt::format("service '{}' takes nodes {} to {}, across NVLink domains of {} GPUs: "
                           "its KV cannot go over NVLink alone",
                           svc.setup.name, nodes_used, nodes_used + need - 1,
                           cfg.cluster.nvlink_domain()),
               "fewer replicas, workloads before it that end on a domain's edge, or over: network");
      }
    }
    if (fabric_for_faults && !queued && svc.setup.pd.prefill_replicas > 0) {
      // The faults that slow its KV transfers (site/service_faults.h).
      auto health = site::PrefillLinkHealth(*fabric_for_faults, cfg.faults, svc, nodes_used,
                                            cfg.cluster.gpus_per_node);
      if (!health.empty() && svc.setup.sample_replicas > 0 &&
          svc.setup.sample_replicas < svc.setup.replicas) {
        cfg.warnings.push_back(
            "service '" + svc.setup.name +
            "': faults reach its prefill replicas' KV links, but its replicas are sampled "
            "(sample_replicas), so its KV transfers are taken as healthy; simulate every "
            "replica to see them slowed");
      } else {
        svc.setup.pd.prefill_link_health = std::move(health);
      }
    }
    nodes_used += need;
    cfg.services.push_back(std::move(svc));
  }
  ReadLife(root, workloads, base_dir, cfg);
  ReadPooledServices(root, cfg);
  if (cfg.jobs.empty() && cfg.services.empty() && !(cfg.life && !cfg.life->jobs.empty())) {
    root.Fail("workloads", "the scenario has no workloads and no services",
              "add training jobs under 'workloads' or inference services under 'services'");
  }
  return sc;
}

std::string ReadScenarioFile(const std::string& path) {
  const std::string problem = FileProblem(path);
  const std::string hint = "give the path to a scenario YAML file, e.g. examples/default.yaml";
  if (problem == "not found") throw InputError({path, 0, 0}, "scenario file not found", hint);
  // An empty one is read, for the parser's own message.
  if (!problem.empty() && problem != "is empty") {
    throw InputError({path, 0, 0}, "the scenario file " + problem, hint);
  }
  return ReadFile(path, {path, 0, 0});
}

Scenario LoadScenarioFile(const std::string& path) {
  const std::string dir = std::filesystem::path(path).parent_path().string();
  return LoadScenarioText(ReadScenarioFile(path), path, dir);
}

void ReadFabricSwitches(const Section& s, network::FabricSpec& spec) {
  spec.leaf_radix = s.Int("leaf_radix");
  spec.oversubscription = s.Number("oversubscription");
  spec.spine_oversubscription = s.Number("spine_oversubscription");
  spec.switch_latency = s.Quantity<Duration>("switch_latency");
  spec.planes = s.Int("planes");
}

std::string EmbeddedText(const std::string& path) {
  for (const embedded::File& f : embedded::Files()) {
    if (f.path == path) return std::string(f.text);
  }
  FW_CHECK(false, path + " is not compiled in");
  return "";
}

std::string DefaultScenarioText() { return EmbeddedText("examples/default.yaml"); }

}  // namespace firstwall::scenario
