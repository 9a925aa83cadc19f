// A GPU cluster's fabric as directed links: each GPU's NVLink port to its NVLink domain's switches
// (scale-up: an 8-GPU HGX node, or the 72 GPUs of an NVL72 rack) and its NIC to a leaf switch of
// its rail (scale-out), leaves to spines. Rail-optimized
// two-tier Clos: GPU i of every node is on rail i; a leaf serves one rail for `down_ports` nodes;
// each leaf spreads its up ports evenly over all spines, the same whole number to each (the fewest
// spines that divide its up ports and have room for every leaf), oversubscription = down : up.
// Parallel ports between a leaf and a spine are one link of their summed capacity.
//
// Capacities are effective: nominal bandwidth times the bus efficiency of the collectives that run
// over them (fitted for NVLink to vidur's DGX-H100 all-reduce; 0.85 for the network), so flow
// rates are directly achievable collective bandwidths.
//
// Routing: inside an NVLink domain over NVLink; same rail and leaf through the leaf; otherwise up
// to a spine picked by hashing the flow id (ECMP), skipping spines whose links are down.
//
// Rail-only (Wang et al., "Rail-only: A Low-Cost High-Performance Network for Training LLMs with
// Trillion Parameters", arXiv:2307.12169v5): no switch joins two rails. Each rail is a Clos of
// its own (its leaves under spines of their own; one switch when a leaf holds the rail), and a flow
// between rails first crosses the source's NVLink domain to the GPU on the destination's rail
// (PXN-style forwarding), then that rail.
#pragma once

#include <algorithm>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "hardware/collective.h"
#include "hardware/gpu.h"
#include "network/max_min.h"
#include "units/quantity.h"

namespace firstwall::network {

// The tiers a link can belong to: the GPUs' NVLink ports (scale-up), the NICs' links to their
// leaves, leaves to spines, and spines to super-spines (three tiers only). Each is a resource of
// its own: a planner buys more NICs, more leaf up-ports or more super-spines, not "more fabric".
enum class FabricTier { kNvlink, kNicLeaf, kLeafSpine, kSpineSuperSpine };
// rail_optimized: every leaf on every spine (above); rail_only: spines of a rail's own, no switch
// joins two rails, and the rails run through the positions of an NVLink domain (GPU i of every
// node when a domain is one node; position i of every 72-GPU domain of an NVL72 cluster).
enum class FabricTopology { kRailOptimized, kRailOnly };
inline constexpr int kFabricTiers = 4;
// "NVLink", "NIC-leaf", "leaf-spine", "spine-super-spine".
std::string_view FabricTierName(FabricTier t);

struct FabricSpec {
  int nodes = 1;
  int gpus_per_node = 8;  // also the number of rails (rail-optimized): GPU i of a node on rail i
  int nvlink_domain = 0;  // GPUs joined by NVLink, a multiple of gpus_per_node; 0: one node
  units::Bandwidth nvlink_per_gpu;      // one direction
  units::Bandwidth nic_per_gpu;         // one direction
  int leaf_radix = 64;                  // ports of a leaf switch
  double oversubscription = 1.0;        // leaf down capacity / up capacity
  double spine_oversubscription = 1.0;  // spine down / up to the super-spines (three tiers)
  double nvlink_efficiency = hardware::kNvlinkBusEfficiency;
  double network_efficiency = hardware::kNetworkBusEfficiency;
  // NVLink SHARP all-reduce algbw over per-direction NVLink bandwidth
  // (hardware::NvlinkCollectives); 0: the NVLink switches cannot reduce, and no NVLS algorithm
  // runs.
  double nvls_efficiency = 0;
  // Fixed cost of an NVLS all-reduce beyond the collective's launch (hardware::NvlinkCollectives'
  // nvls_latency less its launch).
  units::Duration nvls_extra_latency;
  // Independent scale-out planes: each GPU's NIC bandwidth is split over `planes` ports, one into
  // each plane's own copy of the Clos; traffic is striped over all planes.
  int planes = 1;
  units::Duration nvlink_latency = hardware::kNvlinkHopLatency;  // per hop
  units::Duration switch_latency;                                // per network hop
  FabricTopology topology = FabricTopology::kRailOptimized;
  // The scale-up links are a TPU slice's inter-chip interconnect, not NVLink to a switch: their
  // names (LinkName) say chipN->ici.
  bool ici_torus = false;
};

// The switches a fabric of `spec` is built from, per plane and over all planes, and the ports in
// use on them (each a link's switch end; a NIC's own end belongs to its node). A tier that no
// route can use (spines above a single leaf, or above a single leaf of each rail when rail-only)
// has no switches, nor has a fabric whose GPUs all share one NVLink domain. A leaf's up ports are
// all cabled, as a design for its full down ports is, however few nodes use them.
struct FabricInventory {
  int64_t leaves = 0, spines = 0, super_spines = 0;                // switches, all planes
  int64_t leaf_ports = 0, spine_ports = 0, super_spine_ports = 0;  // ports in use, all planes
  int64_t switches() const { return leaves + spines + super_spines; }
  int64_t ports() const { return leaf_ports + spine_ports + super_spine_ports; }
};

// Sets the NVLink side of `spec` from the GPU's card: per-direction bandwidth and the generation's
// collective figures (catalog `collective:`), as the training model takes them.
void SetNvlinkFromCard(FabricSpec& spec, const hardware::GpuSpec& gpu);

// The largest fabric the model builds, in directed links (a GPU has 2 + 4 x planes of them in a
// non-blocking fabric, more when leaves are oversubscribed): link indices are 32-bit, and every
// link keeps its nominal and current capacity (16 bytes), so 2^26 links take 1 GiB.
inline constexpr int64_t kMaxFabricLinks = int64_t{1} << 26;

// Links on the longest path (GPU, leaf, spine, super-spine, spine, leaf, GPU).
inline constexpr int kMaxPathLinks = 6;

class Fabric {
 public:
  // Requires LinkCount(spec) <= kMaxFabricLinks.
  explicit Fabric(const FabricSpec& spec);

  // The directed links a fabric of `spec` has, counted in 64 bits so that callers can refuse a
  // spec too large to build (kMaxFabricLinks) before building it; -1 for an empty or malformed
  // spec (no nodes, no GPUs, no planes, a leaf of fewer than 2 ports, a rail-only rail of more
  // leaves than a spine has ports: it would need a third tier, which rail-only does not build).
  static int64_t LinkCount(const FabricSpec& spec);
  // The switches and ports of a valid spec (LinkCount >= 0).
  static FabricInventory Inventory(const FabricSpec& spec);
  // Leaves of each rail of `spec` (nodes over a leaf's down ports).
  static int LeavesPerRail(const FabricSpec& spec);

  int gpu_count() const { return spec_.nodes * spec_.gpus_per_node; }
  int domain_size() const { return domain_; }
  bool SameDomain(int a, int b) const {
    return domain_of_[static_cast<size_t>(a)] == domain_of_[static_cast<size_t>(b)];
  }
  // NVLink ports come first: index < 2 x GPUs.
  bool IsNvlink(int link) const { return link < 2 * n_gpu_; }
  const FabricSpec& spec() const { return spec_; }
  const std::vector<double>& capacity() const { return capacity_; }  // bytes/s, effective
  const std::vector<double>& nominal() const { return nominal_; }    // healthy capacity
  size_t link_count() const { return capacity_.size(); }
  std::string LinkName(int link) const;
  FabricTier TierOf(int link) const;

  // The path of a flow (or of its stripe in `plane`).
  FlowPath Route(int src_gpu, int dst_gpu, uint64_t flow_id, int plane = 0) const;
  // The same path written to `links` (kMaxPathLinks of room); returns its length. Allocates
  // nothing, for callers that route millions of flows.
  int RouteInto(int src_gpu, int dst_gpu, uint64_t flow_id, int plane, int32_t* links) const;
  // Adaptive routing: among live spine choices, the one whose links carry the least `load` (any
  // unit per link, e.g. bytes/s already routed); ties go to the lowest spine index.
  FlowPath RouteLeastLoaded(int src_gpu, int dst_gpu, const std::vector<double>& load,
                            int plane = 0) const;
  int planes() const { return spec_.planes; }
  double PathLatencySeconds(const FlowPath& p) const;
  // Of a path of `length` links starting with `first_link`.
  double PathLatencySeconds(int first_link, int length) const;

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
  int NvlinkUpLink(int gpu) const { return NvUp(gpu); }
  int NvlinkDownLink(int gpu) const { return NvDown(gpu); }
  int LeafSpineLink(int leaf, int spine_in_pod, int plane = 0) const {
    return Up(leaf, spine_in_pod, plane);
  }
  int LeafOf(int gpu) const { return leaf_of_[static_cast<size_t>(gpu)]; }
  int PodOf(int leaf) const { return pod_of_[static_cast<size_t>(leaf)]; }
  int spine_count() const { return pods_ * spines_per_pod_; }
  int leaf_count() const { return leaves_; }
  int pod_count() const { return pods_; }
  // Nodes whose NICs share one leaf per rail, and nodes whose leaves (every rail's) sit under one
  // pod's spines (every node with two tiers), for a valid spec (LinkCount >= 0).
  static int NodesPerLeaf(const FabricSpec& spec);
  static int NodesPerPod(const FabricSpec& spec);
  // Spines of every pod (as spine_count() once built).
  static int SpineCount(const FabricSpec& spec);
  // Pods: groups of leaves under the same spines (rails, when rail-only); 1 in two tiers.
  static int64_t PodCount(const FabricSpec& spec);
  bool three_tier() const { return super_tier_; }
  bool rail_only() const { return spec_.topology == FabricTopology::kRailOnly; }

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
  // Rail-only: the GPU of src's NVLink domain on dst's rail (at dst's position in its domain),
  // through which a flow between two rails (outside one domain) goes; -1 when none is needed.
  // Whole domains only (the loader refuses a partial one), so that GPU exists.
  int RailRelay(int src, int dst) const {
    if (!rail_only() || SameDomain(src, dst)) return -1;
    const int rs = src % rail_width_, rd = dst % rail_width_;
    return rs == rd ? -1 : src - rs + rd;
  }

  // The switch layout of a spec, in 64 bits (LinkCount) before it is narrowed to the members.
  struct Layout {
    int64_t n_gpu = 0, domain = 0, rail_width = 1, down_ports = 1, up_ports = 1,
            leaves_per_rail = 1, leaves = 0, leaves_per_pod = 1, pods = 1, spines_per_pod = 1,
            super_offset = 0, per_plane = 0;
    int spine_down = 0;       // three tiers: a spine's ports down to its pod's leaves
    bool super_tier = false;  // spines joined by super-spines (never when rail-only)
  };
  static Layout Plan(const FabricSpec& spec);

  FabricSpec spec_;
  int n_gpu_ = 0;
  int domain_ = 8;
  int down_ports_ = 1;  // nodes (rail-only: NVLink domains) per leaf
  int rail_width_ = 1;  // GPUs a node (rail-only: a domain) puts on the rails, one each
  int leaves_per_rail_ = 1;
  int leaves_ = 0;
  int leaves_per_pod_ = 1;
  int pods_ = 1;
  int spines_per_pod_ = 1;
  int super_offset_ = 0;  // within a plane's block
  int per_plane_ = 0;     // scale-out links per plane
  bool super_tier_ = false;
  std::vector<double> nominal_;
  std::vector<double> capacity_;
  int down_links_ = 0;  // links of capacity 0; while none, ECMP takes the hashed spine unchecked
  // Each GPU's NVLink domain and leaf, and each leaf's pod: tables rather than the divisions that
  // give them, which routing millions of flows would repeat.
  std::vector<int32_t> domain_of_, leaf_of_, pod_of_;
};

}  // namespace firstwall::network
