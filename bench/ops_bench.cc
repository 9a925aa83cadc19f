// Issue #14's decision cycle on a 10,000-GPU site (bench/inference-fleet-10k.yaml, 60 s ticks):
// an hour of its telemetry in a store (every GPU's power, utilization and coolant temperature,
// every rack PDU and CDU, the facility meters) with CDU cdu-7 fouled by 3 K from 61 min; the
// cycle reads the store, learns each residual's thresholds on the first hour, watches the last
// 5 minutes, localizes, and routes each finding to its expert, whose plan is priced by a what-if
// of the next hour (two runs of the fleet: the baseline and the change). Target: under 10 s.
#include <benchmark/benchmark.h>

#include "ops/anomaly.h"
#include "ops/anomaly_test_support.h"
#include "ops/experts.h"

namespace firstwall::ops {
namespace {

constexpr const char* kFleet = "bench/inference-fleet-10k.yaml";

struct Fleet {
  scenario::Scenario sc;
  EmulatedStore e;
};

Fleet& FleetHour() {
  static Fleet f = [] {
    Fleet x{scenario::LoadScenarioFile(kFleet), {}};
    x.sc.site.duration = SimTime::From(units::Seconds(66 * 60));
    x.e = EmulateIntoStore(
        x.sc.site, kFleet,
        {live::ParseFault(
            "fouled_cdu=3:firstwall_cdu_supply_temperature_celsius{cdu=\"cdu-7\"}:61min:2h")},
        "/tmp/fw_ops_bench.db");
    return x;
  }();
  return f;
}

void BM_DecisionCycle10k(benchmark::State& state) {
  Fleet& f = FleetHour();
  AnomalyOptions a;
  a.calibrate_s = 3600;
  ExpertOptions x;
  x.scenario_path = kFleet;
  x.base = {scenario::Override{"simulation.duration", "1 h", {"bench", 0, 0}, false}};
  size_t findings = 0, plans = 0;
  for (auto _ : state) {
    const AnomalyReport r = DetectAnomalies(*f.e.store, f.sc.site, a);
    findings = r.findings.size();
    plans = 0;
    x.baseline.reset();  // each cycle prices its plans afresh
    for (const Finding& finding : r.findings) {
      const Recommendation rec = Advise(finding, FactsOf(f.sc.site), x);
      plans += rec.plan ? 1 : 0;
    }
    benchmark::DoNotOptimize(plans);
  }
  state.counters["samples"] = static_cast<double>(f.e.samples);
  state.counters["findings"] = static_cast<double>(findings);
  state.counters["plans"] = static_cast<double>(plans);
}
BENCHMARK(BM_DecisionCycle10k)->Unit(benchmark::kSecond)->Iterations(1);

}  // namespace
}  // namespace firstwall::ops

BENCHMARK_MAIN();
