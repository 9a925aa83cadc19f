// The queue and the placement: which pending jobs start now, on which nodes, and which running
// jobs give way. It holds no clock of its own and no physics: the cluster's life
// (scheduler/cluster_life.h) submits jobs, releases them when they end, fail or are preempted,
// marks nodes up and down, and asks for decisions after each change.
//
// Policies (SchedulerConfig::policy):
//   fcfs      first come, first served: the head of the queue blocks those behind it
//   priority  highest priority first (then submit order); a job that does not fit may preempt
//             running preemptible jobs of lower priority, lowest priority and latest start first,
//             when stopping them makes it fit
//   sjf       shortest nominal work first (then submit order), blocking like fcfs
//   easy      FCFS with EASY backfill (Lifka 1995; Mu'alem & Feitelson, IEEE TPDS 12(6), 2001): the
//             head gets a reservation at the earliest time enough nodes free up by the running
//             jobs' expected ends; a later job may start now if it fits and either ends (expected)
//             before the reservation or uses only nodes the head will not need
// Every job is a gang: all its nodes at once or none. A job needs ceil(gpus / gpus_per_node) whole
// nodes.
//
// Quotas follow Kueue's ClusterQueue model (kueue.sigs.k8s.io, "Cluster Queue"): each tenant has a
// nominal quota of GPUs; tenants of one cohort may borrow the cohort's unused nominal quota, up to
// the tenant's borrowing limit. A job whose tenant is over quota waits (it does not block others).
// Tenants without a declared quota are unlimited.
//
// Placement honours the job's PlacementRule (topology.h): all nodes in one group of the level
// when required, else the best-packed group that fits, else spread over the fewest groups. Among
// groups that fit, the one with the fewest free nodes left after placing wins (best fit, to keep
// large groups whole); ties go to the lowest group index, and inside a group the lowest free
// nodes, so a run is deterministic.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/sim_time.h"
#include "scheduler/job.h"
#include "scheduler/topology.h"

namespace firstwall::scheduler {

enum class Policy { kFcfs, kPriority, kSjf, kEasyBackfill };

struct TenantQuota {
  std::string tenant;
  int nominal_gpus = 0;
  std::string cohort;                       // empty: borrows from nobody, lends to nobody
  std::optional<int> borrowing_limit_gpus;  // none: may borrow all the cohort's unused quota
};

struct SchedulerConfig {
  Policy policy = Policy::kFcfs;
  std::vector<TenantQuota> quotas;
  // Nodes held back as spares: they take no new job until a failure takes a node out, then a spare
  // replaces it (so a failed job can restart at once on the same number of nodes).
  int spare_nodes = 0;
};

struct StartDecision {
  JobId job;
  std::vector<int> nodes;  // ascending
};

struct Decisions {
  std::vector<JobId> preempt;        // stop these first (they return to the queue)
  std::vector<StartDecision> start;  // then start these
};

class Scheduler {
 public:
  // `jobs` must outlive the scheduler; JobIds index it (it may grow between calls).
  Scheduler(const Topology& topology, SchedulerConfig config, const std::vector<JobSpec>& jobs);

  // A job joins the queue.
  void Submit(JobId job, SimTime now);
  // The job's nodes are free again (it ended, failed or was preempted). A preempted or failed job
  // that should run again is submitted again by the caller.
  void Release(JobId job);
  // Nodes taken out (failure, exclusion) or returned (repair). A running job's nodes going down
  // does not release it: the caller decides (a synchronous job stops).
  void SetNodeUp(int node, bool up);
  // When a running job is now expected to end (EASY's reservations use it).
  void SetExpectedEnd(JobId job, SimTime end);

  // Decides at `now` and applies the decisions to its own state (the returned jobs are running or
  // preempted from now on).
  Decisions Schedule(SimTime now);

  // Free GPUs on up nodes that no pending job can use now (each pending job considered alone:
  // too few free nodes in any group its rule allows, or its tenant out of quota), and the free
  // GPUs in all.
  int64_t FragmentedGpus() const;
  int64_t FreeGpus() const;
  int queued() const;
  int running() const;
  const std::vector<int>& NodesOf(JobId job) const;
};

}  // namespace firstwall::scheduler
