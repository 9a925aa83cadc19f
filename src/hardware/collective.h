// Collectives as alpha-beta costs over a two-level machine: ranks inside a node talk over NVLink,
// nodes over each GPU's NIC (rail-optimized: GPU i of every node shares a rail). This is the
// estimate the training model uses; the fabric model (network/collective.h) gives the same times
// on a healthy fabric and adds contention and faults.
//
// Ring algorithms (Patarasuk & Yuan 2009; Thakur, Rabenseifner & Gropp 2005) for n ranks and S
// bytes per rank:
//   all-reduce        2 (n-1)/n x S / (B eta) + 2 (n-1) alpha_hop + alpha_0
//   reduce-scatter,   (n-1)/n x S / (B eta) + (n-1) alpha_hop + alpha_0
//   all-gather
//   all-to-all        (n-1)/n x S / (B eta) + (n-1) alpha_hop + alpha_0   (pairwise exchange)
// A group spanning nodes, as NCCL runs it: reduce-scatter and all-gather as a multi-rail ring,
// all-reduce as the faster of
//   multi-rail ring   one ring (channel) per rail: every GPU's NIC carries 1/L of the ring
//                     traffic and its NVLink the other (L-1)/L, so the per-GPU bus bandwidth is
//                     min(B_nic eta_net L, B_nvl eta L/(L-1)) for L ranks per node;
//   tree              a chain inside each node and a double binary tree across nodes on every
//                     rail, each NIC sending its 1/L share twice (once on two nodes), pipelined in
//                     chunks so the time is that of the busier link (NVLink or NIC) plus every
//                     stage's latency, not the sum of the stages.
// All-to-all across nodes sends its NVLink and NIC parts at once: the slower of the two.
// NVLink SHARP (NVLS, NVSwitch gen 3 and later) reduces inside the switch: each GPU sends its S
// once and receives the reduced S once, so an all-reduce inside one NVLink domain takes
// S / (B eta_nvls) + alpha_nvls whatever n (busbw still reported as algbw x 2(n-1)/n, the
// nccl-tests convention); its fixed cost alpha_nvls is larger than a ring's, so it wins only on
// large messages.
//
// eta (bus efficiency) and alpha_0 for NVLink are fitted to vidur's measured DGX-H100 all-reduce
// (../shared/data/calibration/vidur_h100_dgx_all_reduce.csv): about 77% of the per-direction link
// bandwidth for 1-64 MiB messages and 20-35 us for small ones. Other generations carry their own
// figures in the catalog (`collective:` of catalog/gpus/*.yaml, NvlinkCollectives below).
#pragma once

#include "hardware/torus.h"
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
// Achieved NCCL bus bandwidth over NIC line rate across nodes, from public NCCL figures of
// large messages (docs/validation.md, "Collectives" of issue #16): NDR 400 Gb/s NICs carry
// 46-48 GB/s each (NVIDIA, nccl-tests#290), a DGX A100 with 8 x 200 Gb/s reaches 192 GB/s ring
// busbw (NVIDIA, nccl#812), 8 x H100 with 4 x 400 Gb/s RoCE 190 GB/s (nccl#1368), 8 x A100 with
// 4 x 200 Gb/s HDR 96 GB/s (nccl-tests#119): 0.92-0.96 of line rate.
inline constexpr double kNetworkBusEfficiency = 0.94;

// How one GPU generation's NVLink and NVSwitch run collectives: the catalog's `collective:` block
// (catalog/gpus/*.yaml, each figure with its source); the defaults are the H100 fit above.
struct NvlinkCollectives {
  double bus_efficiency = kNvlinkBusEfficiency;  // ring bus bandwidth / per-direction NVLink
  units::Duration launch = kCollectiveLaunch;    // alpha_0 per collective
  // NVLink SHARP all-reduce algbw / per-direction NVLink bandwidth; 0 when the switch cannot
  // reduce (before NVSwitch gen 3, i.e. before Hopper) or the GPU has no NVSwitch.
  double nvls_efficiency = 0;
  // Fixed cost of one NVLS all-reduce, launch included: NVLS reaches its peak only on large
  // messages (NCCL picks it there).
  units::Duration nvls_latency = units::Microseconds(98);
};

struct CollectiveModel {
  LinkLevel nvlink;
  LinkLevel network;
  units::Duration launch;        // alpha_0 per collective
  int nvlink_domain = 8;         // GPUs joined by NVLink (a node, or a rack of NVL72)
  double nvls_efficiency = 0;    // as NvlinkCollectives::nvls_efficiency
  units::Duration nvls_latency;  // as NvlinkCollectives::nvls_latency
  // An accelerator torus (TPU ICI, hardware/torus.h) in place of NVLink and NICs: when enabled,
  // every collective and transfer runs on it, over a group at rank stride `torus_stride` (1 for
  // tensor parallelism, tp x cp for data parallelism, ...).
  TorusSpec torus;
  int torus_stride = 1;
};

// The model for a GPU generation `c` with `nvlink_per_direction` NVLink bandwidth per GPU, a NIC of
// `nic` per GPU (one direction) whose hops cost `network_hop`, in NVLink domains of
// `nvlink_domain` GPUs.
CollectiveModel CollectiveModelFor(const NvlinkCollectives& c,
                                   units::Bandwidth nvlink_per_direction, units::Bandwidth nic,
                                   units::Duration network_hop, int nvlink_domain);

enum class Collective { kAllReduce, kReduceScatter, kAllGather, kAllToAll };

// `ranks` in the group, `ranks_per_node` of them in each node (1 when every rank is in another
// node, `ranks` when the group fits in one node). `bytes` is the data per rank. The algorithm is
// the fastest of those NCCL would consider (ring, NVLS inside a domain; multi-rail ring or
// pipelined tree across nodes).
units::Duration CollectiveTime(const CollectiveModel& m, Collective op, units::DataSize bytes,
                               int ranks, int ranks_per_node);

// NVLink SHARP all-reduce of `bytes` per rank inside one NVLink domain; requires
// m.nvls_efficiency > 0.
units::Duration NvlsAllReduceTime(const CollectiveModel& m, units::DataSize bytes);

// `m` for a group whose ranks lie `stride` apart on a torus (no change without one).
CollectiveModel WithStride(CollectiveModel m, int stride);

// One point-to-point transfer between two ranks, inside a node or across nodes (on a torus, to a
// neighbouring chip).
units::Duration P2pTime(const CollectiveModel& m, units::DataSize bytes, bool same_node);

}  // namespace firstwall::hardware
