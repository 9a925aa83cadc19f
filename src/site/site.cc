// The site: construction, placement of jobs and services, the runtime API, and the per-window
// power roll-up. The fabric, electrical and thermal parts live in site_fabric.cc,
// site_electrical.cc and site_thermal.cc.
#include "site/site.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "core/error.h"

namespace firstwall::site {
using namespace units;

namespace {

// A model-less job's step: one phase of a second at its constant activity (the second is only the
// unit a power limit stretches; such a job has no steps to count).
workload::StepEstimate ConstantStep(int gpus, double activity) {
  workload::StepEstimate e;
  e.gpus = gpus;
  e.step_time = Seconds(1);
  e.phases = {{"busy", Seconds(1), activity}};
  return e;
}

// The GPUs wait for a restart's reload and warm-up: idle activity, no steps (as for a checkpoint
// write, site_fabric.cc).
const std::vector<workload::Phase> kStall = {{"stall", Seconds(1), 0.0}};

}  // namespace

int GpuCount(const JobConfig& job) {
  return job.model_less() ? job.gpus : workload::GpuCount(job.setup);
}

int NodesFor(const JobConfig& job, const ClusterConfig& cluster) {
  const int gpus = GpuCount(job);
  return (gpus + cluster.gpus_per_node - 1) / cluster.gpus_per_node;
}

int NodesFor(const ServiceConfig& service, const ClusterConfig& cluster) {
  const int per_replica = workload::ReplicaGpus(service.setup.replica);
  const int gpn = cluster.gpus_per_node;
  if (per_replica <= gpn) {
    const int per_node = gpn / per_replica;
    return (service.setup.replicas + per_node - 1) / per_node;
  }
  return service.setup.replicas * ((per_replica + gpn - 1) / gpn);
}

double StorageBytesPerSecondAlone(const ClusterConfig& cluster, int nodes) {
  return std::min(ToBytesPerSecond(cluster.frontend_per_node) * nodes,
                  ToBytesPerSecond(cluster.storage_bandwidth));
}

double NodeFixedWatts(const SiteConfig& c) {
  const double fabric_w = c.fabric_equipment ? ToWatts(c.fabric_equipment->total()) : 0.0;
  return ToWatts(c.cluster.node_base_power) + fabric_w / std::max(1, c.cluster.nodes);
}

network::FabricSpec FabricFor(const SiteConfig& c) {
  network::FabricSpec f = c.fabric;
  f.nodes = c.cluster.nodes;
  f.gpus_per_node = c.cluster.gpus_per_node;
  f.nvlink_domain = c.cluster.nvlink_domain();
  network::SetNvlinkFromCard(f, c.cluster.gpu);
  f.nic_per_gpu = c.cluster.nic_bandwidth;
  f.ici_torus = !c.cluster.torus_dims.empty();
  return f;
}

workload::ServiceSetup ServiceSetupIn(const SiteConfig& config, const ServiceConfig& service) {
  workload::ServiceSetup setup = service.setup;
  setup.end_s = std::min(setup.end_s, config.duration.seconds());
  setup.bin_s = config.tick.seconds();
  return setup;
}

void ServeOnce(SiteConfig& config, const std::atomic<bool>* cancel) {
  for (ServiceConfig& sc : config.services) {
    sc.served = std::make_shared<const workload::ServingResult>(
        workload::Serve(ServiceSetupIn(config, sc), sc.requests, config.seed, cancel));
    sc.served_until_s = config.duration.seconds();
  }
}

bool ServedThrough(const SiteConfig& config, double end_s) {
  return std::all_of(config.services.begin(), config.services.end(),
                     [&](const ServiceConfig& s) { return s.served && s.served_until_s >= end_s; });
}

Site::Site(SiteConfig config)
    : config_(std::move(config)),
      gpu_power_(config_.cluster.gpu.idle_power, config_.cluster.gpu.tdp,
                 config_.cluster.gpu_power_cap),
      fabric_(FabricFor(config_)),
      chain_(config_.facility.power_chain),
      plant_(config_.facility.cooling),
      placement_(config_.cluster.nodes, config_.cluster.nodes_per_rack) {
  const ClusterConfig& c = config_.cluster;
  idle_gpu_w_ = ToWatts(gpu_power_.At(0));
  limit_ = gpu_power_.limit();
  if (config_.facility.battery) {
    battery_j_ = config_.facility.battery->initial_soc * ToJoules(config_.facility.battery->energy);
    if (config_.facility.battery->bus_stage >= 0) {
      dc_buses_.push_back(static_cast<size_t>(config_.facility.battery->bus_stage));
    }
  }
  for (const power::RenewableSource& r : config_.facility.renewables) {
    if (r.bus_stage >= 0) dc_buses_.push_back(static_cast<size_t>(r.bus_stage));
  }
  std::sort(dc_buses_.begin(), dc_buses_.end());
  dc_buses_.erase(std::unique(dc_buses_.begin(), dc_buses_.end()), dc_buses_.end());
  power_events_.limit_min_w = ToWatts(limit_);
  // The fabric's switches and optics are shared evenly over the nodes (network/fabric_power.h).
  node_fixed_w_ =
      ToWatts(c.node_base_power) +
      (config_.fabric_equipment ? ToWatts(config_.fabric_equipment->total()) / c.nodes : 0.0);
  idle_node_w_ = c.gpus_per_node * idle_gpu_w_ + node_fixed_w_;
  rack_dark_.assign(placement_.rack_count(), 0);
  rack_off_.assign(placement_.rack_count(), 0);
  rack_limit_w_.assign(placement_.rack_count(), std::numeric_limits<double>::infinity());

  // The scenario's jobs on consecutive nodes in declaration order, holding them from the start.
  int next_node = 0;
  auto take = [&](int count, const char* what) {
    FW_CHECK(next_node + count <= c.nodes, std::string(what) + " do not fit in the cluster");
    std::vector<int> nodes(static_cast<size_t>(count));
    std::iota(nodes.begin(), nodes.end(), next_node);
    next_node += count;
    return nodes;
  };
  for (const JobConfig& jc : config_.jobs) AddJob(jc, take(NodesFor(jc, c), "jobs"));
  scenario_jobs_ = jobs_.size();
  // Services after the jobs: each one's serving simulation, binned at the tick.
  for (const ServiceConfig& sc : config_.services) {
    const workload::ServiceSetup setup = ServiceSetupIn(config_, sc);
    PlacedService ps;
    ps.name = setup.name;
    ps.start_s = setup.start_s;
    ps.end_s = setup.end_s;
    ps.gpus = setup.replicas * workload::ReplicaGpus(setup.replica);
    ps.result = sc.served ? *sc.served : workload::Serve(setup, sc.requests, config_.seed);
    if (sc.pool_priority) {
      ps.replica_gpus = workload::ReplicaGpus(setup.replica);
      PoolService(ps);  // its replicas take nodes as a scheduler grants them
      services_.push_back(std::move(ps));
      continue;
    }
    ps.nodes = take(NodesFor(sc, c), "services");
    ps.cum_j.push_back(0);
    for (size_t i = 0; i < ps.result.gpu_power_w.size(); ++i) {
      const double from = ps.start_s + static_cast<double>(i) * setup.bin_s;
      ps.cum_j.push_back(ps.cum_j.back() + ps.result.gpu_power_w[i] *
                                               (std::min(from + setup.bin_s, ps.end_s) - from));
    }
    placement_.Assign(TenantRef::Service(services_.size()), ps.nodes);
    services_.push_back(std::move(ps));
  }
  service_node_w_.assign(services_.size(), 0.0);

  const size_t racks = placement_.rack_count();
  rack_w_.assign(racks, 0.0);
  const thermal::CoolingConfig& cool = config_.facility.cooling;
  if (cool.cdu_capacity > Watts(0) && cool.racks_per_cdu > 0) {
    const size_t per = static_cast<size_t>(cool.racks_per_cdu);
    cdu_loads_.units = (racks + per - 1) / per;
    cdu_w_.assign(cdu_loads_.units, 0.0);
    cdu_coolant_c_.assign(cdu_loads_.units, ToCelsius(cool.liquid_supply));
  }
  for (size_t i = 0; i < chain_.stages().size(); ++i) {
    const size_t units = (racks + RacksPerUnit(i) - 1) / RacksPerUnit(i);
    unit_tripped_.emplace_back(units, 0);
    tree_ = tree_ || units > 1;
    unit_limit_w_.emplace_back(units, std::numeric_limits<double>::infinity());
    unit_quiet_since_.emplace_back(units, SimTime::Never());
    unit_out_w_.emplace_back(units, 0.0);
  }
  // Jobs sharing the fabric from the start (oversubscribed tiers, ECMP collisions).
  std::vector<size_t> at_start;
  for (size_t j = 0; j < jobs_.size(); ++j) {
    if (jobs_[j]->config.start == SimTime()) {
      jobs_[j]->on_fabric = true;
      at_start.push_back(j);
    }
  }
  RecomputeNetwork(SimTime(), {}, at_start, false);
}

Site::JobId Site::AddJob(JobConfig jc, std::vector<int> nodes) {
  FW_CHECK(static_cast<int>(nodes.size()) == NodesFor(jc, config_.cluster),
           "job '" + jc.name + "' placed on the wrong number of nodes");
  const workload::StepEstimate est =
      jc.model_less() ? ConstantStep(jc.gpus, *jc.gpu_activity) : workload::EstimateStep(jc.setup);
  const JobId j = jobs_.size();
  auto owned = std::make_unique<PlacedJob>(std::move(jc), est, std::move(nodes));
  PlacedJob& pj = *owned;
  placement_.Assign(TenantRef::Job(j), pj.nodes);
  pj.racks = placement_.RacksOf(pj.nodes);
  const units::Duration step = Resume(pj, pj.config.start);
  pj.history.push_back({pj.config.start, SimTime(), 1.0, step});
  if (!pj.config.model_less()) BuildFlows(pj);
  jobs_.push_back(std::move(owned));
  throttled_gpu_s_.push_back(0.0);
  steady_.emplace_back();
  active_.push_back(j);  // ids only grow: active_ stays ascending
  job_node_w_.push_back(0.0);
  job_gpu_j_.push_back(0.0);
  job_run_s_.push_back(0.0);
  sample_.job_it.push_back(Watts(0));
  return j;
}

Site::JobId Site::StartJob(JobConfig config, std::vector<int> nodes, SimTime now) {
  FW_CHECK(now >= sample_.to, "StartJob before the last window's end");
  config.start = now;
  FW_CHECK(config.end > now, "job '" + config.name + "' ends before it starts");
  for (int n : nodes) {
    FW_CHECK(n >= 0 && n < config_.cluster.nodes && !rack_dark(placement_.RackOf(n)),
             "job '" + config.name + "' placed on a node without power");
  }
  const JobId j = AddJob(std::move(config), std::move(nodes));
  running_.Add(1, now);
  jobs_[j]->on_fabric = true;
  if (!jobs_[j]->config.model_less()) RecomputeNetwork(now, {}, {j}, false);
  const PlacedJob& pj = *jobs_[j];
  if (pj.config.checkpoint_every != SimTime::Never()) {
    FW_CHECK(events_ != nullptr, "StartJob with checkpoints before ScheduleEvents");
    const SimTime first = now + pj.config.checkpoint_every;
    events_->Schedule(first, "checkpoint " + pj.config.name,
                      [this, j, first] { StartCheckpoint(j, first); });
  }
  if (pj.config.end != SimTime::Never()) {
    FW_CHECK(events_ != nullptr, "StartJob with an end before ScheduleEvents");
    events_->Schedule(pj.config.end, "end " + pj.config.name,
                      [this, j] { StopJob(j, jobs_[j]->config.end); });
  }
  NotifySpeed(j, now, pj.history.back().step_time);
  return j;
}

void Site::StopJob(JobId j, SimTime now) {
  if (!jobs_[j]) return;  // ended and forgotten
  PlacedJob& pj = *jobs_[j];
  if (pj.ended || pj.stopped) return;
  FW_CHECK(now >= sample_.to, "StopJob before the last window's end");
  FW_CHECK(now >= pj.config.start, "job '" + pj.config.name + "' stopped before it started");
  running_.Add(-1, now);
  pj.ended = true;
  pj.config.end = std::min(pj.config.end, now);
  pj.timeline.Stop(now);
  pj.on_fabric = false;
  if (pj.checkpointing) FinishCheckpoint(j, now);
  SetJobStorageIo(j, now, false);
  if (!pj.config.model_less()) RecomputeNetwork(now, {}, {j}, false);
  Retire(j);
  // Nothing reads an ended model-less job again but the report: its detail goes (a year's queue
  // starts a million of them); what the report sums stays. One that ran since the last window
  // (a window cut per tick) goes once the next window has counted that (Advance).
  if (pj.timeline.RunningSeconds(sample_.to, now) <= 0) Forget(j);
}

void Site::Forget(JobId j) {
  PlacedJob& pj = *jobs_[j];
  if (!forget_ended_ || !pj.ended || !pj.config.model_less()) return;
  throttled_gpu_s_[j] = pj.throttled_gpu_s;
  jobs_[j].reset();
}

void Site::SetJobStorageIo(JobId j, SimTime now, bool on) {
  PlacedJob& pj = *jobs_[j];
  const ClusterConfig& c = config_.cluster;
  if (pj.storage_io == on || (on && (pj.stopped || pj.ended))) return;
  if (ToBytesPerSecond(c.storage_bandwidth) <= 0 || ToBytesPerSecond(c.frontend_per_node) <= 0) {
    return;
  }
  FW_CHECK(now >= sample_.to, "SetJobStorageIo before the last window's end");
  DrainCheckpoints(now);
  pj.storage_io = on;
  pj.storage_io_speed = -1;  // report the first share
  ShareStorage(now);
}

void Site::SetRacksPowered(size_t first, size_t last, bool powered, SimTime now) {
  FW_CHECK(first <= last && last <= rack_off_.size(), "SetRacksPowered: racks out of range");
  FW_CHECK(now >= sample_.to, "SetRacksPowered before the last window's end");
  for (size_t k = first; k < last; ++k) rack_off_[k] = powered ? 0 : 1;
  if (powered) return;
  // The jobs there lose their nodes' power: they end now (StopJob edits active_: copy it).
  active_scratch_.clear();
  for (JobId j : active_) {
    if (HasRackIn(*jobs_[j], first, last)) active_scratch_.push_back(j);
  }
  const std::vector<JobId> dark = active_scratch_;
  for (JobId j : dark) StopJob(j, now);
}

void Site::SetRackGpuLimit(size_t first, size_t last, units::Power limit, SimTime now) {
  FW_CHECK(first <= last && last <= rack_limit_w_.size(), "SetRackGpuLimit: racks out of range");
  FW_CHECK(now >= sample_.to, "SetRackGpuLimit before the last window's end");
  for (size_t k = first; k < last; ++k) rack_limit_w_[k] = ToWatts(limit);
  ReapplyLimits(first, last, now);
}

void Site::SetJobGpuLimit(JobId j, units::Power limit, SimTime now) {
  if (!jobs_.at(j)) return;  // ended and forgotten
  PlacedJob& pj = *jobs_[j];
  FW_CHECK(now >= sample_.to, "SetJobGpuLimit before the last window's end");
  if (pj.job_limit_w == ToWatts(limit)) return;
  pj.job_limit_w = ToWatts(limit);
  if (pj.ended || pj.stopped || pj.paused() || now < pj.config.start || now >= pj.config.end) {
    return;  // Resume applies it when the job runs again
  }
  const units::Duration step = Resume(pj, now);
  Record(j, {now, now, pj.history.back().network_factor, step});
}

void Site::SetLinkHealth(const std::vector<int>& links, double health, SimTime now) {
  // A link back from down draws ECMP choices that avoided it: reroute everything.
  bool back_from_down = false;
  for (int l : links) {
    back_from_down = back_from_down || (health > 0 && fabric_.capacity()[l] <= 0);
    fabric_.SetLinkHealth(l, health);
  }
  RecomputeNetwork(now, links, {}, back_from_down);
}

void Site::SetJobStalled(JobId j, SimTime now, bool stalled) {
  PlacedJob& pj = *jobs_[j];
  if (pj.ended || pj.stopped || pj.stalled == stalled) return;
  FW_CHECK(now >= sample_.to, "SetJobStalled before the last window's end");
  pj.stalled = stalled;
  if (pj.checkpointing) return;  // already held; FinishCheckpoint resumes it unless stalled
  if (stalled) {
    pj.timeline.Rebase(now, kStall, false);
    AppendSegmentValues(pj, kStall);
    return;
  }
  NotifySpeed(j, now, Resume(pj, now));
}

void Site::Retire(JobId j) {
  PlacedJob& pj = *jobs_[j];
  const auto it = std::lower_bound(active_.begin(), active_.end(), j);
  FW_CHECK(it != active_.end() && *it == j, "retiring a job that holds no nodes");
  active_.erase(it);
  placement_.Release(TenantRef::Job(j), pj.nodes);
  retired_.push_back(j);
  // Its flows left the fabric: their routes are no longer needed.
  for (RoutedTraffic& t : pj.traffic) t = RoutedTraffic{};
}

void Site::NotifySpeed(JobId j, SimTime at, units::Duration step) {
  PlacedJob& pj = *jobs_[j];
  const double speed = pj.nominal_step / step;
  if (speed == pj.speed) return;
  pj.speed = speed;
  if (on_speed_) on_speed_(j, at, speed);
}

void Site::Record(JobId j, const JobChange& change) {
  jobs_[j]->history.push_back(change);
  NotifySpeed(j, change.at, change.step_time);
}

void Site::StopByItself(JobId j, SimTime at, JobStopCause cause) {
  SetJobStorageIo(j, at, false);
  Retire(j);
  if (on_stop_) on_stop_(j, at, cause);
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

void Site::AppendSegmentValues(PlacedJob& pj, const std::vector<workload::Phase>& phases) {
  const ClusterConfig& c = config_.cluster;
  const int gpus = pj.gpus;
  const int node_count = static_cast<int>(pj.nodes.size());
  const int idle_gpus = node_count * c.gpus_per_node - gpus;
  std::vector<double> act, gpu, node;
  for (const workload::Phase& ph : phases) {
    const double gpu_w = gpus * ToWatts(gpu_power_.At(ph.activity));
    act.push_back(ph.activity);
    gpu.push_back(gpu_w);
    node.push_back((gpu_w + idle_gpus * idle_gpu_w_ + node_count * node_fixed_w_) / node_count);
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

void Site::ScheduleEvents(EventQueue& events) {
  events_ = &events;
  for (const FaultConfig& f : config_.faults) {
    events.Schedule(f.at, "fault " + f.target,
                    [this, &f] { SetLinkHealth(f.links, f.health, f.at); });
    if (f.end != SimTime::Never()) {
      events.Schedule(f.end, "repair " + f.target,
                      [this, &f] { SetLinkHealth(f.links, 1.0, f.end); });
    }
  }
  // The scenario's jobs hold their nodes from the start of the run; they start and end here.
  for (size_t j = 0; j < scenario_jobs_; ++j) {
    const PlacedJob& pj = *jobs_[j];
    events.Schedule(pj.config.start, "start " + pj.config.name, [this, j] {
      PlacedJob& job = *jobs_[j];
      if (job.stopped) return;  // the power chain tripped before it began
      running_.Add(1, job.config.start);
      if (!job.on_fabric) {  // else joined at construction
        job.on_fabric = true;
        if (!job.config.model_less()) RecomputeNetwork(job.config.start, {}, {j}, false);
      }
      NotifySpeed(j, job.config.start, job.history.back().step_time);
    });
    if (pj.config.end != SimTime::Never()) {
      events.Schedule(pj.config.end, "end " + pj.config.name,
                      [this, j] { StopJob(j, jobs_[j]->config.end); });
    }
    if (pj.config.checkpoint_every != SimTime::Never()) {
      events.Schedule(
          pj.config.start + pj.config.checkpoint_every, "checkpoint " + pj.config.name, [this, j] {
            StartCheckpoint(j, jobs_[j]->config.start + jobs_[j]->config.checkpoint_every);
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
  s.running_jobs = running_.MeanOver(from, to);
  s.job_ids.assign(active_.begin(), active_.end());

  // Jobs: only those holding nodes can run in the window (a job leaves active_ at or before the
  // start of the first window it does not run in).
  double gpu_w = c.gpu_count() * idle_gpu_w_;
  double activity_sum = 0;
  bool static_cap_binds = false;
  for (JobId j : active_) {
    const PlacedJob& pj = *jobs_[j];
    const double run_s = pj.timeline.RunningSeconds(from, to);
    job_run_s_[j] = run_s;
    if (run_s <= 0) {
      job_node_w_[j] = idle_node_w_;
      s.job_it[j] = Watts(0);
      continue;
    }
    static_cap_binds = static_cap_binds || StaticCapBinds(pj);
    const double idle_frac = 1.0 - run_s / dt;
    // Node power, GPU energy and activity over the window, in one walk of the timeline; a job
    // that ran the whole window inside one single-phase segment takes its values from steady_
    // (the same products Integrate3 forms), without reading its segment and value lists.
    SteadyValues& steady = steady_[j];
    workload::PhaseTimeline::StepRecord& record = jobs_[j]->step_record;
    std::array<double, 3> integral;
    if (run_s == dt && steady.rebases == pj.timeline.rebases() && from >= steady.begin &&
        to <= steady.end) {
      const double d = (to - from).seconds();
      for (size_t n = 0; n < 3; ++n) integral[n] = steady.values[n] * d;
    } else if (run_s == dt && record.Covers(pj.timeline.rebases(), from, to)) {
      integral = record.Integrate(from, to);  // a training step's segment, from its compact copy
    } else {
      integral = pj.timeline.Integrate3(pj.node_power_w, pj.gpu_power_w, pj.activity, from, to,
                                        &jobs_[j]->window_memo);
      // A memo kept means a segment of several phases (a training step): nothing steady.
      const bool stepping = pj.window_memo.rebases == pj.timeline.rebases();
      const workload::PhaseTimeline::Span span =
          stepping ? workload::PhaseTimeline::Span{} : pj.timeline.SegmentAt(from);
      if (stepping && run_s == dt && !record.Holds(pj.timeline.rebases(), from)) {
        pj.timeline.Record(pj.node_power_w, pj.gpu_power_w, pj.activity, from, &record);
      }
      if (!stepping && run_s == dt && span.single_phase && to <= span.end) {
        steady = {pj.timeline.rebases(),
                  span.begin,
                  span.end,
                  {pj.node_power_w[span.index][0], pj.gpu_power_w[span.index][0],
                   pj.activity[span.index][0]}};
      }
    }
    const double busy_node_w = integral[0] / dt;
    job_node_w_[j] = busy_node_w + idle_frac * idle_node_w_;
    s.job_it[j] = Watts(busy_node_w * static_cast<int>(pj.nodes.size()));  // only while it runs
    // GPU power of the job's GPUs above their idle draw.
    job_gpu_j_[j] = integral[1];
    gpu_w += job_gpu_j_[j] / dt - pj.gpus * idle_gpu_w_ * run_s / dt;
    activity_sum += pj.gpus * integral[2] / dt;
  }

  // Jobs that left since the last window. In a window cut per tick (core/engine.h) they may have
  // run its first part: they count for that part, and their nodes' power above idle over it goes
  // to their racks below (whoever holds a node now counts it idle for the rest). Nodes on a rack
  // that is dark at the window's end draw nothing in it, as the rack loop has it.
  retired_excess_.clear();
  const size_t active_ids = s.job_ids.size();
  for (JobId j : retired_) {
    s.job_it[j] = Watts(0);
    if (!jobs_[j]) continue;  // forgotten when it stopped
    PlacedJob& pj = *jobs_[j];
    const double run_s = pj.timeline.RunningSeconds(from, to);
    if (run_s > 0) {
      int lit = 0;
      for (int n : pj.nodes) lit += rack_dark(placement_.RackOf(n)) ? 0 : 1;
      const double share = static_cast<double>(lit) / static_cast<double>(pj.nodes.size());
      const std::array<double, 3> integral = pj.timeline.Integrate3(
          pj.node_power_w, pj.gpu_power_w, pj.activity, from, to, &pj.window_memo);
      gpu_w += share * (integral[1] - pj.gpus * idle_gpu_w_ * run_s) / dt;
      activity_sum += share * pj.gpus * integral[2] / dt;
      s.job_it[j] = Watts(integral[0] / dt * lit);
      s.job_ids.push_back(j);
      const double excess = (integral[0] - idle_node_w_ * run_s) / dt;
      for (int n : pj.nodes) retired_excess_.push_back({placement_.RackOf(n), excess});
      job_run_s_[j] = run_s;  // for its chips' temperature (HeatGpus); forgotten after that
      job_gpu_j_[j] = integral[1];
      leaving_.push_back(j);
      continue;
    }
    Forget(j);
  }
  retired_.clear();
  if (s.job_ids.size() > active_ids) {  // both parts ascending, ids apart: merge them
    const auto mid = s.job_ids.begin() + static_cast<std::ptrdiff_t>(active_ids);
    std::sort(mid, s.job_ids.end());
    std::inplace_merge(s.job_ids.begin(), mid, s.job_ids.end());
  }

  const double span_w = ToWatts(c.gpu.tdp - c.gpu.idle_power);
  for (size_t k = 0; k < services_.size(); ++k) {
    PlacedService& ps = services_[k];
    const double w = ServiceGpuWatts(k, from, to);
    if (ps.pooled) ps.drawn_gpu_j += w * dt;
    const int node_count = static_cast<int>(ps.nodes.size());
    const int gpus = ps.HeldGpus();
    gpu_w += w - gpus * idle_gpu_w_;
    // The binned energy can sit a rounding error below idle: no negative activity.
    activity_sum += std::max(0.0, w - gpus * idle_gpu_w_) / span_w;
    if (node_count == 0) continue;  // a pooled service holding nothing now
    service_node_w_[k] =
        (w + (node_count * c.gpus_per_node - gpus) * idle_gpu_w_ + node_count * node_fixed_w_) /
        node_count;
  }

  // Racks from the placement: each run of nodes at its holder's average node power.
  double it_w = 0, peak_rack_w = 0;
  for (size_t k = 0; k < placement_.rack_count(); ++k) {
    double rack_w = 0;
    int nodes = 0;
    if (placement_.RackFree(k)) {
      // Its one free run, as the loop below would sum it, without chasing the rack's run list.
      nodes = placement_.RackNodes(k);
      rack_w = nodes * idle_node_w_;
    } else {
      for (const Placement::Run& run : placement_.Runs(k)) {
        const size_t id = static_cast<size_t>(run.tenant.id);
        const double node_w = run.tenant.kind == TenantRef::Kind::kJob       ? job_node_w_[id]
                              : run.tenant.kind == TenantRef::Kind::kService ? service_node_w_[id]
                                                                             : idle_node_w_;
        rack_w += run.nodes * node_w;
        nodes += run.nodes;
      }
    }
    if (rack_dark(k)) {
      // Behind a tripped unit or unpowered: nothing runs there (its jobs stopped), nothing draws.
      gpu_w -= nodes * c.gpus_per_node * idle_gpu_w_;
      rack_w = 0;
    }
    rack_w_[k] = rack_w;
    it_w += rack_w;
    peak_rack_w = std::max(peak_rack_w, rack_w);
  }
  for (const auto& [k, w] : retired_excess_) {
    if (rack_dark(k)) continue;
    rack_w_[k] += w;
    it_w += w;
    peak_rack_w = std::max(peak_rack_w, rack_w_[k]);
  }
  s.it = Watts(it_w);
  s.gpu = Watts(gpu_w);
  s.node_base = s.it - s.gpu;
  s.gpu_activity_sum = activity_sum;
  s.peak_rack = Watts(peak_rack_w);
  s.generation = s.battery = s.renewable = s.curtailed = s.dc_bus_supply = Watts(0);
  s.renewable_usd_per_s = 0;
  power::ChainFlow flow = TreeFlow();
  FeedDcBuses(from, dt, flow);
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
  if (cdu_loads_.units > 0) LoadCdus(dt, s.plant.liquid_supply);
  HeatGpus(from, to, s.plant.gpu_coolant);
  s.facility = flow.grid + s.dc_bus_supply + s.cooling;
  Dispatch(from, dt);
  s.fabric_peak_utilization =
      std::max(running_.value() > 0 ? fabric_utilization_ : 0.0, fabric_window_peak_);
  fabric_window_peak_ = 0;
  for (JobId j : leaving_) Forget(j);
  leaving_.clear();
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

double Site::JobGpuWatts(size_t j, SimTime from, SimTime to) const {
  const PlacedJob& pj = *jobs_[j];
  const double dt = (to - from).seconds();
  const double run_s = pj.timeline.RunningSeconds(from, to);
  const double idle = pj.gpus * idle_gpu_w_;
  return (pj.timeline.Integrate(pj.gpu_power_w, from, to) + idle * (dt - run_s)) / dt;
}

double Site::ItBaseWatts() const {
  const ClusterConfig& c = config_.cluster;
  double w = c.gpu_count() * idle_gpu_w_ + c.nodes * node_fixed_w_;
  for (const auto& pj : jobs_) w -= pj->gpus * idle_gpu_w_;  // none forgotten with swings
  for (const PlacedService& ps : services_) w -= ps.gpus * idle_gpu_w_;
  return w;
}

double Site::ServiceGpuWatts(size_t k, SimTime from, SimTime to) const {
  const PlacedService& ps = services_[k];
  if (ps.pooled) return PooledServiceGpuWatts(ps, from, to);
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

}  // namespace firstwall::site
