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

// A phase's time split into what moves data and what waits on hops: pipelined stages overlap the
// first (the busiest stage sets the pace) but each adds its latency.
struct Cost {
  double bandwidth_s = 0;
  double latency_s = 0;
  double total() const { return bandwidth_s + latency_s; }
};
constexpr Cost kCut = {kInf, 0};  // a flow with no bandwidth

// Rings, given as lists of GPUs, run together; each moves `chunk` per step for `steps` steps.
Cost Rings(const Fabric& f, LinkCounts& counts, const std::vector<std::vector<int>>& rings,
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
  if (!any) return {};
  if (r.min_rate <= 0) return kCut;
  return {steps * chunk / r.min_rate, steps * r.latency_s};
}

// Groups of the participating GPUs by NVLink domain; nullopt unless every domain contributes
// equally.
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

// NCCL's ring over several nodes runs one channel per rail: channel c enters each node at its
// c-th GPU, visits the node's GPUs in turn and leaves from the one before, so every GPU's NIC
// carries one channel and its NVLink the others, and all NICs of a node work at once. One node,
// or one GPU per node: a single ring over the GPUs in order.
Cost RingTime(const Fabric& f, LinkCounts& counts, Collective op, double bytes,
              const std::vector<int>& gpus) {
  const double n = static_cast<double>(gpus.size());
  const auto nodes = ByNode(f, gpus);
  const size_t local = nodes ? nodes->front().size() : 1;
  if (!nodes || nodes->size() < 2 || local < 2) {
    return Rings(f, counts, {gpus}, bytes / n, Steps(op) * (n - 1));
  }
  std::vector<std::vector<int>> channels(local);
  for (size_t c = 0; c < local; ++c) {
    for (const auto& node : *nodes) {
      for (size_t i = 0; i < local; ++i) channels[c].push_back(node[(c + i) % local]);
    }
  }
  return Rings(f, counts, channels, bytes / (n * static_cast<double>(local)), Steps(op) * (n - 1));
}

// Reduce-scatter inside the nodes, the operation across nodes on each rail with S/local, and
// all-gather inside for all-reduce. NCCL pipelines chunks through these stages, so they overlap:
// the stage that moves its data slowest sets the pace (NVLink carries the reduce-scatter and the
// all-gather at once), and each stage adds its latency.
Cost HierarchicalTime(const Fabric& f, LinkCounts& counts, Collective op, double bytes,
                      const std::vector<std::vector<int>>& nodes, bool tree) {
  const double local = static_cast<double>(nodes.front().size());
  const double n_nodes = static_cast<double>(nodes.size());
  const Cost intra = Rings(f, counts, nodes, bytes / local, local - 1);
  std::vector<std::vector<int>> rails(nodes.front().size());
  for (const auto& node : nodes) {
    for (size_t i = 0; i < node.size(); ++i) rails[i].push_back(node[i]);
  }
  const double share = bytes / local;
  Cost inter;
  if (tree && op == Collective::kAllReduce) {
    // Pipelined double binary tree: each node sends and receives its share about twice over a
    // rail (once up, once down, half in each tree), but on two nodes each is the other's only
    // neighbour and sends it once (Jeaugey, NVIDIA/nccl#946, nccl#330); latency grows with the
    // tree depth.
    std::vector<std::pair<int, int>> pairs;
    for (const auto& r : rails) {
      for (size_t i = 0; i + 1 < r.size(); ++i) pairs.emplace_back(r[i], r[i + 1]);
    }
    const PhaseRate pr = EvaluatePairs(f, counts, pairs);
    if (pr.min_rate <= 0) return kCut;
    const double passes = nodes.size() == 2 ? 1.0 : 2.0;
    inter = {passes * share / pr.min_rate, 2.0 * std::ceil(std::log2(n_nodes)) * pr.latency_s};
  } else {
    inter = Rings(f, counts, rails, share / n_nodes, Steps(op) * (n_nodes - 1));
  }
  switch (op) {
    case Collective::kAllReduce:
      return {std::max(2 * intra.bandwidth_s, inter.bandwidth_s),
              2 * intra.latency_s + inter.latency_s};
    case Collective::kReduceScatter:
    case Collective::kAllGather:
      return {std::max(intra.bandwidth_s, inter.bandwidth_s), intra.latency_s + inter.latency_s};
    case Collective::kAllToAll:
      return kCut;
  }
  return kCut;
}

// NVLink SHARP: each GPU sends its buffer to the switch once (which reduces) and receives the
// result once (multicast), so the slowest GPU's NVLink port at the NVLS efficiency sets the rate;
// a fixed cost beyond the launch (FabricSpec::nvls_extra_latency).
Cost NvlsTime(const Fabric& f, double bytes, const std::vector<int>& gpus) {
  const FabricSpec& s = f.spec();
  double rate = kInf;
  for (int g : gpus) {
    rate = std::min({rate, f.capacity()[static_cast<size_t>(f.NvlinkUpLink(g))],
                     f.capacity()[static_cast<size_t>(f.NvlinkDownLink(g))]});
  }
  // Capacities hold the ring efficiency; NVLS achieves its own fraction of the same wires.
  rate *= s.nvls_efficiency / s.nvlink_efficiency;
  if (rate <= 0) return kCut;
  return {bytes / rate, units::ToSeconds(s.nvls_extra_latency)};
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
    case Algorithm::kNvls:
      return "nvls";
    case Algorithm::kAuto:
      return "auto";
  }
  return "?";
}

std::optional<Algorithm> AlgorithmFromName(std::string_view name) {
  for (Algorithm a : {Algorithm::kRing, Algorithm::kTree, Algorithm::kHierarchical,
                      Algorithm::kPairwise, Algorithm::kNvls, Algorithm::kAuto}) {
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
    case Algorithm::kNvls:
      return op == Collective::kAllReduce;
    case Algorithm::kRing:
    case Algorithm::kHierarchical:
      return op != Collective::kAllToAll;
  }
  return false;
}

bool NvlsAvailable(const Fabric& fabric, const std::vector<int>& gpus) {
  if (fabric.spec().nvls_efficiency <= 0 || gpus.size() < 2) return false;
  return std::all_of(gpus.begin(), gpus.end(),
                     [&](int g) { return fabric.SameDomain(g, gpus.front()); });
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
  const bool nvls = op == Collective::kAllReduce && NvlsAvailable(fabric, gpus);
  if (op == Collective::kAllToAll) {
    options.emplace_back(Algorithm::kPairwise, AllToAllTime(fabric, counts, bytes, gpus));
  } else if (algorithm == Algorithm::kNvls) {
    FW_CHECK(nvls, "NVLS needs a reducing NVLink switch and every GPU in one NVLink domain");
    options.emplace_back(Algorithm::kNvls, NvlsTime(fabric, bytes, gpus).total());
  } else {
    const auto nodes = ByNode(fabric, gpus);
    const bool multi_node = nodes && nodes->size() > 1;
    auto want = [&](Algorithm a) { return algorithm == a || algorithm == Algorithm::kAuto; };
    if (want(Algorithm::kRing) || !multi_node) {
      options.emplace_back(Algorithm::kRing, RingTime(fabric, counts, op, bytes, gpus).total());
    }
    // NCCL has no ring-per-rail hierarchy of its own: it runs only when asked for.
    if (multi_node && algorithm == Algorithm::kHierarchical) {
      options.emplace_back(Algorithm::kHierarchical,
                           HierarchicalTime(fabric, counts, op, bytes, *nodes, false).total());
    }
    if (multi_node && op == Collective::kAllReduce && want(Algorithm::kTree)) {
      options.emplace_back(Algorithm::kTree,
                           HierarchicalTime(fabric, counts, op, bytes, *nodes, true).total());
    }
    if (nvls && algorithm == Algorithm::kAuto) {
      options.emplace_back(Algorithm::kNvls, NvlsTime(fabric, bytes, gpus).total());
    }
    if (options.empty()) {
      options.emplace_back(Algorithm::kRing, RingTime(fabric, counts, op, bytes, gpus).total());
    }
  }
  auto best = std::min_element(options.begin(), options.end(),
                               [](const auto& a, const auto& b) { return a.second < b.second; });
  e.algorithm = best->first;
  e.time_s = best->second + launch_s;
  e.algbw_bytes_per_s = bytes / e.time_s;
  // nccl-tests' bus bandwidth convention, whatever the algorithm (NVLS included).
  const double factor = op == Collective::kAllReduce ? 2.0 * (n - 1) / n : (n - 1) / n;
  e.busbw_bytes_per_s = e.algbw_bytes_per_s * factor;
  return e;
}

}  // namespace firstwall::network
