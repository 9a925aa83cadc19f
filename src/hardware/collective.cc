#include "hardware/collective.h"

#include <algorithm>

namespace firstwall::hardware {
namespace {
using units::Duration;

// One flat ring level; `factor` is the volume multiplier (2 for all-reduce, 1 otherwise).
Duration Ring(const LinkLevel& l, double factor, units::DataSize bytes, int n) {
  if (n <= 1) return units::Seconds(0);
  const double frac = factor * (n - 1.0) / n;
  return bytes * frac / (l.bandwidth * l.efficiency) + l.hop_latency * (factor * (n - 1.0));
}

double Factor(Collective op) { return op == Collective::kAllReduce ? 2.0 : 1.0; }
}  // namespace

Duration CollectiveTime(const CollectiveModel& m, Collective op, units::DataSize bytes, int ranks,
                        int ranks_per_node) {
  if (ranks <= 1) return units::Seconds(0);
  const int local = std::clamp(ranks_per_node, 1, ranks);
  const int nodes = (ranks + local - 1) / local;
  if (nodes == 1) return m.launch + Ring(m.nvlink, Factor(op), bytes, local);
  if (local == 1) return m.launch + Ring(m.network, Factor(op), bytes, nodes);
  // Hierarchical: inside the node first, then across nodes on a 1/local share per GPU (each GPU has
  // its own NIC), then inside the node again for the ops that need it.
  const units::DataSize share = bytes / static_cast<double>(local);
  switch (op) {
    case Collective::kAllReduce:
      return m.launch + Ring(m.nvlink, 1.0, bytes, local) + Ring(m.network, 2.0, share, nodes) +
             Ring(m.nvlink, 1.0, bytes, local);
    case Collective::kReduceScatter:
    case Collective::kAllGather:
      return m.launch + Ring(m.nvlink, 1.0, bytes, local) + Ring(m.network, 1.0, share, nodes);
    case Collective::kAllToAll: {
      // Of each rank's data, (local-1)/ranks stays on NVLink and (ranks-local)/ranks crosses nodes.
      const double cross = (ranks - local) / static_cast<double>(ranks);
      const double inside = (local - 1.0) / ranks;
      return m.launch + bytes * inside / (m.nvlink.bandwidth * m.nvlink.efficiency) +
             bytes * cross / (m.network.bandwidth * m.network.efficiency) +
             m.network.hop_latency * (nodes - 1.0);
    }
  }
  return units::Seconds(0);
}

Duration P2pTime(const CollectiveModel& m, units::DataSize bytes, bool same_node) {
  const LinkLevel& l = same_node ? m.nvlink : m.network;
  return m.launch + l.hop_latency + bytes / (l.bandwidth * l.efficiency);
}

}  // namespace firstwall::hardware
