#include "ops/forecast.h"

#include <algorithm>
#include <cmath>
#include <future>

#include <fmt/format.h>

#include "core/error.h"
#include "core/text_input.h"
#include "report/simulate.h"
#include "report/tick_series.h"
#include "site/site.h"
#include "thermal/psychrometrics.h"

namespace firstwall::ops {

namespace {

double Number(const text::Field& f, const std::string& path, int line, const char* what) {
  const std::optional<double> v = text::FiniteNumber(f.text);
  if (!v) {
    throw InputError({path, line, f.column}, fmt::format("'{}' is not a number", f.text),
                     fmt::format("{} as a finite decimal number", what));
  }
  return *v;
}

// The forecast's value at `hours` after the origin (linear between points, held past the ends).
WeatherPoint At(const std::vector<WeatherPoint>& points, double hours) {
  if (hours <= points.front().time_h) return points.front();
  if (hours >= points.back().time_h) return points.back();
  const auto it = std::upper_bound(points.begin(), points.end(), hours,
                                   [](double h, const WeatherPoint& p) { return h < p.time_h; });
  const WeatherPoint& b = *it;
  const WeatherPoint& a = *(it - 1);
  const double f = (hours - a.time_h) / (b.time_h - a.time_h);
  WeatherPoint out{hours, a.dry_bulb_c + f * (b.dry_bulb_c - a.dry_bulb_c), std::nullopt};
  if (a.wet_bulb_c && b.wet_bulb_c)
    out.wet_bulb_c = *a.wet_bulb_c + f * (*b.wet_bulb_c - *a.wet_bulb_c);
  return out;
}

}  // namespace

std::vector<WeatherPoint> ReadForecastWeather(const std::string& text, const std::string& path) {
  const std::vector<text::Line> lines = text::Lines(text, path);
  if (lines.empty() || text::Blank(lines.front().text)) {
    throw InputError({path, 1, 1}, "the forecast weather file has no header",
                     "a first line 'time_h,dry_bulb_C' or 'time_h,dry_bulb_C,wet_bulb_C'");
  }
  const std::vector<text::Field> head = text::Split(lines.front().text, ',');
  const bool has_wet = head.size() == 3;
  const char* names[] = {"time_h", "dry_bulb_C", "wet_bulb_C"};
  if (head.size() < 2 || head.size() > 3) {
    throw InputError({path, 1, 1}, "the header has " + std::to_string(head.size()) + " columns",
                     "'time_h,dry_bulb_C' or 'time_h,dry_bulb_C,wet_bulb_C'");
  }
  for (size_t i = 0; i < head.size(); ++i) {
    if (head[i].text != names[i]) {
      throw InputError({path, 1, head[i].column},
                       fmt::format("column {} is '{}', not '{}'", i + 1, head[i].text, names[i]),
                       "'time_h,dry_bulb_C' or 'time_h,dry_bulb_C,wet_bulb_C'");
    }
  }
  std::vector<WeatherPoint> out;
  for (size_t k = 1; k < lines.size(); ++k) {
    const text::Line& line = lines[k];
    if (text::Blank(line.text)) continue;
    const std::vector<text::Field> f = text::Split(line.text, ',');
    if (f.size() != head.size()) {
      throw InputError({path, line.number, 1},
                       fmt::format("{} fields, the header has {}", f.size(), head.size()),
                       "one value per column of the header");
    }
    WeatherPoint p;
    p.time_h = Number(f[0], path, line.number, "hours after the origin");
    p.dry_bulb_c = Number(f[1], path, line.number, "the dry bulb in C");
    if (has_wet) p.wet_bulb_c = Number(f[2], path, line.number, "the wet bulb in C");
    if (out.empty() ? p.time_h != 0 : p.time_h <= out.back().time_h) {
      throw InputError(
          {path, line.number, f[0].column},
          out.empty() ? fmt::format("the first time is {:g} h", p.time_h)
                      : fmt::format("time {:g} h is not after {:g} h", p.time_h, out.back().time_h),
          "times in hours after the origin, from 0, ascending");
    }
    if (!(p.dry_bulb_c > -70 && p.dry_bulb_c < 70)) {
      throw InputError({path, line.number, f[1].column},
                       fmt::format("dry bulb {:g} C is out of range", p.dry_bulb_c),
                       "a dry bulb in (-70, 70) C, as the EPW reader allows");
    }
    if (p.wet_bulb_c && !(*p.wet_bulb_c > -70 && *p.wet_bulb_c <= p.dry_bulb_c + 0.1)) {
      throw InputError(
          {path, line.number, f[2].column},
          fmt::format("wet bulb {:g} C with a dry bulb of {:g} C", *p.wet_bulb_c, p.dry_bulb_c),
          "a wet bulb above -70 C and not above the dry bulb");
    }
    out.push_back(p);
  }
  if (out.empty()) {
    throw InputError({path, static_cast<int>(lines.size()), 1}, "the file has no data rows",
                     "one row per time after the header");
  }
  return out;
}

double HumidityFromWetBulb(double dry_bulb_c, double wet_bulb_c) {
  auto wet = [&](double rh) {
    return units::ToCelsius(thermal::WetBulb(units::Celsius(dry_bulb_c), rh));
  };
  double lo = 0.01, hi = 1.0;
  if (wet_bulb_c <= wet(lo)) return lo;
  if (wet_bulb_c >= wet(hi)) return hi;
  for (int i = 0; i < 60; ++i) {
    const double mid = 0.5 * (lo + hi);
    (wet(mid) < wet_bulb_c ? lo : hi) = mid;
  }
  return 0.5 * (lo + hi);
}

namespace {

// The forecast's conditions `lead` seconds after the origin, its error shift included.
thermal::OutdoorConditions ForecastAt(const thermal::Weather& scenario, double from_s, double lead,
                                      const std::vector<WeatherPoint>& forecast,
                                      const thermal::Weather* stand_in, const WeatherError& error,
                                      double shift_sigmas) {
  const SimTime at = SimTime::From(units::Seconds(from_s + lead));
  thermal::OutdoorConditions c = stand_in ? stand_in->At(at) : scenario.At(at);
  if (!forecast.empty()) {
    const WeatherPoint p = At(forecast, lead / 3600.0);
    c.dry_bulb = units::Celsius(p.dry_bulb_c);
    if (p.wet_bulb_c) c.relative_humidity = HumidityFromWetBulb(p.dry_bulb_c, *p.wet_bulb_c);
  }
  c.dry_bulb = units::Celsius(units::ToCelsius(c.dry_bulb) + shift_sigmas * error.Sigma(lead));
  return c;
}

double ObservedAt(const thermal::Weather& scenario, double from_s) {
  return units::ToCelsius(scenario.At(SimTime::From(units::Seconds(from_s))).dry_bulb);
}

}  // namespace

double AnchorOffsetK(const thermal::Weather& scenario, double from_s,
                     const std::vector<WeatherPoint>& forecast, const thermal::Weather* stand_in,
                     const WeatherError& error, double shift_sigmas,
                     std::optional<double> observed_c) {
  return observed_c.value_or(ObservedAt(scenario, from_s)) -
         units::ToCelsius(
             ForecastAt(scenario, from_s, 0, forecast, stand_in, error, shift_sigmas).dry_bulb);
}

thermal::Weather ForecastWeather(const thermal::Weather& scenario, double from_s, double horizon_s,
                                 const std::vector<WeatherPoint>& forecast,
                                 const thermal::Weather* stand_in, const WeatherError& error,
                                 double shift_sigmas, double anchor_s,
                                 std::optional<double> observed_c) {
  // Row k holds the conditions at k hours (Weather with first_hour 1: row k stands at the end of
  // hour k of a year that starts one hour before time zero).
  const auto hours = static_cast<size_t>(std::ceil((from_s + horizon_s) / 3600.0)) + 2;
  const double offset_k =
      AnchorOffsetK(scenario, from_s, forecast, stand_in, error, shift_sigmas, observed_c);
  std::vector<thermal::OutdoorConditions> rows;
  rows.reserve(hours);
  for (size_t k = 0; k < hours; ++k) {
    const double t = 3600.0 * static_cast<double>(k);
    if (t < from_s) {
      rows.push_back(scenario.At(SimTime::From(units::Seconds(t))));
      continue;
    }
    const double lead = t - from_s;
    thermal::OutdoorConditions c =
        ForecastAt(scenario, from_s, lead, forecast, stand_in, error, shift_sigmas);
    if (anchor_s > 0 && lead < anchor_s) {
      c.dry_bulb = units::Celsius(units::ToCelsius(c.dry_bulb) + offset_k * (1 - lead / anchor_s));
    }
    rows.push_back(c);
  }
  return thermal::Weather(std::move(rows), 1, "forecast");
}

const char* QuantityColumn(int q) {
  static const char* const kColumns[kQuantities] = {
      "it_power_kW", "it_input_power_kW", "facility_power_kW", "cooling_power_kW",
      "pue",         "water_L_per_h",     "grid_power_kW"};
  return kColumns[q];
}

const char* QuantityName(int q) {
  static const char* const kNames[kQuantities] = {
      "it_power", "it_input_power", "facility_power", "cooling_power",
      "pue",      "water",          "grid_power"};
  return kNames[q];
}

namespace {

// One run of the twin binned into the forecast's steps.
// `restarts`, when given, gets the run's restarts as ramps (with a scheduler).
std::vector<ForecastStep> RunOnce(const site::SiteConfig& base, const std::string& scenario_file,
                                  const ForecastOptions& o, double shift_sigmas,
                                  std::optional<report::RestartRamps>* restarts = nullptr) {
  site::SiteConfig config = base;
  config.weather = ForecastWeather(base.weather, o.from_s, o.horizon_s, o.weather,
                                   o.stand_in ? &*o.stand_in : nullptr, o.error, shift_sigmas,
                                   o.anchor_s, o.observed_c);
  config.duration = SimTime::From(units::Seconds(o.from_s + o.horizon_s));
  // The steps of the look-back (whole steps before the origin, not before time zero), then the
  // horizon's.
  const double n_past = std::floor(std::min(o.lookback_s, o.from_s) / o.step_s + 1e-9);
  const double first_s = o.from_s - n_past * o.step_s;
  const auto n_steps =
      static_cast<size_t>(n_past) + static_cast<size_t>(std::ceil(o.horizon_s / o.step_s - 1e-9));
  const size_t n_stages = config.facility.power_chain.size();
  std::vector<ForecastStep> steps(n_steps);
  std::vector<double> seconds(n_steps, 0.0);
  std::vector<std::array<double, 5>> sums(n_steps);  // it, it_input, facility, cooling, water
  std::vector<double> grid(n_steps, 0.0);
  for (size_t i = 0; i < n_steps; ++i) {
    steps[i].start_s = first_s + static_cast<double>(i) * o.step_s;
    steps[i].stage_load_w.assign(n_stages, 0.0);
  }
  std::vector<double> outdoor(n_steps, 0.0);
  const double tick_s = config.tick.seconds();
  report::SimulateOptions so;
  so.on_tick = [&](const report::TickRow& r, int64_t n) {
    for (int64_t k = 0; k < n; ++k) {
      const double t = r.start.seconds() + static_cast<double>(k) * tick_s;
      if (t < first_s - 1e-9) continue;
      const auto i = static_cast<size_t>((t - first_s) / o.step_s + 1e-9);
      if (i >= n_steps) continue;
      const double dt = r.seconds;
      seconds[i] += dt;
      sums[i][0] += r.it_w * dt;
      sums[i][1] += r.it_input_w * dt;
      sums[i][2] += r.facility_w * dt;
      sums[i][3] += r.cooling_w * dt;
      sums[i][4] += r.water_l_per_s * dt;
      grid[i] += r.grid_w * dt;
      outdoor[i] += r.outdoor_c * dt;
      for (size_t s = 0; s < n_stages && s < r.stage_unit_peak_w.size(); ++s) {
        steps[i].stage_load_w[s] = std::max(steps[i].stage_load_w[s], r.stage_unit_peak_w[s]);
      }
    }
  };
  const report::Summary summary = report::Simulate(config, scenario_file, so);
  if (restarts && summary.life) *restarts = summary.life->restarts;
  for (size_t i = 0; i < n_steps; ++i) {
    const double d = seconds[i] > 0 ? seconds[i] : 1;
    auto& v = steps[i].value;
    v[kItPower] = sums[i][0] / d;
    v[kItInputPower] = sums[i][1] / d;
    v[kFacilityPower] = sums[i][2] / d;
    v[kCoolingPower] = sums[i][3] / d;
    v[kPue] = sums[i][1] > 0 ? sums[i][2] / sums[i][1] : 0;
    v[kWater] = sums[i][4] / d * 3600;  // L/s -> L/h
    v[kGridPower] = grid[i] / d;
    steps[i].outdoor_c = outdoor[i] / d;
    steps[i].lo = v;
    steps[i].hi = v;
  }
  return steps;
}

}  // namespace

ForecastPeak PeakOf(const Forecast& f, int q) {
  ForecastPeak p;
  for (const ForecastStep& s : f.steps) {
    if (s.value[q] > p.value) p = {s.value[q], s.hi[q], s.start_s};
    p.hi = std::max(p.hi, s.hi[q]);
  }
  return p;
}

Forecast RunForecast(const site::SiteConfig& config, const std::string& scenario_file,
                     const ForecastOptions& o) {
  FW_CHECK(o.from_s >= 0 && o.horizon_s > 0 && o.step_s > 0, "forecast options unchecked");
  Forecast f;
  // The interval's two runs go on threads of their own beside the central one (each run is
  // independent: report::Simulate keeps no shared state, as the sweep's threads rely on).
  ForecastOptions without_past = o;
  without_past.lookback_s = 0;
  // The runs differ in their weather only: the services' serving simulations (nine tenths of a
  // serving fleet's runs) are run once, for the runs' duration, and shared.
  site::SiteConfig served = config;
  served.duration = SimTime::From(units::Seconds(o.from_s + o.horizon_s));
  // A caller's serving simulations that reach the runs' end are kept (site_config.h,
  // served_until_s).
  if (!site::ServedThrough(served, served.duration.seconds())) site::ServeOnce(served);
  std::vector<std::future<std::vector<ForecastStep>>> band;
  if (o.band) {
    for (double sign : {-1.0, 1.0}) {
      band.push_back(std::async(std::launch::async, [&served, &scenario_file, &without_past,
                                                     shift = o.shift_sigmas + sign * o.z] {
        return RunOnce(served, scenario_file, without_past, shift);
      }));
    }
  }
  std::optional<report::RestartRamps> restarts;
  f.steps = RunOnce(served, scenario_file, o, o.shift_sigmas, &restarts);
  if (restarts) {
    f.ramps_measured = restarts->measured();
    for (const report::RestartBurst& b : restarts->bursts) {
      // A burst decided just before the origin still ramps within the horizon.
      if (b.jobs > 1 && b.facility_1min.at_s >= o.from_s - 1e-9) f.restart_bursts.push_back(b);
    }
  }
  const auto n_past =
      static_cast<ptrdiff_t>(std::floor(std::min(o.lookback_s, o.from_s) / o.step_s + 1e-9));
  f.past.assign(f.steps.begin(), f.steps.begin() + n_past);
  f.steps.erase(f.steps.begin(), f.steps.begin() + n_past);
  // The price, read each minute of the step (the tariff changes at hour edges): the same in every
  // run, so read once for the forecast's steps.
  constexpr double kPriceEvery = 60;
  const int price_reads = std::max(1, static_cast<int>(std::round(o.step_s / kPriceEvery)));
  for (ForecastStep& st : f.steps) {
    double sum = 0;
    for (int k = 0; k < price_reads; ++k) {
      const double t = st.start_s + (k + 0.5) * o.step_s / price_reads;
      sum += config.tariff.UsdPerJoule(SimTime::From(units::Seconds(t))) * 3.6e9;
    }
    st.price_usd_per_mwh = sum / price_reads;
  }
  if (o.band) {
    for (auto& run : band) {
      const std::vector<ForecastStep> other = run.get();
      for (size_t i = 0; i < f.steps.size(); ++i) {
        for (int q = 0; q < kQuantities; ++q) {
          f.steps[i].lo[q] = std::min(f.steps[i].lo[q], other[i].value[q]);
          f.steps[i].hi[q] = std::max(f.steps[i].hi[q], other[i].value[q]);
        }
      }
    }
    f.interval_from = fmt::format(
        "weather-forecast error: the twin run again with the dry bulb -{0:g} and +{0:g} sigma(L), "
        "sigma(L) = {1:g} K + {2:g} K per day of lead (an assumption); each bound the least and "
        "most of the three runs{3}; the IT load's interval is empty (the queue is taken as known)",
        o.z, o.error.sigma_0_k, o.error.sigma_per_day_k,
        o.anchor_s > 0 ? ", anchored at the origin as the forecast is" : "");
  } else {
    f.interval_from = "none";
  }
  for (const power::ConversionStage& s : config.facility.power_chain) {
    f.stages.push_back({s.name, units::ToWatts(s.rating)});
  }
  f.grid_limit_w = units::ToWatts(config.facility.grid_import_limit);
  f.grid_ramp_limit_w = units::ToWatts(config.facility.grid_ramp_limit);
  const std::string source = config.weather.Constant() ? "constant" : config.weather.source();
  f.weather_from = !o.weather.empty() ? "the forecast CSV"
                   : o.stand_in
                       ? o.stand_in_name + " as a stand-in for a forecast"
                       : "the scenario's weather (" + source + ") as a stand-in for a forecast";
  if (o.anchor_s > 0) {
    const thermal::Weather* stand_in = o.stand_in ? &*o.stand_in : nullptr;
    const double offset = AnchorOffsetK(config.weather, o.from_s, o.weather, stand_in, o.error,
                                        o.shift_sigmas, o.observed_c);
    f.anchor_observed_c = o.observed_c.value_or(ObservedAt(config.weather, o.from_s));
    f.anchor_forecast_c = f.anchor_observed_c - offset;
    f.anchor_observed_from = o.observed_c ? o.observed_from : "the scenario's weather";
    f.weather_from += fmt::format(
        ", anchored to the dry bulb observed at the origin ({:.1f} C, from {}; the forecast's "
        "{:.1f} C: {:+.1f} K, fading out over {:g} h)",
        f.anchor_observed_c, f.anchor_observed_from, f.anchor_forecast_c, offset,
        o.anchor_s / 3600);
  }
  f.water_modelled = config.facility.cooling.sink == thermal::HeatSink::kCoolingTower;
  return f;
}

}  // namespace firstwall::ops
