#include "site/site.h"

#include <algorithm>
#include <cmath>
#include <limits>

#include "core/error.h"

namespace firstwall::site {
using namespace units;

int NodesFor(const JobConfig& job, const ClusterConfig& cluster) {
  const int gpus = workload::GpuCount(job.setup);
  return (gpus + cluster.gpus_per_node - 1) / cluster.gpus_per_node;
}

network::FabricSpec FabricFor(const SiteConfig& c) {
  network::FabricSpec f = c.fabric;
  f.nodes = c.cluster.nodes;
  f.gpus_per_node = c.cluster.gpus_per_node;
  f.nvlink_per_gpu = c.cluster.gpu.NvlinkPerDirection();
  f.nic_per_gpu = c.cluster.nic_bandwidth;
  return f;
}

Site::Site(SiteConfig config)
    : config_(std::move(config)),
      gpu_power_(config_.cluster.gpu.idle_power, config_.cluster.gpu.tdp,
                 config_.cluster.gpu_power_cap),
      fabric_(FabricFor(config_)),
      chain_(config_.facility.power_chain),
      plant_(config_.facility.cooling_cop, config_.facility.cooling_capacity) {
  const ClusterConfig& c = config_.cluster;
  idle_gpu_w_ = ToWatts(gpu_power_.At(0));
  idle_node_w_ = c.gpus_per_node * idle_gpu_w_ + ToWatts(c.node_base_power);

  // Place jobs on consecutive nodes in declaration order.
  int next_node = 0;
  for (const JobConfig& jc : config_.jobs) {
    workload::StepEstimate est = workload::EstimateStep(jc.setup);
    workload::PhaseTimeline timeline(est.phases, jc.start, jc.end);
    PlacedJob pj{jc, est, est, timeline, next_node, NodesFor(jc, c), {}, {}, {}, {}};
    AppendSegmentValues(pj, est);
    pj.history.push_back({jc.start, SimTime(), 1.0, est.step_time});
    next_node += pj.node_count;
    FW_CHECK(next_node <= c.nodes, "jobs do not fit in the cluster");
    jobs_.push_back(std::move(pj));
  }
  job_node_w_.assign(jobs_.size(), 0.0);

  // Each rack as runs of nodes belonging to one job or idle.
  racks_.resize(static_cast<size_t>(c.rack_count()));
  std::vector<int> owner(static_cast<size_t>(c.nodes), -1);
  for (size_t j = 0; j < jobs_.size(); ++j) {
    for (int n = 0; n < jobs_[j].node_count; ++n) {
      owner[static_cast<size_t>(jobs_[j].first_node + n)] = static_cast<int>(j);
    }
  }
  for (int n = 0; n < c.nodes; ++n) {
    auto& segs = racks_[static_cast<size_t>(n / c.nodes_per_rack)];
    const int o = owner[static_cast<size_t>(n)];
    if (!segs.empty() && segs.back().job == o) {
      ++segs.back().nodes;
    } else {
      segs.push_back({o, 1});
    }
  }
  sample_.job_it.assign(jobs_.size(), Watts(0));
  // Jobs sharing the fabric from the start (oversubscribed tiers, ECMP collisions).
  RecomputeNetwork(SimTime());
  for (PlacedJob& j : jobs_) j.estimate = j.current;
}

void Site::AppendSegmentValues(PlacedJob& pj, const workload::StepEstimate& est) {
  const ClusterConfig& c = config_.cluster;
  const int gpus = workload::GpuCount(pj.config.setup);
  const int idle_gpus = pj.node_count * c.gpus_per_node - gpus;
  std::vector<double> act, gpu, node;
  for (const workload::Phase& ph : est.phases) {
    const double gpu_w = gpus * ToWatts(gpu_power_.At(ph.activity));
    act.push_back(ph.activity);
    gpu.push_back(gpu_w);
    node.push_back((gpu_w + idle_gpus * idle_gpu_w_ + pj.node_count * ToWatts(c.node_base_power)) /
                   pj.node_count);
  }
  // A rebase at the segment's own start replaces it (see PhaseTimeline::Rebase).
  if (pj.activity.size() == pj.timeline.segment_count()) {
    pj.activity.back() = act;
    pj.gpu_power_w.back() = gpu;
    pj.node_power_w.back() = node;
    return;
  }
  pj.activity.push_back(std::move(act));
  pj.gpu_power_w.push_back(std::move(gpu));
  pj.node_power_w.push_back(std::move(node));
}

void Site::RecomputeNetwork(SimTime now) {
  const int gpn = config_.cluster.gpus_per_node;
  std::vector<network::FlowPath> paths;
  std::vector<size_t> owner;
  uint64_t id = 0;
  // Adaptive routing places flows one by one on the least-loaded spine, counting each at the
  // NIC's nominal rate.
  std::vector<double> placed;
  if (config_.adaptive_routing) placed.assign(fabric_.link_count(), 0.0);
  const double nic_rate = ToBytesPerSecond(config_.cluster.nic_bandwidth);
  for (size_t j = 0; j < jobs_.size(); ++j) {
    const PlacedJob& pj = jobs_[j];
    if (pj.node_count < 2) continue;
    // One ring per rail over the job's nodes: its data-parallel (and pipeline) traffic.
    for (int r = 0; r < gpn; ++r) {
      for (int n = 0; n < pj.node_count; ++n) {
        const int a = (pj.first_node + n) * gpn + r;
        const int b = (pj.first_node + (n + 1) % pj.node_count) * gpn + r;
        // One stripe per plane.
        ++id;
        for (int pl = 0; pl < fabric_.planes(); ++pl) {
          if (config_.adaptive_routing) {
            paths.push_back(fabric_.RouteLeastLoaded(a, b, placed, pl));
            for (int32_t l : paths.back().links) {
              placed[static_cast<size_t>(l)] += nic_rate / fabric_.planes();
            }
          } else {
            paths.push_back(fabric_.Route(a, b, id, pl));
          }
          owner.push_back(j);
        }
      }
    }
  }
  const std::vector<double> rates =
      network::MaxMinRates(fabric_.capacity(), paths, std::numeric_limits<double>::infinity());
  std::vector<double> min_rate(jobs_.size(), std::numeric_limits<double>::infinity());
  for (size_t f = 0; f < rates.size(); ++f)
    min_rate[owner[f]] = std::min(min_rate[owner[f]], rates[f]);
  const double nominal_rate =
      ToBytesPerSecond(config_.cluster.nic_bandwidth) * config_.fabric.network_efficiency;
  for (size_t j = 0; j < jobs_.size(); ++j) {
    PlacedJob& pj = jobs_[j];
    // A job cut off from part of its ring stalls; it is modelled as 1% of the bandwidth until the
    // fault clears, so its steps stretch rather than stop.
    const double factor =
        std::isinf(min_rate[j])
            ? 1.0
            : std::clamp(min_rate[j] * fabric_.planes() / nominal_rate, 0.01, 1.0);
    if (std::abs(factor - pj.config.setup.network_factor) < 1e-12) continue;
    pj.config.setup.network_factor = factor;
    pj.current = workload::EstimateStep(pj.config.setup);
    const SimTime at = std::max(now, pj.config.start);
    if (at >= pj.config.end) continue;
    pj.timeline.Rebase(at, pj.current.phases);
    AppendSegmentValues(pj, pj.current);
    pj.history.push_back({at, now, factor, pj.current.step_time});
  }
  // Average link loads: a ring moves in lockstep at its slowest flow's rate, for the share of its
  // job's step during which the job's scale-out traffic is active; against healthy capacity.
  std::vector<double> load(fabric_.link_count(), 0.0);
  for (size_t f = 0; f < rates.size(); ++f) {
    const double rate = min_rate[owner[f]];
    if (std::isinf(rate)) continue;
    const workload::StepEstimate& e = jobs_[owner[f]].current;
    const double busy = std::min(1.0, (e.dp_comm_total + e.breakdown.pp_p2p) / e.step_time);
    for (int32_t l : paths[f].links) load[static_cast<size_t>(l)] += rate * busy;
  }
  if (link_peak_.empty()) {
    link_peak_.assign(fabric_.link_count(), 0.0);
    link_peak_at_.assign(fabric_.link_count(), SimTime());
    link_now_.assign(fabric_.link_count(), 0.0);
  }
  fabric_utilization_ = 0;
  for (size_t l = 0; l < load.size(); ++l) {
    const double healthy = fabric_.nominal()[l];
    const double u = healthy > 0 ? load[l] / healthy : 0.0;
    if (config_.record_link_loads && std::abs(u - link_now_[l]) > 1e-12) {
      link_changes_.push_back({now, static_cast<int>(l), u});
    }
    link_now_[l] = u;
    if (u <= 0) continue;
    fabric_utilization_ = std::max(fabric_utilization_, u);
    if (u > link_peak_[l]) {
      link_peak_[l] = u;
      link_peak_at_[l] = now;
    }
  }
}

void Site::ScheduleEvents(EventQueue& events) {
  for (const FaultConfig& f : config_.faults) {
    events.Schedule(f.at, "fault " + f.target, [this, &f] {
      for (int l : f.links) fabric_.SetLinkHealth(l, f.health);
      RecomputeNetwork(f.at);
    });
    if (f.end != SimTime::Never()) {
      events.Schedule(f.end, "repair " + f.target, [this, &f] {
        for (int l : f.links) fabric_.SetLinkHealth(l, 1.0);
        RecomputeNetwork(f.end);
      });
    }
  }
  for (const PlacedJob& j : jobs_) {
    events.Schedule(j.config.start, "start " + j.config.name, [this] { ++running_; });
    if (j.config.end != SimTime::Never()) {
      events.Schedule(j.config.end, "end " + j.config.name, [this] { --running_; });
    }
  }
}

void Site::Advance(SimTime from, SimTime to) {
  const ClusterConfig& c = config_.cluster;
  const double dt = (to - from).seconds();
  WindowSample& s = sample_;
  s.from = from;
  s.to = to;
  s.running_jobs = running_;

  double gpu_w = c.gpu_count() * idle_gpu_w_;
  double activity_sum = 0;
  for (size_t j = 0; j < jobs_.size(); ++j) {
    const PlacedJob& pj = jobs_[j];
    const double run_s = pj.timeline.RunningSeconds(from, to);
    if (run_s <= 0) {
      job_node_w_[j] = idle_node_w_;
      s.job_it[j] = Watts(0);
      continue;
    }
    const double idle_frac = 1.0 - run_s / dt;
    const double busy_node_w = pj.timeline.Integrate(pj.node_power_w, from, to) / dt;
    job_node_w_[j] = busy_node_w + idle_frac * idle_node_w_;
    s.job_it[j] = Watts(busy_node_w * pj.node_count);  // only while it runs
    // GPU power of the job's GPUs above their idle draw.
    const int gpus = workload::GpuCount(pj.config.setup);
    gpu_w += pj.timeline.Integrate(pj.gpu_power_w, from, to) / dt - gpus * idle_gpu_w_ * run_s / dt;
    activity_sum += gpus * pj.timeline.Integrate(pj.activity, from, to) / dt;
  }

  double it_w = 0, peak_rack_w = 0;
  for (const auto& rack : racks_) {
    double rack_w = 0;
    for (const RackSegment& seg : rack) {
      rack_w +=
          seg.nodes * (seg.job < 0 ? idle_node_w_ : job_node_w_[static_cast<size_t>(seg.job)]);
    }
    it_w += rack_w;
    peak_rack_w = std::max(peak_rack_w, rack_w);
  }

  s.it = Watts(it_w);
  s.gpu = Watts(gpu_w);
  s.node_base = s.it - s.gpu;
  s.gpu_activity_sum = activity_sum;
  s.peak_rack = Watts(peak_rack_w);
  const power::ChainFlow flow = chain_.Flow(s.it);
  s.stage_input = flow.input;
  s.stage_loss = flow.loss;
  s.conversion_loss = flow.total_loss;
  s.heat = s.it + s.conversion_loss;
  s.cooling = plant_.ElectricPower(s.heat);
  s.facility = flow.grid + s.cooling;
  s.outdoor = config_.weather.At(from);
  s.fabric_peak_utilization = running_ > 0 ? fabric_utilization_ : 0.0;
}

std::vector<LinkLoad> Site::HottestLinks(size_t n) const {
  std::vector<LinkLoad> all;
  for (size_t l = 0; l < link_peak_.size(); ++l) {
    if (link_peak_[l] > 0) all.push_back({static_cast<int>(l), link_peak_[l], link_peak_at_[l]});
  }
  std::stable_sort(all.begin(), all.end(), [](const LinkLoad& a, const LinkLoad& b) {
    return a.utilization > b.utilization;
  });
  if (all.size() > n) all.resize(n);
  return all;
}

}  // namespace firstwall::site
