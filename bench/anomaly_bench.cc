// Anomaly detection's throughput (docs/operations.md, "Anomalies"), to hold against ingest's
// (docs/live.md, "Performance"): samples of a stored site per second through DetectAnomalies (the
// store read, the twin, residuals, learned thresholds, k-sigma and CUSUM, localization), and the
// detectors alone per residual step; the server's watch a minute at a time.
#include <benchmark/benchmark.h>

#include <cmath>

#include "ops/anomaly.h"
#include "ops/anomaly_test_support.h"
#include "ops/anomaly_watch.h"

namespace firstwall::ops {
namespace {

constexpr const char* kHall = "tests/inputs/anomaly-hall.yaml";

struct Stored {
  scenario::Scenario sc;
  EmulatedStore e;
};

// Six hours of the test hall (32 GPUs, 10 s ticks), a slow GPU from the third.
Stored& Store6h() {
  static Stored s = [] {
    Stored x{scenario::LoadScenarioFile(kHall), {}};
    x.sc.site.duration = SimTime::From(units::Seconds(6 * 3600));
    x.e = EmulateIntoStore(
        x.sc.site, kHall,
        {live::ParseFault("slow_gpu=0.8:DCGM_FI_DEV_POWER_USAGE{Hostname=\"node2\",gpu=\"5\"}"
                          ":3h:6h")},
        "/tmp/fw_anomaly_bench.db");
    return x;
  }();
  return s;
}

void BM_DetectAnomaliesFromStore(benchmark::State& state) {
  Stored& s = Store6h();
  AnomalyOptions o;
  o.calibrate_s = 3600;
  size_t findings = 0;
  for (auto _ : state) {
    const AnomalyReport r = DetectAnomalies(*s.e.store, s.sc.site, o);
    findings = r.findings.size();
    benchmark::DoNotOptimize(findings);
  }
  state.SetItemsProcessed(state.iterations() * s.e.samples);
  state.counters["samples"] = static_cast<double>(s.e.samples);
  state.counters["findings"] = static_cast<double>(findings);
}
BENCHMARK(BM_DetectAnomaliesFromStore)->Unit(benchmark::kMillisecond);

// The server's detector (anomaly_watch.h) a minute at a time at the end of the six hours: what
// the dashboard spends each minute on a store of that age, where DetectAnomalies reads it all.
void BM_AnomalyWatchMinuteAfter6h(benchmark::State& state) {
  Stored& s = Store6h();
  const int64_t end_ms = s.e.epoch0_ms + 6 * 3'600'000;
  const int64_t minutes = 60;
  size_t findings = 0;
  for (auto _ : state) {
    state.PauseTiming();
    AnomalyWatch watch(s.sc.site, 3600);
    watch.Update(*s.e.store, end_ms - minutes * 60'000);
    state.ResumeTiming();
    for (int64_t m = minutes - 1; m >= 0; --m) {
      findings = watch.Update(*s.e.store, end_ms - m * 60'000).findings.size();
    }
    benchmark::DoNotOptimize(findings);
  }
  state.SetItemsProcessed(state.iterations() * minutes);  // items: updates, one a minute
  state.counters["findings"] = static_cast<double>(findings);
}
BENCHMARK(BM_AnomalyWatchMinuteAfter6h)->Unit(benchmark::kMillisecond);

// Learn on 360 steps and watch the rest, per residual step (what a stream adds per sample).
void BM_LearnAndWatch(benchmark::State& state) {
  std::vector<double> r(static_cast<size_t>(state.range(0)));
  for (size_t k = 0; k < r.size(); ++k) r[k] = std::sin(0.37 * static_cast<double>(k));
  for (auto _ : state) {
    const Thresholds t = Learn(std::span(r).first(360), 0.01);
    benchmark::DoNotOptimize(FirstAlarm(r, t, 360));
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_LearnAndWatch)->Arg(8640);

}  // namespace
}  // namespace firstwall::ops

BENCHMARK_MAIN();
