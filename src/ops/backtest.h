// The forecast's backtest (docs/operations.md, "Forecasts"): at several origins, the twin's
// forecast of facility power and two baselines' (baselines.h: seasonal naive, additive
// Holt-Winters with a daily season) against measurements, with MAPE and CV(RMSE) per horizon.
//
// Measurements: facility power on a time axis in seconds of the scenario (time 0 = the scenario's
// start), from a CSV (ReadMeasuredCsv) or a live store (ReadMeasuredStore), averaged into the
// forecast's steps (steps without a sample are missing; a missing step of a baseline's history
// holds the last known value).
//
// The twin at an origin is RunForecast from that origin without its interval runs, its dry bulb
// after the origin shifted by sigma(L) (forecast.h's WeatherError), upward at the first origin,
// downward at the second, and so on: the forecast's simulated error, so that measurements made
// under the scenario's own weather (the tests' simulations) are not what the twin was given. The
// forecast is anchored to the dry bulb at the origin as RunForecast's is (`anchor_s`).
// `twin` is that forecast corrected by the twin's recent bias (RecentBias over the look-back
// before the origin, where the twin ran on the scenario's weather): p (1 + bias);
// `twin_uncorrected` is the run as it is.
//
// Per horizon H of `horizons_s` (ascending), the errors are over every origin's steps whose end
// lies after the previous horizon and at most H after the origin (1 h: the first hour; 6 h: hours
// 1 to 6; ...), where the measurement is known:
//   MAPE     = 100 / n x sum |m - p| / |m|                     (%)
//   CV(RMSE) = 100 x sqrt(sum (m - p)^2 / n) / mean(m)         (%; ASHRAE Guideline 14's with
//                                                               p = 0 parameters)
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "live/store.h"
#include "ops/baselines.h"
#include "ops/forecast.h"

namespace firstwall::ops {

struct MeasuredSeries {
  std::vector<double> t_s;         // scenario time of each sample, ascending
  std::vector<double> facility_w;  // W
  std::string from;                // where it was read (for people)
  int64_t zero_ms = 0;             // a store's: time 0 in ms since the Unix epoch; 0 for a CSV
};

// A CSV with a header naming `time_s` (seconds from the scenario's start) and a facility power
// column `facility_power_W` or `facility_power_kW` (`firstwall run`'s timeseries.csv, whose
// column is facility_power_kw, reads as is); other columns are ignored. InputError at
// path:line:col for a missing column, a row with too few fields, a value that is not a finite
// number, times not ascending, no rows.
MeasuredSeries ReadMeasuredCsv(const std::string& text, const std::string& path);

// The first series of entity `facility`, quantity `power` of a live store (ingest writes the
// emulator's firstwall_facility_power_watts there); its first sample is time 0 of the scenario
// (the emulator starts the scenario when it starts serving). InputError at `db` when the store
// has no such series or no finite sample.
MeasuredSeries ReadMeasuredStore(live::Store& store, const std::string& db);
// That series: the store's first of entity `facility`, quantity `power`; nullopt when none.
std::optional<live::SeriesInfo> FacilityPowerSeries(live::Store& store);

// Means of the samples in [k step, (k+1) step) for k < n; NaN where none.
std::vector<double> BinMeasured(const MeasuredSeries& m, double step_s, size_t n);

struct BacktestOptions {
  std::vector<double> horizons_s{3600, 6 * 3600, 24 * 3600, 48 * 3600, 72 * 3600};
  double horizon_s = 72 * 3600;  // each origin's forecast length (>= the last horizon)
  double step_s = 900;           // divides a day
  double history_s = 2 * 86400;  // the first origin (Holt-Winters needs two days)
  double every_s = 86400;        // between origins
  double lookback_s = 86400;     // the twin's bias is measured over this before each origin
  WeatherError error;
  double anchor_s = 3 * 3600.0;  // ForecastOptions::anchor_s
};

struct MethodErrors {
  std::string method;  // "twin", "twin_uncorrected", "seasonal_naive", "holt_winters"
  std::vector<double> mape_pct, cv_rmse_pct;  // per horizon; NaN without data
  std::vector<int> n;
};

struct Backtest {
  std::vector<double> origins_s;
  std::vector<double> horizons_s;
  std::vector<MethodErrors> methods;  // twin, twin_uncorrected, seasonal_naive, holt_winters
  std::vector<HoltWintersParams> holt_winters;  // the constants fitted at each origin
  std::vector<double> twin_bias;                // RecentBias at each origin
  // The twin's relative residual (m - p) / p per horizon: its 10 % and 90 % quantiles (linear
  // between order statistics), NaN without data; what RunForecast's facility interval becomes.
  std::vector<double> twin_q10, twin_q90;
};

// The origins of a backtest on `m`: history_s, then every every_s while origin + horizon_s is at
// most the last sample's time. InputError at `option` when there are none.
std::vector<double> BacktestOrigins(const MeasuredSeries& m, const BacktestOptions& o,
                                    const std::string& option);

// Runs the twin once per origin (RunForecast from time zero to origin + horizon_s).
Backtest RunBacktest(const site::SiteConfig& config, const MeasuredSeries& measured,
                     const BacktestOptions& options, const std::string& option);

// The twin's relative bias over `past` (steps of its hindcast) against the measurements binned on
// the same step grid from time 0: sum (m - p) / sum p over the steps with a measurement; 0 when
// none.
double RecentBias(const std::vector<ForecastStep>& past, const std::vector<double>& bins,
                  double step_s);

// The horizon index of a step ending `lead_s` after the origin; horizons.size() when past them.
size_t HorizonIndex(const std::vector<double>& horizons_s, double lead_s);

}  // namespace firstwall::ops
