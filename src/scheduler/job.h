// A job as the scheduler sees it: when it arrives, how much of the cluster it needs, how much work
// it has, who owns it and how it may be placed. The scheduler measures work in seconds at nominal
// speed (the job alone on a healthy cluster); the site tells it how fast each running job actually
// progresses (fabric contention, power caps, throttling), so a job's end follows the physics.
//
// LLM training jobs get their work from the training model (steps or tokens x step time); jobs
// from traces without a model carry a wall time and run at a constant GPU activity.
#pragma once

#include <cstdint>
#include <string>

#include "core/sim_time.h"
#include "scheduler/topology.h"

namespace firstwall::scheduler {

using JobId = int32_t;  // index into the scheduler's job list

// Placement rule: keep the job's nodes inside one group of `level`. Required: wait until such a
// group has room; preferred: take the best-packed group with room, else spread.
struct PlacementRule {
  Level level = Level::kCluster;
  bool required = false;
};

// Checkpointing of a training job. interval Never: no checkpoints (a failure loses everything
// since the start of the attempt); zero: the Young/Daly optimum from the job's failure rate and
// write time (reliability/checkpoint.h).
struct CheckpointPolicy {
  SimTime interval = SimTime::Never();
  SimTime write;  // the job stalls this long per checkpoint (nominal; the site's
                  // storage network may stretch it)
  // Reload + warm-up after a restart, before useful work resumes; Never: the cluster's default
  // (ClusterLifeOptions::restart_overhead). Zero is zero.
  SimTime restart_overhead = SimTime::Never();
};

enum class JobKind { kTraining, kBatch, kService };

struct JobSpec {
  std::string name;
  std::string tenant;  // quota owner (Kueue: the ClusterQueue it is submitted to)
  JobKind kind = JobKind::kBatch;
  SimTime submit;
  int gpus = 1;      // gang: all at once or nothing
  SimTime work;      // useful work at nominal speed (wall time alone on a healthy cluster)
  int priority = 0;  // higher runs first under the priority policy and may preempt lower
  bool preemptible = true;
  bool flexible = false;  // may be delayed or capped by power- and carbon-aware scheduling
  // When its work must be done (from time zero); Never: no deadline. Reported as met or missed
  // (SchedulerStats), and a flexible job is never held past deadline - work.
  SimTime deadline = SimTime::Never();
  PlacementRule placement;
  CheckpointPolicy checkpoint;
  double gpu_activity = 1.0;  // jobs without a model: constant activity (0 idle .. 1 TDP)
  int workload = -1;          // index of its training setup in the site config, -1: none
  int observed_restarts = 0;  // from the trace (Philly attempts - 1), reported beside ours
};

}  // namespace firstwall::scheduler
