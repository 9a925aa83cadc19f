#include "site/life.h"

#include "network/fabric.h"

namespace firstwall::site {

scheduler::Topology TopologyFor(const SiteConfig& config) {
  const ClusterConfig& c = config.cluster;
  const network::FabricSpec spec = FabricFor(config);
  scheduler::Topology t;
  t.nodes = c.nodes;
  t.gpus_per_node = c.gpus_per_node;
  t.nodes_per_domain = c.nvlink_domain() / c.gpus_per_node;
  t.nodes_per_rack = c.nodes_per_rack;
  t.nodes_per_leaf = network::Fabric::NodesPerLeaf(spec);
  t.nodes_per_pod = network::Fabric::NodesPerPod(spec);
  return t;
}

}  // namespace firstwall::site
