// Collectives as alpha-beta costs over a two-level machine: ranks inside a node talk over NVLink,
// nodes over each GPU's NIC (rail-optimized: GPU i of every node shares a rail). This is the
// estimate the training model uses until the fabric model (network layer) replaces it.
//
// Ring algorithms (Patarasuk & Yuan 2009; Thakur, Rabenseifner & Gropp 2005) for n ranks and S
// bytes per rank:
//   all-reduce        2 (n-1)/n x S / (B eta) + 2 (n-1) alpha_hop + alpha_0
//   reduce-scatter,   (n-1)/n x S / (B eta) + (n-1) alpha_hop + alpha_0
//   all-gather
//   all-to-all        (n-1)/n x S / (B eta) + (n-1) alpha_hop + alpha_0   (pairwise exchange)
// A group spanning nodes runs hierarchically: reduce-scatter inside the node, the operation across
// nodes on 1/n_local of the data with every local GPU's NIC working in parallel, all-gather inside.
// eta (bus efficiency) and alpha_0 for NVLink are fitted to vidur's measured DGX-H100 all-reduce
// (../shared/data/calibration/vidur_h100_dgx_all_reduce.csv): about 80% of the per-direction link
// bandwidth for 64 MiB messages and 20-35 us for small ones.
#pragma once

#include "units/quantity.h"

namespace firstwall::hardware {

struct LinkLevel {
  units::Bandwidth bandwidth;  // per GPU, one direction
  double efficiency = 0.8;     // achieved bus bandwidth / link bandwidth
  units::Duration hop_latency;
};

// Fitted to vidur's measured DGX-H100 all-reduce (least mean error over a grid; see
// network/fabric_test.cc and docs/validation.md), and shared by the training model's collectives
// and the fabric model so both give the same times.
inline constexpr double kNvlinkBusEfficiency = 0.77;
inline constexpr units::Duration kNvlinkHopLatency = units::Microseconds(0.5);
inline constexpr units::Duration kCollectiveLaunch = units::Microseconds(24);
// Achieved bus bandwidth over NIC bandwidth across nodes (an assumption, not fitted).
inline constexpr double kNetworkBusEfficiency = 0.85;

struct CollectiveModel {
  LinkLevel nvlink;
  LinkLevel network;
  units::Duration launch;  // alpha_0 per collective
  int nvlink_domain = 8;   // GPUs joined by NVLink (a node, or a rack of NVL72)
};

enum class Collective { kAllReduce, kReduceScatter, kAllGather, kAllToAll };

// `ranks` in the group, `ranks_per_node` of them in each node (1 when every rank is in another
// node, `ranks` when the group fits in one node). `bytes` is the data per rank.
units::Duration CollectiveTime(const CollectiveModel& m, Collective op, units::DataSize bytes,
                               int ranks, int ranks_per_node);

// One point-to-point transfer between two ranks, inside a node or across nodes.
units::Duration P2pTime(const CollectiveModel& m, units::DataSize bytes, bool same_node);

}  // namespace firstwall::hardware
