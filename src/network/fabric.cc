#include "network/fabric.h"

#include <algorithm>
#include <charconv>
#include <cmath>

#include "core/error.h"
#include "core/rng.h"

namespace firstwall::network {

void SetNvlinkFromCard(FabricSpec& spec, const hardware::GpuSpec& gpu) {
  const hardware::NvlinkCollectives& nv = gpu.collective;
  spec.nvlink_per_gpu = gpu.NvlinkPerDirection();
  spec.nvlink_efficiency = nv.bus_efficiency;
  spec.nvls_efficiency = nv.nvls_efficiency;
  spec.nvls_extra_latency = nv.nvls_latency - nv.launch;
}
using units::ToBytesPerSecond;

Fabric::Layout Fabric::Plan(const FabricSpec& spec) {
  Layout l;
  l.n_gpu = int64_t{spec.nodes} * spec.gpus_per_node;
  l.domain = spec.nvlink_domain > 0 ? spec.nvlink_domain : spec.gpus_per_node;
  const int radix = spec.leaf_radix;
  const double o = spec.oversubscription;
  l.down_ports = std::max(1, static_cast<int>(std::floor(radix * o / (1.0 + o))));
  l.up_ports = std::max<int64_t>(1, radix - l.down_ports);
  // Rails: GPU i of every node (rail-optimized); with rail-only, position i of every NVLink domain
  // (Wang et al.'s rails run through a high-bandwidth domain's positions), which is a node's GPU
  // i when a domain is one node. A leaf serves one rail for `down_ports` nodes or domains.
  l.rail_width = spec.topology == FabricTopology::kRailOnly ? l.domain : spec.gpus_per_node;
  const int64_t units = (l.n_gpu + l.rail_width - 1) / l.rail_width;
  l.leaves_per_rail = (units + l.down_ports - 1) / l.down_ports;
  l.leaves = l.leaves_per_rail * l.rail_width;
  // The fewest spines that terminate `leaves` leaves' up ports, each leaf on every spine with the
  // same whole number of ports (a leaf cannot run 1.5 ports to a spine): the fewest that divide a
  // leaf's up ports and have room for every leaf's share.
  auto two_tier_spines = [&](int64_t leaves) {
    const int64_t least = std::max<int64_t>(1, (leaves * l.up_ports + radix - 1) / radix);
    for (int64_t d = least; d < l.up_ports; ++d) {
      if (l.up_ports % d == 0) return d;
    }
    return l.up_ports;
  };
  if (spec.topology == FabricTopology::kRailOnly) {
    // Each rail its own two-tier Clos: a pod per rail, nothing above the spines.
    l.pods = l.rail_width;
    l.leaves_per_pod = l.leaves_per_rail;
    l.spines_per_pod = two_tier_spines(l.leaves_per_rail);
  } else if (l.leaves <= radix) {
    l.pods = 1;
    l.leaves_per_pod = l.leaves;
    l.spines_per_pod = two_tier_spines(l.leaves);
  } else {
    // Three tiers: each spine splits its ports down to its pod's leaves and up to its
    // super-spine group by the spine oversubscription (radix/2 each when non-blocking); a pod has
    // as many leaves as a spine has down ports, and up_ports spines.
    const double so = spec.spine_oversubscription;
    l.spine_down = std::clamp(static_cast<int>(std::floor(radix * so / (1.0 + so))), 1, radix - 1);
    l.leaves_per_pod = l.spine_down;
    l.pods = (l.leaves + l.leaves_per_pod - 1) / l.leaves_per_pod;
    l.spines_per_pod = l.up_ports;
    l.super_tier = true;
  }
  l.super_offset = 2 * l.n_gpu + 2 * l.leaves * l.spines_per_pod;
  l.per_plane = l.super_offset + (l.super_tier ? 2 * l.pods * l.spines_per_pod : 0);
  return l;
}

int64_t Fabric::LinkCount(const FabricSpec& spec) {
  if (spec.nodes < 1 || spec.gpus_per_node < 1 || spec.planes < 1 || spec.leaf_radix < 2) {
    return -1;
  }
  const Layout l = Plan(spec);
  if (spec.topology == FabricTopology::kRailOnly && l.leaves_per_rail > spec.leaf_radix) return -1;
  return 2 * l.n_gpu + spec.planes * l.per_plane;
}

int Fabric::LeavesPerRail(const FabricSpec& spec) {
  return static_cast<int>(Plan(spec).leaves_per_rail);
}

FabricInventory Fabric::Inventory(const FabricSpec& spec) {
  const Layout l = Plan(spec);
  const int64_t radix = spec.leaf_radix, planes = spec.planes;
  FabricInventory inv;
  // Nothing to join: every GPU in one NVLink domain (a node, an NVL72 rack) needs no scale-out
  // switch.
  if (l.n_gpu <= l.domain) return inv;
  inv.leaves = l.leaves * planes;
  // Spines carry traffic only between leaves: none above one leaf (of each rail, when rail-only).
  const bool spines =
      spec.topology == FabricTopology::kRailOnly ? l.leaves_per_rail > 1 : l.leaves > 1;
  const int64_t trunk_ports = spines ? l.leaves * l.up_ports : 0;  // leaf ends = spine ends
  inv.leaf_ports = (l.n_gpu + trunk_ports) * planes;
  if (spines) {
    inv.spines = l.pods * l.spines_per_pod * planes;
    inv.spine_ports = trunk_ports * planes;
  }
  if (l.super_tier) {
    // Each spine's up ports go to its super-spine group; a group has as many switches as its
    // ports (one per pod from each spine of that index) need.
    const int64_t up = radix - l.spine_down;
    const int64_t group_ports = l.pods * up;
    const int64_t per_group = (group_ports + radix - 1) / radix;
    inv.spine_ports += l.pods * l.spines_per_pod * up * planes;
    inv.super_spines = l.spines_per_pod * per_group * planes;
    inv.super_spine_ports = l.spines_per_pod * group_ports * planes;
  }
  return inv;
}

int Fabric::NodesPerLeaf(const FabricSpec& spec) {
  const Layout l = Plan(spec);
  return static_cast<int>(l.down_ports * l.rail_width / spec.gpus_per_node);
}

int Fabric::NodesPerPod(const FabricSpec& spec) {
  const Layout l = Plan(spec);
  // Rail-only over multi-node domains: every node has GPUs on every rail (pod).
  if (l.pods == 1 || l.rail_width > spec.gpus_per_node) return spec.nodes;
  return static_cast<int>(
      std::max<int64_t>(1, l.down_ports * l.leaves_per_pod / spec.gpus_per_node));
}

int64_t Fabric::PodCount(const FabricSpec& spec) { return Plan(spec).pods; }

int Fabric::SpineCount(const FabricSpec& spec) {
  const Layout l = Plan(spec);
  return static_cast<int>(l.pods * l.spines_per_pod);
}

Fabric::Fabric(const FabricSpec& spec) : spec_(spec) {
  FW_CHECK(spec.nodes >= 1 && spec.gpus_per_node >= 1, "empty fabric");
  FW_CHECK(spec.leaf_radix >= 2 && spec.oversubscription > 0 && spec.spine_oversubscription > 0,
           "bad switch");
  FW_CHECK(spec.planes >= 1, "at least one plane");
  FW_CHECK(LinkCount(spec) >= 0, "a rail-only rail of more leaves than a switch has ports");
  FW_CHECK(LinkCount(spec) <= kMaxFabricLinks, "a fabric of " + std::to_string(LinkCount(spec)) +
                                                   " links is beyond the model's " +
                                                   std::to_string(kMaxFabricLinks));
  const Layout plan = Plan(spec);
  n_gpu_ = static_cast<int>(plan.n_gpu);
  domain_ = static_cast<int>(plan.domain);
  FW_CHECK(domain_ % spec.gpus_per_node == 0, "an NVLink domain holds whole nodes");
  down_ports_ = static_cast<int>(plan.down_ports);
  rail_width_ = static_cast<int>(plan.rail_width);
  leaves_per_rail_ = static_cast<int>(plan.leaves_per_rail);
  leaves_ = static_cast<int>(plan.leaves);
  leaves_per_pod_ = static_cast<int>(plan.leaves_per_pod);
  pods_ = static_cast<int>(plan.pods);
  spines_per_pod_ = static_cast<int>(plan.spines_per_pod);
  super_offset_ = static_cast<int>(plan.super_offset);
  per_plane_ = static_cast<int>(plan.per_plane);
  super_tier_ = plan.super_tier;
  const int radix = spec.leaf_radix;
  const double nv = ToBytesPerSecond(spec.nvlink_per_gpu) * spec.nvlink_efficiency;
  const double port = ToBytesPerSecond(spec.nic_per_gpu) * spec.network_efficiency / spec.planes;
  double leaf_trunk = 0, super_trunk = 0;
  if (!super_tier_) {
    leaf_trunk = port * static_cast<double>(plan.up_ports) / spines_per_pod_;
  } else {
    leaf_trunk = port;
    super_trunk = port * (radix - plan.spine_down);
  }
  nominal_.assign(static_cast<size_t>(2 * n_gpu_ + spec.planes * per_plane_), 0.0);
  for (int g = 0; g < n_gpu_; ++g) {
    nominal_[static_cast<size_t>(NvUp(g))] = nv;
    nominal_[static_cast<size_t>(NvDown(g))] = nv;
  }
  for (int pl = 0; pl < spec.planes; ++pl) {
    for (int g = 0; g < n_gpu_; ++g) {
      nominal_[static_cast<size_t>(NicUp(g, pl))] = port;
      nominal_[static_cast<size_t>(NicDown(g, pl))] = port;
    }
    for (int l = 0; l < leaves_; ++l) {
      for (int j = 0; j < spines_per_pod_; ++j) {
        nominal_[static_cast<size_t>(Up(l, j, pl))] = leaf_trunk;
        nominal_[static_cast<size_t>(Down(j, l, pl))] = leaf_trunk;
      }
    }
    for (int p = 0; p < pods_ && super_tier_; ++p) {
      for (int j = 0; j < spines_per_pod_; ++j) {
        nominal_[static_cast<size_t>(SuperUp(p, j, pl))] = super_trunk;
        nominal_[static_cast<size_t>(SuperDown(j, p, pl))] = super_trunk;
      }
    }
  }
  capacity_ = nominal_;
  down_links_ = static_cast<int>(std::count(capacity_.begin(), capacity_.end(), 0.0));
  domain_of_.resize(static_cast<size_t>(n_gpu_));
  leaf_of_.resize(static_cast<size_t>(n_gpu_));
  for (int g = 0; g < n_gpu_; ++g) {
    const int unit = g / rail_width_, rail = g % rail_width_;
    domain_of_[static_cast<size_t>(g)] = g / domain_;
    leaf_of_[static_cast<size_t>(g)] = rail * leaves_per_rail_ + unit / down_ports_;
  }
  pod_of_.resize(static_cast<size_t>(leaves_));
  for (int l = 0; l < leaves_; ++l) pod_of_[static_cast<size_t>(l)] = l / leaves_per_pod_;
}

FlowPath Fabric::Route(int src, int dst, uint64_t flow_id, int pl) const {
  int32_t links[kMaxPathLinks];
  const int n = RouteInto(src, dst, flow_id, pl, links);
  FlowPath p;
  p.links.assign(links, links + n);
  return p;
}

int Fabric::RouteInto(int src, int dst, uint64_t flow_id, int pl, int32_t* links) const {
  if (src == dst) return 0;
  if (SameDomain(src, dst)) {
    links[0] = NvUp(src);
    links[1] = NvDown(dst);
    return 2;
  }
  if (const int relay = RailRelay(src, dst); relay >= 0) {
    links[0] = NvUp(src);
    links[1] = NvDown(relay);
    return 2 + RouteInto(relay, dst, flow_id, pl, links + 2);
  }
  const int la = LeafOf(src), lb = LeafOf(dst);
  if (la == lb) {
    links[0] = NicUp(src, pl);
    links[1] = NicDown(dst, pl);
    return 2;
  }
  // ECMP: a hash of the flow id picks the spine index; indices whose links are down are skipped.
  // The hash mixes all the id's bits, as a switch's hash of a five-tuple scatters neighbouring
  // ports: flows collide on a spine as often as chance has them (a multiplicative hash of
  // consecutive ids would spread them evenly, hiding the collisions ECMP is known for).
  const uint64_t h = Mix64(flow_id);
  const int first = static_cast<int>(h % static_cast<uint64_t>(spines_per_pod_));
  const int pa = PodOf(la), pb = PodOf(lb);
  int j = first;
  for (int k = 0; k < spines_per_pod_ && down_links_ > 0; ++k) {
    const int c = (first + k) % spines_per_pod_;
    const bool ok = Alive(Up(la, c, pl)) && Alive(Down(c, lb, pl)) &&
                    (pa == pb || (Alive(SuperUp(pa, c, pl)) && Alive(SuperDown(c, pb, pl))));
    if (ok) {
      j = c;
      break;
    }
  }
  links[0] = NicUp(src, pl);
  links[1] = Up(la, j, pl);
  if (pa == pb) {
    links[2] = Down(j, lb, pl);
    links[3] = NicDown(dst, pl);
    return 4;
  }
  links[2] = SuperUp(pa, j, pl);
  links[3] = SuperDown(j, pb, pl);
  links[4] = Down(j, lb, pl);
  links[5] = NicDown(dst, pl);
  return 6;
}

FlowPath Fabric::RouteLeastLoaded(int src, int dst, const std::vector<double>& load, int pl) const {
  if (const int relay = RailRelay(src, dst); relay >= 0) {
    FlowPath rest = RouteLeastLoaded(relay, dst, load, pl);
    rest.links.insert(rest.links.begin(), {NvUp(src), NvDown(relay)});
    return rest;
  }
  const int la = LeafOf(src), lb = LeafOf(dst);
  if (src == dst || SameDomain(src, dst) || la == lb) return Route(src, dst, 0, pl);
  const int pa = PodOf(la), pb = PodOf(lb);
  int best = -1;
  double best_load = 0;
  for (int j = 0; j < spines_per_pod_; ++j) {
    std::vector<int> hops = {Up(la, j, pl), Down(j, lb, pl)};
    if (pa != pb) hops.insert(hops.end(), {SuperUp(pa, j, pl), SuperDown(j, pb, pl)});
    bool alive = true;
    double worst = 0;
    for (int l : hops) {
      alive = alive && Alive(l);
      worst = std::max(worst, load[static_cast<size_t>(l)] / capacity_[static_cast<size_t>(l)]);
    }
    if (alive && (best < 0 || worst < best_load)) {
      best = j;
      best_load = worst;
    }
  }
  if (best < 0) return Route(src, dst, 0, pl);  // every choice is down: ECMP's fallback
  FlowPath p;
  if (pa == pb) {
    p.links = {NicUp(src, pl), Up(la, best, pl), Down(best, lb, pl), NicDown(dst, pl)};
  } else {
    p.links = {NicUp(src, pl),          Up(la, best, pl),   SuperUp(pa, best, pl),
               SuperDown(best, pb, pl), Down(best, lb, pl), NicDown(dst, pl)};
  }
  return p;
}

double Fabric::PathLatencySeconds(const FlowPath& p) const {
  if (p.links.empty()) return 0;
  return PathLatencySeconds(p.links.front(), static_cast<int>(p.links.size()));
}

double Fabric::PathLatencySeconds(int first_link, int length) const {
  if (length == 0) return 0;
  if (first_link < n_gpu_) {
    // NVLink alone, or (rail-only) NVLink to the relay and then its rail: length - 3 switches.
    return units::ToSeconds(spec_.nvlink_latency) +
           (length > 2 ? units::ToSeconds(spec_.switch_latency) * (length - 3.0) : 0.0);
  }
  return units::ToSeconds(spec_.switch_latency) * (static_cast<double>(length) - 1.0);
}

void Fabric::SetLinkHealth(int link, double fraction) {
  FW_CHECK(link >= 0 && static_cast<size_t>(link) < capacity_.size(), "no such link");
  const bool was_down = !Alive(link);
  capacity_[static_cast<size_t>(link)] =
      nominal_[static_cast<size_t>(link)] * std::clamp(fraction, 0.0, 1.0);
  down_links_ += static_cast<int>(!Alive(link)) - static_cast<int>(was_down);
}

std::vector<int> Fabric::TargetLinks(std::string_view target, std::string* error) const {
  auto number = [&](std::string_view prefix, std::string_view text, int limit, int* out) {
    if (!text.starts_with(prefix)) return false;
    text.remove_prefix(prefix.size());
    int v = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || end != text.data() + text.size()) return false;
    if (v < 0 || v >= limit) {
      *error = std::string(prefix) + std::to_string(v) + " is out of range (0 to " +
               std::to_string(limit - 1) + ")";
      return false;
    }
    *out = v;
    return true;
  };
  error->clear();
  std::vector<int> links;
  int a = 0, b = 0;
  const int spines = spine_count();
  // An optional "pK/" prefix names plane K; without it, plane 0.
  int pl = 0;
  if (const size_t slash = target.find('/'); slash != std::string_view::npos) {
    if (!number("p", target.substr(0, slash), spec_.planes, &pl)) {
      if (error->empty()) *error = "expected a plane prefix pK/, got '" + std::string(target) + "'";
      return links;
    }
    target.remove_prefix(slash + 1);
  }
  // Spines exist as links in every layout, but where a pod (a rail, with rail-only) has one leaf
  // no route uses them and none is counted or bought (Inventory): they are not fault targets.
  const bool spines_carry = Inventory(spec_).spines > 0;
  const size_t dash = target.find('-');
  if (!spines_carry && target.find("spine:") != std::string_view::npos &&
      !target.starts_with("superspine:")) {
    *error = std::string("this fabric has no spines: each ") + (rail_only() ? "rail" : "pod") +
             " is one leaf";
    return links;
  }
  if (dash != std::string_view::npos) {
    if (number("leaf:", target.substr(0, dash), leaves_, &a) &&
        number("spine:", target.substr(dash + 1), spines, &b)) {
      if (b / spines_per_pod_ != PodOf(a)) {
        *error = "spine:" + std::to_string(b) + " is not in the " + (rail_only() ? "rail" : "pod") +
                 " of leaf:" + std::to_string(a);
      } else {
        links = {Up(a, b % spines_per_pod_, pl), Down(b % spines_per_pod_, a, pl)};
      }
    }
  } else if (number("nic:", target, n_gpu_, &a)) {
    links = {NicUp(a, pl), NicDown(a, pl)};
  } else if (error->empty() && number("nvlink:", target, n_gpu_, &a)) {
    links = {NvUp(a), NvDown(a)};
  } else if (error->empty() && target.starts_with("superspine:") && !three_tier()) {
    *error =
        "superspine:J names a super-spine group, and this fabric has two tiers (no "
        "super-spines)";
  } else if (error->empty() && number("superspine:", target, spines_per_pod_, &a)) {
    for (int p = 0; p < pods_; ++p) {
      links.insert(links.end(), {SuperUp(p, a, pl), SuperDown(a, p, pl)});
    }
  } else if (error->empty() && number("spine:", target, spines, &a)) {
    const int pod = a / spines_per_pod_, j = a % spines_per_pod_;
    for (int l = pod * leaves_per_pod_; l < std::min(leaves_, (pod + 1) * leaves_per_pod_); ++l) {
      links.insert(links.end(), {Up(l, j, pl), Down(j, l, pl)});
    }
    if (three_tier()) links.insert(links.end(), {SuperUp(pod, j, pl), SuperDown(j, pod, pl)});
  } else if (error->empty() && number("leaf:", target, leaves_, &a)) {
    for (int g = 0; g < n_gpu_; ++g) {
      if (LeafOf(g) == a) links.insert(links.end(), {NicUp(g, pl), NicDown(g, pl)});
    }
    for (int j = 0; j < spines_per_pod_; ++j) {
      links.insert(links.end(), {Up(a, j, pl), Down(j, a, pl)});
    }
  }
  if (links.empty() && error->empty()) {
    *error = "expected nvlink:G, nic:G, leaf:L, spine:S, leaf:L-spine:S or superspine:J, got '" +
             std::string(target) + "'";
  }
  return links;
}

std::string_view FabricTierName(FabricTier t) {
  switch (t) {
    case FabricTier::kNvlink:
      return "NVLink";
    case FabricTier::kNicLeaf:
      return "NIC-leaf";
    case FabricTier::kLeafSpine:
      return "leaf-spine";
    case FabricTier::kSpineSuperSpine:
      return "spine-super-spine";
  }
  return "?";
}

FabricTier Fabric::TierOf(int link) const {
  if (IsNvlink(link)) return FabricTier::kNvlink;
  const int k = (link - 2 * n_gpu_) % per_plane_;
  if (k < 2 * n_gpu_) return FabricTier::kNicLeaf;
  return k < super_offset_ ? FabricTier::kLeafSpine : FabricTier::kSpineSuperSpine;
}

std::string Fabric::LinkName(int link) const {
  const int g = n_gpu_;
  auto name = [](const char* kind, int i) { return std::string(kind) + std::to_string(i); };
  if (link < g)
    return name(spec_.ici_torus ? "chip" : "gpu", link) +
           (spec_.ici_torus ? "->ici" : "->nvswitch");
  if (link < 2 * g) {
    return spec_.ici_torus ? "ici->" + name("chip", link - g)
                           : "nvswitch->" + name("gpu", link - g);
  }
  const int plane = (link - 2 * g) / per_plane_;
  const std::string pre = spec_.planes > 1 ? name("p", plane) + "/" : std::string();
  const int k = (link - 2 * g) % per_plane_;
  if (k < g) return pre + name("gpu", k) + "->" + name("leaf", LeafOf(k));
  if (k < 2 * g) return pre + name("leaf", LeafOf(k - g)) + "->" + name("gpu", k - g);
  const int t = k - 2 * g, per = leaves_ * spines_per_pod_;
  auto spine = [&](int leaf, int j) { return name("spine", PodOf(leaf) * spines_per_pod_ + j); };
  if (t < per) {
    return pre + name("leaf", t / spines_per_pod_) + "->" +
           spine(t / spines_per_pod_, t % spines_per_pod_);
  }
  if (t < 2 * per) {
    const int d = t - per;
    return pre + spine(d / spines_per_pod_, d % spines_per_pod_) + "->" +
           name("leaf", d / spines_per_pod_);
  }
  const int u = k - super_offset_, ps = pods_ * spines_per_pod_;
  if (u < ps) return pre + name("spine", u) + "->" + name("superspine", u % spines_per_pod_);
  return pre + name("superspine", (u - ps) % spines_per_pod_) + "->" + name("spine", u - ps);
}

}  // namespace firstwall::network
