// What the cluster's life leaves in the outputs (scenario `scheduler:`): summary.json `scheduler`
// and `goodput`, the printed summary's queue and goodput lines, jobs.csv (one row per attempt) and
// events.csv (failures with the jobs they hit, repairs, preemptions, checkpoints, restarts,
// exclusions). Goodput follows scheduler/cluster_life.h (Google's ML goodput vocabulary).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "scheduler/cluster_life.h"

namespace firstwall::report {

// A queued job of the scenario's workloads, or, for traces, their totals.
struct LifeJob {
  std::string name, tenant;
  int gpus = 0;
  scheduler::JobLife life;
};

struct LifeSummary {
  std::string policy;  // "fcfs", "priority", "sjf", "easy"
  scheduler::SchedulerStats stats;
  scheduler::Goodput goodput;
  std::vector<LifeJob> workloads;   // the scenario's training jobs, in order
  std::vector<std::string> traces;  // what each trace kept and left out
  // Failures by component kind ("gpu", "leaf", ...), in kind order, with how many stopped a job.
  struct KindCount {
    std::string kind;
    int failures = 0;
    int hit_jobs = 0;
  };
  std::vector<KindCount> failures;
  // Failure records that stopped at least one job, and all the job stops they caused.
  int failures_hitting_jobs = 0;
};

// After ClusterLife::Finish. `workloads`: how many of life.jobs() are the scenario's workloads
// (they come first).
LifeSummary SummarizeLife(const scheduler::ClusterLife& life, scheduler::Policy policy,
                          size_t workloads, std::vector<std::string> traces);
nlohmann::ordered_json SchedulerJson(const LifeSummary& s);
nlohmann::ordered_json GoodputJson(const LifeSummary& s);
std::string LifeText(const LifeSummary& s);

// jobs.csv: job,tenant,attempt,gpus,nodes,submit_s,queued_s,start_s,end_s,wait_s,ended
std::string JobsCsv(const scheduler::ClusterLife& life);
// events.csv: time_s,event,job,component,index,cause,effect,first_node,nodes,repair_s,jobs_hit
// (jobs_hit: the jobs a failure stopped or slowed, separated by spaces).
std::string EventsCsv(const scheduler::ClusterLife& life);

}  // namespace firstwall::report
