#include "site/life.h"

#include "core/error.h"
#include "network/fabric.h"

namespace firstwall::site {

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
                                         const scheduler::Topology& topology) {
  const LifeConfig& life = *config.life;
  scheduler::ClusterLifeOptions o = life.options;
  scheduler::FailureModel model = life.failures.value_or(scheduler::FailureModel{});
  for (const ScriptedFailureConfig& f : life.scripted) {
    o.scripted_failures.push_back(
        scheduler::ScriptedFailure(topology, model, f.kind, f.index, f.at, f.repair));
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
  life_ = std::make_unique<scheduler::ClusterLife>(topology, life.scheduler, model, life.jobs,
                                                   config.seed, OptionsFor(config, topology),
                                                   events, this);
  site_.OnJobSpeed([this](Site::JobId job, SimTime at, double speed) {
    if (job < queue_job_.size() && queue_job_[job] >= 0) {
      life_->SetSpeed(static_cast<scheduler::JobId>(queue_job_[job]), speed, at);
    }
  });
}

void LifeHost::Start(scheduler::JobId job, const std::vector<int>& nodes, SimTime now) {
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
  const Site::JobId id = site_.StartJob(std::move(c), nodes, now);
  if (queue_job_.size() <= id) queue_job_.resize(id + 1, -1);
  queue_job_[id] = job;
  site_job_[static_cast<size_t>(job)] = static_cast<int64_t>(id);
}

void LifeHost::Stop(scheduler::JobId job, SimTime now) {
  const int64_t id = site_job_[static_cast<size_t>(job)];
  if (id < 0) return;
  site_.StopJob(static_cast<Site::JobId>(id), now);
  queue_job_[static_cast<size_t>(id)] = -1;
  site_job_[static_cast<size_t>(job)] = -1;
}

void LifeHost::SetPhase(scheduler::JobId job, scheduler::JobPhase phase, SimTime now) {
  const int64_t id = site_job_[static_cast<size_t>(job)];
  if (id < 0) return;
  site_.SetJobStalled(static_cast<Site::JobId>(id), now, phase != scheduler::JobPhase::kComputing);
}

std::optional<Site::JobId> LifeHost::SiteJob(scheduler::JobId job) const {
  const int64_t id = site_job_[static_cast<size_t>(job)];
  if (id < 0) return std::nullopt;
  return static_cast<Site::JobId>(id);
}

}  // namespace firstwall::site
