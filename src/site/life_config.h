// The cluster's life in a site (scenario `scheduler:`): the queue, the failures and the jobs that
// go through them (src/scheduler). Without it every workload runs on fixed nodes from its start.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/sim_time.h"
#include "scheduler/cluster_life.h"
#include "scheduler/failures.h"
#include "scheduler/scheduler.h"
#include "site/flexibility.h"

namespace firstwall::site {

// A failure at a given time; the site builds its blast radius from the topology.
struct ScriptedFailureConfig {
  scheduler::ComponentKind kind = scheduler::ComponentKind::kGpu;
  int64_t index = 0;
  SimTime at;
  SimTime repair;
};

struct LifeConfig {
  scheduler::SchedulerConfig scheduler;
  scheduler::ClusterLifeOptions options;  // scripted_failures: built by the site from `scripted`
  std::optional<scheduler::FailureModel> failures;  // none: only scripted failures
  std::vector<ScriptedFailureConfig> scripted;
  // Every job of the queue. Training jobs come first, one per SiteConfig::jobs entry
  // (JobSpec::workload indexes it); trace jobs follow, in submit order per trace.
  std::vector<scheduler::JobSpec> jobs;
  // What each trace kept and left out (scheduler::Describe), "file: ...", for the summary.
  std::vector<std::string> traces;
  // Where the failure rates come from and their scale, for the summary; empty: no failure model.
  std::string failure_model;
  // Power- and carbon-aware scheduling of the flexible jobs (site/flexibility.h); none: off.
  std::optional<FlexibilityConfig> flexibility;
};

}  // namespace firstwall::site
