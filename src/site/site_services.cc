// Services in the scheduler's pool (PlacedService::pooled, site/life_services.h): their replicas
// hold whatever nodes the scheduler granted, and each serving replica draws its share of the
// serving simulation's power.
#include <algorithm>

#include "core/error.h"
#include "site/site.h"

namespace firstwall::site {

void Site::PoolService(PlacedService& ps) const {
  const workload::ServingResult& r = ps.result;
  ps.pooled = true;
  const std::vector<workload::ReplicaStep>& held = r.replicas_held;
  const double bin = r.bin_s;
  const double all_idle = r.gpus * idle_gpu_w_;
  ps.replica_cum_j.assign(1, 0.0);
  size_t step = 0;
  for (size_t i = 0; i < r.gpu_power_w.size(); ++i) {
    const double from = ps.start_s + static_cast<double>(i) * bin;
    const double to = std::min(from + bin, ps.end_s);
    // Replica-seconds held in the bin, from the step series (a step at t holds from t on).
    double replica_s = 0;
    for (double t = from; t < to;) {
      while (step + 1 < held.size() && held[step + 1].t_s <= t) ++step;
      const double next = step + 1 < held.size() ? std::min(to, held[step + 1].t_s) : to;
      const int n = step < held.size() && held[step].t_s <= t ? held[step].replicas : 0;
      replica_s += n * (next - t);
      if (next <= t) break;
      t = next;
    }
    // The bin's energy above idle shared by the replicas held in it: one replica's power.
    const double above_j = std::max(0.0, r.gpu_power_w[i] - all_idle) * (to - from);
    const double replica_w = replica_s > 0 ? above_j / replica_s : 0.0;
    ps.replica_cum_j.push_back(ps.replica_cum_j.back() + replica_w * (to - from));
  }
}

double Site::PooledServiceGpuWatts(const PlacedService& ps, SimTime from, SimTime to) const {
  const double a = from.seconds(), b = to.seconds();
  const double bin = ps.result.bin_s;
  const std::vector<double>& cum = ps.replica_cum_j;
  // One serving replica's energy above idle from start_s to t (none outside the lifetime), as
  // Site::ServiceGpuWatts reads its binned series.
  auto energy = [&](double t) {
    const size_t n = cum.size() - 1;
    if (t <= ps.start_s || n == 0) return 0.0;
    const double in = std::min(t, ps.end_s) - ps.start_s;
    const double pos = std::min(in / bin, static_cast<double>(n));
    const auto i = std::min(static_cast<size_t>(pos), n - 1);
    return cum[i] + (cum[i + 1] - cum[i]) * std::min(1.0, pos - static_cast<double>(i));
  };
  return ps.HeldGpus() * idle_gpu_w_ + ps.serving_replicas * (energy(b) - energy(a)) / (b - a);
}

void Site::SetServiceReplicaNodes(size_t service, const std::vector<int>& nodes, bool hold,
                                  SimTime now) {
  (void)now;  // the next window reads the new placement
  PlacedService& ps = services_.at(service);
  FW_CHECK(ps.pooled, "service '" + ps.name + "' is not in the scheduler's pool");
  if (hold) {
    placement_.Assign(TenantRef::Service(service), nodes);
    ps.nodes.insert(ps.nodes.end(), nodes.begin(), nodes.end());
    std::sort(ps.nodes.begin(), ps.nodes.end());
    ++ps.held_replicas;
  } else {
    placement_.Release(TenantRef::Service(service), nodes);
    std::erase_if(ps.nodes,
                  [&](int n) { return std::binary_search(nodes.begin(), nodes.end(), n); });
    --ps.held_replicas;
    FW_CHECK(ps.held_replicas >= ps.serving_replicas && ps.held_replicas >= 0,
             "a pooled service serves on more replicas than it holds");
  }
}

void Site::SetServiceServing(size_t service, int replicas, SimTime now) {
  (void)now;
  PlacedService& ps = services_.at(service);
  FW_CHECK(ps.pooled && replicas >= 0 && replicas <= ps.held_replicas,
           "a pooled service serves on the replicas it holds");
  ps.serving_replicas = replicas;
}

}  // namespace firstwall::site
