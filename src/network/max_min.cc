#include "network/max_min.h"

#include <algorithm>
#include <limits>

namespace firstwall::network {

std::vector<double> MaxMinRates(const std::vector<double>& capacity,
                                const std::vector<FlowPath>& flows, double unbounded_rate) {
  const size_t nl = capacity.size(), nf = flows.size();
  std::vector<double> rate(nf, 0.0), remaining = capacity;
  std::vector<int32_t> active(nl, 0);  // unfrozen flows per link
  std::vector<char> frozen(nf, 0);
  std::vector<std::vector<int32_t>> flows_on(nl);
  size_t unfrozen = 0;
  for (size_t f = 0; f < nf; ++f) {
    if (flows[f].links.empty()) {
      rate[f] = unbounded_rate;
      frozen[f] = 1;
      continue;
    }
    ++unfrozen;
    for (int32_t l : flows[f].links) {
      ++active[static_cast<size_t>(l)];
      flows_on[static_cast<size_t>(l)].push_back(static_cast<int32_t>(f));
    }
  }
  double level = 0;  // the common rate of all unfrozen flows so far
  while (unfrozen > 0) {
    // The link that fills first: least remaining capacity per unfrozen flow.
    double best = std::numeric_limits<double>::infinity();
    size_t best_link = nl;
    for (size_t l = 0; l < nl; ++l) {
      if (active[l] == 0) continue;
      const double share = remaining[l] / active[l];
      if (share < best) {
        best = share;
        best_link = l;
      }
    }
    if (best_link == nl) break;
    const double inc = std::max(0.0, best);
    level += inc;
    for (size_t l = 0; l < nl; ++l) {
      if (active[l] > 0) remaining[l] -= inc * active[l];
    }
    // Freeze every flow on a link that is now full (within rounding).
    for (size_t l = 0; l < nl; ++l) {
      if (active[l] == 0 || remaining[l] > 1e-12 * std::max(1.0, capacity[l])) continue;
      for (int32_t f : flows_on[l]) {
        if (frozen[static_cast<size_t>(f)]) continue;
        frozen[static_cast<size_t>(f)] = 1;
        rate[static_cast<size_t>(f)] = level;
        --unfrozen;
        for (int32_t l2 : flows[static_cast<size_t>(f)].links) --active[static_cast<size_t>(l2)];
      }
    }
  }
  return rate;
}

}  // namespace firstwall::network
