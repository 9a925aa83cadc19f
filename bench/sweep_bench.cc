// The cost of the sweep machinery beyond the simulation itself (docs/sweep.md): one small point
// (the default hall cut to 2 nodes training Llama 3 8B for 10 minutes) run directly (load,
// Simulate, summary JSON) and through a sweep of identical points (read the sweep, validate every
// point, make its overrides, load, Simulate, make its row, append it to the journal, write the
// tables), on 1 and 2 threads. Counter: points per second (of CPU time for the single points, of
// wall time for the sweeps); the overhead per point is the difference of the inverses. With one
// thread the sweep runs on the calling thread, so its CPU column is the whole sweep's CPU time:
// on a shared machine, compare CPU times.
#include <benchmark/benchmark.h>

#include <filesystem>

#include "report/outputs.h"
#include "report/simulate.h"
#include "scenario/overrides.h"
#include "study/point_runner.h"
#include "study/sweep.h"
#include "study/sweep_results.h"

namespace firstwall::study {
namespace {

const std::vector<scenario::Override> kSmall = {
    {"cluster.nodes", "2", {}},
    {"workloads[0].gpus", "16", {}},
    {"workloads[0].model", "llama3-8b", {}},
    {"simulation.duration", "10 min", {}},
    {"power_swings.start", "1 min", {}},
};

std::string SweepText(int points) {
  return "firstwall_sweep: 1\n"
         "set:\n"
         "  cluster.nodes: 2\n"
         "  workloads[0].gpus: 16\n"
         "  workloads[0].model: llama3-8b\n"
         "  simulation.duration: 10 min\n"
         "  power_swings.start: 1 min\n"
         "replicas: " +
         std::to_string(points) + "\n";
}

void BM_PointDirect(benchmark::State& state) {
  for (auto _ : state) {
    const scenario::Scenario sc =
        scenario::LoadScenarioText(scenario::DefaultScenarioText(), scenario::kDefaultScenarioName,
                                   scenario::kBuiltinDir, kSmall);
    benchmark::DoNotOptimize(report::SummaryJson(report::Simulate(sc.site, sc.file)));
  }
  state.counters["points_per_s"] =
      benchmark::Counter(1, benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_PointDirect)->Unit(benchmark::kMillisecond);

// The scenario load alone: what validating every point adds.
void BM_PointLoadOnly(benchmark::State& state) {
  for (auto _ : state) {
    benchmark::DoNotOptimize(scenario::LoadScenarioText(scenario::DefaultScenarioText(),
                                                        scenario::kDefaultScenarioName,
                                                        scenario::kBuiltinDir, kSmall));
  }
}
BENCHMARK(BM_PointLoadOnly)->Unit(benchmark::kMillisecond);

// state.range(0): points; state.range(1): threads.
void BM_Sweep(benchmark::State& state) {
  const int points = static_cast<int>(state.range(0));
  const int threads = static_cast<int>(state.range(1));
  const std::string dir =
      (std::filesystem::temp_directory_path() / ("fw_sweep_bench_" + std::to_string(getpid())))
          .string();
  for (auto _ : state) {
    const Sweep s = ReadSweepText(SweepText(points), "bench.yaml", "");
    ValidatePoints(s, threads);
    ResultStore store(dir, s, {}, false);
    std::vector<int64_t> todo(static_cast<size_t>(points));
    for (int i = 0; i < points; ++i) todo[static_cast<size_t>(i)] = i;
    RunPointsOnThreads(
        todo, threads, [&](int64_t p) { return RunPoint(s, p); },
        [&](int64_t p, const std::string& row) { store.Add(p, row); });
    benchmark::DoNotOptimize(store.Finish());
  }
  std::filesystem::remove_all(dir);
  state.counters["points_per_s"] =
      benchmark::Counter(points, benchmark::Counter::kIsIterationInvariantRate);
}
BENCHMARK(BM_Sweep)
    ->Args({8, 1})
    ->Args({8, 2})
    ->Args({32, 1})
    ->Args({32, 2})
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime();

}  // namespace
}  // namespace firstwall::study

BENCHMARK_MAIN();
