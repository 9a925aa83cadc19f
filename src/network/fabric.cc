#include "network/fabric.h"

#include <algorithm>
#include <charconv>
#include <cmath>

#include "core/error.h"

namespace firstwall::network {
using units::ToBytesPerSecond;

Fabric::Fabric(const FabricSpec& spec) : spec_(spec) {
  FW_CHECK(spec.nodes >= 1 && spec.gpus_per_node >= 1, "empty fabric");
  FW_CHECK(spec.leaf_radix >= 2 && spec.oversubscription > 0, "bad leaf switch");
  n_gpu_ = spec.nodes * spec.gpus_per_node;
  const double o = spec.oversubscription;
  down_ports_ = std::max(1, static_cast<int>(std::floor(spec.leaf_radix * o / (1.0 + o))));
  const int up_ports = std::max(1, spec.leaf_radix - down_ports_);
  leaves_per_rail_ = (spec.nodes + down_ports_ - 1) / down_ports_;
  leaves_ = leaves_per_rail_ * spec.gpus_per_node;
  // Enough spines to terminate every leaf's up ports, and at least one.
  spines_ = std::max(1, (leaves_ * up_ports + spec.leaf_radix - 1) / spec.leaf_radix);
  const double nv = ToBytesPerSecond(spec.nvlink_per_gpu) * spec.nvlink_efficiency;
  const double nic = ToBytesPerSecond(spec.nic_per_gpu) * spec.network_efficiency;
  // Up capacity of a leaf: its up ports at NIC speed, spread over the spines.
  const double trunk = nic * up_ports / spines_;
  nominal_.assign(static_cast<size_t>(4 * n_gpu_ + 2 * leaves_ * spines_), 0.0);
  for (int g = 0; g < n_gpu_; ++g) {
    nominal_[static_cast<size_t>(NvUp(g))] = nv;
    nominal_[static_cast<size_t>(NvDown(g))] = nv;
    nominal_[static_cast<size_t>(NicUp(g))] = nic;
    nominal_[static_cast<size_t>(NicDown(g))] = nic;
  }
  for (int l = 0; l < leaves_; ++l) {
    for (int s = 0; s < spines_; ++s) {
      nominal_[static_cast<size_t>(Up(l, s))] = trunk;
      nominal_[static_cast<size_t>(Down(s, l))] = trunk;
    }
  }
  capacity_ = nominal_;
}

int Fabric::LeafOf(int gpu) const {
  const int node = gpu / spec_.gpus_per_node, rail = gpu % spec_.gpus_per_node;
  return rail * leaves_per_rail_ + node / down_ports_;
}

int Fabric::LeafSpineLink(int leaf, int spine) const { return Up(leaf, spine); }

FlowPath Fabric::Route(int src, int dst, uint64_t flow_id) const {
  FlowPath p;
  if (src == dst) return p;
  const int gpn = spec_.gpus_per_node;
  if (src / gpn == dst / gpn) {
    p.links = {NvUp(src), NvDown(dst)};
    return p;
  }
  const int la = LeafOf(src), lb = LeafOf(dst);
  if (la == lb) {
    p.links = {NicUp(src), NicDown(dst)};
    return p;
  }
  // ECMP: hash of the flow id picks the spine; spines with a dead link on the way are skipped.
  const uint64_t h = flow_id * 0x9E3779B97F4A7C15ull;
  const int first = static_cast<int>((h >> 17) % static_cast<uint64_t>(spines_));
  int spine = first;
  for (int k = 0; k < spines_; ++k) {
    const int s = (first + k) % spines_;
    if (capacity_[static_cast<size_t>(Up(la, s))] > 0 &&
        capacity_[static_cast<size_t>(Down(s, lb))] > 0) {
      spine = s;
      break;
    }
  }
  p.links = {NicUp(src), Up(la, spine), Down(spine, lb), NicDown(dst)};
  return p;
}

double Fabric::PathLatencySeconds(const FlowPath& p) const {
  if (p.links.empty()) return 0;
  if (p.links.front() < n_gpu_) return units::ToSeconds(spec_.nvlink_latency);
  return units::ToSeconds(spec_.switch_latency) * (static_cast<double>(p.links.size()) - 1.0);
}

void Fabric::SetLinkHealth(int link, double fraction) {
  FW_CHECK(link >= 0 && static_cast<size_t>(link) < capacity_.size(), "no such link");
  capacity_[static_cast<size_t>(link)] =
      nominal_[static_cast<size_t>(link)] * std::clamp(fraction, 0.0, 1.0);
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
  const size_t dash = target.find('-');
  if (dash != std::string_view::npos) {
    if (number("leaf:", target.substr(0, dash), leaves_, &a) &&
        number("spine:", target.substr(dash + 1), spines_, &b)) {
      links = {Up(a, b), Down(b, a)};
    }
  } else if (number("nic:", target, n_gpu_, &a)) {
    links = {NicUp(a), NicDown(a)};
  } else if (error->empty() && number("spine:", target, spines_, &a)) {
    for (int l = 0; l < leaves_; ++l) links.insert(links.end(), {Up(l, a), Down(a, l)});
  } else if (error->empty() && number("leaf:", target, leaves_, &a)) {
    for (int g = 0; g < n_gpu_; ++g) {
      if (LeafOf(g) == a) links.insert(links.end(), {NicUp(g), NicDown(g)});
    }
    for (int sp = 0; sp < spines_; ++sp) links.insert(links.end(), {Up(a, sp), Down(sp, a)});
  }
  if (links.empty() && error->empty()) {
    *error = "expected nic:G, leaf:L, spine:S or leaf:L-spine:S, got '" + std::string(target) + "'";
  }
  return links;
}

std::string Fabric::LinkName(int link) const {
  const int g = n_gpu_;
  if (link < g) return "gpu" + std::to_string(link) + "->nvswitch";
  if (link < 2 * g) return "nvswitch->gpu" + std::to_string(link - g);
  if (link < 3 * g)
    return "gpu" + std::to_string(link - 2 * g) + "->leaf" + std::to_string(LeafOf(link - 2 * g));
  if (link < 4 * g)
    return "leaf" + std::to_string(LeafOf(link - 3 * g)) + "->gpu" + std::to_string(link - 3 * g);
  const int k = link - 4 * g;
  if (k < leaves_ * spines_) {
    return "leaf" + std::to_string(k / spines_) + "->spine" + std::to_string(k % spines_);
  }
  const int d = k - leaves_ * spines_;
  return "spine" + std::to_string(d % spines_) + "->leaf" + std::to_string(d / spines_);
}

}  // namespace firstwall::network
