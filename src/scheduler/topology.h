// Where a node sits: the levels a placement can ask to share, from the NVLink domain up to the
// whole cluster. Nodes are numbered 0..nodes-1; each level groups consecutive nodes:
//
//   NVLink domain  nodes_per_domain nodes (1 for an 8-GPU HGX node, 18 for an NVL72 rack of
//                  4-GPU trays)
//   rack           nodes_per_rack nodes (the power chain's rack)
//   leaf           nodes_per_leaf nodes: the nodes whose NICs share one leaf switch per rail in a
//                  rail-optimized fabric (network/fabric.h: a leaf serves one rail for its down
//                  ports)
//   pod            nodes_per_pod nodes: the leaves under one set of spines (the whole cluster in a
//                  two-tier fabric)
//   cluster        every node
//
// Levels need not nest exactly (a rack may straddle two leaves); a group is always the
// consecutive run [g x size, (g + 1) x size) clipped to the cluster.
#pragma once

#include <string_view>

namespace firstwall::scheduler {

enum class Level { kNvlinkDomain, kNode, kRack, kLeaf, kPod, kCluster };
inline constexpr int kLevels = 6;

std::string_view LevelName(Level l);  // "nvlink_domain", "node", "rack", "leaf", "pod", "cluster"

struct Topology {
  int nodes = 1;
  int gpus_per_node = 8;
  int nodes_per_domain = 1;
  int nodes_per_rack = 4;
  int nodes_per_leaf = 32;
  int nodes_per_pod = 1;  // set to `nodes` for one pod

  int gpus() const { return nodes * gpus_per_node; }
  // Nodes in one group of a level (kNode: 1; kCluster: nodes).
  int GroupSize(Level l) const;
  int GroupOf(Level l, int node) const { return node / GroupSize(l); }
  int Groups(Level l) const { return (nodes + GroupSize(l) - 1) / GroupSize(l); }
};

}  // namespace firstwall::scheduler
