// The site's side of the cluster's life (site/life_config.h, src/scheduler).
#pragma once

#include "scheduler/topology.h"
#include "site/site_config.h"

namespace firstwall::site {

// The scheduler's view of the cluster: its nodes, NVLink domains, racks, and the leaf and pod
// groups of its fabric (network::Fabric::NodesPerLeaf, NodesPerPod).
scheduler::Topology TopologyFor(const SiteConfig& config);

}  // namespace firstwall::site
