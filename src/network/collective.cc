#include "network/collective.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <string>

#include "core/error.h"

namespace firstwall::network {
namespace {
using hardware::Collective;
constexpr double kInf = std::numeric_limits<double>::infinity();

struct PhaseRate {
  double min_rate = kInf;
  double latency_s = 0;
};

// Flows per link of one phase, kept between phases so a phase costs its flows, not the fabric.
class LinkCounts {
 public:
  explicit LinkCounts(const Fabric& f) : count_(f.link_count(), 0) {}
  void Add(int32_t link) {
    if (count_[static_cast<size_t>(link)]++ == 0) touched_.push_back(link);
  }
  // The smallest capacity per flow over the links used, and a reset for the next phase.
  double MinShareAndClear(const std::vector<double>& capacity) {
    double m = kInf;
    for (int32_t l : touched_) {
      m = std::min(m, capacity[static_cast<size_t>(l)] / count_[static_cast<size_t>(l)]);
      count_[static_cast<size_t>(l)] = 0;
    }
    touched_.clear();
    return m;
  }

 private:
  std::vector<int32_t> count_;
  std::vector<int32_t> touched_;
};

// The slowest flow's max-min rate among (src, dst) flows, and the longest path latency.
// `for_each_pair(visit)` calls visit(src, dst) once per flow, in flow-id order.
//
// Progressive filling (network/max_min.h) raises every flow's rate together until the first link
// fills, at the level capacity / flows of the link where that ratio is smallest; the flows there
// freeze at it and every other flow ends at or above it. So the slowest rate is that smallest
// ratio, and counting the flows on each link gives it without solving the whole allocation: the
// cost is the flows' path lengths, with no path stored.
template <class ForEachPair>
PhaseRate Evaluate(const Fabric& f, LinkCounts& counts, ForEachPair for_each_pair) {
  PhaseRate r;
  uint64_t id = 0;
  int32_t links[kMaxPathLinks];
  // Traffic is striped over the planes: a pair's rate is its slowest stripe's times the planes.
  for_each_pair([&](int a, int b) {
    ++id;
    for (int pl = 0; pl < f.planes(); ++pl) {
      const int n = f.RouteInto(a, b, id, pl, links);
      for (int i = 0; i < n; ++i) counts.Add(links[i]);
      if (n > 0) r.latency_s = std::max(r.latency_s, f.PathLatencySeconds(links[0], n));
    }
  });
  r.min_rate = counts.MinShareAndClear(f.capacity());
  // Pairs inside a node repeat their NVLink path once per plane and share it, so the same
  // multiplication restores their full rate.
  r.min_rate *= f.planes();
  return r;
}

// Evaluate over a list of pairs.
PhaseRate EvaluatePairs(const Fabric& f, LinkCounts& counts,
                        const std::vector<std::pair<int, int>>& pairs) {
  return Evaluate(f, counts, [&](auto visit) {
    for (auto [a, b] : pairs) visit(a, b);
  });
}

double Steps(Collective op) { return op == Collective::kAllReduce ? 2.0 : 1.0; }

// Rings, given as lists of GPUs, run together; each moves `chunk` per step for `steps` steps.
double Rings(const Fabric& f, LinkCounts& counts, const std::vector<std::vector<int>>& rings,
             double chunk, double steps) {
  bool any = false;
  const PhaseRate r = Evaluate(f, counts, [&](auto visit) {
    for (const auto& ring : rings) {
      for (size_t i = 0; i < ring.size() && ring.size() > 1; ++i) {
        visit(ring[i], ring[(i + 1) % ring.size()]);
        any = true;
      }
    }
  });
  if (!any) return 0;
  if (r.min_rate <= 0) return kInf;
  return steps * (chunk / r.min_rate + r.latency_s);
}

double RingTime(const Fabric& f, LinkCounts& counts, Collective op, double bytes,
                const std::vector<int>& gpus) {
  const double n = static_cast<double>(gpus.size());
  return Rings(f, counts, {gpus}, bytes / n, Steps(op) * (n - 1));
}

// Groups of the participating GPUs by node; nullopt unless every node contributes equally.
std::optional<std::vector<std::vector<int>>> ByNode(const Fabric& f, const std::vector<int>& gpus) {
  std::map<int, std::vector<int>> nodes;
  for (int g : gpus) nodes[g / f.domain_size()].push_back(g);
  std::vector<std::vector<int>> out;
  for (auto& [n, v] : nodes) {
    if (!out.empty() && v.size() != out.front().size()) return std::nullopt;
    out.push_back(v);
  }
  return out;
}

double HierarchicalTime(const Fabric& f, LinkCounts& counts, Collective op, double bytes,
                        const std::vector<std::vector<int>>& nodes, bool tree) {
  const double local = static_cast<double>(nodes.front().size());
  const double n_nodes = static_cast<double>(nodes.size());
  // Inside the nodes: reduce-scatter (and all-gather after, for all-reduce).
  const double intra = Rings(f, counts, nodes, bytes / local, local - 1);
  // Across nodes: one ring per rail position.
  std::vector<std::vector<int>> rails(nodes.front().size());
  for (const auto& node : nodes) {
    for (size_t i = 0; i < node.size(); ++i) rails[i].push_back(node[i]);
  }
  const double share = bytes / local;
  double inter;
  if (tree && op == Collective::kAllReduce) {
    // Pipelined double binary tree: the slowest rail pipe carries 2 x share once; latency grows
    // with the tree depth.
    std::vector<std::pair<int, int>> pairs;
    for (const auto& r : rails) {
      for (size_t i = 0; i + 1 < r.size(); ++i) pairs.emplace_back(r[i], r[i + 1]);
    }
    const PhaseRate pr = EvaluatePairs(f, counts, pairs);
    if (pr.min_rate <= 0) return kInf;
    inter = 2.0 * share / pr.min_rate + 2.0 * std::ceil(std::log2(n_nodes)) * pr.latency_s;
  } else {
    inter = Rings(f, counts, rails, share / n_nodes, Steps(op) * (n_nodes - 1));
  }
  switch (op) {
    case Collective::kAllReduce:
      return 2 * intra + inter;
    case Collective::kReduceScatter:
    case Collective::kAllGather:
      return intra + inter;
    case Collective::kAllToAll:
      return kInf;
  }
  return kInf;
}

double AllToAllTime(const Fabric& f, LinkCounts& counts, double bytes,
                    const std::vector<int>& gpus) {
  const int n = static_cast<int>(gpus.size());
  if (n < 2) return 0;
  const double chunk = bytes / n;
  // Evaluate up to 64 rounds spread over the shifts, and scale to all n - 1.
  const int rounds = n - 1, sample = std::min(rounds, 64);
  double total = 0;
  for (int i = 0; i < sample; ++i) {
    const int k = 1 + static_cast<int>(static_cast<int64_t>(i) * rounds / sample);
    const PhaseRate r = Evaluate(f, counts, [&](auto visit) {
      for (int j = 0, d = k; j < n; ++j, d = d + 1 == n ? 0 : d + 1) {  // d = (j + k) mod n
        visit(gpus[static_cast<size_t>(j)], gpus[static_cast<size_t>(d)]);
      }
    });
    if (r.min_rate <= 0) return kInf;
    total += chunk / r.min_rate + r.latency_s;
  }
  return total * rounds / sample;
}

}  // namespace

std::string_view AlgorithmName(Algorithm a) {
  switch (a) {
    case Algorithm::kRing:
      return "ring";
    case Algorithm::kTree:
      return "tree";
    case Algorithm::kHierarchical:
      return "hierarchical";
    case Algorithm::kPairwise:
      return "pairwise";
    case Algorithm::kAuto:
      return "auto";
  }
  return "?";
}

std::optional<Algorithm> AlgorithmFromName(std::string_view name) {
  for (Algorithm a : {Algorithm::kRing, Algorithm::kTree, Algorithm::kHierarchical,
                      Algorithm::kPairwise, Algorithm::kAuto}) {
    if (AlgorithmName(a) == name) return a;
  }
  return std::nullopt;
}

bool AlgorithmApplies(Algorithm a, Collective op) {
  switch (a) {
    case Algorithm::kAuto:
      return true;
    case Algorithm::kPairwise:
      return op == Collective::kAllToAll;
    case Algorithm::kTree:
      return op == Collective::kAllReduce;
    case Algorithm::kRing:
    case Algorithm::kHierarchical:
      return op != Collective::kAllToAll;
  }
  return false;
}

CollectiveEstimate EstimateCollective(const Fabric& fabric, Collective op, double bytes,
                                      const std::vector<int>& gpus, Algorithm algorithm,
                                      double launch_s) {
  FW_CHECK(AlgorithmApplies(algorithm, op),
           "algorithm " + std::string(AlgorithmName(algorithm)) + " does not apply");
  CollectiveEstimate e;
  const double n = static_cast<double>(gpus.size());
  if (gpus.size() < 2) return e;
  LinkCounts counts(fabric);
  std::vector<std::pair<Algorithm, double>> options;
  if (op == Collective::kAllToAll) {
    options.emplace_back(Algorithm::kPairwise, AllToAllTime(fabric, counts, bytes, gpus));
  } else {
    const auto nodes = ByNode(fabric, gpus);
    const bool multi_node = nodes && nodes->size() > 1;
    auto want = [&](Algorithm a) { return algorithm == a || algorithm == Algorithm::kAuto; };
    if (want(Algorithm::kRing) || !multi_node) {
      options.emplace_back(Algorithm::kRing, RingTime(fabric, counts, op, bytes, gpus));
    }
    if (multi_node && want(Algorithm::kHierarchical)) {
      options.emplace_back(Algorithm::kHierarchical,
                           HierarchicalTime(fabric, counts, op, bytes, *nodes, false));
    }
    if (multi_node && op == Collective::kAllReduce && want(Algorithm::kTree)) {
      options.emplace_back(Algorithm::kTree,
                           HierarchicalTime(fabric, counts, op, bytes, *nodes, true));
    }
    if (options.empty())
      options.emplace_back(Algorithm::kRing, RingTime(fabric, counts, op, bytes, gpus));
  }
  auto best = std::min_element(options.begin(), options.end(),
                               [](const auto& a, const auto& b) { return a.second < b.second; });
  e.algorithm = best->first;
  e.time_s = best->second + launch_s;
  e.algbw_bytes_per_s = bytes / e.time_s;
  const double factor = op == Collective::kAllReduce ? 2.0 * (n - 1) / n : (n - 1) / n;
  e.busbw_bytes_per_s = e.algbw_bytes_per_s * factor;
  return e;
}

}  // namespace firstwall::network
