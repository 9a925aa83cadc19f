#include "site/life.h"

#include <algorithm>
#include <limits>
#include <string>

#include "core/error.h"
#include "network/fabric.h"

namespace firstwall::site {
namespace {
constexpr double kInfinity = std::numeric_limits<double>::infinity();
}  // namespace

scheduler::Topology TopologyFor(const SiteConfig& config) {
  const ClusterConfig& c = config.cluster;
  const network::FabricSpec spec = FabricFor(config);
  scheduler::Topology t;
  t.nodes = c.nodes;
  t.gpus_per_node = c.gpus_per_node;
  t.nodes_per_domain = c.nvlink_domain() / c.gpus_per_node;
  t.nodes_per_rack = c.nodes_per_rack;
  t.nodes_per_leaf = network::Fabric::NodesPerLeaf(spec);
  t.nodes_per_pod = network::Fabric::NodesPerPod(spec);
  return t;
}

SiteConfig SiteForLife(const SiteConfig& config) {
  SiteConfig s = config;
  s.jobs.clear();
  s.life.reset();
  return s;
}

namespace {

scheduler::ClusterLifeOptions OptionsFor(const SiteConfig& config,
                                         const scheduler::Topology& topology, int spines) {
  const LifeConfig& life = *config.life;
  scheduler::ClusterLifeOptions o = life.options;
  scheduler::FailureModel model = life.failures.value_or(scheduler::FailureModel{});
  model.domains.spines = spines;  // the fabric's, as for the random failures
  for (const ScriptedFailureConfig& f : life.scripted) {
    o.scripted_failures.push_back(
        scheduler::ScriptedFailure(topology, model, f.kind, f.index, f.at, f.repair));
  }
  if (life.flexibility) {
    o.flexibility.enabled = true;
    o.flexibility.defer = life.flexibility->defer;
    o.flexibility.max_delay = life.flexibility->max_delay;
    o.flexibility.check_every = life.flexibility->check_every;
  }
  return o;
}

}  // namespace

LifeHost::LifeHost(const SiteConfig& config, Site& site, EventQueue& events)
    : config_(config), site_(site) {
  FW_CHECK(config.life.has_value(), "a LifeHost needs the scenario's queue");
  const LifeConfig& life = *config.life;
  const scheduler::Topology topology = TopologyFor(config);
  std::optional<scheduler::FailureModel> model = life.failures;
  if (model) model->domains.spines = site.fabric().spine_count();
  site_job_.assign(life.jobs.size(), -1);
  if (life.flexibility) {
    flex_ = std::make_unique<FlexSite>(*life.flexibility, config, site, events);
  }
  // The summary lists the queue's modelled jobs only: trace jobs need no detail once ended.
  if (!config.swings.enabled) site_.ForgetEndedModelLessJobs();
  life_ = std::make_unique<scheduler::ClusterLife>(
      topology, life.scheduler, model, life.jobs, config.seed,
      OptionsFor(config, topology, site.fabric().spine_count()), events, this);
  if (flex_) flex_->SetLife(life_.get());
  site_.OnJobSpeed([this](Site::JobId job, SimTime at, double speed) {
    if (job < queue_job_.size() && queue_job_[job] >= 0) {
      life_->SetSpeed(static_cast<scheduler::JobId>(queue_job_[job]), speed, at);
    }
  });
  site_.OnJobIoSpeed([this](Site::JobId job, SimTime at, double io_speed) {
    if (job < queue_job_.size() && queue_job_[job] >= 0) {
      life_->SetIoSpeed(static_cast<scheduler::JobId>(queue_job_[job]), io_speed, at);
    }
  });
  // The site's own stops reach the queue from an event at the same instant: its callbacks run
  // inside its window and must not call back into it (the queue stops the job on the site).
  site_.OnRacksDark(
      [this, &events](size_t first, size_t last, SimTime at, size_t stage, size_t unit) {
        const int per = config_.cluster.nodes_per_rack;
        const int from = static_cast<int>(first) * per;
        const int to = std::min(config_.cluster.nodes, static_cast<int>(last) * per);
        // The stops of this trip's jobs follow at once (Site::Trip): they name the same unit.
        trip_stage_ = site_.chain().stages()[stage].name;
        trip_unit_ = static_cast<int64_t>(unit);
        events.Schedule(at, "racks dark", [this, from, to, at, where = trip_stage_, unit] {
          life_->HostNodesLost({from, to - from}, at, where, static_cast<int64_t>(unit));
          // Services' replicas there stop too (the site stops only its own jobs).
          if (pool_) pool_->NodesDark(from, to, at, "power_trip");
        });
      });
  site_.OnJobStopped([this, &events](Site::JobId job, SimTime at, JobStopCause cause) {
    if (job >= queue_job_.size() || queue_job_[job] < 0) return;
    const auto queued = static_cast<scheduler::JobId>(queue_job_[job]);
    const std::string_view why =
        cause == JobStopCause::kPowerTrip ? "power_trip" : "thermal_shutdown";
    const bool hot = cause == JobStopCause::kThermalShutdown;
    const std::string_view where = hot ? std::string_view() : trip_stage_;
    const int64_t unit = hot ? -1 : trip_unit_;
    events.Schedule(at, "site stopped a job", [this, job, queued, at, why, hot, where, unit] {
      // Still the same attempt: the queue has not stopped it meanwhile.
      if (queue_job_[job] != static_cast<int64_t>(queued)) return;
      life_->HostStopped(queued, at, why, where, unit);
      // Its nodes cool down and are checked before they take work again.
      if (hot) life_->HostDrain(site_.jobs()[job].nodes, at + kThermalDrain, at, why);
    });
  });
  if (std::any_of(config.services.begin(), config.services.end(),
                  [](const ServiceConfig& s) { return s.pool_priority.has_value(); })) {
    pool_ = std::make_unique<ServicePool>(config, site, *life_, events);
  }
  const size_t racks = static_cast<size_t>(config.cluster.rack_count());
  rack_unpowered_.assign(racks, 0);
  rack_throttled_.assign(racks, 0);
}

void LifeHost::Start(scheduler::JobId job, const std::vector<int>& nodes, SimTime now) {
  if (pool_ && pool_->Owns(job)) return pool_->Start(job, nodes, now);
  const scheduler::JobSpec& spec = life_->jobs()[static_cast<size_t>(job)];
  JobConfig c;
  if (spec.workload >= 0) {
    c = config_.jobs[static_cast<size_t>(spec.workload)];
  } else {
    c.name = spec.name;
    c.gpu_activity = spec.gpu_activity;
    c.gpus = spec.gpus;
  }
  // The queue keeps the job's clock: its end and its checkpoints.
  c.end = SimTime::Never();
  c.checkpoint_every = SimTime::Never();
  // Mapped before the start: the site reports the new job's speed from inside StartJob, and the
  // queue must hear it (a speed left from the previous attempt, e.g. under a CDU's throttle that
  // has since been repaired, would otherwise carry over).
  const Site::JobId next = site_.jobs().size();
  if (queue_job_.size() <= next) queue_job_.resize(next + 1, -1);
  queue_job_[next] = job;
  site_job_[static_cast<size_t>(job)] = static_cast<int64_t>(next);
  const Site::JobId id = site_.StartJob(std::move(c), nodes, now);
  FW_CHECK(id == next, "site job ids are their index in Site::jobs()");
  if (flex_ && spec.flexible) flex_->OnStart(job, id, spec.gpus, now);
}

void LifeHost::Stop(scheduler::JobId job, SimTime now) {
  if (pool_ && pool_->Owns(job)) return pool_->Stop(job, now);
  const int64_t id = site_job_[static_cast<size_t>(job)];
  if (id < 0) return;
  if (flex_) flex_->OnStop(job, now);
  site_.StopJob(static_cast<Site::JobId>(id), now);
  queue_job_[static_cast<size_t>(id)] = -1;
  site_job_[static_cast<size_t>(job)] = -1;
}

void LifeHost::SetPhase(scheduler::JobId job, scheduler::JobPhase phase, SimTime now) {
  if (pool_ && pool_->Owns(job)) return pool_->SetPhase(job, phase, now);
  const int64_t id = site_job_[static_cast<size_t>(job)];
  if (id < 0) return;
  const auto site_job = static_cast<Site::JobId>(id);
  site_.SetJobStalled(site_job, now, phase != scheduler::JobPhase::kComputing);
  // A checkpoint write, and a restart's reload of the same bytes, go over the storage network.
  site_.SetJobStorageIo(
      site_job, now,
      phase == scheduler::JobPhase::kCheckpointing || phase == scheduler::JobPhase::kRestarting);
}

units::Power LifeHost::CduThrottleLimit() const {
  const hardware::GpuSpec& gpu = config_.cluster.gpu;
  return std::max(gpu.idle_power, kCduThrottleShareOfTdp * gpu.tdp);
}

void LifeHost::OnFailure(const scheduler::Failure& failure, SimTime now) {
  Affect(failure, now, +1);
}

bool LifeHost::MayStartFlexible(SimTime now) { return !flex_ || flex_->MayStart(now); }

void LifeHost::OnRepair(const scheduler::Failure& failure, SimTime now) {
  Affect(failure, now, -1);
}

void LifeHost::Affect(const scheduler::Failure& f, SimTime now, int delta) {
  using scheduler::ComponentKind;
  using scheduler::FailureEffect;
  const bool dark = f.effect == FailureEffect::kNodeDown &&
                    (f.kind == ComponentKind::kPdu || f.kind == ComponentKind::kCdu);
  if (dark || f.effect == FailureEffect::kThrottle) {
    // The racks of the blast radius; each changes when its first failure comes or its last goes.
    const int per = config_.cluster.nodes_per_rack;
    const size_t first = static_cast<size_t>(f.nodes.first / per);
    const size_t last = static_cast<size_t>((f.nodes.end() + per - 1) / per);
    std::vector<int16_t>& count = dark ? rack_unpowered_ : rack_throttled_;
    for (size_t r = first; r < last; ++r) {
      const int before = count[r];
      count[r] = static_cast<int16_t>(before + delta);
      FW_CHECK(count[r] >= 0, "a rack repaired more often than it failed");
      if ((before == 0) == (count[r] == 0)) continue;
      const bool hit = count[r] > 0;
      if (dark) {
        site_.SetRacksPowered(r, r + 1, !hit, now);
      } else {
        site_.SetRackGpuLimit(r, r + 1, hit ? CduThrottleLimit() : units::Watts(kInfinity), now);
      }
    }
  } else if (f.effect == FailureEffect::kFabricDegraded && f.kind == ComponentKind::kSpine) {
    int& count = spine_down_[f.component];
    const int before = count;
    count += delta;
    FW_CHECK(count >= 0, "a spine repaired more often than it failed");
    if ((before == 0) == (count == 0)) return;
    std::string error;
    const std::vector<int> links =
        site_.fabric().TargetLinks("spine:" + std::to_string(f.component), &error);
    FW_CHECK(error.empty(), "spine failure on a spine the fabric lacks: " + error);
    site_.SetLinkHealth(links, count > 0 ? 0.0 : 1.0, now);
  }
}

std::optional<Site::JobId> LifeHost::SiteJob(scheduler::JobId job) const {
  if (static_cast<size_t>(job) >= site_job_.size()) return std::nullopt;  // a service's replica
  const int64_t id = site_job_[static_cast<size_t>(job)];
  if (id < 0) return std::nullopt;
  return static_cast<Site::JobId>(id);
}

}  // namespace firstwall::site
