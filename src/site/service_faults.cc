#include "site/service_faults.h"

#include <algorithm>
#include <unordered_map>
#include <utility>

namespace firstwall::site {

std::vector<std::vector<workload::LinkHealthStep>> PrefillLinkHealth(
    const network::Fabric& fabric, const std::vector<FaultConfig>& faults,
    const ServiceConfig& service, int first_node, int gpus_per_node) {
  const workload::ServiceSetup& s = service.setup;
  const int prefill = s.pd.prefill_replicas;
  if (prefill <= 0 || faults.empty() || first_node < 0) return {};
  const int per_replica = workload::ReplicaGpus(s.replica);
  // Each prefill replica's sending links.
  std::vector<std::vector<int>> links(static_cast<size_t>(prefill));
  std::unordered_map<int, double> health;  // of the links that matter, as the faults leave them
  for (int r = 0; r < prefill; ++r) {
    int first_gpu = 0;
    if (per_replica <= gpus_per_node) {
      const int per_node = gpus_per_node / per_replica;
      first_gpu = (first_node + r / per_node) * gpus_per_node + (r % per_node) * per_replica;
    } else {
      const int nodes = (per_replica + gpus_per_node - 1) / gpus_per_node;
      first_gpu = (first_node + r * nodes) * gpus_per_node;
    }
    for (int g = first_gpu; g < first_gpu + per_replica; ++g) {
      if (s.pd.over_nvlink) {
        links[static_cast<size_t>(r)].push_back(fabric.NvlinkUpLink(g));
      } else {
        for (int p = 0; p < fabric.planes(); ++p) {
          links[static_cast<size_t>(r)].push_back(fabric.NicUpLink(g, p));
        }
      }
    }
    for (int l : links[static_cast<size_t>(r)]) health[l] = 1.0;
  }
  // The faults' changes in time order, as the site applies them (Site::ScheduleEvents: each
  // fault's start, then its repair, which restores full health; ties in the order listed).
  struct Change {
    double t_s;
    const FaultConfig* fault;
    bool repair;
  };
  std::vector<Change> changes;
  for (const FaultConfig& f : faults) {
    const bool touches =
        std::any_of(f.links.begin(), f.links.end(), [&](int l) { return health.contains(l); });
    if (!touches) continue;
    changes.push_back({f.at.seconds(), &f, false});
    if (f.end != SimTime::Never()) changes.push_back({f.end.seconds(), &f, true});
  }
  if (changes.empty()) return {};
  std::stable_sort(changes.begin(), changes.end(),
                   [](const Change& a, const Change& b) { return a.t_s < b.t_s; });
  std::vector<std::vector<workload::LinkHealthStep>> out(static_cast<size_t>(prefill));
  for (size_t i = 0; i < changes.size();) {
    const double t = changes[i].t_s;
    for (; i < changes.size() && changes[i].t_s == t; ++i) {
      for (int l : changes[i].fault->links) {
        if (auto it = health.find(l); it != health.end()) {
          it->second = changes[i].repair ? 1.0 : changes[i].fault->health;
        }
      }
    }
    for (size_t r = 0; r < out.size(); ++r) {
      double h = 1.0;
      for (int l : links[r]) h = std::min(h, health.at(l));
      const double before = out[r].empty() ? 1.0 : out[r].back().health;
      if (h != before) out[r].push_back({t, h});
    }
  }
  return out;
}

}  // namespace firstwall::site
