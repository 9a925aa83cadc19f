// `firstwall forecast` (docs/operations.md, "Forecasts"): the twin run forward on the scenario
// (its workloads, queue, services and their daily profiles) under a weather forecast, binned into
// steps after an origin, with an interval for each quantity.
//
// The twin runs from the scenario's time zero to origin + horizon: the queue's and the services'
// state at the origin is the simulated one (no state is read from a site). Before the origin the
// outdoor air is the scenario's weather; from the origin on it is the forecast: a CSV of hours
// after the origin (ReadForecastWeather), or the scenario's weather as a stand-in.
//
// The interval (ForecastOptions::band): the twin is run twice more with the forecast's dry bulb
// shifted by -z sigma(L) and +z sigma(L), sigma(L) = sigma_0 + sigma_per_day x L / 24 h the
// assumed standard deviation of a dry-bulb forecast L after its issue (WeatherError); for each
// quantity and step the interval is the least and the most of the three runs. It covers the
// weather forecast's error only: the IT load follows the scenario's queue as if it were known.
// With measurements, backtest.h's residual quantiles replace it (BacktestInterval).
#pragma once

#include <array>
#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "report/restart_ramps.h"
#include "report/stepped_run.h"
#include "site/site_config.h"

namespace firstwall::ops {

// One point of a weather forecast: hours after the origin, dry bulb and optional wet bulb (C).
struct WeatherPoint {
  double time_h = 0;
  double dry_bulb_c = 0;
  std::optional<double> wet_bulb_c;
};

// A forecast CSV: a header `time_h,dry_bulb_C` or `time_h,dry_bulb_C,wet_bulb_C`, then one row
// per time, times ascending from 0 (hours after the origin, any spacing; linear between rows),
// dry bulb in (-70, 70) C, wet bulb at most the dry bulb (+0.1 C) and above -70 C. InputError at
// path:line:col for anything else (a missing or extra field, a number that is not finite, times
// not ascending, no rows).
std::vector<WeatherPoint> ReadForecastWeather(const std::string& text, const std::string& path);

// The dry-bulb forecast's error: sigma(L) = sigma_0_k + sigma_per_day_k x L / 24 h. The defaults
// are an assumption (no verification statistics of a provider are used): about 1 K at issue,
// 2.5 K three days out.
struct WeatherError {
  double sigma_0_k = 1.0;
  double sigma_per_day_k = 0.5;
  double Sigma(double lead_s) const { return sigma_0_k + sigma_per_day_k * lead_s / 86400.0; }
};

// The relative humidity (fraction) at which thermal::WetBulb(dry) is `wet` (bisection, 0.01 to
// 1); clamped to that range.
double HumidityFromWetBulb(double dry_bulb_c, double wet_bulb_c);

// The scenario's weather before `from_s`, the forecast after it (hourly; the hour before the
// origin holds the scenario's value), over [0, from_s + horizon_s]. `forecast` empty: `stand_in`
// (another EPW) when given, else the scenario's weather. `shift_sigmas`: the dry bulb after the
// origin moved by that many sigma(L).
//
// Anchoring (`anchor_s` > 0): the site knows its dry bulb at the origin (`observed_c` when given,
// a live store's weather station; else the scenario's weather there, the twin's record of it), so
// the forecast's dry bulb at lead L is moved by the observed minus the forecast value at the
// origin, times max(0, 1 - L / anchor_s): the observation's offset fades out linearly and the
// forecast is taken as it is from `anchor_s` on. Observation- based nowcasts beat numerical weather
// models for the first 1 to 3 h of lead and the models are better beyond (meteoblue, "Nowcast",
// https://content.meteoblue.com/en/research-education/specifications/data-sources/post-processing/nowcast);
// 3 h is ForecastOptions' default.
thermal::Weather ForecastWeather(const thermal::Weather& scenario, double from_s, double horizon_s,
                                 const std::vector<WeatherPoint>& forecast,
                                 const thermal::Weather* stand_in, const WeatherError& error,
                                 double shift_sigmas, double anchor_s = 0,
                                 std::optional<double> observed_c = std::nullopt);
// The observed (`observed_c`, else the scenario's) minus the forecast dry bulb at the origin (K):
// what anchoring adds at lead 0.
double AnchorOffsetK(const thermal::Weather& scenario, double from_s,
                     const std::vector<WeatherPoint>& forecast, const thermal::Weather* stand_in,
                     const WeatherError& error, double shift_sigmas,
                     std::optional<double> observed_c = std::nullopt);

// The quantities forecast, in the order of the CSV's columns.
enum Quantity { kItPower, kItInputPower, kFacilityPower, kCoolingPower, kPue, kWater, kGridPower };
inline constexpr int kQuantities = 7;
// "it_power_kW", ... : the CSV column stem with its unit.
const char* QuantityColumn(int q);
const char* QuantityName(int q);  // "it_power", ... (JSON keys)

struct ForecastStep {
  double start_s = 0;  // scenario time
  double outdoor_c = 0;
  // Means over the step in W (powers), a ratio (PUE), L/s (water).
  std::array<double, kQuantities> value{}, lo{}, hi{};
  std::vector<double> stage_load_w;  // per power-chain stage: the most loaded unit's output
  double price_usd_per_mwh = 0;  // the tariff's grid price, mean over the step (Forecast::steps)
};

struct ForecastOptions {
  double from_s = 0;
  double horizon_s = 72 * 3600.0;
  double step_s = 900;
  std::vector<WeatherPoint> weather;         // empty: `stand_in`, else the scenario's weather
  std::optional<thermal::Weather> stand_in;  // another EPW as the forecast (the scenario's clock)
  std::string stand_in_name;
  WeatherError error;
  double z = 1.2816;  // sigmas either side: the 10 % and 90 % points of a normal error
  bool band = true;   // run the two extra runs for the interval (else lo = hi = value)
  // The twin's dry bulb after the origin shifted by this many sigma(L) (a backtest's simulated
  // forecast error); 0 for a forecast.
  double shift_sigmas = 0;
  // The forecast's first hours anchored to the dry bulb observed at the origin (ForecastWeather);
  // 0: not anchored.
  double anchor_s = 3 * 3600.0;
  // The dry bulb observed at the origin (C) and where it was read, when a live store's weather
  // station gave it; else the scenario's weather at the origin stands for it.
  std::optional<double> observed_c;
  std::string observed_from;
  // Also keep the steps of this long before the origin (Forecast::past; not before time zero):
  // the twin's hindcast, against which measurements give its recent bias.
  double lookback_s = 0;
};

struct StageRating {
  std::string name;
  double rating_w = 0;  // 0: unrated
};

struct Forecast {
  std::vector<ForecastStep> steps;
  std::vector<ForecastStep> past;  // ForecastOptions::lookback_s: the steps before the origin
  std::vector<StageRating> stages;
  double grid_limit_w = 0;  // 0: unrated
  // site.grid_ramp_limit: the largest rise of the draw within one minute, W; 0: unrated.
  double grid_ramp_limit_w = 0;
  // The central run's restart bursts of several jobs (report/restart_ramps.h) that begin within
  // the horizon, in time order: their facility rise within one minute against the ramp limit.
  std::vector<report::RestartBurst> restart_bursts;
  // Whether the ramps are measured: with a scheduler, at a tick of 60 s or less (a longer tick
  // cannot show a rise within a minute; restart_bursts' rises are then 0, not measured).
  bool ramps_measured = false;
  std::string weather_from;
  std::string interval_from;
  // Anchoring (ForecastOptions::anchor_s > 0): the dry bulb taken as observed at the origin, where
  // from, and the forecast's there, C (the central run's).
  double anchor_observed_c = 0, anchor_forecast_c = 0;
  std::string anchor_observed_from;
  bool water_modelled = false;  // the heat sink evaporates water (cooling tower)
};

// A quantity's peak over a forecast's steps: the greatest value, the start of its step (scenario
// time, s), and the greatest top of its interval over all the steps.
struct ForecastPeak {
  double value = 0, hi = 0, at_s = 0;
};
ForecastPeak PeakOf(const Forecast& f, int q);

// Runs the twin: 1 run of `config` (copied) from time zero, or 3 with the band, the band's two on
// threads of their own. Each run's windows end at every hour (Engine::CutEvery), so that a run
// kept at an hourly origin (ForecastTwin) gives the same steps. The services' serving simulations
// are run once for the three, unless every service of `config` already has one that reaches from
// + horizon (ServiceConfig::served), which is then used: the same bins, as the serving simulation
// is causal. FW_CHECK on options the CLI validates (from >= 0, horizon and step > 0).
Forecast RunForecast(const site::SiteConfig& config, const ForecastOptions& options);

// The twin kept at the last origin, for forecasts from origins that move forward (the dashboard's
// hourly forecast, serve/forecast_view.h): each Run steps the kept run on the scenario's weather
// from where it stands to the new origin, then runs the forecast's runs (the central one and the
// band's) from that state, each in a child process of its own: fork(2) copies the process, the
// kept run with it, so the runs start from the origin's state and the kept run stays there. An
// hourly forecast then costs an hour of the scenario plus its runs over the horizon, however old
// the store is; RunForecast replays the scenario from time zero each time.
//
// The same forecast as RunForecast(config, options) bit for bit, where the kept run was
// stopped only at whole hours before (ForecastTwin.TheSameForecastAsARunFromTimeZero): windows end
// at every hour in both.
//
// Linux only (fork, prctl). A child does nothing but its run and writes the result to a pipe, so
// forking a server's thread is safe: no lock the other threads hold is taken in the child. The
// children's CPU time is the parent's RUSAGE_CHILDREN, not its own.
class ForecastTwin {
 public:
  // `config`: the scenario's, its duration the furthest a forecast's end may reach (reach_s), its
  // services served through it (site::ServeOnce) when it has any.
  // `cancel`, when given and set (another thread may set it), ends a Run soon: the kept run's
  // stepping stops at its next window and the children are killed; Run then throws and the twin
  // is not to be used again. It must outlive this.
  explicit ForecastTwin(site::SiteConfig config, const std::atomic<bool>* cancel = nullptr);
  ~ForecastTwin();
  ForecastTwin(const ForecastTwin&) = delete;
  ForecastTwin& operator=(const ForecastTwin&) = delete;

  double origin_s() const;  // where the kept run stands (scenario time, s)
  double reach_s() const;   // the furthest a forecast may end
  // FW_CHECK: from >= origin_s(), from + horizon <= reach_s(), no look-back, horizon and step > 0.
  // Throws std::runtime_error when a child process cannot start or fails.
  Forecast Run(const ForecastOptions& options);

 private:
  const site::SiteConfig config_;
  report::SteppedRun::OnTick sink_;  // a child's bins (none in the parent)
  const std::atomic<bool>* cancel_;
  std::unique_ptr<report::SteppedRun> run_;
};

}  // namespace firstwall::ops
