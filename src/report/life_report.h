// What the cluster's life leaves in the outputs (scenario `scheduler:`): summary.json `scheduler`
// and `goodput`, the printed summary's queue and goodput lines, jobs.csv (one row per attempt) and
// events.csv (failures with the jobs they hit, repairs, preemptions, checkpoints, restarts,
// exclusions). Goodput follows scheduler/cluster_life.h (Google's ML goodput vocabulary).
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "report/restart_ramps.h"
#include "scheduler/cluster_life.h"

namespace firstwall::report {

// A queued job of the scenario's workloads, or, for traces, their totals.
struct LifeJob {
  std::string name, tenant;
  int gpus = 0;
  scheduler::JobLife life;
  // "completed", "running at the end", "queued at the end" (waiting to start or to restart),
  // "never started".
  std::string state;
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
  // Failures that hit at least one job (stopped it, or slowed it for a throttle).
  int failures_hitting_jobs = 0;
  // GPU-hours allocated but not requested: jobs take whole nodes, so a job smaller than its nodes
  // strands the rest (a 1-GPU trace pod holds 8 GPUs on an 8-GPU node).
  double stranded_gpu_h = 0;
  std::string failure_model;  // where the rates come from, and their scale; empty: no failures
  RestartRamps restarts;      // report/restart_ramps.h: restarts as power ramps at the meter
};

// After ClusterLife::Finish. `workloads`: how many of life.jobs() are the scenario's workloads
// (they come first).
LifeSummary SummarizeLife(const scheduler::ClusterLife& life, scheduler::Policy policy,
                          size_t workloads, std::vector<std::string> traces, int gpus_per_node,
                          std::string failure_model);
nlohmann::ordered_json SchedulerJson(const LifeSummary& s);
nlohmann::ordered_json GoodputJson(const LifeSummary& s);
std::string LifeText(const LifeSummary& s);

// jobs.csv: job,tenant,attempt,gpus,nodes,submit_s,queued_s,start_s,end_s,wait_s,ended
std::string JobsCsv(const scheduler::ClusterLife& life);
// events.csv: time_s,event,job,component,index,cause,effect,first_node,nodes,repair_s,jobs_hit
// (jobs_hit: the jobs a failure stopped or slowed, separated by ';'; cause of a preemption: the job
// it gave way to). The host's rows: host_stop
// and exclusion from a tripped unit of the power chain give its stage in `component` and its
// unit in `index`; drain and drain_end give first_node and nodes, a drain its length in repair_s.
std::string EventsCsv(const scheduler::ClusterLife& life);

}  // namespace firstwall::report
