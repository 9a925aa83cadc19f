// A GPU cluster's fabric as directed links: each GPU's NVLink port to its NVLink domain's switches
// (scale-up: an 8-GPU HGX node, or the 72 GPUs of an NVL72 rack) and its NIC to a leaf switch of
// its rail (scale-out), leaves to spines. Rail-optimized
// two-tier Clos: GPU i of every node is on rail i; a leaf serves one rail for `down_ports` nodes;
// each leaf spreads its up ports evenly over all spines (oversubscription = down : up capacity).
// Parallel ports between a leaf and a spine are one link of their summed capacity.
//
// Capacities are effective: nominal bandwidth times the bus efficiency of the collectives that run
// over them (fitted for NVLink to vidur's DGX-H100 all-reduce; 0.85 for the network), so flow
// rates are directly achievable collective bandwidths.
//
// Routing: inside an NVLink domain over NVLink; same rail and leaf through the leaf; otherwise up
// to a spine picked by hashing the flow id (ECMP), skipping spines whose links are down.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "hardware/collective.h"
#include "network/max_min.h"
#include "units/quantity.h"

namespace firstwall::network {

struct FabricSpec {
  int nodes = 1;
  int gpus_per_node = 8;  // also the number of rails: GPU i of every node is on rail i
  int nvlink_domain = 0;  // GPUs joined by NVLink, a multiple of gpus_per_node; 0: one node
  units::Bandwidth nvlink_per_gpu;      // one direction
  units::Bandwidth nic_per_gpu;         // one direction
  int leaf_radix = 64;                  // ports of a leaf switch
  double oversubscription = 1.0;        // leaf down capacity / up capacity
  double spine_oversubscription = 1.0;  // spine down / up to the super-spines (three tiers)
  double nvlink_efficiency = hardware::kNvlinkBusEfficiency;
  double network_efficiency = hardware::kNetworkBusEfficiency;
  // Independent scale-out planes: each GPU's NIC bandwidth is split over `planes` ports, one into
  // each plane's own copy of the Clos; traffic is striped over all planes.
  int planes = 1;
  units::Duration nvlink_latency = hardware::kNvlinkHopLatency;  // per hop
  units::Duration switch_latency;                                // per network hop
};

class Fabric {
 public:
  explicit Fabric(const FabricSpec& spec);

  int gpu_count() const { return spec_.nodes * spec_.gpus_per_node; }
  int domain_size() const { return domain_; }
  bool SameDomain(int a, int b) const { return a / domain_ == b / domain_; }
  // NVLink ports come first: index < 2 x GPUs.
  bool IsNvlink(int link) const { return link < 2 * n_gpu_; }
  const FabricSpec& spec() const { return spec_; }
  const std::vector<double>& capacity() const { return capacity_; }  // bytes/s, effective
  const std::vector<double>& nominal() const { return nominal_; }    // healthy capacity
  size_t link_count() const { return capacity_.size(); }
  std::string LinkName(int link) const;

  // The path of a flow (or of its stripe in `plane`).
  FlowPath Route(int src_gpu, int dst_gpu, uint64_t flow_id, int plane = 0) const;
  // Adaptive routing: among live spine choices, the one whose links carry the least `load` (any
  // unit per link, e.g. bytes/s already routed); ties go to the lowest spine index.
  FlowPath RouteLeastLoaded(int src_gpu, int dst_gpu, const std::vector<double>& load,
                            int plane = 0) const;
  int planes() const { return spec_.planes; }
  double PathLatencySeconds(const FlowPath& p) const;

  // Faults: scale a link to a fraction of its bandwidth (0 = down).
  void SetLinkHealth(int link, double fraction);
  // The links a fault target names: "nvlink:G" (GPU G's NVLink ports, both directions), "nic:G"
  // (GPU G's NIC, both directions), "leaf:L" (leaf L and
  // all its links), "spine:S" (spine S and all its links; spines are numbered pod by pod),
  // "leaf:L-spine:S" (that trunk, both directions; S in L's pod), "superspine:J" (super-spine
  // group J and its links). Returns an empty list and sets `error` when the target is malformed or
  // out of range.
  std::vector<int> TargetLinks(std::string_view target, std::string* error) const;
  // Link indices for fault scenarios and tests.
  int NicUpLink(int gpu, int plane = 0) const { return NicUp(gpu, plane); }
  int LeafSpineLink(int leaf, int spine_in_pod, int plane = 0) const {
    return Up(leaf, spine_in_pod, plane);
  }
  int LeafOf(int gpu) const;
  int PodOf(int leaf) const { return leaf / leaves_per_pod_; }
  int spine_count() const { return pods_ * spines_per_pod_; }
  int leaf_count() const { return leaves_; }
  int pod_count() const { return pods_; }
  bool three_tier() const { return pods_ > 1; }

 private:
  int NvUp(int gpu) const { return gpu; }
  int NvDown(int gpu) const { return n_gpu_ + gpu; }
  // Scale-out links come plane by plane after the NVLink ports; with one plane the layout is
  // NVLink up, NVLink down, NIC up, NIC down, leaf->spine, spine->leaf, spine<->super-spine.
  int Base(int plane) const { return 2 * n_gpu_ + plane * per_plane_; }
  int NicUp(int gpu, int plane = 0) const { return Base(plane) + gpu; }
  int NicDown(int gpu, int plane = 0) const { return Base(plane) + n_gpu_ + gpu; }
  // Leaf to spine j of its pod, and back.
  int Up(int leaf, int j, int plane = 0) const {
    return Base(plane) + 2 * n_gpu_ + leaf * spines_per_pod_ + j;
  }
  int Down(int j, int leaf, int plane = 0) const {
    return Base(plane) + 2 * n_gpu_ + leaves_ * spines_per_pod_ + leaf * spines_per_pod_ + j;
  }
  // Spine j of pod `pod` to super-spine group j, and back (three tiers only).
  int SuperUp(int pod, int j, int plane = 0) const {
    return Base(plane) + super_offset_ + pod * spines_per_pod_ + j;
  }
  int SuperDown(int j, int pod, int plane = 0) const {
    return Base(plane) + super_offset_ + pods_ * spines_per_pod_ + pod * spines_per_pod_ + j;
  }
  bool Alive(int link) const { return capacity_[static_cast<size_t>(link)] > 0; }

  FabricSpec spec_;
  int n_gpu_ = 0;
  int domain_ = 8;
  int down_ports_ = 1;  // nodes per leaf
  int leaves_per_rail_ = 1;
  int leaves_ = 0;
  int leaves_per_pod_ = 1;
  int pods_ = 1;
  int spines_per_pod_ = 1;
  int super_offset_ = 0;  // within a plane's block
  int per_plane_ = 0;     // scale-out links per plane
  std::vector<double> nominal_;
  std::vector<double> capacity_;
};

}  // namespace firstwall::network
