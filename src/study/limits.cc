#include "study/limits.h"

#include <algorithm>

#include <fmt/format.h>

#include "units/parse.h"

namespace firstwall::study {
namespace {

const report::ResourceUse* Find(const report::Summary& s, const std::string& name,
                                const std::string& kind) {
  for (const report::ResourceUse& r : s.resources) {
    if (r.name == name && r.kind == kind) return &r;
  }
  return nullptr;
}

Limit Ceiling(std::string resource, std::string kind, std::string metric, std::string unit,
              double load, double limit, std::string raise_key = {}) {
  Limit l;
  l.resource = std::move(resource);
  l.kind = std::move(kind);
  l.metric = std::move(metric);
  l.unit = std::move(unit);
  l.load = load;
  l.limit = limit;
  l.utilization = limit > 0 ? load / limit : 0.0;
  l.binds = l.utilization >= 1.0;
  l.raise_key = std::move(raise_key);
  return l;
}

Limit Floor(std::string resource, std::string kind, std::string metric, double value,
            double floor) {
  Limit l;
  l.resource = std::move(resource);
  l.kind = std::move(kind);
  l.metric = std::move(metric);
  l.unit = "share";
  l.load = value;
  l.limit = floor;
  l.floor = true;
  l.utilization = floor < 1 ? (1.0 - value) / (1.0 - floor) : (value < 1 ? 2.0 : 0.0);
  l.binds = value < floor;
  return l;
}

void BindBecause(Limit& l, const std::string& why) {
  if (why.empty()) return;
  l.binds = true;
  // Bound by what the run reports, whatever the peak: no headroom is left.
  l.utilization = std::max(l.utilization, 1.0);
  l.because = l.because.empty() ? why : l.because + "; " + why;
}

}  // namespace

std::vector<Limit> Limits(const report::Summary& s, const site::SiteConfig& cfg,
                          const LimitOptions& options) {
  std::vector<Limit> out;
  const auto copy = [&](const report::ResourceUse* r, std::string resource, std::string metric,
                        std::string raise_key = {}) {
    if (!r || r->rating <= 0) return static_cast<Limit*>(nullptr);
    out.push_back(Ceiling(std::move(resource), r->kind, std::move(metric), r->unit, r->peak,
                          r->rating, std::move(raise_key)));
    return &out.back();
  };

  // Training keeps its GPUs busy by design, so activity near 1 is no wall; the GPUs are one
  // when a service's requests outrun them. Requests still in flight when the run ends are no
  // backlog: a service keeping up holds about throughput x mean latency of them (Little's law).
  // A queue that grew holds more; twice that is the line.
  if (Limit* l = copy(Find(s, "GPUs", "compute"), "GPU compute", "peak GPU activity")) {
    l->binds = false;
    for (const report::ServiceSummary& v : s.services) {
      const workload::ServingResult& r = v.result;
      const double in_flight = r.throughput_rps * r.e2e.mean;
      if (r.unfinished > std::max(1.0, 2 * in_flight)) {
        BindBecause(*l, fmt::format("{}: {:.0f} requests unfinished at the end, {:.0f} in flight "
                                    "would keep up",
                                    v.name, r.unfinished, in_flight));
      }
    }
  }

  // HBM: the largest training footprint per GPU against the card's capacity.
  const double hbm_gb = ToBytes(cfg.cluster.gpu.hbm_capacity) / 1e9;
  double job_gb = 0;
  for (const report::JobSummary& j : s.jobs) {
    job_gb = std::max(job_gb, ToBytes(j.estimate.memory.Total()) / 1e9);
  }
  if (job_gb > 0 && hbm_gb > 0) {
    out.push_back(Ceiling("HBM", "memory", "training memory per GPU", "GB", job_gb, hbm_gb));
  }
  // A service's KV cache is the rest of HBM: full blocks force preemptions.
  for (const report::ServiceSummary& v : s.services) {
    Limit l = Ceiling("KV cache " + v.name, "memory", "peak share of KV blocks in use", "share",
                      v.result.kv_use_peak, 1.0);
    if (v.result.preemptions > 0) {
      BindBecause(l, fmt::format("{:.0f} requests preempted", v.result.preemptions));
    }
    out.push_back(std::move(l));
  }

  // Each tier of the fabric on its own (a planner adds NICs, leaf up-ports or super-spines, not
  // "fabric"). A link's utilization is its load averaged over a step, so it seldom nears 1 even
  // where a collective is throttled by contention; the run reports that as the lowest share of
  // its nominal bandwidth a flow kept with its bottleneck in the tier (faults included).
  for (const site::Site::FabricTierUse& t : s.fabric_tiers) {
    const bool nvlink = t.tier == network::FabricTier::kNvlink;
    Limit l = Ceiling(
        nvlink ? "NVLink" : fmt::format("fabric {}", FabricTierName(t.tier)), "network",
        nvlink ? "busiest NVLink port's peak utilization" : "busiest link's peak utilization",
        "share", t.peak_utilization, 1.0);
    if (t.lowest_share < 1 - 1e-9) {
      BindBecause(l, fmt::format("a flow bottlenecked here kept {:.0f}% of its bandwidth",
                                 100 * t.lowest_share));
    }
    if (nvlink && t.peak_utilization <= 0 && !l.binds) continue;  // no NVLink traffic: no row
    out.push_back(std::move(l));
  }
  // A checkpoint writes as fast as the storage network lets it, so full use while writing is the
  // norm; the wall is a checkpoint that could not finish before the next was due.
  if (Limit* l = copy(Find(s, "storage", "network"), "storage network",
                      "checkpoint write bandwidth used while writing",
                      "cluster.storage_network.storage_bandwidth")) {
    l->binds = false;
    int skipped = 0;
    for (const report::JobSummary& j : s.jobs) skipped += j.checkpoints_skipped;
    if (skipped > 0) BindBecause(*l, fmt::format("{} checkpoints skipped", skipped));
  }
  copy(Find(s, "rack", "rack"), "rack power", "busiest rack's peak power",
       "cluster.rack_power_limit");

  for (const auto& st : cfg.facility.power_chain) {
    Limit* l = copy(Find(s, st.name, "power stage"), st.name, "peak output power",
                    "facility.power_chain[" + st.name + "].rating");
    if (!l) continue;
    if (s.power_events.tripped_stage == st.name) {
      BindBecause(*l, fmt::format("{} unit(s) tripped", s.power_events.tripped_units));
    }
    if (s.power_events.limiting_stage == st.name) BindBecause(*l, "capped the GPUs' power");
  }
  copy(Find(s, "grid connection", "grid"), "grid connection", "peak import",
       "site.grid_import_limit");

  if (Limit* l = copy(Find(s, "cooling plant", "cooling"), "cooling plant", "peak heat load",
                      "facility.cooling.capacity")) {
    if (s.unmet_cooling_hours > 0) {
      // Any unmet heat binds (docs/validation.md, "Walls"): the text says how much.
      BindBecause(
          *l,
          fmt::format(
              "cooling unmet {} of the run, {} of heat, up to {}",
              units::FormatReadable(s.unmet_cooling_hours * 3600, units::Dimension::kDuration, 3),
              units::FormatReadable(s.unmet_cooling_j, units::Dimension::kEnergy, 3),
              units::FormatReadable(s.peak_unmet_cooling_w, units::Dimension::kPower, 3)));
    }
  }
  if (Limit* l = copy(Find(s, "CDU", "cooling"), "CDU", "busiest CDU's peak heat load",
                      "facility.cooling.cdu_capacity")) {
    if (s.cdu_over_capacity_hours > 0) {
      BindBecause(*l, fmt::format("a CDU over capacity {:.2f} h", s.cdu_over_capacity_hours));
    }
  }

  // Chips against the temperature where clocks drop; throttling is the consequence.
  double chip_c = 0;
  for (const report::JobSummary& j : s.jobs) chip_c = std::max(chip_c, j.chip_peak_c);
  const double slowdown_c = ToCelsius(cfg.cluster.gpu.thermal.slowdown);
  if (chip_c > 0 && slowdown_c > 0) {
    Limit l = Ceiling("GPU temperature", "thermal", "hottest chip against its slowdown point", "C",
                      chip_c, slowdown_c);
    if (s.throttled_gpu_hours > 0) {
      BindBecause(l, fmt::format("{:.2f} GPU-h throttled", s.throttled_gpu_hours));
    }
    out.push_back(std::move(l));
  }

  for (const report::ServiceSummary& v : s.services) {
    if (v.result.completed <= 0) continue;
    out.push_back(Floor("SLO " + v.name, "service", "SLO attainment (TTFT and TPOT met)",
                        v.result.slo_attainment, options.slo_attainment_floor));
  }
  if (s.life && !s.life->failure_model.empty()) {
    out.push_back(Floor("ETTR", "reliability", "effective training time ratio (GPU-weighted)",
                        s.life->goodput.ettr, options.ettr_floor));
  }
  return out;
}

}  // namespace firstwall::study
