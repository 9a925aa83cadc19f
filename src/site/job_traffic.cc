#include "site/job_traffic.h"

#include <cstdint>
#include <map>

#include "core/error.h"

namespace firstwall::site {
namespace {

void Ring(const std::vector<int>& m, std::vector<FlowEnds>& out) {
  if (m.size() < 2) return;
  for (size_t i = 0; i < m.size(); ++i) out.push_back({m[i], m[(i + 1) % m.size()]});
}

// A ring collective over `members`, split as the hierarchical algorithm runs it.
void GroupRing(const std::vector<int>& members, int domain, std::vector<FlowEnds>& out) {
  std::map<int, std::vector<int>> by_domain;
  for (int g : members) by_domain[g / domain].push_back(g);
  if (by_domain.size() == 1) {
    Ring(members, out);
    return;
  }
  size_t local = members.size();
  for (const auto& [d, v] : by_domain) local = std::min(local, v.size());
  for (size_t l = 0; l < local; ++l) {
    std::vector<int> across;
    for (const auto& [d, v] : by_domain) across.push_back(v[l]);
    Ring(across, out);
  }
  if (local > 1) {
    for (const auto& [d, v] : by_domain) Ring(v, out);
  }
}

}  // namespace

std::string_view TrafficName(Traffic t) {
  switch (t) {
    case Traffic::kTp:
      return "tp";
    case Traffic::kCp:
      return "cp";
    case Traffic::kEp:
      return "ep";
    case Traffic::kDp:
      return "dp";
    case Traffic::kPp:
      return "pp";
  }
  return "?";
}

JobFlowEnds JobFlows(const workload::TrainingSetup& s, const std::vector<int>& nodes,
                     int gpus_per_node, int domain) {
  const int tp = s.tp, cp = s.cp, dp = s.dp, pp = s.pp;
  FW_CHECK(static_cast<int64_t>(nodes.size()) * gpus_per_node >= workload::GpuCount(s),
           "job flows: fewer nodes than the job's GPUs need");
  auto gpu = [&](int t, int c, int d, int p) {
    const int rank = t + tp * (c + cp * (d + dp * p));
    return nodes[static_cast<size_t>(rank / gpus_per_node)] * gpus_per_node + rank % gpus_per_node;
  };
  JobFlowEnds out;
  auto& tp_f = out[static_cast<size_t>(Traffic::kTp)];
  auto& cp_f = out[static_cast<size_t>(Traffic::kCp)];
  auto& ep_f = out[static_cast<size_t>(Traffic::kEp)];
  auto& dp_f = out[static_cast<size_t>(Traffic::kDp)];
  auto& pp_f = out[static_cast<size_t>(Traffic::kPp)];
  std::vector<int> m;
  for (int p = 0; p < pp; ++p) {
    for (int d = 0; d < dp; ++d) {
      for (int c = 0; c < cp; ++c) {
        m.clear();
        for (int t = 0; t < tp; ++t) m.push_back(gpu(t, c, d, p));
        GroupRing(m, domain, tp_f);
      }
      for (int t = 0; t < tp; ++t) {
        m.clear();
        for (int c = 0; c < cp; ++c) m.push_back(gpu(t, c, d, p));
        GroupRing(m, domain, cp_f);
      }
    }
    for (int c = 0; c < cp; ++c) {
      for (int t = 0; t < tp; ++t) {
        m.clear();
        for (int d = 0; d < dp; ++d) m.push_back(gpu(t, c, d, p));
        GroupRing(m, domain, dp_f);
        if (s.ep > 1 && s.model.moe.experts > 0) {
          for (int base = 0; base + s.ep <= dp; base += s.ep) {
            for (int k = 0; k < s.ep; ++k) {
              ep_f.push_back({gpu(t, c, base + k, p), gpu(t, c, base + (k + s.ep / 2) % s.ep, p)});
            }
          }
        }
      }
    }
  }
  if (pp > 1) {
    for (int d = 0; d < dp; ++d) {
      for (int c = 0; c < cp; ++c) {
        for (int t = 0; t < tp; ++t) {
          for (int p = 0; p + 1 < pp; ++p) pp_f.push_back({gpu(t, c, d, p), gpu(t, c, d, p + 1)});
          if (s.vpp > 1) pp_f.push_back({gpu(t, c, d, pp - 1), gpu(t, c, d, 0)});
        }
      }
    }
  }
  return out;
}

workload::FabricShare& ShareOf(workload::TrafficShares& t, Traffic kind) {
  switch (kind) {
    case Traffic::kTp:
      return t.tp;
    case Traffic::kCp:
      return t.cp;
    case Traffic::kEp:
      return t.ep;
    case Traffic::kDp:
      return t.dp;
    case Traffic::kPp:
      return t.pp;
  }
  return t.dp;
}

double BusySeconds(const workload::StepEstimate& e, Traffic kind) {
  const workload::StepBreakdown& b = e.breakdown;
  switch (kind) {
    case Traffic::kTp:
      return units::ToSeconds(b.tp_comm);
    case Traffic::kCp:
      return units::ToSeconds(b.cp_comm);
    case Traffic::kEp:
      return units::ToSeconds(e.ep_comm_total);  // hidden under compute or not
    case Traffic::kDp:
      return units::ToSeconds(e.dp_comm_total);
    case Traffic::kPp:
      return units::ToSeconds(b.pp_p2p);
  }
  return 0;
}

}  // namespace firstwall::site
