#include "serve/forecast_view.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"
#include "ops/backtest.h"
#include "ops/forecast.h"
#include "site/site.h"

namespace firstwall::serve {
namespace {

using nlohmann::json;

constexpr double kStepS = 900;
// The origin moves by the hour: the weather the twin runs on is hourly (and its anchor fades by
// the hour), and a 10,000-GPU site's forecast is about a minute of CPU (4 to 6 % of a core when
// it was redone every 15 min, 1 to 1.6 % hourly).
constexpr double kOriginEveryS = 3600;
constexpr double kHorizonS = 24 * 3600;
constexpr double kMaxOriginS = 366 * 86400.0;  // firstwall forecast's --from bound

}  // namespace

std::optional<ForecastClock> ForecastClockReader::Read(live::Store& store) {
  if (!series_) {
    const std::optional<live::SeriesInfo> s = ops::FacilityPowerSeries(store);
    if (!s) return std::nullopt;
    for (const live::SamplePoint& p : store.Samples(s->id)) {
      if (!std::isfinite(p.value)) continue;
      series_ = s->id;
      zero_ms_ = p.t_ms;
      break;
    }
    if (!series_) return std::nullopt;
  }
  const std::optional<live::SamplePoint> newest = store.Newest(*series_);
  if (!newest) return std::nullopt;
  const double since_s = static_cast<double>(std::max<int64_t>(0, newest->t_ms - *zero_ms_)) / 1000;
  return ForecastClock{*zero_ms_, std::floor(since_s / kOriginEveryS) * kOriginEveryS};
}

json ForecastJson(const site::SiteConfig& config, const std::string& scenario_file,
                  const ForecastClock& clock, ServedAhead* ahead) {
  if (clock.origin_s > kMaxOriginS) {
    return {{"t_ms", json::array()},
            {"note", "the store spans more than 366 days: the twin would replay them all"}};
  }
  ops::ForecastOptions o;
  o.step_s = kStepS;
  o.horizon_s = kHorizonS;
  o.from_s = clock.origin_s;
  ops::Forecast f;
  try {
    if (ahead && !config.services.empty()) {
      // RunForecast sets the runs' duration itself; the kept config's is the serving's reach.
      const double end = o.from_s + o.horizon_s;
      if (!ahead->config || !site::ServedThrough(*ahead->config, end)) {
        ahead->config = config;
        ahead->config->duration = SimTime::From(units::Seconds(end + kServeAheadS));
        site::ServeOnce(*ahead->config);
      }
      f = ops::RunForecast(*ahead->config, scenario_file, o);
    } else {
      f = ops::RunForecast(config, scenario_file, o);
    }
  } catch (const InputError& e) {
    return {{"t_ms", json::array()},
            {"note", std::string("the twin could not run forward: ") + e.what()}};
  }
  const auto at_ms = [&](double scenario_s) {
    return clock.zero_ms + static_cast<int64_t>(std::llround(scenario_s * 1000));
  };
  json t = json::array(), value = json::array(), lo = json::array(), hi = json::array(),
       it = json::array(), pue = json::array(), outdoor = json::array();
  for (const ops::ForecastStep& s : f.steps) {
    t.push_back(at_ms(s.start_s));
    value.push_back(s.value[ops::kFacilityPower]);
    lo.push_back(s.lo[ops::kFacilityPower]);
    hi.push_back(s.hi[ops::kFacilityPower]);
    it.push_back(s.value[ops::kItPower]);
    pue.push_back(s.value[ops::kPue]);
    outdoor.push_back(s.outdoor_c);
  }
  const ops::ForecastPeak peak = ops::PeakOf(f, ops::kFacilityPower);
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
           {{"facility_power_w", peak.value},
            {"hi_w", peak.hi},
            {"at_ms", at_ms(peak.at_s)},
            {"over_grid_limit", f.grid_limit_w > 0 && peak.hi > f.grid_limit_w}}},
          {"weather", f.weather_from},
          {"interval", f.interval_from}};
}

ForecastWorker::ForecastWorker(site::SiteConfig config, std::string scenario_file)
    : config_(std::move(config)), scenario_file_(std::move(scenario_file)) {
  thread_ = std::thread([this] { Run(); });
}

ForecastWorker::~ForecastWorker() {
  {
    std::lock_guard lock(m_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

ForecastWorker::Answer ForecastWorker::Ask(const ForecastClock& clock) {
  std::lock_guard lock(m_);
  if (last_clock_ != clock && computing_ != clock) {
    wanted_ = clock;
    cv_.notify_all();
  }
  return {last_, last_clock_, computing_.has_value() || wanted_.has_value()};
}

void ForecastWorker::Run() {
  std::unique_lock lock(m_);
  while (true) {
    cv_.wait(lock, [&] { return stop_ || wanted_.has_value(); });
    if (stop_) return;
    computing_ = wanted_;
    wanted_.reset();
    const ForecastClock clock = *computing_;
    lock.unlock();
    // Nothing thrown here may end the server: a failure is the answer's note.
    std::shared_ptr<const json> answer;
    try {
      answer = std::make_shared<const json>(ForecastJson(config_, scenario_file_, clock, &ahead_));
    } catch (const std::exception& e) {
      answer = std::make_shared<const json>(
          json{{"t_ms", json::array()}, {"note", std::string("the forecast failed: ") + e.what()}});
    }
    lock.lock();
    last_ = std::move(answer);
    last_clock_ = clock;
    computing_.reset();
  }
}

}  // namespace firstwall::serve
