#include "serve/twin_view.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "live/twin_check.h"

namespace firstwall::serve {

using nlohmann::json;

namespace {

// The newest sample time of any GPU power series, or nullopt.
std::optional<int64_t> NewestGpuSample(live::Store& store) {
  std::optional<int64_t> newest;
  for (const live::SeriesInfo& s : store.Series()) {
    if (s.key.entity != "gpu" || s.key.quantity != "power") continue;
    if (const std::optional<live::SamplePoint> p = store.Newest(s.id)) {
      newest = std::max(newest.value_or(p->t_ms), p->t_ms);
    }
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

}  // namespace

json TwinView(live::Store& store, const site::SiteConfig& config, double last_s,
              size_t max_points) {
  live::AssembleOptions ao;
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
          {"grid_import_limit_w", limit_w > 0 ? json(limit_w) : json()}};
}

}  // namespace firstwall::serve
