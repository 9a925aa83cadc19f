// The requests a serving model receives: public traces replayed in their own formats, or synthetic
// arrivals.
//
//   Azure LLM inference trace 2023 (Patel et al., Splitwise, ISCA'24): CSV with the header
//     TIMESTAMP,ContextTokens,GeneratedTokens and timestamps "2023-11-16 18:15:46.6805900";
//     arrivals are taken relative to the first row.
//   Mooncake trace (Qin et al., FAST'25): JSON lines {"timestamp": ms, "input_length": n,
//     "output_length": n, "hash_ids": [...]}, each hash id one 512-token block of the prompt's
//     prefix: equal ids are equal prefixes, which a prefix cache can reuse.
//   Synthetic: a renewal process of unit rate (Poisson: exponential gaps; gamma: gaps with a
//     coefficient of variation cv > 1 for bursts) mapped through the cumulative rate of an hourly
//     diurnal profile, so the rate follows the profile exactly in expectation. Lengths are fixed,
//     uniform or lognormal (mean and cv). A session of `steps` calls models reasoning and agents:
//     each follow-up arrives `step_gap` after the previous call finishes, with the previous prompt
//     and answer as its prefix plus new tokens (tool output).
//
// Rate scaling divides every arrival time by the factor: the same requests, x times as fast.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace firstwall::workload {

struct Request {
  double arrival_s = 0;  // for a follow-up step: unknown until its predecessor finishes
  int prompt_tokens = 1;
  int output_tokens = 1;
  int cls = 0;                // index in RequestSet::classes
  int next = -1;              // the follow-up step of a session, or -1
  bool follow_up = false;     // released by its predecessor, not by arrival_s
  double gap_s = 0;           // from this step's end to the follow-up's arrival
  uint32_t prefix_begin = 0;  // its prefix blocks: RequestSet::hashes[begin, begin+count)
  uint32_t prefix_count = 0;
};

struct RequestSet {
  std::vector<Request> requests;  // first arrivals in time order; follow-ups anywhere
  std::vector<uint64_t> hashes;   // prefix block ids
  int hash_block_tokens = 512;    // tokens per prefix block
  std::vector<std::string> classes{"default"};
};

// Throw InputError naming file:line:col for anything malformed. `label` names the class.
RequestSet ReadAzureTrace(const std::string& path, const std::string& label);
RequestSet ReadMooncakeTrace(const std::string& path, const std::string& label);
// From text (for tests and compiled-in files); `path` is only for messages.
RequestSet ParseAzureTrace(const std::string& text, const std::string& path,
                           const std::string& label);
RequestSet ParseMooncakeTrace(const std::string& text, const std::string& path,
                              const std::string& label);

struct LengthDistribution {
  enum class Kind { kFixed, kUniform, kLognormal };
  Kind kind = Kind::kFixed;
  double a = 1;  // fixed value; uniform low; lognormal mean
  double b = 1;  // uniform high; lognormal coefficient of variation
  int max = 1 << 20;
};

struct SyntheticSource {
  std::string label = "synthetic";
  enum class Arrival { kPoisson, kGamma };
  Arrival arrival = Arrival::kPoisson;
  double rate_per_s = 1;  // mean over the day when a diurnal profile is given
  double cv = 1;          // gamma: coefficient of variation of the gaps
  std::optional<std::array<double, 24>> diurnal;  // relative rate per hour of day
  LengthDistribution prompt, output;
  int steps = 1;                   // calls per session
  double step_gap_s = 0;           // between a call's end and the next call of the session
  LengthDistribution step_prompt;  // new prompt tokens of each follow-up call
  int shared_prefix_tokens = 0;    // a system prompt common to all first calls
  double start_s = 0, end_s = 0;   // arrivals in [start, end)
};

// Requests of every source over [start, end), merged in time order. Each source draws from its
// own random stream (seed, label), so adding a source does not change another's requests.
RequestSet Generate(const std::vector<SyntheticSource>& sources, uint64_t seed);

// The union of several sets (classes, prefix blocks and follow-up links renumbered), by arrival.
RequestSet Merge(std::vector<RequestSet> sets);

// Divides every arrival (and session gap) by `factor`.
void ScaleRate(RequestSet& set, double factor);

// Keeps each session with probability `fraction` (a random share of the requests).
void Thin(RequestSet& set, double fraction, uint64_t seed);

// The period at which Loop repeats a set: the span from its first to its last first call, plus
// the mean gap between first calls, so the seam between laps keeps the set's mean rate (n first
// calls over a span T: a period of T n / (n - 1)). 0 when the set cannot loop: fewer than two
// first calls, or all at one instant.
double LoopPeriod(const RequestSet& set);

// Repeats the set until `end_s`: lap k (k = 0, 1, ...) is a copy with every first call
// k x LoopPeriod later, for every lap whose first arrival is before `end_s` (trim the last lap with
// Window). Each lap's sessions (follow-up links) and prefix blocks are its own: prefix ids are
// renumbered so that laps share no cached prefix, within a lap equal ids stay equal.
// Requires LoopPeriod(set) > 0.
void Loop(RequestSet& set, double end_s);

// Keeps the requests of [start_s, end_s) (and the sessions they start), moved by `offset_s`.
void Window(RequestSet& set, double start_s, double end_s, double offset_s);

}  // namespace firstwall::workload
