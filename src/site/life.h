// The site's side of the cluster's life (site/life_config.h, src/scheduler): the queue decides who
// runs where and when, the site runs what it is given.
//
// LifeHost is the scheduler::Host of a Site. The queue's jobs start on the nodes it chose as site
// jobs (training jobs from their workload's setup, trace jobs as model-less jobs at their GPU
// activity); a checkpoint write, a restart's reload and warm-up, and the hang before a failure is
// detected stall the job's GPUs at idle; the site reports each job's speed (its nominal step over
// its step on the fabric, under power limits and throttling) back to the queue, so a job's progress
// and end follow the physics.
#pragma once

#include <memory>
#include <optional>
#include <vector>

#include "core/event_queue.h"
#include "scheduler/cluster_life.h"
#include "scheduler/topology.h"
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

  scheduler::ClusterLife& life() { return *life_; }
  const scheduler::ClusterLife& life() const { return *life_; }
  // The site job running the queue's job's current attempt (none while it does not run).
  std::optional<Site::JobId> SiteJob(scheduler::JobId job) const;

 private:
  const SiteConfig& config_;
  Site& site_;
  std::unique_ptr<scheduler::ClusterLife> life_;
  std::vector<int64_t> site_job_;   // per queue job: its site job, -1 while it does not run
  std::vector<int64_t> queue_job_;  // per site job: its queue job
};

}  // namespace firstwall::site
