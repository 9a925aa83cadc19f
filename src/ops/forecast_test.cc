// The forecast's pieces (forecast.h, backtest.h): the weather CSV and its errors, the forecast
// weather around the origin, the twin's steps against its own simulation's books, the measured
// CSV, the horizon buckets.
#include "ops/forecast.h"

#include <gtest/gtest.h>

#include <cmath>

#include "core/error.h"
#include "ops/backtest.h"
#include "scenario/loader.h"
#include "site/site.h"
#include "thermal/psychrometrics.h"

namespace firstwall::ops {
namespace {

// The InputError's text for `text` read as a forecast weather file, "" when it reads.
std::string WeatherCsvError(const std::string& text) {
  try {
    ReadForecastWeather(text, "fc.csv");
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

std::string MeasuredError(const std::string& text) {
  try {
    ReadMeasuredCsv(text, "m.csv");
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

TEST(ForecastWeather, ReadsTheCsvAndNamesEachBadRowAtItsLineAndColumn) {
  const std::vector<WeatherPoint> p =
      ReadForecastWeather("time_h,dry_bulb_C,wet_bulb_C\n0,20,15\n1,22.5,16\n", "fc.csv");
  ASSERT_EQ(p.size(), 2u);
  EXPECT_EQ(p[1].time_h, 1);
  EXPECT_EQ(p[1].dry_bulb_c, 22.5);
  EXPECT_EQ(*p[1].wet_bulb_c, 16);
  EXPECT_FALSE(ReadForecastWeather("time_h,dry_bulb_C\n0,20\n", "f")[0].wet_bulb_c);

  EXPECT_NE(
      WeatherCsvError("time,dry_bulb_C\n0,20\n").find("fc.csv:1:1: error: column 1 is 'time'"),
      std::string::npos)
      << WeatherCsvError("time,dry_bulb_C\n0,20\n");
  EXPECT_NE(WeatherCsvError("time_h,dry_bulb_C\n0,20\n1,x\n").find("fc.csv:3:3: error: 'x' is not"),
            std::string::npos);
  EXPECT_NE(WeatherCsvError("time_h,dry_bulb_C\n0,20\n1,nan\n").find("fc.csv:3:3:"),
            std::string::npos);
  EXPECT_NE(WeatherCsvError("time_h,dry_bulb_C\n0,20\n0,21\n")
                .find("fc.csv:3:1: error: time 0 h "
                      "is not after 0 h"),
            std::string::npos);
  EXPECT_NE(WeatherCsvError("time_h,dry_bulb_C\n1,20\n").find("fc.csv:2:1: error: the first time"),
            std::string::npos);
  EXPECT_NE(WeatherCsvError("time_h,dry_bulb_C\n0,20,3\n").find("fc.csv:2:1: error: 3 fields"),
            std::string::npos);
  EXPECT_NE(WeatherCsvError("time_h,dry_bulb_C\n0,75\n").find("fc.csv:2:3: error: dry bulb 75 C"),
            std::string::npos);
  EXPECT_NE(WeatherCsvError("time_h,dry_bulb_C,wet_bulb_C\n0,20,25\n")
                .find("fc.csv:2:6: error: wet bulb 25 C"),
            std::string::npos);
  EXPECT_NE(WeatherCsvError("time_h,dry_bulb_C\n").find("no data rows"), std::string::npos);
  EXPECT_NE(WeatherCsvError("").find("no header"), std::string::npos);
}

TEST(ForecastWeather, HumidityFromWetBulbInvertsStull) {
  for (double rh : {0.2, 0.5, 0.9}) {
    const double wet = units::ToCelsius(thermal::WetBulb(units::Celsius(30), rh));
    EXPECT_NEAR(HumidityFromWetBulb(30, wet), rh, 1e-9);
  }
}

TEST(ForecastWeather, TheScenarioBeforeTheOriginAndTheForecastAfterIt) {
  // A scenario whose weather is a constant 20 C, 50 %; a forecast from 10 h of 30 C then 34 C at
  // 2 h after it.
  const thermal::Weather base(thermal::OutdoorConditions{units::Celsius(20), 0.5});
  const std::vector<WeatherPoint> fc{{0, 30, std::nullopt}, {2, 34, std::nullopt}};
  const WeatherError err{1.0, 0.5};
  auto at = [](const thermal::Weather& w, double hours) {
    return units::ToCelsius(w.At(SimTime::From(units::Seconds(hours * 3600))).dry_bulb);
  };
  const thermal::Weather w = ForecastWeather(base, 10 * 3600, 24 * 3600, fc, nullptr, err, 0);
  EXPECT_NEAR(at(w, 5), 20, 1e-9);
  EXPECT_NEAR(at(w, 9), 20, 1e-9);
  EXPECT_NEAR(at(w, 10), 30, 1e-9);
  EXPECT_NEAR(at(w, 11), 32, 1e-9);
  EXPECT_NEAR(at(w, 11.5), 33, 1e-9);  // linear between hours
  EXPECT_NEAR(at(w, 20), 34, 1e-9);    // held past the forecast's end
  // Shifted by one sigma: 1 K + 0.5 K x lead / 24 h; 24 h after the origin 1.5 K.
  const thermal::Weather up = ForecastWeather(base, 10 * 3600, 24 * 3600, fc, nullptr, err, 1);
  EXPECT_NEAR(at(up, 9), 20, 1e-9);
  EXPECT_NEAR(at(up, 10), 31, 1e-9);
  EXPECT_NEAR(at(up, 34), 35.5, 1e-9);
  // No forecast: the scenario's weather, shifted after the origin only.
  const thermal::Weather same = ForecastWeather(base, 10 * 3600, 24 * 3600, {}, nullptr, err, -2);
  EXPECT_NEAR(at(same, 9), 20, 1e-9);
  EXPECT_NEAR(at(same, 22), 20 - 2 * 1.25, 1e-9);
}

TEST(ForecastWeather, AnchoredToTheDryBulbObservedAtTheOrigin) {
  // The scenario (what was observed) is 20 C; the forecast says 30 C then 34 C at 2 h, shifted
  // by one sigma (1 K + 0.5 K x lead / 24 h): 31 C at the origin, 11 K above the observation.
  const thermal::Weather base(thermal::OutdoorConditions{units::Celsius(20), 0.5});
  const std::vector<WeatherPoint> fc{{0, 30, std::nullopt}, {2, 34, std::nullopt}};
  const WeatherError err{1.0, 0.5};
  auto at = [](const thermal::Weather& w, double hours) {
    return units::ToCelsius(w.At(SimTime::From(units::Seconds(hours * 3600))).dry_bulb);
  };
  const double h = 3600;
  const thermal::Weather w = ForecastWeather(base, 10 * h, 24 * h, fc, nullptr, err, 1, 4 * h);
  EXPECT_NEAR(at(w, 9), 20, 1e-9);
  EXPECT_NEAR(at(w, 10), 20, 1e-9);  // the observation itself
  // 1 h on: the forecast 32 C + 1.0208 K, less 3/4 of the 11 K offset.
  EXPECT_NEAR(at(w, 11), 32 + 1 + 0.5 / 24 - 0.75 * 11, 1e-9);
  EXPECT_NEAR(at(w, 13), 34 + 1 + 1.5 / 24 - 0.25 * 11, 1e-9);
  EXPECT_NEAR(at(w, 14), 34 + 1 + 2 / 24.0, 1e-9);  // from 4 h on, the forecast as it is
  // The scenario's own weather as the stand-in: only the shift is anchored away.
  const thermal::Weather same = ForecastWeather(base, 10 * h, 24 * h, {}, nullptr, err, -2, 4 * h);
  EXPECT_NEAR(at(same, 10), 20, 1e-9);
  EXPECT_NEAR(at(same, 12), 20 - 2 * (1 + 1 / 24.0) + 0.5 * 2, 1e-9);
  EXPECT_NEAR(at(same, 20), 20 - 2 * (1 + 10 / 48.0), 1e-9);
}

TEST(Forecast, StepsAreTheSimulationsBooksAndTheIntervalCoversTheWeatherOnly) {
  const scenario::Scenario sc = scenario::LoadScenarioFile("tests/inputs/forecast-site.yaml");
  ForecastOptions o;
  o.from_s = 6 * 3600;
  o.horizon_s = 24 * 3600;
  o.step_s = 3600;
  const Forecast f = RunForecast(sc.site, o);
  ASSERT_EQ(f.steps.size(), 24u);
  EXPECT_EQ(f.steps[0].start_s, 6 * 3600);
  EXPECT_EQ(f.steps[23].start_s, 29 * 3600);
  EXPECT_EQ(f.grid_limit_w, 400e3);
  ASSERT_EQ(f.stages.size(), 2u);
  EXPECT_EQ(f.stages[1].rating_w, 350e3);
  EXPECT_TRUE(f.water_modelled);
  for (const ForecastStep& s : f.steps) {
    const auto& v = s.value;
    // Facility = the chain's input + cooling; PUE its ratio to the IT input; no battery or
    // generation, so the grid carries the facility.
    EXPECT_NEAR(v[kPue], v[kFacilityPower] / v[kItInputPower], 1e-12);
    EXPECT_NEAR(v[kGridPower], v[kFacilityPower], 1e-6 * v[kFacilityPower]);
    // The rack PSUs (96 %) between the IT load and the IT input.
    EXPECT_GT(v[kItInputPower], v[kItPower] / 0.96 * 0.999);
    EXPECT_LT(v[kItInputPower], v[kItPower] / 0.96 * 1.001);
    // The interval: the weather moves cooling (and so facility) power, not the IT load.
    EXPECT_EQ(s.lo[kItPower], v[kItPower]);
    EXPECT_EQ(s.hi[kItPower], v[kItPower]);
    EXPECT_LE(s.lo[kCoolingPower], v[kCoolingPower]);
    EXPECT_GE(s.hi[kCoolingPower], v[kCoolingPower]);
    EXPECT_LT(s.lo[kCoolingPower], s.hi[kCoolingPower]);
    EXPECT_GT(v[kWater], 0);
  }
}

// The serving simulation is causal: run a day past the forecast's end (as the dashboard keeps it
// for its hourly forecasts) it gives the forecast, interval and all, to the last bit.
TEST(Forecast, AServingSimulationRunFurtherGivesTheSameForecast) {
  const scenario::Scenario sc = scenario::LoadScenarioFile("tests/inputs/forecast-site.yaml");
  ASSERT_FALSE(sc.site.services.empty());
  ForecastOptions o;
  o.from_s = 6 * 3600;
  o.horizon_s = 24 * 3600;
  o.step_s = 900;
  const Forecast fresh = RunForecast(sc.site, o);
  site::SiteConfig further = sc.site;
  further.duration = SimTime::From(units::Seconds(54 * 3600.0));
  site::ServeOnce(further);
  EXPECT_EQ(further.services[0].served_until_s, 54 * 3600.0);
  const Forecast reused = RunForecast(further, o);
  ASSERT_EQ(reused.steps.size(), fresh.steps.size());
  for (size_t i = 0; i < fresh.steps.size(); ++i) {
    for (int q = 0; q < kQuantities; ++q) {
      EXPECT_EQ(reused.steps[i].value[q], fresh.steps[i].value[q]) << i << " " << q;
      EXPECT_EQ(reused.steps[i].lo[q], fresh.steps[i].lo[q]) << i << " " << q;
      EXPECT_EQ(reused.steps[i].hi[q], fresh.steps[i].hi[q]) << i << " " << q;
    }
  }
  // One that stops short of the end is run again, not read past its end.
  site::SiteConfig shorter = sc.site;
  shorter.duration = SimTime::From(units::Seconds(12 * 3600.0));
  site::ServeOnce(shorter);
  const Forecast again = RunForecast(shorter, o);
  EXPECT_EQ(again.steps.back().value[kFacilityPower], fresh.steps.back().value[kFacilityPower]);
}

// The twin kept at the last origin (its runs in forked child processes) gives, at hourly origins it
// was stepped to one after another, the forecast of runs from time zero, to the last bit: the
// interval, the power chain's loads and the restart bursts too. A site with a daily profile and
// the weather, one whose PDU fails and restarts four jobs at once (1 s ticks), a service pool
// under a scheduler with failures.
TEST(ForecastTwin, TheSameForecastAsARunFromTimeZero) {
  struct Case {
    const char* file;
    std::vector<double> from_h;
    double horizon_h;
  };
  const Case cases[] = {{"tests/inputs/forecast-site.yaml", {0, 2, 3, 7}, 6},
                        {"tests/inputs/ops-restart-burst.yaml", {0, 1}, 1},
                        {"examples/service-pool.yaml", {1, 4, 5}, 4}};
  size_t bursts = 0;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.file);
    const scenario::Scenario sc = scenario::LoadScenarioFile(c.file);
    site::SiteConfig config = sc.site;
    config.duration = SimTime::From(units::Seconds(14 * 3600.0));
    if (!config.services.empty()) site::ServeOnce(config);
    ForecastTwin twin(config);
    EXPECT_EQ(twin.origin_s(), 0);
    EXPECT_EQ(twin.reach_s(), 14 * 3600.0);
    for (double from_h : c.from_h) {
      ForecastOptions o;
      o.from_s = from_h * 3600;
      o.horizon_s = c.horizon_h * 3600;
      o.step_s = 900;
      const Forecast kept = twin.Run(o);
      EXPECT_EQ(twin.origin_s(), o.from_s);  // it stays at the origin: the runs were the children's
      const Forecast fresh = RunForecast(config, o);
      ASSERT_EQ(kept.steps.size(), fresh.steps.size());
      ASSERT_EQ(kept.steps.size(), static_cast<size_t>(c.horizon_h * 4));
      for (size_t i = 0; i < fresh.steps.size(); ++i) {
        const ForecastStep& a = kept.steps[i];
        const ForecastStep& b = fresh.steps[i];
        EXPECT_EQ(a.start_s, b.start_s);
        EXPECT_EQ(a.outdoor_c, b.outdoor_c);
        EXPECT_EQ(a.price_usd_per_mwh, b.price_usd_per_mwh);
        EXPECT_EQ(a.stage_load_w, b.stage_load_w);
        for (int q = 0; q < kQuantities; ++q) {
          EXPECT_EQ(a.value[q], b.value[q]) << from_h << " h, step " << i << ", " << q;
          EXPECT_EQ(a.lo[q], b.lo[q]) << from_h << " h, step " << i << ", " << q;
          EXPECT_EQ(a.hi[q], b.hi[q]) << from_h << " h, step " << i << ", " << q;
        }
      }
      EXPECT_GT(fresh.steps[0].value[kFacilityPower], 0);
      EXPECT_EQ(kept.ramps_measured, fresh.ramps_measured);
      ASSERT_EQ(kept.restart_bursts.size(), fresh.restart_bursts.size());
      for (size_t k = 0; k < fresh.restart_bursts.size(); ++k) {
        EXPECT_EQ(kept.restart_bursts[k].at_s, fresh.restart_bursts[k].at_s);
        EXPECT_EQ(kept.restart_bursts[k].jobs, fresh.restart_bursts[k].jobs);
        EXPECT_EQ(kept.restart_bursts[k].facility_1min.mw,
                  fresh.restart_bursts[k].facility_1min.mw);
        EXPECT_EQ(kept.restart_bursts[k].it_tick.at_s, fresh.restart_bursts[k].it_tick.at_s);
      }
      bursts += fresh.restart_bursts.size();
    }
    // Back in time, or past its reach, is the caller's error.
    ForecastOptions back;
    back.from_s = 0;
    back.horizon_s = 3600;
    if (c.from_h.back() > 0) {
      EXPECT_THROW(twin.Run(back), InternalError);
    }
  }
  EXPECT_GE(bursts, 1u);  // the PDU's restart burst was compared
}

TEST(Backtest, MeasuredCsvReadsWattsOrKilowattsAndNamesBadRows) {
  const MeasuredSeries kw = ReadMeasuredCsv("time_s,x,facility_power_kw\n0,1,2.5\n60,1,3\n", "m");
  EXPECT_EQ(kw.facility_w, (std::vector<double>{2500, 3000}));
  const MeasuredSeries w = ReadMeasuredCsv("facility_power_W,time_s\n100,0\n", "m");
  EXPECT_EQ(w.facility_w, (std::vector<double>{100}));
  EXPECT_EQ(w.t_s, (std::vector<double>{0}));
  EXPECT_NE(MeasuredError("time,facility_power_W\n")
                .find("m.csv:1:1: error: the header has no "
                      "column time_s"),
            std::string::npos);
  EXPECT_NE(MeasuredError("time_s,facility_power_W\n0,1\n60,z\n").find("m.csv:3:4: error: 'z'"),
            std::string::npos);
  EXPECT_NE(MeasuredError("time_s,facility_power_W\n0,1\n0,2\n").find("m.csv:3:1: error: time 0"),
            std::string::npos);
  EXPECT_NE(MeasuredError("time_s,facility_power_W\n0\n").find("m.csv:2:1: error: 1 fields"),
            std::string::npos);
}

TEST(Backtest, BinsOriginsAndHorizons) {
  MeasuredSeries m;
  m.t_s = {0, 10, 20, 40, 70};
  m.facility_w = {1, 3, 5, 7, 9};
  const std::vector<double> bins = BinMeasured(m, 30, 4);
  EXPECT_EQ(bins[0], 3);
  EXPECT_EQ(bins[1], 7);
  EXPECT_EQ(bins[2], 9);
  EXPECT_TRUE(std::isnan(bins[3]));
  const std::vector<double> h{3600, 6 * 3600, 24 * 3600};
  EXPECT_EQ(HorizonIndex(h, 900), 0u);
  EXPECT_EQ(HorizonIndex(h, 3600), 0u);
  EXPECT_EQ(HorizonIndex(h, 3600 + 900), 1u);
  EXPECT_EQ(HorizonIndex(h, 24 * 3600), 2u);
  EXPECT_EQ(HorizonIndex(h, 25 * 3600), 3u);
  BacktestOptions o;
  o.horizon_s = 24 * 3600;
  MeasuredSeries week;
  week.t_s = {0, 5 * 86400.0};
  week.facility_w = {1, 1};
  // 2 d of history, then daily while the 24 h after fit: 2, 3 and 4 days.
  EXPECT_EQ(BacktestOrigins(week, o, "--measured"),
            (std::vector<double>{2 * 86400.0, 3 * 86400.0, 4 * 86400.0}));
  week.t_s.back() = 2.5 * 86400;
  EXPECT_THROW(BacktestOrigins(week, o, "--measured"), InputError);
}

}  // namespace
}  // namespace firstwall::ops
