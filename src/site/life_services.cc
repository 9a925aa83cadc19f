#include "site/life_services.h"

#include <algorithm>
#include <cmath>

#include <string>

#include "core/error.h"
#include "site/life.h"

namespace firstwall::site {
namespace {

// Whole nanoseconds of the serving simulation's seconds (its autoscaling steps fall on them).
SimTime AtSeconds(double s) { return SimTime::FromNanoseconds(std::llround(s * 1e9)); }

double Sec(SimTime t) { return static_cast<double>(t.ns()) / 1e9; }

}  // namespace

scheduler::JobSpec ReplicaSpec(const ServiceConfig& service, const scheduler::Topology& topology,
                               SimTime submit, int serial) {
  const workload::ServiceSetup& s = service.setup;
  scheduler::JobSpec j;
  j.name = s.name;  // appended piecewise: no fmt in this layer
  j.name += "/r";
  j.name += std::to_string(serial);
  j.tenant = s.name;
  j.kind = scheduler::JobKind::kService;
  j.submit = submit;
  j.gpus = workload::ReplicaGpus(s.replica);
  j.work = SimTime::Never();  // until withdrawn
  j.priority = service.pool_priority.value_or(0);
  j.preemptible = false;
  // A replica's tensor-parallel GPUs talk over NVLink: one domain when it fits in one.
  const int nodes = (j.gpus + topology.gpus_per_node - 1) / topology.gpus_per_node;
  if (nodes <= topology.nodes_per_domain) {
    j.placement = {scheduler::Level::kNvlinkDomain, true};
  }
  // No checkpoints: a restarted replica loads its weights again, as a new one does.
  j.checkpoint.restart_overhead = AtSeconds(s.autoscale.spin_up_s);
  return j;
}

void ReportGranted(const ServicePoolStats& pool, workload::ServingResult& result) {
  result.gpu_energy_j = pool.gpu_energy_j;
  result.replica_hours = pool.held_replica_h;
  const double tokens = pool.with_granted ? pool.with_granted->output_tokens : result.output_tokens;
  result.energy_per_output_token_j = tokens > 0 ? pool.gpu_energy_j / tokens : 0.0;
}

ServicePool::ServicePool(const SiteConfig& config, Site& site, scheduler::ClusterLife& life,
                         EventQueue& events)
    : config_(config), site_(site), life_(life), events_(events), topology_(TopologyFor(config)) {
  for (size_t k = 0; k < config.services.size(); ++k) {
    const ServiceConfig& sc = config.services[k];
    if (!sc.pool_priority) continue;
    const PlacedService& ps = site.services().at(k);
    FW_CHECK(ps.pooled, "a pooled service's site placement is pooled");
    Service s;
    s.index = k;
    s.demand = ps.result.replicas_held;
    s.end = std::min(config.duration, AtSeconds(ps.end_s));
    services_.push_back(std::move(s));
  }
  for (size_t k = 0; k < services_.size(); ++k) ScheduleNextStep(k);
}

void ServicePool::ScheduleNextStep(size_t k) {
  Service& s = services_[k];
  if (s.next_step > s.demand.size()) return;
  // The demand's steps inside the lifetime, then none at its end.
  SimTime at = s.end;
  int replicas = 0;
  if (s.next_step < s.demand.size()) {
    const SimTime t = AtSeconds(s.demand[s.next_step].t_s);
    if (t < s.end) {
      at = t;
      replicas = s.demand[s.next_step].replicas;
      // Steps within the same nanosecond are one change: the instant's scheduling pass sees the
      // last of them, and no replica starts, or preempts, only to be withdrawn at that instant.
      while (s.next_step + 1 < s.demand.size() && AtSeconds(s.demand[s.next_step + 1].t_s) == at) {
        replicas = s.demand[++s.next_step].replicas;
      }
    } else {
      s.next_step = s.demand.size();
    }
  }
  ++s.next_step;
  if (at >= config_.duration) return;  // the run ends first: Finish closes the books
  events_.Schedule(at, "service demand", [this, k, at, replicas] {
    SetWanted(k, replicas, at);
    ScheduleNextStep(k);
  });
}

void ServicePool::Account(Service& s, SimTime now) const {
  const double dt = Sec(now - s.since);
  if (dt <= 0) return;
  s.wanted_s += s.wanted * dt;
  s.granted_s += s.serving * dt;
  s.held_s += s.held * dt;
  if (s.serving < s.wanted) s.short_s += dt;
  s.since = now;
}

void ServicePool::SetWanted(size_t k, int replicas, SimTime now) {
  Service& s = services_[k];
  Account(s, now);
  s.wanted = replicas;
  s.wanted_peak = std::max(s.wanted_peak, replicas);
  const ServiceConfig& sc = config_.services[s.index];
  while (static_cast<int>(s.live.size()) < replicas) {
    const scheduler::JobId job = life_.AddJob(ReplicaSpec(sc, topology_, now, s.serial++), now);
    if (replicas_.size() <= static_cast<size_t>(job)) replicas_.resize(job + 1);
    replicas_[static_cast<size_t>(job)].service = static_cast<int32_t>(k);
    s.live.push_back(job);
    s.all.push_back(job);
  }
  while (static_cast<int>(s.live.size()) > replicas) {
    // The latest replica not holding nodes (queued, or given up after a failure), else the latest.
    auto it = std::find_if(s.live.rbegin(), s.live.rend(), [&](scheduler::JobId j) {
      return !replicas_[static_cast<size_t>(j)].holding;
    });
    const scheduler::JobId job = it != s.live.rend() ? *it : s.live.back();
    s.live.erase(std::find(s.live.begin(), s.live.end(), job));
    life_.Withdraw(job, now);  // a holding replica's Stop comes back through the host
  }
}

bool ServicePool::Owns(scheduler::JobId job) const {
  return static_cast<size_t>(job) < replicas_.size() &&
         replicas_[static_cast<size_t>(job)].service >= 0;
}

void ServicePool::SetServing(Service& s, Replica& r, bool serving, SimTime now) {
  if (r.serving == serving) return;
  Account(s, now);
  r.serving = serving;
  s.serving += serving ? 1 : -1;
  s.granted_peak = std::max(s.granted_peak, s.serving);
  const double t = Sec(now);
  if (!s.granted.empty() && s.granted.back().t_s == t) {
    s.granted.back().replicas = s.serving;
  } else {
    s.granted.push_back({t, s.serving});
  }
  site_.SetServiceServing(s.index, s.serving, now);
}

void ServicePool::Start(scheduler::JobId job, const std::vector<int>& nodes, SimTime now) {
  Replica& r = replicas_[static_cast<size_t>(job)];
  Service& s = services_[static_cast<size_t>(r.service)];
  Account(s, now);
  r.holding = true;
  r.nodes = nodes;
  ++s.held;
  ++s.starts;
  site_.SetServiceReplicaNodes(s.index, nodes, true, now);
}

void ServicePool::Stop(scheduler::JobId job, SimTime now) {
  Replica& r = replicas_[static_cast<size_t>(job)];
  if (!r.holding) return;
  Service& s = services_[static_cast<size_t>(r.service)];
  SetServing(s, r, false, now);
  Account(s, now);
  r.holding = false;
  --s.held;
  site_.SetServiceReplicaNodes(s.index, r.nodes, false, now);
  r.nodes.clear();
}

void ServicePool::SetPhase(scheduler::JobId job, scheduler::JobPhase phase, SimTime now) {
  Replica& r = replicas_[static_cast<size_t>(job)];
  if (!r.holding) return;
  SetServing(services_[static_cast<size_t>(r.service)], r, phase == scheduler::JobPhase::kComputing,
             now);
}

void ServicePool::NodesDark(int first_node, int end_node, SimTime now, std::string_view cause) {
  for (size_t j = 0; j < replicas_.size(); ++j) {
    const Replica& r = replicas_[j];
    if (r.service < 0 || !r.holding) continue;
    const bool there = std::any_of(r.nodes.begin(), r.nodes.end(),
                                   [&](int n) { return first_node <= n && n < end_node; });
    if (there) life_.HostStopped(static_cast<scheduler::JobId>(j), now, cause);
  }
}

std::vector<ServicePoolStats> ServicePool::Stats(SimTime end) const {
  std::vector<ServicePoolStats> out;
  for (const Service& live : services_) {
    Service s = live;
    Account(s, std::min(end, config_.duration));
    const ServiceConfig& sc = config_.services[s.index];
    ServicePoolStats st;
    st.name = sc.setup.name;
    st.priority = sc.pool_priority.value_or(0);
    st.wanted_replica_h = s.wanted_s / 3600;
    st.granted_replica_h = s.granted_s / 3600;
    st.shortfall_replica_h = (s.wanted_s - s.granted_s) / 3600;
    st.short_s = s.short_s;
    st.held_replica_h = s.held_s / 3600;
    st.gpu_energy_j = site_.services().at(s.index).drawn_gpu_j;
    st.wanted_peak = s.wanted_peak;
    st.granted_peak = s.granted_peak;
    st.replica_starts = s.starts;
    for (scheduler::JobId j : s.all) st.replica_failures += life_.job_life(j).failures;
    const workload::ServiceSetup& setup = sc.setup;
    if (st.shortfall_replica_h > 0 && setup.pd.prefill_replicas == 0) {
      // As the site ran it (Site::Site), capped at the replicas granted (none before the first).
      workload::ServiceSetup capped = setup;
      capped.end_s = std::min(capped.end_s, config_.duration.seconds());
      capped.bin_s = config_.tick.seconds();
      capped.replica_cap = {{0.0, 0}};
      capped.replica_cap.insert(capped.replica_cap.end(), s.granted.begin(), s.granted.end());
      st.with_granted = workload::Serve(capped, sc.requests, config_.seed);
      st.with_granted->gpu_power_w.clear();  // not the site's: see ServicePoolStats
    }
    for (const scheduler::PreemptionRecord& p : life_.preemptions()) {
      if (!Owns(p.by) || replicas_[static_cast<size_t>(p.by)].service !=
                             static_cast<int32_t>(&live - services_.data())) {
        continue;
      }
      ++st.preemptions_caused;
      st.preempted_lost_gpu_h += life_.jobs()[static_cast<size_t>(p.job)].gpus * p.lost_s / 3600;
    }
    out.push_back(std::move(st));
  }
  return out;
}

}  // namespace firstwall::site
