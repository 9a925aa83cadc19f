// `firstwall forecast` (docs/operations.md, "Forecasts"): the next 24 to 72 h of a site from the
// twin run forward under a weather forecast, with an interval; with measurements, the backtest
// of the twin against seasonal-naive and Holt-Winters baselines.
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>
#include <utility>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "apps/firstwall/commands.h"
#include "apps/firstwall/duration_option.h"
#include "apps/firstwall/scenario_arg.h"
#include "core/text_input.h"
#include "live/store.h"
#include "ops/backtest.h"
#include "ops/finding_json.h"
#include "ops/forecast.h"
#include "report/output_set.h"
#include "report/outputs.h"
#include "report/text_format.h"
#include "units/parse.h"

namespace firstwall::cli {
namespace {

// The largest recent bias of the twin against the measured facility power a forecast corrects.
constexpr double kMaxBias = 0.25;

using nlohmann::ordered_json;

struct ForecastArgs {
  std::string scenario, db, measured, from, horizon = "72 h", weather, step = "15 min", out;
  std::string anchor = "3 h";
  std::optional<std::string> price_peak;
  std::vector<std::string> sets;
  double sigma_0 = 1.0, sigma_per_day = 0.5;
  bool json = false;
};

// What the options say, checked before anything is read or run.
struct Checked {
  ops::ForecastOptions forecast;
  ops::BacktestOptions backtest;
  bool from_given = false;
  double price_peak_usd_per_mwh = 0;  // --price-peak; 0: none
};

Checked Check(const ForecastArgs& a) {
  Checked c;
  ops::ForecastOptions& f = c.forecast;
  f.horizon_s = DurationOption("--horizon", a.horizon);
  if (f.horizon_s < 24 * 3600 - 1e-6 || f.horizon_s > 72 * 3600 + 1e-6) {
    throw InputError({"--horizon", 0, 0}, fmt::format("'{}' is not from 24 h to 72 h", a.horizon),
                     "a horizon from 24 h to 72 h, e.g. 48h");
  }
  f.step_s = DurationOption("--step", a.step);
  const double per_day = 86400 / f.step_s;
  if (f.step_s < 60 - 1e-9 || f.step_s > 6 * 3600 + 1e-9 ||
      std::abs(per_day - std::round(per_day)) > 1e-9) {
    throw InputError({"--step", 0, 0},
                     fmt::format("'{}' is not from 1 min to 6 h dividing a day", a.step),
                     "a step such as 5min, 15min, 1h (the baselines' season is one day)");
  }
  if (!a.from.empty()) {
    f.from_s = DurationOption("--from", a.from, true);
    // The twin replays everything before the origin: a typo of days for hours would run for hours.
    if (f.from_s > 366 * 86400.0) {
      throw InputError({"--from", 0, 0}, fmt::format("'{}' is more than a year", a.from),
                       "an origin within the scenario's first year (366 d)");
    }
    const double steps = f.from_s / f.step_s;
    if (std::abs(steps - std::round(steps)) > 1e-6) {
      throw InputError(
          {"--from", 0, 0},
          fmt::format("'{}' is not a whole number of steps of {:g} s", a.from, f.step_s),
          "an origin on the step grid from the scenario's start, e.g. 4d");
    }
    c.from_given = true;
  }
  for (const auto& [option, value] : {std::pair{"--weather-sigma", a.sigma_0},
                                      std::pair{"--weather-sigma-per-day", a.sigma_per_day}}) {
    if (!std::isfinite(value) || value < 0 || value > 20) {
      throw InputError({option, 0, 0}, fmt::format("{:g} K is out of range", value),
                       "a standard deviation from 0 to 20 K");
    }
  }
  f.error = {a.sigma_0, a.sigma_per_day};
  f.anchor_s = DurationOption("--anchor", a.anchor, true);
  if (a.price_peak) {
    double usd_per_j = 0;
    try {
      usd_per_j = units::ParseBase(*a.price_peak, units::Dimension::kEnergyPrice);
    } catch (const units::UnitParseError& e) {
      throw InputError({"--price-peak", 0, 0}, fmt::format("'{}': {}", *a.price_peak, e.what()),
                       e.hint());
    }
    // Rounded to 1e-9 USD/MWh, so that 140 USD/MWh prints and is stored as 140.
    c.price_peak_usd_per_mwh = std::round(usd_per_j * 3.6e9 * 1e9) / 1e9;
    if (!(c.price_peak_usd_per_mwh > 0 && c.price_peak_usd_per_mwh <= 100000)) {
      throw InputError(
          {"--price-peak", 0, 0},
          fmt::format("'{}' is not above 0 and at most 100,000 USD/MWh", *a.price_peak),
          "a grid price such as 150 USD/MWh");
    }
  }
  if (f.anchor_s > 6 * 3600 + 1e-6) {
    throw InputError({"--anchor", 0, 0}, fmt::format("'{}' is more than 6 h", a.anchor),
                     "0 (not anchored), or 1 h to 6 h, e.g. 3h");
  }
  // The weather is built by the hour: a shorter fade would act as one of an hour.
  if (f.anchor_s > 0 && f.anchor_s < 3600 - 1e-6) {
    throw InputError({"--anchor", 0, 0},
                     fmt::format("'{}' is shorter than the weather's hourly rows", a.anchor),
                     "0 (not anchored), or 1 h to 6 h, e.g. 3h");
  }
  if (!a.db.empty() && !a.measured.empty()) {
    throw InputError({"--measured", 0, 0}, "--db and --measured both given",
                     "measurements from one of them");
  }
  c.backtest.horizon_s = f.horizon_s;
  c.backtest.step_s = f.step_s;
  c.backtest.error = f.error;
  c.backtest.anchor_s = f.anchor_s;
  c.backtest.horizons_s.clear();
  for (double h : {1.0, 6.0, 24.0, 48.0, 72.0}) {
    if (h * 3600 <= f.horizon_s + 1e-6) c.backtest.horizons_s.push_back(h * 3600);
  }
  if (c.backtest.horizons_s.back() < f.horizon_s - 1e-6)
    c.backtest.horizons_s.push_back(f.horizon_s);
  return c;
}

std::string Num(double v, const char* spec = "{:.3f}") {
  return std::isfinite(v) ? fmt::format(fmt::runtime(spec), v) : "n/a";
}

// Value in the CSV's unit: kW for powers, as is for PUE and L/h.
double Shown(int q, double v) { return q == ops::kPue || q == ops::kWater ? v : v / 1e3; }

std::string Csv(const ops::Forecast& f) {
  std::string out = "time_s,lead_h,outdoor_dry_bulb_C";
  for (int q = 0; q < ops::kQuantities; ++q) {
    const std::string c = ops::QuantityColumn(q);
    out += fmt::format(",{0},{0}_lo,{0}_hi", c);
  }
  for (const ops::StageRating& s : f.stages) out += fmt::format(",stage_load_kW[{}]", s.name);
  out += "\n";
  const double origin = f.steps.empty() ? 0 : f.steps.front().start_s;
  for (const ops::ForecastStep& s : f.steps) {
    out += fmt::format("{:.0f},{:.4f},{:.2f}", s.start_s, (s.start_s - origin) / 3600, s.outdoor_c);
    for (int q = 0; q < ops::kQuantities; ++q) {
      out += fmt::format(",{:.4f},{:.4f},{:.4f}", Shown(q, s.value[q]), Shown(q, s.lo[q]),
                         Shown(q, s.hi[q]));
    }
    for (double w : s.stage_load_w) out += fmt::format(",{:.4f}", w / 1e3);
    out += "\n";
  }
  return out;
}

// The forecast's steps priced above --price-peak: how many, how long, the first one's start, the
// highest price and the facility's mean draw over them.
struct PricePeak {
  double limit = 0;  // USD/MWh; 0: not asked
  int steps = 0;
  double hours = 0, first_s = 0, highest = 0, mean_facility_w = 0;
};

PricePeak PricePeakOf(const ops::Forecast& f, double limit, double step_s) {
  PricePeak p;
  p.limit = limit;
  if (!(limit > 0)) return p;
  double energy = 0;
  for (const ops::ForecastStep& s : f.steps) {
    if (!units::AboveBeyondRounding(s.price_usd_per_mwh, limit)) continue;
    if (p.steps++ == 0) p.first_s = s.start_s;
    p.highest = std::max(p.highest, s.price_usd_per_mwh);
    energy += s.value[ops::kFacilityPower];
  }
  p.hours = p.steps * step_s / 3600;
  p.mean_facility_w = p.steps > 0 ? energy / p.steps : 0;
  return p;
}

// Stage `s`'s largest load over the forecast (W) and the start of its step (s).
std::pair<double, double> StagePeak(const ops::Forecast& f, size_t s) {
  double peak = 0, at = 0;
  for (const ops::ForecastStep& st : f.steps) {
    if (st.stage_load_w[s] > peak) {
      peak = st.stage_load_w[s];
      at = st.start_s;
    }
  }
  return {peak, at};
}

// The forecast's peaks over a limit as findings for the experts (ops/finding.h; `ops advise
// --findings forecast.json`): the facility's upper interval over the grid limit, and each stage's
// peak load over its rating, residual in W over. Times are left 0: the forecast's clock is the
// scenario's, not the site's (the detail says when, in hours from the scenario's start).
// Also the largest restart burst whose facility draw rises faster than site.grid_ramp_limit
// (kind forecast_ramp, cause restart_burst, residual W within one minute over the limit).
ordered_json PeakFindings(const ops::Forecast& f, const ops::ForecastPeak& grid,
                          const PricePeak& price) {
  ordered_json out = ordered_json::array();
  auto add = [&](const std::string& target, const std::string& cause, double over_w, double at_s,
                 const std::string& detail, double limit) {
    ops::Finding x;
    x.kind = cause == "restart_burst" ? "forecast_ramp" : "forecast_peak";
    x.target = target;
    x.quantity = cause == "price_peak" ? "" : "power";
    x.detector = "forecast";
    x.cause = cause;
    x.residual = over_w;
    x.limit = limit;
    x.detail = fmt::format("{} at t = {:g} h", detail, at_s / 3600);
    out.push_back(ordered_json::parse(ops::FindingJson(x).dump()));
  };
  if (f.grid_limit_w > 0 && grid.hi > f.grid_limit_w) {
    add("facility/site", "peak_over_grid_limit", grid.hi - f.grid_limit_w, grid.at_s,
        fmt::format("facility power up to {:.1f} kW against the grid limit of {:.1f} kW",
                    grid.hi / 1e3, f.grid_limit_w / 1e3),
        f.grid_limit_w);
  }
  for (size_t s = 0; s < f.stages.size(); ++s) {
    const auto [peak, at] = StagePeak(f, s);
    const double rating = f.stages[s].rating_w;
    if (rating > 0 && peak > rating) {
      add("facility/site", "peak_over_rating", peak - rating, at,
          fmt::format("{} loaded to {:.1f} kW against its rating of {:.1f} kW", f.stages[s].name,
                      peak / 1e3, rating / 1e3),
          rating);
    }
  }
  const report::RestartBurst* worst = nullptr;
  int over = 0;
  for (const report::RestartBurst& b : f.restart_bursts) {
    if (!f.ramps_measured || f.grid_ramp_limit_w <= 0 ||
        b.facility_1min.mw * 1e6 <= f.grid_ramp_limit_w)
      continue;
    ++over;
    if (!worst || b.facility_1min.mw > worst->facility_1min.mw) worst = &b;
  }
  if (worst) {
    add("facility/site", "restart_burst", worst->facility_1min.mw * 1e6 - f.grid_ramp_limit_w,
        worst->facility_1min.at_s,
        fmt::format("{} jobs ({} GPUs) restarting together raise the facility's draw {:.1f} kW "
                    "within a minute against the ramp limit of {:.1f} kW per minute ({} of {} "
                    "bursts of several jobs over it)",
                    worst->jobs, worst->gpus, worst->facility_1min.mw * 1e3,
                    f.grid_ramp_limit_w / 1e3, over, f.restart_bursts.size()),
        f.grid_ramp_limit_w);
  }
  if (price.steps > 0) {
    add("facility/site", "price_peak", price.highest - price.limit, price.first_s,
        fmt::format("{:g} h priced above {} USD/MWh (up to {} USD/MWh; the facility "
                    "drawing {:.1f} kW then), the first",
                    price.hours, price.limit, price.highest, price.mean_facility_w / 1e3),
        price.limit);
  }
  return out;
}

std::string BacktestTable(const ops::Backtest& bt) {
  std::string out = fmt::format("  {:<16}", "method");
  for (double h : bt.horizons_s) out += fmt::format(" {:>16}", fmt::format("{:g} h", h / 3600));
  out += "\n  " + std::string(16, ' ');
  for (size_t i = 0; i < bt.horizons_s.size(); ++i)
    out += fmt::format(" {:>16}", "MAPE/CV(RMSE) %");
  out += "\n";
  for (const ops::MethodErrors& m : bt.methods) {
    out += fmt::format("  {:<16}", m.method);
    for (size_t b = 0; b < bt.horizons_s.size(); ++b) {
      out += fmt::format(" {:>16}",
                         Num(m.mape_pct[b], "{:.2f}") + " / " + Num(m.cv_rmse_pct[b], "{:.2f}"));
    }
    out += "\n";
  }
  out += fmt::format("  {:<16}", "steps (n)");
  for (int n : bt.methods.front().n) out += fmt::format(" {:>16}", n);
  out += "\n";
  return out;
}

ordered_json BacktestJson(const ops::Backtest& bt) {
  ordered_json j;
  ordered_json origins = ordered_json::array();
  for (double o : bt.origins_s) origins.push_back(o);
  j["origins_s"] = origins;
  ordered_json hz = ordered_json::array();
  for (double h : bt.horizons_s) hz.push_back(h / 3600);
  j["horizons_h"] = hz;
  for (const ops::MethodErrors& m : bt.methods) {
    j["methods"][m.method] = {{"mape_pct", m.mape_pct}, {"cv_rmse_pct", m.cv_rmse_pct}, {"n", m.n}};
  }
  ordered_json hw = ordered_json::array();
  for (const ops::HoltWintersParams& p : bt.holt_winters) {
    hw.push_back({{"alpha", p.alpha}, {"beta", p.beta}, {"gamma", p.gamma}});
  }
  j["holt_winters_fitted"] = hw;
  j["twin_bias"] = bt.twin_bias;
  j["twin_residual_q10"] = bt.twin_q10;
  j["twin_residual_q90"] = bt.twin_q90;
  return j;
}

// Replaces the facility power's interval by the backtest's residual quantiles per horizon.
void ApplyBacktestInterval(ops::Forecast& f, const ops::Backtest& bt, double step_s) {
  for (size_t i = 0; i < f.steps.size(); ++i) {
    size_t b = ops::HorizonIndex(bt.horizons_s, static_cast<double>(i + 1) * step_s);
    b = std::min(b, bt.horizons_s.size() - 1);
    if (!std::isfinite(bt.twin_q10[b]) || !std::isfinite(bt.twin_q90[b])) continue;
    ops::ForecastStep& s = f.steps[i];
    const double v = s.value[ops::kFacilityPower];
    s.lo[ops::kFacilityPower] = v * (1 + std::min(0.0, bt.twin_q10[b]));
    s.hi[ops::kFacilityPower] = v * (1 + std::max(0.0, bt.twin_q90[b]));
  }
  f.interval_from +=
      "; facility power: the twin's backtest residuals (m - p) / p, their 10 % and 90 % "
      "quantiles per horizon (widened to include the forecast)";
}

// The store's outdoor dry bulb at the origin: the newest sample at or before it, within the hour
// before, of the first weather_station temperature series (in C); nullopt when there is none.
// The origin in ms is the store's time zero (its first facility sample) plus `from_s`.
std::optional<std::pair<double, std::string>> ObservedDryBulb(live::Store& store,
                                                              const std::string& db,
                                                              int64_t zero_ms, double from_s) {
  const int64_t origin_ms = zero_ms + static_cast<int64_t>(std::llround(from_s * 1000));
  for (const live::SeriesInfo& s : store.Series()) {
    if (s.key.entity != "weather_station" || s.key.quantity != "temperature" || s.key.unit != "C")
      continue;
    std::optional<live::SamplePoint> last;
    for (const live::SamplePoint& p : store.SamplesSince(s.id, origin_ms - 3'600'000)) {
      if (p.t_ms > origin_ms) break;
      if (std::isfinite(p.value)) last = p;
    }
    if (!last) continue;
    return std::pair{
        last->value,
        fmt::format("{}: weather_station/{} at {:.0f} s before the origin", db, s.key.entity_id,
                    static_cast<double>(origin_ms - last->t_ms) / 1000)};
  }
  return std::nullopt;
}

int Run(const ForecastArgs& a) {
  Checked c = Check(a);
  std::vector<ops::WeatherPoint> weather;
  std::vector<std::string> sets = a.sets;
  std::optional<scenario::Scenario> stand_in;
  if (!a.weather.empty()) {
    if (!std::filesystem::is_regular_file(a.weather)) {
      throw InputError({"--weather", 0, 0}, fmt::format("'{}' is not a file", a.weather),
                       "a forecast CSV time_h,dry_bulb_C[,wet_bulb_C] or an EPW file");
    }
    if (std::filesystem::path(a.weather).extension() == ".epw") {
      std::vector<std::string> with = sets;
      with.push_back("site.weather_file=" + std::filesystem::absolute(a.weather).string());
      stand_in = LoadScenarioArg(a.scenario, with);
    } else {
      const std::string text = text::ReadFile(a.weather, "forecast weather file");
      c.forecast.weather = ops::ReadForecastWeather(text, a.weather);
      const double last_h = c.forecast.weather.back().time_h;
      if (last_h * 3600 < c.forecast.horizon_s - 1e-6) {
        throw InputError({"--weather", 0, 0},
                         fmt::format("{} ends {:g} h after the origin, before the horizon of "
                                     "{:g} h",
                                     a.weather, last_h, c.forecast.horizon_s / 3600),
                         "a forecast that covers the horizon");
      }
    }
  }
  const scenario::Scenario sc = LoadScenarioArg(a.scenario, sets);
  if (c.price_peak_usd_per_mwh > 0 && !sc.site.tariff.Hourly()) {
    throw InputError({"--price-peak", 0, 0},
                     "the site's price is flat (site.electricity_price): it has no peak",
                     "a site with an hourly price (site.tariff_file)");
  }
  if (stand_in) {
    c.forecast.stand_in = stand_in->site.weather;
    c.forecast.stand_in_name = a.weather;
  }
  std::optional<ops::MeasuredSeries> measured;
  std::string option;
  std::unique_ptr<live::Store> store;
  if (!a.measured.empty()) {
    option = "--measured";
    measured = ops::ReadMeasuredCsv(text::ReadFile(a.measured, "measurements file"), a.measured);
  } else if (!a.db.empty()) {
    option = "--db";
    store = live::OpenExistingStore(a.db);
    measured = ops::ReadMeasuredStore(*store, a.db);
  }
  if (measured && !c.from_given) {
    // The forecast starts where the measurements end (on the step grid).
    c.forecast.from_s = std::floor(measured->t_s.back() / c.forecast.step_s) * c.forecast.step_s;
  }
  if (store && c.forecast.anchor_s > 0) {
    if (const auto seen = ObservedDryBulb(*store, a.db, measured->zero_ms, c.forecast.from_s)) {
      c.forecast.observed_c = seen->first;
      c.forecast.observed_from = seen->second;
    }
  }
  std::optional<ops::Backtest> bt;
  double bias = 0;
  if (measured) {
    bt = ops::RunBacktest(sc.site, *measured, c.backtest, option);
    c.forecast.lookback_s = c.backtest.lookback_s;
  }
  ops::Forecast f = ops::RunForecast(sc.site, c.forecast);
  if (bt) {
    const size_t bins = static_cast<size_t>(c.forecast.from_s / c.forecast.step_s) + 1;
    bias = ops::RecentBias(f.past, ops::BinMeasured(*measured, c.forecast.step_s, bins),
                           c.forecast.step_s);
    // A twin a quarter off the meter is no twin of this site (or the meter is broken: a dead one
    // reads 0, -100 %): scaling the forecast by that would print a facility drawing less than its
    // IT load. Refused, not corrected.
    if (!(std::abs(bias) <= kMaxBias)) {
      throw InputError({option, 0, 0},
                       fmt::format("the measured facility power is {:+.1f} % off the twin's over "
                                   "the {:g} h before the origin; a correction that large is no "
                                   "forecast",
                                   100 * bias, c.backtest.lookback_s / 3600),
                       fmt::format("check the meter, or calibrate the twin (firstwall calibrate) "
                                   "until it is within {:.0f} %",
                                   100 * kMaxBias));
    }
    for (ops::ForecastStep& s : f.steps) {
      for (int q : {ops::kFacilityPower, ops::kGridPower, ops::kPue}) {
        s.value[q] *= 1 + bias;
        s.lo[q] *= 1 + bias;
        s.hi[q] *= 1 + bias;
      }
    }
    ApplyBacktestInterval(f, *bt, c.forecast.step_s);
  }

  // The summary.
  std::string text = fmt::format(
      "forecast of {}: {:g} h from t = {:g} h (scenario time), {} steps of {:g} min\n"
      "  weather: {}\n  interval (lo..hi): {}\n",
      sc.file, c.forecast.horizon_s / 3600, c.forecast.from_s / 3600, f.steps.size(),
      c.forecast.step_s / 60, f.weather_from, f.interval_from);
  if (bt) {
    text += fmt::format(
        "  facility and grid power corrected by the twin's bias over the {:g} h of measurements "
        "before the origin: {:+.3f} %\n",
        c.backtest.lookback_s / 3600, 100 * bias);
  }
  ordered_json j = {
      {"scenario", sc.file},
      {"from_s", c.forecast.from_s},
      {"horizon_s", c.forecast.horizon_s},
      {"step_s", c.forecast.step_s},
      {"weather", f.weather_from},
      {"anchor", c.forecast.anchor_s > 0
                     ? ordered_json{{"fade_h", c.forecast.anchor_s / 3600},
                                    {"observed_C", f.anchor_observed_c},
                                    {"observed_from", f.anchor_observed_from},
                                    {"forecast_C", f.anchor_forecast_c},
                                    {"offset_K", f.anchor_observed_c - f.anchor_forecast_c}}
                     : ordered_json()},
      {"interval", f.interval_from},
      {"facility_bias_correction", bt ? ordered_json(bias) : ordered_json()}};
  text += fmt::format("  {:<16} {:>12} {:>12} {:>12}  {}\n", "quantity", "mean", "min", "max",
                      "peak interval (lo..hi)");
  const double hours = c.forecast.step_s / 3600;
  for (int q = 0; q < ops::kQuantities; ++q) {
    if (q == ops::kWater && !f.water_modelled) continue;
    double sum = 0, lo = INFINITY, hi = -INFINITY, peak_lo = 0, peak_hi = 0, energy = 0;
    for (const ops::ForecastStep& s : f.steps) {
      sum += s.value[q];
      energy += s.value[q] * hours;
      lo = std::min(lo, s.value[q]);
      if (s.value[q] > hi) {
        hi = s.value[q];
        peak_lo = s.lo[q];
        peak_hi = s.hi[q];
      }
    }
    const double mean = sum / static_cast<double>(f.steps.size());
    const std::string unit = q == ops::kPue ? "ratio" : q == ops::kWater ? "L/h" : "kW";
    text += fmt::format("  {:<16} {:>12} {:>12} {:>12}  {}..{} {}\n", ops::QuantityName(q),
                        Num(Shown(q, mean)), Num(Shown(q, lo)), Num(Shown(q, hi)),
                        Num(Shown(q, peak_lo)), Num(Shown(q, peak_hi)), unit);
    j["quantities"][ops::QuantityName(q)] = {
        {"unit", unit},        {"mean", Shown(q, mean)},      {"min", Shown(q, lo)},
        {"max", Shown(q, hi)}, {"max_lo", Shown(q, peak_lo)}, {"max_hi", Shown(q, peak_hi)}};
    if (q == ops::kFacilityPower) j["facility_energy_kWh"] = energy / 1e3;
    if (q == ops::kWater) j["water_m3"] = energy / 1e3;
  }
  if (!f.water_modelled) {
    text +=
        "  water: not modelled for this plant (its heat sink is a dry cooler, which "
        "evaporates none)\n";
    j["water_m3"] = nullptr;
  } else {
    text += fmt::format("  water over the horizon: {} m3 (cooling tower evaporation)\n",
                        Num(j["water_m3"].get<double>()));
  }
  const ops::ForecastPeak grid = ops::PeakOf(f, ops::kFacilityPower);
  if (f.grid_limit_w > 0) {
    text += fmt::format(
        "  peak facility power {} kW at t = {:g} h (up to {} kW within the interval) against the "
        "grid limit of {} kW: {}\n",
        Num(grid.value / 1e3), grid.at_s / 3600, Num(grid.hi / 1e3), Num(f.grid_limit_w / 1e3),
        grid.hi > f.grid_limit_w            ? "OVER the limit"
        : grid.value > 0.9 * f.grid_limit_w ? "within 10 % of the limit"
                                            : "below");
  } else {
    text += fmt::format("  peak facility power {} kW at t = {:g} h (no grid limit given)\n",
                        Num(grid.value / 1e3), grid.at_s / 3600);
  }
  j["peak"]["facility_power_kW"] = {{"value", grid.value / 1e3},
                                    {"hi", grid.hi / 1e3},
                                    {"at_s", grid.at_s},
                                    {"grid_limit_kW", f.grid_limit_w / 1e3},
                                    {"over", f.grid_limit_w > 0 && grid.hi > f.grid_limit_w}};
  ordered_json stages = ordered_json::array();
  for (size_t s = 0; s < f.stages.size(); ++s) {
    const auto [peak, at] = StagePeak(f, s);
    const double rating = f.stages[s].rating_w;
    text += fmt::format(
        "  {:<16} peak load {} kW at t = {:g} h{}\n", f.stages[s].name, Num(peak / 1e3), at / 3600,
        rating > 0
            ? fmt::format(" of its rating {} kW ({:.1f} %)", Num(rating / 1e3), 100 * peak / rating)
            : " (no rating given)");
    stages.push_back({{"stage", f.stages[s].name},
                      {"peak_load_kW", peak / 1e3},
                      {"at_s", at},
                      {"rating_kW", rating > 0 ? ordered_json(rating / 1e3) : ordered_json()}});
  }
  j["stages"] = stages;
  // Restarts after failures as ramps at the meter (report/restart_ramps.h), within the horizon.
  const report::RestartBurst* steepest = nullptr;
  for (const report::RestartBurst& b : f.restart_bursts) {
    if (!steepest || b.facility_1min.mw > steepest->facility_1min.mw) steepest = &b;
  }
  const std::string limit = f.grid_ramp_limit_w > 0
                                ? fmt::format(" against the ramp limit of {} kW per minute",
                                              Num(f.grid_ramp_limit_w / 1e3))
                                : " (no ramp limit given)";
  const std::string bursts = f.restart_bursts.size() == 1
                                 ? std::string("1 burst")
                                 : fmt::format("{} bursts", f.restart_bursts.size());
  if (!sc.site.life) {
    if (f.grid_ramp_limit_w > 0) text += "  restarts: none (no scheduler)\n";
  } else if (!f.ramps_measured) {
    text += fmt::format(
        "  restarts: {} of several jobs; ramps not measured: the tick is longer than 60 s\n",
        bursts);
  } else if (!steepest) {
    text += fmt::format("  restarts: no burst of several jobs within the horizon{}\n", limit);
  } else {
    text += fmt::format(
        "  restarts: {} of several jobs; the steepest raises facility power {} kW within a "
        "minute at t = {:g} h{}\n",
        bursts, Num(steepest->facility_1min.mw * 1e3), steepest->facility_1min.at_s / 3600, limit);
  }
  const bool shown = steepest && f.ramps_measured;
  j["restarts"] = {
      {"multi_job_bursts", sc.site.life ? ordered_json(f.restart_bursts.size()) : ordered_json()},
      {"ramps_measured", f.ramps_measured},
      {"steepest_facility_rise_1min_kW",
       shown ? ordered_json(steepest->facility_1min.mw * 1e3) : ordered_json()},
      {"at_s", shown ? ordered_json(steepest->facility_1min.at_s) : ordered_json()},
      {"grid_ramp_limit_kW_per_min",
       f.grid_ramp_limit_w > 0 ? ordered_json(f.grid_ramp_limit_w / 1e3) : ordered_json()}};
  const PricePeak price = PricePeakOf(f, c.price_peak_usd_per_mwh, c.forecast.step_s);
  if (price.limit > 0) {
    text += price.steps == 0
                ? fmt::format("  price: never above {} USD/MWh within the horizon\n", price.limit)
                : fmt::format(
                      "  price: {:g} h above {} USD/MWh, from t = {:g} h, up to {} USD/MWh; the "
                      "facility draws {} kW then\n",
                      price.hours, price.limit, price.first_s / 3600, Num(price.highest),
                      Num(price.mean_facility_w / 1e3));
    j["price_peak"] = {
        {"limit_USD_per_MWh", price.limit},
        {"hours_above", price.hours},
        {"first_at_s", price.steps > 0 ? ordered_json(price.first_s) : ordered_json()},
        {"highest_USD_per_MWh", price.steps > 0 ? ordered_json(price.highest) : ordered_json()},
        {"facility_power_kW",
         price.steps > 0 ? ordered_json(price.mean_facility_w / 1e3) : ordered_json()}};
  }
  j["findings"] = PeakFindings(f, grid, price);
  if (bt) {
    text += fmt::format(
        "backtest of facility power against {} at {} origins (h: {}), each horizon over the "
        "steps after the previous one; the twin's weather is off by sigma(L), alternating in "
        "sign by origin:\n",
        measured->from, bt->origins_s.size(), [&] {
          std::string s;
          for (double o : bt->origins_s)
            s += fmt::format("{}{:g}", s.empty() ? "" : ", ", o / 3600);
          return s;
        }());
    text += BacktestTable(*bt);
    j["backtest"] = BacktestJson(*bt);
    j["backtest"]["measured"] = measured->from;
  }
  const std::string body = txt::json_text(j) + "\n";
  if (!a.out.empty()) {
    std::vector<std::pair<std::string, std::string>> files = {
        {"forecast.csv", Csv(f)}, {"forecast.txt", text}, {"forecast.json", body}};
    std::vector<std::string> names;
    for (const auto& file : files) names.push_back(file.first);
    report::OutputSet set(a.out, names);
    for (const auto& [name, content] : files) {
      report::AtomicFile out(set.Stage(name));
      out.Write(content);
      out.Commit();
    }
    set.Commit();
  }
  std::cout << (a.json ? body : text);
  return kOk;
}

}  // namespace

Action RegisterForecast(CLI::App& app) {
  auto a = std::make_shared<ForecastArgs>();
  CLI::App* cmd = app.add_subcommand(
      "forecast",
      "Forecast the next 24-72 h of IT, facility and cooling power, PUE, water and the peak "
      "against the grid limit and the power chain's ratings, from the twin run forward under a "
      "weather forecast, with an interval; with measurements, backtest it against seasonal-naive "
      "and Holt-Winters baselines (docs/operations.md)");
  cmd->add_option("scenario", a->scenario, "Scenario YAML file of the site")
      ->required()
      ->check(NonEmptyScenarioPath(false));
  AddSetOption(cmd, a->sets);
  cmd->add_option("--db", a->db,
                  "Live store (firstwall ingest) whose facility power is the measurement; its "
                  "first sample is the scenario's time 0");
  cmd->add_option("--measured", a->measured,
                  "CSV of measurements: time_s and facility_power_W or facility_power_kW "
                  "(firstwall run's timeseries.csv reads as is)");
  cmd->add_option("--from", a->from,
                  "Origin of the forecast, scenario time on the step grid (default: the end of "
                  "the measurements, else 0 s)");
  cmd->add_option("--horizon", a->horizon, "Length of the forecast, 24 h to 72 h")
      ->capture_default_str();
  cmd->add_option("--weather", a->weather,
                  "Weather forecast: a CSV time_h,dry_bulb_C[,wet_bulb_C] of hours after the "
                  "origin, or an EPW file (default: the scenario's weather as a stand-in)");
  cmd->add_option("--step", a->step, "Step of the forecast, dividing a day")->capture_default_str();
  cmd->add_option("--weather-sigma", a->sigma_0,
                  "Dry-bulb forecast error at issue, K (1 sigma; an assumption)")
      ->capture_default_str();
  cmd->add_option("--weather-sigma-per-day", a->sigma_per_day,
                  "Growth of the dry-bulb forecast error per day of lead, K")
      ->capture_default_str();
  cmd->add_option("--anchor", a->anchor,
                  "Anchor the forecast's dry bulb to the one observed at the origin (with --db "
                  "the store's weather station, else the scenario's weather there), the offset "
                  "fading out over this long: 0 (not anchored), or 1 h to 6 h")
      ->capture_default_str();
  cmd->add_option("--price-peak", a->price_peak,
                  "Write a price_peak finding for the hours whose grid price is above this (e.g. "
                  "150USD/MWh; needs a site with an hourly tariff, site.tariff_file)");
  cmd->add_option("--out", a->out, "Also write DIR/forecast.csv, forecast.txt, forecast.json");
  cmd->add_flag("--json", a->json, "Print the JSON instead of the summary");
  return [a] { return Run(*a); };
}

}  // namespace firstwall::cli
