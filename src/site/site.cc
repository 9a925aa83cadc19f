#include "site/site.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "core/error.h"
#include "network/max_min.h"

namespace firstwall::site {
using namespace units;

int NodesFor(const JobConfig& job, const ClusterConfig& cluster) {
  const int gpus = workload::GpuCount(job.setup);
  return (gpus + cluster.gpus_per_node - 1) / cluster.gpus_per_node;
}

int NodesFor(const ServiceConfig& service, const ClusterConfig& cluster) {
  const int per_replica = service.setup.replica.tp * service.setup.replica.pp;
  const int gpn = cluster.gpus_per_node;
  if (per_replica <= gpn) {
    const int per_node = gpn / per_replica;
    return (service.setup.replicas + per_node - 1) / per_node;
  }
  return service.setup.replicas * ((per_replica + gpn - 1) / gpn);
}

network::FabricSpec FabricFor(const SiteConfig& c) {
  network::FabricSpec f = c.fabric;
  f.nodes = c.cluster.nodes;
  f.gpus_per_node = c.cluster.gpus_per_node;
  f.nvlink_domain = c.cluster.nvlink_domain();
  network::SetNvlinkFromCard(f, c.cluster.gpu);
  f.nic_per_gpu = c.cluster.nic_bandwidth;
  return f;
}

Site::Site(SiteConfig config)
    : config_(std::move(config)),
      gpu_power_(config_.cluster.gpu.idle_power, config_.cluster.gpu.tdp,
                 config_.cluster.gpu_power_cap),
      fabric_(FabricFor(config_)),
      chain_(config_.facility.power_chain),
      plant_(config_.facility.cooling) {
  const ClusterConfig& c = config_.cluster;
  idle_gpu_w_ = ToWatts(gpu_power_.At(0));
  limit_ = gpu_power_.limit();
  if (config_.facility.battery) {
    battery_j_ = config_.facility.battery->initial_soc * ToJoules(config_.facility.battery->energy);
  }
  power_events_.limit_min_w = ToWatts(limit_);
  idle_node_w_ = c.gpus_per_node * idle_gpu_w_ + ToWatts(c.node_base_power);

  // Place jobs on consecutive nodes in declaration order.
  int next_node = 0;
  for (const JobConfig& jc : config_.jobs) {
    workload::StepEstimate est = workload::EstimateStep(jc.setup);
    PlacedJob pj(jc, est, next_node, NodesFor(jc, c));
    const units::Duration step = Resume(pj, jc.start);
    pj.history.push_back({jc.start, SimTime(), 1.0, step});
    next_node += pj.node_count;
    FW_CHECK(next_node <= c.nodes, "jobs do not fit in the cluster");
    jobs_.push_back(std::move(pj));
  }
  job_node_w_.assign(jobs_.size(), 0.0);
  job_gpu_j_.assign(jobs_.size(), 0.0);
  // Services after the jobs: each one's serving simulation, binned at the tick.
  for (const ServiceConfig& sc : config_.services) {
    workload::ServiceSetup setup = sc.setup;
    setup.end_s = std::min(setup.end_s, config_.duration.seconds());
    setup.bin_s = config_.tick.seconds();
    PlacedService ps;
    ps.name = setup.name;
    ps.start_s = setup.start_s;
    ps.end_s = setup.end_s;
    ps.first_node = next_node;
    ps.node_count = NodesFor(sc, c);
    ps.gpus = setup.replicas * setup.replica.tp * setup.replica.pp;
    next_node += ps.node_count;
    FW_CHECK(next_node <= c.nodes, "services do not fit in the cluster");
    ps.result = workload::Serve(setup, sc.requests, config_.seed);
    ps.cum_j.push_back(0);
    for (size_t i = 0; i < ps.result.gpu_power_w.size(); ++i) {
      const double from = ps.start_s + static_cast<double>(i) * setup.bin_s;
      ps.cum_j.push_back(ps.cum_j.back() + ps.result.gpu_power_w[i] *
                                               (std::min(from + setup.bin_s, ps.end_s) - from));
    }
    services_.push_back(std::move(ps));
  }
  service_node_w_.assign(services_.size(), 0.0);

  // Each rack as runs of nodes belonging to one job or idle.
  racks_.resize(static_cast<size_t>(c.rack_count()));
  std::vector<int> owner(static_cast<size_t>(c.nodes), -1);
  for (size_t j = 0; j < jobs_.size(); ++j) {
    for (int n = 0; n < jobs_[j].node_count; ++n) {
      owner[static_cast<size_t>(jobs_[j].first_node + n)] = static_cast<int>(j);
    }
  }
  for (size_t k = 0; k < services_.size(); ++k) {
    for (int n = 0; n < services_[k].node_count; ++n) {
      owner[static_cast<size_t>(services_[k].first_node + n)] = -2 - static_cast<int>(k);
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
  rack_w_.assign(racks_.size(), 0.0);
  rack_dark_.assign(racks_.size(), 0);
  for (size_t i = 0; i < chain_.stages().size(); ++i) {
    const size_t units = (racks_.size() + RacksPerUnit(i) - 1) / RacksPerUnit(i);
    unit_tripped_.emplace_back(units, 0);
    tree_ = tree_ || units > 1;
    unit_limit_w_.emplace_back(units, std::numeric_limits<double>::infinity());
    unit_quiet_since_.emplace_back(units, SimTime::Never());
    unit_out_w_.emplace_back(units, 0.0);
  }
  sample_.job_it.assign(jobs_.size(), Watts(0));
  // Each job's traffic as flows; a network flow once per plane (striped), with one ECMP id.
  uint64_t id = 0;
  std::vector<size_t> at_start;
  for (size_t j = 0; j < jobs_.size(); ++j) {
    PlacedJob& pj = jobs_[j];
    const JobFlowEnds ends =
        JobFlows(pj.config.setup, pj.first_node * c.gpus_per_node, fabric_.domain_size());
    for (int k = 0; k < kTrafficKinds; ++k) {
      RoutedTraffic& t = pj.traffic[static_cast<size_t>(k)];
      for (const FlowEnds& e : ends[static_cast<size_t>(k)]) {
        ++id;
        const int planes = fabric_.SameDomain(e.src, e.dst) ? 1 : fabric_.planes();
        for (int pl = 0; pl < planes; ++pl) {
          t.ends.push_back(e);
          t.ids.push_back(id);
          t.planes.push_back(pl);
        }
      }
      t.paths.resize(t.ends.size());
      t.rates.assign(t.ends.size(), 0.0);
    }
    if (pj.config.start == SimTime()) {
      pj.on_fabric = true;
      at_start.push_back(j);
    }
  }
  // Jobs sharing the fabric from the start (oversubscribed tiers, ECMP collisions).
  RecomputeNetwork(SimTime(), {}, at_start, false);
}

std::vector<workload::Phase> Site::Effective(const std::vector<workload::Phase>& phases,
                                             units::Power limit) const {
  std::vector<workload::Phase> out = phases;
  for (workload::Phase& p : out) {
    const power::GpuPowerModel::Limited l = gpu_power_.UnderLimit(p.activity, limit);
    p.duration = p.duration * l.stretch;
    p.activity = l.activity;
  }
  return out;
}

units::Duration Site::Resume(PlacedJob& pj, SimTime at) {
  std::vector<workload::Phase> phases = Effective(
      pj.current.phases, std::min({limit_, Watts(pj.thermal_limit_w), Watts(ChainLimitWatts(pj))}));
  units::Duration step = Seconds(0);
  for (const workload::Phase& p : phases) step = step + p.duration;
  pj.timeline.Rebase(at, phases);
  AppendSegmentValues(pj, phases);
  return step;
}

bool Site::StaticCapBinds(const PlacedJob& pj) const {
  const hardware::GpuSpec& g = config_.cluster.gpu;
  if (limit_ >= g.tdp) return false;
  // The demand is the uncapped board power of the phase's activity (GpuPowerModel::At clips it).
  for (const workload::Phase& ph : pj.current.phases) {
    const Power demand = g.idle_power + (g.tdp - g.idle_power) * ph.activity;
    if (demand > limit_ + Watts(1e-6)) return true;
  }
  return false;
}

void Site::AppendSegmentValues(PlacedJob& pj, const std::vector<workload::Phase>& phases) {
  const ClusterConfig& c = config_.cluster;
  const int gpus = workload::GpuCount(pj.config.setup);
  const int idle_gpus = pj.node_count * c.gpus_per_node - gpus;
  std::vector<double> act, gpu, node;
  for (const workload::Phase& ph : phases) {
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

void Site::Route(RoutedTraffic& t, std::vector<double>* placed) const {
  const double stripe = ToBytesPerSecond(config_.cluster.nic_bandwidth) / fabric_.planes();
  for (size_t f = 0; f < t.paths.size(); ++f) {
    const FlowEnds& e = t.ends[f];
    if (placed == nullptr) {
      t.paths[f] = fabric_.Route(e.src, e.dst, t.ids[f], t.planes[f]);
      continue;
    }
    // Adaptive routing places flows one by one on the least-loaded spine, counting each at its
    // nominal stripe rate.
    t.paths[f] = fabric_.RouteLeastLoaded(e.src, e.dst, *placed, t.planes[f]);
    for (int32_t l : t.paths[f].links) (*placed)[static_cast<size_t>(l)] += stripe;
  }
}

void Site::RecomputeNetwork(SimTime now, const std::vector<int>& changed_links,
                            const std::vector<size_t>& changed_jobs, bool reroute_all) {
  const size_t nl = fabric_.link_count(), nj = jobs_.size();
  reroute_all = reroute_all || config_.adaptive_routing;
  std::vector<char> touched(nl, 0), job_changed(nj, 0);
  for (int l : changed_links) touched[static_cast<size_t>(l)] = 1;
  for (size_t j : changed_jobs) {
    job_changed[j] = 1;
    if (jobs_[j].on_fabric) continue;
    // A job leaving frees its links: the jobs that shared them are touched.
    for (RoutedTraffic& t : jobs_[j].traffic) {
      for (const network::FlowPath& p : t.paths) {
        for (int32_t l : p.links) touched[static_cast<size_t>(l)] = 1;
      }
    }
  }
  const std::vector<double>& nominal = fabric_.nominal();
  std::vector<int> parent(nj), owner;
  std::vector<char> hit(nj), in_solve(nj);
  std::vector<const network::FlowPath*> flows;
  std::vector<std::pair<size_t, size_t>> flow_of;  // (job, flow index)
  std::vector<double> placed;
  auto find = [&](int j) {
    while (parent[static_cast<size_t>(j)] != j) {
      j = parent[static_cast<size_t>(j)] =
          parent[static_cast<size_t>(parent[static_cast<size_t>(j)])];
    }
    return j;
  };
  for (int k = 0; k < kTrafficKinds; ++k) {
    // The jobs this change reaches directly.
    bool any = false;
    for (size_t j = 0; j < nj; ++j) {
      RoutedTraffic& t = jobs_[j].traffic[static_cast<size_t>(k)];
      hit[j] = 0;
      if (t.ends.empty()) continue;
      bool h = job_changed[j] || (reroute_all && jobs_[j].on_fabric);
      for (size_t f = 0; f < t.paths.size() && !h; ++f) {
        for (int32_t l : t.paths[f].links) h = h || touched[static_cast<size_t>(l)];
      }
      hit[j] = h;
      any = any || h;
    }
    if (!any) continue;
    // Reroute them (around down links), drop the flows of jobs that left.
    if (config_.adaptive_routing) placed.assign(nl, 0.0);
    for (size_t j = 0; j < nj; ++j) {
      if (!hit[j]) continue;
      RoutedTraffic& t = jobs_[j].traffic[static_cast<size_t>(k)];
      if (!jobs_[j].on_fabric) {
        std::fill(t.paths.begin(), t.paths.end(), network::FlowPath{});
        continue;
      }
      Route(t, config_.adaptive_routing ? &placed : nullptr);
    }
    // Jobs sharing a link share bandwidth: re-solve every job connected to a touched one.
    std::iota(parent.begin(), parent.end(), 0);
    owner.assign(nl, -1);
    for (size_t j = 0; j < nj; ++j) {
      if (!jobs_[j].on_fabric) continue;
      for (const network::FlowPath& p : jobs_[j].traffic[static_cast<size_t>(k)].paths) {
        for (int32_t l : p.links) {
          int& o = owner[static_cast<size_t>(l)];
          if (o < 0) {
            o = static_cast<int>(j);
          } else {
            parent[static_cast<size_t>(find(static_cast<int>(j)))] = find(o);
          }
        }
      }
    }
    std::fill(in_solve.begin(), in_solve.end(), 0);
    for (size_t j = 0; j < nj; ++j) {
      if (hit[j] && jobs_[j].on_fabric)
        in_solve[static_cast<size_t>(find(static_cast<int>(j)))] = 1;
    }
    flows.clear();
    flow_of.clear();
    for (size_t j = 0; j < nj; ++j) {
      const bool solve =
          jobs_[j].on_fabric && in_solve[static_cast<size_t>(find(static_cast<int>(j)))];
      in_solve[j] = in_solve[j] || solve;  // roots stay marked; members are marked here
      if (!solve) continue;
      const RoutedTraffic& t = jobs_[j].traffic[static_cast<size_t>(k)];
      for (size_t f = 0; f < t.paths.size(); ++f) {
        flows.push_back(&t.paths[f]);
        flow_of.push_back({j, f});
      }
    }
    const std::vector<double> rates =
        network::MaxMinRates(fabric_.capacity(), flows, std::numeric_limits<double>::infinity());
    for (size_t i = 0; i < rates.size(); ++i) {
      jobs_[flow_of[i].first].traffic[static_cast<size_t>(k)].rates[flow_of[i].second] = rates[i];
    }
    // Per medium, the slowest flow's rate and the share of nominal it gets.
    for (size_t j = 0; j < nj; ++j) {
      RoutedTraffic& t = jobs_[j].traffic[static_cast<size_t>(k)];
      if (t.ends.empty() || !jobs_[j].on_fabric || !in_solve[j]) continue;
      t.nvlink_rate = t.network_rate = std::numeric_limits<double>::infinity();
      t.share = {1.0, 1.0};
      for (size_t f = 0; f < t.paths.size(); ++f) {
        if (t.paths[f].links.empty()) continue;
        const int32_t first = t.paths[f].links.front();
        const bool nvlink = fabric_.IsNvlink(first);
        double& slowest = nvlink ? t.nvlink_rate : t.network_rate;
        slowest = std::min(slowest, t.rates[f]);
        // A job cut off from part of a ring stalls; it is modelled as 1% of the bandwidth until
        // the fault clears, so its steps stretch rather than stop.
        const double share =
            std::clamp(t.rates[f] / nominal[static_cast<size_t>(first)], 0.01, 1.0);
        double& s = nvlink ? t.share.nvlink : t.share.network;
        s = std::min(s, share);
      }
    }
  }
  // Rebase the jobs whose step changes.
  for (size_t j = 0; j < nj; ++j) {
    PlacedJob& pj = jobs_[j];
    if (!pj.on_fabric) continue;
    workload::TrafficShares shares = pj.config.setup.traffic;
    double lowest = 1.0;
    bool changed = false;
    for (Traffic kind : kAllTraffic) {
      const workload::FabricShare& now_share = pj.traffic[static_cast<size_t>(kind)].share;
      workload::FabricShare& s = ShareOf(shares, kind);
      changed = changed || std::abs(s.nvlink - now_share.nvlink) > 1e-12 ||
                std::abs(s.network - now_share.network) > 1e-12;
      s = now_share;
      lowest = std::min({lowest, s.nvlink, s.network});
    }
    if (!changed) continue;
    pj.config.setup.traffic = shares;
    pj.current = workload::EstimateStep(pj.config.setup);
    const SimTime at = std::max(now, pj.config.start);
    if (at >= pj.config.end) continue;
    // A job writing a checkpoint resumes at the new pace when it finishes.
    if (pj.checkpointing) continue;
    const units::Duration step = Resume(pj, at);
    if (at == pj.config.start && pj.history.size() == 1) {
      // The fabric as the job finds it when it starts.
      pj.estimate = pj.current;
      pj.history.front() = {at, SimTime(), lowest, step};
    } else {
      pj.history.push_back({at, now, lowest, step});
    }
  }
  UpdateLinkLoads(now);
}

// Average link loads: each kind of a job's traffic moves in lockstep at its slowest flow's rate,
// for the share of the job's step during which that kind is active; against healthy capacity.
void Site::UpdateLinkLoads(SimTime now) {
  std::vector<double> load(fabric_.link_count(), 0.0);
  for (const PlacedJob& pj : jobs_) {
    if (!pj.on_fabric) continue;
    const double step = ToSeconds(pj.current.step_time);
    for (Traffic kind : kAllTraffic) {
      const RoutedTraffic& t = pj.traffic[static_cast<size_t>(kind)];
      const double busy = std::min(1.0, BusySeconds(pj.current, kind) / step);
      if (busy <= 0) continue;
      for (const network::FlowPath& p : t.paths) {
        if (p.links.empty()) continue;
        const double rate = fabric_.IsNvlink(p.links.front()) ? t.nvlink_rate : t.network_rate;
        if (std::isinf(rate)) continue;
        for (int32_t l : p.links) load[static_cast<size_t>(l)] += rate * busy;
      }
    }
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
    if (std::abs(u - link_now_[l]) > 1e-12) {
      link_changes_.push_back({now, static_cast<int>(l), u});
    }
    link_now_[l] = u;
    if (u <= 0) continue;
    if (!fabric_.IsNvlink(static_cast<int>(l)))
      fabric_utilization_ = std::max(fabric_utilization_, u);
    if (u > link_peak_[l]) {
      link_peak_[l] = u;
      link_peak_at_[l] = now;
    }
  }
}

void Site::ScheduleEvents(EventQueue& events) {
  events_ = &events;
  for (const FaultConfig& f : config_.faults) {
    events.Schedule(f.at, "fault " + f.target, [this, &f] {
      for (int l : f.links) fabric_.SetLinkHealth(l, f.health);
      RecomputeNetwork(f.at, f.links, {}, false);
    });
    if (f.end != SimTime::Never()) {
      events.Schedule(f.end, "repair " + f.target, [this, &f] {
        // A link back from down draws ECMP choices that avoided it: reroute everything.
        const bool was_down = f.health <= 0;
        for (int l : f.links) fabric_.SetLinkHealth(l, 1.0);
        RecomputeNetwork(f.end, f.links, {}, was_down);
      });
    }
  }
  for (size_t j = 0; j < jobs_.size(); ++j) {
    const PlacedJob& pj = jobs_[j];
    events.Schedule(pj.config.start, "start " + pj.config.name, [this, j] {
      if (jobs_[j].stopped) return;  // the power chain tripped before it began
      ++running_;
      if (jobs_[j].on_fabric) return;  // joined at construction
      jobs_[j].on_fabric = true;
      RecomputeNetwork(jobs_[j].config.start, {}, {j}, false);
    });
    if (pj.config.end != SimTime::Never()) {
      events.Schedule(pj.config.end, "end " + pj.config.name, [this, j] {
        PlacedJob& job = jobs_[j];
        if (job.stopped) return;
        --running_;
        job.on_fabric = false;
        if (job.checkpointing) FinishCheckpoint(j, job.config.end);
        RecomputeNetwork(job.config.end, {}, {j}, false);
      });
    }
    if (pj.config.checkpoint_every != SimTime::Never()) {
      events.Schedule(
          pj.config.start + pj.config.checkpoint_every, "checkpoint " + pj.config.name, [this, j] {
            StartCheckpoint(j, jobs_[j].config.start + jobs_[j].config.checkpoint_every);
          });
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
  bool static_cap_binds = false;
  for (size_t j = 0; j < jobs_.size(); ++j) {
    const PlacedJob& pj = jobs_[j];
    const double run_s = pj.timeline.RunningSeconds(from, to);
    if (run_s <= 0) {
      job_node_w_[j] = idle_node_w_;
      s.job_it[j] = Watts(0);
      continue;
    }
    static_cap_binds = static_cap_binds || StaticCapBinds(pj);
    const double idle_frac = 1.0 - run_s / dt;
    const double busy_node_w = pj.timeline.Integrate(pj.node_power_w, from, to) / dt;
    job_node_w_[j] = busy_node_w + idle_frac * idle_node_w_;
    s.job_it[j] = Watts(busy_node_w * pj.node_count);  // only while it runs
    // GPU power of the job's GPUs above their idle draw.
    const int gpus = workload::GpuCount(pj.config.setup);
    job_gpu_j_[j] = pj.timeline.Integrate(pj.gpu_power_w, from, to);
    gpu_w += job_gpu_j_[j] / dt - gpus * idle_gpu_w_ * run_s / dt;
    activity_sum += gpus * pj.timeline.Integrate(pj.activity, from, to) / dt;
  }

  const double span_w = ToWatts(c.gpu.tdp - c.gpu.idle_power);
  for (size_t k = 0; k < services_.size(); ++k) {
    const PlacedService& ps = services_[k];
    const double w = ServiceGpuWatts(k, from, to);
    gpu_w += w - ps.gpus * idle_gpu_w_;
    // The binned energy can sit a rounding error below idle: no negative activity.
    activity_sum += std::max(0.0, w - ps.gpus * idle_gpu_w_) / span_w;
    service_node_w_[k] = (w + (ps.node_count * c.gpus_per_node - ps.gpus) * idle_gpu_w_ +
                          ps.node_count * ToWatts(c.node_base_power)) /
                         ps.node_count;
  }

  double it_w = 0, peak_rack_w = 0;
  for (size_t k = 0; k < racks_.size(); ++k) {
    double rack_w = 0;
    int nodes = 0;
    for (const RackSegment& seg : racks_[k]) {
      const double node_w = seg.job == -1  ? idle_node_w_
                            : seg.job < -1 ? service_node_w_[static_cast<size_t>(-2 - seg.job)]
                                           : job_node_w_[static_cast<size_t>(seg.job)];
      rack_w += seg.nodes * node_w;
      nodes += seg.nodes;
    }
    if (rack_dark_[k]) {
      // Behind a tripped unit: nothing runs there (its jobs stopped), nothing draws.
      gpu_w -= nodes * c.gpus_per_node * idle_gpu_w_;
      rack_w = 0;
    }
    rack_w_[k] = rack_w;
    it_w += rack_w;
    peak_rack_w = std::max(peak_rack_w, rack_w);
  }
  s.it = Watts(it_w);
  s.gpu = Watts(gpu_w);
  s.node_base = s.it - s.gpu;
  s.gpu_activity_sum = activity_sum;
  s.peak_rack = Watts(peak_rack_w);
  const power::ChainFlow flow = TreeFlow();
  s.stage_input = flow.input;
  s.stage_unit_peak.resize(flow.input.size());
  for (size_t i = 0; i < flow.input.size(); ++i)
    s.stage_unit_peak[i] = Watts(StageUnitPeakWatts(i));
  s.stage_loss = flow.loss;
  s.conversion_loss = flow.total_loss;
  s.it_input = s.it;
  const auto& stages = chain_.stages();
  for (size_t i = 0; i < stages.size() && stages[i].it_equipment; ++i) s.it_input = flow.input[i];
  s.heat = s.it + s.conversion_loss;
  s.outdoor = config_.weather.At(from);
  s.plant = plant_.Advance(dt, s.it, s.conversion_loss, s.outdoor);
  s.cooling = s.plant.electric;
  HeatGpus(from, to, s.plant.gpu_coolant);
  s.facility = flow.grid + s.cooling;
  Dispatch(dt);
  s.fabric_peak_utilization = running_ > 0 ? fabric_utilization_ : 0.0;
  // Limited while a cap_gpus stage holds a lowered limit, or while the static cap is below what a
  // running job's GPUs would draw (a cap at or above every phase's demand costs nothing).
  bool lowered = false;
  for (const auto& stage : unit_limit_w_) {
    lowered = lowered ||
              std::any_of(stage.begin(), stage.end(), [](double v) { return std::isfinite(v); });
  }
  if (static_cap_binds) power_events_.static_cap_s += dt;
  if (lowered || static_cap_binds) power_events_.limited_s += dt;
  ProtectChain(to);
}

power::ChainFlow Site::TreeFlow() {
  const auto& stages = chain_.stages();
  if (!tree_ && power_events_.tripped_units == 0) {
    // One unit per stage and none open: the chain at the site's IT load.
    const power::ChainFlow flow = chain_.Flow(sample_.it);
    for (size_t i = 0; i < stages.size(); ++i) {
      unit_out_w_[i][0] = ToWatts(i == 0 ? sample_.it : flow.input[i - 1]);
    }
    return flow;
  }
  power::ChainFlow f;
  std::vector<double>& level = tree_level_;  // loads per element of the level inside
  std::vector<double>& next = tree_next_;
  level.assign(rack_w_.begin(), rack_w_.end());
  size_t group = 1;  // racks per element of `level`
  for (size_t i = 0; i < stages.size(); ++i) {
    const size_t per_unit = RacksPerUnit(i);
    // Elements per unit (levels nest: checked at load); a unit of the whole site takes them all.
    const size_t k =
        per_unit >= racks_.size() ? std::max<size_t>(1, level.size()) : per_unit / group;
    FW_CHECK(k >= 1, "power chain levels do not nest: '" + stages[i].name + "'");
    next.assign((level.size() + k - 1) / k, 0.0);
    std::vector<double>& outs = unit_out_w_[i];
    outs.assign(next.size(), 0.0);
    double in_sum = 0, out_sum = 0;
    for (size_t u = 0; u < next.size(); ++u) {
      for (size_t e = u * k; e < std::min(level.size(), (u + 1) * k); ++e) outs[u] += level[e];
      // A tripped unit is open: no load, no losses.
      next[u] = unit_tripped_[i][u] ? 0.0 : ToWatts(chain_.StageInput(i, Watts(outs[u])));
      in_sum += next[u];
      out_sum += outs[u];
    }
    f.input.push_back(Watts(in_sum));
    f.loss.push_back(Watts(in_sum - out_sum));
    f.total_loss += Watts(in_sum - out_sum);
    level.swap(next);
    group = per_unit;
  }
  double grid = 0;
  for (double v : level) grid += v;
  f.grid = Watts(grid);
  return f;
}

double Site::StageUnitPeakWatts(size_t stage) const {
  double peak = 0;
  for (double v : unit_out_w_[stage]) peak = std::max(peak, v);
  return peak;
}

size_t Site::RacksPerUnit(size_t stage) const {
  const int g = chain_.stages()[stage].racks_per_unit;
  return g > 0 ? std::min(static_cast<size_t>(g), racks_.size()) : racks_.size();
}

void Site::Dispatch(double dt) {
  WindowSample& s = sample_;
  const FacilityConfig& f = config_.facility;
  double demand = ToWatts(s.facility);
  s.generation = s.battery = Watts(0);
  if (f.generation) {
    const double cap = ToWatts(f.generation->capacity);
    const double target = f.grid_import_limit > Watts(0)
                              ? std::clamp(demand - ToWatts(f.grid_import_limit), 0.0, cap)
                              : 0.0;
    const double step = cap / ToSeconds(f.generation->ramp_time) * dt;
    generation_w_ = std::clamp(target, generation_w_ - step, generation_w_ + step);
    s.generation = Watts(generation_w_);
    demand -= generation_w_;
  }
  if (f.battery) {
    const SiteBattery& b = *f.battery;
    const double capacity = ToJoules(b.energy);
    // Discharge above one level, charge below the other, rest between them.
    const double want = demand > ToWatts(b.discharge_above) ? demand - ToWatts(b.discharge_above)
                        : demand < ToWatts(b.charge_below)  ? demand - ToWatts(b.charge_below)
                                                            : 0.0;
    const double out = power::BatteryExchange(want, ToWatts(b.power), capacity,
                                              b.round_trip_efficiency, dt, &battery_j_);
    s.battery = Watts(out);
    s.battery_soc = capacity > 0 ? battery_j_ / capacity : 0.0;
    demand -= out;
  }
  s.grid = Watts(demand);
}

void Site::HeatGpus(SimTime from, SimTime to, units::Temperature coolant) {
  const thermal::CoolingConfig& cc = config_.facility.cooling;
  const hardware::ThermalLimits& th = config_.cluster.gpu.thermal;
  const double r = ToKelvinPerWatt(cc.chip_to_coolant), tau = ToSeconds(cc.chip_time_constant);
  const double tc = ToCelsius(coolant), slow = ToCelsius(th.slowdown),
               stop = ToCelsius(th.shutdown);
  if (slow <= -273) return;  // no thresholds in the card
  for (size_t j = 0; j < jobs_.size(); ++j) {
    PlacedJob& pj = jobs_[j];
    const double run_s = pj.timeline.RunningSeconds(from, to);
    if (pj.stopped || run_s <= 0) continue;
    const double gpus = workload::GpuCount(pj.config.setup);
    const double p = job_gpu_j_[j] / run_s / gpus;  // integrated in Advance
    const double steady = tc + r * p;
    pj.chip_c =
        std::isnan(pj.chip_c) ? steady : steady + (pj.chip_c - steady) * std::exp(-run_s / tau);
    pj.chip_peak_c = std::max(pj.chip_peak_c, pj.chip_c);
    if (std::isfinite(pj.thermal_limit_w)) pj.throttled_gpu_s += gpus * run_s;
    if (to >= pj.config.end) continue;
    if (pj.chip_c >= stop) {
      // Shutdown: the job's GPUs stop; its flows leave the fabric.
      pj.thermal_shutdown = pj.stopped = true;
      --running_;
      pj.on_fabric = false;
      pj.checkpointing = false;
      pj.timeline.Stop(to);
      RecomputeNetwork(to, {}, {j}, false);
      continue;
    }
    double next = pj.thermal_limit_w;
    if (pj.chip_c >= slow - 0.5) {
      next = std::max(ToWatts(gpu_power_.idle()), (slow - 1.0 - tc) / r);  // just below slowdown
    } else if (std::isfinite(next)) {
      double top = 0;  // what it would draw at its busiest without the thermal limit
      const units::Power other = std::min(limit_, Watts(ChainLimitWatts(pj)));
      for (const workload::Phase& ph : pj.current.phases) {
        top = std::max(top, ToWatts(std::min(gpu_power_.At(ph.activity), other)));
      }
      // Cool enough again, with hysteresis.
      if (tc + r * top <= slow - 3.0) next = std::numeric_limits<double>::infinity();
    }
    const bool changed = std::isinf(next) != std::isinf(pj.thermal_limit_w) ||
                         (std::isfinite(next) && std::abs(next - pj.thermal_limit_w) > 1.0);
    if (!changed || pj.checkpointing) continue;
    pj.thermal_limit_w = next;
    const units::Duration step = Resume(pj, to);
    pj.history.push_back({to, to, pj.history.back().network_factor, step});
  }
}

void Site::ProtectChain(SimTime at) {
  const auto& stages = chain_.stages();
  const ClusterConfig& c = config_.cluster;
  const double idle = idle_gpu_w_, top = ToWatts(gpu_power_.limit());
  for (size_t i = 0; i < stages.size(); ++i) {
    const power::ConversionStage& st = stages[i];
    if (st.on_overload == power::OverloadPolicy::kReport || st.rating <= Watts(0)) continue;
    const std::vector<double>& outs = unit_out_w_[i];
    const double rating = ToWatts(st.rating);
    const size_t per = RacksPerUnit(i);
    for (size_t u = 0; u < outs.size(); ++u) {
      if (unit_tripped_[i][u]) continue;
      if (st.on_overload == power::OverloadPolicy::kTrip) {
        if (outs[u] > rating * (1 + 1e-9)) Trip(at, i, u);
        continue;
      }
      // cap_gpus: a limit for the GPUs behind this unit, from its IT load and running GPUs.
      const size_t first = u * per, last = std::min(racks_.size(), first + per);
      double it_w = 0, gpus = 0;
      for (size_t k = first; k < last; ++k) {
        it_w += rack_w_[k];
        for (const RackSegment& seg : racks_[k]) {
          if (seg.job >= 0 && jobs_[static_cast<size_t>(seg.job)].timeline.RunningSeconds(
                                  at, at + SimTime::FromNanoseconds(1)) > 0) {
            gpus += seg.nodes * c.gpus_per_node;
          }
        }
      }
      double& limit = unit_limit_w_[i][u];
      SimTime& quiet = unit_quiet_since_[i][u];
      const double now = std::isfinite(limit) ? limit : top;
      double next = limit;
      const double ratio = outs[u] / rating;
      if (ratio > 1 + 1e-9 && gpus > 0) {
        // Take the excess (to 98% of the rating) off the running GPUs' headroom; the unit's output
        // moves with its IT load nearly in proportion, so a window or two bring it within rating.
        const double cut_it = (outs[u] - 0.98 * rating) * it_w / outs[u];
        next = std::max(idle, now - cut_it / gpus);
        if (power_events_.limiting_stage.empty()) power_events_.limiting_stage = st.name;
      } else if (ratio < 0.9 && std::isfinite(limit)) {
        // Give power back slowly, and only after a minute below 90% of the rating: a window of
        // communication inside a step is not headroom.
        if (quiet == SimTime::Never()) quiet = at;
        if (at - quiet >= SimTime::From(kReleaseAfter)) {
          next = now + 0.05 * (top - idle);
          if (next >= top) next = std::numeric_limits<double>::infinity();
          quiet = at;
        }
      }
      if (ratio >= 0.9) quiet = SimTime::Never();
      const bool changed = std::isinf(next) != std::isinf(limit) ||
                           (std::isfinite(next) && std::abs(next - limit) >= 0.5);
      if (!changed) continue;
      limit = next;
      ++power_events_.limit_changes;
      if (std::isfinite(next)) {
        power_events_.limit_min_w = std::min(power_events_.limit_min_w, next);
      }
      // Resume the jobs with nodes behind the unit under their new limit.
      for (size_t j = 0; j < jobs_.size(); ++j) {
        PlacedJob& pj = jobs_[j];
        if (pj.stopped || pj.checkpointing || at < pj.config.start || at >= pj.config.end) continue;
        const auto [r0, r1] = RacksOf(pj);
        if (r1 < first || r0 >= last) continue;
        const units::Duration step = Resume(pj, at);
        pj.history.push_back({at, at, pj.history.back().network_factor, step});
      }
    }
  }
}

std::pair<size_t, size_t> Site::RacksOf(const PlacedJob& pj) const {
  const int per_rack = config_.cluster.nodes_per_rack;
  return {static_cast<size_t>(pj.first_node / per_rack),
          static_cast<size_t>((pj.first_node + pj.node_count - 1) / per_rack)};
}

double Site::ChainLimitWatts(const PlacedJob& pj) const {
  double limit = std::numeric_limits<double>::infinity();
  const auto [r0, r1] = RacksOf(pj);
  for (size_t i = 0; i < unit_limit_w_.size(); ++i) {
    const size_t per = RacksPerUnit(i);
    for (size_t u = r0 / per; u <= r1 / per && u < unit_limit_w_[i].size(); ++u) {
      limit = std::min(limit, unit_limit_w_[i][u]);
    }
  }
  return limit;
}

void Site::Trip(SimTime at, size_t stage, size_t unit) {
  if (power_events_.tripped_stage.empty()) {
    power_events_.tripped_stage = chain_.stages()[stage].name;
    power_events_.tripped_at = at;
  }
  ++power_events_.tripped_units;
  unit_tripped_[stage][unit] = 1;
  // Everything behind the unit goes dark, and so does every unit inside it.
  const size_t per = RacksPerUnit(stage);
  const size_t first = unit * per, last = std::min(racks_.size(), first + per);
  for (size_t k = first; k < last; ++k) rack_dark_[k] = 1;
  std::vector<size_t> stopped;
  for (size_t j = 0; j < jobs_.size(); ++j) {
    PlacedJob& pj = jobs_[j];
    if (pj.stopped || at >= pj.config.end) continue;
    const auto [r0, r1] = RacksOf(pj);
    if (r1 < first || r0 >= last) continue;  // none of its nodes lost power
    if (at >= pj.config.start) --running_;   // started and not over: it counted as running
    pj.stopped = true;
    pj.on_fabric = false;
    pj.checkpointing = false;
    pj.timeline.Stop(at);
    stopped.push_back(j);
  }
  if (!stopped.empty()) RecomputeNetwork(at, {}, stopped, false);
}

void Site::RecomputeEverything(SimTime now) {
  std::vector<size_t> all(jobs_.size());
  std::iota(all.begin(), all.end(), 0);
  RecomputeNetwork(now, {}, all, true);
}

void Site::StartCheckpoint(size_t j, SimTime now) {
  PlacedJob& pj = jobs_[j];
  if (now >= pj.config.end || pj.stopped) return;
  // The next one, an interval after this one was due.
  const SimTime next = now + pj.config.checkpoint_every;
  events_->Schedule(next, "checkpoint " + pj.config.name,
                    [this, j, next] { StartCheckpoint(j, next); });
  if (pj.checkpointing) {
    ++pj.checkpoints_skipped;
    return;
  }
  DrainCheckpoints(now);
  pj.checkpointing = true;
  pj.checkpoint_left_bytes = ToBytes(pj.config.checkpoint_size);
  pj.checkpoint_started = now;
  ++pj.checkpoints;
  // The GPUs wait for the write: idle activity, no steps.
  const std::vector<workload::Phase> stall = {{"checkpoint", Seconds(1), 0.0}};
  pj.timeline.Rebase(now, stall, false);
  AppendSegmentValues(pj, stall);
  ShareStorage(now);
}

void Site::FinishCheckpoint(size_t j, SimTime now) {
  PlacedJob& pj = jobs_[j];
  DrainCheckpoints(now);
  pj.checkpointing = false;
  pj.checkpoint_seconds += (now - pj.checkpoint_started).seconds();
  if (now < pj.config.end) Resume(pj, now);
  ShareStorage(now);
}

void Site::DrainCheckpoints(SimTime now) {
  const double dt = (now - storage_since_).seconds();
  for (PlacedJob& pj : jobs_) {
    if (pj.checkpointing) {
      pj.checkpoint_left_bytes = std::max(0.0, pj.checkpoint_left_bytes - pj.checkpoint_rate * dt);
    }
  }
  storage_since_ = now;
}

void Site::ShareStorage(SimTime now) {
  // Links: each job's front-end NICs together, then the storage system.
  const ClusterConfig& c = config_.cluster;
  std::vector<double> capacity;
  std::vector<network::FlowPath> flows;
  std::vector<size_t> writer;
  for (size_t j = 0; j < jobs_.size(); ++j) {
    if (!jobs_[j].checkpointing) continue;
    capacity.push_back(ToBytesPerSecond(c.frontend_per_node) * jobs_[j].node_count);
    writer.push_back(j);
  }
  const int32_t storage = static_cast<int32_t>(capacity.size());
  capacity.push_back(ToBytesPerSecond(c.storage_bandwidth));
  for (size_t k = 0; k < writer.size(); ++k) flows.push_back({{static_cast<int32_t>(k), storage}});
  const std::vector<double> rates = network::MaxMinRates(capacity, flows, 0.0);
  double total = 0;
  for (size_t k = 0; k < writer.size(); ++k) {
    PlacedJob& pj = jobs_[writer[k]];
    pj.checkpoint_rate = rates[k];
    total += rates[k];
    const uint64_t gen = ++pj.checkpoint_generation;
    const SimTime done =
        now + SimTime::From(Seconds(std::max(1e-9, pj.checkpoint_left_bytes / rates[k])));
    const size_t j = writer[k];
    events_->Schedule(done, "checkpoint written " + pj.config.name, [this, j, gen, done] {
      if (jobs_[j].checkpointing && jobs_[j].checkpoint_generation == gen)
        FinishCheckpoint(j, done);
    });
  }
  storage_peak_ = std::max(storage_peak_, total / capacity.back());
}

double Site::JobGpuWatts(size_t j, SimTime from, SimTime to) const {
  const PlacedJob& pj = jobs_[j];
  const double dt = (to - from).seconds();
  const double run_s = pj.timeline.RunningSeconds(from, to);
  const double idle = workload::GpuCount(pj.config.setup) * idle_gpu_w_;
  return (pj.timeline.Integrate(pj.gpu_power_w, from, to) + idle * (dt - run_s)) / dt;
}

double Site::ItBaseWatts() const {
  const ClusterConfig& c = config_.cluster;
  double w = c.gpu_count() * idle_gpu_w_ + c.nodes * ToWatts(c.node_base_power);
  for (const PlacedJob& pj : jobs_) w -= workload::GpuCount(pj.config.setup) * idle_gpu_w_;
  for (const PlacedService& ps : services_) w -= ps.gpus * idle_gpu_w_;
  return w;
}

double Site::ServiceGpuWatts(size_t k, SimTime from, SimTime to) const {
  const PlacedService& ps = services_[k];
  const double a = from.seconds(), b = to.seconds();
  const double idle = ps.gpus * idle_gpu_w_;
  // Energy from start_s to t: the binned series inside the lifetime, idle outside it.
  const double bin = ps.result.bin_s;
  auto energy = [&](double t) {
    if (t <= ps.start_s) return idle * (t - ps.start_s);
    const double in = std::min(t, ps.end_s) - ps.start_s;
    const size_t n = ps.cum_j.size() - 1;
    const double pos = std::min(in / bin, static_cast<double>(n));
    const auto i = std::min(static_cast<size_t>(pos), n > 0 ? n - 1 : 0);
    const double e = n == 0 ? idle * in
                            : ps.cum_j[i] + (ps.cum_j[i + 1] - ps.cum_j[i]) *
                                                std::min(1.0, pos - static_cast<double>(i));
    return e + idle * std::max(0.0, t - ps.end_s);
  };
  return (energy(b) - energy(a)) / (b - a);
}

double Site::NvlinkPeakUtilization() const {
  double peak = 0;
  for (size_t l = 0; l < link_peak_.size() && fabric_.IsNvlink(static_cast<int>(l)); ++l) {
    peak = std::max(peak, link_peak_[l]);
  }
  return peak;
}

std::vector<LinkLoad> Site::HottestLinks(size_t n) const {
  std::vector<LinkLoad> all;
  for (size_t l = 0; l < link_peak_.size(); ++l) {
    if (link_peak_[l] > 0 && !fabric_.IsNvlink(static_cast<int>(l))) {
      all.push_back({static_cast<int>(l), link_peak_[l], link_peak_at_[l]});
    }
  }
  std::stable_sort(all.begin(), all.end(), [](const LinkLoad& a, const LinkLoad& b) {
    return a.utilization > b.utilization;
  });
  if (all.size() > n) all.resize(n);
  return all;
}

}  // namespace firstwall::site
