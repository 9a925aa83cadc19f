#include "ops/forecast.h"

#include <fcntl.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <csignal>
#include <cstring>
#include <future>
#include <stdexcept>

#include <fmt/format.h>

#include "core/error.h"
#include "core/text_input.h"
#include "report/stepped_run.h"
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

// The twin's windows end at every hour, so that the run the dashboard keeps, stopped at each
// hourly origin, cuts the windows a run straight to its origin cuts (Engine::CutEvery).
constexpr SimTime kCutEvery = SimTime::FromNanoseconds(3'600'000'000'000);

size_t PastSteps(const ForecastOptions& o) {
  return static_cast<size_t>(std::floor(std::min(o.lookback_s, o.from_s) / o.step_s + 1e-9));
}

// A run's tick rows binned into the forecast's steps: the look-back's (whole steps before the
// origin, not before time zero), then the horizon's.
class StepBins {
 public:
  StepBins(const ForecastOptions& o, size_t n_stages, double tick_s)
      : step_s_(o.step_s),
        first_s_(o.from_s - static_cast<double>(PastSteps(o)) * o.step_s),
        tick_s_(tick_s),
        n_stages_(n_stages) {
    const size_t n = PastSteps(o) + static_cast<size_t>(std::ceil(o.horizon_s / o.step_s - 1e-9));
    steps_.resize(n);
    seconds_.assign(n, 0.0);
    sums_.resize(n);
    grid_.assign(n, 0.0);
    outdoor_.assign(n, 0.0);
    for (size_t i = 0; i < n; ++i) {
      steps_[i].start_s = first_s_ + static_cast<double>(i) * o.step_s;
      steps_[i].stage_load_w.assign(n_stages, 0.0);
    }
  }

  void Add(const report::TickRow& r, int64_t n) {
    for (int64_t k = 0; k < n; ++k) {
      const double t = r.start.seconds() + static_cast<double>(k) * tick_s_;
      if (t < first_s_ - 1e-9) continue;
      const auto i = static_cast<size_t>((t - first_s_) / step_s_ + 1e-9);
      if (i >= steps_.size()) continue;
      const double dt = r.seconds;
      seconds_[i] += dt;
      sums_[i][0] += r.it_w * dt;
      sums_[i][1] += r.it_input_w * dt;
      sums_[i][2] += r.facility_w * dt;
      sums_[i][3] += r.cooling_w * dt;
      sums_[i][4] += r.water_l_per_s * dt;
      grid_[i] += r.grid_w * dt;
      outdoor_[i] += r.outdoor_c * dt;
      std::vector<double>& load = steps_[i].stage_load_w;
      for (size_t s = 0; s < n_stages_ && s < r.stage_unit_peak_w.size(); ++s) {
        load[s] = std::max(load[s], r.stage_unit_peak_w[s]);
      }
    }
  }

  // Means over each step.
  std::vector<ForecastStep> Steps() const {
    std::vector<ForecastStep> steps = steps_;
    for (size_t i = 0; i < steps.size(); ++i) {
      const double d = seconds_[i] > 0 ? seconds_[i] : 1;
      auto& v = steps[i].value;
      v[kItPower] = sums_[i][0] / d;
      v[kItInputPower] = sums_[i][1] / d;
      v[kFacilityPower] = sums_[i][2] / d;
      v[kCoolingPower] = sums_[i][3] / d;
      v[kPue] = sums_[i][1] > 0 ? sums_[i][2] / sums_[i][1] : 0;
      v[kWater] = sums_[i][4] / d * 3600;  // L/s -> L/h
      v[kGridPower] = grid_[i] / d;
      steps[i].outdoor_c = outdoor_[i] / d;
      steps[i].lo = v;
      steps[i].hi = v;
    }
    return steps;
  }

 private:
  double step_s_, first_s_, tick_s_;
  size_t n_stages_;
  std::vector<ForecastStep> steps_;
  std::vector<double> seconds_;
  std::vector<std::array<double, 5>> sums_;  // it, it_input, facility, cooling, water
  std::vector<double> grid_, outdoor_;
};

// What one run of the forecast gives: its steps and, for the central run with a scheduler, its
// restart ramps.
struct RunResult {
  std::vector<ForecastStep> steps;
  std::optional<report::RestartRamps> restarts;
};

// A run standing at the origin (on the scenario's weather up to it) run on through the horizon on
// the forecast's weather shifted by `shift_sigmas`, then ended.
RunResult RunOn(report::SteppedRun& run, const StepBins& bins, const thermal::Weather& scenario,
                const ForecastOptions& o, double shift_sigmas) {
  run.site().SetWeather(ForecastWeather(scenario, o.from_s, o.horizon_s, o.weather,
                                        o.stand_in ? &*o.stand_in : nullptr, o.error, shift_sigmas,
                                        o.anchor_s, o.observed_c));
  run.AdvanceTo(SimTime::From(units::Seconds(o.from_s + o.horizon_s)));
  run.Finish();
  RunResult r;
  r.steps = bins.Steps();
  if (run.ramps()) r.restarts = run.ramps()->Finish();
  return r;
}

// One run of the twin from time zero, to the forecast's end. `base` has its services served
// through that end at least: the run's duration is their reach (at least the end), as the kept
// twin's is. A service's binned power is read up to its lifetime's end, which the duration caps
// (site::ServiceSetupIn), and the bins' edges (k x the tick in s, not exact) fall just past a whole
// hour: so the same reach gives the same last tick, to the bit.
RunResult RunOnce(const site::SiteConfig& base, const ForecastOptions& o, double shift_sigmas) {
  site::SiteConfig config = base;
  double reach_s = o.from_s + o.horizon_s;
  for (const site::ServiceConfig& sc : base.services) {
    FW_CHECK(sc.served && sc.served_until_s >= reach_s - 1e-9, "a forecast run's services served");
  }
  if (!base.services.empty()) {
    reach_s = std::min_element(base.services.begin(), base.services.end(),
                               [](const site::ServiceConfig& a, const site::ServiceConfig& b) {
                                 return a.served_until_s < b.served_until_s;
                               })
                  ->served_until_s;
  }
  config.duration = SimTime::From(units::Seconds(std::max(reach_s, o.from_s + o.horizon_s)));
  StepBins bins(o, config.facility.power_chain.size(), config.tick.seconds());
  report::SteppedRun run(
      config, [&bins](const report::TickRow& r, int64_t n) { bins.Add(r, n); }, kCutEvery);
  run.AdvanceTo(SimTime::From(units::Seconds(o.from_s)));
  return RunOn(run, bins, base.weather, o, shift_sigmas);
}

// The forecast from its runs: the central one's steps (the look-back's first) and restarts, the
// band's two runs' steps (none without the band).
Forecast Assemble(const site::SiteConfig& config, const ForecastOptions& o, RunResult central,
                  const std::vector<RunResult>& band) {
  Forecast f;
  f.steps = std::move(central.steps);
  if (central.restarts) {
    f.ramps_measured = central.restarts->measured();
    for (const report::RestartBurst& b : central.restarts->bursts) {
      // A burst decided just before the origin still ramps within the horizon.
      if (b.jobs > 1 && b.facility_1min.at_s >= o.from_s - 1e-9) f.restart_bursts.push_back(b);
    }
  }
  const auto n_past = static_cast<ptrdiff_t>(PastSteps(o));
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
    for (const RunResult& other : band) {
      for (size_t i = 0; i < f.steps.size(); ++i) {
        for (int q = 0; q < kQuantities; ++q) {
          f.steps[i].lo[q] = std::min(f.steps[i].lo[q], other.steps[i].value[q]);
          f.steps[i].hi[q] = std::max(f.steps[i].hi[q], other.steps[i].value[q]);
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

// The shifts of the forecast's runs: the central one, then the band's two.
std::vector<double> Shifts(const ForecastOptions& o) {
  if (!o.band) return {o.shift_sigmas};
  return {o.shift_sigmas, o.shift_sigmas - o.z, o.shift_sigmas + o.z};
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

Forecast RunForecast(const site::SiteConfig& config, const ForecastOptions& o) {
  FW_CHECK(o.from_s >= 0 && o.horizon_s > 0 && o.step_s > 0, "forecast options unchecked");
  // The runs differ in their weather only: the services' serving simulations (nine tenths of a
  // serving fleet's runs) are run once, for the runs' duration, and shared.
  site::SiteConfig served = config;
  served.duration = SimTime::From(units::Seconds(o.from_s + o.horizon_s));
  // A caller's serving simulations that reach the runs' end are kept (site_config.h,
  // served_until_s).
  if (!site::ServedThrough(served, served.duration.seconds())) site::ServeOnce(served);
  // The interval's two runs go on threads of their own beside the central one (each run is
  // independent: a run keeps no shared state, as the sweep's threads rely on); they keep no
  // look-back.
  ForecastOptions without_past = o;
  without_past.lookback_s = 0;
  const std::vector<double> shifts = Shifts(o);
  std::vector<std::future<RunResult>> band;
  for (size_t k = 1; k < shifts.size(); ++k) {
    band.push_back(std::async(std::launch::async, [&served, &without_past, shift = shifts[k]] {
      return RunOnce(served, without_past, shift);
    }));
  }
  RunResult central = RunOnce(served, o, shifts[0]);
  std::vector<RunResult> others;
  for (auto& run : band) others.push_back(run.get());
  return Assemble(config, o, std::move(central), others);
}

// ForecastTwin: the run kept at the last origin, and each forecast's runs in child processes.

namespace {

// A run's result through a pipe, as raw doubles (exact): 'O' then the counts and values, or 'E'
// then an error's text.
void PutDoubles(std::string& out, std::initializer_list<double> values) {
  for (double v : values) out.append(reinterpret_cast<const char*>(&v), sizeof v);
}

std::string Encode(const RunResult& r) {
  std::string out = "O";
  const size_t stages = r.steps.empty() ? 0 : r.steps[0].stage_load_w.size();
  PutDoubles(out, {static_cast<double>(r.steps.size()), static_cast<double>(stages)});
  for (const ForecastStep& s : r.steps) {
    PutDoubles(out, {s.start_s, s.outdoor_c});
    for (double v : s.value) PutDoubles(out, {v});
    for (double v : s.stage_load_w) PutDoubles(out, {v});
  }
  if (!r.restarts) {
    PutDoubles(out, {-1});
    return out;
  }
  const report::RestartRamps& rr = *r.restarts;
  PutDoubles(out, {static_cast<double>(rr.bursts.size()), rr.tick_s, rr.stagger_s,
                   static_cast<double>(rr.restarts)});
  for (const report::RestartBurst& b : rr.bursts) {
    PutDoubles(out, {b.at_s, static_cast<double>(b.jobs), static_cast<double>(b.gpus),
                     b.computing_first_s, b.computing_last_s});
    for (const report::Rise& x : {b.facility_1min, b.it_1min, b.facility_tick, b.it_tick}) {
      PutDoubles(out, {x.mw, x.at_s});
    }
  }
  return out;
}

class Decoder {
 public:
  explicit Decoder(const std::string& text) : text_(text) {}
  double Next() {
    FW_CHECK(at_ + sizeof(double) <= text_.size(), "a forecast run's result is cut short");
    double v;
    std::memcpy(&v, text_.data() + at_, sizeof v);
    at_ += sizeof v;
    return v;
  }
  size_t Count() { return static_cast<size_t>(Next()); }
  bool AtEnd() const { return at_ == text_.size(); }

 private:
  const std::string& text_;
  size_t at_ = 1;
};

RunResult Decode(const std::string& text) {
  FW_CHECK(!text.empty(), "a forecast run's process gave no result");
  if (text[0] == 'E') throw std::runtime_error(text.substr(1));
  FW_CHECK(text[0] == 'O', "a forecast run's result is not one");
  Decoder d(text);
  RunResult r;
  r.steps.resize(d.Count());
  const size_t stages = d.Count();
  for (ForecastStep& s : r.steps) {
    s.start_s = d.Next();
    s.outdoor_c = d.Next();
    for (double& v : s.value) v = d.Next();
    s.stage_load_w.resize(stages);
    for (double& v : s.stage_load_w) v = d.Next();
    s.lo = s.value;
    s.hi = s.value;
  }
  const double bursts = d.Next();
  if (bursts >= 0) {
    report::RestartRamps rr;
    rr.bursts.resize(static_cast<size_t>(bursts));
    rr.tick_s = d.Next();
    rr.stagger_s = d.Next();
    rr.restarts = static_cast<int>(d.Next());
    for (report::RestartBurst& b : rr.bursts) {
      b.at_s = d.Next();
      b.jobs = static_cast<int>(d.Next());
      b.gpus = static_cast<int64_t>(d.Next());
      b.computing_first_s = d.Next();
      b.computing_last_s = d.Next();
      for (report::Rise* x : {&b.facility_1min, &b.it_1min, &b.facility_tick, &b.it_tick}) {
        x->mw = d.Next();
        x->at_s = d.Next();
      }
    }
    r.restarts = std::move(rr);
  }
  FW_CHECK(d.AtEnd(), "a forecast run's result is longer than its counts");
  return r;
}

// Writes all of `text` to `fd` (a pipe): false when it could not.
bool WriteAll(int fd, const std::string& text) {
  for (size_t at = 0; at < text.size();) {
    const ssize_t n = ::write(fd, text.data() + at, text.size() - at);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    at += static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

ForecastTwin::ForecastTwin(site::SiteConfig config, const std::atomic<bool>* cancel)
    : config_(std::move(config)), cancel_(cancel) {
  run_ = std::make_unique<report::SteppedRun>(
      config_,
      [this](const report::TickRow& r, int64_t n) {
        if (sink_) sink_(r, n);
      },
      kCutEvery);
}

ForecastTwin::~ForecastTwin() = default;

double ForecastTwin::origin_s() const { return run_->now().seconds(); }
double ForecastTwin::reach_s() const { return config_.duration.seconds(); }

Forecast ForecastTwin::Run(const ForecastOptions& o) {
  FW_CHECK(o.from_s >= origin_s() && o.from_s + o.horizon_s <= reach_s() + 1e-9 &&
               o.horizon_s > 0 && o.step_s > 0 && o.lookback_s == 0,
           "a kept twin forecasts forward from where it stands, within its reach, no look-back");
  const auto cancelled = [this] { return cancel_ != nullptr && cancel_->load(); };
  run_->AdvanceTo(SimTime::From(units::Seconds(o.from_s)), [&](SimTime) {
    if (cancelled()) throw std::runtime_error("the forecast was stopped");
  });
  // Each run in a child process: a copy of this one's memory (fork), the kept run at the origin
  // among it, which the child runs on while this one stays there. The child does nothing but
  // the run and the pipe (no lock another thread may hold: the server's threads are not in it),
  // and ends with _exit (no destructor of the parent's objects runs twice).
  struct Child {
    pid_t pid;
    int fd;
  };
  std::vector<Child> children;
  // Every child started is read to its end and waited for before anything is judged: none is
  // left a zombie, whatever fails.
  std::vector<std::string> texts;
  std::string failure;
  bool killed = false;
  auto reap = [&] {
    for (const Child& c : children) {
      // Read with a timeout, so that a cancel is seen while a child runs: it kills them all (their
      // pipes then end).
      std::string text;
      char buf[1 << 16];
      while (true) {
        if (!killed && cancelled()) {
          for (const Child& k : children) ::kill(k.pid, SIGKILL);
          killed = true;
        }
        pollfd p{c.fd, POLLIN, 0};
        const int ready = ::poll(&p, 1, 250);
        if (ready == 0 || (ready < 0 && errno == EINTR)) continue;
        const ssize_t n = ready < 0 ? -1 : ::read(c.fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        text.append(buf, static_cast<size_t>(n));
      }
      texts.push_back(std::move(text));
      ::close(c.fd);
      int status = 0;
      while (::waitpid(c.pid, &status, 0) < 0 && errno == EINTR) {
      }
      if (failure.empty() && WIFSIGNALED(status)) {
        failure = fmt::format("a forecast run's process ended by signal {}", WTERMSIG(status));
      } else if (failure.empty() && (!WIFEXITED(status) || WEXITSTATUS(status) != 0)) {
        failure = "a forecast run's process could not write its result";
      }
    }
    children.clear();
    if (killed) failure = "the forecast was stopped";
  };
  const pid_t parent = ::getpid();
  for (double shift : Shifts(o)) {
    int fds[2];
    if (::pipe2(fds, O_CLOEXEC) != 0) {
      reap();
      throw std::runtime_error("cannot create a pipe for a forecast run");
    }
    const pid_t pid = ::fork();
    if (pid < 0) {
      ::close(fds[0]);
      ::close(fds[1]);
      reap();
      throw std::runtime_error("cannot start a process for a forecast run (fork failed)");
    }
    if (pid == 0) {
      ::close(fds[0]);
      // Not left running if the thread that forked it ends (the server killed meanwhile).
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(1);
      std::string out;
      try {
        StepBins bins(o, config_.facility.power_chain.size(), config_.tick.seconds());
        sink_ = [&bins](const report::TickRow& r, int64_t n) { bins.Add(r, n); };
        out = Encode(RunOn(*run_, bins, config_.weather, o, shift));
      } catch (const std::exception& e) {
        out = std::string("E") + e.what();
      }
      ::_exit(WriteAll(fds[1], out) ? 0 : 1);
    }
    ::close(fds[1]);
    children.push_back({pid, fds[0]});
  }
  reap();
  if (!failure.empty()) throw std::runtime_error(failure);
  std::vector<RunResult> results;
  for (const std::string& text : texts) results.push_back(Decode(text));
  RunResult central = std::move(results.front());
  results.erase(results.begin());
  return Assemble(config_, o, std::move(central), results);
}

}  // namespace firstwall::ops
