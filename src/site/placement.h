// Which tenant holds each node, and each rack as runs of consecutive nodes with one holder.
//
// A tenant is a training job, a model-less job or an inference service (TenantRef names which by
// kind and the site's handle for it, never by an encoded index). A tenant's nodes need not be
// consecutive; a node holds at most one tenant. The site sums each rack's power over its runs, in
// node order, from the holders' average node powers: per window it costs the racks' runs, and a
// change of placement rebuilds only the runs of the racks it touches.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

namespace firstwall::site {

struct TenantRef {
  enum class Kind : uint8_t { kNone, kJob, kService };
  Kind kind = Kind::kNone;
  int32_t id = -1;  // Site::jobs() or Site::services() index; -1 for kNone

  static TenantRef Job(size_t id) { return {Kind::kJob, static_cast<int32_t>(id)}; }
  static TenantRef Service(size_t id) { return {Kind::kService, static_cast<int32_t>(id)}; }
  bool none() const { return kind == Kind::kNone; }
  bool operator==(const TenantRef&) const = default;
};

class Placement {
 public:
  // A run of `nodes` consecutive nodes of one rack held by `tenant` (kNone: free nodes).
  struct Run {
    TenantRef tenant;
    int nodes = 0;
  };

  // `nodes` nodes in racks of `nodes_per_rack` consecutive nodes (the last rack may be short).
  Placement(int nodes, int nodes_per_rack);

  // Gives `nodes` (any order, each a valid free node) to `tenant`. FW_CHECK on a taken node.
  void Assign(TenantRef tenant, const std::vector<int>& nodes);
  // Frees the nodes (each held by `tenant`).
  void Release(TenantRef tenant, const std::vector<int>& nodes);

  TenantRef At(int node) const { return holder_[static_cast<size_t>(node)]; }
  size_t rack_count() const { return racks_.size(); }
  size_t RackOf(int node) const { return static_cast<size_t>(node / nodes_per_rack_); }
  // The rack's runs in node order.
  const std::vector<Run>& Runs(size_t rack) const { return racks_[rack]; }
  // Whether no tenant holds any node of the rack (its one run is free), from a flat array: a
  // per-window walk over a large site's racks skips the runs of idle ones.
  bool RackFree(size_t rack) const { return rack_free_[rack] != 0; }
  // Nodes in the rack (the last one may be short).
  int RackNodes(size_t rack) const {
    const size_t first = rack * static_cast<size_t>(nodes_per_rack_);
    return static_cast<int>(std::min(holder_.size() - first, static_cast<size_t>(nodes_per_rack_)));
  }
  // The racks holding any of `nodes`, ascending, each once.
  std::vector<size_t> RacksOf(const std::vector<int>& nodes) const;

 private:
  void Rebuild(size_t rack);
  void RebuildRacksOf(const std::vector<int>& nodes);

  int nodes_per_rack_;
  std::vector<TenantRef> holder_;        // per node
  std::vector<std::vector<Run>> racks_;  // per rack
  std::vector<uint8_t> rack_free_;       // per rack: 1 when its one run is free
};

}  // namespace firstwall::site
