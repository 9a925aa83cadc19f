// The cluster's life in a scenario: `scheduler:`, `job_traces:`, `failures:` and the queue keys of
// each workload (tenant, priority, length in steps or tokens, placement, checkpoint_every: auto)
// into SiteConfig::life. Internal to the loader.
#pragma once

#include <string>
#include <vector>

#include "scenario/reader.h"
#include "scheduler/scheduler.h"
#include "site/site_config.h"

namespace firstwall::scenario {

// Without `scheduler:`, refuses the keys that need it (they would be silently ignored). With it,
// fills cfg.life from the scheduler, traces and failures sections and one JobSpec per workload
// (cfg.jobs, read already, in the order of `workloads`).
void ReadLife(const Section& root, const std::vector<Section>& workloads,
              const std::string& base_dir, site::SiteConfig& cfg);

// Why `job` could never start here, for an error or a trace's summary: more nodes than the cluster
// less its spare nodes, more than one group of its required placement level, or more GPUs than its
// tenant may ever hold. Empty when `sched` admits it.
std::string NeverFits(const scheduler::JobSpec& job, const scheduler::Scheduler& sched,
                      const scheduler::Topology& topology,
                      const scheduler::SchedulerConfig& config);

}  // namespace firstwall::scenario
