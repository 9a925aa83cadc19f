// An LLM inference service at the level of its engine's iterations: replicas running continuous
// batching (vLLM/SGLang-style), a router in front, optional autoscaling and prefill/decode
// disaggregation. docs/models.md derives it; in short:
//
//   iteration   each replica repeatedly forms a batch: every running decode (one token each), then
//               unfinished prefills, then waiting requests, within max_seqs sequences and
//               max_batched_tokens tokens; with chunked prefill a prompt is split to fill the token
//               budget, without it a prompt enters whole. Its time comes from IterationModel (the
//               op-level model shared with `firstwall infer`), plus host-link time for swaps.
//   KV cache    HBM left after weights and the runtime reserve (x memory_fraction), in blocks of
//               block_tokens, on a GPU of the most loaded pipeline stage (any pp up to the layers:
//               InferenceStageLayers); a sequence holds blocks for its tokens. When a decode cannot
//               grow, the most recently admitted sequence is preempted: recompute (its KV is
//               dropped and its prompt and output so far are prefilled again) or swap (its KV moves
//               to host memory over the host link and back when it resumes).
//   prefix      prompts' prefix blocks (Mooncake hash_ids, synthetic sessions) are kept after use
//               and evicted least-recently-used; an admitted prompt skips the leading blocks
//               already cached on its replica.
//   offload     with EnginePolicy::offload_bytes, prefix blocks evicted from HBM move to a host/CXL
//               tier (LRU) and a prompt's prefix found there is read back over the host link
//               before its iteration instead of recomputed.
//   speculate   with replica.speculation (speculative.h), each decode puts gamma + 1 tokens
//               through the iteration, the drafter's gamma passes are added, and each sequence
//               gains E tokens a step on average (whole tokens, the fraction carried).
//   router      round-robin, least outstanding tokens (prompt + output of the requests routed to
//               a replica and not finished), or prefix-aware (the replica whose cache holds the
//               longest prefix of the prompt, when that is at least half of its prefix blocks and
//               the replica carries at most twice the least-loaded one's tokens plus one batch).
//   P/D         prefill replicas run prompts and produce the first token; the KV then crosses the
//               fabric (each prefill replica's NICs carry one transfer at a time) to the decode
//               replica with the fewest outstanding tokens.
//   autoscale   every interval, replicas needed = sequences held on average / (target x max_seqs);
//               new replicas serve after spin_up; removed ones finish their work first, and
//               replicas go only when no decision of the last five intervals wanted them.
//   power       a replica's GPUs draw idle + (TDP - idle) x activity of each iteration, idle
//               power between iterations and while off or starting.
//
// Fleets: with sample_replicas = k < replicas, k replicas are simulated, each request kept with
// probability k / replicas (as under random routing), and counts, tokens and energy are scaled by
// replicas / k. docs/validation.md gives the error this introduces.
#pragma once

#include <atomic>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "workload/inference.h"
#include "workload/requests.h"

namespace firstwall::workload {

// From t_s on (seconds, the simulation's clock), `replicas` of the fleet hold their GPUs.
struct ReplicaStep {
  double t_s = 0;
  int replicas = 0;
};

enum class Routing { kRoundRobin, kLeastTokens, kPrefixAware };
// As the scenario writes them: round_robin, least_tokens, prefix_aware.
std::string_view RoutingName(Routing r);
std::optional<Routing> RoutingFromName(std::string_view name);
enum class Preemption { kRecompute, kSwap };

// Host DRAM <-> GPU over PCIe 5.0 x16, one direction, as measured (EnginePolicy below).
inline constexpr double kHostLinkBytesPerS = 50e9;

struct EnginePolicy {
  int max_seqs = 256;
  int max_batched_tokens = 8192;
  bool chunked_prefill = true;
  bool prefix_caching = true;
  int block_tokens = 16;
  Preemption preemption = Preemption::kRecompute;
  double memory_fraction = 0.9;  // of HBM the engine may use (vLLM's gpu_memory_utilization)
  // Host link for swapping, one direction: what K/V blocks move at between host DRAM and an H100
  // over its PCIe 5.0 x16, about 50 GB/s measured (Ozeri and Harnik, "Inside vLLM's New Offloading
  // Connector", vLLM blog, January 2026: 2 MB blocks, cudaMemcpyAsync or a copy kernel, one
  // direction), of the link's 63 GB/s (32 GT/s x 16 lanes at 128b/130b, PCI-SIG PCIe Base
  // Specification 5.0).
  double host_link_bytes_per_s = kHostLinkBytesPerS;
  // KV offload tier (LMCache/Mooncake-style; issue #18): with prefix caching, prefix blocks evicted
  // from HBM move to host DRAM or CXL-attached memory of this many bytes per replica (0: none),
  // least-recently-used out; a prompt whose prefix misses HBM but is in the tier has those blocks
  // read back over each GPU's link at offload_link_bytes_per_s (one direction) before its
  // iteration, instead of recomputing them. Writes to the tier overlap the engine's work (not
  // charged). Running sequences' K/V stays in HBM: the tier adds no batch or context capacity.
  double offload_bytes = 0;
  double offload_link_bytes_per_s = kHostLinkBytesPerS;
};

struct Autoscaling {
  bool enabled = false;
  int min_replicas = 1, max_replicas = 1;
  // Sequences held (running and waiting) over max_seqs, averaged over the interval: continuous
  // batching keeps a replica busy at any load, so the batch slots in use measure its load.
  double target_utilization = 0.7;
  double interval_s = 60;
  double spin_up_s = 120;  // weights loaded, engine warm
};

// A link's usable share of its bandwidth from t_s on (seconds, the simulation's clock): 1 healthy,
// 0 down.
struct LinkHealthStep {
  double t_s = 0;
  double health = 1;
};

// When a transfer of `bytes` over a link of `bytes_per_s` begun at `start_s` ends, the link running
// at `health` of its bandwidth (steps in time order, healthy before the first); waiting while the
// link is down. Infinity if the link goes down for good before the bytes are through.
double TransferEndS(double start_s, double bytes, double bytes_per_s,
                    const std::vector<LinkHealthStep>& health);

struct Disaggregation {
  int prefill_replicas = 0;       // 0: every replica runs both phases
  double link_bytes_per_s = 0;    // per GPU of a prefill replica, one direction
  double link_latency_s = 10e-6;  // per transfer
  bool over_nvlink = false;       // the KV crosses the scale-up fabric, not the NICs (reports)
  // Per prefill replica (the first prefill_replicas replicas), the health of its slowest sending
  // link over time under the site's faults (site/service_faults.h): each GPU sends its own share
  // of the KV, so the transfer ends when the slowest one's does. Empty, or shorter than
  // prefill_replicas: healthy. Only with every replica simulated (sample_replicas 0).
  std::vector<std::vector<LinkHealthStep>> prefill_link_health;
};

struct Slo {
  double ttft_s = 2.0;
  double tpot_s = 0.1;  // mean time per output token after the first
};

struct ServiceSetup {
  std::string name = "service";
  InferenceSetup replica;  // model, GPU, data type, tp/pp/ep (batch and lengths unused)
  int replicas = 1;        // with autoscaling: the most that may run
  EnginePolicy engine;
  Routing routing = Routing::kLeastTokens;
  Autoscaling autoscale;
  Disaggregation pd;
  Slo slo;
  double start_s = 0;                                      // requests are offset by it
  double end_s = std::numeric_limits<double>::infinity();  // nothing runs after it
  double bin_s = 1;                                        // power series resolution
  int sample_replicas = 0;                                 // 0: simulate every replica
  bool presampled = false;  // the requests are already the sampled replicas' share (Thin)
  // At most this many of the fleet's replicas up from each step's t_s on (empty: no cap): the
  // replicas a scheduler's pool granted (site/life_services.h). Above it, the highest replicas go
  // off at once, as a failed or ungranted replica does: their sequences lose their KV cache and
  // go back through the router (recomputed), or are dropped when no replica serves; the
  // autoscaler wants no more than it. Without autoscaling, replicas come back (serving at once)
  // as it rises. Not with disaggregation.
  std::vector<ReplicaStep> replica_cap;
};

struct Percentiles {
  double mean = 0, p50 = 0, p90 = 0, p99 = 0, max = 0;
  double count = 0;  // values summarised (weighted); 0: none, and the figures mean nothing
};

struct PhaseEnergy {
  double replica_s = 0;  // replica-seconds in this phase
  double gpu_j = 0;      // GPU energy of those replicas meanwhile
  // Average GPU power of one replica in this phase.
  double replica_watts() const { return replica_s > 0 ? gpu_j / replica_s : 0.0; }
};

struct ServingResult {
  int replicas_simulated = 0;
  double scale = 1;  // replicas / replicas simulated
  // Requests that arrived, finished, and finished within both SLOs (scaled to the fleet).
  double requests = 0, completed = 0, slo_met = 0, unfinished = 0;
  double prompt_tokens = 0, output_tokens = 0;  // of finished requests
  double prefill_tokens = 0;                    // computed (recomputation included)
  double prefix_hit_tokens = 0;                 // prompt tokens served from the prefix cache
  double offload_hit_tokens = 0;  // of those, read back from the offload tier (EnginePolicy)
  double offload_read_bytes = 0;  // K/V read back from the tier, all GPUs
  double preemptions = 0;
  Percentiles ttft, itl, e2e, queue, tpot;  // seconds
  double slo_attainment = 0;                // slo_met / completed
  double span_s = 0;                        // first arrival to last completion
  double goodput_rps = 0, throughput_rps = 0, output_tokens_per_s = 0;
  double kv_use_mean = 0, kv_use_peak = 0;  // share of KV blocks in use, busy replicas
  double kv_capacity_tokens = 0;            // per replica
  PhaseEnergy prefill, decode, mixed, idle;
  double gpu_energy_j = 0;
  double energy_per_output_token_j = 0;
  double replica_hours = 0;  // replicas serving or starting
  int replicas_peak = 0;
  int scale_events = 0;
  // Replicas holding GPUs (starting, serving or draining; not off) as a step function from
  // start_s, scaled to the fleet (rounded): the demand the service puts on a scheduler's pool
  // (site/life_services.h). Constant `replicas` without autoscaling; with it, it changes at the
  // autoscaler's decisions and when a draining replica finishes its work.
  std::vector<ReplicaStep> replicas_held;
  double kv_transfer_bytes = 0;
  // KV transfers that faults slowed (Disaggregation::prefill_link_health), the seconds they added
  // over those that arrived, and those that did not arrive by the end of the run (end_s) though a
  // healthy link would have delivered them (counted among the slowed; no delay counted).
  double kv_transfers_slowed = 0;
  double kv_fault_delay_s = 0;
  double kv_transfers_lost = 0;
  int gpus = 0;  // of the whole service (replicas x GPUs per replica)
  // Average power of all the service's GPUs per bin of bin_s from start_s (idle when nothing runs).
  std::vector<double> gpu_power_w;
  double bin_s = 1;
  std::vector<std::string> classes;
  std::vector<Percentiles> ttft_by_class;
};

// Why the service cannot run (tp not dividing the heads, more pipeline stages than layers, weights
// that do not fit, no room for one sequence), or "".
std::string ServiceProblem(const ServiceSetup& s);

// Replays `requests` through the service until every one finished or end_s. Deterministic for a
// given seed (used only to sample requests in fleet mode). `cancel`, when given and set by
// another thread, ends it soon (within a few thousand events) with std::runtime_error: a server
// that stops does not wait for a long serving simulation.
ServingResult Serve(const ServiceSetup& s, const RequestSet& requests, uint64_t seed,
                    const std::atomic<bool>* cancel = nullptr);

// A log-spaced histogram of positive values (1% relative bins from 1 us to ~1e5 s) with an exact
// mean: percentiles of millions of latencies in fixed memory, within 0.5%.
class LatencyHistogram {
 public:
  LatencyHistogram();
  void Add(double seconds, double weight = 1);
  Percentiles Summary() const;
  double count() const { return count_; }

 private:
  std::vector<double> bins_;
  double count_ = 0, sum_ = 0, max_ = 0;
  // The last value's bin: a decode step adds one inter-token latency per running request, mostly
  // the same value, and the logarithm was a quarter of a 10,000-GPU fleet's forecast.
  double last_seconds_ = std::numeric_limits<double>::quiet_NaN();
  size_t last_bin_ = 0;
};

}  // namespace firstwall::workload
