#include "network/max_min.h"

#include <algorithm>
#include <functional>
#include <limits>

#include "network/max_min_solver.h"

namespace firstwall::network {

std::vector<double> MaxMinRates(const std::vector<double>& capacity,
                                const std::vector<FlowPath>& flows, double unbounded_rate) {
  std::vector<const FlowPath*> ptrs;
  ptrs.reserve(flows.size());
  for (const FlowPath& f : flows) ptrs.push_back(&f);
  return MaxMinRates(capacity, ptrs, unbounded_rate);
}

std::vector<double> MaxMinRates(const std::vector<double>& capacity,
                                const std::vector<const FlowPath*>& flows, double unbounded_rate) {
  MaxMinSolver solver;
  std::vector<double> rate;
  solver.Solve(capacity, flows, unbounded_rate, rate);
  return rate;
}

// All unfrozen flows share one rate, the fill level. A link fills when the level reaches
//   (capacity - rates of its frozen flows) / (its unfrozen flows).
// Freezing a flow at a level no higher than a link's saturation never lowers that saturation, so a
// min-heap with one entry per link, refreshed lazily when an entry turns out stale, visits links in
// the order they fill: O(total path length + links x log links) rather than O(links) per level.
// Only the links the flows cross take part, renumbered in ascending order: the heap's keys
// (level, link) order them as the global indices would, so the rates do not depend on the
// renumbering.
void MaxMinSolver::Solve(const std::vector<double>& capacity,
                         const std::vector<const FlowPath*>& flows, double unbounded_rate,
                         std::vector<double>& rate) {
  const size_t nf = flows.size();
  if (local_.size() < capacity.size()) local_.resize(capacity.size(), -1);
  rate.assign(nf, 0.0);
  frozen_.assign(nf, 0);
  // The links crossed, ascending, and each flow's path in local indices.
  links_.clear();
  for (size_t f = 0; f < nf; ++f) {
    for (int32_t l : flows[f]->links) {
      int32_t& loc = local_[static_cast<size_t>(l)];
      if (loc < 0) {
        loc = 0;
        links_.push_back(l);
      }
    }
  }
  std::sort(links_.begin(), links_.end());
  const size_t nl = links_.size();
  for (size_t i = 0; i < nl; ++i) local_[static_cast<size_t>(links_[i])] = static_cast<int32_t>(i);
  frozen_sum_.assign(nl, 0.0);
  active_.assign(nl, 0);
  flow_start_.assign(nf + 1, 0);
  flow_links_.clear();
  for (size_t f = 0; f < nf; ++f) {
    if (flows[f]->links.empty()) {
      rate[f] = unbounded_rate;
      frozen_[f] = 1;
    }
    for (int32_t l : flows[f]->links) {
      const int32_t loc = local_[static_cast<size_t>(l)];
      flow_links_.push_back(loc);
      ++active_[static_cast<size_t>(loc)];
    }
    flow_start_[f + 1] = static_cast<int32_t>(flow_links_.size());
  }
  for (int32_t l : links_) local_[static_cast<size_t>(l)] = -1;  // clean for the next solve
  // Flows per link, as offsets into one array (CSR).
  start_.assign(nl + 1, 0);
  for (size_t l = 0; l < nl; ++l) start_[l + 1] = start_[l] + active_[l];
  on_link_.resize(static_cast<size_t>(start_[nl]));
  fill_.assign(start_.begin(), start_.end() - 1);
  for (size_t f = 0; f < nf; ++f) {
    for (int32_t i = flow_start_[f]; i < flow_start_[f + 1]; ++i) {
      const size_t l = static_cast<size_t>(flow_links_[static_cast<size_t>(i)]);
      on_link_[static_cast<size_t>(fill_[l]++)] = static_cast<int32_t>(f);
    }
  }
  auto saturation = [&](size_t l) {
    return std::max(0.0, capacity[static_cast<size_t>(links_[l])] - frozen_sum_[l]) / active_[l];
  };
  heap_.clear();
  const std::greater<Entry> later;
  for (size_t l = 0; l < nl; ++l) {
    if (active_[l] > 0) heap_.push_back({saturation(l), static_cast<int32_t>(l)});
  }
  std::make_heap(heap_.begin(), heap_.end(), later);
  while (!heap_.empty()) {
    std::pop_heap(heap_.begin(), heap_.end(), later);
    const Entry e = heap_.back();
    heap_.pop_back();
    const size_t l = static_cast<size_t>(e.link);
    if (active_[l] == 0) continue;
    const double level = saturation(l);
    if (level > e.level * (1 + 1e-12) + 1e-300) {
      heap_.push_back({level, e.link});  // stale: its flows froze elsewhere since it was pushed
      std::push_heap(heap_.begin(), heap_.end(), later);
      continue;
    }
    for (int32_t i = start_[l]; i < start_[l + 1]; ++i) {
      const size_t f = static_cast<size_t>(on_link_[static_cast<size_t>(i)]);
      if (frozen_[f]) continue;
      frozen_[f] = 1;
      rate[f] = level;
      for (int32_t k = flow_start_[f]; k < flow_start_[f + 1]; ++k) {
        const size_t l2 = static_cast<size_t>(flow_links_[static_cast<size_t>(k)]);
        frozen_sum_[l2] += level;
        --active_[l2];
      }
    }
  }
}

}  // namespace firstwall::network
