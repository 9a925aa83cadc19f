// Alarms to findings through the site's topology (anomaly.h, Localize).
#include <algorithm>
#include <cstdio>
#include <map>
#include <set>

#include <fmt/format.h>

#include "ops/anomaly.h"

namespace firstwall::ops {
namespace {

// "node3/gpu5" -> (3, 5); false when not of that shape.
bool GpuIndex(const std::string& id, int& node, int& gpu) {
  int used = 0;
  return std::sscanf(id.c_str(), "node%d/gpu%d%n", &node, &gpu, &used) == 2 &&
         static_cast<size_t>(used) == id.size();
}

struct Group {
  std::vector<const Residual*> members;
  std::string target, cause, what;
};

Finding Summarize(const Group& g, const Steps& steps) {
  Finding f;
  f.kind = "anomaly";
  f.target = g.target;
  f.cause = g.cause;
  const Residual* first = g.members.front();
  for (const Residual* r : g.members) {
    if (r->alarm.step < first->alarm.step) first = r;
  }
  // The residual and score of the first alarm's quantity (a GPU's power and utilization differ).
  double sum = 0, score = 0;
  int n = 0;
  for (const Residual* r : g.members) {
    if (r->quantity != first->quantity) continue;
    sum += r->alarm.residual;
    ++n;
    if (std::abs(r->alarm.score) > std::abs(score)) score = r->alarm.score;
  }
  size_t start = first->alarm.start;
  for (const Residual* r : g.members) start = std::min(start, r->alarm.start);
  f.quantity = first->quantity;
  f.detector = first->alarm.detector;
  f.start_ms = steps.t_ms[start];
  f.detected_ms = steps.t_ms[first->alarm.step] + static_cast<int64_t>(steps.step_s * 1000);
  f.residual = sum / n;
  f.score_sigma = score;
  f.detail = fmt::format("{}: {} {} against {} ({:+.3g} {}, {:.1f} sigma)", g.what,
                         n == 1 ? "its" : fmt::format("{} series'", n), f.quantity, first->expected,
                         f.residual, first->unit, score);
  return f;
}

}  // namespace

std::vector<Finding> Localize(const std::vector<Residual>& residuals, const Steps& steps,
                              const Topology& t) {
  std::vector<Group> groups;
  // GPU alarms by class, then by node.
  std::map<std::string, std::map<int, std::vector<const Residual*>>> gpu_alarms;
  std::map<int, const Residual*> cdu_alarms;
  const Residual* chiller = nullptr;
  std::vector<const Residual*> plant, others;
  for (const Residual& r : residuals) {
    if (!r.alarm.raised) continue;
    int node = 0, gpu = 0, cdu = 0;
    if (r.entity == "gpu" && GpuIndex(r.id, node, gpu)) {
      gpu_alarms[r.quantity == "temperature" ? "heat" : "work"][node].push_back(&r);
    } else if (r.entity == "cdu" && std::sscanf(r.id.c_str(), "cdu-%d", &cdu) == 1) {
      cdu_alarms[cdu] = &r;
    } else if (r.entity == "chiller") {
      chiller = &r;
    } else if (r.entity == "meter" && r.id == "cooling") {
      plant.push_back(&r);
    } else {
      others.push_back(&r);
    }
  }
  const int racks = (t.nodes + t.nodes_per_rack - 1) / t.nodes_per_rack;
  for (auto& [cls, by_node] : gpu_alarms) {
    const bool heat = cls == "heat";
    std::set<int> nodes;  // nodes that explain their GPUs' alarms
    for (const auto& [node, list] : by_node) {
      if (list.size() >= 2 && 2 * static_cast<int>(list.size()) >= t.gpus_per_node)
        nodes.insert(node);
    }
    // Nodes of [first, last) explained: at least half of them, and two.
    auto explains = [&](int first, int last) {
      int n = 0;
      for (int i = first; i < last; ++i) n += nodes.count(i) ? 1 : 0;
      return n >= 2 && 2 * n >= last - first;
    };
    std::set<int> done;  // nodes reported
    auto take = [&](Group& g, int first, int last) {
      for (int i = first; i < last; ++i) {
        const auto it = by_node.find(i);
        if (it == by_node.end()) continue;
        g.members.insert(g.members.end(), it->second.begin(), it->second.end());
        done.insert(i);
      }
    };
    const int cdus = (racks + t.racks_per_cdu - 1) / t.racks_per_cdu;
    for (int c = 0; heat && c < cdus; ++c) {
      const int first = c * t.racks_per_cdu * t.nodes_per_rack;
      const int last = std::min(t.nodes, (c + 1) * t.racks_per_cdu * t.nodes_per_rack);
      const auto own = cdu_alarms.find(c);
      if (own == cdu_alarms.end() && !explains(first, last)) continue;
      Group g{{}, fmt::format("cdu/cdu-{}", c), "", fmt::format("CDU cdu-{} and its racks", c)};
      if (own != cdu_alarms.end()) {
        g.members.push_back(own->second);
        cdu_alarms.erase(own);
      }
      take(g, first, last);
      g.cause = g.members.front()->alarm.residual > 0 ? "fouled_cdu" : "cdu_cold";
      groups.push_back(std::move(g));
    }
    for (int r = 0; r < racks; ++r) {
      const int first = r * t.nodes_per_rack, last = std::min(t.nodes, first + t.nodes_per_rack);
      if (done.count(first) || !explains(first, last)) continue;
      Group g{{}, fmt::format("rack/rack{}", r), "", fmt::format("rack rack{}", r)};
      take(g, first, last);
      g.cause = heat ? "rack_hot" : "rack_slow";
      groups.push_back(std::move(g));
    }
    for (const auto& [node, list] : by_node) {
      if (done.count(node)) continue;
      if (nodes.count(node)) {
        const bool low = list.front()->alarm.residual < 0;
        Group g{list, fmt::format("node/node{}", node),
                heat ? (low ? "node_cold" : "node_hot") : (low ? "slow_node" : "node_busy"),
                fmt::format("node node{}", node)};
        groups.push_back(std::move(g));
        continue;
      }
      // One finding per GPU, with all of its alarms of the class (power and utilization).
      std::map<std::string, std::vector<const Residual*>> by_gpu;
      for (const Residual* r : list) by_gpu[r->id].push_back(r);
      for (const auto& [id, alarms] : by_gpu) {
        const bool low = alarms.front()->alarm.residual < 0;
        groups.push_back({alarms, "gpu/" + id,
                          heat ? (low ? "gpu_cold" : "gpu_hot") : (low ? "slow_gpu" : "gpu_busy"),
                          "GPU " + id});
      }
    }
  }
  for (const auto& [c, r] : cdu_alarms) {
    groups.push_back({{r},
                      fmt::format("cdu/cdu-{}", c),
                      r->alarm.residual > 0 ? "fouled_cdu" : "cdu_cold",
                      fmt::format("CDU cdu-{}", c)});
  }
  if (chiller) {
    // A chiller that does not follow the load explains the plant's electricity being off too.
    Group g{{chiller}, "chiller/" + chiller->id, "chiller_stuck", "chiller " + chiller->id};
    g.members.insert(g.members.end(), plant.begin(), plant.end());
    groups.push_back(std::move(g));
  } else {
    for (const Residual* r : plant) {
      groups.push_back({{r}, r->entity + "/" + r->id, "cooling_plant", "the cooling plant"});
    }
  }
  for (const Residual* r : others) {
    groups.push_back({{r},
                      r->entity + "/" + r->id,
                      r->entity == "pdu"   ? "pdu_drift"
                      : r->entity == "nic" ? (r->alarm.residual < 0 ? "degraded_nic" : "")
                                           : "",
                      r->entity + " " + r->id});
  }
  std::vector<Finding> out;
  for (const Group& g : groups) out.push_back(Summarize(g, steps));
  std::sort(out.begin(), out.end(), [](const Finding& a, const Finding& b) {
    return std::tie(a.detected_ms, a.target) < std::tie(b.detected_ms, b.target);
  });
  return out;
}

}  // namespace firstwall::ops
