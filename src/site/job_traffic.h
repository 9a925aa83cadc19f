// Where a training job's communication goes: the GPU pairs that exchange data at once in one step
// of each of its collectives, from its layout and placement. The site routes these over the fabric
// and shares bandwidth max-min (network/max_min.h); a kind's slowest flow sets that kind's share.
//
// Ranks follow Megatron-LM's default order, tensor parallelism fastest, then context, data and
// pipeline: rank = tp_i + tp (cp_i + cp (dp_i + dp pp_i)). Ranks fill the job's nodes in the order
// given, gpus_per_node each: rank r runs on GPU nodes[r / gpn] x gpn + r % gpn (on consecutive
// nodes from node n: GPU n x gpn + r).
// Expert-parallel groups are ep consecutive data-parallel ranks (Megatron-Core carves them from
// the data-parallel dimension).
//
// Per group:
//   rings (TP, CP, DP)  hierarchical, as the collectives run: when a group spans NVLink domains,
//                       one ring across domains per local position (each GPU's own NIC) plus a
//                       ring inside each domain over NVLink; otherwise one NVLink ring
//   all-to-all (EP)     the round of the pairwise exchange that crosses furthest, rank k to
//                       k + ep/2, standing for all rounds (each round moves the same bytes)
//   point-to-point (PP) stage k to k + 1 (and the last back to the first when interleaved)
#pragma once

#include <array>
#include <string_view>
#include <vector>

#include "workload/training_step.h"

namespace firstwall::site {

enum class Traffic { kTp, kCp, kEp, kDp, kPp };
inline constexpr int kTrafficKinds = 5;
inline constexpr std::array<Traffic, kTrafficKinds> kAllTraffic = {
    Traffic::kTp, Traffic::kCp, Traffic::kEp, Traffic::kDp, Traffic::kPp};
std::string_view TrafficName(Traffic t);

struct FlowEnds {
  int src = 0;
  int dst = 0;
};

using JobFlowEnds = std::array<std::vector<FlowEnds>, kTrafficKinds>;

// `nodes`: the job's nodes, at least ceil(GPUs / gpus_per_node) of them (FW_CHECK); `domain`: GPUs
// per NVLink domain.
JobFlowEnds JobFlows(const workload::TrainingSetup& s, const std::vector<int>& nodes,
                     int gpus_per_node, int domain);

// The job's share of each kind of traffic, in the training model's terms.
workload::FabricShare& ShareOf(workload::TrafficShares& t, Traffic kind);

// Seconds per step during which a kind of traffic moves (its collectives' total time, exposed or
// not).
double BusySeconds(const workload::StepEstimate& e, Traffic kind);

}  // namespace firstwall::site
