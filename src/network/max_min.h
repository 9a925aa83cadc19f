// Max-min fair bandwidth sharing of flows over links (progressive filling; Bertsekas & Gallager,
// "Data Networks", sec. 6.5.2): raise every unfrozen flow's rate together until some link is full;
// freeze the flows crossing it at that rate; repeat with the remaining capacity. The result gives
// no flow more bandwidth at the expense of a flow with less.
#pragma once

#include <cstdint>
#include <vector>

namespace firstwall::network {

struct FlowPath {
  std::vector<int32_t> links;  // link indices the flow crosses
};

// Rates in the links' capacity unit (bytes/s). A flow that crosses no link gets `unbounded_rate`.
// Links with zero capacity (down) give their flows rate 0.
std::vector<double> MaxMinRates(const std::vector<double>& capacity,
                                const std::vector<FlowPath>& flows, double unbounded_rate);
// The same over flows held elsewhere (a subset of a larger set, without copying paths).
std::vector<double> MaxMinRates(const std::vector<double>& capacity,
                                const std::vector<const FlowPath*>& flows, double unbounded_rate);

}  // namespace firstwall::network
