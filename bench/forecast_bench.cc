// `firstwall forecast`'s cost (docs/operations.md, "Forecasts"; issue #14's target: a 72 h
// forecast in under 5 s): the test site (tests/inputs/forecast-site.yaml: 192 H100s, two training
// jobs, an autoscaled inference service, the Leesburg EPW, a 1 min tick) forecast 72 h at 15 min
// steps with its interval (three twin runs), from the scenario's start and from day 4 (the twin
// runs from time zero, so a later origin costs the days before it too); and the backtest of
// three origins against a week of measurements.
#include <benchmark/benchmark.h>

#include "ops/backtest.h"
#include "ops/forecast.h"
#include "report/simulate.h"
#include "scenario/loader.h"

namespace {
using namespace firstwall;

const scenario::Scenario& Site() {
  static const scenario::Scenario sc =
      scenario::LoadScenarioFile("tests/inputs/forecast-site.yaml");
  return sc;
}

void BM_Forecast72h(benchmark::State& state) {
  ops::ForecastOptions o;
  o.from_s = static_cast<double>(state.range(0)) * 86400;
  o.horizon_s = 72 * 3600;
  for (auto _ : state) {
    const ops::Forecast f = ops::RunForecast(Site().site, Site().file, o);
    benchmark::DoNotOptimize(f.steps.data());
  }
}
BENCHMARK(BM_Forecast72h)->Arg(0)->Arg(4)->Unit(benchmark::kSecond)->Iterations(3);

void BM_Backtest3Origins(benchmark::State& state) {
  // The measurements: the site's own run (8 days at 1 min).
  ops::MeasuredSeries m;
  report::SimulateOptions so;
  so.on_tick = [&](const report::TickRow& r, int64_t n) {
    for (int64_t k = 0; k < n; ++k) {
      m.t_s.push_back(r.start.seconds() + static_cast<double>(k) * 60);
      m.facility_w.push_back(r.facility_w);
    }
  };
  report::Simulate(Site().site, Site().file, so);
  for (auto _ : state) {
    const ops::Backtest bt = ops::RunBacktest(Site().site, Site().file, m, {}, "--measured");
    benchmark::DoNotOptimize(bt.methods.data());
  }
}
BENCHMARK(BM_Backtest3Origins)->Unit(benchmark::kSecond)->Iterations(1);

}  // namespace

BENCHMARK_MAIN();
