#include "serve/forecast_view.h"

#include <algorithm>
#include <cmath>
#include <optional>

#include "ops/forecast.h"

namespace firstwall::serve {
namespace {

using nlohmann::json;

constexpr double kStepS = 900;
constexpr double kHorizonS = 24 * 3600;
constexpr double kMaxOriginS = 366 * 86400.0;  // firstwall forecast's --from bound

// The first and newest finite samples of the store's first facility power series.
struct Span {
  int64_t first_ms = 0, newest_ms = 0;
};
std::optional<Span> FacilitySpan(live::Store& store) {
  for (const live::SeriesInfo& s : store.Series()) {
    if (s.key.entity != "facility" || s.key.quantity != "power") continue;
    std::optional<Span> span;
    for (const live::SamplePoint& p : store.Samples(s.id)) {
      if (!std::isfinite(p.value)) continue;
      if (!span) span = Span{p.t_ms, p.t_ms};
      span->newest_ms = std::max(span->newest_ms, p.t_ms);
    }
    return span;
  }
  return std::nullopt;
}

}  // namespace

json ForecastView(live::Store& store, const site::SiteConfig& config,
                  const std::string& scenario_file) {
  const std::optional<Span> span = FacilitySpan(store);
  if (!span) {
    return {{"t_ms", json::array()},
            {"note", "the store has no facility power: the forecast has no clock to start from"}};
  }
  const double since_s = static_cast<double>(span->newest_ms - span->first_ms) / 1000;
  ops::ForecastOptions o;
  o.step_s = kStepS;
  o.horizon_s = kHorizonS;
  o.from_s = std::floor(since_s / kStepS) * kStepS;
  if (o.from_s > kMaxOriginS) {
    return {{"t_ms", json::array()},
            {"note", "the store spans more than 366 days: the twin would replay them all"}};
  }
  const ops::Forecast f = ops::RunForecast(config, scenario_file, o);
  const auto at_ms = [&](double scenario_s) {
    return span->first_ms + static_cast<int64_t>(std::llround(scenario_s * 1000));
  };
  json t = json::array(), value = json::array(), lo = json::array(), hi = json::array(),
       it = json::array(), pue = json::array(), outdoor = json::array();
  double peak = 0, peak_hi = 0, peak_at = 0;
  for (const ops::ForecastStep& s : f.steps) {
    t.push_back(at_ms(s.start_s));
    value.push_back(s.value[ops::kFacilityPower]);
    lo.push_back(s.lo[ops::kFacilityPower]);
    hi.push_back(s.hi[ops::kFacilityPower]);
    it.push_back(s.value[ops::kItPower]);
    pue.push_back(s.value[ops::kPue]);
    outdoor.push_back(s.outdoor_c);
    if (s.value[ops::kFacilityPower] > peak) {
      peak = s.value[ops::kFacilityPower];
      peak_at = s.start_s;
    }
    peak_hi = std::max(peak_hi, s.hi[ops::kFacilityPower]);
  }
  return {{"origin_ms", at_ms(o.from_s)},
          {"step_s", kStepS},
          {"horizon_s", kHorizonS},
          {"t_ms", t},
          {"facility_power_w", {{"value", value}, {"lo", lo}, {"hi", hi}}},
          {"it_power_w", it},
          {"pue", pue},
          {"outdoor_c", outdoor},
          {"grid_import_limit_w", f.grid_limit_w > 0 ? json(f.grid_limit_w) : json()},
          {"peak",
           {{"facility_power_w", peak},
            {"hi_w", peak_hi},
            {"at_ms", at_ms(peak_at)},
            {"over_grid_limit", f.grid_limit_w > 0 && peak_hi > f.grid_limit_w}}},
          {"weather", f.weather_from},
          {"interval", f.interval_from}};
}

}  // namespace firstwall::serve
