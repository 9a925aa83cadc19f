// The site's side of the cluster's life (site/life_config.h, src/scheduler): the queue decides who
// runs where and when, the site runs what it is given, and each tells the other what it sees.
//
// LifeHost is the scheduler::Host of a Site. The queue's jobs start on the nodes it chose as site
// jobs (training jobs from their workload's setup, trace jobs as model-less jobs at their GPU
// activity). Queue to site:
//   - a checkpoint write, a restart's reload and warm-up, and the hang before a failure is
//     detected stall the job's GPUs at idle;
//   - a checkpoint write and a restart's reload (the same bytes read back; not its warm-up) go over
//     cluster.storage_network, shared max-min with every other writer (Site::SetJobStorageIo);
//   - a PDU failure (and a CDU failure with cdu_stops) darkens its racks until repaired: they draw
//     nothing (Site::SetRacksPowered);
//   - a throttling CDU failure power-limits its racks' GPUs to kCduThrottleShareOfTdp of TDP (not
//     below idle) until repaired (Site::SetRackGpuLimit), so the jobs there run slower;
//   - a spine failure takes the spine's links down in the fabric until repaired, as a scripted
//     `faults:` entry does (Site::SetLinkHealth), so the jobs crossing it slow down.
// Site to queue:
//   - each job's speed (its nominal step over its step on the fabric, under power limits and
//     throttling) becomes ClusterLife::SetSpeed: progress, end and slowdown badput follow physics;
//   - each writer's storage rate over its rate alone becomes ClusterLife::SetIoSpeed: two jobs
//     writing at once each take longer than one alone (the queue still ends the write);
//   - a job the site stops by itself (a tripped unit of the power chain, a thermal shutdown)
//     reaches the queue as ClusterLife::HostStopped, an interruption of that job, and a tripped
//     unit's racks as ClusterLife::HostNodesLost (a trip is never reset), from an event at the
//     same instant (the site's callbacks must not call back into it);
//   - a thermal shutdown also drains the job's nodes for kThermalDrain (ClusterLife::HostDrain),
//     so the queue does not restart work onto GPUs that just shut down.
// Leaf failures (cut from fabric) and node failures act through the queue alone: their jobs stop
// and their nodes leave the scheduler; the site sees the jobs stop.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <vector>

#include "core/event_queue.h"
#include "scheduler/cluster_life.h"
#include "scheduler/topology.h"
#include "site/flexibility.h"
#include "site/life_services.h"
#include "site/site.h"
#include "site/site_config.h"

namespace firstwall::site {

// The scheduler's view of the cluster: its nodes, NVLink domains, racks, and the leaf and pod
// groups of its fabric (network::Fabric::NodesPerLeaf, NodesPerPod).
scheduler::Topology TopologyFor(const SiteConfig& config);

// The site a queue runs on: `config` without its workloads (they are queued: `life` holds them).
SiteConfig SiteForLife(const SiteConfig& config);

class LifeHost final : public scheduler::Host {
 public:
  // `config` is the scenario's (with life set and its workloads); `site` was built from
  // SiteForLife(config) and has had ScheduleEvents(events) called. Schedules the queue's arrivals
  // and failures on `events`. All three must outlive this.
  LifeHost(const SiteConfig& config, Site& site, EventQueue& events);

  void Start(scheduler::JobId job, const std::vector<int>& nodes, SimTime now) override;
  void Stop(scheduler::JobId job, SimTime now) override;
  void SetPhase(scheduler::JobId job, scheduler::JobPhase phase, SimTime now) override;
  void OnFailure(const scheduler::Failure& failure, SimTime now) override;
  void OnRepair(const scheduler::Failure& failure, SimTime now) override;
  // Power- and carbon-aware scheduling (site/flexibility.h): the gate; true without it.
  bool MayStartFlexible(SimTime now) override;

  // The power limit of a throttling CDU's GPUs, as a share of TDP. An assumption, no published
  // figure: with its coolant distribution lost, a rack must shed heat its neighbours and the room
  // can carry; we take half of TDP (350 W on an H100 SXM, above its 200 W lowest settable limit),
  // never below the GPU's idle power. CduThrottleLimit() is the resulting per-GPU limit.
  static constexpr double kCduThrottleShareOfTdp = 0.5;
  units::Power CduThrottleLimit() const;

  // The services in the scheduler's pool (site/life_services.h); null when there are none.
  const ServicePool* pool() const { return pool_.get(); }
  // How long the nodes of a job stopped by a thermal shutdown stay out of the scheduler. An
  // assumption, no published figure: a GPU that reached its shutdown threshold is flagged by the
  // node's health check (DCGM, NHC) and the node drained until it has cooled and an operator or
  // automation returns it; we take 30 min. Without a drain the queue restarted the job onto the
  // same hot GPUs as soon as the stop was detected, a shutdown every detection + one window. The
  // nodes return even if the hall is still too hot (nothing here predicts the next shutdown), so
  // a hopeless hall costs one shutdown per drain, not per detection.
  static constexpr SimTime kThermalDrain = SimTime::FromNanoseconds(1'800'000'000'000);

  scheduler::ClusterLife& life() { return *life_; }
  const scheduler::ClusterLife& life() const { return *life_; }
  // The site job running the queue's job's current attempt (none while it does not run).
  std::optional<Site::JobId> SiteJob(scheduler::JobId job) const;
  // The gate and caps of flexible jobs; null without scheduler.flexibility.
  const FlexSite* flexibility() const { return flex_.get(); }

 private:
  const SiteConfig& config_;
  Site& site_;
  std::unique_ptr<FlexSite> flex_;  // before life_: the queue asks it from its first event
  std::unique_ptr<scheduler::ClusterLife> life_;
  std::unique_ptr<ServicePool> pool_;  // its replicas' Start, Stop and SetPhase go there
  std::vector<int64_t> site_job_;      // per queue job: its site job, -1 while it does not run
  std::vector<int64_t> queue_job_;     // per site job: its queue job
  // Failures in force, so overlapping ones change the site only at the first and the last.
  std::vector<int16_t> rack_unpowered_;  // per rack: PDU (or stopping CDU) failures
  std::vector<int16_t> rack_throttled_;  // per rack: throttling CDU failures
  std::map<int64_t, int> spine_down_;    // per failed spine: failures
  // The unit of the power chain that tripped last (its stage's name in the site's chain), for the
  // stops of its jobs that follow it.
  std::string_view trip_stage_;
  int64_t trip_unit_ = -1;
  // A failure (delta +1) or its repair (-1) on the site's physics.
  void Affect(const scheduler::Failure& failure, SimTime now, int delta);
};

}  // namespace firstwall::site
