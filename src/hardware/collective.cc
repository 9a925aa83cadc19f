#include "hardware/collective.h"

#include <algorithm>
#include <cmath>

#include "core/error.h"

namespace firstwall::hardware {
namespace {
using units::Duration;
using units::Seconds;

// One flat ring level; `factor` is the volume multiplier (2 for all-reduce, 1 otherwise).
Duration Ring(const LinkLevel& l, double factor, units::DataSize bytes, int n) {
  if (n <= 1) return Seconds(0);
  const double frac = factor * (n - 1.0) / n;
  return bytes * frac / (l.bandwidth * l.efficiency) + l.hop_latency * (factor * (n - 1.0));
}

double Factor(Collective op) { return op == Collective::kAllReduce ? 2.0 : 1.0; }

// NCCL's ring across nodes: one channel per rail, so of each GPU's ring traffic 1/local leaves
// through its own NIC and (local-1)/local over NVLink; each step waits for the slower of the two
// and the slower hop's latency.
Duration MultiRailRing(const CollectiveModel& m, double factor, units::DataSize bytes, int ranks,
                       int local) {
  const units::DataSize sent = bytes * (factor * (ranks - 1.0) / ranks);
  const Duration nic = sent / (m.network.bandwidth * m.network.efficiency * local);
  const Duration nvl = sent * ((local - 1.0) / local) / (m.nvlink.bandwidth * m.nvlink.efficiency);
  return std::max(nic, nvl) +
         std::max(m.network.hop_latency, m.nvlink.hop_latency) * (factor * (ranks - 1.0));
}

// NCCL's tree all-reduce across nodes: a chain through each node's GPUs over NVLink (reducing,
// then broadcasting: 2 (local-1)/local x S per GPU) and a double binary tree across nodes on every
// rail at once, each GPU's NIC sending its 1/local share about twice (up and down, half in each
// tree), once on two nodes where each node is the other's only neighbour (S. Jeaugey, NVIDIA/
// nccl#946, nccl#330). NCCL pipelines chunks through the stages, so the busier link sets the
// pace (not the sum of the stages), and each stage adds its latency.
Duration PipelinedTree(const CollectiveModel& m, units::DataSize bytes, int local, int nodes) {
  const Duration nvl =
      bytes * (2.0 * (local - 1.0) / local) / (m.nvlink.bandwidth * m.nvlink.efficiency);
  const double passes = nodes == 2 ? 1.0 : 2.0;
  const Duration nic =
      bytes / static_cast<double>(local) * passes / (m.network.bandwidth * m.network.efficiency);
  return std::max(nvl, nic) + m.nvlink.hop_latency * (2.0 * (local - 1.0)) +
         m.network.hop_latency * (2.0 * std::ceil(std::log2(static_cast<double>(nodes))));
}
}  // namespace

CollectiveModel CollectiveModelFor(const NvlinkCollectives& c,
                                   units::Bandwidth nvlink_per_direction, units::Bandwidth nic,
                                   units::Duration network_hop, int nvlink_domain) {
  CollectiveModel m;
  m.nvlink = {nvlink_per_direction, c.bus_efficiency, kNvlinkHopLatency};
  m.network = {nic, kNetworkBusEfficiency, network_hop};
  m.launch = c.launch;
  m.nvlink_domain = nvlink_domain;
  m.nvls_efficiency = c.nvls_efficiency;
  m.nvls_latency = c.nvls_latency;
  return m;
}

Duration NvlsAllReduceTime(const CollectiveModel& m, units::DataSize bytes) {
  FW_CHECK(m.nvls_efficiency > 0, "NVLS needs a switch that reduces");
  return m.nvls_latency + bytes / (m.nvlink.bandwidth * m.nvls_efficiency);
}

Duration CollectiveTime(const CollectiveModel& m, Collective op, units::DataSize bytes, int ranks,
                        int ranks_per_node) {
  if (ranks <= 1) return Seconds(0);
  if (m.torus.enabled()) return TorusCollectiveTime(m.torus, op, bytes, ranks, m.torus_stride);
  const int local = std::clamp(ranks_per_node, 1, ranks);
  const int nodes = (ranks + local - 1) / local;
  if (nodes == 1) {
    const Duration ring = m.launch + Ring(m.nvlink, Factor(op), bytes, local);
    if (op == Collective::kAllReduce && m.nvls_efficiency > 0 && local <= m.nvlink_domain) {
      return std::min(ring, NvlsAllReduceTime(m, bytes));
    }
    return ring;
  }
  if (local == 1) return m.launch + Ring(m.network, Factor(op), bytes, nodes);
  if (op == Collective::kAllToAll) {
    // Of each rank's data, (local-1)/ranks stays on NVLink and (ranks-local)/ranks crosses nodes;
    // NCCL posts every send at once, so the two parts overlap.
    const double cross = (ranks - local) / static_cast<double>(ranks);
    const double inside = (local - 1.0) / ranks;
    return m.launch +
           std::max(bytes * inside / (m.nvlink.bandwidth * m.nvlink.efficiency),
                    bytes * cross / (m.network.bandwidth * m.network.efficiency)) +
           m.network.hop_latency * (nodes - 1.0);
  }
  const Duration ring = m.launch + MultiRailRing(m, Factor(op), bytes, ranks, local);
  if (op != Collective::kAllReduce) return ring;  // NCCL's reduce-scatter and all-gather: rings
  return std::min(ring, m.launch + PipelinedTree(m, bytes, local, nodes));
}

CollectiveModel WithStride(CollectiveModel m, int stride) {
  m.torus_stride = stride;
  return m;
}

Duration P2pTime(const CollectiveModel& m, units::DataSize bytes, bool same_node) {
  if (m.torus.enabled()) return TorusP2pTime(m.torus, bytes);
  const LinkLevel& l = same_node ? m.nvlink : m.network;
  return m.launch + l.hop_latency + bytes / (l.bandwidth * l.efficiency);
}

}  // namespace firstwall::hardware
