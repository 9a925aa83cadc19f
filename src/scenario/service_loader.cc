#include "scenario/service_loader.h"

#include <algorithm>
#include <climits>

#include <fmt/format.h>

#include "scenario/life_loader.h"
#include "scheduler/scheduler.h"
#include "site/life.h"
#include "site/life_services.h"

namespace firstwall::scenario {

void ReadPooledServices(const Section& root, site::SiteConfig& cfg) {
  const std::vector<Section> services = root.List("services");
  if (!cfg.life) {
    for (const Section& v : services) {
      if (v.Has("priority")) {
        v.Fail("priority",
               fmt::format("'{}' is the replicas' place in a scheduler's queue, and there is no "
                           "scheduler",
                           v.Name("priority")),
               "add a 'scheduler:' section (policy: priority lets replicas preempt jobs), or "
               "leave priority out");
      }
    }
    return;
  }
  if (services.empty()) return;
  const site::LifeConfig& life = *cfg.life;
  if (cfg.swings.enabled) {
    root.Fail("power_swings",
              "power swings are not recorded for services in a scheduler's pool (their replicas' "
              "nodes change during the run)",
              "leave power_swings out, or run the services without 'scheduler:'");
  }
  int highest = INT_MIN;
  for (const scheduler::JobSpec& j : life.jobs) highest = std::max(highest, j.priority);
  // One above the highest job, within the schema's range for priorities (+-1,000,000).
  const int fallback = highest == INT_MIN ? 0 : std::min(highest + 1, 1'000'000);
  const scheduler::Topology topology = site::TopologyFor(cfg);
  const std::vector<scheduler::JobSpec> none;
  const scheduler::Scheduler sched(topology, life.scheduler, none);
  for (size_t k = 0; k < services.size(); ++k) {
    const Section& v = services[k];
    site::ServiceConfig& sc = cfg.services[k];
    sc.pool_priority = v.OptionalInt("priority").value_or(fallback);
    if (v.Has("sample_replicas")) {
      // The pool asks for each replica the autoscaler wants and re-runs the serving simulation at
      // the replicas granted: both count simulated replicas, which sampling rescales.
      v.Fail("sample_replicas",
             "sample_replicas is not supported for a service in a scheduler's pool (the pool "
             "requests and caps every replica of the fleet)",
             "leave sample_replicas out, or run the service without 'scheduler:'");
    }
    const scheduler::JobSpec replica = site::ReplicaSpec(sc, topology, SimTime(), 0);
    const std::string never = NeverFits(replica, sched, topology, life.scheduler);
    if (!never.empty()) {
      v.Fail(
          v.Has("pp") ? "pp" : "tp",
          fmt::format("a replica of service '{}' could never start: it {}", sc.setup.name, never));
    }
    const int64_t all = static_cast<int64_t>(sched.NodesNeeded(replica)) * sc.setup.replicas;
    if (all > topology.nodes - life.scheduler.spare_nodes) {
      v.Fail("replicas",
             fmt::format("service '{}' would need {} nodes for its {} replicas, more than the "
                         "cluster's {} less its {} spare nodes: they could never all be granted",
                         sc.setup.name, all, sc.setup.replicas, topology.nodes,
                         life.scheduler.spare_nodes),
             "fewer replicas (with autoscaling: the most that may run), or a larger cluster");
    }
  }
  if (life.scheduler.policy != scheduler::Policy::kPriority) {
    const Section s = root.Sub("scheduler");
    cfg.warnings.push_back(
        s.ValueAt("policy").ToString() + ": services' replicas under policy " +
        std::string(scheduler::PolicyName(life.scheduler.policy)) +
        " queue behind earlier jobs and preempt nothing; policy: priority lets them preempt");
  }
}

}  // namespace firstwall::scenario
