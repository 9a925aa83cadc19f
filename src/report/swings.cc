#include "report/swings.h"

#include "report/text_format.h"

#include <fmt/format.h>

#include <cmath>

namespace firstwall::report {
using namespace units;

SwingReport RecordSwings(const site::Site& site) {
  const site::SiteConfig& cfg = site.config();
  const site::SwingConfig& sw = cfg.swings;
  SwingReport r;
  r.start_s = sw.start.seconds();
  r.duration_s = sw.length.seconds();
  r.resolution_s = sw.resolution.seconds();
  r.band_low_hz = sw.band_low_hz;
  r.band_high_hz = sw.band_high_hz;
  const double dt = r.resolution_s;
  const size_t n = static_cast<size_t>(sw.length.ns() / sw.resolution.ns());
  const size_t jobs = site.jobs().size();

  // Each job's GPU power per sample, exact averages over the sample period.
  std::vector<std::vector<double>> job_w(jobs, std::vector<double>(n));
  for (size_t j = 0; j < jobs; ++j) {
    for (size_t i = 0; i < n; ++i) {
      const SimTime a =
          sw.start + SimTime::FromNanoseconds(static_cast<int64_t>(i) * sw.resolution.ns());
      job_w[j][i] = site.JobGpuWatts(j, a, a + sw.resolution);
    }
  }
  // Services at the tick's resolution (their serving model is binned at the tick), unmitigated.
  std::vector<double> base(n, site.ItBaseWatts());
  for (size_t k = 0; k < site.services().size(); ++k) {
    for (size_t i = 0; i < n; ++i) {
      const SimTime a =
          sw.start + SimTime::FromNanoseconds(static_cast<int64_t>(i) * sw.resolution.ns());
      base[i] += site.ServiceGpuWatts(k, a, a + sw.resolution);
    }
  }
  auto it_of = [&](const std::vector<std::vector<double>>& w) {
    std::vector<double> it = base;
    for (const auto& jw : w) {
      for (size_t i = 0; i < n; ++i) it[i] += jw[i];
    }
    return it;
  };
  // Cooling: steady for the window's mean heat at the window's weather.
  const std::vector<double> it0 = it_of(job_w);
  double mean_it = 0;
  for (double v : it0) mean_it += v / static_cast<double>(n);
  const power::ChainFlow mean_flow = site.chain().Flow(Watts(mean_it));
  const double cooling_w = ToWatts(
      site.plant().Steady(Watts(mean_it), mean_flow.total_loss, cfg.weather.At(sw.start)).electric);
  auto facility_of = [&](const std::vector<double>& it) {
    std::vector<double> f(n);
    for (size_t i = 0; i < n; ++i) f[i] = ToWatts(site.chain().Flow(Watts(it[i])).grid) + cooling_w;
    return f;
  };
  auto add = [&](std::string name, std::vector<double> facility, double deferred) {
    SwingVariant v;
    v.name = std::move(name);
    v.metrics = power::AnalyzeSwing(facility, dt, r.band_low_hz, r.band_high_hz);
    v.deferred_energy_j = deferred;
    v.facility_w = std::move(facility);
    if (!r.variants.empty()) {
      for (size_t i = 0; i < n; ++i) {
        v.extra_energy_j += (v.facility_w[i] - r.variants.front().facility_w[i]) * dt;
      }
    }
    r.variants.push_back(std::move(v));
    return &r.variants.back();
  };
  add("none", facility_of(it0), 0);

  const hardware::GpuSpec& gpu = cfg.cluster.gpu;
  auto gpus_of = [&](size_t j) {
    return static_cast<double>(workload::GpuCount(site.jobs()[j].config.setup));
  };
  auto floored = [&](std::vector<std::vector<double>> w) {
    for (size_t j = 0; j < jobs; ++j) {
      power::ApplyPowerFloor(w[j], gpus_of(j), ToWatts(*sw.gpu_power_floor), dt);
    }
    return w;
  };
  auto ramped = [&](std::vector<std::vector<double>> w, double* deferred) {
    const double rate = ToWatts(gpu.tdp - gpu.idle_power) / ToSeconds(*sw.gpu_ramp_time);
    for (size_t j = 0; j < jobs; ++j) {
      double d = 0;
      power::ApplyRampLimit(w[j], gpus_of(j), rate, dt, &d);
      *deferred += d;
    }
    return w;
  };
  int configured = 0;
  if (sw.gpu_power_floor) {
    ++configured;
    add("gpu_power_floor", facility_of(it_of(floored(job_w))), 0);
  }
  if (sw.gpu_ramp_time) {
    ++configured;
    double deferred = 0;
    const auto w = ramped(job_w, &deferred);
    add("gpu_ramp_limit", facility_of(it_of(w)), deferred);
  }
  auto battery = [&](const std::vector<double>& facility, const std::string& name,
                     double deferred) {
    const power::BatteryResult b = power::SmoothWithBattery(facility, dt, *sw.battery);
    SwingVariant* v = add(name, b.grid_w, deferred);
    v->battery_min_soc = b.min_soc;
    v->battery_max_soc = b.max_soc;
  };
  if (sw.battery) {
    ++configured;
    battery(r.variants.front().facility_w, "battery", 0);
  }
  if (configured > 1) {
    auto w = job_w;
    double deferred = 0;
    if (sw.gpu_power_floor) w = floored(std::move(w));
    if (sw.gpu_ramp_time) w = ramped(std::move(w), &deferred);
    std::vector<double> f = facility_of(it_of(w));
    if (sw.battery) {
      battery(f, "all", deferred);
    } else {
      add("all", std::move(f), deferred);
    }
  }
  return r;
}

std::string SwingCsv(const SwingReport& r) {
  std::string t = "time_s";
  for (const SwingVariant& v : r.variants) t += ",facility_" + v.name + "_mw";
  t += "\n";
  auto out = std::back_inserter(t);
  const size_t n = r.variants.empty() ? 0 : r.variants.front().facility_w.size();
  for (size_t i = 0; i < n; ++i) {
    txt::format_to(out, "{:.3f}", r.start_s + static_cast<double>(i) * r.resolution_s);
    for (const SwingVariant& v : r.variants) txt::format_to(out, ",{:.6f}", v.facility_w[i] / 1e6);
    t += "\n";
  }
  return t;
}

}  // namespace firstwall::report
