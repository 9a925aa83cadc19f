// The queue and the placement: which pending jobs start now, on which nodes, and which running
// jobs give way. It holds no clock of its own and no physics: the cluster's life
// (scheduler/cluster_life.h) submits jobs, releases them when they end, fail or are preempted,
// marks nodes up and down, and asks for decisions after each change:
//   after an event: Submit / Release / SetNodeUp / SetExpectedEnd as it says, then
//   d = Schedule(now); stop d.preempt (already released here; Submit them again to requeue),
//   start d.start on their nodes.
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
// nodes, so a run is deterministic. Spreading takes the groups with the most free nodes first
// (fewest groups), the last one chosen best-fit for the remainder.
//
// Details and bounds (so that a decision costs what it touches, not the cluster's size):
//  - Queue order: fcfs and easy by (JobSpec::submit, id); sjf by (work, submit, id); priority by
//    (-priority, submit, id). A job submitted again after a failure or preemption keeps its
//    original place (JobSpec::submit): a restart is not sent to the back of the queue.
//  - fcfs, sjf and priority stop at the first job that is within quota and cannot start (after
//    preemption, for priority); jobs over quota are skipped.
//  - Preemption looks at no more than SchedulerConfig::max_preemption_candidates running jobs
//    (lowest priority, latest start first), adds them until the job fits, then drops again the
//    ones it does not need (latest added first). Quota is not freed by preemption: the job must be
//    within quota on its own. Kueue's reclaim (a lender preempting borrowers) is not modelled: a
//    lender whose quota is lent out waits for the borrowers to end.
//  - EASY: the reservation is counted at the head's required level (the group where enough nodes
//    free up first), or over the whole cluster when its rule is only preferred. A queued job's
//    expected length is its nominal work; a running job's is what SetExpectedEnd last said (start
//    + work before that; an end already past counts as now). The backfill scan looks at no more
//    than SchedulerConfig::backfill_max_jobs jobs behind the head and stops once no node is free.
//  - Incremental decisions: when nothing was released, no node went up or down and no expected
//    end moved since the last decision, and no new job sorts before the job that blocked last
//    time, every job examined then would be refused again (resources only shrank and time only
//    moved on), so only the jobs submitted since are examined (easy: as backfill candidates
//    against the kept reservation; the blocking policies: none, they queue behind the blocker).
//    A test checks that this decides exactly as full passes. One exception: under easy, a
//    candidate refused for taking nodes of a required head's group might, with fewer nodes free,
//    now be placed outside that group; it is looked at again at the next full pass.
//  - Quota is charged in GPUs of whole nodes (nodes x gpus_per_node): a 1-GPU job holds a whole
//    node. A job within its tenant's nominal quota still needs the cohort to have that many GPUs
//    unused (nominal sum minus usage), as Kueue admits.
//  - Spares: the last spare_nodes nodes start as spares. When a node that is not a spare goes
//    down, the first spare at or after it (else the lowest) becomes a regular node; a spare that
//    goes down leaves the pool. A node coming back up rejoins the pool while the pool is short of
//    spare_nodes, else it takes jobs, so spares drift to where failures were. Spares count
//    neither as free nor as fragmented GPUs.
//  - Index: a two-level bitset of free nodes and, per level, each group's free-node count with
//    groups bucketed by that count, so a node change costs O(levels) and best-fit finds its group
//    without scanning groups.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/sim_time.h"
#include "scheduler/job.h"
#include "scheduler/topology.h"

namespace firstwall::scheduler {

enum class Policy { kFcfs, kPriority, kSjf, kEasyBackfill };
inline constexpr int kPolicies = 4;
std::string_view PolicyName(Policy p);  // "fcfs", "priority", "sjf", "easy" (the scenario's words)

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
  // EASY: jobs behind the head examined per decision. Decisions come after every event, so the
  // bound is Slurm's for its per-event pass (SchedulerParameters default_queue_depth, 100), not
  // that of its periodic backfill (bf_max_job_test, 500). Jobs submitted since the last decision
  // are always examined.
  int backfill_max_jobs = 100;
  // priority: running jobs examined as victims per blocked job.
  int max_preemption_candidates = 256;
  // Incremental decisions (see above); false: every decision walks the queue from its start
  // (slower; the tests compare the two).
  bool incremental = true;
};

struct StartDecision {
  JobId job;
  std::vector<int> nodes;  // ascending
};

struct Decisions {
  std::vector<JobId> preempt;        // stop these first; the scheduler has released them, and the
                                     // caller submits them again if they should run again
  std::vector<JobId> preempted_for;  // parallel to preempt: the job each one gave way to
  std::vector<StartDecision> start;  // then start these
};

class Scheduler {
 public:
  // `jobs` must outlive the scheduler; JobIds index it (it may grow between calls).
  Scheduler(const Topology& topology, SchedulerConfig config, const std::vector<JobSpec>& jobs);
  ~Scheduler();
  Scheduler(Scheduler&&) noexcept;
  Scheduler& operator=(Scheduler&&) noexcept;

  // A job joins the queue (FW_CHECK: it is neither queued nor running, and Admissible). Its place
  // in the queue comes from its JobSpec (submit time, work, priority), not from `now`.
  void Submit(JobId job, SimTime now);
  // The job's nodes are free again (it ended, failed or was preempted). A preempted or failed job
  // that should run again is submitted again by the caller. Releasing a queued job withdraws it;
  // releasing a job that holds nothing (one Schedule already preempted) does nothing.
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
  // too few free nodes in any group its rule allows, or its tenant out of quota; zero when
  // nothing is queued: idle is not fragmented), and the free GPUs in all (spares excluded).
  // FragmentedGpus costs O(queue + groups), O(queue + free nodes) when several required levels
  // are pending (it stops at the first pending job that could take any free node), and is kept
  // until the free nodes, the queue or the running jobs change.
  int64_t FragmentedGpus() const;
  int64_t FreeGpus() const;
  int queued() const;
  int running() const;
  // The running job's nodes, ascending (empty when it is not running).
  const std::vector<int>& NodesOf(JobId job) const;

  // Whole nodes a job needs: ceil(gpus / gpus_per_node).
  int NodesNeeded(const JobSpec& job) const;
  // Whether the job could ever start here (all nodes up and free): no more nodes than the cluster
  // has outside the spares, no more than one group of its level when the level is required, and
  // no more GPUs than its tenant's nominal quota plus what it may borrow from its cohort.
  // Submit checks it (FW_CHECK); a caller reading input refuses such jobs with an InputError.
  bool Admissible(const JobSpec& job) const;
  // Packing score of a running job: the number of groups at its placement rule's level that its
  // nodes span (1 is perfectly packed; 0 when not running).
  int GroupsSpanned(JobId job) const;
  // Nodes held as spares now.
  int SpareNodes() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace firstwall::scheduler
