#include "live/emulator.h"
#include "live/setpoint_shift.h"

#include <httplib.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <thread>

#include <fmt/format.h>

#include "core/error.h"
#include "live/http_server.h"
#include "live/listen_address.h"
#include "network/fabric.h"
#include "report/simulate.h"
#include "thermal/cooling_plant.h"
#include "units/parse.h"

namespace firstwall::live {
namespace {

struct KindName {
  FaultSpec::Kind kind;
  const char* name;
};
constexpr KindName kKinds[] = {{FaultSpec::Kind::kDropout, "dropout"},
                               {FaultSpec::Kind::kStuck, "stuck"},
                               {FaultSpec::Kind::kSpike, "spike"},
                               {FaultSpec::Kind::kUnitChange, "unit_change"},
                               {FaultSpec::Kind::kCounterReset, "counter_reset"},
                               {FaultSpec::Kind::kDuplicate, "duplicate"},
                               {FaultSpec::Kind::kClockSkew, "clock_skew=DURATION"},
                               {FaultSpec::Kind::kLate, "late=DURATION"},
                               {FaultSpec::Kind::kCtRatio, "ct_ratio=FACTOR"},
                               {FaultSpec::Kind::kSlowGpu, "slow_gpu=FACTOR"},
                               {FaultSpec::Kind::kFouledCdu, "fouled_cdu=KELVIN"},
                               {FaultSpec::Kind::kChillerStuck, "chiller_stuck"},
                               {FaultSpec::Kind::kPduDrift, "pdu_drift=PERCENT_PER_HOUR"},
                               {FaultSpec::Kind::kDegradedNic, "degraded_nic=FRACTION"}};

// The metric an equipment fault's TARGET names (its equipment), "" for any; prefix match.
const char* EquipmentMetric(FaultSpec::Kind kind) {
  switch (kind) {
    case FaultSpec::Kind::kSlowGpu:
      return "DCGM_FI_DEV_";
    case FaultSpec::Kind::kFouledCdu:
      return "firstwall_cdu_supply_temperature_celsius";
    case FaultSpec::Kind::kChillerStuck:
      return "firstwall_chiller_power_watts";
    case FaultSpec::Kind::kPduDrift:
      return "firstwall_rack_pdu_power_watts";
    case FaultSpec::Kind::kDegradedNic:
      return "node_infiniband_rate_bytes_per_second";
    default:
      return "";
  }
}

// An equipment fault's value: a plain number (a trailing unit word is allowed: "3K", "5 %/h"),
// within (lo, hi] (slow_gpu, degraded_nic: below hi), never 0.
double ParseAmount(const FaultSpec& f, const std::string& value, const SourceLocation& at) {
  double x = std::nan("");
  size_t used = 0;
  try {
    x = std::stod(value, &used);
  } catch (const std::exception&) {  // NOLINT: the check below says it
  }
  const std::string rest = used < value.size() ? value.substr(used) : "";
  const std::string unit = rest.substr(std::min(rest.size(), rest.find_first_not_of(' ')));
  struct Range {
    double lo, hi;
    const char* units;
    const char* what;
  };
  const bool fraction =
      f.kind == FaultSpec::Kind::kSlowGpu || f.kind == FaultSpec::Kind::kDegradedNic;
  const Range r = f.kind == FaultSpec::Kind::kSlowGpu
                      ? Range{0, 1, "", "a fraction of the clock above 0 and below 1"}
                  : f.kind == FaultSpec::Kind::kDegradedNic
                      ? Range{0, 1, "", "a fraction of the link's rate above 0 and below 1"}
                  : f.kind == FaultSpec::Kind::kFouledCdu
                      ? Range{0, 50, "K", "a rise above 0 K, at most 50 K"}
                      : Range{-100, 100, "%/h", "a drift of -100 to 100 %/h other than 0"};
  const bool ok = std::isfinite(x) && (unit.empty() || unit == r.units) && x > r.lo &&
                  (fraction ? x < r.hi : x <= r.hi) && x != 0;
  if (!ok || used == 0) {
    throw InputError(at, fmt::format("'{}': '{}' is not {}", f.text, value, r.what),
                     "slow_gpu=0.6, fouled_cdu=3K, pdu_drift=5 (percent per hour), "
                     "degraded_nic=0.5");
  }
  return x;
}

// "30s", "30 s", "1.5min": a number, optional blanks, a duration unit.
double ParseTime(const std::string& text, const std::string& option, const std::string& whole) {
  size_t split = 0;
  while (split < text.size() &&
         (std::isdigit(static_cast<unsigned char>(text[split])) || text[split] == '.' ||
          text[split] == 'e' || text[split] == '+' || text[split] == '-')) {
    ++split;
  }
  std::string spaced = text.substr(0, split);
  const size_t unit = text.find_first_not_of(' ', split);
  if (unit != std::string::npos) spaced += fmt::format(" {}", text.substr(unit));
  try {
    return units::ParseBase(spaced, units::Dimension::kDuration);
  } catch (const units::UnitParseError& e) {
    throw InputError({option, 0, 0}, fmt::format("'{}': time '{}': {}", whole, text, e.what()),
                     "write times with a unit: 30s, 2 min");
  }
}

std::string StreamKey(std::string_view metric, const std::vector<Label>& labels) {
  std::string k(metric);
  for (const Label& l : labels) k += fmt::format("|{}={}", l.name, l.value);
  return k;
}

struct Stopped {};

// A deterministic number in [-1, 1] for (gpu, tick): splitmix64 of the pair.
double Jitter(uint64_t gpu, uint64_t tick) {
  uint64_t z = gpu * 0x9E3779B97F4A7C15ull + tick * 0xBF58476D1CE4E5B9ull + 0x94D049BB133111EBull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z ^= z >> 31;
  return static_cast<double>(z >> 11) * 0x1.0p-53 * 2 - 1;
}

}  // namespace

std::string FaultKinds() {
  std::string out;
  for (const KindName& k : kKinds) out += fmt::format("{}{}", out.empty() ? "" : ", ", k.name);
  return out;
}

bool FaultSpec::equipment() const {
  return kind == Kind::kSlowGpu || kind == Kind::kFouledCdu || kind == Kind::kChillerStuck ||
         kind == Kind::kPduDrift || kind == Kind::kDegradedNic;
}

bool FaultSpec::Matches(std::string_view metric_name, const std::vector<Label>& labels) const {
  if (metric_name != metric) return false;
  for (const Label& m : match) {
    bool found = false;
    for (const Label& l : labels) found = found || (l.name == m.name && l.value == m.value);
    if (!found) return false;
  }
  return true;
}

void CheckFaultTargets(const site::SiteConfig& config, const std::vector<FaultSpec>& faults) {
  const double duration_s = config.duration.seconds();
  if (faults.empty()) return;
  // What the equipment faults do to the site must be possible there too (a NIC on a torus is not).
  WithEquipmentFaults(config, faults);
  report::TickRow row;  // every stream is served whatever the values
  row.stage_input_w.assign(config.facility.power_chain.size(), 0.0);
  TelemetryBuilder builder(config, {});
  const Snapshot s = builder.Build(row, 1);
  for (const FaultSpec& f : faults) {
    const Family* family = s.Find(f.metric);
    if (!family) {
      throw InputError({"--fault", 0, 0},
                       fmt::format("'{}': the emulator serves no metric '{}'", f.text, f.metric),
                       "the metrics it serves: docs/live.md, \"Emulated metrics\"");
    }
    if (f.kind == FaultSpec::Kind::kCounterReset && family->type != "counter") {
      throw InputError({"--fault", 0, 0},
                       fmt::format("'{}': {} is a {}, not a counter: nothing to reset", f.text,
                                   f.metric, family->type),
                       "counter_reset targets an energy counter such as "
                       "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION");
    }
    if (f.from_s >= duration_s) {
      throw InputError({"--fault", 0, 0},
                       fmt::format("'{}': the scenario ends at {:g} s, before the fault starts",
                                   f.text, duration_s),
                       "a window within simulation.duration");
    }
    const bool any = std::any_of(family->readings.begin(), family->readings.end(),
                                 [&](const Reading& r) { return f.Matches(f.metric, r.labels); });
    if (!any) {
      const std::string first = FormatSampleLine(
          f.metric, family->readings.empty() ? std::vector<Label>{} : family->readings[0].labels,
          0);
      throw InputError({"--fault", 0, 0},
                       fmt::format("'{}': no stream of {} has those labels", f.text, f.metric),
                       fmt::format("its {} streams are labelled like {}", family->readings.size(),
                                   first.substr(0, first.size() - 2)));
    }
  }
}

FaultSpec ParseFault(const std::string& text, const std::string& option) {
  const SourceLocation at{option, 0, 0};
  const std::string hint =
      "write KIND:TARGET:FROM:TO, e.g. stuck:DCGM_FI_DEV_POWER_USAGE{gpu=\"0\",Hostname=\"node0\"}"
      ":30s:60s; kinds: " +
      FaultKinds();
  const size_t first = text.find(':');
  const size_t last = text.rfind(':');
  const size_t mid =
      last == std::string::npos || last == 0 ? std::string::npos : text.rfind(':', last - 1);
  if (first == std::string::npos || mid == std::string::npos || mid <= first) {
    throw InputError(at, fmt::format("'{}' is not KIND:TARGET:FROM:TO", text), hint);
  }
  FaultSpec f;
  f.text = text;
  const std::string head = text.substr(0, first);
  const size_t eq = head.find('=');
  const std::string kind = head.substr(0, eq);
  const KindName* known = nullptr;
  for (const KindName& k : kKinds) {
    const std::string_view name(k.name);
    if (kind == name.substr(0, name.find('='))) known = &k;
  }
  if (!known) {
    throw InputError(at, fmt::format("'{}': no fault kind '{}'", text, kind), hint);
  }
  f.kind = known->kind;
  const bool takes_value = std::string_view(known->name).find('=') != std::string_view::npos;
  if (takes_value != (eq != std::string::npos)) {
    throw InputError(at,
                     takes_value
                         ? fmt::format("'{}': {} needs a value: {}", text, kind, known->name)
                         : fmt::format("'{}': {} takes no value", text, kind),
                     hint);
  }
  if (takes_value) {
    const std::string value = head.substr(eq + 1);
    if (f.equipment()) {
      f.amount = ParseAmount(f, value, at);
    } else if (f.kind == FaultSpec::Kind::kCtRatio) {
      size_t used = 0;
      try {
        f.amount = std::stod(value, &used);
      } catch (const std::exception&) {  // NOLINT: the check below says it
      }
      if (value.empty() || used != value.size() || !(f.amount > 0) || f.amount > 1000 ||
          f.amount == 1) {
        throw InputError(at,
                         fmt::format("'{}': ct_ratio '{}' is not a factor above 0, at most 1000 "
                                     "and other than 1",
                                     text, value),
                         "ct_ratio=0.5: the meter reads half the true value");
      }
    } else {
      f.amount = ParseTime(value, option, text);
      if (f.kind == FaultSpec::Kind::kLate && !(f.amount > 0)) {
        throw InputError(at, fmt::format("'{}': late '{}' is not a positive duration", text, value),
                         hint);
      }
      if (f.amount == 0) {
        throw InputError(at, fmt::format("'{}': a clock skew of zero is no fault", text), hint);
      }
      // Beyond a day a clock is not skewed but wrong.
      if (std::abs(f.amount) > 86400) {
        throw InputError(at, fmt::format("'{}': '{}' is more than a day", text, value), hint);
      }
    }
  }
  const std::string target = text.substr(first + 1, mid - first - 1);
  const PromText p = ParsePrometheusText(target + " 0");
  if (p.samples.size() != 1 || target.find('\n') != std::string::npos) {
    throw InputError(at,
                     fmt::format("'{}': target '{}' is not a metric with label matchers: {}", text,
                                 target, p.rejects.empty() ? "one line" : p.rejects[0].reason),
                     hint);
  }
  f.metric = p.samples[0].metric;
  f.match = p.samples[0].labels;
  const std::string equipment = EquipmentMetric(f.kind);
  if (!equipment.empty() && f.metric.rfind(equipment, 0) != 0) {
    throw InputError(at,
                     fmt::format("'{}': {} targets {}{}, not {}", text, kind, equipment,
                                 equipment.back() == '_' ? "* (a GPU's streams)" : "", f.metric),
                     "docs/live.md, \"Faults\": each equipment fault's target");
  }
  f.from_s = ParseTime(text.substr(mid + 1, last - mid - 1), option, text);
  f.to_s = ParseTime(text.substr(last + 1), option, text);
  if (!(f.to_s > f.from_s)) {
    throw InputError(at, fmt::format("'{}': the window ends before it starts", text), hint);
  }
  if (f.from_s < 0) {
    throw InputError(at, fmt::format("'{}': the window starts before the emulation does", text),
                     hint);
  }
  return f;
}

const Family* Snapshot::Find(std::string_view metric) const {
  for (const Family& f : families) {
    if (f.metric == metric) return &f;
  }
  return nullptr;
}

TelemetryBuilder::TelemetryBuilder(const site::SiteConfig& config, std::vector<FaultSpec> faults)
    : nodes_(config.cluster.nodes),
      gpus_per_node_(config.cluster.gpus_per_node),
      nodes_per_rack_(std::max(1, config.cluster.nodes_per_rack)),
      racks_per_cdu_(std::max(1, config.facility.cooling.racks_per_cdu)),
      gpu_idle_w_(units::ToWatts(config.cluster.gpu.idle_power)),
      nic_bytes_per_s_(units::ToBytesPerSecond(config.cluster.nic_bandwidth)),
      weather_(config.weather),
      model_(config.cluster.gpu.name),
      faults_(std::move(faults)),
      cooling_(config.facility.cooling) {
  for (const auto& s : config.facility.power_chain) stage_names_.push_back(s.name);
  gpu_energy_mj_.assign(static_cast<size_t>(gpu_count()), 0.0);
  rack_energy_j_.assign(static_cast<size_t>(racks()), 0.0);
  const bool slow = std::any_of(faults_.begin(), faults_.end(), [](const FaultSpec& f) {
    return f.kind == FaultSpec::Kind::kSlowGpu;
  });
  if (slow) {
    plants_ = std::make_unique<std::pair<thermal::CoolingPlant, thermal::CoolingPlant>>(
        thermal::CoolingPlant(config.facility.cooling),
        thermal::CoolingPlant(config.facility.cooling));
  }
}

int TelemetryBuilder::racks() const { return (nodes_ + nodes_per_rack_ - 1) / nodes_per_rack_; }
int TelemetryBuilder::cdus() const { return (racks() + racks_per_cdu_ - 1) / racks_per_cdu_; }

std::vector<Label> TelemetryBuilder::GpuLabels(int n, int g) const {
  return {{"gpu", std::to_string(g)},
          {"UUID", fmt::format("GPU-{:08x}-0000-4000-8000-{:012x}", n, g)},
          {"device", fmt::format("nvidia{}", g)},
          {"modelName", model_},
          {"Hostname", fmt::format("node{}", n)}};
}

namespace {
// Node n's NIC g (one per GPU) as node_exporter labels its port, plus the node as DCGM names it.
std::vector<Label> NicLabels(int n, int g) {
  return {
      {"Hostname", fmt::format("node{}", n)}, {"device", fmt::format("mlx5_{}", g)}, {"port", "1"}};
}
}  // namespace

site::SiteConfig WithEquipmentFaults(const site::SiteConfig& config,
                                     const std::vector<FaultSpec>& faults) {
  site::SiteConfig out = config;
  std::optional<network::Fabric> fabric;
  for (const FaultSpec& f : faults) {
    if (f.kind != FaultSpec::Kind::kDegradedNic) continue;
    // As the scenario's own `faults`: a torus has no NICs in the fabric model yet.
    if (!config.cluster.torus_dims.empty()) {
      throw InputError({"--fault", 0, 0},
                       fmt::format("'{}': degraded_nic on a torus fabric (cluster.fabric.kind "
                                   "torus) is not modelled yet",
                                   f.text),
                       "a scenario with a Clos fabric");
    }
    if (!fabric) fabric.emplace(site::FabricFor(config));
    for (int n = 0; n < config.cluster.nodes; ++n) {
      for (int g = 0; g < config.cluster.gpus_per_node; ++g) {
        if (!f.Matches(f.metric, NicLabels(n, g))) continue;
        site::FaultConfig fc;
        fc.target = fmt::format("nic:{}", n * config.cluster.gpus_per_node + g);
        std::string error;
        fc.links = fabric->TargetLinks(fc.target, &error);
        if (fc.links.empty()) {
          throw InputError({"--fault", 0, 0}, fmt::format("'{}': {}: {}", f.text, fc.target, error),
                           "a NIC of the scenario's fabric");
        }
        fc.health = f.amount;
        fc.at = SimTime::From(units::Seconds(f.from_s));
        fc.end = SimTime::From(units::Seconds(f.to_s));
        out.faults.push_back(std::move(fc));
      }
    }
  }
  std::stable_sort(
      out.faults.begin(), out.faults.end(),
      [](const site::FaultConfig& a, const site::FaultConfig& b) { return a.at < b.at; });
  return out;
}

void TelemetryBuilder::Equipment(double t_s, report::TickRow& row, std::vector<double>& gpu_w,
                                 std::vector<double>& activity, std::vector<double>& cdu_rise_k) {
  double before_w = 0, after_w = 0;
  for (double w : gpu_w) before_w += w;
  Slow(t_s, gpu_w, activity, cdu_rise_k);
  for (double w : gpu_w) after_w += w;
  // The load the slow GPUs no longer draw leaves the meters behind them too: the IT chain's in
  // proportion to the IT load (to first order), the cooling plant's as the plant model has it: a
  // second plant runs beside one that follows the simulation's heat, on the heat less what the
  // slow GPUs shed, and the difference of their electricity is the meters' change.
  if (plants_) {
    const double share = row.it_w > 0 ? (before_w - after_w) / row.it_w : 0;
    thermal::OutdoorConditions outdoor = weather_.At(SimTime::From(units::Seconds(t_s)));
    outdoor.dry_bulb = units::Celsius(row.outdoor_c);
    const double dt = last_dt_s_;
    if (!plants_started_) {
      for (thermal::CoolingPlant* p : {&plants_->first, &plants_->second}) {
        p->Advance(0, units::Watts(row.it_w), units::Watts(row.loss_w), outdoor);
      }
      plants_started_ = true;
    }
    const thermal::CoolingState as_sim =
        plants_->first.Advance(dt, units::Watts(row.it_w), units::Watts(row.loss_w), outdoor);
    const thermal::CoolingState slowed = plants_->second.Advance(
        dt, units::Watts(row.it_w * (1 - share)), units::Watts(row.loss_w * (1 - share)), outdoor);
    const double chiller_delta = units::ToWatts(slowed.chillers) - units::ToWatts(as_sim.chillers);
    const double cooling_delta = units::ToWatts(slowed.electric) - units::ToWatts(as_sim.electric);
    const double chain_w = row.facility_w - row.cooling_w;
    row.it_input_w *= 1 - share;
    for (double& w : row.stage_input_w) w *= 1 - share;
    row.chillers_w += chiller_delta;
    row.cooling_w += cooling_delta;
    row.rejected_w += units::ToWatts(slowed.rejected) - units::ToWatts(as_sim.rejected);
    row.facility_w += cooling_delta - share * chain_w;
  }
  for (const FaultSpec& f : faults_) {
    const bool active = t_s >= f.from_s && t_s < f.to_s;
    if (f.kind == FaultSpec::Kind::kChillerStuck) {
      const std::string key = "chiller#" + f.text;
      if (!active) {
        held_.erase(key);
        continue;
      }
      // The chillers stay at their FROM electricity whatever the load; the plant's and the
      // building's meters carry the difference.
      const double held = held_.emplace(key, row.chillers_w).first->second;
      const double delta = held - row.chillers_w;
      row.chillers_w = held;
      row.cooling_w += delta;
      row.facility_w += delta;
    }
  }
}

void TelemetryBuilder::Slow(double t_s, std::vector<double>& gpu_w, std::vector<double>& activity,
                            std::vector<double>& cdu_rise_k) const {
  for (const FaultSpec& f : faults_) {
    if (!(t_s >= f.from_s && t_s < f.to_s)) continue;
    if (f.kind == FaultSpec::Kind::kSlowGpu) {
      // At a fraction f of its clock a GPU does f of its work: its activity and the power above
      // idle scale by f (a first-order bound: voltage would fall with the clock, lowering power
      // more). Its siblings keep the simulation's figures (a straggler's wait is not modelled).
      for (int n = 0; n < nodes_; ++n) {
        for (int g = 0; g < gpus_per_node_; ++g) {
          if (!f.Matches(f.metric, GpuLabels(n, g))) continue;
          const size_t i = static_cast<size_t>(n * gpus_per_node_ + g);
          gpu_w[i] = std::min(gpu_w[i], gpu_idle_w_ + f.amount * (gpu_w[i] - gpu_idle_w_));
          activity[i] *= f.amount;
        }
      }
    } else if (f.kind == FaultSpec::Kind::kFouledCdu) {
      for (int c = 0; c < cdus(); ++c) {
        if (f.Matches(f.metric, {{"cdu", fmt::format("cdu-{}", c)}})) {
          cdu_rise_k[static_cast<size_t>(c)] += f.amount;
        }
      }
    }
  }
}

bool TelemetryBuilder::Fault(const std::string& metric, Reading& r, double t_s,
                             std::optional<Reading>& again) {
  for (const FaultSpec& f : faults_) {
    if (!f.Matches(metric, r.labels)) continue;
    const bool active = t_s >= f.from_s && t_s < f.to_s;
    const std::string key = StreamKey(metric, r.labels) + "#" + f.text;
    double& value = r.value;
    switch (f.kind) {
      case FaultSpec::Kind::kDropout:
        if (active) return false;
        break;
      case FaultSpec::Kind::kStuck:
        if (active) {
          value = held_.emplace(key, value).first->second;
        } else {
          held_.erase(key);
        }
        break;
      case FaultSpec::Kind::kSpike:
        if (active) value *= 10;
        break;
      case FaultSpec::Kind::kUnitChange:
        if (active) value /= 1000;
        break;
      case FaultSpec::Kind::kCounterReset:
        // The counter restarts from zero at FROM and counts on from there (TO does not undo it).
        if (t_s >= f.from_s) value -= held_.emplace(key, value).first->second;
        break;
      case FaultSpec::Kind::kCtRatio:
        if (active) value *= f.amount;
        break;
      case FaultSpec::Kind::kPduDrift:
        // The meter's gain drifts linearly from FROM; its energy counter integrates the true power.
        if (active) value *= 1 + f.amount / 100 * (t_s - f.from_s) / 3600;
        break;
      case FaultSpec::Kind::kDegradedNic:
        // The port reports the rate its link trained down to (lanes or speed lost); the jobs'
        // slower steps come from the simulation (WithEquipmentFaults).
        if (active) value *= f.amount;
        break;
      case FaultSpec::Kind::kSlowGpu:  // Equipment(): the equipment itself, before the readings
      case FaultSpec::Kind::kFouledCdu:
      case FaultSpec::Kind::kChillerStuck:
        break;
      case FaultSpec::Kind::kClockSkew:
        if (active) r.time_s = t_s + f.amount;
        break;
      case FaultSpec::Kind::kLate: {
        // The stream serves, stamped with its time, the sample of `amount` ago.
        auto& h = history_[key];
        h.emplace_back(t_s, value);
        while (h.size() > 1 && h[1].first <= t_s - f.amount) h.pop_front();
        if (active) {
          if (h.front().first <= t_s - f.amount) {
            r.time_s = h.front().first;
            value = h.front().second;
          } else {
            return false;  // nothing that old yet: the first late sample is still on its way
          }
        }
        break;
      }
      case FaultSpec::Kind::kDuplicate: {
        if (!active) {
          last_.erase(key);
          break;
        }
        r.time_s = t_s;
        auto it = last_.find(key);
        if (it != last_.end()) again = it->second;
        last_[key] = r;
        break;
      }
    }
  }
  return true;
}

int64_t Snapshot::WallMs(double time_s) const {
  return epoch0_ms + static_cast<int64_t>(std::llround(time_s * 1000 / speed));
}

Snapshot TelemetryBuilder::Build(const report::TickRow& given, double t_s) {
  const bool shifted = std::isfinite(supply_c_) &&
                       std::abs(supply_c_ - units::ToCelsius(cooling_.liquid_supply)) > 1e-9;
  report::TickRow row =
      shifted ? ShiftSupplySetpoint(given, cooling_, weather_.At(given.start), supply_c_) : given;
  const double dt = std::max(0.0, t_s - last_t_s_);
  last_t_s_ = t_s;
  last_dt_s_ = dt;
  const int gpus = gpu_count();
  const double mean_gpu_w = gpus > 0 ? row.gpu_w / gpus : 0;
  std::vector<double> gpu_w(static_cast<size_t>(gpus));
  for (size_t i = 0; i < gpu_w.size(); ++i) {
    gpu_w[i] = mean_gpu_w * (1 + 0.02 * Jitter(i, static_cast<uint64_t>(tick_)));
  }
  std::vector<double> activity(gpu_w.size(), row.gpu_activity);
  std::vector<double> cdu_rise_k(static_cast<size_t>(cdus()), 0.0);
  if (!faults_.empty()) Equipment(t_s, row, gpu_w, activity, cdu_rise_k);
  for (size_t i = 0; i < gpu_w.size(); ++i) gpu_energy_mj_[i] += gpu_w[i] * dt * 1000;
  auto gpu_rise_k = [&](size_t i) {
    const int node = static_cast<int>(i) / std::max(1, gpus_per_node_);
    return cdu_rise_k[static_cast<size_t>(CduOfRack(RackOfNode(node)))];
  };
  Snapshot snap;
  snap.t_s = t_s;
  snap.tick = tick_++;
  facility_energy_j_ += row.facility_w * dt;
  it_input_energy_j_ += row.it_input_w * dt;

  auto add = [&](const char* metric, const char* type, const char* unit, const char* help,
                 int decimals = 3) {
    snap.families.push_back({metric, type, help, unit, decimals, {}});
    return &snap.families.back();
  };
  auto put = [&](Family* f, std::vector<Label> labels, double value) {
    Reading r{std::move(labels), value, std::nullopt};
    if (faults_.empty()) {
      f->readings.push_back(std::move(r));
      return;
    }
    std::optional<Reading> again;
    if (!Fault(f->metric, r, t_s, again)) return;
    if (again) f->readings.push_back(std::move(*again));
    f->readings.push_back(std::move(r));
  };
  snap.families.reserve(24);
  auto gpu_family = [&](const char* metric, const char* type, const char* unit, const char* help,
                        const std::function<double(size_t)>& value) {
    // dcgm-exporter prints whole mJ, degrees and percent.
    Family* f = add(metric, type, unit, help, std::string_view(unit) == "W" ? 3 : 0);
    f->readings.reserve(static_cast<size_t>(gpus));
    for (int n = 0; n < nodes_; ++n) {
      for (int g = 0; g < gpus_per_node_; ++g) {
        put(f, GpuLabels(n, g),
            value(static_cast<size_t>(n) * static_cast<size_t>(gpus_per_node_) +
                  static_cast<size_t>(g)));
      }
    }
  };
  gpu_family("DCGM_FI_DEV_POWER_USAGE", "gauge", "W", "Power draw (in W).",
             [&](size_t i) { return gpu_w[i]; });
  gpu_family("DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION", "counter", "mJ",
             "Total energy consumption since boot (in mJ).",
             [&](size_t i) { return gpu_energy_mj_[i]; });
  gpu_family("DCGM_FI_DEV_GPU_TEMP", "gauge", "C", "GPU temperature (in C).",
             [&](size_t i) { return row.gpu_coolant_c + gpu_rise_k(i); });
  gpu_family("DCGM_FI_DEV_GPU_UTIL", "gauge", "%", "GPU utilization (in %).",
             [&](size_t i) { return 100 * activity[i]; });

  auto meter = [&](const char* metric, const char* type, const char* unit, const char* help,
                   double value) { put(add(metric, type, unit, help), {}, value); };
  meter("firstwall_facility_power_watts", "gauge", "W",
        "The building's draw: IT chain and cooling (in W).", row.facility_w);
  meter("firstwall_facility_energy_joules_total", "counter", "J",
        "Facility energy since the emulation started (in J).", facility_energy_j_);
  meter("firstwall_it_input_power_watts", "gauge", "W",
        "Power at the IT equipment's input, PUE's IT (in W).", row.it_input_w);
  meter("firstwall_it_input_energy_joules_total", "counter", "J",
        "IT input energy since the emulation started (in J).", it_input_energy_j_);
  meter("firstwall_cooling_power_watts", "gauge", "W", "Electricity of the cooling plant (in W).",
        row.cooling_w);
  meter("firstwall_pue", "gauge", "ratio", "Facility power over IT input power, this tick.",
        row.it_input_w > 0 ? row.facility_w / row.it_input_w : std::nan(""));
  meter("firstwall_outdoor_temperature_celsius", "gauge", "C",
        "Outdoor dry-bulb temperature (in C).", row.outdoor_c);
  meter("firstwall_chiller_power_watts", "gauge", "W", "Electricity of the chillers (in W).",
        row.chillers_w);
  meter("firstwall_pump_power_watts", "gauge", "W", "Electricity of the coolant pumps (in W).",
        row.pumps_w);
  meter("firstwall_fan_power_watts", "gauge", "W",
        "Electricity of the air handlers' and heat sinks' fans (in W).",
        row.crah_fans_w + row.sink_fans_w);
  meter("firstwall_heat_rejected_watts", "gauge", "W", "Heat the plant rejects outdoors (in W).",
        row.rejected_w);
  meter("firstwall_coolant_supply_temperature_celsius", "gauge", "C",
        "Liquid coolant supplied to the GPUs' cold plates (in C).", row.gpu_coolant_c);
  meter("firstwall_server_inlet_temperature_celsius", "gauge", "C",
        "Air at the servers' inlets (in C).", row.server_inlet_c);
  meter("firstwall_outdoor_wet_bulb_temperature_celsius", "gauge", "C",
        "Outdoor wet-bulb temperature (in C).", row.wet_bulb_c);
  // A node's IT power as its BMC reports it: its GPUs plus its share of the non-GPU base power.
  Family* nodes = add("firstwall_node_power_watts", "gauge", "W",
                      "Power of each node, GPUs and the rest (in W).");
  const double base_per_node = nodes_ > 0 ? row.node_base_w / nodes_ : 0;
  std::vector<double> rack_w(static_cast<size_t>(racks()), 0.0);
  for (int n = 0; n < nodes_; ++n) {
    double w = base_per_node;
    for (int g = 0; g < gpus_per_node_; ++g) {
      w += gpu_w[static_cast<size_t>(n) * static_cast<size_t>(gpus_per_node_) +
                 static_cast<size_t>(g)];
    }
    rack_w[static_cast<size_t>(RackOfNode(n))] += w;
    put(nodes, {{"Hostname", fmt::format("node{}", n)}}, w);
  }
  Family* stages = add("firstwall_power_stage_input_watts", "gauge", "W",
                       "Input power of each conversion stage, from the load outward (in W).");
  for (size_t i = 0; i < stage_names_.size() && i < row.stage_input_w.size(); ++i) {
    put(stages, {{"stage", stage_names_[i]}}, row.stage_input_w[i]);
  }
  // Each rack's PDU meters its nodes' draw (power and a true energy counter); each CDU supplies
  // the plant's coolant plus whatever a fouled exchanger adds.
  Family* pdu_w = add("firstwall_rack_pdu_power_watts", "gauge", "W",
                      "Power through each rack's PDU: its nodes' draw (in W).");
  Family* pdu_j = add("firstwall_rack_pdu_energy_joules_total", "counter", "J",
                      "Energy through each rack's PDU since the emulation started (in J).");
  for (size_t r = 0; r < rack_w.size(); ++r) {
    rack_energy_j_[r] += rack_w[r] * dt;
    put(pdu_w, {{"rack", fmt::format("rack{}", r)}}, rack_w[r]);
    put(pdu_j, {{"rack", fmt::format("rack{}", r)}}, rack_energy_j_[r]);
  }
  // Each GPU's NIC, as node_exporter's infiniband collector names its port rate (bytes/s).
  Family* nic = add("node_infiniband_rate_bytes_per_second", "gauge", "B/s",
                    "Maximum signal transfer rate of each NIC port (in bytes/s).", 0);
  for (int n = 0; n < nodes_; ++n) {
    for (int g = 0; g < gpus_per_node_; ++g) {
      put(nic, NicLabels(n, g), nic_bytes_per_s_);
    }
  }
  Family* cdu = add("firstwall_cdu_supply_temperature_celsius", "gauge", "C",
                    "Liquid each CDU supplies to its racks' cold plates (in C).");
  for (size_t c = 0; c < cdu_rise_k.size(); ++c) {
    put(cdu, {{"cdu", fmt::format("cdu-{}", c)}}, row.gpu_coolant_c + cdu_rise_k[c]);
  }
  return snap;
}

std::string RenderExposition(const Snapshot& snap) {
  size_t n = 0;
  for (const Family& f : snap.families) n += f.readings.size();
  std::string out;
  out.reserve(n * 200 + 2000);
  for (const Family& f : snap.families) {
    out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", f.metric, f.help, f.metric, f.type);
    const double scale = std::pow(10.0, f.decimals);
    for (const Reading& r : f.readings) {
      out += FormatSampleLine(f.metric, r.labels, std::round(r.value * scale) / scale);
      if (r.time_s) out += fmt::format(" {}", snap.WallMs(*r.time_s));
      out += '\n';
    }
  }
  return out;
}

void Exposition::Publish(std::string text) {
  std::lock_guard<std::mutex> lock(mu_);
  text_ = std::move(text);
}

std::string Exposition::Current() const {
  std::lock_guard<std::mutex> lock(mu_);
  return text_;
}

EmulateResult Emulate(const site::SiteConfig& config, const std::string& scenario_file,
                      const EmulateOptions& options) {
  FW_CHECK(options.speed > 0, "speed must be positive");
  Exposition exposition;
  std::atomic<int64_t> scrapes{0};
  httplib::Server server;
  SetUpHttpServer(server);
  server.Get("/metrics", [&](const httplib::Request&, httplib::Response& res) {
    ++scrapes;
    res.set_content(exposition.Current(), "text/plain; version=0.0.4; charset=utf-8");
  });
  server.Get("/", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("firstwall emulate: telemetry at /metrics\n", "text/plain");
  });
  const int port = BindHttpServer(server, options.host, options.port, "--listen", "");
  std::thread serving([&server] { server.listen_after_bind(); });
  if (options.on_listen) options.on_listen(port);

  TelemetryBuilder builder(config, options.faults);
  EmulateResult result;
  using Clock = std::chrono::steady_clock;
  const Clock::time_point wall0 = Clock::now();
  const int64_t epoch0_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                                std::chrono::system_clock::now().time_since_epoch())
                                .count();
  report::SimulateOptions sim;
  sim.on_tick = [&](const report::TickRow& row, int64_t n) {
    for (int64_t k = 0; k < n; ++k) {
      const double t = row.start.seconds() + static_cast<double>(k + 1) * row.seconds;
      const Clock::time_point due = wall0 + std::chrono::duration_cast<Clock::duration>(
                                                std::chrono::duration<double>(t / options.speed));
      // In short steps, so that a stop request is heard within a tenth of a second even when a
      // tick lasts minutes of wall time.
      while (Clock::now() < due) {
        if (options.stop && options.stop()) throw Stopped{};
        std::this_thread::sleep_until(std::min(due, Clock::now() + std::chrono::milliseconds(100)));
      }
      if (options.stop && options.stop()) throw Stopped{};
      if (options.coolant_setpoint_c) builder.SetCoolantSupply(options.coolant_setpoint_c());
      auto built = std::make_shared<Snapshot>(builder.Build(row, t));
      built->epoch0_ms = epoch0_ms;
      built->speed = options.speed;
      std::shared_ptr<const Snapshot> snap = std::move(built);
      exposition.Publish(RenderExposition(*snap));
      for (TelemetryServer* s : options.servers) s->Publish(snap);
      result.simulated_s = t;
      ++result.ticks;
    }
  };
  try {
    report::Simulate(WithEquipmentFaults(config, options.faults), scenario_file, sim);
  } catch (const Stopped&) {
    result.stopped = true;
  } catch (...) {
    server.stop();
    serving.join();
    throw;
  }
  server.stop();
  serving.join();
  result.scrapes = scrapes.load();
  return result;
}

}  // namespace firstwall::live
