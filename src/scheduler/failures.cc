#include "scheduler/failures.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "core/error.h"

namespace firstwall::scheduler {
namespace {

constexpr double kSecondsPerDay = 86400.0;
constexpr double kNsPerS = 1e9;

int64_t ToNs(double seconds) {
  // A draw past ~292 years cannot happen in a run; clamp rather than overflow.
  if (!(seconds < 9.0e9)) return INT64_MAX / 2;
  return static_cast<int64_t>(std::llround(seconds * kNsPerS));
}

// Uniform integer in [0, n): 53 random bits scaled (bias below n x 2^-53, nil for any cluster).
int64_t UniformIndex(RngStream& rng, int64_t n) {
  return std::min(n - 1, static_cast<int64_t>(rng.Uniform() * static_cast<double>(n)));
}

bool PerGpu(ComponentKind k) {
  switch (k) {
    case ComponentKind::kGpu:
    case ComponentKind::kHbm:
    case ComponentKind::kNvlink:
    case ComponentKind::kNic:
    case ComponentKind::kCable:
    case ComponentKind::kSoftware:
      return true;
    default:
      return false;
  }
}

int Racks(const Topology& t) { return (t.nodes + t.nodes_per_rack - 1) / t.nodes_per_rack; }

NodeRun Clip(int64_t first, int64_t count, int nodes) {
  const int64_t end = std::min<int64_t>(first + count, nodes);
  return {static_cast<int>(first), static_cast<int>(end - first)};
}

}  // namespace

bool PerNode(ComponentKind k) { return k == ComponentKind::kHost || k == ComponentKind::kPsu; }

bool IsNodeHardware(ComponentKind k) {
  return k != ComponentKind::kSoftware && (PerGpu(k) || PerNode(k));
}

std::string_view ComponentKindName(ComponentKind k) {
  switch (k) {
    case ComponentKind::kGpu:
      return "gpu";
    case ComponentKind::kHbm:
      return "hbm";
    case ComponentKind::kNvlink:
      return "nvlink";
    case ComponentKind::kNic:
      return "nic";
    case ComponentKind::kCable:
      return "cable";
    case ComponentKind::kHost:
      return "host";
    case ComponentKind::kPsu:
      return "psu";
    case ComponentKind::kLeaf:
      return "leaf";
    case ComponentKind::kSpine:
      return "spine";
    case ComponentKind::kPdu:
      return "pdu";
    case ComponentKind::kCdu:
      return "cdu";
    case ComponentKind::kSoftware:
      return "software";
  }
  return "?";
}

ComponentKind KindOf(reliability::Component c) {
  switch (c) {
    case reliability::Component::kGpu:
      return ComponentKind::kGpu;
    case reliability::Component::kHbm:
      return ComponentKind::kHbm;
    case reliability::Component::kNic:
      return ComponentKind::kNic;
    case reliability::Component::kCable:
      return ComponentKind::kCable;
    case reliability::Component::kHost:
      return ComponentKind::kHost;
    case reliability::Component::kPsu:
      return ComponentKind::kPsu;
    case reliability::Component::kSoftware:
      return ComponentKind::kSoftware;
  }
  FW_CHECK(false, "unknown reliability component");
}

std::string_view FailureEffectName(FailureEffect e) {
  switch (e) {
    case FailureEffect::kNodeDown:
      return "node_down";
    case FailureEffect::kCutFromFabric:
      return "cut_from_fabric";
    case FailureEffect::kThrottle:
      return "throttle";
    case FailureEffect::kFabricDegraded:
      return "fabric_degraded";
    case FailureEffect::kJobRestart:
      return "job_restart";
  }
  return "?";
}

double FailureModel::KindRatePer1000Days(ComponentKind k) const {
  double sum = 0;
  for (const FailureCauseRate& c : causes) {
    if (c.kind == k) sum += c.per_1000_component_days;
  }
  return sum;
}

void FailureModel::Validate() const {
  for (const FailureCauseRate& c : causes) {
    FW_CHECK(c.per_1000_component_days >= 0 && std::isfinite(c.per_1000_component_days),
             "failure cause '" + c.name + "' has a negative or infinite rate");
  }
  for (const KindParams& k : kinds) {
    FW_CHECK(k.weibull_shape > 0 && std::isfinite(k.weibull_shape),
             "a Weibull shape must be positive");
    FW_CHECK(k.repair.mean >= SimTime(), "a repair time must not be negative");
  }
  FW_CHECK(domains.leaves_per_group >= 0 && domains.racks_per_pdu >= 1 &&
               domains.racks_per_cdu >= 1 && domains.spines >= 0,
           "failure domains need at least one rack per PDU and per CDU");
}

double RatePer1000DaysFromMtbfH(double mtbf_h) {
  FW_CHECK(mtbf_h > 0 && std::isfinite(mtbf_h), "an MTBF must be positive");
  return 1000.0 * 24.0 / mtbf_h;
}

RepairTime DefaultRepairTime(ComponentKind k) {
  const auto hours = [](double h) {
    return RepairTime{SimTime::FromNanoseconds(static_cast<int64_t>(h * 3600e9)),
                      RepairDistribution::kExponential};
  };
  switch (k) {
    case ComponentKind::kGpu:
    case ComponentKind::kHbm:
    case ComponentKind::kNvlink:
      return hours(48);
    case ComponentKind::kNic:
    case ComponentKind::kHost:
      return hours(24);
    case ComponentKind::kPsu:
    case ComponentKind::kCable:
    case ComponentKind::kLeaf:
    case ComponentKind::kSpine:
      return hours(4);
    case ComponentKind::kPdu:
    case ComponentKind::kCdu:
      return hours(8);
    case ComponentKind::kSoftware:
      return RepairTime{SimTime(), RepairDistribution::kFixed};
  }
  return {};
}

FailureModel FailureModelFromTable(const reliability::FailureTable& table) {
  FailureModel m;
  for (int k = 0; k < kComponentKinds; ++k) {
    m.kinds[k].repair = DefaultRepairTime(static_cast<ComponentKind>(k));
  }
  for (const reliability::FailureCause& c : table.causes) {
    m.causes.push_back({c.name, KindOf(c.component), c.per_1000_component_days});
  }
  m.source = table.source;
  return m;
}

FailureModel DefaultFailureModel() {
  return FailureModelFromTable(reliability::Llama3FailureTable());
}

int64_t ComponentCount(ComponentKind k, const Topology& t, const FailureDomains& d) {
  if (PerGpu(k)) return static_cast<int64_t>(t.nodes) * t.gpus_per_node;
  if (PerNode(k)) return t.nodes;
  switch (k) {
    case ComponentKind::kLeaf:
      return static_cast<int64_t>(t.Groups(Level::kLeaf)) *
             (d.leaves_per_group > 0 ? d.leaves_per_group : t.gpus_per_node);
    case ComponentKind::kSpine:
      return d.spines;
    case ComponentKind::kPdu:
      return (Racks(t) + d.racks_per_pdu - 1) / d.racks_per_pdu;
    case ComponentKind::kCdu:
      return (Racks(t) + d.racks_per_cdu - 1) / d.racks_per_cdu;
    default:
      break;
  }
  FW_CHECK(false, "component kind without a count");
}

NodeRun BlastRadius(ComponentKind k, int64_t index, const Topology& t, const FailureDomains& d) {
  FW_CHECK(index >= 0 && index < ComponentCount(k, t, d), "component index out of range");
  if (PerGpu(k)) return {static_cast<int>(index / t.gpus_per_node), 1};
  if (PerNode(k)) return {static_cast<int>(index), 1};
  switch (k) {
    case ComponentKind::kLeaf: {
      const int64_t per_group = d.leaves_per_group > 0 ? d.leaves_per_group : t.gpus_per_node;
      const int64_t size = t.GroupSize(Level::kLeaf);
      return Clip(index / per_group * size, size, t.nodes);
    }
    case ComponentKind::kSpine:
      return {};
    case ComponentKind::kPdu:
    case ComponentKind::kCdu: {
      const int64_t racks = k == ComponentKind::kPdu ? d.racks_per_pdu : d.racks_per_cdu;
      const int64_t span = racks * t.nodes_per_rack;
      return Clip(index * span, span, t.nodes);
    }
    default:
      break;
  }
  FW_CHECK(false, "component kind without a blast radius");
}

FailureEffect EffectOf(ComponentKind k, bool cdu_stops) {
  switch (k) {
    case ComponentKind::kNic:
    case ComponentKind::kCable:
    case ComponentKind::kLeaf:
      return FailureEffect::kCutFromFabric;
    case ComponentKind::kSpine:
      return FailureEffect::kFabricDegraded;
    case ComponentKind::kCdu:
      return cdu_stops ? FailureEffect::kNodeDown : FailureEffect::kThrottle;
    case ComponentKind::kSoftware:
      return FailureEffect::kJobRestart;
    default:
      return FailureEffect::kNodeDown;
  }
}

FailureProcess::FailureProcess(const Topology& topology, FailureModel model, uint64_t seed)
    : topology_(topology), model_(std::move(model)) {
  model_.Validate();
  FW_CHECK(topology_.nodes >= 1 && topology_.gpus_per_node >= 1 && topology_.nodes_per_rack >= 1,
           "a failure process needs a topology with nodes");
  const auto later = [](const WeibullEntry& a, const WeibullEntry& b) {
    return a.at_ns != b.at_ns ? a.at_ns > b.at_ns : a.component > b.component;
  };
  for (int ki = 0; ki < kComponentKinds; ++ki) {
    const auto kind = static_cast<ComponentKind>(ki);
    const std::string name(ComponentKindName(kind));
    KindState s{kind,
                ComponentCount(kind, topology_, model_.domains),
                0,
                0,
                model_.kind(kind).weibull_shape,
                INT64_MAX,
                {},
                {},
                RngStream(seed, "failures/" + name + "/times"),
                RngStream(seed, "failures/" + name + "/picks"),
                RngStream(seed, "failures/" + name + "/repairs")};
    double per_1000 = 0;
    for (size_t c = 0; c < model_.causes.size(); ++c) {
      if (model_.causes[c].kind == kind && model_.causes[c].per_1000_component_days > 0) {
        s.causes.push_back(static_cast<int>(c));
        per_1000 += model_.causes[c].per_1000_component_days;
      }
    }
    if (s.count == 0 || per_1000 <= 0) continue;
    s.rate_per_component_s = per_1000 / 1000.0 / kSecondsPerDay;
    rate_per_s_ += s.rate_per_component_s * static_cast<double>(s.count);
    if (s.shape == 1.0) {
      s.next_ns =
          ToNs(s.times.Exponential(1.0 / (s.rate_per_component_s * static_cast<double>(s.count))));
    } else {
      // Mean lifetime 1 / rate = scale x Gamma(1 + 1/k).
      s.weibull_scale_s = 1.0 / s.rate_per_component_s / std::tgamma(1.0 + 1.0 / s.shape);
      s.heap.reserve(static_cast<size_t>(s.count));
      for (int64_t c = 0; c < s.count; ++c) {
        int64_t first = 0;
        if (model_.fresh_start) {
          first = DrawWeibullNs(s);
        } else {
          // Stationary residual life: U x (length-biased lifetime).
          const double g = s.times.Gamma(1.0 + 1.0 / s.shape, 1.0);
          const double length_biased = s.weibull_scale_s * std::pow(g, 1.0 / s.shape);
          first = ToNs(s.times.Uniform() * length_biased);
        }
        s.heap.push_back({first, c});
      }
      std::make_heap(s.heap.begin(), s.heap.end(), later);
    }
    kinds_.push_back(std::move(s));
  }
}

int64_t FailureProcess::DrawWeibullNs(KindState& k) {
  // Inverse transform: scale x (-ln(1 - U))^(1/k).
  const double e = -std::log1p(-k.times.Uniform());
  return ToNs(k.weibull_scale_s * std::pow(e, 1.0 / k.shape));
}

int64_t FailureProcess::KindNext(const KindState& k) const {
  return k.shape == 1.0 ? k.next_ns : k.heap.front().at_ns;
}

SimTime FailureProcess::PeekTime() const {
  int64_t best = INT64_MAX;
  for (const KindState& k : kinds_) best = std::min(best, KindNext(k));
  return best == INT64_MAX ? SimTime::Never() : SimTime::FromNanoseconds(best);
}

Failure FailureProcess::Next() {
  KindState* k = nullptr;
  for (KindState& s : kinds_) {
    if (k == nullptr || KindNext(s) < KindNext(*k)) k = &s;
  }
  FW_CHECK(k != nullptr && KindNext(*k) != INT64_MAX, "no failure left to draw");
  Failure f;
  f.at = SimTime::FromNanoseconds(KindNext(*k));
  f.kind = k->kind;
  if (k->shape == 1.0) {
    f.component = UniformIndex(k->picks, k->count);
    k->next_ns +=
        ToNs(k->times.Exponential(1.0 / (k->rate_per_component_s * static_cast<double>(k->count))));
  } else {
    const auto later = [](const WeibullEntry& a, const WeibullEntry& b) {
      return a.at_ns != b.at_ns ? a.at_ns > b.at_ns : a.component > b.component;
    };
    std::pop_heap(k->heap.begin(), k->heap.end(), later);
    WeibullEntry& e = k->heap.back();
    f.component = e.component;
    e.at_ns += DrawWeibullNs(*k);  // renewed as new at its failure
    std::push_heap(k->heap.begin(), k->heap.end(), later);
  }
  // The cause, in proportion to its rate among the kind's causes.
  f.cause = k->causes.front();
  if (k->causes.size() > 1) {
    double total = 0;
    for (int c : k->causes) total += model_.causes[c].per_1000_component_days;
    double u = k->picks.Uniform() * total;
    for (int c : k->causes) {
      f.cause = c;
      u -= model_.causes[c].per_1000_component_days;
      if (u < 0) break;
    }
  }
  f.cause_name = model_.causes[f.cause].name;
  f.nodes = BlastRadius(k->kind, f.component, topology_, model_.domains);
  f.effect = EffectOf(k->kind, model_.cdu_stops);
  const RepairTime& r = model_.kind(k->kind).repair;
  f.repair = r.distribution == RepairDistribution::kFixed || r.mean == SimTime()
                 ? r.mean
                 : SimTime::FromNanoseconds(ToNs(k->repairs.Exponential(r.mean.seconds())));
  return f;
}

double FailureProcess::JobRatePerS(int gpus) const {
  const double job_nodes =
      std::ceil(static_cast<double>(gpus) / static_cast<double>(topology_.gpus_per_node));
  double rate = 0;
  for (const KindState& k : kinds_) {
    const double total = k.rate_per_component_s * static_cast<double>(k.count);
    if (PerGpu(k.kind)) {
      rate += k.rate_per_component_s * gpus;
    } else if (PerNode(k.kind)) {
      rate += k.rate_per_component_s * job_nodes;
    } else {
      const FailureEffect e = EffectOf(k.kind, model_.cdu_stops);
      if (e == FailureEffect::kNodeDown || e == FailureEffect::kCutFromFabric) {
        rate += total * std::min(1.0, job_nodes / topology_.nodes);
      }
    }
  }
  return rate;
}

}  // namespace firstwall::scheduler
