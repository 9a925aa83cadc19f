// Inference services in the scheduler's pool (issue #11, "Jobs and queues"): with a scheduler,
// each service's replicas are jobs of the same queue as the training and trace jobs, so they take
// nodes from the same pool, wait for them, preempt for them and lose them to failures.
//
//   demand     the serving simulation (workload/serving.h) runs first, with every replica it
//              wants; ServingResult::replicas_held is its demand over time: constant `replicas`
//              over the service's lifetime without autoscaling, the autoscaler's replicas
//              (starting, serving or draining) with it. At each step the pool asks the queue for
//              the missing replicas, each a new job (ReplicaSpec: kind service, the service's
//              priority, not preemptible, no end, no checkpoints), or withdraws the surplus
//              (ClusterLife::Withdraw: replicas not granted yet first, then the latest granted),
//              whose nodes go back to the queue at once.
//   preemption under policy priority a replica that does not fit preempts running preemptible
//              jobs of lower priority, through the scheduler's own preemption: they lose their
//              work since their last checkpoint and queue again; a replica released later lets
//              them restart. Under fcfs, sjf and easy a replica queues like a job (by its
//              request time) and preempts nothing.
//   failures   a replica is a job to the failure model: a failure under any of its nodes stops
//              it (events.csv lists it among the jobs hit), it hangs through detection, queues
//              again, and reloads its weights (autoscale.spin_up) before it serves again. A
//              tripped unit of the power chain stops the replicas on its racks (NodesDark).
//   power      a replica holding nodes draws idle on them; one that serves (computing, not
//              reloading) draws one replica's share of the serving simulation's GPU power above
//              idle in that bin (Site::SetServiceServing), on whatever nodes it was granted.
//   coupling   the serving simulation's latencies, SLO attainment and tokens assume the
//              replicas it wanted were there. Where the pool granted fewer (no room and nothing
//              preemptible, a failed replica recovering), the shortfall is reported
//              (ServicePoolStats), the power follows the granted replicas, and the serving
//              simulation runs again capped at the replicas granted (with_granted): one step, not
//              a fixed point (its demand and power do not go back into the pool or the site).
//
// Replicas take whole nodes (the scheduler places whole nodes): a replica of fewer GPUs than a
// node holds a whole node, the rest idle. A replica that fits in one NVLink domain must be placed
// inside one. Replica jobs are not the queue's workloads: goodput, ETTR and the jobs' counts and
// waits leave them out (ClusterLife::goodput, stats); utilization and allocated GPU-hours count
// the nodes they hold.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/event_queue.h"
#include "scheduler/cluster_life.h"
#include "site/site.h"
#include "site/site_config.h"

namespace firstwall::site {

// A replica of a pooled service as the queue sees it: requested at `submit`, the `serial`-th of
// its service (its name is "<service>/r<serial>").
scheduler::JobSpec ReplicaSpec(const ServiceConfig& service, const scheduler::Topology& topology,
                               SimTime submit, int serial);

// What the pool gave a service over the run.
struct ServicePoolStats {
  std::string name;
  int priority = 0;
  double wanted_replica_h = 0;     // the serving simulation's replicas x time, in the run
  double granted_replica_h = 0;    // replicas serving (granted, not recovering) x time
  double shortfall_replica_h = 0;  // wanted - granted
  double short_s = 0;              // time with fewer replicas serving than wanted
  // Replicas holding granted nodes (serving or reloading) x time, and the GPU energy the site drew
  // for them (PlacedService::drawn_gpu_j: held GPUs at idle, serving replicas' share above).
  double held_replica_h = 0;
  double gpu_energy_j = 0;
  int wanted_peak = 0, granted_peak = 0;
  int replica_starts = 0;    // starts on granted nodes (first starts and restarts)
  int replica_failures = 0;  // replicas stopped by failures
  // Jobs its replicas preempted, and their GPUs x work lost since their last checkpoint.
  int preemptions_caused = 0;
  double preempted_lost_gpu_h = 0;
  // With a shortfall (not for disaggregated services): the serving simulation run again with its
  // replicas capped at those granted over time (ServiceSetup::replica_cap): the latencies, SLO
  // attainment and requests finished the granted replicas give. Its power is not the site's: the
  // site's follows the granted replicas with the first run's per-replica power.
  std::optional<workload::ServingResult> with_granted;
};

// Makes a pooled service's serving result report what the pool granted rather than what the
// serving simulation wanted: gpu_energy_j becomes the site's (pool.gpu_energy_j), replica_hours
// the replicas held, and the energy per output token uses the tokens the granted replicas finished
// (pool.with_granted) when there was a shortfall. Latencies and phases stay the first run's.
void ReportGranted(const ServicePoolStats& pool, workload::ServingResult& result);

class ServicePool {
 public:
  // The pooled services of `config` (ServiceConfig::pool_priority; Site::services() has them at
  // the same index), whose replicas `life` runs. Schedules their demand on `events`. All must
  // outlive this.
  ServicePool(const SiteConfig& config, Site& site, scheduler::ClusterLife& life,
              EventQueue& events);

  // Whether the queue's job is a replica of a pooled service.
  bool Owns(scheduler::JobId job) const;
  // The host's calls for a replica (scheduler::Host).
  void Start(scheduler::JobId job, const std::vector<int>& nodes, SimTime now);
  void Stop(scheduler::JobId job, SimTime now);
  void SetPhase(scheduler::JobId job, scheduler::JobPhase phase, SimTime now);

  // Racks [first_node, end_node) went dark by a tripped unit of the power chain: every replica
  // holding a node there stops (ClusterLife::HostStopped with `cause`), as the site's jobs there
  // do. Visits every replica the pool asked for (trips are rare: a unit stays tripped). From an
  // event, not inside a Host call.
  void NodesDark(int first_node, int end_node, SimTime now, std::string_view cause);

  // After ClusterLife::Finish(end). Runs the serving simulation again for each service that was
  // short (ServicePoolStats::with_granted).
  std::vector<ServicePoolStats> Stats(SimTime end) const;

 private:
  struct Service {
    size_t index = 0;  // in config.services and Site::services()
    std::vector<workload::ReplicaStep> demand;
    size_t next_step = 0;
    SimTime end;  // of its lifetime in the run
    int wanted = 0, serving = 0, held = 0;
    std::vector<scheduler::JobId> live;  // requested and not withdrawn, oldest first
    std::vector<scheduler::JobId> all;   // every replica job it asked for
    int serial = 0;
    // Integrated up to `since`.
    SimTime since;
    double wanted_s = 0, granted_s = 0, short_s = 0, held_s = 0;
    int wanted_peak = 0, granted_peak = 0, starts = 0;
    std::vector<workload::ReplicaStep> granted;  // replicas serving, from each step on
  };
  struct Replica {
    int32_t service = -1;  // -1: not a replica
    bool holding = false, serving = false;
    std::vector<int> nodes;  // held now, ascending (as the queue placed them)
  };

  void ScheduleNextStep(size_t k);
  void SetWanted(size_t k, int replicas, SimTime now);
  void Account(Service& s, SimTime now) const;
  void SetServing(Service& s, Replica& r, bool serving, SimTime now);

  const SiteConfig& config_;
  Site& site_;
  scheduler::ClusterLife& life_;
  EventQueue& events_;
  scheduler::Topology topology_;
  std::vector<Service> services_;
  std::vector<Replica> replicas_;  // by queue job id
};

}  // namespace firstwall::site
