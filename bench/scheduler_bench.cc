// The scheduler alone on a cluster's life: 100,000 jobs arrive on 12,500 nodes (100,000 GPUs), or
// 1,000,000 jobs on 125,000 nodes (1,000,000 GPUs) at ten times the rate, and run to their end;
// Schedule is called after every arrival and every end, as the cluster-life driver does. Sizes
// follow the Alibaba GPU v2023 pod list (openb_pod_list_default.csv: 86% 1 GPU, 13% no GPU, the
// rest 2, 4 or 8: all one node here) for 97% of jobs, plus a tail of multi-node training gangs (2
// to 512 nodes) so that placement, reservations and preemption have work to do. Lengths are
// log-uniform from 1 minute to 1 day; the arrival rate offers 115% of the cluster, so the queue
// grows to thousands. Counters: events (arrivals + ends) per second, the longest queue.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <queue>
#include <tuple>
#include <vector>

#include "core/rng.h"
#include "scheduler/scheduler.h"

namespace firstwall::scheduler {
namespace {

std::vector<JobSpec> MakeJobs(int count, double jobs_per_s, uint64_t seed) {
  RngStream rng(seed, "scheduler_bench");
  std::vector<JobSpec> jobs;
  jobs.reserve(static_cast<size_t>(count));
  double t = 0;
  for (int i = 0; i < count; ++i) {
    t += rng.Exponential(1.0 / jobs_per_s);
    JobSpec j;
    j.submit = SimTime::FromNanoseconds(static_cast<int64_t>(t * 1e9));
    const double u = rng.Uniform();
    // Gang sizes in GPUs (8 a node): Alibaba's pods, then the training tail.
    j.gpus = u < 0.97    ? 1
             : u < 0.985 ? 16
             : u < 0.993 ? 64
             : u < 0.997 ? 256
             : u < 0.999 ? 1024
                         : 4096;
    const double work_s = 60.0 * std::pow(1440.0, rng.Uniform());
    j.work = SimTime::FromNanoseconds(static_cast<int64_t>(work_s * 1e9));
    j.priority = static_cast<int>(rng.Uniform() * 3);
    j.tenant = rng.Uniform() < 0.5 ? "research" : "product";
    if (j.gpus >= 64) j.placement = {Level::kLeaf, false};  // training: one leaf if it can
    if (j.gpus == 16) j.placement = {Level::kRack, rng.Uniform() < 0.5};
    jobs.push_back(j);
  }
  return jobs;
}

// state.range(0): policy; state.range(1): nodes.
void BM_SchedulerClusterLife(benchmark::State& state) {
  const auto policy = static_cast<Policy>(state.range(0));
  Topology topo;
  topo.nodes = static_cast<int>(state.range(1));
  topo.gpus_per_node = 8;
  topo.nodes_per_domain = 1;
  topo.nodes_per_rack = 4;
  topo.nodes_per_leaf = 32;
  topo.nodes_per_pod = 2048;
  // Offered load 1.15 of the nodes: a mean gang of 1.96 nodes x a mean length of 86,340 s /
  // ln(1440) = 11,876 s per job. 100,000 jobs (1,000,000 at 1M GPUs) span about 45 hours.
  const double scale = topo.nodes / 12'500.0;
  const double jobs_per_s = 1.15 * topo.nodes / (1.96 * 11'876.0);
  const std::vector<JobSpec> jobs = MakeJobs(static_cast<int>(100'000 * scale), jobs_per_s, 42);
  int64_t events = 0;
  int longest_queue = 0;
  for (auto _ : state) {
    SchedulerConfig cfg;
    cfg.policy = policy;
    cfg.spare_nodes = topo.nodes / 100;
    cfg.quotas = {{"research", static_cast<int>(topo.gpus() * 0.6), "lab", topo.gpus() / 5},
                  {"product", static_cast<int>(topo.gpus() * 0.4), "lab", std::nullopt}};
    Scheduler s(topo, cfg, jobs);
    using Ev = std::tuple<int64_t, int, JobId>;  // (time ns, 0 end / 1 arrival, job)
    std::priority_queue<Ev, std::vector<Ev>, std::greater<>> pending;
    for (JobId i = 0; i < static_cast<JobId>(jobs.size()); ++i)
      pending.push({jobs[i].submit.ns(), 1, i});
    std::vector<int64_t> ends(jobs.size(), -1);
    events = 0;
    longest_queue = 0;
    while (!pending.empty()) {
      const auto [t, kind, job] = pending.top();
      pending.pop();
      if (kind == 0) {
        if (ends[job] != t) continue;  // preempted since
        s.Release(job);
        ends[job] = -1;
      } else {
        s.Submit(job, SimTime::FromNanoseconds(t));
      }
      ++events;
      const Decisions d = s.Schedule(SimTime::FromNanoseconds(t));
      for (JobId p : d.preempt) {
        ends[p] = -1;
        s.Submit(p, SimTime::FromNanoseconds(t));
      }
      for (const StartDecision& st : d.start) {
        ends[st.job] = t + jobs[st.job].work.ns();
        pending.push({ends[st.job], 0, st.job});
      }
      longest_queue = std::max(longest_queue, s.queued());
    }
    benchmark::DoNotOptimize(s.FragmentedGpus());
  }
  state.counters["events"] = static_cast<double>(events);
  state.counters["events_per_s"] =
      benchmark::Counter(static_cast<double>(events) * static_cast<double>(state.iterations()),
                         benchmark::Counter::kIsRate);
  state.counters["longest_queue"] = longest_queue;
}
BENCHMARK(BM_SchedulerClusterLife)
    ->ArgNames({"policy", "nodes"})
    ->ArgsProduct({{static_cast<int>(Policy::kFcfs), static_cast<int>(Policy::kPriority),
                    static_cast<int>(Policy::kSjf), static_cast<int>(Policy::kEasyBackfill)},
                   {12'500, 125'000}})
    ->Unit(benchmark::kMillisecond)
    ->Iterations(1);

// FragmentedGpus() computed afresh with a queue of thousands on 12,500 nodes (required rack and
// leaf rules pending: the slowest case, every free node is checked).
void BM_SchedulerFragmentation(benchmark::State& state) {
  Topology topo;
  topo.nodes = 12'500;
  topo.nodes_per_leaf = 32;
  topo.nodes_per_pod = 2048;
  std::vector<JobSpec> jobs = MakeJobs(20'000, 1.0, 7);
  for (size_t i = 0; i < jobs.size(); ++i) {
    const bool rack = i % 2 == 0;
    jobs[i].placement = {rack ? Level::kRack : Level::kLeaf, true};
    jobs[i].gpus = std::min(jobs[i].gpus, rack ? 8 * 4 : 8 * 32);
  }
  Scheduler s(topo, {}, jobs);
  for (JobId i = 0; i < static_cast<JobId>(jobs.size()); ++i) s.Submit(i, jobs[i].submit);
  s.Schedule(SimTime());
  for (JobId i = 0; i < static_cast<JobId>(jobs.size()); i += 2) s.Release(i);  // holes
  // A node flips each time, so the cached answer is computed again.
  bool up = false;
  for (auto _ : state) {
    s.SetNodeUp(12'000, up);
    up = !up;
    benchmark::DoNotOptimize(s.FragmentedGpus());
  }
  state.counters["queued"] = s.queued();
}
BENCHMARK(BM_SchedulerFragmentation)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace firstwall::scheduler

BENCHMARK_MAIN();
