#include "site/placement.h"

#include <algorithm>
#include <string>

#include "core/error.h"

namespace firstwall::site {

Placement::Placement(int nodes, int nodes_per_rack)
    : nodes_per_rack_(nodes_per_rack), holder_(static_cast<size_t>(nodes)) {
  FW_CHECK(nodes_per_rack > 0, "placement needs racks of at least one node");
  racks_.resize(static_cast<size_t>((nodes + nodes_per_rack - 1) / nodes_per_rack));
  rack_free_.assign(racks_.size(), 1);
  for (size_t r = 0; r < racks_.size(); ++r) Rebuild(r);
}

void Placement::Assign(TenantRef tenant, const std::vector<int>& nodes) {
  FW_CHECK(!tenant.none(), "placement: assigning nodes to no tenant");
  for (int n : nodes) {
    FW_CHECK(n >= 0 && static_cast<size_t>(n) < holder_.size(),
             "placement: node " + std::to_string(n) + " outside the cluster");
    TenantRef& h = holder_[static_cast<size_t>(n)];
    FW_CHECK(h.none(), "placement: node " + std::to_string(n) + " is taken");
    h = tenant;
  }
  RebuildRacksOf(nodes);
}

void Placement::Release(TenantRef tenant, const std::vector<int>& nodes) {
  for (int n : nodes) {
    TenantRef& h = holder_[static_cast<size_t>(n)];
    FW_CHECK(h == tenant, "placement: releasing node " + std::to_string(n) + " it does not hold");
    h = TenantRef{};
  }
  RebuildRacksOf(nodes);
}

std::vector<size_t> Placement::RacksOf(const std::vector<int>& nodes) const {
  std::vector<size_t> out;
  out.reserve(nodes.size());
  for (int n : nodes) out.push_back(RackOf(n));
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

void Placement::RebuildRacksOf(const std::vector<int>& nodes) {
  for (size_t r : RacksOf(nodes)) Rebuild(r);
}

void Placement::Rebuild(size_t rack) {
  std::vector<Run>& runs = racks_[rack];
  runs.clear();
  const size_t first = rack * static_cast<size_t>(nodes_per_rack_);
  const size_t last = std::min(holder_.size(), first + static_cast<size_t>(nodes_per_rack_));
  for (size_t n = first; n < last; ++n) {
    if (!runs.empty() && runs.back().tenant == holder_[n]) {
      ++runs.back().nodes;
    } else {
      runs.push_back({holder_[n], 1});
    }
  }
  rack_free_[rack] = runs.size() == 1 && runs.front().tenant.none() ? 1 : 0;
}

}  // namespace firstwall::site
