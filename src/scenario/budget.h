// A load-time estimate of the memory a scenario's run will need, so that a scenario too large for
// the machine is refused with the estimate and how to shrink it, before anything is allocated or
// written. `validate` and `run` load through the same LoadScenarioText, so they refuse alike.
//
// Bytes per object were measured with `/usr/bin/time -v` (maximum resident set size) on a
// RelWithDebInfo x86-64 build, as the slope between two runs that differ only in that count:
//  - a request of a service (the Request, its metrics and the engine's queues): 125 B. A synthetic
//    source of 1,250-token calls at 10 and 100 req/s over 1 h on 16 llama3-8b replicas: `run`
//    peaked at 12.7 MB and 51.2 MB for 36,000 and 360,000 requests (`validate` alone: 88 B).
//  - a prefix block id (512 tokens of a prompt, one per block per request): 16 B (8 B and the
//    vector's growth). 1 req/s of 100-step sessions over 1 h, 16.4 million ids: `run` 294 MB,
//    `validate` 270 MB; 1,000-step sessions (1.6 billion ids) took 14.6 GB in `validate` alone.
//  - a GPU of the cluster (its NIC and fabric links, node, rack and job state): 350 B. 8 GPUs a
//    node, a node a rack: 10,000 and 50,000 nodes ran in 31 MB and 139 MB (353 B a GPU); 128
//    nodes a rack: 315 B; 72 GPUs a node: 5,000 and 20,000 nodes in 117 MB and 448 MB (322 B).
//    The simulated duration does not change it (a 100-node site: 7.2 MB for 1 h, 7.9 MB for 24 h).
// Checked against runs the slopes were not fitted to: 2 req/s of 300-step sessions over 1 h
// (2.16 million requests, 288 million block ids) is estimated at 4.88 GB and `run` peaked at
// 4.89 GB; 50 req/s of 100,000-token prompts and outputs over 1 h at 585 MB, `run` 483 MB (the
// estimate errs on the large side when the vectors happen to be tight).
#pragma once

#include <string>
#include <string_view>

#include "scenario/reader.h"
#include "workload/requests.h"

namespace firstwall::scenario {

inline constexpr double kBytesPerRequest = 125;
inline constexpr double kBytesPerPrefixBlock = 16;
inline constexpr double kBytesPerGpu = 350;
// A fault of the fabric (a NIC or switch down and back): the rerouting and the link-load changes it
// records. Measured on examples/link-fault.yaml (512 GPUs): 5,000 listed faults took 427 MB more
// than none (85 kB each); 1 d of random NIC faults every 4 h per NIC, 3,000 faults, 209 MB. It
// grows with the fabric a fault reroutes, so on larger sites this is low.
inline constexpr double kBytesPerFault = 85e3;
// The most a scenario may need by the estimate: a laptop's or a CI runner's memory.
inline constexpr double kMemoryLimitBytes = 8e9;

class MemoryBudget {
 public:
  // Adds `bytes` (the estimate for `what`, e.g. "service 'chat' holds about 3.6 million
  // requests"); throws InputError at the value of `key` in `s` when the scenario's total passes
  // kMemoryLimitBytes, with the estimate and `how_to_reduce`.
  void Charge(const Section& s, std::string_view key, double bytes, const std::string& what,
              const std::string& how_to_reduce);
  double bytes() const { return bytes_; }

 private:
  double bytes_ = 0;
};

// Requests and prefix block ids a synthetic source generates in expectation over
// [start_s, end_s) at its rate (already scaled by any sampled share): sessions = rate x window,
// requests = sessions x steps, and each request holds a block id per `block_tokens` of prompt,
// which grows by step_prompt + output tokens a step.
struct RequestLoad {
  double requests = 0;
  double prefix_blocks = 0;
};
RequestLoad ExpectedLoad(const workload::SyntheticSource& src, int block_tokens);

// The longest context (prompt and output tokens) a session of the source can reach, every length
// at its largest: a request counts its tokens in an int, so this must stay below 2^31.
double LongestContext(const workload::SyntheticSource& src);

// A count for people: "950", "36000", "3.6 million", "1.59 billion".
std::string AboutCount(double n);

}  // namespace firstwall::scenario
