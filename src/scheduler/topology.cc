#include "scheduler/topology.h"

#include <algorithm>

#include "core/error.h"

namespace firstwall::scheduler {

std::string_view LevelName(Level l) {
  switch (l) {
    case Level::kNvlinkDomain:
      return "nvlink_domain";
    case Level::kNode:
      return "node";
    case Level::kRack:
      return "rack";
    case Level::kLeaf:
      return "leaf";
    case Level::kPod:
      return "pod";
    case Level::kCluster:
      return "cluster";
  }
  return "?";
}

int Topology::GroupSize(Level l) const {
  int size = 1;
  switch (l) {
    case Level::kNvlinkDomain:
      size = nodes_per_domain;
      break;
    case Level::kNode:
      size = 1;
      break;
    case Level::kRack:
      size = nodes_per_rack;
      break;
    case Level::kLeaf:
      size = nodes_per_leaf;
      break;
    case Level::kPod:
      size = nodes_per_pod;
      break;
    case Level::kCluster:
      size = nodes;
      break;
  }
  FW_CHECK(size >= 1, "a topology level has no nodes");
  return std::min(size, nodes);
}

}  // namespace firstwall::scheduler
