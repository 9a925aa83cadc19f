// Every rated or limited resource of a site after one run, as a load against its limit: the judge
// of `firstwall walls` (study/walls.h) and the first-wall column of a sweep.
//
// Most limits are ceilings (a peak against a rating): utilization = load / limit. Two are floors,
// where less is worse: a service's SLO attainment and the goodput ETTR of a queue with failures;
// their utilization is the shortfall ratio (1 - value) / (1 - floor), which also reaches 1 exactly
// where the floor is met and grows as things get worse, so every limit binds at utilization >= 1.
// A limit also binds where the simulation reports the consequence even if the peak stays under
// the rating (unmet cooling hours, a power-chain unit tripped or capping the GPUs, GPU clocks
// throttled by heat): "the simulation itself is the judge".
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "report/meter.h"
#include "site/site_config.h"

namespace firstwall::study {

struct LimitOptions {
  // SLO attainment a service must keep (share of finished requests within both its TTFT and
  // TPOT targets). 90 %: the attainment goal DistServe (Zhong et al., OSDI 2024) sizes for.
  double slo_attainment_floor = 0.9;
  // ETTR a training fleet must keep when failures are simulated. 90 %: Llama 3 reports more than
  // 90 % effective training time over its 54-day snapshot (Dubey et al. 2024, section 3.3.4).
  double ettr_floor = 0.9;
};

struct Limit {
  std::string resource;  // "UPS", "rack", "cooling plant", "HBM", "SLO chat", ...
  std::string kind;      // "power stage", "rack", "cooling", "grid", "compute", "memory", ...
  std::string metric;    // what is measured: "peak output power", "SLO attainment", ...
  std::string unit;      // of load and limit: "kW", "C", "GB", "share", "activity"
  double load = 0, limit = 0;
  bool floor = false;      // the limit is a minimum (SLO attainment, ETTR)
  double utilization = 0;  // >= 1 binds (see above)
  bool binds = false;      // utilization >= 1, or `because`
  std::string because;     // a consequence the run reported ("unmet cooling 2.0 h"); "" if none
  // The scenario key whose value is this limit, in the limit's own terms, so that `walls` can
  // raise it ("facility.power_chain[UPS].rating"); "" where nothing can be raised.
  std::string raise_key;
  double headroom() const { return 1.0 - utilization; }
};

// The limits of a run, in a fixed order (compute, memory, network, racks, power chain from the
// load outward, grid, cooling, thermal, services, reliability): the order never depends on the
// values, so curves along an axis line up. Unrated resources are left out.
std::vector<Limit> Limits(const report::Summary& s, const site::SiteConfig& cfg,
                          const LimitOptions& options = {});

}  // namespace firstwall::study
