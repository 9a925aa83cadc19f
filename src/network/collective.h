// Collectives over the fabric as coflows: each algorithm step moves equal chunks on many flows at
// once, and a step ends when its slowest flow does, so a collective's time follows from the
// max-min rates of its flows (network/max_min.h) with one evaluation per phase rather than one
// event per flow or step. This is how a degraded link slows a whole ring, and how jobs sharing a
// spine slow each other.
//
//   ring          one ring over the GPUs in order; all-reduce 2(n-1) steps of S/n, reduce-scatter
//                 and all-gather n-1 steps. Over several nodes NCCL runs one ring (channel) per
//                 rail, each entering a node at another GPU, so every NIC of a node carries one
//                 channel at once and the rings share S
//   hierarchical  whole nodes: reduce-scatter over NVLink inside each node, the operation across
//                 nodes on each rail (GPU i of every node) with S/local, all-gather inside the
//                 node; pipelined in chunks as NCCL does, so the slowest stage sets the pace and
//                 each stage adds its latency
//   tree          all-reduce only: as hierarchical, with a pipelined double binary tree across
//                 nodes (2 S/local through the bottleneck, S/local on two nodes; 2 log2(nodes)
//                 hops of latency)
//   nvls          all-reduce only, inside one NVLink domain whose switches reduce (NVLink SHARP,
//                 FabricSpec::nvls_efficiency > 0): every GPU sends S up and receives S down once
//   pairwise      all-to-all only: n-1 rounds of shifted pairwise exchange, S/n per pair (64
//                 sampled rounds on larger groups)
//
// A phase's time follows from its slowest flow, whose max-min rate is the smallest capacity per
// flow over the links the phase uses; so a phase costs the path lengths of its flows (an
// all-to-all over n GPUs about 64 n routes), with no allocation solved or path stored.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "hardware/collective.h"
#include "network/fabric.h"

namespace firstwall::network {

enum class Algorithm { kRing, kTree, kHierarchical, kPairwise, kNvls, kAuto };
std::string_view AlgorithmName(Algorithm a);
std::optional<Algorithm> AlgorithmFromName(std::string_view name);
// Whether `a` is an algorithm of `op` (auto always is): ring and hierarchical for all but
// all-to-all, tree and nvls for all-reduce, pairwise for all-to-all.
bool AlgorithmApplies(Algorithm a, hardware::Collective op);
// Whether NVLS can run over `gpus`: the fabric's NVLink switches reduce (nvls_efficiency > 0) and
// every GPU is in the NVLink domain of the first; at least two GPUs.
bool NvlsAvailable(const Fabric& fabric, const std::vector<int>& gpus);

struct CollectiveEstimate {
  double time_s = 0;  // infinite when a flow has no bandwidth (a partition)
  Algorithm algorithm = Algorithm::kRing;
  double algbw_bytes_per_s = 0;
  double busbw_bytes_per_s = 0;
};

// `bytes` per rank (the buffer size, as nccl-tests reports it); `gpus` the participating GPU
// indices of the fabric; `launch_s` a fixed cost per collective. Requires
// AlgorithmApplies(algorithm, op), and NvlsAvailable(fabric, gpus) for kNvls. kAuto takes the
// fastest of NCCL's own: ring, tree, NVLS where available (NCCL's default on H100), pairwise;
// hierarchical (a rail-ring hierarchy NCCL does not implement) runs only when asked for.
CollectiveEstimate EstimateCollective(
    const Fabric& fabric, hardware::Collective op, double bytes, const std::vector<int>& gpus,
    Algorithm algorithm, double launch_s = units::ToSeconds(hardware::kCollectiveLaunch));

}  // namespace firstwall::network
