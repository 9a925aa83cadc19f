#include "scheduler/scheduler.h"

#include <algorithm>
#include <array>
#include <bit>
#include <limits>
#include <map>
#include <memory_resource>
#include <set>
#include <tuple>
#include <utility>

#include "core/error.h"

namespace firstwall::scheduler {

std::string_view PolicyName(Policy p) {
  switch (p) {
    case Policy::kFcfs:
      return "fcfs";
    case Policy::kPriority:
      return "priority";
    case Policy::kSjf:
      return "sjf";
    case Policy::kEasyBackfill:
      return "easy";
  }
  return "?";
}
namespace {

constexpr uint64_t Bit(size_t i) { return uint64_t{1} << i; }

// A set of small integers as a bitset with a summary word per 64 words, so the next or previous
// member is found in O(n / 4096 + 1) words even when the set is sparse.
class Bits {
 public:
  void Resize(int n) {
    n_ = n;
    words_.assign((static_cast<size_t>(n) + 63) / 64, 0);
    summary_.assign((words_.size() + 63) / 64 + 1, 0);
    count_ = 0;
  }
  int count() const { return count_; }
  bool Test(int i) const { return (words_[static_cast<size_t>(i) >> 6] >> (i & 63)) & 1U; }
  void Set(int i) {
    const size_t w = static_cast<size_t>(i) >> 6;
    if (words_[w] == 0) summary_[w >> 6] |= Bit(w & 63);
    if ((words_[w] & Bit(i & 63)) == 0) ++count_;
    words_[w] |= Bit(i & 63);
  }
  void Reset(int i) {
    const size_t w = static_cast<size_t>(i) >> 6;
    if ((words_[w] & Bit(i & 63)) != 0) --count_;
    words_[w] &= ~Bit(i & 63);
    if (words_[w] == 0) summary_[w >> 6] &= ~Bit(w & 63);
  }
  // Lowest member >= from, or -1.
  int FindNext(int from) const {
    if (from < 0) from = 0;
    if (from >= n_) return -1;
    size_t w = static_cast<size_t>(from) >> 6;
    const uint64_t m = words_[w] & (~uint64_t{0} << (from & 63));
    if (m != 0) return static_cast<int>(w * 64 + std::countr_zero(m));
    ++w;
    if (w >= words_.size()) return -1;
    size_t s = w >> 6;
    uint64_t sm = summary_[s] & (~uint64_t{0} << (w & 63));
    while (sm == 0) {
      if (++s >= summary_.size()) return -1;
      sm = summary_[s];
    }
    const size_t nw = s * 64 + std::countr_zero(sm);
    if (nw >= words_.size()) return -1;
    return static_cast<int>(nw * 64 + std::countr_zero(words_[nw]));
  }
  // Highest member <= from, or -1.
  int FindPrev(int from) const {
    if (from >= n_) from = n_ - 1;
    if (from < 0) return -1;
    size_t w = static_cast<size_t>(from) >> 6;
    const uint64_t m = words_[w] & (~uint64_t{0} >> (63 - (from & 63)));
    if (m != 0) return static_cast<int>(w * 64 + 63 - std::countl_zero(m));
    if (w == 0) return -1;
    --w;
    size_t s = w >> 6;
    uint64_t sm = summary_[s] & (~uint64_t{0} >> (63 - (w & 63)));
    while (sm == 0) {
      if (s == 0) return -1;
      sm = summary_[--s];
    }
    const size_t nw = s * 64 + 63 - std::countl_zero(sm);
    return static_cast<int>(nw * 64 + 63 - std::countl_zero(words_[nw]));
  }

 private:
  int n_ = 0;
  int count_ = 0;
  std::vector<uint64_t> words_;
  std::vector<uint64_t> summary_;
};

// Free-node counts of one level's groups. Levels with many groups also bucket the groups by their
// count, so the best-fit group (smallest count >= need, lowest index) is two bitset look-ups;
// levels with few groups (the pod and cluster levels, whose groups are large) are scanned.
class LevelIndex {
 public:
  static constexpr int kScanGroups = 64;

  void Init(int size, int groups) {
    size_ = size;
    count_.assign(static_cast<size_t>(groups), 0);
    bucketed_ = groups > kScanGroups;
    if (!bucketed_) return;
    bucket_.assign(static_cast<size_t>(size) + 1, Bits());
    for (auto& b : bucket_) b.Resize(groups);
    nonempty_.Resize(size + 1);
    for (int g = 0; g < groups; ++g) bucket_[0].Set(g);
    nonempty_.Set(0);
  }
  int size() const { return size_; }
  int groups() const { return static_cast<int>(count_.size()); }
  int count(int g) const { return count_[static_cast<size_t>(g)]; }

  void Add(int g, int delta) {
    int& c = count_[static_cast<size_t>(g)];
    const int old = c;
    c += delta;
    FW_CHECK(c >= 0 && c <= size_, "a group's free-node count left its range");
    if (!bucketed_) return;
    Bits& from = bucket_[static_cast<size_t>(old)];
    from.Reset(g);
    if (from.count() == 0) nonempty_.Reset(old);
    bucket_[static_cast<size_t>(c)].Set(g);
    nonempty_.Set(c);
  }

  // The group with the fewest free nodes >= need (lowest index among equals), or -1.
  int BestFit(int need) const {
    if (need > size_) return -1;
    if (bucketed_) {
      const int c = nonempty_.FindNext(need);
      return c < 0 ? -1 : bucket_[static_cast<size_t>(c)].FindNext(0);
    }
    int best = -1;
    for (int g = 0; g < groups(); ++g) {
      if (count(g) >= need && (best < 0 || count(g) < count(best))) best = g;
    }
    return best;
  }

  // Groups by free count, most first (lowest index among equals), until their counts reach
  // `need`; the last one is then swapped for the group that fits the remainder best. Returns
  // false (and leaves `picks` partial) when all free nodes together fall short.
  bool Spread(int need, std::vector<int>& picks) const {
    picks.clear();
    int got = 0;
    if (bucketed_) {
      for (int c = nonempty_.FindPrev(size_); c > 0 && got < need; c = nonempty_.FindPrev(c - 1)) {
        const Bits& b = bucket_[static_cast<size_t>(c)];
        for (int g = b.FindNext(0); g >= 0 && got < need; g = b.FindNext(g + 1)) {
          picks.push_back(g);
          got += c;
        }
      }
    } else {
      order_.clear();
      for (int g = 0; g < groups(); ++g) {
        if (count(g) > 0) order_.push_back(g);
      }
      std::sort(order_.begin(), order_.end(), [this](int a, int b) {
        return count(a) != count(b) ? count(a) > count(b) : a < b;
      });
      for (int g : order_) {
        if (got >= need) break;
        picks.push_back(g);
        got += count(g);
      }
    }
    if (got < need) return false;
    // The groups not picked all have at most the last pick's count, so the best fit for the
    // remainder is the smallest count >= remainder among them.
    const int last = picks.back();
    const int remainder = need - (got - count(last));
    int better = -1;
    if (bucketed_) {
      const int c = nonempty_.FindNext(remainder);
      if (c >= 0 && c < count(last)) better = bucket_[static_cast<size_t>(c)].FindNext(0);
    } else {
      for (size_t i = picks.size(); i < order_.size(); ++i) {
        const int g = order_[i];
        if (count(g) >= remainder && (better < 0 || count(g) < count(better))) better = g;
      }
      if (better >= 0 && count(better) >= count(last)) better = -1;
    }
    if (better >= 0) picks.back() = better;
    return true;
  }

 private:
  int size_ = 1;
  bool bucketed_ = false;
  std::vector<int> count_;
  std::vector<Bits> bucket_;  // [count]: the groups with that many free nodes
  Bits nonempty_;             // counts whose bucket has a group
  mutable std::vector<int> order_;
};

enum class State : uint8_t { kIdle, kQueued, kRunning };

struct QueueKey {
  int64_t a = 0;
  int64_t b = 0;
  JobId job = 0;
  auto operator<=>(const QueueKey&) const = default;
};

// Trees whose nodes come from the scheduler's pool; each job keeps iterators to its entries, so
// removing it costs no search.
using Queue = std::pmr::set<QueueKey>;
using ByEnd = std::pmr::set<std::pair<int64_t, JobId>>;          // (expected end ns, job)
using Victims = std::pmr::set<std::tuple<int, int64_t, JobId>>;  // (priority, -start ns, job)

struct JobState {
  State state = State::kIdle;
  int need = 0;     // nodes
  int tenant = -1;  // index into tenants_, -1: unlimited
  QueueKey key;
  SimTime start;
  SimTime expected_end;
  std::vector<int> nodes;
  Queue::iterator in_queue;
  ByEnd::iterator in_by_end;
  Victims::iterator in_victims;
};

struct TenantState {
  int64_t nominal = 0;
  int64_t borrowing_limit = std::numeric_limits<int64_t>::max();
  int cohort = -1;
  int64_t used = 0;
};

struct CohortState {
  int64_t nominal = 0;
  int64_t used = 0;
};

}  // namespace

struct Scheduler::Impl {
  Impl(const Topology& t, SchedulerConfig c, const std::vector<JobSpec>& j)
      : topo(t), config(std::move(c)), jobs(j), queue(&pool), by_end(&pool), victims(&pool) {
    FW_CHECK(topo.nodes >= 1 && topo.gpus_per_node >= 1, "a cluster needs nodes and GPUs");
    FW_CHECK(config.spare_nodes >= 0 && config.spare_nodes < topo.nodes,
             "spare nodes must leave at least one node for jobs");
    FW_CHECK(config.backfill_max_jobs >= 0 && config.max_preemption_candidates >= 0,
             "scheduler bounds must not be negative");
    for (int l = 0; l < kLevels; ++l) {
      const auto level = static_cast<Level>(l);
      group_size[static_cast<size_t>(l)] = topo.GroupSize(level);
      levels[static_cast<size_t>(l)].Init(topo.GroupSize(level), topo.Groups(level));
    }
    free_nodes.Resize(topo.nodes);
    spares.Resize(topo.nodes);
    up.assign(static_cast<size_t>(topo.nodes), 1);
    owner.assign(static_cast<size_t>(topo.nodes), -1);
    for (int n = 0; n < topo.nodes; ++n) {
      if (n >= topo.nodes - config.spare_nodes) {
        spares.Set(n);
      } else {
        MarkFree(n, true);
      }
    }
    std::map<std::string, int> cohort_index;
    for (const TenantQuota& q : config.quotas) {
      FW_CHECK(q.nominal_gpus >= 0, "a nominal quota must not be negative");
      FW_CHECK(!q.borrowing_limit_gpus || *q.borrowing_limit_gpus >= 0,
               "a borrowing limit must not be negative");
      FW_CHECK(tenant_index.count(q.tenant) == 0, "a tenant's quota is declared twice");
      TenantState t_state;
      t_state.nominal = q.nominal_gpus;
      if (q.borrowing_limit_gpus) t_state.borrowing_limit = *q.borrowing_limit_gpus;
      if (!q.cohort.empty()) {
        auto [it, added] = cohort_index.try_emplace(q.cohort, static_cast<int>(cohorts.size()));
        if (added) cohorts.push_back({});
        t_state.cohort = it->second;
        cohorts[static_cast<size_t>(it->second)].nominal += q.nominal_gpus;
      }
      tenant_index.emplace(q.tenant, static_cast<int>(tenants.size()));
      tenants.push_back(t_state);
    }
  }

  const LevelIndex& level(Level l) const { return levels[static_cast<size_t>(l)]; }
  int free_count() const { return free_nodes.count(); }
  JobState& st(JobId j) { return states[static_cast<size_t>(j)]; }
  const JobSpec& spec(JobId j) const { return jobs[static_cast<size_t>(j)]; }
  int64_t Charge(const JobState& s) const {
    return static_cast<int64_t>(s.need) * topo.gpus_per_node;
  }

  // A node joins or leaves the free set (up, not allocated, not a spare).
  void MarkFree(int n, bool is_free) {
    if (free_nodes.Test(n) == is_free) return;
    if (is_free) {
      free_nodes.Set(n);
    } else {
      free_nodes.Reset(n);
    }
    ++version;
    const int step = is_free ? 1 : -1;
    for (int l = 0; l < kLevels; ++l) {
      levels[static_cast<size_t>(l)].Add(n / group_size[static_cast<size_t>(l)], step);
    }
  }

  bool QuotaOk(const JobState& s) const {
    if (s.tenant < 0) return true;
    const TenantState& t = tenants[static_cast<size_t>(s.tenant)];
    const int64_t want = Charge(s);
    if (t.cohort < 0) return t.used + want <= t.nominal;
    const CohortState& c = cohorts[static_cast<size_t>(t.cohort)];
    const int64_t limit = t.borrowing_limit == std::numeric_limits<int64_t>::max()
                              ? t.borrowing_limit
                              : t.nominal + t.borrowing_limit;
    return t.used + want <= limit && c.used + want <= c.nominal;
  }
  void ChargeQuota(const JobState& s, int sign) {
    if (s.tenant < 0) return;
    TenantState& t = tenants[static_cast<size_t>(s.tenant)];
    t.used += sign * Charge(s);
    if (t.cohort >= 0) cohorts[static_cast<size_t>(t.cohort)].used += sign * Charge(s);
  }

  // The lowest `k` free nodes in [lo, hi), appended to out.
  void TakeLowest(int lo, int hi, int k, std::vector<int>& out) const {
    for (int n = free_nodes.FindNext(lo); k > 0; n = free_nodes.FindNext(n + 1), --k) {
      FW_CHECK(n >= 0 && n < hi, "a group's free-node count disagrees with its free nodes");
      out.push_back(n);
    }
  }

  // Where `need` nodes would go under `rule` now (ascending in out), or false.
  bool Place(int need, PlacementRule rule, std::vector<int>& out) const {
    out.clear();
    if (need > free_count()) return false;
    const LevelIndex& lv = level(rule.level);
    const int size = lv.size();
    const int g = lv.BestFit(need);
    if (g >= 0) {
      TakeLowest(g * size, std::min((g + 1) * size, topo.nodes), need, out);
      return true;
    }
    if (rule.required) return false;
    if (!lv.Spread(need, picks)) return false;
    int left = need;
    for (int p : picks) {
      const int k = std::min(left, lv.count(p));
      TakeLowest(p * size, std::min((p + 1) * size, topo.nodes), k, out);
      left -= k;
    }
    std::sort(out.begin(), out.end());
    return true;
  }

  void Start(JobId j, SimTime now, std::vector<int>& nodes, Decisions& d) {
    JobState& s = st(j);
    queue.erase(s.in_queue);
    ++version;
    s.state = State::kRunning;
    s.start = now;
    const SimTime work = spec(j).work;
    s.expected_end = work >= SimTime::Never() - now ? SimTime::Never() : now + work;
    s.nodes = nodes;
    for (int n : nodes) {
      FW_CHECK(owner[static_cast<size_t>(n)] < 0, "a node was given to two jobs");
      owner[static_cast<size_t>(n)] = j;
      MarkFree(n, false);
    }
    ChargeQuota(s, +1);
    ++running_count;
    if (config.policy == Policy::kEasyBackfill) {
      s.in_by_end = by_end.insert({s.expected_end.ns(), j}).first;
    }
    if (config.policy == Policy::kPriority && spec(j).preemptible) {
      s.in_victims = victims.insert({spec(j).priority, -s.start.ns(), j}).first;
    }
    d.start.push_back({j, std::move(nodes)});
  }

  void Stop(JobId j) {
    JobState& s = st(j);
    dirty = true;
    ++version;
    for (int n : s.nodes) {
      owner[static_cast<size_t>(n)] = -1;
      if (up[static_cast<size_t>(n)]) {
        MarkFree(n, true);
      } else {
        --allocated_down;
      }
    }
    ChargeQuota(s, -1);
    --running_count;
    if (config.policy == Policy::kEasyBackfill) by_end.erase(s.in_by_end);
    if (config.policy == Policy::kPriority && spec(j).preemptible) victims.erase(s.in_victims);
    s.nodes.clear();
    s.state = State::kIdle;
  }

  // fcfs, sjf, priority: in queue order, stop at the first job within quota that cannot start
  // (the blocker).
  void ScheduleBlocking(SimTime now, Decisions& d) {
    blocker = -1;
    for (auto it = queue.begin(); it != queue.end();) {
      const JobId j = it->job;
      ++it;  // Start erases j's entry
      JobState& s = st(j);
      if (!QuotaOk(s)) continue;
      if (Place(s.need, spec(j).placement, scratch)) {
        Start(j, now, scratch, d);
        continue;
      }
      if (config.policy == Policy::kPriority && Preempt(j, d)) {
        FW_CHECK(Place(s.need, spec(j).placement, scratch), "preemption promised a fit");
        Start(j, now, scratch, d);
        continue;
      }
      blocker = j;
      break;
    }
  }

  // Whether the last decision still stands for every job but those submitted since: nothing was
  // released, no node changed, no expected end moved, and no new job sorts before the blocker.
  // Then the jobs examined last time would be refused again (resources only shrank, time only
  // moved on), and only the new ones need a look.
  bool OnlyNewJobsCanChange(SimTime now) const {
    if (!config.incremental || dirty || blocker < 0 ||
        states[static_cast<size_t>(blocker)].state != State::kQueued) {
      return false;
    }
    if (config.policy == Policy::kEasyBackfill && now >= reservation.shadow) return false;
    const QueueKey& bk = states[static_cast<size_t>(blocker)].key;
    for (JobId j : fresh) {
      const JobState& s = states[static_cast<size_t>(j)];
      if (s.state == State::kQueued && s.key < bk) return false;
    }
    return true;
  }

  // Frees the nodes of lower-priority preemptible jobs (lowest priority, latest start first) until
  // j fits, keeps only the victims it needs, and stops them. False (nothing changed) when even
  // the bounded candidate set does not make it fit.
  bool Preempt(JobId j, Decisions& d) {
    const JobSpec& js = spec(j);
    const int need = st(j).need;
    chosen.clear();
    // First by counts alone: the candidates' nodes and the free ones must reach the need.
    int reachable = free_count();
    for (auto it = victims.begin(); it != victims.end() && reachable < need; ++it) {
      if (std::get<0>(*it) >= js.priority ||
          static_cast<int>(chosen.size()) >= config.max_preemption_candidates) {
        break;
      }
      chosen.push_back(std::get<2>(*it));
      reachable += static_cast<int>(st(chosen.back()).nodes.size());
    }
    if (reachable < need) return false;
    // Then freeing them in turn until the rule is met, past the count if the rule needs it.
    bool fits = false;
    size_t tried = 0;
    for (auto it = victims.begin(); it != victims.end() && !fits; ++it) {
      if (std::get<0>(*it) >= js.priority ||
          tried >= static_cast<size_t>(config.max_preemption_candidates)) {
        break;
      }
      const JobId v = std::get<2>(*it);
      if (tried++ >= chosen.size()) chosen.push_back(v);
      SetTentativelyFree(v, true);
      fits = need <= free_count() && Place(need, js.placement, scratch);
    }
    chosen.resize(std::min(chosen.size(), tried));
    if (!fits) {
      for (JobId v : chosen) SetTentativelyFree(v, false);
      return false;
    }
    // Drop the victims that are not needed, the latest added (highest priority) first.
    kept.clear();
    for (size_t i = chosen.size(); i-- > 0;) {
      const JobId v = chosen[i];
      SetTentativelyFree(v, false);
      if (Place(need, js.placement, scratch)) continue;
      SetTentativelyFree(v, true);
      kept.push_back(v);
    }
    std::reverse(kept.begin(), kept.end());
    for (JobId v : kept) {
      SetTentativelyFree(v, false);  // Stop frees them again, with the job's bookkeeping
      Stop(v);
      d.preempt.push_back(v);
      d.preempted_for.push_back(j);
    }
    return true;
  }
  void SetTentativelyFree(JobId v, bool is_free) {
    for (int n : st(v).nodes) {
      if (up[static_cast<size_t>(n)]) MarkFree(n, is_free);
    }
  }

  // EASY backfill (Mu'alem & Feitelson 2001): start jobs in order while they fit; the first that
  // does not is the head and gets a reservation; later jobs start if they fit now and do not
  // delay it.
  void ScheduleEasy(SimTime now, Decisions& d) {
    auto it = queue.begin();
    blocker = -1;
    while (it != queue.end()) {
      const JobId j = it->job;
      ++it;
      JobState& s = st(j);
      if (!QuotaOk(s)) continue;
      if (Place(s.need, spec(j).placement, scratch)) {
        Start(j, now, scratch, d);
        continue;
      }
      blocker = j;
      break;
    }
    if (blocker < 0) return;
    reservation = Reserve(blocker, now);
    int looked = 0;
    while (it != queue.end() && free_count() > 0 && looked++ < config.backfill_max_jobs) {
      const JobId j = it->job;
      ++it;
      Backfill(j, now, d);
    }
  }

  // Starts j now if it fits and does not delay the head's reservation.
  void Backfill(JobId j, SimTime now, Decisions& d) {
    JobState& s = st(j);
    if (s.need > free_count()) return;
    const Reservation& r = reservation;
    const bool ends_before = spec(j).work <= r.shadow - now;
    // Counted over the whole cluster, a job that outlives the shadow time needs need <= extra.
    if (!ends_before && r.level == Level::kCluster && s.need > r.extra) return;
    if (!QuotaOk(s) || !Place(s.need, spec(j).placement, scratch)) return;
    if (!ends_before) {
      int inside = 0;
      for (int n : scratch) inside += topo.GroupOf(r.level, n) == r.group ? 1 : 0;
      if (inside > r.extra) return;
      reservation.extra -= inside;
    }
    Start(j, now, scratch, d);
  }

  // Looks only at the jobs submitted since the last decision (OnlyNewJobsCanChange), in queue
  // order.
  void ScheduleNew(SimTime now, Decisions& d) {
    if (config.policy != Policy::kEasyBackfill) return;  // they all sort behind the blocker
    std::sort(fresh.begin(), fresh.end(),
              [this](JobId a, JobId b) { return st(a).key < st(b).key; });
    for (JobId j : fresh) {
      if (free_count() == 0) break;
      if (st(j).state == State::kQueued) Backfill(j, now, d);
    }
  }

  struct Reservation {
    SimTime shadow = SimTime::Never();  // when the head can start at the latest
    Level level = Level::kCluster;
    int group = -1;  // where its nodes free up first (-1: never, so nothing delays it)
    int extra = 0;   // nodes of that group free at the shadow time beyond the head's need
  };
  Reservation Reserve(JobId head, SimTime now) {
    const JobSpec& hs = spec(head);
    Reservation r;
    r.level = hs.placement.required ? hs.placement.level : Level::kCluster;
    const LevelIndex& lv = level(r.level);
    const int need = st(head).need;
    if (delta.size() != static_cast<size_t>(lv.groups())) delta.assign(lv.groups(), 0);
    touched.clear();
    for (const auto& [end_ns, j] : by_end) {
      const std::vector<int>& nodes = st(j).nodes;
      if (r.level == Level::kCluster && allocated_down == 0) {
        // One group and every node up: the job's nodes all return to it.
        touched.assign(1, 0);
        delta[0] += static_cast<int>(nodes.size());
        if (lv.count(0) + delta[0] >= need) {
          r.group = 0;
          r.shadow = std::max(SimTime::FromNanoseconds(end_ns), now);
          r.extra = lv.count(0) + delta[0] - need;
          break;
        }
        continue;
      }
      for (int n : nodes) {
        if (!up[static_cast<size_t>(n)]) continue;
        const int g = topo.GroupOf(r.level, n);
        if (delta[static_cast<size_t>(g)]++ == 0) touched.push_back(g);
        const int at_end = lv.count(g) + delta[static_cast<size_t>(g)];
        if (r.group < 0 && at_end >= need) {
          r.group = g;
          r.shadow = std::max(SimTime::FromNanoseconds(end_ns), now);
        }
      }
      if (r.group >= 0) {
        r.extra = lv.count(r.group) + delta[static_cast<size_t>(r.group)] - need;
        break;
      }
    }
    for (int g : touched) delta[static_cast<size_t>(g)] = 0;
    return r;
  }

  const Topology topo;
  const SchedulerConfig config;
  const std::vector<JobSpec>& jobs;

  std::array<LevelIndex, kLevels> levels;
  std::array<int, kLevels> group_size{};
  Bits free_nodes;
  Bits spares;
  std::vector<uint8_t> up;
  std::vector<JobId> owner;

  int allocated_down = 0;  // nodes down while a running job holds them

  // FragmentedGpus is kept until the free nodes, the queue or the running set change.
  int64_t CountFragmentedNodes() const;
  uint64_t version = 0;
  mutable uint64_t fragmented_version = ~uint64_t{0};
  mutable int64_t fragmented = 0;

  // What the last decision left behind (OnlyNewJobsCanChange).
  bool dirty = true;         // something was released, a node changed or an expected end moved
  std::vector<JobId> fresh;  // submitted since the last decision
  JobId blocker = -1;        // the first job within quota that could not start (easy: the head)
  Reservation reservation;   // easy: the head's, its extra net of the jobs backfilled since

  std::vector<JobState> states;
  int running_count = 0;
  // Tree nodes are recycled, so a steady queue allocates nothing per job.
  std::pmr::unsynchronized_pool_resource pool;
  Queue queue;
  ByEnd by_end;     // easy: running jobs by expected end
  Victims victims;  // priority: preemptible running jobs, first victim first

  std::map<std::string, int> tenant_index;
  std::vector<TenantState> tenants;
  std::vector<CohortState> cohorts;

  // Reused scratch.
  std::vector<int> scratch;
  mutable std::vector<int> picks;
  std::vector<JobId> chosen;
  std::vector<JobId> kept;
  std::vector<int> delta;
  std::vector<int> touched;
};

Scheduler::Scheduler(const Topology& topology, SchedulerConfig config,
                     const std::vector<JobSpec>& jobs)
    : impl_(std::make_unique<Impl>(topology, std::move(config), jobs)) {}
Scheduler::~Scheduler() = default;
Scheduler::Scheduler(Scheduler&&) noexcept = default;
Scheduler& Scheduler::operator=(Scheduler&&) noexcept = default;

int Scheduler::NodesNeeded(const JobSpec& job) const {
  const int gpn = impl_->topo.gpus_per_node;
  return (std::max(job.gpus, 1) + gpn - 1) / gpn;
}

bool Scheduler::Admissible(const JobSpec& job) const {
  const Impl& m = *impl_;
  const int need = NodesNeeded(job);
  if (job.gpus < 1 || need > m.topo.nodes - m.config.spare_nodes) return false;
  if (job.placement.required && need > m.topo.GroupSize(job.placement.level)) return false;
  const auto t = m.tenant_index.find(job.tenant);
  if (t == m.tenant_index.end()) return true;
  // The most its tenant could ever hold: nominal plus borrowing, within the cohort's nominal.
  const TenantState& ts = m.tenants[static_cast<size_t>(t->second)];
  int64_t most = ts.nominal;
  if (ts.cohort >= 0) {
    const int64_t cohort = m.cohorts[static_cast<size_t>(ts.cohort)].nominal;
    most = ts.borrowing_limit == std::numeric_limits<int64_t>::max()
               ? cohort
               : std::min(cohort, ts.nominal + ts.borrowing_limit);
  }
  return static_cast<int64_t>(need) * m.topo.gpus_per_node <= most;
}

void Scheduler::Submit(JobId job, SimTime now) {
  Impl& m = *impl_;
  (void)now;  // the queue keeps JobSpec::submit as the order (see the header)
  FW_CHECK(job >= 0 && static_cast<size_t>(job) < m.jobs.size(),
           "submitted job is not in the list");
  if (m.states.size() < m.jobs.size()) m.states.resize(m.jobs.size());
  JobState& s = m.st(job);
  FW_CHECK(s.state == State::kIdle, "a job was submitted while queued or running");
  const JobSpec& spec = m.spec(job);
  FW_CHECK(Admissible(spec), "a job that can never fit was submitted: " + spec.name);
  s.need = NodesNeeded(spec);
  auto t = m.tenant_index.find(spec.tenant);
  s.tenant = t == m.tenant_index.end() ? -1 : t->second;
  switch (m.config.policy) {
    case Policy::kFcfs:
    case Policy::kEasyBackfill:
      s.key = {spec.submit.ns(), 0, job};
      break;
    case Policy::kSjf:
      s.key = {spec.work.ns(), spec.submit.ns(), job};
      break;
    case Policy::kPriority:
      s.key = {-static_cast<int64_t>(spec.priority), spec.submit.ns(), job};
      break;
  }
  s.state = State::kQueued;
  s.in_queue = m.queue.insert(s.key).first;
  ++m.version;
  m.fresh.push_back(job);
}

void Scheduler::Release(JobId job) {
  Impl& m = *impl_;
  if (job < 0 || static_cast<size_t>(job) >= m.states.size()) return;
  JobState& s = m.st(job);
  if (s.state == State::kRunning) {
    m.Stop(job);
  } else if (s.state == State::kQueued) {
    m.queue.erase(s.in_queue);
    ++m.version;
    s.state = State::kIdle;
    m.dirty = true;  // it may have been the blocker
  }
}

void Scheduler::SetNodeUp(int node, bool node_up) {
  Impl& m = *impl_;
  FW_CHECK(node >= 0 && node < m.topo.nodes, "node out of range");
  auto& u = m.up[static_cast<size_t>(node)];
  if ((u != 0) == node_up) return;
  u = node_up ? 1 : 0;
  m.dirty = true;
  const bool allocated = m.owner[static_cast<size_t>(node)] >= 0;
  if (allocated) m.allocated_down += node_up ? -1 : 1;
  if (!node_up) {
    if (m.spares.Test(node)) {
      m.spares.Reset(node);  // the pool is short until a repair refills it
      return;
    }
    m.MarkFree(node, false);
    int spare = m.spares.FindNext(node);
    if (spare < 0) spare = m.spares.FindNext(0);
    if (spare >= 0) {
      m.spares.Reset(spare);
      m.MarkFree(spare, true);
    }
    return;
  }
  if (allocated) return;
  if (m.spares.count() < m.config.spare_nodes) {
    m.spares.Set(node);
  } else {
    m.MarkFree(node, true);
  }
}

void Scheduler::SetExpectedEnd(JobId job, SimTime end) {
  Impl& m = *impl_;
  if (job < 0 || static_cast<size_t>(job) >= m.states.size()) return;
  JobState& s = m.st(job);
  if (s.state != State::kRunning) return;
  if (m.config.policy == Policy::kEasyBackfill && end != s.expected_end) {
    m.by_end.erase(s.in_by_end);
    s.in_by_end = m.by_end.insert({end.ns(), job}).first;
    m.dirty = true;
  }
  s.expected_end = end;
}

Decisions Scheduler::Schedule(SimTime now) {
  Impl& m = *impl_;
  Decisions d;
  // Nothing can start without a free node, except by preemption. The jobs submitted meanwhile
  // stay fresh unless the next decision looks at the whole queue anyway.
  if (m.queue.empty() || (m.free_count() == 0 && m.config.policy != Policy::kPriority)) {
    if (m.dirty) m.fresh.clear();
    return d;
  }
  if (m.OnlyNewJobsCanChange(now)) {
    m.ScheduleNew(now, d);
  } else if (m.config.policy == Policy::kEasyBackfill) {
    m.ScheduleEasy(now, d);
  } else {
    m.ScheduleBlocking(now, d);
  }
  m.fresh.clear();
  m.dirty = false;
  return d;
}

int64_t Scheduler::FreeGpus() const {
  return static_cast<int64_t>(impl_->free_count()) * impl_->topo.gpus_per_node;
}

int64_t Scheduler::FragmentedGpus() const {
  const Impl& m = *impl_;
  if (m.fragmented_version != m.version) {
    m.fragmented = m.CountFragmentedNodes() * m.topo.gpus_per_node;
    m.fragmented_version = m.version;
  }
  return m.fragmented;
}

int64_t Scheduler::Impl::CountFragmentedNodes() const {
  const Impl& m = *this;
  const int free = m.free_count();
  if (free == 0 || m.queue.empty()) return 0;
  // A pending job within quota whose rule is only preferred can use every free node once enough
  // are free; one with a required level can use the free nodes of the groups with room for it,
  // so per level only the smallest such need matters.
  constexpr int kNone = std::numeric_limits<int>::max();
  std::array<int, kLevels> required_need;
  required_need.fill(kNone);
  for (const QueueKey& k : m.queue) {
    const JobState& s = m.states[static_cast<size_t>(k.job)];
    if (!m.QuotaOk(s)) continue;
    const PlacementRule& rule = m.jobs[static_cast<size_t>(k.job)].placement;
    if (!rule.required) {
      if (s.need <= free) return 0;  // it could take any free node
      continue;
    }
    int& slot = required_need[static_cast<size_t>(rule.level)];
    slot = std::min(slot, s.need);
  }
  int levels_used = 0;
  int only = -1;
  for (int l = 0; l < kLevels; ++l) {
    if (required_need[static_cast<size_t>(l)] != kNone) {
      ++levels_used;
      only = l;
    }
  }
  int64_t unusable = 0;
  if (levels_used == 0) {
    unusable = free;
  } else if (levels_used == 1) {
    const LevelIndex& lv = m.levels[static_cast<size_t>(only)];
    const int need = required_need[static_cast<size_t>(only)];
    for (int g = 0; g < lv.groups(); ++g) {
      if (lv.count(g) < need) unusable += lv.count(g);
    }
  } else {
    for (int n = m.free_nodes.FindNext(0); n >= 0; n = m.free_nodes.FindNext(n + 1)) {
      bool usable = false;
      for (int l = 0; l < kLevels && !usable; ++l) {
        const int need = required_need[static_cast<size_t>(l)];
        usable = need != kNone && m.levels[static_cast<size_t>(l)].count(
                                      m.topo.GroupOf(static_cast<Level>(l), n)) >= need;
      }
      unusable += usable ? 0 : 1;
    }
  }
  return unusable;
}

int Scheduler::queued() const { return static_cast<int>(impl_->queue.size()); }
int Scheduler::running() const { return impl_->running_count; }

const std::vector<int>& Scheduler::NodesOf(JobId job) const {
  static const std::vector<int> kEmpty;
  const Impl& m = *impl_;
  if (job < 0 || static_cast<size_t>(job) >= m.states.size()) return kEmpty;
  return m.states[static_cast<size_t>(job)].nodes;
}

int Scheduler::GroupsSpanned(JobId job) const {
  const std::vector<int>& nodes = NodesOf(job);
  if (nodes.empty()) return 0;
  const Impl& m = *impl_;
  const Level l = m.jobs[static_cast<size_t>(job)].placement.level;
  int groups = 0;
  int last = -1;
  for (int n : nodes) {  // ascending, and groups are runs of consecutive nodes
    const int g = m.topo.GroupOf(l, n);
    if (g != last) ++groups;
    last = g;
  }
  return groups;
}

int Scheduler::SpareNodes() const { return impl_->spares.count(); }

}  // namespace firstwall::scheduler
