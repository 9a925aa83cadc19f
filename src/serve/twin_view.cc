#include "serve/twin_view.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

#include "live/twin_check.h"

namespace firstwall::serve {

using nlohmann::json;

namespace {

// The newest sample time of any GPU power series, or nullopt (one statement for every GPU).
std::optional<int64_t> NewestGpuSample(live::Store& store) {
  std::optional<int64_t> newest;
  for (const live::Store::SeriesNewest& s : store.NewestOf("gpu", "power")) {
    if (s.newest) newest = std::max(newest.value_or(s.newest->t_ms), s.newest->t_ms);
  }
  return newest;
}

// Means of `v` over buckets of `per` steps; null where a bucket has no finite value.
json Buckets(const std::vector<double>& v, size_t per) {
  json out = json::array();
  for (size_t i = 0; i < v.size(); i += per) {
    double sum = 0;
    int n = 0;
    for (size_t k = i; k < std::min(v.size(), i + per); ++k) {
      if (std::isfinite(v[k])) {
        sum += v[k];
        ++n;
      }
    }
    out.push_back(n > 0 ? json(sum / n) : json());
  }
  return out;
}

json Finite(double v) { return std::isfinite(v) ? json(v) : json(); }

// The peak and the newest finite sample of the first stored series carrying `name`, read raw over
// the last `last_s` seconds of that series (not the twin's averaged steps, so a one-second peak
// and a meter newer than the GPU power count); nullopt when the store has none.
struct RawPeak {
  double peak = 0, last = 0;
  int64_t last_ms = 0;
};
std::optional<RawPeak> PeakOf(live::Store& store, const std::vector<live::SeriesInfo>& all,
                              const site::SiteConfig& config, const std::string& name,
                              double last_s) {
  for (const live::SignalSpec& spec : live::SignalSpecs(config)) {
    if (spec.name != name) continue;
    for (const live::SeriesInfo& s : all) {
      if (!live::SignalMatches(spec, s.key) || s.key.unit != spec.unit) continue;
      const std::optional<live::SamplePoint> newest = store.Newest(s.id);
      if (!newest) continue;
      std::optional<RawPeak> out;
      const int64_t from = newest->t_ms - static_cast<int64_t>(std::llround(last_s * 1000));
      for (const live::SamplePoint& p : store.SamplesSince(s.id, from)) {
        if (!std::isfinite(p.value)) continue;
        if (!out) out = RawPeak{p.value, p.value, p.t_ms};
        out->peak = std::max(out->peak, p.value);
        out->last = p.value;
        out->last_ms = p.t_ms;
      }
      return out;
    }
  }
  return std::nullopt;
}

json Loads(live::Store& store, const std::vector<live::SeriesInfo>& all,
           const site::SiteConfig& config, double last_s) {
  json out = json::array();
  // Each signal read once (the IT input meter serves the UPS and the cooling plant alike).
  std::map<std::string, std::optional<RawPeak>> read;
  auto add = [&](const std::string& resource, const std::string& metric, const std::string& from,
                 double rating_w, int units, const std::string& note) {
    if (rating_w <= 0) return;
    auto it = read.find(from);
    if (it == read.end()) it = read.emplace(from, PeakOf(store, all, config, from, last_s)).first;
    const std::optional<RawPeak>& p = it->second;
    if (!p) return;
    const double capacity = rating_w * units;
    out.push_back({{"resource", resource},
                   {"metric", metric},
                   {"from", from},
                   {"peak_w", p->peak},
                   {"last_w", p->last},
                   {"last_ms", p->last_ms},
                   {"rating_w", rating_w},
                   {"units", units},
                   {"utilization", p->peak / capacity},
                   {"note", note}});
  };
  const auto& chain = config.facility.power_chain;
  for (size_t i = 1; i < chain.size(); ++i) {
    const power::ConversionStage& st = chain[i];
    const power::ConversionStage& inner = chain[i - 1];
    if (st.it_equipment) continue;  // its output is inside the servers
    const std::string from =
        inner.it_equipment ? "it_input_power" : "stage_input:" + live::StageSlug(inner.name);
    const int units =
        st.racks_per_unit > 0
            ? (config.cluster.rack_count() + st.racks_per_unit - 1) / st.racks_per_unit
            : 1;
    add(st.name, "peak output power", from, units::ToWatts(st.rating), units,
        units > 1 ? "the site's total over its units: the busiest unit is not metered here" : "");
  }
  add("grid", "peak import", "facility_power", units::ToWatts(config.facility.grid_import_limit), 1,
      "facility power against site.grid_import_limit (on-site generation not subtracted)");
  add("cooling plant", "peak heat", "it_input_power",
      units::ToWatts(config.facility.cooling.capacity), 1,
      "the IT input as the heat to remove, against facility.cooling.capacity");
  return out;
}

}  // namespace

json TwinView(live::Store& store, const site::SiteConfig& config, double last_s,
              size_t max_points) {
  live::AssembleOptions ao;
  const std::vector<live::SeriesInfo> all = store.Series();
  const std::optional<int64_t> newest = NewestGpuSample(store);
  if (newest) ao.from_ms = *newest - static_cast<int64_t>(std::llround(last_s * 1000));
  const live::MeasuredSite m = live::AssembleMeasured(store, config, ao);
  const auto predicted = live::PredictSignals(config, m);
  const std::vector<live::Window> windows = live::SplitWindows(m, 0);
  const std::vector<live::SignalFit> fits =
      windows.empty() ? std::vector<live::SignalFit>{}
                      : live::JudgeWindow(m, predicted, windows.front(), live::JudgeOptions{});
  const size_t per =
      std::max<size_t>(1, (m.t_ms.size() + max_points - 1) / std::max<size_t>(1, max_points));
  json t = json::array();
  for (size_t i = 0; i < m.t_ms.size(); i += per) t.push_back(m.t_ms[i]);
  json signals = json::array();
  for (const live::MeasuredSite::Signal& s : m.signals) {
    json row = {{"name", s.spec.name},
                {"unit", s.spec.unit},
                {"from", s.from},
                {"measured", Buckets(s.value, per)}};
    const auto p = predicted.find(s.spec.name);
    row["twin"] = p != predicted.end() ? Buckets(p->second, per) : json::array();
    for (const live::SignalFit& f : fits) {
      if (f.signal != s.spec.name) continue;
      row["cv_rmse"] = Finite(f.cv());
      row["nmbe"] = Finite(f.nmbe());
      row["judged_on"] = f.judged_on;
      row["verdict"] = f.verdict;
    }
    signals.push_back(std::move(row));
  }
  const double limit_w = units::ToWatts(config.facility.grid_import_limit);
  return {{"step_s", m.step_s * static_cast<double>(per)},
          {"gpu_from", m.gpu_from},
          {"outdoor_from", m.outdoor_from},
          {"newest_ms", newest ? json(*newest) : json()},
          {"t_ms", t},
          {"signals", signals},
          {"loads", Loads(store, all, config, last_s)},
          {"scenario_gpus", config.cluster.gpu_count()},
          {"measured_gpus", m.measured_gpus},
          {"grid_import_limit_w", limit_w > 0 ? json(limit_w) : json()}};
}

}  // namespace firstwall::serve
