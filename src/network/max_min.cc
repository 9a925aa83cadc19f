#include "network/max_min.h"

#include <algorithm>
#include <limits>
#include <queue>

namespace firstwall::network {

// All unfrozen flows share one rate, the fill level. A link fills when the level reaches
//   (capacity - rates of its frozen flows) / (its unfrozen flows).
// Freezing a flow at a level no higher than a link's saturation never lowers that saturation, so a
// min-heap with one entry per link, refreshed lazily when an entry turns out stale, visits links in
// the order they fill: O(total path length + links x log links) rather than O(links) per level.
std::vector<double> MaxMinRates(const std::vector<double>& capacity,
                                const std::vector<FlowPath>& flows, double unbounded_rate) {
  std::vector<const FlowPath*> ptrs;
  ptrs.reserve(flows.size());
  for (const FlowPath& f : flows) ptrs.push_back(&f);
  return MaxMinRates(capacity, ptrs, unbounded_rate);
}

std::vector<double> MaxMinRates(const std::vector<double>& capacity,
                                const std::vector<const FlowPath*>& flows, double unbounded_rate) {
  const size_t nl = capacity.size(), nf = flows.size();
  std::vector<double> rate(nf, 0.0), frozen_sum(nl, 0.0);
  std::vector<int32_t> active(nl, 0);
  std::vector<char> frozen(nf, 0);
  // Flows per link, as offsets into one array (CSR), to keep memory flat for large fabrics.
  std::vector<int32_t> start(nl + 1, 0);
  for (size_t f = 0; f < nf; ++f) {
    if (flows[f]->links.empty()) {
      rate[f] = unbounded_rate;
      frozen[f] = 1;
      continue;
    }
    for (int32_t l : flows[f]->links) ++active[static_cast<size_t>(l)];
  }
  for (size_t l = 0; l < nl; ++l) start[l + 1] = start[l] + active[l];
  std::vector<int32_t> on_link(static_cast<size_t>(start[nl]));
  std::vector<int32_t> fill(start.begin(), start.end() - 1);
  for (size_t f = 0; f < nf; ++f) {
    if (frozen[f]) continue;
    for (int32_t l : flows[f]->links) {
      on_link[static_cast<size_t>(fill[static_cast<size_t>(l)]++)] = static_cast<int32_t>(f);
    }
  }
  struct Entry {
    double level;
    int32_t link;
    bool operator>(const Entry& o) const {
      return level != o.level ? level > o.level : link > o.link;  // ties: lower link first
    }
  };
  std::priority_queue<Entry, std::vector<Entry>, std::greater<Entry>> heap;
  auto saturation = [&](size_t l) {
    return std::max(0.0, capacity[l] - frozen_sum[l]) / active[l];
  };
  for (size_t l = 0; l < nl; ++l) {
    if (active[l] > 0) heap.push({saturation(l), static_cast<int32_t>(l)});
  }
  while (!heap.empty()) {
    const Entry e = heap.top();
    heap.pop();
    const size_t l = static_cast<size_t>(e.link);
    if (active[l] == 0) continue;
    const double level = saturation(l);
    if (level > e.level * (1 + 1e-12) + 1e-300) {
      heap.push({level, e.link});  // stale: its flows froze elsewhere since it was pushed
      continue;
    }
    for (int32_t i = start[l]; i < start[l + 1]; ++i) {
      const size_t f = static_cast<size_t>(on_link[static_cast<size_t>(i)]);
      if (frozen[f]) continue;
      frozen[f] = 1;
      rate[f] = level;
      for (int32_t l2 : flows[f]->links) {
        const size_t k = static_cast<size_t>(l2);
        frozen_sum[k] += level;
        --active[k];
      }
    }
  }
  return rate;
}

}  // namespace firstwall::network
