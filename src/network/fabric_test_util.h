// Fixtures shared by the network layer's tests.
#pragma once

#include <vector>

#include "network/fabric.h"
#include "units/quantity.h"

namespace firstwall::network::testing {

// HGX H100 nodes: 8 GPUs, NVLink 450 GB/s, one 400 Gb/s NIC a GPU.
inline FabricSpec H100Spec(int nodes) {
  FabricSpec s;
  s.nodes = nodes;
  s.gpus_per_node = 8;
  s.nvlink_per_gpu = units::GigabytesPerSecond(450);
  s.nic_per_gpu = units::GigabitsPerSecond(400);
  s.nvlink_latency = units::Microseconds(0.5);
  s.switch_latency = units::Microseconds(1);
  return s;
}

// GPUs 0 .. n-1.
inline std::vector<int> Range(int n) {
  std::vector<int> v(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) v[static_cast<size_t>(i)] = i;
  return v;
}

}  // namespace firstwall::network::testing
