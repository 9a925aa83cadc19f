// Component failures of a cluster and what each one takes down (its blast radius).
//
// A FailureModel gives, for each kind of component, its causes with their rates (events per 1,000
// component-days, as the Llama 3 report's table is read in reliability/failure_table.h), an
// optional Weibull shape for the time between failures of one component, and a repair time. A
// Topology (topology.h) plus a few counts the topology does not carry (leaf switches per leaf
// group, racks per PDU and per CDU, spines) says how many components of each kind there are:
//
//   kind       counted per                     blast radius (consecutive nodes)  effect
//   gpu        GPU                             its node                          node down
//   hbm        GPU                             its node                          node down
//   nvlink     GPU (its NVLink ports)          its node                          node down
//   nic        GPU (one NIC per GPU, per rail) its node                          cut from fabric
//   cable      GPU (its NIC's cable)           its node                          cut from fabric
//   host       node (CPU, memory, SSD, board)  its node                          node down
//   psu        node                            its node                          node down
//   leaf       leaf switch: leaf groups x      the nodes of its leaf group       cut from fabric
//              leaves_per_group (one per rail)
//   spine      `spines`                        none                              fabric degraded
//   pdu        ceil(racks / racks_per_pdu)     the nodes of its racks            node down (dark)
//   cdu        ceil(racks / racks_per_cdu)     the nodes of its racks            throttle (or stop,
//                                                                                cdu_stops)
//   software   GPU (as the Llama 3 table)      its node                          job restart: the
//                                                                                job on the node
//                                                                                stops, the node
//                                                                                stays up
//
// The default model (DefaultFailureModel) maps the Llama 3 table's 18 causes onto these kinds
// (Llama Team, "The Llama 3 Herd of Models", arXiv:2407.21783, 2024, Table 5: GPU causes -> gpu,
// HBM3 -> hbm, "network switch or cable" -> cable, host maintenance, SSD, chassis, IO board, CPU
// and system memory -> host, power supply -> psu, NIC -> nic, software bug, NCCL watchdog and
// dependency -> software). The report gives no separate rate for leaves, spines, PDUs, CDUs or
// NVLink (its switch failures are inside "network switch or cable"), so those kinds have no causes
// and never fail unless a scenario adds causes for them. Every default kind is exponential
// (Weibull shape 1).
//
// Default repair times are assumptions, not measurements (the report gives none): hardware inside
// a node (GPU, HBM, NVLink baseboard) 48 h for a tray or board swap and burn-in; NIC and host 24 h;
// PSU and cable 4 h (hot-swappable parts); leaf and spine switches 4 h; PDU and CDU 8 h; software
// zero (the node stays up). Each is exponentially distributed around its mean unless set fixed.
//
// FailureProcess draws the failures of one cluster in time order, lazily and deterministically:
//   - exponential kinds (shape 1): the superposition of `count` independent Poisson processes of
//     rate r is one Poisson process of rate count x r whose events fall on a uniformly chosen
//     component, so a kind costs one draw per failure whatever the cluster's size;
//   - Weibull kinds (shape k != 1): each component is a renewal process (replaced as new when it
//     fails) with Weibull lifetimes of mean 1 / r; the next failure of every component sits in a
//     min-heap (O(log count) per failure, count entries of memory). By default the process starts
//     in equilibrium: each component's first failure is its stationary residual life, drawn
//     exactly as U x L with L the length-biased lifetime (for a Weibull of scale s,
//     L = s x G^(1/k), G ~ Gamma(1 + 1/k, 1)), so the expected count over any window is exactly
//     window x count x r, as for the exponential; `fresh_start` makes every component new at time
//     zero instead (a new cluster: infant mortality for k < 1, a wear-out wave for k > 1).
//   A failure's cause is drawn among its kind's causes in proportion to their rates. Each kind has
//   its own random streams (core/rng.h) for times, components and repairs, so changing one kind
//   never changes another's failures.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/rng.h"
#include "core/sim_time.h"
#include "reliability/failure_table.h"
#include "scheduler/topology.h"

namespace firstwall::scheduler {

enum class ComponentKind {
  kGpu,
  kHbm,
  kNvlink,
  kNic,
  kCable,
  kHost,
  kPsu,
  kLeaf,
  kSpine,
  kPdu,
  kCdu,
  kSoftware,
};
inline constexpr int kComponentKinds = 12;

// "gpu", "hbm", "nvlink", "nic", "cable", "host", "psu", "leaf", "spine", "pdu", "cdu", "software".
std::string_view ComponentKindName(ComponentKind k);
// The kind a reliability::Component of the failure tables maps to.
ComponentKind KindOf(reliability::Component c);
// Counted per node (host, PSU).
bool PerNode(ComponentKind k);
// Hardware of one node (GPU, HBM, NVLink, NIC, cable, host, PSU): its failures are the node's own,
// the ones that count towards excluding it.
bool IsNodeHardware(ComponentKind k);

enum class FailureEffect {
  kNodeDown,        // the nodes stop (and go dark for a PDU) until repaired
  kCutFromFabric,   // the nodes are up but cannot communicate: a synchronous job on them stops
  kThrottle,        // the nodes must slow down (a CDU's racks); jobs keep running, slower
  kFabricDegraded,  // no node is lost; the fabric has less capacity until repaired (a spine)
  kJobRestart,      // software: the job on the node stops and restarts; the node stays up
};
std::string_view FailureEffectName(FailureEffect e);  // "node_down", "cut_from_fabric", ...

enum class RepairDistribution { kFixed, kExponential };

struct RepairTime {
  SimTime mean;
  RepairDistribution distribution = RepairDistribution::kExponential;
};

struct FailureCauseRate {
  std::string name;  // "faulty GPU"
  ComponentKind kind;
  double per_1000_component_days = 0;  // >= 0
};

struct KindParams {
  double weibull_shape = 1.0;  // > 0; 1: exponential (memoryless)
  RepairTime repair;
};

// Component counts the Topology does not carry.
struct FailureDomains {
  int leaves_per_group = 0;  // leaf switches per leaf group; 0: gpus_per_node (one per rail)
  int racks_per_pdu = 1;
  int racks_per_cdu = 1;
  int spines = 0;
};

struct FailureModel {
  std::vector<FailureCauseRate> causes;
  std::array<KindParams, kComponentKinds> kinds;
  FailureDomains domains;
  bool cdu_stops = false;    // a CDU failure stops its racks' nodes instead of throttling them
  bool fresh_start = false;  // Weibull kinds: every component new at time zero (else stationary)
  std::string source;        // citation of the rates

  KindParams& kind(ComponentKind k) { return kinds[static_cast<int>(k)]; }
  const KindParams& kind(ComponentKind k) const { return kinds[static_cast<int>(k)]; }
  // Summed rate of a kind's causes, events per 1,000 component-days.
  double KindRatePer1000Days(ComponentKind k) const;
  // Throws InternalError on a negative rate, a shape <= 0, a negative repair or domain count < 1.
  void Validate() const;
};

// Events per 1,000 component-days of a component with this mean time between failures (> 0 h).
double RatePer1000DaysFromMtbfH(double mtbf_h);

// The Llama 3 table (reliability::Llama3FailureTable) mapped onto component kinds, with the
// default repair times above; leaf, spine, PDU, CDU and NVLink have no causes.
FailureModel DefaultFailureModel();
// The default repair time of a kind (the assumptions above).
RepairTime DefaultRepairTime(ComponentKind k);
// A model with the given table's causes and the default repair times.
FailureModel FailureModelFromTable(const reliability::FailureTable& table);

// How many components of kind `k` the topology has (see the table above).
int64_t ComponentCount(ComponentKind k, const Topology& topology, const FailureDomains& domains);

// Consecutive nodes [first, first + count); count 0 for none.
struct NodeRun {
  int first = 0;
  int count = 0;
  bool Contains(int node) const { return node >= first && node < first + count; }
  int end() const { return first + count; }
  bool operator==(const NodeRun&) const = default;
};

// The nodes a failure of component `index` of kind `k` takes down or cuts, and how.
NodeRun BlastRadius(ComponentKind k, int64_t index, const Topology& topology,
                    const FailureDomains& domains);
FailureEffect EffectOf(ComponentKind k, bool cdu_stops);

struct Failure {
  SimTime at;
  ComponentKind kind = ComponentKind::kGpu;
  int64_t component = 0;        // index among the cluster's components of its kind
  int cause = 0;                // index into FailureModel::causes
  std::string_view cause_name;  // points into the process's model
  NodeRun nodes;                // blast radius
  FailureEffect effect = FailureEffect::kNodeDown;
  SimTime repair;  // how long the nodes (or fabric) stay affected; zero for software
};

class FailureProcess {
 public:
  // The model is copied. Throws InternalError when the model is invalid.
  FailureProcess(const Topology& topology, FailureModel model, uint64_t seed);

  // Time of the next failure; SimTime::Never() when no kind can fail.
  SimTime PeekTime() const;
  // The next failure in time order (ties: lower kind first). PeekTime() must not be Never.
  Failure Next();

  const FailureModel& model() const { return model_; }
  const Topology& topology() const { return topology_; }
  // The whole cluster's expected failures per second (every kind and cause).
  double RatePerS() const { return rate_per_s_; }
  // Expected failures per second that stop a job on `gpus` GPUs: its GPUs' share of the per-GPU
  // kinds (software included) and its nodes' share of the per-node kinds, exactly; the group kinds
  // that stop jobs (leaf, PDU, a CDU with cdu_stops) by the job's share of the cluster's nodes, an
  // approximation that ignores how its placement straddles groups. Spines and throttling CDUs stop
  // nothing.
  double JobRatePerS(int gpus) const;

 private:
  struct WeibullEntry {
    int64_t at_ns;
    int64_t component;
  };
  struct KindState {
    ComponentKind kind;
    int64_t count = 0;
    double rate_per_component_s = 0;  // failures per second of one component
    double weibull_scale_s = 0;       // shape != 1
    double shape = 1;
    int64_t next_ns = INT64_MAX;     // exponential: the superposed process's next event
    std::vector<WeibullEntry> heap;  // Weibull: per-component next failures (min-heap)
    std::vector<int> causes;         // indices into model_.causes
    RngStream times;
    RngStream picks;
    RngStream repairs;
  };
  int64_t KindNext(const KindState& k) const;
  int64_t DrawWeibullNs(KindState& k);

  Topology topology_;
  FailureModel model_;
  std::vector<KindState> kinds_;  // only the kinds with a positive rate and components
  double rate_per_s_ = 0;
};

}  // namespace firstwall::scheduler
