#include "site/site.h"

#include <algorithm>

#include "core/error.h"

namespace firstwall::site {
using namespace units;

int NodesFor(const JobConfig& job, const ClusterConfig& cluster) {
  const int gpus = workload::GpuCount(job.setup);
  return (gpus + cluster.gpus_per_node - 1) / cluster.gpus_per_node;
}

Site::Site(SiteConfig config)
    : config_(std::move(config)),
      gpu_power_(config_.cluster.gpu.idle_power, config_.cluster.gpu.tdp,
                 config_.cluster.gpu_power_cap),
      chain_(config_.facility.power_chain),
      plant_(config_.facility.cooling_cop, config_.facility.cooling_capacity) {
  const ClusterConfig& c = config_.cluster;
  const double idle_gpu_w = ToWatts(gpu_power_.At(0));
  idle_node_w_ = c.gpus_per_node * idle_gpu_w + ToWatts(c.node_base_power);

  // Place jobs on consecutive nodes in declaration order.
  int next_node = 0;
  for (const JobConfig& jc : config_.jobs) {
    workload::StepEstimate est = workload::EstimateStep(jc.setup);
    workload::PhaseTimeline timeline(est.phases, jc.start, jc.end);
    PlacedJob pj{jc, est, timeline, next_node, NodesFor(jc, c), {}, {}, {}};
    const int gpus = workload::GpuCount(jc.setup);
    const int idle_gpus = pj.node_count * c.gpus_per_node - gpus;
    for (const workload::Phase& ph : est.phases) {
      const double gpu_w = gpus * ToWatts(gpu_power_.At(ph.activity));
      pj.activity.push_back(ph.activity);
      pj.gpu_power_w.push_back(gpu_w);
      pj.node_power_w.push_back(
          (gpu_w + idle_gpus * idle_gpu_w + pj.node_count * ToWatts(c.node_base_power)) /
          pj.node_count);
    }
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
}

void Site::ScheduleEvents(EventQueue& events) {
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

  double gpu_w = c.gpu_count() * ToWatts(gpu_power_.At(0));
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
    const double idle_gpu_w = ToWatts(gpu_power_.At(0));
    gpu_w += pj.timeline.Integrate(pj.gpu_power_w, from, to) / dt - gpus * idle_gpu_w * run_s / dt;
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
}

}  // namespace firstwall::site
