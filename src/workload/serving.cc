#include "workload/serving.h"

#include <algorithm>
#include <cmath>
#include <deque>
#include <iterator>
#include <list>
#include <optional>
#include <queue>
#include <stdexcept>
#include <unordered_map>

#include "core/error.h"
#include "core/rng.h"

namespace firstwall::workload {
namespace {

constexpr double kHistogramMin = 1e-6;
constexpr double kHistogramRatio = 1.01;
constexpr int kHistogramBins = 2600;  // 1 us x 1.01^2600 is about 1.8e5 s

enum class Role { kBoth, kPrefill, kDecode };
enum class State { kOff, kStarting, kActive, kDraining };

struct Seq {
  int req = -1;
  int replica = -1;
  int prompt = 0;     // tokens to prefill now (prompt, plus output so far after a recompute)
  int computed = 0;   // tokens whose K/V exist (cached prefix included)
  int generated = 0;  // output tokens so far
  int blocks = 0;     // private KV blocks held (or held on the host while swapped)
  int pinned = 0;     // leading prefix blocks pinned in the replica's cache
  bool swapped = false;
  bool queued = true;   // not yet admitted once
  double charge = 0;    // tokens it adds to its replica's outstanding load
  double accepted = 0;  // speculation: expected tokens gained, not yet emitted (under one)
  double arrival = 0, first_token = -1, last_token = 0;
};

struct CacheEntry {
  int refs = 0;
  std::list<uint64_t>::iterator lru;  // valid while refs == 0
};

struct Replica {
  Role role = Role::kBoth;
  State state = State::kActive;
  std::deque<int> waiting;
  std::vector<int> running;                // in admission order
  std::vector<std::pair<int, int>> batch;  // (seq, tokens) in flight
  bool busy = false;
  int free_blocks = 0;
  int cached_blocks = 0;  // engine blocks held by the prefix cache
  std::unordered_map<uint64_t, CacheEntry> cache;
  std::list<uint64_t> lru;  // unpinned entries, oldest first
  // The offload tier (EnginePolicy::offload_bytes): prefix blocks evicted from HBM, oldest first.
  std::unordered_map<uint64_t, std::list<uint64_t>::iterator> tier;
  std::list<uint64_t> tier_lru;
  double outstanding = 0;       // tokens: prompt + output left of the requests routed here
  double nic_free = 0;          // prefill role: when its KV link is free
  double nic_free_healthy = 0;  // the same without link faults (ServingResult::kv_fault_delay_s)
  double load_s = 0;            // sequences held x time, since the last autoscaling decision
  double since = 0;             // last power/KV accounting time
  double pending_io_s = 0;      // swap transfers to add to the next iteration
  uint32_t gen = 0;             // bumps when the cap takes it off: its pending events are void
};

enum class EventKind { kIterationEnd, kReady, kKvArrive, kRelease, kAutoscale, kCap };
struct Event {
  double t;
  uint64_t order;
  EventKind kind;
  int a;             // replica or seq or request or cap step
  uint32_t gen = 0;  // kIterationEnd, kReady: the replica's generation when pushed
  bool operator>(const Event& o) const { return t != o.t ? t > o.t : order > o.order; }
};

// Tokens an iteration may hold: the budget, or unchunked the longest prompt (with its output, as
// a recomputed prompt after preemption).
// With speculation a decode takes gamma + 1 tokens, and the last may pass the budget by gamma.
int VerifyTokens(const ServiceSetup& s) {
  const Speculation& spec = s.replica.speculation;
  return spec.enabled() ? spec.draft_tokens + 1 : 1;
}
int TableTokens(const ServiceSetup& s, const RequestSet& req) {
  const int g1 = VerifyTokens(s);
  int n = std::max(s.engine.max_batched_tokens, s.engine.max_seqs * g1) + g1 - 1;
  if (!s.engine.chunked_prefill) {
    for (const Request& r : req.requests) n = std::max(n, r.prompt_tokens + r.output_tokens);
  }
  return n;
}

class Simulator {
 public:
  Simulator(const ServiceSetup& s, const RequestSet& req, uint64_t seed)
      : s_(s), req_(req), model_(s.replica, TableTokens(s, req)), rng_(seed, "serving/" + s.name) {
    const hardware::GpuSpec& g = s.replica.gpu;
    const Speculation& spec = s.replica.speculation;
    verify_tokens_ = VerifyTokens(s);
    if (spec.enabled()) {
      tokens_per_step_ = ExpectedTokensPerStep(spec.acceptance, spec.draft_tokens);
    }
    if (spec.method == SpeculationMethod::kDraft || spec.method == SpeculationMethod::kMtp) {
      draft_.emplace(DraftSetup(s.replica), s.engine.max_seqs);
    }
    gpus_ = model_.gpus();
    idle_w_ = ToWatts(g.idle_power) * gpus_;
    span_w_ = (ToWatts(g.tdp) - ToWatts(g.idle_power)) * gpus_;
    const double kv_space = ToBytes(g.hbm_capacity) * s.engine.memory_fraction -
                            model_.weights_per_gpu_bytes() - ToBytes(kRuntimeReserved);
    block_bytes_ = model_.kv_bytes_per_token() * s.engine.block_tokens;  // per GPU
    total_blocks_ = std::max(0, static_cast<int>(kv_space / block_bytes_));
    hash_blocks_ = req.hash_block_tokens / s.engine.block_tokens;
    if (s.engine.offload_bytes > 0 && s.engine.prefix_caching && hash_blocks_ > 0) {
      // The tier holds every GPU's share of a prefix block: the replica's K/V of its tokens.
      const double bytes = hash_blocks_ * block_bytes_ * gpus_ * model_.kv_stored_fraction();
      tier_blocks_ = static_cast<int64_t>(s.engine.offload_bytes / bytes);
    }
    const int count = s.sample_replicas > 0 ? std::min(s.sample_replicas, s.replicas) : s.replicas;
    scale_ = static_cast<double>(s.replicas) / count;
    replicas_.resize(static_cast<size_t>(count));
    const int prefill =
        s.pd.prefill_replicas > 0
            ? std::max(1, static_cast<int>(std::lround(s.pd.prefill_replicas / scale_)))
            : 0;
    for (int i = 0; i < count; ++i) {
      Replica& r = replicas_[static_cast<size_t>(i)];
      r.free_blocks = total_blocks_;
      r.since = s.start_s;
      if (prefill > 0) r.role = i < prefill ? Role::kPrefill : Role::kDecode;
      if (s.autoscale.enabled) {
        const int initial =
            std::max(1, static_cast<int>(std::lround(s.autoscale.min_replicas / scale_)));
        r.state = i < initial ? State::kActive : State::kOff;
      }
      held_ += r.state != State::kOff ? 1 : 0;
    }
    unclamped_want_ = held_;
    NoteHeld(s.start_s);
    const double bins_end = std::isfinite(s.end_s) ? s.end_s : 0.0;
    if (bins_end > s.start_s) {
      power_j_.assign(static_cast<size_t>(std::ceil((bins_end - s.start_s) / s.bin_s)), 0.0);
    }
    ttft_class_.resize(req.classes.size());
  }

  ServingResult Run(const std::atomic<bool>* cancel) {
    // First arrivals in time order; follow-ups are released by their predecessors.
    std::vector<int> arrivals;
    for (size_t i = 0; i < req_.requests.size(); ++i) {
      const Request& r = req_.requests[i];
      if (r.follow_up) continue;
      if (scale_ > 1 && !s_.presampled && rng_.Uniform() * scale_ >= 1.0) continue;
      arrivals.push_back(static_cast<int>(i));
    }
    if (s_.autoscale.enabled) Push(s_.start_s + s_.autoscale.interval_s, EventKind::kAutoscale, 0);
    for (size_t i = 0; i < s_.replica_cap.size(); ++i) {
      // A step at or before the start applies before the first arrival.
      Push(std::max(s_.start_s, s_.replica_cap[i].t_s), EventKind::kCap, static_cast<int>(i));
    }
    size_t next = 0;
    for (uint64_t steps = 1;; ++steps) {
      if (cancel != nullptr && steps % 4096 == 0 && cancel->load(std::memory_order_relaxed)) {
        throw std::runtime_error("the serving simulation was stopped");
      }
      const double ta =
          next < arrivals.size()
              ? s_.start_s + req_.requests[static_cast<size_t>(arrivals[next])].arrival_s
              : std::numeric_limits<double>::infinity();
      const double te = events_.empty() ? std::numeric_limits<double>::infinity() : events_.top().t;
      const double t = std::min(ta, te);
      if (!std::isfinite(t) || t >= s_.end_s) break;
      if (te <= ta) {
        const Event e = events_.top();
        events_.pop();
        if (e.kind == EventKind::kAutoscale && live_ == 0 && pending_releases_ == 0 &&
            next >= arrivals.size()) {
          break;
        }
        Handle(e);
      } else {
        Arrive(arrivals[next++], t);
      }
    }
    return Finish();
  }

 private:
  void Push(double t, EventKind k, int a, uint32_t gen = 0) {
    if (k == EventKind::kRelease) ++pending_releases_;
    events_.push({t, order_++, k, a, gen});
  }

  // --- Power and KV accounting -------------------------------------------------------------
  void AddEnergy(double from, double to, double watts_above_idle) {
    if (power_j_.empty() || to <= from) return;
    double t = std::max(from, s_.start_s);
    to = std::min(to, s_.end_s);
    while (t < to) {
      const auto bin = static_cast<size_t>((t - s_.start_s) / s_.bin_s);
      if (bin >= power_j_.size()) break;
      const double edge = std::min(to, s_.start_s + (static_cast<double>(bin) + 1) * s_.bin_s);
      power_j_[bin] += watts_above_idle * (edge - t);
      if (edge <= t) break;
      t = edge;
    }
  }

  // The replicas holding GPUs changed (or may have) at t: a step of the fleet's series.
  // Also integrates the replicas held, so replica_hours is this very series' area.
  void NoteHeld(double t) {
    held_s_ += held_counted_ * std::max(0.0, t - held_since_);
    held_counted_ = held_;
    held_since_ = t;
    const int fleet = static_cast<int>(std::lround(held_ * scale_));
    if (!held_steps_.empty() && held_steps_.back().replicas == fleet) return;
    if (!held_steps_.empty() && held_steps_.back().t_s == t) {
      held_steps_.back().replicas = fleet;
    } else {
      held_steps_.push_back({t, fleet});
    }
  }

  // Blocks held by sequences and pinned prefixes (cached blocks nobody uses count as free).
  double KvUse(const Replica& r) const {
    const double unused =
        r.free_blocks + static_cast<double>(r.lru.size()) * static_cast<double>(hash_blocks_);
    return total_blocks_ > 0 ? 1.0 - unused / total_blocks_ : 0.0;
  }

  // --- Prefix cache ------------------------------------------------------------------------
  void Unpin(Replica& r, Seq& q) {
    const Request& rq = req_.requests[static_cast<size_t>(q.req)];
    for (int i = 0; i < q.pinned; ++i) {
      auto it = r.cache.find(req_.hashes[rq.prefix_begin + static_cast<uint32_t>(i)]);
      FW_CHECK(it != r.cache.end() && it->second.refs > 0, "pinned prefix block not cached");
      if (--it->second.refs == 0) it->second.lru = r.lru.insert(r.lru.end(), it->first);
    }
    q.pinned = 0;
  }
  bool Evict(Replica& r) {
    if (r.lru.empty()) return false;
    r.cache.erase(r.lru.front());
    Offload(r, r.lru.front());
    r.lru.pop_front();
    r.free_blocks += hash_blocks_;
    r.cached_blocks -= hash_blocks_;
    return true;
  }
  // A prefix block leaving HBM goes to the offload tier, the tier's oldest out when full.
  void Offload(Replica& r, uint64_t h) {
    if (tier_blocks_ < 1) return;
    if (auto it = r.tier.find(h); it != r.tier.end()) r.tier_lru.erase(it->second);
    r.tier[h] = r.tier_lru.insert(r.tier_lru.end(), h);
    while (static_cast<int64_t>(r.tier.size()) > tier_blocks_) {
      r.tier.erase(r.tier_lru.front());
      r.tier_lru.pop_front();
    }
  }
  // The prefix block `h` comes back from the tier into HBM, pinned: false if it is not there or
  // HBM has no room. Its read joins the next iteration's transfers.
  bool Fetch(Replica& r, uint64_t h) {
    auto it = r.tier.find(h);
    if (it == r.tier.end()) return false;
    r.tier_lru.erase(it->second);
    r.tier.erase(it);  // before Reserve, whose evictions refill the tier
    if (!Reserve(r, hash_blocks_)) {
      Offload(r, h);
      return false;
    }
    r.cache[h].refs = 1;
    r.cached_blocks += hash_blocks_;
    r.pending_io_s += hash_blocks_ * block_bytes_ / s_.engine.offload_link_bytes_per_s;
    offload_read_bytes_ += hash_blocks_ * block_bytes_ * gpus_ * model_.kv_stored_fraction();
    return true;
  }
  // Pins the leading blocks of the prompt already cached, in HBM or (read back) in the offload
  // tier; returns the tokens they cover.
  int MatchPrefix(Replica& r, Seq& q) {
    if (!s_.engine.prefix_caching || hash_blocks_ < 1) return 0;
    const Request& rq = req_.requests[static_cast<size_t>(q.req)];
    const int usable =
        std::min<int>(static_cast<int>(rq.prefix_count), (q.prompt - 1) / req_.hash_block_tokens);
    int k = 0;
    for (; k < usable; ++k) {
      const uint64_t h = req_.hashes[rq.prefix_begin + static_cast<uint32_t>(k)];
      auto it = r.cache.find(h);
      if (it == r.cache.end()) {
        // Blocks pinned so far are safe from Fetch's evictions.
        q.pinned = k;
        if (!Fetch(r, h)) break;
        if (q.queued) offload_hit_ += req_.hash_block_tokens;
        continue;
      }
      if (it->second.refs++ == 0) r.lru.erase(it->second.lru);
    }
    q.pinned = k;
    return k * req_.hash_block_tokens;
  }
  // After a prompt is computed, its whole prefix blocks join the cache (pinned by it).
  void CachePrompt(Replica& r, Seq& q) {
    if (!s_.engine.prefix_caching || hash_blocks_ < 1) return;
    const Request& rq = req_.requests[static_cast<size_t>(q.req)];
    const int whole =
        std::min<int>(static_cast<int>(rq.prefix_count), q.computed / req_.hash_block_tokens);
    for (int k = q.pinned; k < whole && q.blocks >= hash_blocks_; ++k) {
      const uint64_t h = req_.hashes[rq.prefix_begin + static_cast<uint32_t>(k)];
      auto [it, fresh] = r.cache.try_emplace(h);
      q.blocks -= hash_blocks_;
      if (fresh) {
        r.cached_blocks += hash_blocks_;  // the blocks change hands
      } else {
        if (it->second.refs == 0) r.lru.erase(it->second.lru);
        r.free_blocks += hash_blocks_;  // a duplicate of what another request cached
      }
      ++it->second.refs;
      q.pinned = k + 1;
    }
  }

  // Blocks so that `q` holds K/V for `tokens` tokens; evicts cached prefixes as needed.
  bool Grow(Replica& r, Seq& q, int tokens) {
    const int bt = s_.engine.block_tokens;
    const int own = std::max(0, tokens - q.pinned * req_.hash_block_tokens);
    const int need = (own + bt - 1) / bt - q.blocks;
    if (need <= 0) return true;
    if (!Reserve(r, need)) return false;
    q.blocks += need;
    return true;
  }
  // Takes `blocks` free blocks, evicting cached prefixes as needed; false if they cannot be had.
  bool Reserve(Replica& r, int blocks) {
    while (r.free_blocks < blocks && Evict(r)) {
    }
    if (r.free_blocks < blocks) return false;
    r.free_blocks -= blocks;
    return true;
  }
  void Release(Replica& r, Seq& q) {
    r.free_blocks += q.blocks;
    q.blocks = 0;
    Unpin(r, q);
  }

  // --- Requests ------------------------------------------------------------------------------
  int NewSeq(int req, double t) {
    int id = 0;
    if (!free_seqs_.empty()) {
      id = free_seqs_.back();
      free_seqs_.pop_back();
    } else {
      id = static_cast<int>(seqs_.size());
      seqs_.emplace_back();
    }
    Seq& q = seqs_[static_cast<size_t>(id)];
    q = Seq{};
    q.req = req;
    q.prompt = req_.requests[static_cast<size_t>(req)].prompt_tokens;
    q.arrival = t;
    return id;
  }

  double Load(const Replica& r) const { return r.outstanding; }

  int Route(int req, Role want) {
    auto eligible = [&](const Replica& r) {
      return r.state == State::kActive &&
             (r.role == want || (want == Role::kPrefill && r.role == Role::kBoth));
    };
    const int n = static_cast<int>(replicas_.size());
    auto least = [&] {
      int b = -1;
      for (int i = 0; i < n; ++i) {
        const Replica& r = replicas_[static_cast<size_t>(i)];
        if (eligible(r) && (b < 0 || Load(r) < Load(replicas_[static_cast<size_t>(b)]))) b = i;
      }
      return b;
    };
    if (want == Role::kDecode || s_.routing == Routing::kLeastTokens) return least();
    if (s_.routing == Routing::kRoundRobin) {
      for (int k = 0; k < n; ++k) {
        const int i = (rr_ + k) % n;
        if (eligible(replicas_[static_cast<size_t>(i)])) {
          rr_ = i + 1;
          return i;
        }
      }
      return -1;
    }
    // Prefix-aware: the replica holding the longest cached prefix of the prompt, if that covers
    // half its prefix blocks and the replica is not overloaded; else the least loaded.
    const int best = least();
    const Request& rq = req_.requests[static_cast<size_t>(req)];
    if (rq.prefix_count == 0 || best < 0) return best;
    int owner = -1, longest = 0;
    for (int i = 0; i < n; ++i) {
      const Replica& r = replicas_[static_cast<size_t>(i)];
      if (!eligible(r)) continue;
      int k = 0;
      while (k < static_cast<int>(rq.prefix_count) &&
             r.cache.count(req_.hashes[rq.prefix_begin + static_cast<uint32_t>(k)]) > 0) {
        ++k;
      }
      if (k > longest) {
        longest = k;
        owner = i;
      }
    }
    const double slack =
        2.0 * Load(replicas_[static_cast<size_t>(best)]) + s_.engine.max_batched_tokens;
    if (owner >= 0 && 2 * longest >= static_cast<int>(rq.prefix_count) &&
        Load(replicas_[static_cast<size_t>(owner)]) <= slack) {
      return owner;
    }
    return best;
  }

  void Enqueue(int replica, int seq, double t, bool front = false) {
    Replica& r = replicas_[static_cast<size_t>(replica)];
    Seq& q = seqs_[static_cast<size_t>(seq)];
    q.replica = replica;
    if (front) {
      r.waiting.push_front(seq);
    } else {
      r.waiting.push_back(seq);
    }
    if (!r.busy) Schedule(replica, t);
  }

  void Arrive(int req, double t) {
    const Request& rq = req_.requests[static_cast<size_t>(req)];
    ++arrived_;
    const int bt = s_.engine.block_tokens;
    // With wide EP a sequence's K/V stays on its attention group: 1/groups of the pool.
    if ((rq.prompt_tokens + rq.output_tokens + bt - 1) / bt >
        total_blocks_ / AttentionGroups(s_.replica)) {
      ++dropped_;  // longer than the whole KV cache: refused, as an engine's max length would
      return;
    }
    const int replica = Route(req, s_.pd.prefill_replicas > 0 ? Role::kPrefill : Role::kBoth);
    if (replica < 0) {
      ++dropped_;
      return;
    }
    const int seq = NewSeq(req, t);
    ++live_;
    Seq& q = seqs_[static_cast<size_t>(seq)];
    q.charge = rq.prompt_tokens + rq.output_tokens;
    replicas_[static_cast<size_t>(replica)].outstanding += q.charge;
    Enqueue(replica, seq, t);
  }

  // --- The engine --------------------------------------------------------------------------
  void Preempt(Replica& r, int seq) {
    Seq& q = seqs_[static_cast<size_t>(seq)];
    ++preemptions_;
    r.running.erase(std::find(r.running.begin(), r.running.end(), seq));
    if (s_.engine.preemption == Preemption::kSwap) {
      r.pending_io_s += q.blocks * block_bytes_ / s_.engine.host_link_bytes_per_s;
      r.free_blocks += q.blocks;  // q.blocks now counts what is on the host
      Unpin(r, q);
      q.swapped = true;
    } else {
      Release(r, q);
      q.prompt = req_.requests[static_cast<size_t>(q.req)].prompt_tokens + q.generated;
      q.computed = 0;
    }
    r.waiting.push_front(seq);
  }

  // The iteration being formed: its sequences go into the replica's batch.
  struct Forming {
    int budget = 0;  // tokens left
    IterationBatch b;
    IterationBatch draft;  // the drafter's batch: one token of each decoding sequence
    bool has_prefill = false, has_decode = false;
    void Take(Replica& r, int id, const Seq& q, int tokens) {
      r.batch.push_back({id, tokens});
      budget -= tokens;
      b.tokens += tokens;
      if (q.computed >= q.prompt) {
        // A decode: one token, or with speculation gamma + 1 checked (each gets logits); its
        // K/V is read once.
        b.sampled += tokens;
        has_decode = true;
        b.decode_kv_tokens += q.computed + 1;
        ++draft.tokens;
        ++draft.sampled;
        draft.decode_kv_tokens += q.computed + 1;
      } else {
        if (q.computed + tokens >= q.prompt) ++b.sampled;
        has_prefill = true;
        b.prefill_tokens += tokens;
        b.largest_chunk = std::max(b.largest_chunk, tokens);
        b.prefill_pairs += tokens * (q.computed + tokens / 2.0);
        b.prefill_scores += tokens * (q.computed + static_cast<double>(tokens));
      }
    }
  };

  // Admits waiting requests, in order, while sequences, tokens and blocks allow.
  void Admit(Replica& r, double now, Forming& f) {
    while (!r.waiting.empty() && f.budget > 0 &&
           static_cast<int>(r.running.size()) < s_.engine.max_seqs) {
      const int id = r.waiting.front();
      Seq& q = seqs_[static_cast<size_t>(id)];
      if (q.swapped) {
        if (!Reserve(r, q.blocks)) break;
        r.pending_io_s += q.blocks * block_bytes_ / s_.engine.host_link_bytes_per_s;
        q.swapped = false;
        r.waiting.pop_front();
        r.running.push_back(id);
        continue;  // decodes from the next iteration
      }
      if (q.computed == 0 && q.pinned == 0) {
        const int hit = MatchPrefix(r, q);
        q.computed = hit;
        if (q.queued) prefix_hit_ += hit;
      }
      const bool decoding = q.computed >= q.prompt;  // KV arrived from a prefill replica
      int tokens = decoding ? verify_tokens_ : q.prompt - q.computed;
      if (!decoding && tokens > f.budget) {
        // Unchunked, a prompt longer than the budget runs whole, alone.
        if (!s_.engine.chunked_prefill && !r.batch.empty()) break;
        if (s_.engine.chunked_prefill) tokens = f.budget;
      }
      if (!Grow(r, q, q.computed + tokens)) {
        if (q.computed > 0 && q.blocks == 0 && !decoding) {
          Unpin(r, q);  // give the pinned prefix back while it waits
          q.computed = 0;
        }
        break;
      }
      r.waiting.pop_front();
      r.running.push_back(id);
      if (q.queued) {
        queue_.Add(now - q.arrival);
        q.queued = false;
      }
      f.Take(r, id, q, tokens);
    }
  }

  void Schedule(int replica, double now) {
    Replica& r = replicas_[static_cast<size_t>(replica)];
    AccountIdle(r, now);
    r.batch.clear();
    Forming f;
    f.budget = s_.engine.max_batched_tokens;
    // Without chunked prefill, waiting prompts run first in iterations of their own and decodes
    // pause meanwhile (vLLM's original scheduler; the stalls Sarathi-Serve removes, Agrawal et
    // al., OSDI'24). With it, running sequences come first and prompts fill the token budget.
    if (!s_.engine.chunked_prefill) Admit(r, now, f);
    for (size_t i = 0; i < r.running.size() && f.budget > 0;) {
      if (!s_.engine.chunked_prefill && f.has_prefill) break;
      const int id = r.running[i];
      Seq& q = seqs_[static_cast<size_t>(id)];
      const bool decoding = q.computed >= q.prompt;
      const int tokens = decoding ? verify_tokens_ : std::min(q.prompt - q.computed, f.budget);
      bool ok = Grow(r, q, q.computed + tokens);
      while (!ok && decoding && r.running.back() != id) {
        Preempt(r, r.running.back());
        ok = Grow(r, q, q.computed + tokens);
      }
      if (!ok) {
        if (decoding) {
          Preempt(r, id);  // the newest itself: nothing else to free
          continue;
        }
        ++i;
        continue;
      }
      f.Take(r, id, q, tokens);
      ++i;
    }
    if (s_.engine.chunked_prefill) Admit(r, now, f);
    if (r.batch.empty()) {
      r.busy = false;
      if (r.state == State::kDraining && r.running.empty() && r.waiting.empty()) {
        r.state = State::kOff;
        --held_;
        NoteHeld(now);
      }
      return;
    }
    const IterationCost c = model_.Cost(f.b);
    // The drafter's gamma passes over the decoding sequences, without host overhead of their own
    // (as EstimateInference).
    double draft_s = 0, draft_busy_s = 0;
    if (draft_ && f.draft.tokens > 0) {
      IterationCost d = draft_->Cost(f.draft);
      d.overhead_s = 0;
      draft_s = s_.replica.speculation.draft_tokens * d.seconds();
      draft_busy_s = draft_s * IterationActivity(d, s_.replica.activity);
    }
    const double dt = c.seconds() + draft_s + r.pending_io_s;
    r.pending_io_s = 0;
    const double above = span_w_ * c.activity * c.seconds() / dt + span_w_ * draft_busy_s / dt;
    AddEnergy(now, now + dt, above);
    PhaseEnergy& ph = f.has_prefill ? (f.has_decode ? mixed_ : prefill_) : decode_;
    ph.replica_s += dt;
    ph.gpu_j += (idle_w_ + above) * dt;
    const double use = KvUse(r);
    kv_use_s_ += use * dt;
    kv_busy_s_ += dt;
    kv_peak_ = std::max(kv_peak_, use);
    r.load_s += static_cast<double>(r.running.size() + r.waiting.size()) * dt;
    r.busy = true;
    r.since = now + dt;
    Push(now + dt, EventKind::kIterationEnd, replica, r.gen);
  }

  // --- The cap (ServiceSetup::replica_cap) ------------------------------------------------
  void ApplyCap(int step, double now) {
    const int fleet = s_.replica_cap[static_cast<size_t>(step)].replicas;
    const int n = static_cast<int>(replicas_.size());
    allowed_ = std::clamp(static_cast<int>(std::lround(fleet / scale_)), 0, n);
    for (int i = n; i-- > 0 && held_ > allowed_;) {
      if (replicas_[static_cast<size_t>(i)].state != State::kOff) TakeOff(i, now);
    }
    // Without autoscaling every replica is wanted; with it, those the last decision wanted and
    // the cap held back. They serve at once: the cap counts replicas serving, so a reload after a
    // failure is already behind them.
    const int want = s_.autoscale.enabled ? unclamped_want_ : n;
    for (int i = 0; i < n && held_ < std::min(allowed_, want); ++i) {
      Replica& r = replicas_[static_cast<size_t>(i)];
      if (r.state != State::kOff) continue;
      ++held_;
      r.state = State::kActive;
    }
    NoteHeld(now);
  }

  // The replica goes off now (not granted, or failed): its sequences lose their KV cache and are
  // routed again (recomputed from their prompt and output so far), or dropped when no replica
  // serves.
  void TakeOff(int i, double now) {
    Replica& r = replicas_[static_cast<size_t>(i)];
    std::vector<int> orphans(r.running.begin(), r.running.end());
    orphans.insert(orphans.end(), r.waiting.begin(), r.waiting.end());
    for (int id : orphans) {
      Seq& q = seqs_[static_cast<size_t>(id)];
      if (q.swapped) {
        q.blocks = 0;  // its copy on the host goes with the replica
        q.swapped = false;
      }
      Release(r, q);
      q.prompt = req_.requests[static_cast<size_t>(q.req)].prompt_tokens + q.generated;
      q.computed = 0;
      r.outstanding -= q.charge;
      q.replica = -1;
    }
    r.running.clear();
    r.waiting.clear();
    r.batch.clear();
    r.busy = false;
    r.cache.clear();
    r.lru.clear();
    r.tier.clear();  // the replica's host memory goes with it
    r.tier_lru.clear();
    r.free_blocks = total_blocks_;
    r.cached_blocks = 0;
    r.pending_io_s = 0;
    r.state = State::kOff;
    r.since = now;
    ++r.gen;  // its iteration in flight and its spin-up are void
    --held_;
    for (int id : orphans) {
      Seq& q = seqs_[static_cast<size_t>(id)];
      const int d = Route(q.req, Role::kBoth);
      if (d < 0) {
        ++dropped_;
        --live_;
        free_seqs_.push_back(id);
        continue;
      }
      replicas_[static_cast<size_t>(d)].outstanding += q.charge;
      Enqueue(d, id, now);
    }
  }

  void AccountIdle(Replica& r, double now) {
    if (!r.busy && now > r.since) {
      idle_.replica_s += now - r.since;
      idle_.gpu_j += idle_w_ * (now - r.since);
    }
    r.since = std::max(r.since, now);
  }

  void IterationEnd(int replica, double now) {
    Replica& r = replicas_[static_cast<size_t>(replica)];
    r.busy = false;
    bool removed = false;
    for (const auto& [id, tokens] : r.batch) {
      Seq& q = seqs_[static_cast<size_t>(id)];
      const Request& rq = req_.requests[static_cast<size_t>(q.req)];
      const bool prefill = q.computed < q.prompt;
      int gained = 1;
      if (prefill) {
        q.computed += tokens;
        prefill_tokens_ += tokens;
        if (q.computed < q.prompt) continue;
        CachePrompt(r, q);
      } else {
        // Speculation: each step gains E tokens on average, emitted as whole tokens by carrying
        // the fraction (deterministic; the acceptance's spread is not drawn).
        q.accepted += tokens_per_step_;
        gained = std::clamp(static_cast<int>(q.accepted + 1e-9), 1,
                            std::max(1, rq.output_tokens - q.generated));
        q.accepted = std::max(0.0, q.accepted - gained);
        q.computed += gained;
      }
      q.generated += gained;
      if (q.first_token < 0) {
        q.first_token = now;
        ttft_.Add(now - q.arrival);
        ttft_class_[static_cast<size_t>(req_.requests[static_cast<size_t>(q.req)].cls)].Add(
            now - q.arrival);
      } else {
        itl_.Add((now - q.last_token) / gained, gained);  // tokens of one step: evenly spaced
      }
      q.last_token = now;
      if (q.generated >= rq.output_tokens) {
        Done(r, id, now);
        removed = true;
      } else if (r.role == Role::kPrefill) {
        HandOff(r, id, now);
        removed = true;
      }
    }
    if (removed) {
      std::erase_if(r.running, [&](int id) { return seqs_[static_cast<size_t>(id)].replica < 0; });
    }
    Schedule(replica, now);
  }

  // The prompt's KV goes to a decode replica over the prefill replica's NICs.
  void HandOff(Replica& r, int id, double now) {
    Seq& q = seqs_[static_cast<size_t>(id)];
    // Each GPU sends its own K/V over its NIC: the most loaded stage's GPUs take longest; the
    // lighter stages of an uneven pipeline send less (kv_stored_fraction).
    const double bytes = q.computed * model_.kv_bytes_per_token() * gpus_;
    const double start = std::max(now, r.nic_free);
    const double transfer_s = bytes / (s_.pd.link_bytes_per_s * gpus_);
    double end = start + s_.pd.link_latency_s + transfer_s;
    const auto index = static_cast<size_t>(&r - replicas_.data());
    if (index < s_.pd.prefill_link_health.size() && !s_.pd.prefill_link_health[index].empty()) {
      end = TransferEndS(start + s_.pd.link_latency_s, bytes / gpus_, s_.pd.link_bytes_per_s,
                         s_.pd.prefill_link_health[index]);
      // The fault's delay against the same transfers on a healthy link, queueing behind a slowed
      // one included (a prefill replica's hand-offs do not wait for its link, so their times are
      // those of the healthy run).
      const double healthy = std::max(now, r.nic_free_healthy) + s_.pd.link_latency_s + transfer_s;
      r.nic_free_healthy = healthy;
      // Lost: a fault keeps it from arriving by the end of the run (its link, or the one it
      // queues behind, is down or crawling to the end); what a healthy link would not have
      // delivered by then either is no fault's.
      if (end > s_.end_s || std::isinf(end)) {
        if (healthy <= s_.end_s) {
          ++kv_slowed_;
          ++kv_lost_;
        }
      } else if (end > healthy) {
        ++kv_slowed_;
        kv_delay_s_ += end - healthy;
      }
    }
    r.nic_free = end;
    kv_transfer_bytes_ += bytes * model_.kv_stored_fraction();
    r.outstanding -= q.charge;
    Release(r, q);
    q.replica = -1;                                               // in flight
    if (std::isfinite(end)) Push(end, EventKind::kKvArrive, id);  // else never arrives
  }

  void Done(Replica& r, int id, double now) {
    Seq& q = seqs_[static_cast<size_t>(id)];
    const Request& rq = req_.requests[static_cast<size_t>(q.req)];
    e2e_.Add(now - q.arrival);
    const double tpot =
        rq.output_tokens > 1 ? (q.last_token - q.first_token) / (rq.output_tokens - 1) : 0.0;
    if (rq.output_tokens > 1) tpot_.Add(tpot);
    if (q.first_token - q.arrival <= s_.slo.ttft_s && tpot <= s_.slo.tpot_s) ++slo_met_;
    ++completed_;
    prompt_tokens_ += rq.prompt_tokens;
    output_tokens_ += rq.output_tokens;
    last_done_ = std::max(last_done_, now);
    r.outstanding -= q.charge;
    Release(r, q);
    q.replica = -1;
    free_seqs_.push_back(id);
    --live_;
    if (rq.next >= 0) Push(now + rq.gap_s, EventKind::kRelease, rq.next);
  }

  void Handle(const Event& e) {
    switch (e.kind) {
      case EventKind::kIterationEnd:
        if (e.gen == replicas_[static_cast<size_t>(e.a)].gen) IterationEnd(e.a, e.t);
        break;
      case EventKind::kCap:
        ApplyCap(e.a, e.t);
        break;
      case EventKind::kReady: {
        Replica& r = replicas_[static_cast<size_t>(e.a)];
        if (e.gen != r.gen) break;
        AccountIdle(r, e.t);
        if (r.state == State::kStarting) r.state = State::kActive;
        break;
      }
      case EventKind::kKvArrive: {
        Seq& q = seqs_[static_cast<size_t>(e.a)];
        const Request& rq = req_.requests[static_cast<size_t>(q.req)];
        const int d = Route(q.req, Role::kDecode);
        FW_CHECK(d >= 0, "no decode replica");
        q.pinned = 0;
        q.charge = rq.output_tokens;
        replicas_[static_cast<size_t>(d)].outstanding += q.charge;
        Enqueue(d, e.a, e.t);
        break;
      }
      case EventKind::kRelease: {
        // A session's next call: it goes through the router like any request.
        --pending_releases_;
        Arrive(e.a, e.t);
        break;
      }
      case EventKind::kAutoscale:
        Autoscale(e.t);
        break;
    }
  }

  void Autoscale(double now) {
    const Autoscaling& a = s_.autoscale;
    int active = 0, starting = 0;
    double load = 0;
    for (Replica& r : replicas_) {
      load += r.load_s;
      r.load_s = 0;
      if (r.state == State::kActive) ++active;
      if (r.state == State::kStarting) ++starting;
    }
    const int lo = std::max(1, static_cast<int>(std::lround(a.min_replicas / scale_)));
    const int hi = static_cast<int>(replicas_.size());
    unclamped_want_ = std::clamp(
        static_cast<int>(
            std::ceil(load / (a.target_utilization * s_.engine.max_seqs * a.interval_s) - 1e-9)),
        lo, hi);
    const int want = std::min(unclamped_want_, allowed_);
    // Scale down only to the most any decision of the last five intervals wanted (the
    // stabilization window of Kubernetes' autoscaler, 5 minutes by default), so bursts do not
    // make replicas flap.
    recent_want_.push_back(want);
    if (recent_want_.size() > 5) recent_want_.pop_front();
    const int keep = *std::max_element(recent_want_.begin(), recent_want_.end());
    if (want > active + starting) {
      for (size_t i = 0; i < replicas_.size() && active + starting < want; ++i) {
        Replica& r = replicas_[i];
        if (r.state == State::kOff || r.state == State::kDraining) {
          ++scale_events_;
          if (r.state == State::kDraining) {
            r.state = State::kActive;
            ++active;
          } else {
            r.state = State::kStarting;
            ++starting;
            ++held_;
            Push(now + a.spin_up_s, EventKind::kReady, static_cast<int>(i), r.gen);
          }
        }
      }
    } else if (keep < active) {
      for (size_t i = replicas_.size(); i-- > 0 && active > keep;) {
        Replica& r = replicas_[i];
        if (r.state != State::kActive) continue;
        ++scale_events_;
        --active;
        r.state = r.busy || !r.waiting.empty() ? State::kDraining : State::kOff;
        held_ -= r.state == State::kOff ? 1 : 0;
      }
    }
    NoteHeld(now);
    int serving = 0;
    for (const Replica& r : replicas_) serving += r.state != State::kOff ? 1 : 0;
    replicas_peak_ = std::max(replicas_peak_, serving);
    Push(now + a.interval_s, EventKind::kAutoscale, 0);
  }

  ServingResult Finish() {
    ServingResult out;
    const double k = scale_;
    out.replicas_simulated = static_cast<int>(replicas_.size());
    out.scale = k;
    out.requests = arrived_ * k;
    out.completed = completed_ * k;
    out.slo_met = slo_met_ * k;
    out.unfinished = (static_cast<double>(live_) + dropped_) * k;
    out.prompt_tokens = prompt_tokens_ * k;
    out.output_tokens = output_tokens_ * k;
    out.prefill_tokens = prefill_tokens_ * k;
    out.prefix_hit_tokens = prefix_hit_ * k;
    out.offload_hit_tokens = offload_hit_ * k;
    out.offload_read_bytes = offload_read_bytes_ * k;
    out.preemptions = preemptions_ * k;
    out.ttft = ttft_.Summary();
    out.itl = itl_.Summary();
    out.e2e = e2e_.Summary();
    out.queue = queue_.Summary();
    out.tpot = tpot_.Summary();
    out.slo_attainment = completed_ > 0 ? slo_met_ / completed_ : 0.0;
    const double first = s_.start_s;
    out.span_s = std::max(0.0, last_done_ - first);
    if (out.span_s > 0) {
      out.goodput_rps = out.slo_met / out.span_s;
      out.throughput_rps = out.completed / out.span_s;
      out.output_tokens_per_s = out.output_tokens / out.span_s;
    }
    out.kv_use_mean = kv_busy_s_ > 0 ? kv_use_s_ / kv_busy_s_ : 0.0;
    out.kv_use_peak = kv_peak_;
    out.kv_capacity_tokens = static_cast<double>(total_blocks_) * s_.engine.block_tokens;
    // Replicas idle to the end of the service (or of the work, when it has no end).
    const double end = std::isfinite(s_.end_s) ? s_.end_s : std::max(last_done_, first);
    for (Replica& r : replicas_) AccountIdle(r, end);
    auto scaled = [k](PhaseEnergy p) {
      p.replica_s *= k;
      p.gpu_j *= k;
      return p;
    };
    out.prefill = scaled(prefill_);
    out.decode = scaled(decode_);
    out.mixed = scaled(mixed_);
    out.idle = scaled(idle_);
    out.gpu_energy_j = out.prefill.gpu_j + out.decode.gpu_j + out.mixed.gpu_j + out.idle.gpu_j;
    out.energy_per_output_token_j =
        out.output_tokens > 0 ? out.gpu_energy_j / out.output_tokens : 0;
    // With autoscaling, the replicas held over time (replicas_held's area, to the end): counting
    // each decision's replicas for the interval after it left out the min_replicas that held
    // from the start to the first decision, and kept a draining replica to the next decision.
    NoteHeld(std::max(end, held_since_));
    out.replica_hours =
        (s_.autoscale.enabled ? held_s_ : (end - first) * static_cast<double>(replicas_.size())) *
        k / 3600.0;
    out.replicas_peak =
        s_.autoscale.enabled ? static_cast<int>(std::lround(replicas_peak_ * k)) : s_.replicas;
    out.scale_events = static_cast<int>(std::lround(scale_events_ * k));
    out.kv_transfer_bytes = kv_transfer_bytes_ * k;
    out.kv_transfers_slowed = kv_slowed_ * k;
    out.kv_fault_delay_s = kv_delay_s_ * k;
    out.kv_transfers_lost = kv_lost_ * k;
    out.replicas_held = held_steps_;
    out.gpus = s_.replicas * gpus_;
    out.bin_s = s_.bin_s;
    out.gpu_power_w.resize(power_j_.size());
    const double all_idle = idle_w_ * s_.replicas;
    for (size_t i = 0; i < power_j_.size(); ++i) {
      const double from = s_.start_s + static_cast<double>(i) * s_.bin_s;
      const double width = std::min(s_.bin_s, s_.end_s - from);
      out.gpu_power_w[i] = all_idle + power_j_[i] * k / width;
    }
    out.classes = req_.classes;
    for (const LatencyHistogram& h : ttft_class_) out.ttft_by_class.push_back(h.Summary());
    return out;
  }

  const ServiceSetup& s_;
  const RequestSet& req_;
  IterationModel model_;
  RngStream rng_;
  std::optional<IterationModel> draft_;  // speculation with a draft model or MTP module
  int verify_tokens_ = 1;                // tokens a decode puts through the target: gamma + 1
  double tokens_per_step_ = 1;           // E (speculative.h)
  int gpus_ = 1;
  double idle_w_ = 0, span_w_ = 0;
  double block_bytes_ = 0;
  int total_blocks_ = 0, hash_blocks_ = 0;
  int64_t tier_blocks_ = 0;  // prefix blocks the offload tier holds per replica
  double offload_hit_ = 0, offload_read_bytes_ = 0;
  double scale_ = 1;
  std::vector<Replica> replicas_;
  std::vector<Seq> seqs_;
  std::vector<int> free_seqs_;
  std::priority_queue<Event, std::vector<Event>, std::greater<>> events_;
  uint64_t order_ = 0;
  int rr_ = 0;
  int64_t live_ = 0, pending_releases_ = 0;
  double arrived_ = 0, dropped_ = 0, completed_ = 0, slo_met_ = 0;
  double prompt_tokens_ = 0, output_tokens_ = 0, prefill_tokens_ = 0, prefix_hit_ = 0;
  double preemptions_ = 0, kv_transfer_bytes_ = 0;
  double kv_slowed_ = 0, kv_delay_s_ = 0, kv_lost_ = 0;
  double last_done_ = 0;
  LatencyHistogram ttft_, itl_, e2e_, queue_, tpot_;
  std::vector<LatencyHistogram> ttft_class_;
  PhaseEnergy prefill_, decode_, mixed_, idle_;
  double kv_use_s_ = 0, kv_busy_s_ = 0, kv_peak_ = 0;
  std::vector<double> power_j_;  // per bin, energy above idle of the simulated replicas
  double held_s_ = 0;            // replicas held x time to held_since_ (NoteHeld)
  double held_since_ = 0;
  int held_counted_ = 0;  // held_ from held_since_ on
  int replicas_peak_ = 0, scale_events_ = 0;
  std::deque<int> recent_want_;
  int held_ = 0;                                   // replicas not off (starting, active, draining)
  int allowed_ = std::numeric_limits<int>::max();  // the cap now (replicas simulated)
  int unclamped_want_ = 0;                         // the last autoscaling decision before the cap
  std::vector<ReplicaStep> held_steps_;
};

constexpr std::pair<Routing, std::string_view> kRoutingNames[] = {
    {Routing::kRoundRobin, "round_robin"},
    {Routing::kLeastTokens, "least_tokens"},
    {Routing::kPrefixAware, "prefix_aware"}};

}  // namespace

std::string_view RoutingName(Routing r) {
  for (const auto& [value, name] : kRoutingNames) {
    if (value == r) return name;
  }
  return "";
}

std::optional<Routing> RoutingFromName(std::string_view name) {
  for (const auto& [value, n] : kRoutingNames) {
    if (n == name) return value;
  }
  return std::nullopt;
}

LatencyHistogram::LatencyHistogram() : bins_(kHistogramBins, 0.0) {}

void LatencyHistogram::Add(double seconds, double weight) {
  if (!(seconds == last_seconds_)) {  // NaN: computed each time, as it always was
    const double v = std::max(seconds, kHistogramMin);
    last_bin_ = static_cast<size_t>(
        std::min(kHistogramBins - 1,
                 static_cast<int>(std::log(v / kHistogramMin) / std::log(kHistogramRatio))));
    last_seconds_ = seconds;
  }
  bins_[last_bin_] += weight;
  count_ += weight;
  sum_ += weight * seconds;
  max_ = std::max(max_, seconds);
}

Percentiles LatencyHistogram::Summary() const {
  Percentiles p;
  if (count_ <= 0) return p;
  p.count = count_;
  p.mean = sum_ / count_;
  p.max = max_;
  auto at = [&](double q) {
    const double target = q * count_;
    double seen = 0;
    for (size_t i = 0; i < bins_.size(); ++i) {
      seen += bins_[i];
      if (seen >= target) {
        // The bin's geometric middle.
        return kHistogramMin * std::pow(kHistogramRatio, static_cast<double>(i) + 0.5);
      }
    }
    return kHistogramMin * std::pow(kHistogramRatio, kHistogramBins);
  };
  p.p50 = at(0.50);
  p.p90 = at(0.90);
  p.p99 = at(0.99);
  return p;
}

std::string ServiceProblem(const ServiceSetup& s) {
  const InferenceSetup& r = s.replica;
  if (!r.gpu.Peak(r.dtype)) return r.gpu.name + " has no tensor-core path for this data type";
  if (const std::string mla = MlaTensorParallelProblem(r.model, r.tp); !mla.empty()) return mla;
  if (!r.model.mla.enabled() && r.model.attention_heads % r.tp != 0) {
    return "tp " + std::to_string(r.tp) + " does not divide the model's " +
           std::to_string(r.model.attention_heads) + " attention heads";
  }
  if (r.pp > r.model.layers) {
    return "pp " + std::to_string(r.pp) + " is more pipeline stages than the model's " +
           std::to_string(r.model.layers) + " layers: each stage needs at least one";
  }
  const std::string spec = SpeculationProblem(r.model, r.speculation, r.tp, r.pp);
  if (!spec.empty()) return spec;
  if (std::string tbo = TwoBatchOverlapProblem(r); !tbo.empty()) return tbo;
  if (s.pd.prefill_replicas >= s.replicas) {
    return "prefill_replicas must leave at least one decode replica";
  }
  if (s.pd.prefill_replicas > 0 && s.autoscale.enabled) {
    return "autoscaling of disaggregated services is not modelled";
  }
  if (!s.pd.prefill_link_health.empty() && s.sample_replicas > 0 &&
      s.sample_replicas < s.replicas) {
    return "faults on prefill replicas' links need every replica simulated (sample_replicas)";
  }
  InferenceSetup one = r;
  one.batch = one.prompt_tokens = one.output_tokens = 1;
  const InferenceEstimate e = EstimateInference(one);
  const double room = ToBytes(r.gpu.hbm_capacity) * s.engine.memory_fraction -
                      ToBytes(e.weights_per_gpu) - ToBytes(kRuntimeReserved);
  if (room < ToBytes(e.kv_bytes_per_token) * s.engine.block_tokens * 64) {
    return "the weights (" + std::to_string(ToBytes(e.weights_per_gpu) / 1e9).substr(0, 6) +
           " GB per GPU) leave no room for a KV cache in " +
           std::to_string(s.engine.memory_fraction * ToBytes(r.gpu.hbm_capacity) / 1e9)
               .substr(0, 6) +
           " GB; use more tensor or pipeline parallelism, fp8, or a larger GPU";
  }
  return "";
}

double TransferEndS(double start_s, double bytes, double bytes_per_s,
                    const std::vector<LinkHealthStep>& health) {
  // The step in force at start_s (healthy before the first), then step by step until the bytes
  // are through.
  auto next = std::upper_bound(health.begin(), health.end(), start_s,
                               [](double t, const LinkHealthStep& h) { return t < h.t_s; });
  double h = next == health.begin() ? 1.0 : std::prev(next)->health;
  double t = start_s;
  double left = bytes;
  while (true) {
    const double until = next == health.end() ? std::numeric_limits<double>::infinity() : next->t_s;
    if (h > 0) {
      const double need = left / (bytes_per_s * h);
      if (t + need <= until) return t + need;
      left -= bytes_per_s * h * (until - t);
    }
    if (next == health.end()) return std::numeric_limits<double>::infinity();
    t = until;
    h = next->health;
    ++next;
  }
}

ServingResult Serve(const ServiceSetup& s, const RequestSet& requests, uint64_t seed,
                    const std::atomic<bool>* cancel) {
  FW_CHECK(ServiceProblem(s).empty(), ServiceProblem(s));
  FW_CHECK(s.engine.block_tokens >= 1 && requests.hash_block_tokens % s.engine.block_tokens == 0,
           "engine blocks must divide the prefix blocks");
  Simulator sim(s, requests, seed);
  return sim.Run(cancel);
}

}  // namespace firstwall::workload
