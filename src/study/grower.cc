// Axes of `firstwall walls`: what grows, as overrides of the scenario (study/walls.h).
#include <algorithm>
#include <cmath>
#include <filesystem>

#include <fmt/format.h>

#include "core/text_input.h"
#include "scenario/loader.h"
#include "study/walls.h"
#include "units/parse.h"

namespace firstwall::study {
namespace {

using scenario::Override;

std::string AxisList() {
  return "gpus, it_power, rate:SERVICE, job_size:JOB, outdoor_temperature, or a numeric scenario "
         "key such as facility.cooling.capacity";
}

scenario::Scenario LoadBase(const ScenarioSource& s) {
  return scenario::LoadScenarioText(s.text, s.file, s.base_dir, s.overrides);
}

// The unit a key's base value is written in ("W", "s", "B/s"): the symbol worth exactly 1.
std::string BaseUnit(units::Dimension d) {
  if (d == units::Dimension::kTemperature) return "K";
  for (const std::string& sym : units::UnitSymbols(d)) {
    try {
      if (units::ParseBase("1 " + sym, d) == 1.0) return sym;
    } catch (const std::exception&) {
    }
  }
  // Base units no one writes: prices per joule, grams per joule.
  if (d == units::Dimension::kEnergyPrice) return "USD/J";
  if (d == units::Dimension::kCarbonIntensity) return "g/J";
  return "";
}

}  // namespace

ScenarioSource ScenarioSource::FromFile(const std::string& path) {
  ScenarioSource s;
  if (path.empty()) {
    s.text = scenario::DefaultScenarioText();
    s.file = scenario::kDefaultScenarioName;
    s.base_dir = scenario::kBuiltinDir;
    return s;
  }
  s.text = scenario::ReadScenarioFile(path);
  s.file = path;
  s.base_dir = std::filesystem::path(path).parent_path().string();
  return s;
}

Axis ParseAxis(const std::string& text, const ScenarioSource& source, const SourceLocation& where) {
  Axis a;
  a.name = text;
  const auto target_of = [&](const std::string& prefix) {
    std::string t = text.substr(prefix.size());
    if (t.empty())
      throw InputError(
          where, "'" + text + "' names no " + prefix.substr(0, prefix.size() - 1) + " target");
    return t;
  };
  if (text == "gpus") {
    a.kind = AxisKind::kGpus, a.unit = "GPUs", a.integer = true;
  } else if (text == "it_power") {
    a.kind = AxisKind::kItPower, a.unit = "MW";
  } else if (text.starts_with("rate:")) {
    a.kind = AxisKind::kServiceRate, a.target = target_of("rate:"), a.unit = "req/s";
  } else if (text.starts_with("job_size:")) {
    a.kind = AxisKind::kJobSize, a.target = target_of("job_size:"), a.unit = "GPUs";
    a.integer = true;
  } else if (text == "outdoor_temperature") {
    a.kind = AxisKind::kOutdoorTemperature, a.unit = "C";
  } else if (text.find('.') != std::string::npos) {
    a.kind = AxisKind::kKey, a.target = text;
    const scenario::KeyValue kv =
        scenario::ReadKey(source.text, source.file, text, where, source.overrides);
    using VT = scenario::ValueType;
    const VT t = kv.spec->type;
    if (t != VT::kQuantity && t != VT::kInt && t != VT::kNumber && t != VT::kFraction) {
      throw InputError(where, "'" + text + "' is not a numeric key", "an axis must be a number");
    }
    a.integer = t == VT::kInt;
    a.unit = t == VT::kQuantity ? BaseUnit(kv.spec->dim) : (t == VT::kFraction ? "share" : "");
  } else {
    throw InputError(where, "unknown axis '" + text + "'", "expected " + AxisList());
  }
  return a;
}

Grower::Grower(const ScenarioSource& source, Axis axis, SourceLocation where)
    : source_(source), axis_(std::move(axis)), where_(std::move(where)) {
  const scenario::Scenario sc = LoadBase(source_);
  const site::ClusterConfig& cl = sc.site.cluster;
  gpus_per_rack_ = cl.gpus_per_node * cl.nodes_per_rack;
  nodes_per_rack_ = cl.nodes_per_rack;
  // With the node's share of the fabric's switches (the base scenario's share; a grown fabric may
  // gain or lose a tier, which the runs themselves count).
  node_nameplate_w_ = cl.gpus_per_node * ToWatts(cl.gpu.tdp) + site::NodeFixedWatts(sc.site);
  const auto key = [&](const std::string& k) {
    return scenario::ReadKey(source_.text, source_.file, k, where_, source_.overrides);
  };
  const auto list = [&](const std::string& k) {
    return scenario::ListItems(source_.text, source_.file, k, where_, source_.overrides);
  };
  const auto job_of = [&](const site::JobConfig& j) {
    Job out;
    out.name = j.name;
    out.dp_written = key("workloads[" + j.name + "].dp").text.has_value();
    if (j.model_less()) {
      out.model_less = true;
      out.gpus = j.gpus;
      return out;
    }
    const auto& s = j.setup;
    out.dp = s.dp, out.mp = s.tp * s.pp * s.cp, out.ep = s.ep;
    out.batch = std::max(1, s.global_batch / std::max(1, s.dp));
    out.gpus = out.dp * out.mp;
    return out;
  };
  // Request classes of a service: synthetic ones by rate, traces by rate_scale.
  const auto add_service_rates = [&](const std::string& svc) {
    const std::vector<std::string> classes = list("services[" + svc + "].requests");
    for (size_t c = 0; c < classes.size(); ++c) {
      const std::string k = fmt::format("services[{}].requests[{}]", svc, c);
      const scenario::KeyValue rate = key(k + ".rate");
      if (rate.text) {
        scaled_.push_back({k + ".rate", rate.number.value_or(0), false, 0});
      } else {
        const scenario::KeyValue trace = key(k + ".trace");
        if (trace.text) {
          scaled_.push_back(
              {k + ".rate_scale", key(k + ".rate_scale").number.value_or(1), false, 0});
        }
      }
    }
  };

  switch (axis_.kind) {
    case AxisKind::kGpus:
    case AxisKind::kItPower: {
      scaled_.push_back({"cluster.nodes", static_cast<double>(cl.nodes), true, 1});
      for (const site::JobConfig& j : sc.site.jobs) jobs_.push_back(job_of(j));
      for (const site::ServiceConfig& v : sc.site.services) {
        scaled_.push_back({"services[" + v.setup.name + "].replicas",
                           static_cast<double>(v.setup.replicas), true, 1});
        add_service_rates(v.setup.name);
      }
      // Tenants' quotas grow with the cluster, so each keeps its share.
      const std::vector<std::string> quotas = list("scheduler.quotas");
      for (size_t q = 0; q < quotas.size(); ++q) {
        for (const char* f : {"nominal_gpus", "borrowing_limit_gpus"}) {
          const std::string k = fmt::format("scheduler.quotas[{}].{}", q, f);
          const scenario::KeyValue v = key(k);
          if (v.text && v.number) scaled_.push_back({k, *v.number, true, 0});
        }
      }
      const std::vector<std::string> traces = list("job_traces");
      for (size_t t = 0; t < traces.size(); ++t) {
        const std::string k = fmt::format("job_traces[{}].rate_scale", t);
        scaled_.push_back({k, key(k).number.value_or(1), false, 0});
      }
      base_ = axis_.kind == AxisKind::kGpus ? cl.gpu_count() : cl.nodes * node_nameplate_w_ / 1e6;
      break;
    }
    case AxisKind::kServiceRate: {
      const auto it = std::find_if(sc.site.services.begin(), sc.site.services.end(),
                                   [&](const auto& v) { return v.setup.name == axis_.target; });
      if (it == sc.site.services.end()) {
        std::string names;
        for (const auto& v : sc.site.services) names += (names.empty() ? "" : ", ") + v.setup.name;
        throw InputError(where_, "the scenario has no service named '" + axis_.target + "'",
                         names.empty() ? "it has no services" : "its services: " + names);
      }
      add_service_rates(axis_.target);
      double rate = 0;
      bool traces = false;
      for (const Scaled& s : scaled_) {
        if (s.key.ends_with(".rate")) rate += s.base;
        if (s.key.ends_with(".rate_scale")) traces = true;
      }
      if (scaled_.empty()) {
        throw InputError(where_, "service '" + axis_.target + "' has no request rate to grow");
      }
      // With only traces the axis is their rate scale.
      if (rate <= 0 || traces) axis_.unit = rate <= 0 ? "x trace rate" : axis_.unit;
      base_ = rate > 0 ? rate : 1.0;
      break;
    }
    case AxisKind::kJobSize: {
      const auto it = std::find_if(sc.site.jobs.begin(), sc.site.jobs.end(),
                                   [&](const auto& j) { return j.name == axis_.target; });
      if (it == sc.site.jobs.end()) {
        std::string names;
        for (const auto& j : sc.site.jobs) names += (names.empty() ? "" : ", ") + j.name;
        throw InputError(where_, "the scenario has no training job named '" + axis_.target + "'",
                         names.empty() ? "it has no training jobs" : "its jobs: " + names);
      }
      jobs_.push_back(job_of(*it));
      base_ = jobs_.back().gpus;
      break;
    }
    case AxisKind::kOutdoorTemperature: {
      const scenario::KeyValue t = key("site.outdoor_temperature");
      base_ = t.number ? ToCelsius(units::Temperature::FromBase(*t.number)) : 25.0;
      break;
    }
    case AxisKind::kKey: {
      const scenario::KeyValue kv = key(axis_.target);
      key_spec_ = kv.spec;
      if (!kv.number) {
        throw InputError(where_, "'" + axis_.target + "' has no numeric value in the scenario",
                         "give --from and --to");
      }
      base_ = *kv.number;
      break;
    }
  }
}

std::pair<double, double> Grower::Bounds() const {
  const auto key_bounds = [](const std::string& key, double lo, double hi) {
    const scenario::KeySpec* k = scenario::ScenarioSchema().Find(scenario::SchemaPath(key));
    if (!k) return std::pair(lo, hi);
    return std::pair(scenario::MinOf(*k).value_or(lo), scenario::MaxOf(*k).value_or(hi));
  };
  const double max_nodes = key_bounds("cluster.nodes", 1, 1e6).second;
  const double gpus_per_node = static_cast<double>(gpus_per_rack_) / nodes_per_rack_;
  switch (axis_.kind) {
    case AxisKind::kGpus:
      return {gpus_per_rack_, max_nodes * gpus_per_node};
    case AxisKind::kItPower:
      return {nodes_per_rack_ * node_nameplate_w_ / 1e6, max_nodes * node_nameplate_w_ / 1e6};
    case AxisKind::kJobSize: {
      const Job& j = jobs_.front();
      return {j.model_less ? 1.0 : static_cast<double>(j.mp * std::max(1, j.ep)),
              max_nodes * gpus_per_node};
    }
    case AxisKind::kServiceRate:
      return {1e-9, 1e12};
    case AxisKind::kOutdoorTemperature: {
      const auto [lo, hi] = key_bounds("site.outdoor_temperature", 213.15, 333.15);
      return {ToCelsius(units::Temperature::FromBase(lo)),
              ToCelsius(units::Temperature::FromBase(hi))};
    }
    case AxisKind::kKey:
      return key_bounds(axis_.target, -1e300, 1e300);
  }
  return {-1e300, 1e300};
}

double Grower::Snap(double x) const {
  switch (axis_.kind) {
    case AxisKind::kGpus:
      return std::max(1.0, std::round(x / gpus_per_rack_)) * gpus_per_rack_;
    case AxisKind::kItPower: {
      const double rack_mw = nodes_per_rack_ * node_nameplate_w_ / 1e6;
      return std::max(1.0, std::round(x / rack_mw)) * rack_mw;
    }
    case AxisKind::kJobSize: {
      const Job& j = jobs_.front();
      const int unit = j.model_less ? 1 : j.mp * std::max(1, j.ep);
      return std::max(1.0, std::round(x / unit)) * unit;
    }
    default:
      return axis_.integer ? std::round(x) : x;
  }
}

std::vector<Override> Grower::JobAt(const Job& j, double share) const {
  std::vector<Override> out;
  const std::string k = "workloads[" + j.name + "]";
  if (j.model_less) {
    const int gpus = std::max(1, static_cast<int>(std::llround(j.gpus * share)));
    out.push_back({k + ".gpus", std::to_string(gpus), where_});
    return out;
  }
  // Data-parallel replicas grow; a replica keeps its GPUs (tp x pp x cp) and its batch, and
  // expert parallelism keeps dividing the replicas.
  const int ep = std::max(1, j.ep);
  const int dp = std::max(ep, static_cast<int>(std::floor(j.dp * share / ep + 1e-9)) * ep);
  out.push_back({k + ".gpus", std::to_string(dp * j.mp), where_});
  out.push_back({k + ".global_batch", std::to_string(dp * j.batch), where_});
  if (j.dp_written) out.push_back({k + ".dp", std::to_string(dp), where_});
  return out;
}

std::vector<Override> Grower::Scale(double share) const {
  std::vector<Override> out;
  for (const Scaled& s : scaled_) {
    double v = s.base * share;
    if (s.integer) v = std::max(s.at_least, std::round(v));
    const std::string text = s.integer                  ? fmt::format("{}", static_cast<int64_t>(v))
                             : s.key.ends_with(".rate") ? units::ShortestDouble(v) + " req/s"
                                                        : units::ShortestDouble(v);
    out.push_back({s.key, text, where_});
  }
  return out;
}

std::vector<Override> Grower::At(double x) const {
  std::vector<Override> out = source_.overrides;
  const auto append = [&](std::vector<Override> more) {
    for (Override& o : more) out.push_back(std::move(o));
  };
  x = Snap(x);
  switch (axis_.kind) {
    case AxisKind::kGpus:
    case AxisKind::kItPower: {
      // Whole racks: the nodes grow in racks, and jobs, services and traces by the same share.
      const double racks = axis_.kind == AxisKind::kGpus
                               ? x / gpus_per_rack_
                               : x * 1e6 / (nodes_per_rack_ * node_nameplate_w_);
      const double nodes = std::max(1.0, std::round(racks)) * nodes_per_rack_;
      const double share = nodes / scaled_.front().base;
      append(Scale(share));
      for (const Job& j : jobs_) append(JobAt(j, share));
      break;
    }
    case AxisKind::kServiceRate:
      append(Scale(x / base_));
      break;
    case AxisKind::kJobSize: {
      const Job& j = jobs_.front();
      append(JobAt(j, x / std::max(1, j.gpus)));
      break;
    }
    case AxisKind::kOutdoorTemperature: {
      Override drop{"site.weather_file", "", where_};
      drop.remove = true;
      out.push_back(drop);
      out.push_back({"site.outdoor_temperature", units::ShortestDouble(x) + " C", where_});
      break;
    }
    case AxisKind::kKey: {
      const scenario::KeySpec* spec = key_spec_;  // read once, at construction
      out.push_back({axis_.target, scenario::FormatValue(*spec, x), where_});
      break;
    }
  }
  return out;
}

double Grower::Parse(const std::string& text, const SourceLocation& where) const {
  const auto refuse = [&](const std::string& why, const std::string& hint) {
    throw InputError(
        where, fmt::format("'{}' is not a value of the axis {}: {}", text, axis_.name, why), hint);
  };
  const bool quantity_key =
      axis_.kind == AxisKind::kKey && key_spec_->type == scenario::ValueType::kQuantity;
  // A bare number is in the axis unit (GPUs, MW, req/s, C), except for a key with a dimension,
  // whose unit is written as in a scenario ("20 kW", not a bare 20000 W).
  const std::optional<double> bare = text::FiniteNumber(text);
  if (bare && !quantity_key) return *bare;
  try {
    switch (axis_.kind) {
      case AxisKind::kItPower:
        return units::ParseBase(text, units::Dimension::kPower) / 1e6;
      case AxisKind::kOutdoorTemperature:
        return ToCelsius(
            units::Temperature::FromBase(units::ParseBase(text, units::Dimension::kTemperature)));
      case AxisKind::kServiceRate:
        if (axis_.unit == "x trace rate") {
          // A replayed trace has no rate of its own to convert from: the axis scales it.
          refuse("the service replays a trace, so the axis is a multiple of its rate",
                 "write 20 for 20 times the trace's rate");
        }
        return units::ParseBase(text, units::Dimension::kRequestRate);
      case AxisKind::kKey:
        if (quantity_key) return units::ParseBase(text, key_spec_->dim);
        if (key_spec_->type == scenario::ValueType::kFraction) {
          if (const auto v = scenario::NumberOf(*key_spec_, text)) return *v;  // "96 %"
        }
        refuse("expected a number", "");
        break;
      case AxisKind::kGpus:
      case AxisKind::kJobSize: {
        // "2048 GPUs" (or GPU), as the axis prints it.
        const size_t space = text.find_last_of(' ');
        const std::string unit = space == std::string::npos ? "" : text.substr(space + 1);
        const auto n = text::FiniteNumber(text.substr(0, space == std::string::npos ? 0 : space));
        if (n && (unit == "GPUs" || unit == "GPU" || unit == "gpus")) return *n;
        refuse("expected a number of GPUs", "write 2048 or '2048 GPUs'");
      }
    }
  } catch (const units::UnitParseError& e) {
    refuse(e.what(), e.hint().empty() ? fmt::format("the axis is in {}", axis_.unit) : e.hint());
  }
  refuse("expected a number", "");
  return 0;  // not reached
}

std::string Grower::Format(double x) const {
  if (axis_.kind == AxisKind::kKey && !axis_.unit.empty() && axis_.unit != "share") {
    const scenario::KeySpec* spec = key_spec_;  // read once, at construction
    return units::FormatReadable(x, spec->dim);
  }
  std::string text = axis_.integer ? fmt::format("{}", static_cast<int64_t>(std::llround(x)))
                                   : fmt::format("{:.4g}", x);
  if (!axis_.unit.empty()) text += " " + axis_.unit;  // a count has none
  return text;
}

}  // namespace firstwall::study
