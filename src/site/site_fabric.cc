// The site's fabric: each training job's collectives as flows routed over the scale-out network
// (network/fabric.h), shared max-min (network/max_min.h) among the running jobs; link loads; and
// checkpoint writes sharing the storage network.
#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "core/error.h"
#include "network/max_min.h"
#include "site/site.h"

namespace firstwall::site {
using namespace units;

void Site::BuildFlows(PlacedJob& pj) {
  const JobFlowEnds ends =
      JobFlows(pj.config.setup, pj.nodes, config_.cluster.gpus_per_node, fabric_.domain_size());
  for (int k = 0; k < kTrafficKinds; ++k) {
    RoutedTraffic& t = pj.traffic[static_cast<size_t>(k)];
    for (const FlowEnds& e : ends[static_cast<size_t>(k)]) {
      const uint64_t id = ++next_flow_id_;  // one ECMP id for all planes of a flow
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

void Site::IndexTraffic(JobId j, int kind, bool add) {
  const uint8_t bit = static_cast<uint8_t>(1u << kind);
  const uint32_t id = static_cast<uint32_t>(j);
  for (const network::FlowPath& p : jobs_[j]->traffic[static_cast<size_t>(kind)].paths) {
    for (int32_t l : p.links) {
      std::vector<LinkUse>& uses = link_jobs_[static_cast<size_t>(l)];
      auto it =
          std::find_if(uses.begin(), uses.end(), [&](const LinkUse& u) { return u.job == id; });
      if (add) {
        if (it == uses.end()) {
          uses.push_back({id, bit});
        } else {
          it->kinds |= bit;
        }
      } else if (it != uses.end()) {
        it->kinds &= static_cast<uint8_t>(~bit);
        if (it->kinds == 0) {
          *it = uses.back();
          uses.pop_back();
        }
      }
    }
  }
}

void Site::RecomputeNetwork(SimTime now, const std::vector<int>& changed_links,
                            const std::vector<size_t>& changed_jobs, bool reroute_all) {
  // Jobs are visited by their position i in active_ (ascending ids, so flows reach the solver in
  // the same order whatever else has come and gone).
  const std::vector<JobId>& act = active_;
  const size_t nl = fabric_.link_count(), na = act.size();
  reroute_all = reroute_all || config_.adaptive_routing;
  if (link_touched_.size() != nl) {
    link_touched_.assign(nl, 0);
    link_dirty_.assign(nl, 0);
    link_jobs_.assign(nl, {});
  }
  std::vector<int32_t>& touched_list = links_set_;
  touched_list.clear();
  auto touch = [&](int32_t l) {
    char& t = link_touched_[static_cast<size_t>(l)];
    if (t == 0) touched_list.push_back(l);
    t = 1;
  };
  auto position = [&](JobId j) {
    const auto it = std::lower_bound(act.begin(), act.end(), j);
    FW_CHECK(it != act.end() && *it == j, "fabric: a job on a link that holds no nodes");
    return static_cast<size_t>(it - act.begin());
  };
  job_changed_.assign(na, 0);
  job_hit_.assign(na, 0);
  job_in_solve_.assign(na, 0);
  for (int l : changed_links) touch(l);
  for (size_t j : changed_jobs) {
    job_changed_[position(j)] = 1;
    if (jobs_[j]->on_fabric) continue;
    // A job leaving frees its links: the jobs that shared them are touched.
    for (RoutedTraffic& t : jobs_[j]->traffic) {
      MarkDirty(t);
      for (const network::FlowPath& p : t.paths) {
        for (int32_t l : p.links) touch(l);
      }
    }
  }
  const std::vector<double>& nominal = fabric_.nominal();
  std::vector<char>&hit = job_hit_, &in_solve = job_in_solve_;
  std::vector<double> placed;
  for (int k = 0; k < kTrafficKinds; ++k) {
    const uint8_t bit = static_cast<uint8_t>(1u << k);
    // The jobs this change reaches directly: changed ones, and those whose flows of this kind
    // cross a touched link.
    bool any = false;
    for (size_t i = 0; i < na; ++i) {
      const PlacedJob& pj = *jobs_[act[i]];
      hit[i] = !pj.traffic[static_cast<size_t>(k)].ends.empty() &&
               (job_changed_[i] || (reroute_all && pj.on_fabric));
      any = any || hit[i];
    }
    for (int32_t l : touched_list) {
      for (const LinkUse& u : link_jobs_[static_cast<size_t>(l)]) {
        if ((u.kinds & bit) == 0) continue;
        hit[position(u.job)] = 1;
        any = true;
      }
    }
    if (!any) continue;
    // Reroute them (around down links), drop the flows of jobs that left.
    if (config_.adaptive_routing) placed.assign(nl, 0.0);
    for (size_t i = 0; i < na; ++i) {
      if (!hit[i]) continue;
      PlacedJob& pj = *jobs_[act[i]];
      RoutedTraffic& t = pj.traffic[static_cast<size_t>(k)];
      MarkDirty(t);  // the links it leaves
      IndexTraffic(act[i], k, false);
      if (!pj.on_fabric) {
        std::fill(t.paths.begin(), t.paths.end(), network::FlowPath{});
        continue;
      }
      Route(t, config_.adaptive_routing ? &placed : nullptr);
      IndexTraffic(act[i], k, true);
    }
    // Jobs sharing a link share bandwidth: re-solve every job connected to a reached one,
    // found breadth-first over the links of this kind.
    std::fill(in_solve.begin(), in_solve.end(), 0);
    bfs_.clear();
    for (size_t i = 0; i < na; ++i) {
      if (hit[i] && jobs_[act[i]]->on_fabric) {
        in_solve[i] = 1;
        bfs_.push_back(i);
      }
    }
    for (size_t q = 0; q < bfs_.size(); ++q) {
      const RoutedTraffic& t = jobs_[act[bfs_[q]]]->traffic[static_cast<size_t>(k)];
      for (const network::FlowPath& p : t.paths) {
        for (int32_t l : p.links) {
          for (const LinkUse& u : link_jobs_[static_cast<size_t>(l)]) {
            if ((u.kinds & bit) == 0) continue;
            const size_t i2 = position(u.job);
            if (in_solve[i2]) continue;
            in_solve[i2] = 1;
            bfs_.push_back(i2);
          }
        }
      }
    }
    solve_flows_.clear();
    solve_flow_of_.clear();
    for (size_t i = 0; i < na; ++i) {
      const PlacedJob& pj = *jobs_[act[i]];
      if (!in_solve[i] || !pj.on_fabric) continue;
      const RoutedTraffic& t = pj.traffic[static_cast<size_t>(k)];
      for (size_t f = 0; f < t.paths.size(); ++f) {
        solve_flows_.push_back(&t.paths[f]);
        solve_flow_of_.push_back({act[i], f});
      }
    }
    std::vector<double>& rates = solve_rates_;
    solver_.Solve(fabric_.capacity(), solve_flows_, std::numeric_limits<double>::infinity(), rates);
    NoteBottlenecks(solve_flows_, rates);
    for (size_t r = 0; r < rates.size(); ++r) {
      const auto [j, f] = solve_flow_of_[r];
      jobs_[j]->traffic[static_cast<size_t>(k)].rates[f] = rates[r];
    }
    // Per medium, the slowest flow's rate and the share of nominal it gets.
    for (size_t i = 0; i < na; ++i) {
      PlacedJob& pj = *jobs_[act[i]];
      RoutedTraffic& t = pj.traffic[static_cast<size_t>(k)];
      if (t.ends.empty() || !pj.on_fabric || !in_solve[i]) continue;
      MarkDirty(t);  // new routes and rates
      t.nvlink_rate = t.network_rate = std::numeric_limits<double>::infinity();
      t.share = {1.0, 1.0};
      for (size_t f = 0; f < t.paths.size(); ++f) {
        if (t.paths[f].links.empty()) continue;
        // By the link into the receiver: a rail-only relay starts on NVLink but crosses the
        // network.
        const int32_t into = t.paths[f].links.back();
        const bool nvlink = fabric_.IsNvlink(into);
        double& slowest = nvlink ? t.nvlink_rate : t.network_rate;
        slowest = std::min(slowest, t.rates[f]);
        // A job cut off from part of a ring stalls; it is modelled as 1% of the bandwidth until
        // the fault clears, so its steps stretch rather than stop.
        const double share = std::clamp(t.rates[f] / nominal[static_cast<size_t>(into)], 0.01, 1.0);
        double& s = nvlink ? t.share.nvlink : t.share.network;
        s = std::min(s, share);
      }
    }
  }
  for (int32_t l : touched_list) link_touched_[static_cast<size_t>(l)] = 0;
  // Rebase the jobs whose step changes.
  for (JobId j : act) {
    PlacedJob& pj = *jobs_[j];
    if (!pj.on_fabric || pj.config.model_less()) continue;
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
    for (const RoutedTraffic& t : pj.traffic) MarkDirty(t);  // busy shares change with the step
    pj.config.setup.traffic = shares;
    pj.current = workload::EstimateStep(pj.config.setup);
    const SimTime at = std::max(now, pj.config.start);
    if (at >= pj.config.end) continue;
    // A job writing a checkpoint or stalled resumes at the new pace when it runs again.
    if (pj.paused()) continue;
    const units::Duration step = Resume(pj, at);
    if (at == pj.config.start && pj.history.size() == 1) {
      // The fabric as the job finds it when it starts (reported when it starts).
      pj.estimate = pj.current;
      pj.history.front() = {at, SimTime(), lowest, step};
    } else {
      Record(j, {at, now, lowest, step});
    }
  }
  UpdateLinkLoads(now);
}

void Site::MarkDirty(const RoutedTraffic& t) {
  for (const network::FlowPath& p : t.paths) {
    for (int32_t l : p.links) {
      char& d = link_dirty_[static_cast<size_t>(l)];
      if (d == 0) dirty_links_.push_back(l);
      d = 1;
    }
  }
}

// Average link loads: each kind of a job's traffic moves in lockstep at its slowest flow's rate,
// for the share of the job's step during which that kind is active; against healthy capacity.
void Site::UpdateLinkLoads(SimTime now) {
  const size_t nl = fabric_.link_count();
  std::vector<double>& load = link_load_;
  if (link_peak_.empty()) {
    load.assign(nl, 0.0);
    link_peak_.assign(nl, 0.0);
    link_peak_at_.assign(nl, SimTime());
    link_now_.assign(nl, 0.0);
  }
  if (dirty_links_.empty()) return;
  // Each dirty link re-summed in the order of a full pass (jobs ascending, kinds, flows), so its
  // load does not depend on which events came before.
  // Only the jobs crossing them contribute (link_jobs_), visited in ascending order.
  if (job_seen_.size() < jobs_.size()) job_seen_.resize(jobs_.size(), 0);
  load_jobs_.clear();
  for (int32_t l : dirty_links_) {
    load[static_cast<size_t>(l)] = 0.0;
    for (const LinkUse& u : link_jobs_[static_cast<size_t>(l)]) {
      if (job_seen_[u.job]) continue;
      job_seen_[u.job] = 1;
      load_jobs_.push_back(u.job);
    }
  }
  std::sort(load_jobs_.begin(), load_jobs_.end());
  for (JobId j : load_jobs_) {
    job_seen_[j] = 0;
    const PlacedJob& pj = *jobs_[j];
    if (!pj.on_fabric) continue;
    const double step = ToSeconds(pj.current.step_time);
    for (Traffic kind : kAllTraffic) {
      const RoutedTraffic& t = pj.traffic[static_cast<size_t>(kind)];
      const double busy = std::min(1.0, BusySeconds(pj.current, kind) / step);
      if (busy <= 0) continue;
      for (const network::FlowPath& p : t.paths) {
        if (p.links.empty()) continue;
        const double rate = fabric_.IsNvlink(p.links.back()) ? t.nvlink_rate : t.network_rate;
        if (std::isinf(rate)) continue;
        for (int32_t l : p.links) {
          if (link_dirty_[static_cast<size_t>(l)]) load[static_cast<size_t>(l)] += rate * busy;
        }
      }
    }
  }
  // Changes in link order, as a pass over every link would find them (the others kept their load).
  std::sort(dirty_links_.begin(), dirty_links_.end());
  bool hottest_fell = false;
  for (int32_t li : dirty_links_) {
    const size_t l = static_cast<size_t>(li);
    link_dirty_[l] = 0;
    const double healthy = fabric_.nominal()[l];
    const double u = healthy > 0 ? load[l] / healthy : 0.0;
    if (link_sink_ && std::abs(u - link_now_[l]) > 1e-12) link_sink_({now, li, u});
    link_now_[l] = u;
    if (!fabric_.IsNvlink(li)) {
      if (u > fabric_utilization_) {
        fabric_utilization_ = u;
        fabric_hottest_ = li;
      } else if (li == fabric_hottest_ && u < fabric_utilization_) {
        hottest_fell = true;
      }
    }
    if (u <= 0) continue;
    if (u > link_peak_[l]) {
      link_peak_[l] = u;
      link_peak_at_[l] = now;
    }
  }
  dirty_links_.clear();
  if (hottest_fell) {
    // The busiest link got lighter: find the new one (rare next to the events that load links).
    fabric_utilization_ = 0;
    fabric_hottest_ = -1;
    for (size_t l = 2 * static_cast<size_t>(fabric_.gpu_count()); l < nl; ++l) {
      if (link_now_[l] > fabric_utilization_) {
        fabric_utilization_ = link_now_[l];
        fabric_hottest_ = static_cast<int>(l);
      }
    }
  }
  // Inside a window (one cut per tick): its peak is kept for the window's sample.
  if (now > sample_.to) fabric_window_peak_ = std::max(fabric_window_peak_, fabric_utilization_);
}

void Site::OnLinkChange(std::function<void(const LinkLoadChange&)> sink, SimTime now) {
  link_sink_ = std::move(sink);
  if (!link_sink_) return;
  // As UpdateLinkLoads reported them when they arose: each loaded link once, in link order.
  for (size_t l = 0; l < link_now_.size(); ++l) {
    if (std::abs(link_now_[l]) > 1e-12) link_sink_({now, static_cast<int>(l), link_now_[l]});
  }
}

void Site::RecomputeEverything(SimTime now) {
  const std::vector<size_t> all = active_;
  RecomputeNetwork(now, {}, all, true);
}

void Site::NoteBottlenecks(const std::vector<const network::FlowPath*>& flows,
                           const std::vector<double>& rates) {
  const std::vector<double>& nominal = fabric_.nominal();
  const std::vector<double>& capacity = fabric_.capacity();
  constexpr double kTol = 1e-9;
  const auto share = [&](size_t f) {
    const double n = nominal[static_cast<size_t>(flows[f]->links.front())];
    return n > 0 ? rates[f] / n : 1.0;
  };
  bool held_back = false;
  for (size_t f = 0; f < flows.size() && !held_back; ++f) {
    held_back = !flows[f]->links.empty() && share(f) < 1 - kTol;
  }
  if (!held_back) return;  // the common case: every flow at its nominal rate
  link_rate_sum_.resize(capacity.size(), 0.0);
  for (size_t f = 0; f < flows.size(); ++f) {
    for (int32_t l : flows[f]->links) link_rate_sum_[static_cast<size_t>(l)] += rates[f];
  }
  // Max-min: a flow held back has a saturated link on its path; the first one from its source
  // names the tier (a flow whose own NIC is shared stops there, before any spine).
  for (size_t f = 0; f < flows.size(); ++f) {
    if (flows[f]->links.empty()) continue;
    const double s = share(f);
    if (s >= 1 - kTol) continue;
    for (int32_t l : flows[f]->links) {
      const size_t li = static_cast<size_t>(l);
      if (link_rate_sum_[li] >= capacity[li] * (1 - kTol)) {
        double& lowest = tier_lowest_share_[static_cast<size_t>(fabric_.TierOf(l))];
        lowest = std::min(lowest, std::max(0.0, s));
        break;
      }
    }
  }
  for (const network::FlowPath* p : flows) {
    for (int32_t l : p->links) link_rate_sum_[static_cast<size_t>(l)] = 0.0;
  }
}

std::vector<Site::FabricTierUse> Site::FabricTiers() const {
  std::array<double, network::kFabricTiers> peak{};
  for (size_t l = 0; l < link_peak_.size(); ++l) {
    double& p = peak[static_cast<size_t>(fabric_.TierOf(static_cast<int>(l)))];
    p = std::max(p, link_peak_[l]);
  }
  std::vector<FabricTierUse> out;
  for (int t = 0; t < network::kFabricTiers; ++t) {
    const auto tier = static_cast<network::FabricTier>(t);
    if (tier == network::FabricTier::kSpineSuperSpine && !fabric_.three_tier()) continue;
    out.push_back({tier, peak[static_cast<size_t>(t)], tier_lowest_share_[static_cast<size_t>(t)]});
  }
  return out;
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

void Site::StartCheckpoint(size_t j, SimTime now) {
  PlacedJob& pj = *jobs_[j];
  if (now >= pj.config.end || pj.stopped || pj.ended) return;
  // The next one, an interval after this one was due.
  const SimTime next = now + pj.config.checkpoint_every;
  events_->Schedule(next, "checkpoint " + pj.config.name,
                    [this, j, next] { StartCheckpoint(j, next); });
  if (pj.checkpointing || pj.stalled) {
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
  PlacedJob& pj = *jobs_[j];
  DrainCheckpoints(now);
  pj.checkpointing = false;
  pj.checkpoint_seconds += (now - pj.checkpoint_started).seconds();
  if (now < pj.config.end && !pj.stalled) NotifySpeed(j, now, Resume(pj, now));
  ShareStorage(now);
}

void Site::DrainCheckpoints(SimTime now) {
  const double dt = (now - storage_since_).seconds();
  for (JobId j : active_) {
    PlacedJob& pj = *jobs_[j];
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
  for (JobId j : active_) {
    if (!jobs_[j]->checkpointing && !jobs_[j]->storage_io) continue;
    capacity.push_back(ToBytesPerSecond(c.frontend_per_node) *
                       static_cast<int>(jobs_[j]->nodes.size()));
    writer.push_back(j);
  }
  const int32_t storage = static_cast<int32_t>(capacity.size());
  capacity.push_back(ToBytesPerSecond(c.storage_bandwidth));
  for (size_t k = 0; k < writer.size(); ++k) flows.push_back({{static_cast<int32_t>(k), storage}});
  const std::vector<double> rates = network::MaxMinRates(capacity, flows, 0.0);
  double total = 0;
  for (size_t k = 0; k < writer.size(); ++k) {
    PlacedJob& pj = *jobs_[writer[k]];
    pj.checkpoint_rate = rates[k];
    total += rates[k];
    if (pj.storage_io) {  // the caller clocks it: report its share of its rate alone
      const double io_speed =
          rates[k] / StorageBytesPerSecondAlone(c, static_cast<int>(pj.nodes.size()));
      if (io_speed != pj.storage_io_speed) {
        pj.storage_io_speed = io_speed;
        if (on_io_speed_) on_io_speed_(writer[k], now, io_speed);
      }
      continue;
    }
    const uint64_t gen = ++pj.checkpoint_generation;
    const SimTime done =
        now + SimTime::From(Seconds(std::max(1e-9, pj.checkpoint_left_bytes / rates[k])));
    const size_t j = writer[k];
    events_->Schedule(done, "checkpoint written " + pj.config.name, [this, j, gen, done] {
      if (jobs_[j]->checkpointing && jobs_[j]->checkpoint_generation == gen)
        FinishCheckpoint(j, done);
    });
  }
  storage_peak_ = std::max(storage_peak_, total / capacity.back());
}

}  // namespace firstwall::site
