// The residuals of a store's series against the twin's expectation (anomaly.h).
#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

#include <fmt/format.h>

#include "core/error.h"
#include "live/twin_check.h"
#include "ops/anomaly.h"
#include "units/quantity.h"

namespace firstwall::ops {
namespace {

const double kNaN = std::nan("");

// The least sigma of a residual: the sensor's resolution (DCGM reports whole degrees and percent)
// or, for power, `share` of the series' level (0.5 %: meters of class 0.5, IEC 62053-22; 2 % for
// the twin's facility predictions, which it matches to well under that).
// The level is the mean over the first `first` steps (the calibration), or over all of them when
// none of those has a measurement.
double Floor(const std::string& quantity, std::span<const double> measured, size_t first,
             double share = 0.005) {
  if (quantity == "temperature" || quantity == "utilization") return 1;
  const auto mean_abs = [](std::span<const double> v) {
    double sum = 0;
    int n = 0;
    for (double x : v) {
      if (std::isfinite(x)) {
        sum += std::abs(x);
        ++n;
      }
    }
    return n > 0 ? sum / n : kNaN;
  };
  double level = mean_abs(measured.first(std::min(first, measured.size())));
  if (std::isnan(level)) level = mean_abs(measured);
  return std::max(1.0, std::isfinite(level) ? share * level : 1.0);
}

std::vector<double> Minus(std::span<const double> a, std::span<const double> b) {
  std::vector<double> r(a.size(), kNaN);
  for (size_t k = 0; k < a.size() && k < b.size(); ++k) r[k] = a[k] - b[k];
  return r;
}

double MedianOf(std::vector<double>& v) {
  const size_t mid = v.size() / 2;
  std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(mid), v.end());
  return v[mid];
}

// Per step, the median over the series (NaN ones left out), taken again without those more than
// 4 x 1.4826 MAD from it: a slow node's GPUs do not pull their siblings' expectation.
std::vector<double> StepMedian(const std::vector<std::vector<double>>& series, size_t steps) {
  std::vector<double> out(steps, kNaN), v, dev;
  for (size_t k = 0; k < steps; ++k) {
    v.clear();
    for (const auto& s : series) {
      if (std::isfinite(s[k])) v.push_back(s[k]);
    }
    if (v.empty()) continue;
    const double m = MedianOf(v);
    dev.clear();
    for (double x : v) dev.push_back(std::abs(x - m));
    const double spread = 4 * 1.4826 * MedianOf(dev);
    std::erase_if(v, [&](double x) { return std::abs(x - m) > spread; });
    out[k] = v.empty() ? m : MedianOf(v);
  }
  return out;
}

// The mean rate of an energy counter (J) over each step: the rise between consecutive samples
// over their spacing, given to the step of the later sample (a reset's negative rise skipped).
std::vector<double> CounterRate(std::span<const live::SamplePoint> samples, const Steps& steps) {
  std::vector<live::SamplePoint> rates;
  for (size_t i = 1; i < samples.size(); ++i) {
    const double dt = static_cast<double>(samples[i].t_ms - samples[i - 1].t_ms) / 1000;
    const double de = samples[i].value - samples[i - 1].value;
    if (dt > 0 && de >= 0) rates.push_back({samples[i].t_ms, de / dt, 0});
  }
  return OnSteps(rates, steps);
}

}  // namespace

Topology Topology::Of(const site::SiteConfig& config) {
  Topology t;
  t.nodes = config.cluster.nodes;
  t.gpus_per_node = std::max(1, config.cluster.gpus_per_node);
  t.nodes_per_rack = std::max(1, config.cluster.nodes_per_rack);
  t.racks_per_cdu = std::max(1, config.facility.cooling.racks_per_cdu);
  return t;
}

ResidualSet BuildResiduals(live::Store& store, const site::SiteConfig& config,
                           const ResidualOptions& o) {
  live::AssembleOptions ao;
  ao.from_ms = o.from_ms;
  ao.to_ms = o.to_ms;
  ao.step_s = o.step_s;
  ao.zero_ms = o.zero_ms;
  // Every GPU's own series is read below anyway (read once, kept), unless only their last steps
  // are.
  ao.per_gpu = !o.series_from_ms;
  std::map<int64_t, std::vector<live::SamplePoint>> read_points;
  ao.read_points = &read_points;
  const live::MeasuredSite m = live::AssembleMeasured(store, config, ao);
  const auto predicted = live::PredictSignals(config, m);
  ResidualSet rep;
  rep.steps = {m.t_ms, m.step_s};
  rep.twin_gpu_from = m.gpu_from;
  const size_t steps = m.t_ms.size();
  const double calibration = std::ceil(o.calibrate_s / m.step_s - 1e-9);
  rep.calibration_steps = calibration >= 1e15 ? std::numeric_limits<size_t>::max()
                                              : static_cast<size_t>(std::max(0.0, calibration));
  // A series' samples as AssembleMeasured read them (taken once), else from the store.
  auto read = [&](const live::SeriesInfo& s) {
    std::vector<live::SamplePoint> pts;
    if (auto kept = read_points.extract(s.id)) {
      pts = std::move(kept.mapped());
    } else if (o.series_from_ms) {
      pts = store.SamplesSince(s.id, std::max(o.from_ms, *o.series_from_ms));
    } else if (o.from_ms == std::numeric_limits<int64_t>::min()) {
      pts = store.Samples(s.id);
    } else {
      pts = store.SamplesSince(s.id, o.from_ms);
    }
    if (o.series_from_ms) {
      std::erase_if(pts, [&](const live::SamplePoint& p) { return p.t_ms < *o.series_from_ms; });
    }
    std::erase_if(
        pts, [&](const live::SamplePoint& p) { return p.t_ms < o.from_ms || p.t_ms > o.to_ms; });
    return pts;
  };
  auto add = [&](const live::SeriesKey& key, std::string expected, std::span<const double> measured,
                 std::vector<double> r, double share = 0.005) {
    Residual res;
    res.entity = key.entity;
    res.id = key.entity_id;
    res.quantity = key.quantity;
    res.unit = key.unit;
    res.expected = std::move(expected);
    res.value = std::move(r);
    res.floor = Floor(key.quantity, measured, rep.calibration_steps, share);
    rep.residuals.push_back(std::move(res));
  };
  const auto coolant = predicted.find("gpu_temperature");
  // GPU series by quantity; the PDUs' power and energy by id.
  std::map<std::string, std::vector<std::pair<live::SeriesKey, std::vector<double>>>> gpu;
  std::map<std::string, const live::SeriesInfo*> pdu_energy;
  const std::vector<live::SeriesInfo> all = store.Series();
  for (const live::SeriesInfo& s : all) {
    if (s.key.entity == "pdu" && s.key.quantity == "energy") pdu_energy[s.key.entity_id] = &s;
  }
  for (const live::SeriesInfo& s : all) {
    const live::SeriesKey& k = s.key;
    if (k.entity == "gpu" &&
        (k.quantity == "power" || k.quantity == "utilization" || k.quantity == "temperature")) {
      gpu[k.quantity].emplace_back(k, OnSteps(read(s), rep.steps));
    } else if (k.entity == "cdu" && k.quantity == "temperature" && coolant != predicted.end()) {
      const std::vector<double> v = OnSteps(read(s), rep.steps);
      add(k, "the twin's GPU coolant temperature", v, Minus(v, coolant->second));
    } else if (k.entity == "nic" && k.quantity == "link_rate") {
      // A port's rate is what its link trained to: the scenario's NIC rate when healthy.
      const double nominal = units::ToBytesPerSecond(config.cluster.nic_bandwidth) * 8e-9;
      const std::vector<double> v = OnSteps(read(s), rep.steps);
      add(k, fmt::format("the scenario's NIC rate ({:g} Gb/s)", nominal), v,
          Minus(v, std::vector<double>(steps, nominal)));
      rep.residuals.back().exact = true;
      rep.residuals.back().floor = 0.005 * nominal;
    } else if (k.entity == "pdu" && k.quantity == "power" && pdu_energy.count(k.entity_id)) {
      const std::vector<double> v = OnSteps(read(s), rep.steps);
      add(k, "its energy counter's rate", v,
          Minus(v, CounterRate(read(*pdu_energy[k.entity_id]), rep.steps)));
    }
  }
  for (auto& [quantity, series] : gpu) {
    std::vector<double> expected;
    std::string what;
    if (quantity == "temperature" && coolant != predicted.end()) {
      expected = coolant->second;
      what = "the twin's GPU coolant temperature";
    } else {
      std::vector<std::vector<double>> values;
      for (const auto& s : series) values.push_back(s.second);
      expected = StepMedian(values, steps);
      what = fmt::format("the median of the {} GPUs'", series.size());
    }
    for (const auto& [key, v] : series) {
      add(key, what, v, Minus(v, expected));
      if (quantity != "power") continue;
      Residual& r = rep.residuals.back();
      for (size_t k = 0; k < steps; ++k)
        r.value[k] = expected[k] > 0 ? r.value[k] / expected[k] : kNaN;
      r.level = expected;
      r.floor = 0.005;
    }
  }
  // The facility signals the twin predicts from the measured GPU power and outdoor air.
  for (const auto& sig : m.signals) {
    const std::string& name = sig.spec.name;
    if (name != "chiller_power" && name != "cooling_power") continue;
    live::SeriesKey key{name == "chiller_power" ? "chiller" : "meter",
                        name == "chiller_power" ? "chiller" : "cooling",
                        "power",
                        "W",
                        "",
                        ""};
    const size_t arrow = sig.from.find('/');
    const size_t second = sig.from.find('/', arrow + 1);
    if (arrow != std::string::npos && second != std::string::npos) {
      key.entity = sig.from.substr(0, arrow);
      key.entity_id = sig.from.substr(arrow + 1, second - arrow - 1);
    }
    add(key, "the twin's " + name, sig.value, Minus(sig.value, predicted.at(name)), 0.02);
  }
  return rep;
}

void CheckCalibration(size_t calibration_steps, const Steps& steps, double calibrate_s) {
  const size_t n = steps.t_ms.size();
  if (calibration_steps < 10 || calibration_steps >= n) {
    throw InputError(
        {"--calibrate", 0, 0},
        fmt::format("a calibration of {:g} s is {} steps of the store's {} ({:g} s each): {}",
                    calibrate_s, calibration_steps, n, steps.step_s,
                    calibration_steps < 10 ? "fewer than 10 to learn on" : "nothing left to watch"),
        "a calibration window of at least 10 steps, shorter than the data (--from/--to)");
  }
}

AnomalyReport DetectAnomalies(live::Store& store, const site::SiteConfig& config,
                              const AnomalyOptions& o) {
  ResidualOptions ro;
  ro.from_ms = o.from_ms;
  ro.to_ms = o.to_ms;
  ro.step_s = o.step_s;
  ro.calibrate_s = o.calibrate_s;
  ResidualSet set = BuildResiduals(store, config, ro);
  CheckCalibration(set.calibration_steps, set.steps, o.calibrate_s);
  AnomalyReport rep;
  rep.steps = std::move(set.steps);
  rep.calibration_steps = set.calibration_steps;
  rep.residuals = std::move(set.residuals);
  for (Residual& r : rep.residuals) {
    r.thresholds = Learn(std::span(r.value).first(std::min(rep.calibration_steps, r.value.size())),
                         r.floor, r.exact);
    AlarmScan scan(r.thresholds, rep.calibration_steps, !r.level.empty());
    for (size_t k = rep.calibration_steps; k < r.value.size() && !scan.alarm().raised; ++k) {
      scan.Feed(r.value[k], r.level.empty() ? kNaN : r.level[k]);
    }
    r.alarm = scan.alarm();
  }
  rep.findings = Localize(rep.residuals, rep.steps, Topology::Of(config));
  return rep;
}

}  // namespace firstwall::ops
