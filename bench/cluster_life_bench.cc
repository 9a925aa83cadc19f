// The cluster's life standalone at the scale: one simulated year of a 100,000-GPU cluster
// (12,500 nodes of 8) with about a million jobs arriving and the Llama 3 failure table on, under
// EASY backfill; and a day of 1,000,000 GPUs. Time and peak memory:
// `/usr/bin/time -v build/bench/cluster_life_bench --benchmark_filter=Year`.
//
// The job mix is synthetic, shaped like the published GPU-cluster traces (most jobs small and
// short, a few large and long): 70% one node, 20% 2-8 nodes, 9% 16-64 nodes, 1% 128-1,024 nodes;
// lengths log-uniform from 5 min to 2 days (mean 7.5 h), so the offered load is about 60% of the
// cluster. Jobs of 16 nodes or more are training jobs that checkpoint at their Young/Daly
// interval (60 s writes); the others run without checkpoints.
#include <benchmark/benchmark.h>

#include <cmath>

#include "core/event_queue.h"
#include "core/rng.h"
#include "scheduler/cluster_life.h"

namespace firstwall::scheduler {
namespace {

SimTime Seconds(double s) { return SimTime::FromNanoseconds(std::llround(s * 1e9)); }

std::vector<JobSpec> JobsArriving(int count, double span_s, uint64_t seed) {
  RngStream rng(seed, "bench jobs");
  std::vector<JobSpec> jobs;
  jobs.reserve(static_cast<size_t>(count));
  double t = 0;
  const double mean_gap = span_s / count;
  for (int i = 0; i < count; ++i) {
    t += rng.Exponential(mean_gap);
    const double u = rng.Uniform();
    int nodes = 1;
    if (u >= 0.99) {
      nodes = 128 << (rng.NextU64() % 4);  // 128..1,024
    } else if (u >= 0.90) {
      nodes = 16 << (rng.NextU64() % 3);  // 16..64
    } else if (u >= 0.70) {
      nodes = 2 << (rng.NextU64() % 3);  // 2..8
    }
    JobSpec j;
    j.name = "j";
    j.tenant = "t";
    j.submit = Seconds(t);
    j.gpus = nodes * 8;
    j.work = Seconds(300 * std::exp(rng.Uniform() * std::log(576.0)));  // 5 min .. 2 days
    if (nodes >= 16) {
      j.kind = JobKind::kTraining;
      j.checkpoint.interval = SimTime();  // Young/Daly
      j.checkpoint.write = Seconds(60);
    }
    jobs.push_back(std::move(j));
  }
  return jobs;
}

void BM_ClusterLifeYear100kGpus(benchmark::State& state) {
  const int count = static_cast<int>(state.range(0));
  const double year_s = 365 * 86400.0;
  Topology t;
  t.nodes = 12500;
  t.gpus_per_node = 8;
  t.nodes_per_rack = 4;
  t.nodes_per_leaf = 32;
  t.nodes_per_pod = 12500;
  SchedulerConfig sc;
  sc.policy = Policy::kEasyBackfill;
  for (auto _ : state) {
    state.PauseTiming();
    std::vector<JobSpec> jobs = JobsArriving(count, year_s, 1);
    ClusterLifeOptions o;
    o.record_checkpoints = false;
    EventQueue q;
    state.ResumeTiming();
    ClusterLife life(t, sc, DefaultFailureModel(), std::move(jobs), 1, std::move(o), q);
    life.RunUntil(Seconds(year_s));
    const SchedulerStats s = life.stats();
    const Goodput g = life.goodput();
    state.counters["attempts"] = static_cast<double>(life.attempts().size());
    state.counters["completed"] = s.jobs_completed;
    state.counters["failures"] = s.failures;
    state.counters["interruptions"] = s.interruptions;
    state.counters["utilization"] = s.utilization;
    state.counters["wait_p50_s"] = s.wait_p50_s;
    state.counters["wait_p99_s"] = s.wait_p99_s;
    state.counters["ettr"] = g.ettr;
    state.counters["events"] = static_cast<double>(q.executed());
  }
}
BENCHMARK(BM_ClusterLifeYear100kGpus)->Arg(1'000'000)->Unit(benchmark::kSecond)->Iterations(1);

// A day of 1,000,000 GPUs (125,000 nodes) with jobs arriving at the same mix (the cluster fills
// over the day) and failing.
void BM_ClusterLifeDay1MGpus(benchmark::State& state) {
  const int count = static_cast<int>(state.range(0));
  const double day_s = 86400.0;
  Topology t;
  t.nodes = 125000;
  t.gpus_per_node = 8;
  t.nodes_per_rack = 4;
  t.nodes_per_leaf = 32;
  t.nodes_per_pod = 125000;
  SchedulerConfig sc;
  sc.policy = Policy::kEasyBackfill;
  for (auto _ : state) {
    state.PauseTiming();
    std::vector<JobSpec> jobs = JobsArriving(count, day_s, 2);
    ClusterLifeOptions o;
    o.record_checkpoints = false;
    EventQueue q;
    state.ResumeTiming();
    ClusterLife life(t, sc, DefaultFailureModel(), std::move(jobs), 2, std::move(o), q);
    life.RunUntil(Seconds(day_s));
    const SchedulerStats s = life.stats();
    state.counters["attempts"] = static_cast<double>(life.attempts().size());
    state.counters["failures"] = s.failures;
    state.counters["interruptions"] = s.interruptions;
    state.counters["utilization"] = s.utilization;
    state.counters["events"] = static_cast<double>(q.executed());
  }
}
BENCHMARK(BM_ClusterLifeDay1MGpus)->Arg(50'000)->Unit(benchmark::kSecond)->Iterations(1);

// The failure process alone at a million GPUs over a year (about 170,000 failures).
void BM_FailureProcessYear1MGpus(benchmark::State& state) {
  Topology t;
  t.nodes = 125000;
  t.gpus_per_node = 8;
  for (auto _ : state) {
    FailureProcess p(t, DefaultFailureModel(), 1);
    int64_t n = 0;
    while (p.PeekTime() < Seconds(365 * 86400.0)) {
      benchmark::DoNotOptimize(p.Next());
      ++n;
    }
    state.counters["failures"] = static_cast<double>(n);
  }
}
BENCHMARK(BM_FailureProcessYear1MGpus)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace firstwall::scheduler

BENCHMARK_MAIN();
