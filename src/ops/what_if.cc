#include "ops/what_if.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <utility>

#include <fmt/format.h>

#include "core/error.h"
#include "live/vocabulary.h"
#include "report/simulate.h"
#include "scenario/loader.h"
#include "scenario/overrides.h"
#include "scenario/schema.h"

namespace firstwall::ops {

using nlohmann::json;

namespace {

// Keys whose values Describe shows (those a what-if most often changes).
constexpr const char* kCommonKeys[] = {
    "site.name",
    "simulation.duration",
    "simulation.tick",
    "cluster.gpu",
    "cluster.system",
    "cluster.nodes",
    "cluster.gpus_per_node",
    "cluster.gpu_power_cap",
    "cluster.rack_power_limit",
    "facility.cooling.liquid_supply",
    "facility.cooling.air_supply",
    "facility.cooling.chillers",
    "site.grid_import_limit",
};

double Round(double v, double digits = 1e6) { return std::round(v * digits) / digits; }

// Numbers of `a` minus `b` where both have them; lists of objects matched by "name".
json Difference(const json& a, const json& b) {
  if (a.is_number() && b.is_number()) return Round(a.get<double>() - b.get<double>());
  if (a.is_object() && b.is_object()) {
    json out = json::object();
    for (const auto& [k, v] : a.items()) {
      if (k == "name" || !b.contains(k)) continue;
      json d = Difference(v, b[k]);
      if (!d.is_null()) out[k] = std::move(d);
    }
    if (a.contains("name")) out["name"] = a["name"];
    return out.empty() ? json() : out;
  }
  if (a.is_array() && b.is_array()) {
    json out = json::array();
    for (const json& item : a) {
      if (!item.is_object() || !item.contains("name")) continue;
      for (const json& other : b) {
        if (other.is_object() && other.value("name", json()) == item["name"]) {
          json d = Difference(item, other);
          if (!d.is_null()) out.push_back(std::move(d));
        }
      }
    }
    return out;
  }
  return json();
}

int64_t Ticks(const scenario::Scenario& sc) {
  return sc.site.tick.ns() > 0 ? sc.site.duration.ns() / sc.site.tick.ns() : 0;
}

}  // namespace

json KeyFigures(const report::Summary& s) {
  const double hours = s.sim_time_s / 3600;
  json jobs = json::array();
  for (const report::JobSummary& j : s.jobs) {
    jobs.push_back({{"name", j.name},
                    {"gpus", j.gpus},
                    {"step_time_s", Round(j.running_step_s)},
                    {"mfu", Round(j.estimate.mfu)},
                    {"tokens_per_s", Round(j.average_tokens_per_s, 1e3)}});
  }
  json services = json::array();
  for (const report::ServiceSummary& v : s.services) {
    services.push_back({{"name", v.name},
                        {"output_tokens_per_s", Round(v.result.output_tokens_per_s, 1e3)},
                        {"slo_met_fraction", Round(v.result.slo_attainment)}});
  }
  json out = {
      {"duration_s", s.sim_time_s},
      {"it_energy_kwh", Round(s.it_energy_j / 3.6e6)},
      {"facility_energy_kwh", Round(s.facility_energy_j / 3.6e6)},
      {"mean_it_power_kw", hours > 0 ? Round(s.it_energy_j / 3.6e6 / hours) : 0.0},
      {"mean_facility_power_kw", hours > 0 ? Round(s.facility_energy_j / 3.6e6 / hours) : 0.0},
      {"peak_it_power_kw", Round(s.peak_it_w / 1e3)},
      {"peak_facility_power_kw", Round(s.peak_facility_w / 1e3)},
      {"pue", Round(s.pue())},
      {"energy_cost_usd", Round(s.total_energy_cost_usd(), 1e3)},
      {"carbon_kg", Round(s.carbon_kg, 1e3)},
      {"water_l", Round(s.water_l, 1e3)},
      {"throttled_gpu_hours", Round(s.throttled_gpu_hours)},
      {"jobs", jobs},
      {"services", services},
  };
  if (!s.resources.empty()) {
    out["busiest_resource"] = s.resources.front().name;
    out["busiest_resource_load"] = Round(s.resources.front().utilization());
  }
  return out;
}

json FiguresDifference(const json& what_if, const json& baseline) {
  json d = Difference(what_if, baseline);
  if (d.is_object()) d.erase("duration_s");
  return d.is_null() ? json::object() : d;
}

WhatIf::WhatIf(std::string scenario) : scenario_(std::move(scenario)) {
  if (scenario_.empty()) {
    text_ = scenario::DefaultScenarioText();
    file_ = scenario::kDefaultScenarioName;
    base_dir_ = scenario::kBuiltinDir;
  } else {
    text_ = scenario::ReadScenarioFile(scenario_);  // a directory or a device said as such
    file_ = scenario_;
    base_dir_ = std::filesystem::path(scenario_).parent_path().string();
  }
  const scenario::Scenario sc = scenario::LoadScenarioText(text_, file_, base_dir_, {});
  ticks_ = Ticks(sc);
}

site::SiteConfig WhatIf::Site() const {
  return scenario::LoadScenarioText(text_, file_, base_dir_, {}).site;
}

json WhatIf::Describe() const {
  json keys = json::object();
  for (const char* key : kCommonKeys) {
    const scenario::KeyValue v = scenario::ReadKey(text_, file_, key, {"describe_scenario", 0, 0});
    json k = {{"description", v.spec->description}};
    if (v.text) {
      k["value"] = *v.text;
    } else if (!v.spec->default_text.empty()) {
      k["default"] = v.spec->default_text;
    }
    keys[key] = std::move(k);
  }
  json all = json::array();
  for (const scenario::KeySpec& k : scenario::ScenarioSchema().keys()) all.push_back(k.path);
  return {
      {"scenario", file_},
      {"keys", keys},
      {"workloads", scenario::ListItems(text_, file_, "workloads", {"describe_scenario", 0, 0})},
      {"services", scenario::ListItems(text_, file_, "services", {"describe_scenario", 0, 0})},
      {"overridable_keys", all},
      {"note",
       "run_what_if takes overrides of these keys (list items by index or name: "
       "workloads[0].gpus, facility.power_chain[UPS].rating), values as written in a "
       "scenario, with units (\"18 C\", \"600 W\", \"1.8 MW\"); `firstwall schema --markdown` "
       "describes every key"}};
}

const json& WhatIf::Baseline() {
  if (!baseline_) {
    const scenario::Scenario sc = scenario::LoadScenarioText(text_, file_, base_dir_, {});
    baseline_ = KeyFigures(report::Simulate(sc.site, sc.file));
  }
  return *baseline_;
}

json WhatIf::Run(const std::map<std::string, std::string>& overrides) {
  std::vector<scenario::Override> changes;
  json given = json::object();
  for (const auto& [key, value] : overrides) {
    // A key naming a file would let a client learn which files the server can read (by the
    // error each path gives): what-ifs change figures, not inputs read from disk.
    const scenario::KeyValue k =
        scenario::ReadKey(text_, file_, key, {fmt::format("overrides.{}", key), 0, 0});
    if (k.spec && k.spec->type == scenario::ValueType::kFile) {
      throw InputError({fmt::format("overrides.{}", key), 0, 0},
                       fmt::format("'{}' names a file; a what-if may not change what files the "
                                   "scenario reads",
                                   key),
                       "override figures (setpoints, caps, counts, durations), not file keys");
    }
    changes.push_back({key, value, {fmt::format("overrides.{}", key), 0, 0}, false});
    given[key] = value;
  }
  const scenario::Scenario sc = scenario::LoadScenarioText(text_, file_, base_dir_, changes);
  if (Ticks(sc) > kMaxTickFactor * std::max<int64_t>(ticks_, 1)) {
    throw InputError({"overrides", 0, 0},
                     fmt::format("the what-if would simulate {} ticks, more than {} times the "
                                 "scenario's {}",
                                 Ticks(sc), kMaxTickFactor, ticks_),
                     "keep simulation.duration / simulation.tick near the scenario's");
  }
  json figures = KeyFigures(report::Simulate(sc.site, sc.file));
  const json& base = Baseline();
  return {{"scenario", file_},
          {"overrides", given},
          {"figures", figures},
          {"baseline", base},
          {"difference", FiguresDifference(figures, base)}};
}

std::map<std::string, std::string> ScenarioChangeOf(const PlanRequest& r) {
  const std::string entity = r.target.substr(0, r.target.find('/'));
  const live::UnitKind* unit = live::FindUnit(r.value.unit);
  if (!unit) return {};
  const std::string value = fmt::format("{} {}", r.value.value, r.value.unit);
  if (r.plan_class == "setpoint" && unit->quantity == "temperature" &&
      (entity == "cdu" || entity == "facility")) {
    return {{"facility.cooling.liquid_supply", value}};
  }
  // A cap on every GPU is what the scenario key says; a cap on one GPU or node is not, and its
  // check would price the whole site's cap (the breaker saw a 16x claim agree): none.
  if (r.plan_class == "power_cap" && unit->quantity == "power" && entity == "facility") {
    return {{"cluster.gpu_power_cap", value}};
  }
  if (r.plan_class == "stagger" && unit->quantity == "duration" && entity == "facility") {
    return {{"scheduler.restart_stagger", value}};
  }
  // Flexible jobs held while grid import is at or above the value's share of the limit (the
  // power expert's power.hold_flexible): the queue's gate, closing within 100 % less it.
  if (r.plan_class == "job_move" && unit->quantity == "utilization" && entity == "facility") {
    const double share = r.value.value * unit->to_base;
    return {{"scheduler.flexibility.grid_margin", fmt::format("{:g} %", 100 - share)},
            {"scheduler.flexibility.defer", "true"}};
  }
  return {};
}

json CheckEffect(const Amount& claimed, double uncertainty, const json& difference) {
  json out = {{"claimed", fmt::format("{:g} {}", claimed.value, claimed.unit)},
              {"uncertainty", fmt::format("{:g} {}", uncertainty, claimed.unit)}};
  const live::UnitKind* unit = live::FindUnit(claimed.unit);
  double twin = 0;
  std::string figure;
  if (unit && unit->quantity == "power" && difference.contains("mean_facility_power_kw")) {
    twin = difference["mean_facility_power_kw"].get<double>() * 1e3 / unit->to_base;
    figure = "mean facility power";
  } else if (unit && unit->quantity == "pue" && difference.contains("pue")) {
    twin = difference["pue"].get<double>();
    figure = "PUE";
  } else {
    out["status"] = "unchecked";
    out["why"] = fmt::format(
        "the twin checks effects on facility power (W, kW, MW) or PUE (ratio), not in '{}'",
        claimed.unit);
    return out;
  }
  const double gap = std::abs(twin - claimed.value);
  const bool agree = gap <= uncertainty + 1e-9 * std::max(1.0, std::abs(claimed.value));
  out["status"] = agree ? "agree" : "disagree";
  out["twin"] = fmt::format("{:.4g} {}", twin, claimed.unit);
  out["twin_value"] = twin;
  out["figure"] = figure;
  out["why"] = fmt::format(
      "the twin's change of {} is {:.4g} {}, {} the claimed {:.4g} +- {:.4g} {}", figure, twin,
      claimed.unit, agree ? "within" : "outside", claimed.value, uncertainty, claimed.unit);
  return out;
}

}  // namespace firstwall::ops
