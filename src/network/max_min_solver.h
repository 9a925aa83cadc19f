// Max-min fair rates (network/max_min.h) with scratch kept between calls, for callers that
// re-solve a few flows of a large fabric at every event: a solve costs what its flows touch (their
// path lengths and the links they cross), not the fabric's link count, and allocates nothing once
// its buffers have grown. Same rates, bit for bit, as MaxMinRates on the same flows.
#pragma once

#include <cstdint>
#include <vector>

#include "network/max_min.h"

namespace firstwall::network {

class MaxMinSolver {
 public:
  // `capacity`: per link of the whole fabric (bytes/s); `flows` index into it. Writes one rate per
  // flow to `rates` (resized), as MaxMinRates(capacity, flows, unbounded_rate) would.
  void Solve(const std::vector<double>& capacity, const std::vector<const FlowPath*>& flows,
             double unbounded_rate, std::vector<double>& rates);

 private:
  struct Entry {
    double level;
    int32_t link;  // local index; local order is global order, so ties break as in MaxMinRates
    bool operator>(const Entry& o) const {
      return level != o.level ? level > o.level : link > o.link;
    }
  };
  std::vector<int32_t> local_;  // per fabric link: its local index, -1 outside the current solve
  std::vector<int32_t> links_;  // the solve's links (global indices), ascending
  std::vector<int32_t> flow_links_;  // every flow's path in local indices, flow after flow
  std::vector<int32_t> flow_start_;  // offsets of each flow's path in flow_links_
  std::vector<double> frozen_sum_;
  std::vector<int32_t> active_, start_, fill_, on_link_;
  std::vector<char> frozen_;
  std::vector<Entry> heap_;
};

}  // namespace firstwall::network
