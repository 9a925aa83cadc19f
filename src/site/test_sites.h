// Shared by the site's tests: a small cluster with round figures, so hand-computed powers stay
// simple (an idle GPU draws 100 W, a busy one up to 700 W, every node 1 kW besides its GPUs).
#pragma once

#include "site/site_config.h"
#include "thermal/chiller.h"

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

// Turns `c` into a hall at 50 C outside with dry coolers and no chillers, so its liquid supply
// sits at 60 C: GPUs slow down at 80 C and shut down at 95 C (thermal:: figures of the card).
inline void MakeHotChillerless(SiteConfig& c) {
  using namespace units;
  c.cluster.gpu.thermal.max_operating = Celsius(78);
  c.cluster.gpu.thermal.slowdown = Celsius(80);
  c.cluster.gpu.thermal.shutdown = Celsius(95);
  c.cluster.gpu.tdp = Watts(700);
  thermal::CoolingConfig& cool = c.facility.cooling;
  cool.constant_cop.reset();
  cool.capacity = Kilowatts(40);
  cool.liquid_share = 0.8;
  cool.sink = thermal::HeatSink::kDryCooler;
  cool.chillers = 0;
  cool.chiller = thermal::FindChiller("carrier-19xr-1143kw");
  c.weather = thermal::Weather(thermal::OutdoorConditions{Celsius(50), 0.2});
}

// A small training job on `cluster`'s GPUs: a 4-layer model of hidden size 1,024, tp 2 x dp 8
// (16 GPUs), a global batch of 16 sequences of 1,024 tokens. No start, end or checkpoints.
inline JobConfig SmallTrainingJob(const ClusterConfig& cluster) {
  JobConfig job;
  job.name = "j";
  auto& m = job.setup.model;
  m.name = "m";
  m.layers = 4;
  m.hidden_size = 1024;
  m.attention_heads = 8;
  m.kv_heads = 8;
  m.ffn_hidden_size = 4096;
  m.vocab_size = 32000;
  job.setup.gpu = cluster.gpu;
  job.setup.tp = 2;
  job.setup.dp = 8;
  job.setup.global_batch = 16;
  job.setup.sequence_length = 1024;
  job.setup.nic_bandwidth = cluster.nic_bandwidth;
  job.setup.link_latency = cluster.link_latency;
  return job;
}

}  // namespace firstwall::site
