#include "live/twin_check.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>

#include <fmt/format.h>

#include "core/error.h"
#include "live/gpu_rollup.h"
#include "power/conversion_chain.h"
#include "power/gpu_power.h"
#include "thermal/cooling_plant.h"

namespace firstwall::live {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Steps a comparison may hold (memory: a few doubles per step and stream).
constexpr size_t kMaxSteps = 10'000'000;

bool EntityIn(const std::string& entity, const std::string& kinds) {
  size_t at = 0;
  while (at <= kinds.size()) {
    const size_t bar = std::min(kinds.find('|', at), kinds.size());
    if (kinds.compare(at, bar - at, entity) == 0) return true;
    at = bar + 1;
  }
  return false;
}

std::string Describe(const SeriesInfo& s) {
  return fmt::format("{}/{}/{} <- {}", s.key.entity, s.key.entity_id, s.key.quantity, s.key.metric);
}

// Ingest's rollup of a GPU quantity (gpu_rollup.h): the sums of the buckets whose count is `gpus`.
struct Rollup {
  int64_t bucket_ms = 0;
  size_t buckets = 0;                 // stored
  std::vector<SamplePoint> complete;  // sums of the buckets counting every GPU
  std::string describe;
};

Rollup FindRollup(Store& store, const std::vector<SeriesInfo>& all, const std::string& quantity,
                  size_t gpus) {
  Rollup r;
  const SeriesKey sum_key = RollupKey(quantity, false), count_key = RollupKey(quantity, true);
  const SeriesInfo *sum = nullptr, *count = nullptr;
  for (const SeriesInfo& s : all) {
    if (s.key == sum_key) sum = &s;
    if (s.key == count_key) count = &s;
  }
  if (!sum || !count) return r;
  for (const SourceInfo& src : store.Sources()) {
    if (src.name == kRollupSource) r.bucket_ms = std::llround(src.interval_s * 1000);
  }
  if (r.bucket_ms <= 0) return r;
  const std::vector<SamplePoint> sums = store.Samples(sum->id), counts = store.Samples(count->id);
  r.buckets = sums.size();
  r.describe = sum->key.metric;
  // Stored in pairs, bucket by bucket; a count that does not pair with its sum is not used.
  for (size_t i = 0, j = 0; i < sums.size() && j < counts.size();) {
    if (sums[i].t_ms < counts[j].t_ms) {
      ++i;
    } else if (counts[j].t_ms < sums[i].t_ms) {
      ++j;
    } else {
      if (counts[j].value == static_cast<double>(gpus)) r.complete.push_back(sums[i]);
      ++i;
      ++j;
    }
  }
  return r;
}

// A stream's samples as step means, with its last value held over short gaps.
class Resampler {
 public:
  Resampler(int64_t t0_ms, int64_t step_ms, const AssembleOptions& o)
      : t0_(t0_ms), step_(step_ms), o_(o) {}

  std::vector<double> Steps(const std::vector<SamplePoint>& points, size_t steps) const {
    std::vector<double> sum(steps, 0.0), count(steps, 0.0);
    for (const SamplePoint& p : points) {
      if (p.t_ms < t0_ || p.t_ms < o_.from_ms || p.t_ms > o_.to_ms || !std::isfinite(p.value)) {
        continue;
      }
      const auto k = static_cast<size_t>((p.t_ms - t0_) / step_);
      if (k >= steps) continue;
      sum[k] += p.value;
      count[k] += 1;
    }
    std::vector<double> out(steps, kNaN);
    double held = kNaN;
    int age = 0;
    for (size_t k = 0; k < steps; ++k) {
      if (count[k] > 0) {
        out[k] = held = sum[k] / count[k];
        age = 0;
      } else if (std::isfinite(held) && ++age <= o_.max_hold_steps) {
        out[k] = held;
      }
    }
    return out;
  }

 private:
  int64_t t0_, step_;
  const AssembleOptions& o_;
};

// The conversion chain's flow at IT load `it_w`, spread over the racks as the cluster's nodes are
// (measured per-rack loads are not bound yet): one aggregate chain when every stage is one unit,
// else the stage units of Site::TreeFlow, each through ConversionChain::StageInput.
power::ChainFlow ChainAt(const power::ConversionChain& chain, const site::SiteConfig& config,
                         double it_w) {
  const auto& stages = chain.stages();
  const int nodes = config.cluster.nodes, per_rack = std::max(1, config.cluster.nodes_per_rack);
  const size_t racks = static_cast<size_t>((nodes + per_rack - 1) / per_rack);
  bool tree = false;
  for (const auto& s : stages) {
    tree = tree || (s.racks_per_unit > 0 && static_cast<size_t>(s.racks_per_unit) < racks);
  }
  if (!tree || racks == 0) return chain.Flow(units::Watts(it_w));
  std::vector<double> level(racks), next;
  for (size_t k = 0; k < racks; ++k) {
    const int in_rack = std::min(per_rack, nodes - static_cast<int>(k) * per_rack);
    level[k] = it_w * in_rack / nodes;
  }
  power::ChainFlow f;
  size_t group = 1;
  for (size_t i = 0; i < stages.size(); ++i) {
    const int g = stages[i].racks_per_unit;
    const size_t per = g > 0 ? std::min(static_cast<size_t>(g), racks) : racks;
    const size_t k =
        per >= racks ? std::max<size_t>(1, level.size()) : std::max<size_t>(1, per / group);
    next.assign((level.size() + k - 1) / k, 0.0);
    double in_sum = 0, out_sum = 0;
    for (size_t u = 0; u < next.size(); ++u) {
      double out = 0;
      for (size_t e = u * k; e < std::min(level.size(), (u + 1) * k); ++e) out += level[e];
      next[u] = units::ToWatts(chain.StageInput(i, units::Watts(out)));
      in_sum += next[u];
      out_sum += out;
    }
    f.input.push_back(units::Watts(in_sum));
    f.loss.push_back(units::Watts(in_sum - out_sum));
    f.total_loss += units::Watts(in_sum - out_sum);
    level.swap(next);
    group = per;
  }
  double grid = 0;
  for (double v : level) grid += v;
  f.grid = units::Watts(grid);
  return f;
}

}  // namespace

FitStats GoodnessOfFit(std::span<const double> measured, std::span<const double> predicted,
                       int p_params) {
  FW_CHECK(measured.size() == predicted.size(), "measured and predicted differ in length");
  FitStats s;
  double sum_m = 0, sum_d = 0, sum_d2 = 0;
  for (size_t i = 0; i < measured.size(); ++i) {
    if (!std::isfinite(measured[i]) || !std::isfinite(predicted[i])) continue;
    const double d = measured[i] - predicted[i];
    ++s.n;
    sum_m += measured[i];
    sum_d += d;
    sum_d2 += d * d;
  }
  if (s.n == 0) return s;
  s.mean_measured = sum_m / s.n;
  const double dof = s.n - p_params;
  if (dof <= 0 || s.mean_measured == 0) return s;
  s.cv_rmse = std::sqrt(sum_d2 / dof) / s.mean_measured;
  s.nmbe = sum_d / (dof * s.mean_measured);
  return s;
}

bool SignalMatches(const SignalSpec& spec, const SeriesKey& key) {
  return EntityIn(key.entity, spec.entity) && key.quantity == spec.quantity &&
         (spec.id.empty() || key.entity_id == spec.id);
}

std::string StageSlug(const std::string& stage_name) {
  std::string out;
  for (char c : stage_name) {
    out += std::isspace(static_cast<unsigned char>(c))
               ? '-'
               : static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  return out;
}

std::vector<SignalSpec> SignalSpecs(const site::SiteConfig& config) {
  std::vector<SignalSpec> out = {
      {"facility_power", "facility", "", "power", "W", false},
      {"it_input_power", "meter", "it-input", "power", "W", false},
      {"cooling_power", "meter", "cooling", "power", "W", false},
      {"pue", "facility", "", "pue", "ratio", false},
  };
  for (const auto& s : config.facility.power_chain) {
    out.push_back({"stage_input:" + StageSlug(s.name), "ups|transformer|pdu|meter",
                   StageSlug(s.name), "power", "W", false});
  }
  out.push_back({"gpu_temperature", "gpu", "", "temperature", "C", true});
  out.push_back({"chiller_power", "chiller", "", "power", "W", false});
  return out;
}

MeasuredSite AssembleMeasured(Store& store, const site::SiteConfig& config,
                              const AssembleOptions& o) {
  const SourceLocation at{"--db", 0, 0};
  const std::vector<SeriesInfo> all = store.Series();
  std::vector<const SeriesInfo*> gpus;
  const SeriesInfo* outdoor = nullptr;
  for (const SeriesInfo& s : all) {
    if (s.key.entity == "gpu" && s.key.quantity == "power") gpus.push_back(&s);
    if (!outdoor && s.key.entity == "weather_station" && s.key.quantity == "temperature") {
      outdoor = &s;
    }
  }
  if (gpus.empty()) {
    throw InputError(at, "the store has no GPU power series (entity gpu, quantity power)",
                     "bind DCGM_FI_DEV_POWER_USAGE as in tests/inputs/live-site-map.yaml");
  }
  // Two GPU series for one id (two sources) would count that GPU twice.
  std::vector<std::string> ids;
  for (const SeriesInfo* s : gpus) ids.push_back(s->key.entity_id);
  std::sort(ids.begin(), ids.end());
  if (std::adjacent_find(ids.begin(), ids.end()) != ids.end()) {
    throw InputError(at, "a GPU has power series from two sources; the twin needs one per GPU");
  }
  if (static_cast<int>(gpus.size()) > config.cluster.gpu_count()) {
    throw InputError(at,
                     fmt::format("the store has {} GPU power series, the scenario {} GPUs",
                                 gpus.size(), config.cluster.gpu_count()),
                     "compare against the scenario of this site");
  }
  // The rollup ingest kept (gpu_rollup.h), unless told to read every GPU: its buckets where every
  // GPU power series counted, when the step is a whole number of its buckets.
  const Rollup power = o.per_gpu ? Rollup{} : FindRollup(store, all, "power", gpus.size());
  const int64_t asked_ms = o.step_s > 0 ? std::max<int64_t>(1, std::llround(o.step_s * 1000)) : 0;
  const bool use_rollup =
      !power.complete.empty() && (asked_ms == 0 || asked_ms % power.bucket_ms == 0);
  std::vector<std::vector<SamplePoint>> gpu_points;
  int64_t t0 = std::numeric_limits<int64_t>::max(), t1 = std::numeric_limits<int64_t>::min();
  auto span = [&](const std::vector<SamplePoint>& points) {
    for (const SamplePoint& p : points) {
      if (p.t_ms < o.from_ms || p.t_ms > o.to_ms || !std::isfinite(p.value)) continue;
      t0 = std::min(t0, p.t_ms);
      t1 = std::max(t1, p.t_ms);
    }
  };
  if (use_rollup) {
    span(power.complete);
  } else {
    for (const SeriesInfo* s : gpus) {
      gpu_points.push_back(store.SamplesSince(s->id, o.from_ms));
      span(gpu_points.back());
    }
  }
  if (t0 > t1) {
    throw InputError(at, "no GPU power samples in the store (or in the window asked for)",
                     "firstwall ingest fills the store; check --window");
  }
  int64_t step_ms = use_rollup && asked_ms == 0 ? power.bucket_ms : asked_ms;
  // The GPU power samples' median spacing: the step when none is asked, and the floor of one
  // asked for (a step far below it is mostly empty steps, and as many rows of every series).
  // With a step asked, one series' spacing is enough for the floor (every GPU is scraped alike);
  // sorting a day of every GPU's gaps would cost more than the assembly.
  std::vector<int64_t> gaps;
  for (const auto& points : gpu_points) {
    if (asked_ms > 0 && !gaps.empty()) break;
    for (size_t i = 1; i < points.size(); ++i) {
      if (points[i].t_ms > points[i - 1].t_ms) gaps.push_back(points[i].t_ms - points[i - 1].t_ms);
    }
  }
  std::sort(gaps.begin(), gaps.end());
  const int64_t spacing_ms = gaps.empty() ? 0 : std::max<int64_t>(1, gaps[gaps.size() / 2]);
  if (step_ms <= 0) step_ms = spacing_ms > 0 ? spacing_ms : 1000;
  if (asked_ms > 0 && spacing_ms > 0 && asked_ms * 10 < spacing_ms) {
    throw InputError(
        {"--step", 0, 0},
        fmt::format("a step of {:g} s is under a tenth of the GPU power samples' "
                    "median spacing of {:g} s: most steps would hold no sample",
                    static_cast<double>(asked_ms) / 1000, static_cast<double>(spacing_ms) / 1000),
        "a --step of at least a tenth of the samples' spacing, or none (the spacing)");
  }
  if (o.zero_ms) {
    // The first step of the grid at or after the window's start (in doubles: far stamps).
    const double from = std::max(static_cast<double>(o.from_ms), static_cast<double>(*o.zero_ms));
    t0 = *o.zero_ms +
         step_ms *
             static_cast<int64_t>(std::ceil(
                 (from - static_cast<double>(*o.zero_ms)) / static_cast<double>(step_ms) - 1e-9));
    if (t0 > t1) {
      throw InputError(at, "no GPU power samples in the window asked for, on its steps",
                       "firstwall ingest fills the store; check --window");
    }
  }
  MeasuredSite m;
  m.step_s = static_cast<double>(step_ms) / 1000;
  // In doubles: stamps far apart would overflow the difference.
  const double span_ms = static_cast<double>(t1) - static_cast<double>(t0);
  if (span_ms / static_cast<double>(step_ms) + 1 > static_cast<double>(kMaxSteps)) {
    throw InputError({"--step", 0, 0},
                     fmt::format("{:g} s steps over {:g} s of samples make {:.0f} steps, more "
                                 "than {}",
                                 m.step_s, span_ms / 1000,
                                 span_ms / static_cast<double>(step_ms) + 1, kMaxSteps),
                     "a longer --step, or --window around the samples wanted");
  }
  const auto steps = static_cast<size_t>((t1 - t0) / step_ms + 1);
  for (size_t k = 0; k < steps; ++k) m.t_ms.push_back(t0 + static_cast<int64_t>(k) * step_ms);
  const Resampler rs(t0, step_ms, o);
  // The rollup's buckets already hold a silent GPU's last value (gpu_rollup.h): not again.
  AssembleOptions held_at_ingest = o;
  held_at_ingest.max_hold_steps = 0;
  const Resampler rs_rollup(t0, step_ms, held_at_ingest);
  if (use_rollup) {
    m.gpu_w = rs_rollup.Steps(power.complete, steps);
    m.gpu_from = fmt::format(
        "rollup {} ({} s buckets; {} of {} with every GPU; samples that reached ingest after "
        "their bucket was stored are not in it: ingest's closing line counts them, --per-gpu "
        "reads them)",
        power.describe, static_cast<double>(power.bucket_ms) / 1000, power.complete.size(),
        power.buckets);
  } else {
    m.gpu_w.assign(steps, 0.0);
    for (const auto& points : gpu_points) {
      const std::vector<double> v = rs.Steps(points, steps);
      for (size_t k = 0; k < steps; ++k) m.gpu_w[k] += v[k];  // NaN spreads: a GPU missing
    }
    m.gpu_from = fmt::format("{} GPU power series, sample by sample{}", gpus.size(),
                             o.per_gpu ? " (--per-gpu)"
                             : power.bucket_ms > 0 && !power.complete.empty()
                                 ? fmt::format(" (the step is no whole number of the rollup's "
                                               "{:g} s buckets)",
                                               static_cast<double>(power.bucket_ms) / 1000)
                             : power.buckets > 0 ? " (no rollup bucket holds every GPU)"
                                                 : "");
  }
  m.measured_gpus = static_cast<int>(gpus.size());
  m.gpu_temperature_is_die = o.gpu_temperature_is_die;
  m.settle_s = o.settle_s;
  m.zero_ms = o.zero_ms.value_or(t0);
  if (outdoor) {
    m.outdoor_c = rs.Steps(store.SamplesSince(outdoor->id, o.from_ms), steps);
    m.outdoor_from = Describe(*outdoor);
  } else {
    m.outdoor_c.assign(steps, kNaN);
    m.outdoor_from = "scenario weather (no weather_station temperature series)";
  }

  const std::vector<SignalSpec> specs = SignalSpecs(config);
  for (const std::string& name : o.signals) {
    const bool known = std::any_of(specs.begin(), specs.end(),
                                   [&](const SignalSpec& s) { return s.name == name; });
    if (!known) {
      std::string list;
      for (const SignalSpec& s : specs) list += (list.empty() ? "" : ", ") + s.name;
      throw InputError({"--signals", 0, 0}, fmt::format("no signal '{}'", name),
                       "signals of this scenario: " + list);
    }
  }
  for (const SignalSpec& spec : specs) {
    const bool wanted = o.signals.empty() ||
                        std::find(o.signals.begin(), o.signals.end(), spec.name) != o.signals.end();
    if (!wanted) continue;
    std::vector<const SeriesInfo*> found;
    for (const SeriesInfo& s : all) {
      if (SignalMatches(spec, s.key)) found.push_back(&s);
    }
    if (found.empty()) {
      if (!o.signals.empty()) {
        throw InputError(
            {"--signals", 0, 0},
            fmt::format("the store has no series for signal '{}' (entity {}, id {}, "
                        "quantity {})",
                        spec.name, spec.entity, spec.id.empty() ? "any" : spec.id, spec.quantity),
            "bind it in the site map (docs/live.md, \"Twin against reality\")");
      }
      continue;
    }
    // One stream, the first, unless the signal is a mean (erase, not resize: GCC 12 at -O3 warns
    // of the growth path resize never takes here).
    if (!spec.mean_over_series) found.erase(found.begin() + 1, found.end());
    MeasuredSite::Signal sig;
    sig.spec = spec;
    sig.from = found.size() == 1 ? Describe(*found[0])
                                 : fmt::format("mean of {} series {}/*/{}", found.size(),
                                               spec.entity, spec.quantity);
    if (spec.mean_over_series && use_rollup && spec.entity == "gpu") {
      const Rollup r = FindRollup(store, all, spec.quantity, found.size());
      if (!r.complete.empty() && step_ms % r.bucket_ms == 0) {
        std::vector<SamplePoint> mean = r.complete;
        for (SamplePoint& p : mean) p.value /= static_cast<double>(found.size());
        sig.value = rs_rollup.Steps(mean, steps);
        sig.from = fmt::format("rollup {} / {}", r.describe, found.size());
        m.signals.push_back(std::move(sig));
        continue;
      }
    }
    sig.value.assign(steps, 0.0);
    for (const SeriesInfo* s : found) {
      std::vector<SamplePoint> points = store.SamplesSince(s->id, o.from_ms);
      const std::vector<double> v = rs.Steps(points, steps);
      for (size_t k = 0; k < steps; ++k) sig.value[k] += v[k] / static_cast<double>(found.size());
      if (o.read_points) (*o.read_points)[s->id] = std::move(points);
    }
    m.signals.push_back(std::move(sig));
  }
  if (m.signals.empty()) {
    throw InputError(at, "the store has none of the signals the twin predicts",
                     "bind facility meters as in tests/inputs/live-site-map.yaml");
  }
  if (o.read_points) {
    for (size_t i = 0; i < gpu_points.size(); ++i) {
      (*o.read_points)[gpus[i]->id] = std::move(gpu_points[i]);
    }
  }
  return m;
}

std::map<std::string, std::vector<double>> PredictSignals(const site::SiteConfig& config,
                                                          const MeasuredSite& m) {
  const size_t steps = m.t_ms.size();
  const power::ConversionChain chain(config.facility.power_chain);
  thermal::CoolingPlant plant(config.facility.cooling);
  const site::ClusterConfig& c = config.cluster;
  const power::GpuPowerModel gpu(c.gpu.idle_power, c.gpu.tdp, c.gpu_power_cap);
  const double fixed_w = (c.gpu_count() - m.measured_gpus) * units::ToWatts(gpu.At(0)) +
                         c.nodes * site::NodeFixedWatts(config);
  const auto& stages = chain.stages();
  std::map<std::string, std::vector<double>> out;
  for (const auto& s : m.signals) out[s.spec.name].assign(steps, kNaN);
  auto put = [&](const std::string& name, size_t k, double v) {
    const auto it = out.find(name);
    if (it != out.end()) it->second[k] = v;
  };
  const thermal::CoolingConfig& cc = config.facility.cooling;
  const double chip_k_per_w = units::ToKelvinPerWatt(cc.chip_to_coolant);
  const double chip_tau_s = units::ToSeconds(cc.chip_time_constant);
  double chip_c = kNaN;
  int64_t last_ms = 0;
  bool started = false;
  // The loops' starting state: settled at the mean heat (IT and conversion losses) of the steps in
  // the first settle_s.
  {
    double it_sum = 0, loss_sum = 0;
    int n = 0;
    size_t first = steps;
    for (size_t k = 0; k < steps; ++k) {
      if (!std::isfinite(m.gpu_w[k])) continue;
      if (first == steps) first = k;
      if (n > 0 && static_cast<double>(m.t_ms[k] - m.t_ms[first]) / 1000 >= m.settle_s) break;
      const double it_w = m.gpu_w[k] + fixed_w;
      it_sum += it_w;
      loss_sum += units::ToWatts(ChainAt(chain, config, it_w).total_loss);
      ++n;
    }
    if (n > 0) {
      const thermal::OutdoorConditions outdoor0 =
          config.weather.At(SimTime::FromNanoseconds((m.t_ms[first] - m.zero_ms) * 1000000));
      plant.Advance(0, units::Watts(it_sum / n), units::Watts(loss_sum / n), outdoor0);
    }
  }
  for (size_t k = 0; k < steps; ++k) {
    if (!std::isfinite(m.gpu_w[k])) continue;
    // The plant's loop lag runs over the time since the last step the twin could run.
    const double dt = started ? static_cast<double>(m.t_ms[k] - last_ms) / 1000 : m.step_s;
    started = true;
    last_ms = m.t_ms[k];
    const double it_w = m.gpu_w[k] + fixed_w;
    const power::ChainFlow flow = ChainAt(chain, config, it_w);
    double it_input_w = it_w;
    for (size_t i = 0; i < stages.size() && stages[i].it_equipment; ++i) {
      it_input_w = units::ToWatts(flow.input[i]);
    }
    thermal::OutdoorConditions outdoor =
        config.weather.At(SimTime::FromNanoseconds((m.t_ms[k] - m.zero_ms) * 1000000));
    if (std::isfinite(m.outdoor_c[k])) outdoor.dry_bulb = units::Celsius(m.outdoor_c[k]);
    const thermal::CoolingState cs =
        plant.Advance(dt, units::Watts(it_w), flow.total_loss, outdoor);
    const double cooling_w = units::ToWatts(cs.electric);
    const double facility_w = units::ToWatts(flow.grid) + cooling_w;
    put("facility_power", k, facility_w);
    put("it_input_power", k, it_input_w);
    put("cooling_power", k, cooling_w);
    put("chiller_power", k, units::ToWatts(cs.chillers));
    put("pue", k, it_input_w > 0 ? facility_w / it_input_w : kNaN);
    for (size_t i = 0; i < stages.size(); ++i) {
      put("stage_input:" + StageSlug(stages[i].name), k, units::ToWatts(flow.input[i]));
    }
    const double coolant_c = units::ToCelsius(cs.gpu_coolant);
    if (m.gpu_temperature_is_die && m.measured_gpus > 0) {
      // The die on its coolant as site/site.h's chip model has it: steady at coolant + R x power,
      // reached with the package's time constant (from steady at the first step).
      const double steady = coolant_c + chip_k_per_w * m.gpu_w[k] / m.measured_gpus;
      chip_c =
          std::isnan(chip_c) ? steady : steady + (chip_c - steady) * std::exp(-dt / chip_tau_s);
      put("gpu_temperature", k, chip_c);
    } else {
      put("gpu_temperature", k, coolant_c);
    }
  }
  return out;
}

std::vector<Window> SplitWindows(const MeasuredSite& m, double window_s) {
  std::vector<Window> out;
  if (m.t_ms.empty()) return out;
  const int64_t t0 = m.t_ms.front();
  const int64_t end = m.t_ms.back() + static_cast<int64_t>(std::llround(m.step_s * 1000));
  const int64_t len = window_s > 0 ? std::max<int64_t>(1, std::llround(window_s * 1000)) : end - t0;
  size_t k = 0;
  for (int64_t w = t0; w < end; w += len) {
    Window win{w, std::min(end, w + len), k, k};
    while (win.last < m.t_ms.size() && m.t_ms[win.last] < win.end_ms) ++win.last;
    k = win.last;
    out.push_back(win);
  }
  return out;
}

std::vector<SignalFit> JudgeWindow(const MeasuredSite& m,
                                   const std::map<std::string, std::vector<double>>& predicted,
                                   const Window& w, const JudgeOptions& o) {
  std::vector<SignalFit> out;
  const int64_t avg_ms = std::max<int64_t>(1, std::llround(o.average_s * 1000));
  for (const MeasuredSite::Signal& s : m.signals) {
    const auto it = predicted.find(s.spec.name);
    if (it == predicted.end()) continue;
    const std::vector<double>& p = it->second;
    SignalFit f;
    f.signal = s.spec.name;
    f.unit = s.spec.unit;
    const std::span<const double> mv(s.value.data() + w.first, w.last - w.first);
    const std::span<const double> pv(p.data() + w.first, w.last - w.first);
    f.native = GoodnessOfFit(mv, pv, o.p_params);
    // Averages over the pairs where both are known, per period from the window's start.
    std::vector<double> am, ap, sm, sp, cnt;
    for (size_t k = w.first; k < w.last; ++k) {
      if (!std::isfinite(s.value[k]) || !std::isfinite(p[k])) continue;
      const auto b = static_cast<size_t>((m.t_ms[k] - w.start_ms) / avg_ms);
      if (b >= sm.size()) {
        sm.resize(b + 1, 0.0);
        sp.resize(b + 1, 0.0);
        cnt.resize(b + 1, 0.0);
      }
      sm[b] += s.value[k];
      sp[b] += p[k];
      cnt[b] += 1;
    }
    for (size_t b = 0; b < cnt.size(); ++b) {
      if (cnt[b] == 0) continue;
      am.push_back(sm[b] / cnt[b]);
      ap.push_back(sp[b] / cnt[b]);
    }
    f.averaged = GoodnessOfFit(am, ap, o.p_params);
    f.judged_on = std::isfinite(f.averaged.cv_rmse) ? "averaged"
                  : std::isfinite(f.native.cv_rmse) ? "native"
                                                    : "";
    if (f.judged_on.empty()) {
      f.verdict = "n/a";
      out.push_back(f);
      continue;
    }
    const double cv = f.cv(), nmbe = f.nmbe();
    f.verdict = cv <= o.cv_limit && std::abs(nmbe) <= o.nmbe_limit ? "pass" : "fail";
    std::string why;
    if (cv > o.drift_cv) {
      why = fmt::format("CV(RMSE) {:.2f} % > {:.2f} %", 100 * cv, 100 * o.drift_cv);
    }
    if (std::abs(nmbe) > o.drift_nmbe) {
      why += fmt::format("{}|NMBE| {:.2f} % > {:.2f} %", why.empty() ? "" : "; ",
                         100 * std::abs(nmbe), 100 * o.drift_nmbe);
    }
    f.drift = !why.empty();
    f.reason = why;
    out.push_back(f);
  }
  return out;
}

}  // namespace firstwall::live
