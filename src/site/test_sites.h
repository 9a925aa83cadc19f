// Shared by the site's tests: a small cluster with round figures, so hand-computed powers stay
// simple (an idle GPU draws 100 W, a busy one up to 700 W, every node 1 kW besides its GPUs).
#pragma once

#include "site/site_config.h"

namespace firstwall::site {

// `nodes` nodes of 8 GPUs, two per rack, 400 Gb/s NICs; a PSU stage (95%, 50 W fixed) and a UPS
// stage (90%), cooling at a constant COP of 4; a 1 s tick. No jobs, no duration.
inline SiteConfig BareTestSite(int nodes) {
  using namespace units;
  SiteConfig c;
  c.name = "test";
  c.cluster.gpu.name = "G";
  c.cluster.gpu.peak_dense[hardware::DataType::kBf16] = TeraflopPerSecond(1000);
  c.cluster.gpu.hbm_capacity = Gigabytes(80);
  c.cluster.gpu.hbm_bandwidth = TerabytesPerSecond(3);
  c.cluster.gpu.tdp = Watts(700);
  c.cluster.gpu.idle_power = Watts(100);
  c.cluster.gpu.nvlink_bandwidth = GigabytesPerSecond(900);
  c.cluster.nodes = nodes;
  c.cluster.gpus_per_node = 8;
  c.cluster.nodes_per_rack = 2;
  c.cluster.node_base_power = Watts(1000);
  c.cluster.gpu_power_cap = Watts(700);
  c.cluster.nic_bandwidth = GigabitsPerSecond(400);
  c.cluster.link_latency = Microseconds(5);
  c.facility.power_chain = {{"psu", 0.95, Watts(50), Watts(0)}, {"ups", 0.9, Watts(0), Watts(0)}};
  c.facility.cooling.constant_cop = 4.0;
  c.tick = SimTime::From(Seconds(1));
  return c;
}

}  // namespace firstwall::site
