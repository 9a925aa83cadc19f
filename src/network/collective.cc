#include "network/collective.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>

namespace firstwall::network {
namespace {
using hardware::Collective;
constexpr double kInf = std::numeric_limits<double>::infinity();

struct PhaseRate {
  double min_rate = kInf;
  double latency_s = 0;
};

// Max-min rates of a set of (src, dst) flows; the slowest flow and the longest path latency.
PhaseRate Evaluate(const Fabric& f, const std::vector<std::pair<int, int>>& pairs) {
  std::vector<FlowPath> paths;
  paths.reserve(pairs.size());
  PhaseRate r;
  uint64_t id = 0;
  // Traffic is striped over the planes: a pair's rate is its slowest stripe's times the planes.
  for (auto [a, b] : pairs) {
    ++id;
    for (int pl = 0; pl < f.planes(); ++pl) {
      paths.push_back(f.Route(a, b, id, pl));
      r.latency_s = std::max(r.latency_s, f.PathLatencySeconds(paths.back()));
    }
  }
  const std::vector<double> rates = MaxMinRates(f.capacity(), paths, kInf);
  for (double x : rates) r.min_rate = std::min(r.min_rate, x);
  // Pairs inside a node repeat their NVLink path once per plane and share it, so the same
  // multiplication restores their full rate.
  r.min_rate *= f.planes();
  return r;
}

double Steps(Collective op) { return op == Collective::kAllReduce ? 2.0 : 1.0; }

// Rings, given as lists of GPUs, run together; each moves `chunk` per step for `steps` steps.
double Rings(const Fabric& f, const std::vector<std::vector<int>>& rings, double chunk,
             double steps) {
  std::vector<std::pair<int, int>> pairs;
  for (const auto& ring : rings) {
    for (size_t i = 0; i < ring.size() && ring.size() > 1; ++i) {
      pairs.emplace_back(ring[i], ring[(i + 1) % ring.size()]);
    }
  }
  if (pairs.empty()) return 0;
  const PhaseRate r = Evaluate(f, pairs);
  if (r.min_rate <= 0) return kInf;
  return steps * (chunk / r.min_rate + r.latency_s);
}

double RingTime(const Fabric& f, Collective op, double bytes, const std::vector<int>& gpus) {
  const double n = static_cast<double>(gpus.size());
  return Rings(f, {gpus}, bytes / n, Steps(op) * (n - 1));
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

double HierarchicalTime(const Fabric& f, Collective op, double bytes,
                        const std::vector<std::vector<int>>& nodes, bool tree) {
  const double local = static_cast<double>(nodes.front().size());
  const double n_nodes = static_cast<double>(nodes.size());
  // Inside the nodes: reduce-scatter (and all-gather after, for all-reduce).
  const double intra = Rings(f, nodes, bytes / local, local - 1);
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
    const PhaseRate pr = Evaluate(f, pairs);
    if (pr.min_rate <= 0) return kInf;
    inter = 2.0 * share / pr.min_rate + 2.0 * std::ceil(std::log2(n_nodes)) * pr.latency_s;
  } else {
    inter = Rings(f, rails, share / n_nodes, Steps(op) * (n_nodes - 1));
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

double AllToAllTime(const Fabric& f, double bytes, const std::vector<int>& gpus) {
  const int n = static_cast<int>(gpus.size());
  if (n < 2) return 0;
  const double chunk = bytes / n;
  // Evaluate up to 64 rounds spread over the shifts, and scale to all n - 1.
  const int rounds = n - 1, sample = std::min(rounds, 64);
  double total = 0;
  for (int i = 0; i < sample; ++i) {
    const int k = 1 + static_cast<int>(static_cast<int64_t>(i) * rounds / sample);
    std::vector<std::pair<int, int>> pairs;
    for (int j = 0; j < n; ++j)
      pairs.emplace_back(gpus[static_cast<size_t>(j)], gpus[static_cast<size_t>((j + k) % n)]);
    const PhaseRate r = Evaluate(f, pairs);
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
    case Algorithm::kAuto:
      return "auto";
  }
  return "?";
}

std::optional<Algorithm> AlgorithmFromName(std::string_view name) {
  for (Algorithm a :
       {Algorithm::kRing, Algorithm::kTree, Algorithm::kHierarchical, Algorithm::kAuto}) {
    if (AlgorithmName(a) == name) return a;
  }
  return std::nullopt;
}

CollectiveEstimate EstimateCollective(const Fabric& fabric, Collective op, double bytes,
                                      const std::vector<int>& gpus, Algorithm algorithm,
                                      double launch_s) {
  CollectiveEstimate e;
  const double n = static_cast<double>(gpus.size());
  if (gpus.size() < 2) return e;
  std::vector<std::pair<Algorithm, double>> options;
  if (op == Collective::kAllToAll) {
    options.emplace_back(Algorithm::kRing, AllToAllTime(fabric, bytes, gpus));
  } else {
    const auto nodes = ByNode(fabric, gpus);
    const bool multi_node = nodes && nodes->size() > 1;
    auto want = [&](Algorithm a) { return algorithm == a || algorithm == Algorithm::kAuto; };
    if (want(Algorithm::kRing) || !multi_node) {
      options.emplace_back(Algorithm::kRing, RingTime(fabric, op, bytes, gpus));
    }
    if (multi_node && want(Algorithm::kHierarchical)) {
      options.emplace_back(Algorithm::kHierarchical,
                           HierarchicalTime(fabric, op, bytes, *nodes, false));
    }
    if (multi_node && op == Collective::kAllReduce && want(Algorithm::kTree)) {
      options.emplace_back(Algorithm::kTree, HierarchicalTime(fabric, op, bytes, *nodes, true));
    }
    if (options.empty()) options.emplace_back(Algorithm::kRing, RingTime(fabric, op, bytes, gpus));
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
