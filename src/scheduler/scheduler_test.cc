#include "scheduler/scheduler.h"

#include <gtest/gtest.h>

#include <map>
#include <queue>
#include <tuple>

#include "core/rng.h"

namespace firstwall::scheduler {
namespace {

SimTime Sec(int64_t s) { return SimTime::FromNanoseconds(s * 1'000'000'000); }

// One-level-per-size topology: 8 GPUs a node, racks of `rack` nodes, one leaf and one pod.
Topology Topo(int nodes, int rack = 4) {
  Topology t;
  t.nodes = nodes;
  t.gpus_per_node = 8;
  t.nodes_per_domain = 1;
  t.nodes_per_rack = rack;
  t.nodes_per_leaf = nodes;
  t.nodes_per_pod = nodes;
  return t;
}

struct Jobs {
  std::vector<JobSpec> list;
  JobId Add(int nodes, int64_t work_s, int64_t submit_s = 0, PlacementRule rule = {}) {
    JobSpec j;
    j.name = "j" + std::to_string(list.size());
    j.gpus = nodes * 8;
    j.work = Sec(work_s);
    j.submit = Sec(submit_s);
    j.placement = rule;
    list.push_back(j);
    return static_cast<JobId>(list.size() - 1);
  }
};

std::vector<int> Range(int lo, int hi) {
  std::vector<int> v;
  for (int n = lo; n < hi; ++n) v.push_back(n);
  return v;
}

// Starts by job, for the decisions of one call.
std::map<JobId, std::vector<int>> Starts(const Decisions& d) {
  std::map<JobId, std::vector<int>> m;
  for (const StartDecision& s : d.start) m[s.job] = s.nodes;
  return m;
}

// Submits and starts the jobs one at a time, each at its time (in s).
void StartInTurn(Scheduler& s, std::initializer_list<std::pair<JobId, int64_t>> in_turn) {
  for (const auto& [job, t] : in_turn) {
    s.Submit(job, Sec(t));
    ASSERT_EQ(s.Schedule(Sec(t)).start.size(), 1u);
  }
}

// EASY backfill on 10 nodes, by hand (times in s, sizes in nodes, nominal work = expected length):
//   A 7 nodes 100 s, B 2 nodes 50 s, both submitted at 0: they start at 0 on 0-6 and 7-8.
//   t=1  C 9 nodes 40 s arrives; 1 node free (9). Head C: B's end at 50 frees 2 (3 free), A's at
//        100 frees 7 (10 free >= 9): shadow 100, extra 10 - 9 = 1 node.
//   t=2  D 1 node 300 s arrives: it fits now (node 9) and ends at 302 > 100, but it needs 1 <=
//        extra 1 node, so it backfills on node 9 (extra 0).
//   t=3  F 2 nodes 60 s and t=4 E 2 nodes 30 s arrive; no node is free.
//   t=50 B ends: nodes 7, 8 free. Head C: A's end at 100 frees 7 -> 9 free: shadow 100, extra 0.
//        F would end at 110 > 100 and extra is 0: starting it would push C to 110, so it must
//        not start. E ends at 80 <= 100: it backfills on 7-8.
//   t=80 E ends: 2 free; C still waits for A (shadow 100); F still ends past 100: waits.
//   t=100 A ends: 9 free (0-8): C starts on 0-8 (ends 140); F needs 2, 0 free: waits.
//   t=140 C ends: F starts on 0-1 (ends 200). D ends at 302.
// Starts: A 0, B 0, D 2, E 50, C 100, F 140.
TEST(SchedulerEasy, HandComputedBackfillSchedule) {
  Jobs j;
  const JobId a = j.Add(7, 100, 0), b = j.Add(2, 50, 0), c = j.Add(9, 40, 1), d = j.Add(1, 300, 2),
              f = j.Add(2, 60, 3), e = j.Add(2, 30, 4);
  SchedulerConfig cfg;
  cfg.policy = Policy::kEasyBackfill;
  Scheduler s(Topo(10), cfg, j.list);

  s.Submit(a, Sec(0));
  s.Submit(b, Sec(0));
  auto st = Starts(s.Schedule(Sec(0)));
  ASSERT_EQ(st.size(), 2u);
  EXPECT_EQ(st[a], Range(0, 7));
  EXPECT_EQ(st[b], Range(7, 9));

  s.Submit(c, Sec(1));
  EXPECT_TRUE(s.Schedule(Sec(1)).start.empty());

  s.Submit(d, Sec(2));
  st = Starts(s.Schedule(Sec(2)));
  ASSERT_EQ(st.size(), 1u);
  EXPECT_EQ(st[d], std::vector<int>{9});

  s.Submit(f, Sec(3));
  EXPECT_TRUE(s.Schedule(Sec(3)).start.empty());
  s.Submit(e, Sec(4));
  EXPECT_TRUE(s.Schedule(Sec(4)).start.empty());
  EXPECT_EQ(s.queued(), 3);

  s.Release(b);
  st = Starts(s.Schedule(Sec(50)));
  ASSERT_EQ(st.size(), 1u) << "F would delay the head's reservation at 100 s";
  EXPECT_EQ(st[e], Range(7, 9));

  s.Release(e);
  EXPECT_TRUE(s.Schedule(Sec(80)).start.empty());
  EXPECT_EQ(s.FreeGpus(), 16);

  s.Release(a);
  st = Starts(s.Schedule(Sec(100)));
  ASSERT_EQ(st.size(), 1u);
  EXPECT_EQ(st[c], Range(0, 9));

  s.Release(c);
  st = Starts(s.Schedule(Sec(140)));
  ASSERT_EQ(st.size(), 1u);
  EXPECT_EQ(st[f], Range(0, 2));
  EXPECT_EQ(s.running(), 2);  // D and F
  EXPECT_EQ(s.queued(), 0);
}

// The reservation honours SetExpectedEnd: once A is expected to end at 60 instead of 100, E (30 s
// at 50) no longer ends before the shadow time and does not backfill.
TEST(SchedulerEasy, ReservationFollowsExpectedEnds) {
  Jobs j;
  const JobId a = j.Add(8, 100, 0), c = j.Add(9, 40, 1), e = j.Add(2, 30, 2);
  SchedulerConfig cfg;
  cfg.policy = Policy::kEasyBackfill;
  Scheduler s(Topo(10), cfg, j.list);
  s.Submit(a, Sec(0));
  s.Schedule(Sec(0));
  s.SetExpectedEnd(a, Sec(60));
  s.Submit(c, Sec(1));
  s.Submit(e, Sec(2));
  // Shadow 60, extra 10 - 9 = 1; E ends at 2 + 30 = 32 <= 60: it backfills.
  EXPECT_EQ(Starts(s.Schedule(Sec(2)))[e], Range(8, 10));
  s.Release(e);
  s.Submit(e, Sec(40));
  // At 40: E would end at 70 > 60 and needs 2 > extra 1: it waits.
  EXPECT_TRUE(s.Schedule(Sec(40)).start.empty());
}

// EASY with a head that requires one rack (8 nodes, racks of 4), by hand:
//   t=0  A (2 nodes, 100 s), B (2, 50 s), C (3, 200 s), all rack-required: best fit puts A on
//        0-1, B on 2-3 (rack 0 has exactly 2 left), C on 4-6. Free: 7.
//   t=1  H (4 nodes, rack required) waits. Its reservation counts rack by rack: B's end at 50
//        gives rack 0 two free nodes, A's at 100 four: shadow 100 in rack 0, extra 0.
//   t=2  D (1 node, 500 s) ends long after 100 but its node (7) is in rack 1, which H will not
//        use: it backfills (counted over the whole cluster it would have to wait).
//   t=50 B ends: 2-3 free; the reservation stays 100 in rack 0 with extra 0.
//   t=61 E (1 node, 500 s, submitted at 60) would take node 2 of rack 0 past 100: refused. F (1
//        node, 30 s, submitted at 61) ends at 91 <= 100: it backfills on node 2.
//   t=91 F ends; E is refused again.  t=100 A ends: H starts on 0-3; E waits (no node free).
TEST(SchedulerEasy, ReservationInTheHeadsRequiredGroup) {
  Jobs j;
  const PlacementRule rack{Level::kRack, true};
  const JobId a = j.Add(2, 100, 0, rack), b = j.Add(2, 50, 0, rack), c = j.Add(3, 200, 0, rack),
              h = j.Add(4, 40, 1, rack), d = j.Add(1, 500, 2), e = j.Add(1, 500, 60),
              f = j.Add(1, 30, 61);
  SchedulerConfig cfg;
  cfg.policy = Policy::kEasyBackfill;
  Scheduler s(Topo(8), cfg, j.list);
  for (JobId x : {a, b, c}) s.Submit(x, Sec(0));
  auto st = Starts(s.Schedule(Sec(0)));
  EXPECT_EQ(st[a], Range(0, 2));
  EXPECT_EQ(st[b], Range(2, 4));
  EXPECT_EQ(st[c], Range(4, 7));
  s.Submit(h, Sec(1));
  EXPECT_TRUE(s.Schedule(Sec(1)).start.empty());
  s.Submit(d, Sec(2));
  EXPECT_EQ(Starts(s.Schedule(Sec(2)))[d], std::vector<int>{7});
  s.Release(b);
  EXPECT_TRUE(s.Schedule(Sec(50)).start.empty());
  s.Submit(e, Sec(60));
  s.Submit(f, Sec(61));
  st = Starts(s.Schedule(Sec(61)));
  ASSERT_EQ(st.size(), 1u);
  EXPECT_EQ(st[f], std::vector<int>{2});
  s.Release(f);
  EXPECT_TRUE(s.Schedule(Sec(91)).start.empty());
  s.Release(a);
  st = Starts(s.Schedule(Sec(100)));
  ASSERT_EQ(st.size(), 1u);
  EXPECT_EQ(st[h], Range(0, 4));
  EXPECT_EQ(s.queued(), 1);  // E
}

TEST(SchedulerFcfs, HeadBlocksTheQueue) {
  Jobs j;
  const JobId a = j.Add(3, 100, 0), b = j.Add(2, 10, 1), c = j.Add(1, 10, 2);
  Scheduler s(Topo(4), {}, j.list);
  for (JobId x : {a, b, c}) s.Submit(x, Sec(0));
  auto st = Starts(s.Schedule(Sec(0)));
  ASSERT_EQ(st.size(), 1u) << "C fits on the free node but waits behind B";
  EXPECT_EQ(st[a], Range(0, 3));
  EXPECT_EQ(s.FreeGpus(), 8);
  EXPECT_EQ(s.queued(), 2);
  s.Release(a);
  EXPECT_TRUE(s.NodesOf(a).empty());
  st = Starts(s.Schedule(Sec(100)));
  EXPECT_EQ(st[b], Range(0, 2));
  EXPECT_EQ(st[c], std::vector<int>{2});
  EXPECT_EQ(s.NodesOf(b), Range(0, 2));
}

TEST(SchedulerSjf, ShortestNominalWorkFirst) {
  Jobs j;
  const JobId hold = j.Add(1, 5, 0), b = j.Add(1, 30, 1), c = j.Add(1, 10, 2), d = j.Add(1, 20, 3);
  SchedulerConfig cfg;
  cfg.policy = Policy::kSjf;
  Scheduler s(Topo(1), cfg, j.list);
  s.Submit(hold, Sec(0));
  s.Schedule(Sec(0));
  for (JobId x : {b, c, d}) s.Submit(x, Sec(1));
  std::vector<JobId> order;
  JobId running = hold;
  for (int step = 0; step < 3; ++step) {
    s.Release(running);
    const Decisions dec = s.Schedule(Sec(10 * (step + 1)));
    ASSERT_EQ(dec.start.size(), 1u);
    running = dec.start[0].job;
    order.push_back(running);
  }
  EXPECT_EQ(order, (std::vector<JobId>{c, d, b}));
}

// Priority: H (priority 5, 1 node) finds the cluster full. Running: L1 (prio 1, started 0),
// M (prio 2, started 1), L2 (prio 1, started 5), N (prio 0, not preemptible). The victim is the
// lowest priority among preemptible lower-priority jobs, the latest started among equals: L2.
TEST(SchedulerPriority, PreemptsLowestPriorityLatestStartedOnlyWhenItFits) {
  Jobs j;
  const JobId l1 = j.Add(1, 1000), m = j.Add(1, 1000), l2 = j.Add(1, 1000), n = j.Add(1, 1000),
              h = j.Add(1, 10, 10), h2 = j.Add(3, 10, 11);
  j.list[l1].priority = 1;
  j.list[m].priority = 2;
  j.list[l2].priority = 1;
  j.list[n].priority = 0;
  j.list[n].preemptible = false;
  j.list[h].priority = 5;
  j.list[h2].priority = 5;
  SchedulerConfig cfg;
  cfg.policy = Policy::kPriority;
  Scheduler s(Topo(4), cfg, j.list);
  StartInTurn(s, {{l1, 0}, {m, 1}, {l2, 5}, {n, 6}});  // on nodes 0, 1, 2, 3

  s.Submit(h, Sec(10));
  Decisions d = s.Schedule(Sec(10));
  EXPECT_EQ(d.preempt, std::vector<JobId>{l2});
  ASSERT_EQ(d.start.size(), 1u);
  EXPECT_EQ(d.start[0].job, h);
  EXPECT_EQ(d.start[0].nodes, std::vector<int>{2});

  // H2 needs 3 nodes; only L1 and M (2 nodes) are preemptible below it: nothing is stopped.
  s.Submit(h2, Sec(11));
  d = s.Schedule(Sec(11));
  EXPECT_TRUE(d.preempt.empty());
  EXPECT_TRUE(d.start.empty());
  EXPECT_EQ(s.NodesOf(l1), std::vector<int>{0});
  EXPECT_EQ(s.NodesOf(m), std::vector<int>{1});
  EXPECT_EQ(s.running(), 4);  // L1, M, H, N
  // Releasing the preempted job again is harmless.
  s.Release(l2);
  EXPECT_EQ(s.running(), 4);
}

// Victims the job turns out not to need are kept running: H (2 nodes, required rack) on two
// racks of 2. Candidates in order: P (prio 0, rack 0), Q (prio 1, rack 1), R (prio 1, rack 0).
// P alone frees one node of rack 0; P + Q still no rack with 2; P + Q + R: rack 0 is free. Q is
// then dropped again: H needs only P and R.
TEST(SchedulerPriority, DropsUnneededVictims) {
  Jobs j;
  const JobId p = j.Add(1, 1000), q = j.Add(1, 1000), r = j.Add(1, 1000), k = j.Add(1, 1000);
  const JobId h = j.Add(2, 10, 10, {Level::kRack, true});
  j.list[p].priority = 0;
  j.list[q].priority = 1;
  j.list[r].priority = 1;
  j.list[k].priority = 9;
  j.list[h].priority = 5;
  SchedulerConfig cfg;
  cfg.policy = Policy::kPriority;
  Scheduler s(Topo(4, 2), cfg, j.list);
  StartInTurn(s, {{p, 0}, {r, 1}, {q, 2}, {k, 3}});  // on nodes 0, 1, 2, 3
  // Order of candidates: P (0), then Q (prio 1, started 2), then R (prio 1, started 1).
  s.Submit(h, Sec(10));
  const Decisions d = s.Schedule(Sec(10));
  EXPECT_EQ(d.preempt, (std::vector<JobId>{p, r}));
  ASSERT_EQ(d.start.size(), 1u);
  EXPECT_EQ(d.start[0].nodes, (std::vector<int>{0, 1}));
  EXPECT_EQ(s.NodesOf(q), std::vector<int>{2});
}

// Kueue-style quotas on 16 nodes (128 GPUs), 8-GPU jobs: tenants a (nominal 16, cohort c,
// borrowing limit 8) and b (nominal 16, cohort c, no limit); x (nominal 8, no cohort); u has no
// quota.
TEST(SchedulerQuota, NominalBorrowingAndCohorts) {
  Jobs j;
  std::vector<JobId> a, b, x;
  for (int i = 0; i < 4; ++i) a.push_back(j.Add(1, 100, i));
  for (int i = 0; i < 2; ++i) x.push_back(j.Add(1, 100, 10 + i));
  const JobId u = j.Add(1, 100, 20);
  for (int i = 0; i < 2; ++i) b.push_back(j.Add(1, 100, 30 + i));
  for (JobId i : a) j.list[i].tenant = "a";
  for (JobId i : b) j.list[i].tenant = "b";
  for (JobId i : x) j.list[i].tenant = "x";
  j.list[u].tenant = "u";
  SchedulerConfig cfg;
  cfg.quotas = {{"a", 16, "c", 8}, {"b", 16, "c", std::nullopt}, {"x", 8, "", std::nullopt}};
  Scheduler s(Topo(16), cfg, j.list);
  // What each tenant could ever hold: a 16 + 8 = 24 (its limit), b the cohort's 32, x its 8.
  JobSpec probe;
  probe.gpus = 24;
  probe.tenant = "a";
  EXPECT_TRUE(s.Admissible(probe));
  probe.gpus = 32;
  EXPECT_FALSE(s.Admissible(probe));
  probe.tenant = "b";
  EXPECT_TRUE(s.Admissible(probe));
  probe.gpus = 40;
  EXPECT_FALSE(s.Admissible(probe));
  probe.tenant = "x";
  probe.gpus = 16;
  EXPECT_FALSE(s.Admissible(probe));
  probe.tenant = "u";
  probe.gpus = 128;
  EXPECT_TRUE(s.Admissible(probe));
  for (JobId i = 0; i < static_cast<JobId>(j.list.size()); ++i) s.Submit(i, Sec(0));
  auto st = Starts(s.Schedule(Sec(0)));
  // a: 2 within nominal, a third borrowed (24 <= 16 + 8), the fourth over its limit (32 > 24).
  EXPECT_TRUE(st.count(a[0]) && st.count(a[1]) && st.count(a[2]));
  EXPECT_FALSE(st.count(a[3]));
  // x: no cohort, no borrowing: 8 GPUs only, though 10 nodes are free.
  EXPECT_TRUE(st.count(x[0]));
  EXPECT_FALSE(st.count(x[1]));
  // u: no quota, unlimited; it was behind two over-quota jobs and was not blocked by them.
  EXPECT_TRUE(st.count(u));
  // b: within nominal (8 <= 16) and the cohort has 32 - 24 = 8 unused: one starts; the second is
  // within b's nominal too but a has borrowed it (no reclaim): it waits.
  EXPECT_TRUE(st.count(b[0]));
  EXPECT_FALSE(st.count(b[1]));
  EXPECT_EQ(s.running(), 6);
  EXPECT_EQ(s.queued(), 3);
  // Free nodes that every pending job may not use for quota: all 10 free nodes are fragmented.
  EXPECT_EQ(s.FreeGpus(), 80);
  EXPECT_EQ(s.FragmentedGpus(), 80);
  // a's borrowed job ends: the cohort has 8 unused again; a[3] (submitted earlier) would be
  // within a's limit again (16 + 8 <= 24) and comes first in FCFS order; b[1] then finds the cohort
  // full and waits.
  s.Release(a[2]);
  st = Starts(s.Schedule(Sec(100)));
  EXPECT_EQ(st.size(), 1u);
  EXPECT_TRUE(st.count(a[3]));
  s.Release(a[0]);
  st = Starts(s.Schedule(Sec(101)));
  EXPECT_EQ(st.size(), 1u);
  EXPECT_TRUE(st.count(b[1]));
}

// Best fit among racks of 4 (12 nodes): A (3, required rack) takes rack 0; B (2) skips rack 0
// (1 free) for rack 1, the lowest of two racks with 4; C (1) takes rack 0's last node (best fit)
// rather than a node of rack 1 or 2; D (2) fills rack 1 (2 free) rather than rack 2 (4 free).
TEST(SchedulerPlacement, BestFitAmongGroups) {
  Jobs j;
  const PlacementRule rack{Level::kRack, true};
  const JobId a = j.Add(3, 10, 0, rack), b = j.Add(2, 10, 1, rack), c = j.Add(1, 10, 2, rack),
              d = j.Add(2, 10, 3, rack);
  Scheduler s(Topo(12), {}, j.list);
  for (JobId x : {a, b, c, d}) s.Submit(x, Sec(0));
  auto st = Starts(s.Schedule(Sec(0)));
  EXPECT_EQ(st[a], Range(0, 3));
  EXPECT_EQ(st[b], Range(4, 6));
  EXPECT_EQ(st[c], std::vector<int>{3});
  EXPECT_EQ(st[d], Range(6, 8));
  for (JobId x : {a, b, c, d}) EXPECT_EQ(s.GroupsSpanned(x), 1);
}

// Free nodes 3 | 5 6 7 | 10 11 (others down). A required 2-node rack job fits rack 2 only; a
// preferred 4-node job spreads over the fewest racks: rack 1 (3 free) then the best fit for one
// more node, rack 0 (1 free) rather than rack 2.
TEST(SchedulerPlacement, DownNodesSkippedRequiredWaitsPreferredSpreads) {
  Jobs j;
  const JobId req = j.Add(4, 10, 0, {Level::kRack, true});
  const JobId pref = j.Add(4, 10, 0, {Level::kRack, false});
  const JobId req2 = j.Add(2, 10, 0, {Level::kRack, true});
  for (const bool preferred_first : {false, true}) {
    Scheduler s(Topo(12), {}, j.list);
    for (int n : {0, 1, 2, 4, 8, 9}) s.SetNodeUp(n, false);
    EXPECT_EQ(s.FreeGpus(), 6 * 8);
    if (!preferred_first) {
      s.Submit(req, Sec(0));
      EXPECT_TRUE(s.Schedule(Sec(0)).start.empty()) << "no rack has 4 free nodes";
      EXPECT_EQ(s.queued(), 1);
      // The 4-node required job can use no free node: all 6 are fragmented.
      EXPECT_EQ(s.FragmentedGpus(), 48);
      s.Release(req);  // withdrawn from the queue
      s.Submit(req2, Sec(0));
      // Best fit: rack 2 (2 free) rather than rack 1 (3 free).
      EXPECT_EQ(Starts(s.Schedule(Sec(0)))[req2], Range(10, 12));
    } else {
      s.Submit(pref, Sec(0));
      const auto st = Starts(s.Schedule(Sec(0)));
      EXPECT_EQ(st.at(pref), (std::vector<int>{3, 5, 6, 7}));
      EXPECT_EQ(s.GroupsSpanned(pref), 2);
    }
  }
}

// Spares: 6 nodes, the last 2 held. A 4-node job runs on 0-3; node 2 fails; spare 4 (first at or
// after 2) joins the pool of regular nodes, so the job restarts at once on 0, 1, 3, 4. Node 2's
// repair refills the spare pool.
TEST(SchedulerSpares, SpareReplacesAFailedNode) {
  Jobs j;
  const JobId a = j.Add(4, 100), big = j.Add(5, 100);
  SchedulerConfig cfg;
  cfg.spare_nodes = 2;
  Scheduler s(Topo(6), cfg, j.list);
  EXPECT_EQ(s.SpareNodes(), 2);
  EXPECT_EQ(s.FreeGpus(), 32);
  EXPECT_FALSE(s.Admissible(j.list[big]));
  s.Submit(a, Sec(0));
  EXPECT_EQ(Starts(s.Schedule(Sec(0)))[a], Range(0, 4));
  EXPECT_EQ(s.FreeGpus(), 0);
  s.SetNodeUp(2, false);
  EXPECT_EQ(s.SpareNodes(), 1);
  EXPECT_EQ(s.FreeGpus(), 8);  // node 4
  s.Release(a);
  s.Submit(a, Sec(10));
  EXPECT_EQ(Starts(s.Schedule(Sec(10)))[a], (std::vector<int>{0, 1, 3, 4}));
  s.SetNodeUp(2, true);
  EXPECT_EQ(s.SpareNodes(), 2);
  EXPECT_EQ(s.FreeGpus(), 0);
  // A spare that fails just leaves the pool.
  s.SetNodeUp(5, false);
  EXPECT_EQ(s.SpareNodes(), 1);
  EXPECT_EQ(s.FreeGpus(), 0);
}

// Fragmentation by hand: 8 nodes in racks of 4, A holds 0-2, then node 4 fails: free 3 | 5 6 7.
//   pending Q (4 nodes, required rack): no rack has 4 free -> all 4 free nodes fragmented: 32 GPUs
//   + W (2 nodes, required rack, behind Q): rack 1 has 3 >= 2 -> only node 3 fragmented: 8 GPUs
//   + Z (1 node, required node): every free node can take it: 0
TEST(SchedulerFragmentation, HandExample) {
  Jobs j;
  const JobId a = j.Add(3, 100, 0, {Level::kRack, true});
  const JobId q = j.Add(4, 100, 1, {Level::kRack, true});
  const JobId w = j.Add(2, 100, 2, {Level::kRack, true});
  const JobId z = j.Add(1, 100, 3, {Level::kNode, true});
  Scheduler s(Topo(8), {}, j.list);
  s.Submit(a, Sec(0));
  EXPECT_EQ(Starts(s.Schedule(Sec(0)))[a], Range(0, 3));
  s.SetNodeUp(4, false);
  EXPECT_EQ(s.FragmentedGpus(), 0) << "nothing pending";
  s.Submit(q, Sec(1));
  s.Schedule(Sec(1));
  EXPECT_EQ(s.FreeGpus(), 32);
  EXPECT_EQ(s.FragmentedGpus(), 32);
  s.Submit(w, Sec(2));
  s.Schedule(Sec(2));
  EXPECT_EQ(s.FragmentedGpus(), 8);
  s.Submit(z, Sec(3));
  s.Schedule(Sec(3));
  EXPECT_EQ(s.queued(), 3);
  EXPECT_EQ(s.FragmentedGpus(), 0);
}

// A random workload run twice gives the same decisions, and invariants hold throughout: nodes
// are never given twice (FW_CHECK), down nodes are never used, every policy drains the queue.
struct RandomRun {
  Policy policy = Policy::kFcfs;
  uint64_t seed = 7;
  bool incremental = true;
  bool required_rules = true;
  int backfill_max_jobs = 100;
};
std::vector<std::tuple<int64_t, JobId, int>> RunRandom(const RandomRun& run) {
  const Topology topo = [] {
    Topology t;
    t.nodes = 64;
    t.gpus_per_node = 8;
    t.nodes_per_domain = 2;
    t.nodes_per_rack = 4;
    t.nodes_per_leaf = 16;
    t.nodes_per_pod = 32;
    return t;
  }();
  RngStream rng(run.seed, "scheduler_test");
  std::vector<JobSpec> jobs;
  const Level levels[] = {Level::kNvlinkDomain, Level::kRack, Level::kLeaf, Level::kPod,
                          Level::kCluster};
  for (int i = 0; i < 400; ++i) {
    JobSpec js;
    js.name = std::to_string(i);
    js.submit = Sec(static_cast<int64_t>(i) * 12);
    const double u = rng.Uniform();
    js.gpus = u < 0.6    ? 1 + static_cast<int>(rng.Uniform() * 8)
              : u < 0.9  ? 16
              : u < 0.98 ? 64
                         : 256;
    js.work = Sec(10 + static_cast<int64_t>(rng.Uniform() * 600));
    js.priority = static_cast<int>(rng.Uniform() * 4);
    js.tenant = rng.Uniform() < 0.5 ? "t1" : "t2";
    const Level l = levels[static_cast<int>(rng.Uniform() * 5)];
    // Required only for jobs of at most 8 nodes: spares move as nodes fail and are repaired, so a
    // required group as large as a pod may never be whole again.
    js.placement = {l, rng.Uniform() < 0.3 && run.required_rules && js.gpus <= 64 &&
                           topo.GroupSize(l) * 8 >= js.gpus};
    jobs.push_back(js);
  }
  SchedulerConfig cfg;
  cfg.policy = run.policy;
  cfg.incremental = run.incremental;
  cfg.backfill_max_jobs = run.backfill_max_jobs;
  cfg.spare_nodes = 2;
  cfg.quotas = {{"t1", 256, "c", 64}, {"t2", 256, "c", std::nullopt}};
  Scheduler s(topo, cfg, jobs);
  std::vector<std::tuple<int64_t, JobId, int>> log;  // (time, job, first node or -1 preempted)
  using Ev = std::tuple<int64_t, int, JobId>;        // (time, 0 end / 1 arrival, job)
  std::priority_queue<Ev, std::vector<Ev>, std::greater<>> events;
  for (JobId i = 0; i < static_cast<JobId>(jobs.size()); ++i)
    events.push({jobs[i].submit.ns(), 1, i});
  std::vector<int64_t> ends(jobs.size(), -1);
  std::vector<bool> down(64, false);
  while (!events.empty()) {
    const auto [t, kind, job] = events.top();
    events.pop();
    if (kind == 0) {
      if (ends[job] != t) continue;  // preempted meanwhile
      s.Release(job);
      ends[job] = -1;
    } else {
      s.Submit(job, SimTime::FromNanoseconds(t));
    }
    if (job % 37 == 0) {  // a node flips now and then
      const int n = job % 64;
      down[n] = !down[n];
      s.SetNodeUp(n, !down[n]);
    }
    const Decisions d = s.Schedule(SimTime::FromNanoseconds(t));
    for (JobId p : d.preempt) {
      log.emplace_back(t, p, -1);
      ends[p] = -1;
      s.Submit(p, SimTime::FromNanoseconds(t));
    }
    for (const StartDecision& st : d.start) {
      for (int n : st.nodes) EXPECT_FALSE(down[n]) << "placed on a down node";
      EXPECT_EQ(static_cast<int>(st.nodes.size()), s.NodesNeeded(jobs[st.job]));
      log.emplace_back(t, st.job, st.nodes.front());
      ends[st.job] = t + jobs[st.job].work.ns();
      events.push({ends[st.job], 0, st.job});
    }
    (void)s.FragmentedGpus();
  }
  // Bring every node back so the last jobs can run, then drain.
  for (int n = 0; n < 64; ++n) s.SetNodeUp(n, true);
  int64_t t = Sec(1'000'000).ns();
  for (int guard = 0; guard < 10000 && (s.queued() > 0 || s.running() > 0); ++guard) {
    const Decisions d = s.Schedule(SimTime::FromNanoseconds(t));
    for (JobId p : d.preempt) s.Submit(p, SimTime::FromNanoseconds(t));
    for (JobId i = 0; i < static_cast<JobId>(jobs.size()); ++i) {
      if (!s.NodesOf(i).empty()) s.Release(i);
    }
    t += 1;
  }
  EXPECT_EQ(s.queued(), 0);
  EXPECT_EQ(s.running(), 0);
  return log;
}

TEST(SchedulerDeterminism, SameInputSameDecisions) {
  for (Policy p : {Policy::kFcfs, Policy::kPriority, Policy::kSjf, Policy::kEasyBackfill}) {
    const auto first = RunRandom({.policy = p});
    const auto second = RunRandom({.policy = p});
    EXPECT_GT(first.size(), 300u);
    EXPECT_EQ(first, second);
  }
}

// Incremental decisions (only the new jobs examined when nothing was freed) decide exactly as
// walking the whole queue each time. For EASY the two agree when the backfill scan is unbounded
// and no head has a required level (then a refused candidate could find, with fewer free nodes,
// a placement outside the head's group: the incremental pass does not look at it again).
TEST(SchedulerIncremental, SameDecisionsAsFullPasses) {
  for (Policy p : {Policy::kFcfs, Policy::kPriority, Policy::kSjf, Policy::kEasyBackfill}) {
    for (uint64_t seed : {1, 2, 3}) {
      RandomRun run{.policy = p, .seed = seed};
      if (p == Policy::kEasyBackfill) {
        run.required_rules = false;
        run.backfill_max_jobs = 1'000'000;
      }
      const auto incremental = RunRandom(run);
      run.incremental = false;
      EXPECT_EQ(incremental, RunRandom(run))
          << "policy " << static_cast<int>(p) << " seed " << seed;
    }
  }
}

}  // namespace
}  // namespace firstwall::scheduler
