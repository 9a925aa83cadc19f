// `firstwall forecast`'s cost (docs/operations.md, "Forecasts"; issue #14's target: a 72 h
// forecast in under 5 s): the test site (tests/inputs/forecast-site.yaml: 192 H100s, two training
// jobs, an autoscaled inference service, the Leesburg EPW, a 1 min tick) forecast 72 h at 15 min
// steps with its interval (three twin runs), from the scenario's start and from day 4 (the twin
// runs from time zero, so a later origin costs the days before it too); the dashboard's hourly
// forecast from the twin kept at the hour before (ops::ForecastTwin), on day 1 and on day 6,
// which cost the same; and the backtest of three origins against a week of measurements.
#include <sys/resource.h>

#include <benchmark/benchmark.h>

#include "cpu_seconds.h"
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
    const ops::Forecast f = ops::RunForecast(Site().site, o);
    benchmark::DoNotOptimize(f.steps.data());
  }
}
BENCHMARK(BM_Forecast72h)->Arg(0)->Arg(4)->Unit(benchmark::kSecond)->Iterations(3);

using firstwall::bench::CpuSeconds;

// A 24 h forecast at 15 min steps from hour H (arg), the twin kept at hour H - 1 (made and stepped
// there outside the timing): an hour of the scenario in this process and the three runs in child
// processes, whose CPU (children_cpu_s, RUSAGE_CHILDREN) the process CPU time does not count.
void BM_HourlyForecastKept(benchmark::State& state) {
  const double from_s = static_cast<double>(state.range(0)) * 3600;
  site::SiteConfig config = Site().site;
  config.duration = SimTime::From(units::Seconds(from_s + 48 * 3600));
  site::ServeOnce(config);
  ops::ForecastOptions o;
  o.horizon_s = 24 * 3600;
  o.band = false;
  double children_s = 0;
  for (auto _ : state) {
    state.PauseTiming();
    ops::ForecastTwin twin(config);
    o.from_s = from_s - 3600;
    twin.Run(o);
    o.band = true;
    o.from_s = from_s;
    const double before = CpuSeconds(RUSAGE_CHILDREN);
    state.ResumeTiming();
    const ops::Forecast f = twin.Run(o);
    benchmark::DoNotOptimize(f.steps.data());
    state.PauseTiming();
    children_s += CpuSeconds(RUSAGE_CHILDREN) - before;
    o.band = false;
    state.ResumeTiming();
  }
  state.counters["children_cpu_s"] =
      benchmark::Counter(children_s, benchmark::Counter::kAvgIterations);
}
BENCHMARK(BM_HourlyForecastKept)
    ->Arg(24)
    ->Arg(144)
    ->Unit(benchmark::kSecond)
    ->MeasureProcessCPUTime()
    ->Iterations(2);

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
    const ops::Backtest bt = ops::RunBacktest(Site().site, m, {}, "--measured");
    benchmark::DoNotOptimize(bt.methods.data());
  }
}
BENCHMARK(BM_Backtest3Origins)->Unit(benchmark::kSecond)->Iterations(1);

}  // namespace

BENCHMARK_MAIN();
