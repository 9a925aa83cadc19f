#include "scheduler/cluster_life.h"

#include <cmath>
#include <cstdio>
#include <map>
#include <string>

#include <gtest/gtest.h>

#include "core/error.h"
#include "reliability/checkpoint.h"
#include "reliability/failure_table.h"

namespace firstwall::scheduler {
namespace {

SimTime Seconds(double s) { return SimTime::FromNanoseconds(std::llround(s * 1e9)); }
SimTime Minutes(double m) { return Seconds(60 * m); }
SimTime Hours(double h) { return Seconds(3600 * h); }
SimTime Days(double d) { return Seconds(86400 * d); }

JobSpec Training(std::string name, int gpus, SimTime work, SimTime submit = SimTime()) {
  JobSpec j;
  j.name = std::move(name);
  j.tenant = "t";
  j.kind = JobKind::kTraining;
  j.gpus = gpus;
  j.work = work;
  j.submit = submit;
  return j;
}

Topology Nodes(int nodes, int per_leaf = 32) {
  Topology t;
  t.nodes = nodes;
  t.gpus_per_node = 8;
  t.nodes_per_rack = 4;
  t.nodes_per_leaf = per_leaf;
  t.nodes_per_pod = nodes;
  return t;
}

// Same-shape Poisson interval as failures_test: [lo, hi] with both tails <= `tail`.
std::pair<int, int> PoissonInterval(double mu, double tail) {
  double cdf = 0;
  int lo = -1;
  for (int n = 0;; ++n) {
    const double p = std::exp(-mu + n * std::log(mu) - std::lgamma(n + 1.0));
    if (lo < 0 && cdf + p > tail) lo = n;
    cdf += p;
    if (1.0 - cdf <= tail) return {lo, n};
  }
}

TEST(ClusterLife, OneJobOn16kH100SeesLlama3Interruptions) {
  // 16,384 GPUs in 2,048 nodes, plus 64 spare nodes so a failed job restarts at once on the same
  // number of nodes (Meta kept spares; the job cannot wait 48 h for a GPU swap). Detection zero,
  // so every failure on the job's nodes is an interruption of a running attempt.
  const Topology t = Nodes(2048 + 64, 16);
  SchedulerConfig sc;
  sc.spare_nodes = 64;
  JobSpec job = Training("llama3-405b", 16384, Days(1000));
  job.checkpoint.interval = SimTime();  // Young/Daly
  job.checkpoint.write = Seconds(60);
  ClusterLifeOptions o;
  o.detection = SimTime();
  EventQueue q;
  ClusterLife life(t, sc, DefaultFailureModel(), {job}, 2024, o, q);
  life.RunUntil(Days(54));

  const JobLife& l = life.job_life(0);
  const reliability::InterruptionForecast f =
      reliability::Forecast(reliability::Llama3FailureTable(), 16384, 8, 54);
  const auto [lo, hi] = PoissonInterval(f.interruptions, 0.005);
  std::printf(
      "forecast %.1f interruptions, 99%% Poisson interval [%d, %d]; simulated %d, MTBI "
      "%.2f h (forecast %.2f h); attempts %d\n",
      f.interruptions, lo, hi, l.failures, 54 * 24.0 / l.failures, f.mtbi_h, l.attempts);
  EXPECT_NEAR(f.interruptions, 419, 1e-9);
  EXPECT_GE(l.failures, lo);
  EXPECT_LE(l.failures, hi);
  EXPECT_EQ(l.attempts, l.failures + 1);  // every interruption restarted at once

  // By cause: simulated against the forecast (each inside its own 99% interval).
  std::map<std::string, int> by_cause;
  for (const FailureRecord& r : life.failures()) {
    if (!r.jobs_hit.empty()) ++by_cause[std::string(r.failure.cause_name)];
  }
  std::printf("%-32s %9s %9s %12s\n", "cause", "forecast", "simulated", "99% interval");
  for (const reliability::CauseExpectation& c : f.by_cause) {
    const auto [clo, chi] = PoissonInterval(c.interruptions, 0.005);
    const int n = by_cause[c.cause->name];
    std::printf("%-32s %9.1f %9d   [%3d, %3d]\n", c.cause->name.c_str(), c.interruptions, n, clo,
                chi);
    EXPECT_GE(n, clo) << c.cause->name;
    EXPECT_LE(n, chi) << c.cause->name;
  }
  // The job's own checkpoint interval is Daly's for its rate, which is the whole cluster's
  // forecast rate (it covers every non-spare node).
  EXPECT_NEAR(l.checkpoint_interval_s, reliability::DalyIntervalS(60, f.mtbi_h * 3600), 1e-6);
  // Its ETTR is Daly's for its interval, 60 s writes and the 10 min default reload (detection
  // zero). With about 420 failures the noise is about 1%. Meta reports above 90% for the real run
  // with faster restarts than this default.
  const double daly = reliability::DalyEttr(l.checkpoint_interval_s, 60, 600, f.mtbi_h * 3600);
  std::printf("ETTR %.4f, Daly %.4f\n", l.Ettr(), daly);
  EXPECT_NEAR(l.Ettr(), daly, 0.03);
}

struct DalyCase {
  double mtbi_s;
  double write_s;
  double detection_s;
  double overhead_s;
  double work_h;
};

TEST(ClusterLife, EttrWithDalysIntervalMatchesDalysClosedForm) {
  // One job of 64 GPUs (8 nodes) on 16 nodes; only GPUs fail, at a rate that gives the job the
  // MTBI M; a failed node is back after 30 min and the job restarts at once on other nodes. The
  // restart costs R = detection + reload/warm-up. Daly's model charges failures during the whole
  // of R; here a failure during detection hits a job already stopped, so its R is slightly
  // shorter: at most (R^2 - overhead^2) / 2M per failure, under 0.1% of ETTR for these cases.
  const DalyCase cases[] = {{3600, 60, 60, 240, 1000}, {6 * 3600, 300, 120, 480, 3000}};
  std::printf("%8s %7s %7s %9s %4s %9s %9s %9s %8s\n", "M_s", "write", "R_s", "tau_s", "seed",
              "failures", "ettr_sim", "ettr_daly", "error");
  for (const DalyCase& c : cases) {
    const Topology t = Nodes(16);
    FailureModel m;
    // Rate per GPU so that 64 GPUs fail once per M: 86,400 / M / 64 per day, x 1,000.
    m.causes = {{"gpu", ComponentKind::kGpu, 1000.0 * 86400 / c.mtbi_s / 64}};
    m.kind(ComponentKind::kGpu).repair = {Minutes(30), RepairDistribution::kFixed};
    JobSpec job = Training("long", 64, Hours(c.work_h));
    job.checkpoint.interval = SimTime();
    job.checkpoint.write = Seconds(c.write_s);
    job.checkpoint.restart_overhead = Seconds(c.overhead_s);
    ClusterLifeOptions o;
    o.detection = Seconds(c.detection_s);
    o.sample_every = SimTime::Never();
    o.record_checkpoints = false;
    const double r = c.detection_s + c.overhead_s;
    const double tau = reliability::DalyIntervalS(c.write_s, c.mtbi_s);
    const double daly = reliability::DalyEttr(tau, c.write_s, r, c.mtbi_s);
    double sum = 0;
    constexpr int kSeeds = 4;
    for (uint64_t seed = 1; seed <= kSeeds; ++seed) {
      EventQueue q;
      ClusterLife life(t, {}, m, {job}, seed, o, q);
      life.RunUntil(Hours(c.work_h * 3));
      const JobLife& l = life.job_life(0);
      ASSERT_TRUE(l.completed);
      EXPECT_NEAR(l.checkpoint_interval_s, tau, 1e-6);
      sum += l.Ettr();
      std::printf("%8.0f %7.0f %7.0f %9.1f %4llu %9d %9.4f %9.4f %+7.2f%%\n", c.mtbi_s, c.write_s,
                  r, tau, static_cast<unsigned long long>(seed), l.failures, l.Ettr(), daly,
                  100 * (l.Ettr() / daly - 1));
    }
    const double mean = sum / kSeeds;
    std::printf("mean over %d seeds: %.4f vs Daly %.4f (%+.2f%%)\n", kSeeds, mean, daly,
                100 * (mean / daly - 1));
    EXPECT_NEAR(mean / daly, 1.0, 0.02);
  }
}

// Four jobs packed from node 0 on 32 nodes with leaves of 8 nodes (placement: lowest free nodes):
//   A 8 nodes: 0-7   B 4 nodes: 8-11   C 6 nodes: 12-17   D 14 nodes: 18-31
std::vector<JobSpec> FourJobs() {
  std::vector<JobSpec> jobs = {Training("A", 64, Hours(10)), Training("B", 32, Hours(10)),
                               Training("C", 48, Hours(10)), Training("D", 112, Hours(10))};
  for (JobSpec& j : jobs) {
    j.checkpoint.interval = Seconds(1800);
    j.checkpoint.write = Seconds(60);
    j.checkpoint.restart_overhead = Minutes(5);
  }
  return jobs;
}

TEST(ClusterLife, LeafDownStopsExactlyTheJobsOnItsNodes) {
  const Topology t = Nodes(32, 8);
  FailureModel m;  // no random failures: only the scripted leaf
  ClusterLifeOptions o;
  o.detection = Minutes(2);
  // Leaf switch 11 = rail 3 of leaf group 1: nodes 8..15, where B (8-11) and C (12-17) run.
  o.scripted_failures = {
      ScriptedFailure(t, m, ComponentKind::kLeaf, 11, Hours(1), Hours(2), "leaf switch")};
  ASSERT_EQ(o.scripted_failures[0].nodes, (NodeRun{8, 8}));
  EventQueue q;
  ClusterLife life(t, {}, std::nullopt, FourJobs(), 1, o, q);
  q.RunUntil(Minutes(30));
  EXPECT_EQ(life.scheduler().NodesOf(0), (std::vector<int>{0, 1, 2, 3, 4, 5, 6, 7}));
  EXPECT_EQ(life.scheduler().NodesOf(1), (std::vector<int>{8, 9, 10, 11}));
  EXPECT_EQ(life.scheduler().NodesOf(2), (std::vector<int>{12, 13, 14, 15, 16, 17}));
  EXPECT_EQ(life.scheduler().NodesOf(3).front(), 18);
  life.RunUntil(Hours(20));

  ASSERT_EQ(life.failures().size(), 1u);
  EXPECT_EQ(life.failures()[0].jobs_hit, (std::vector<JobId>{1, 2}));
  EXPECT_EQ(life.failures()[0].failure.effect, FailureEffect::kCutFromFabric);
  EXPECT_EQ(life.job_life(0).attempts, 1);
  EXPECT_EQ(life.job_life(3).attempts, 1);
  EXPECT_EQ(life.job_life(1).failures, 1);
  EXPECT_EQ(life.job_life(2).failures, 1);
  // B and C: computed 0-1,800 s, checkpoint 1,800-1,860 s, computed to 3,600 s: 1,740 s lost.
  EXPECT_DOUBLE_EQ(life.job_life(1).lost_s, 1740);
  EXPECT_DOUBLE_EQ(life.job_life(2).lost_s, 1740);
  // After detection at 1 h 2 min only nodes 16 and 17 are free: both wait for the repair at 3 h,
  // then start again in submit order, B on 8-11 and C on 12-17.
  std::map<JobId, std::vector<const Attempt*>> by_job;
  for (const Attempt& a : life.attempts()) by_job[a.job].push_back(&a);
  ASSERT_EQ(by_job[1].size(), 2u);
  ASSERT_EQ(by_job[2].size(), 2u);
  EXPECT_EQ(by_job[1][0]->end, Hours(1) + Minutes(2));  // held through detection
  EXPECT_EQ(by_job[1][0]->how, AttemptEnd::kFailed);
  EXPECT_EQ(by_job[1][1]->queued, Hours(1) + Minutes(2));
  EXPECT_EQ(by_job[1][1]->start, Hours(3));
  EXPECT_EQ(by_job[2][1]->start, Hours(3));
  // B's restart: 2 min detection + 5 min reload (1 min) and warm-up; queued 1 h 58 min.
  EXPECT_DOUBLE_EQ(life.job_life(1).restart_s, 7 * 60);
  EXPECT_DOUBLE_EQ(life.job_life(1).queued_s, 118 * 60);
  EXPECT_TRUE(life.job_life(1).completed);
  // Node 8..15 down for 2 h, less the 2 min B and C held them until detection (theirs, as restart
  // badput): 8 nodes x 8 GPUs x 118 min of repair downtime.
  EXPECT_NEAR(life.goodput().badput.repair_downtime_gpu_h, 8 * 8 * 118 / 60.0, 1e-9);
}

TEST(ClusterLife, SynchronisedRestartsAreStaggered) {
  // The leaf failure above with a 30 s stagger: B and C restart together at 3 h; C starts its
  // reload 30 s after B, so its restart costs 2 min detection + 30 s wait + 5 min reload.
  const Topology t = Nodes(32, 8);
  ClusterLifeOptions o;
  o.restart_stagger = Seconds(30);
  o.scripted_failures = {ScriptedFailure(t, {}, ComponentKind::kLeaf, 11, Hours(1), Hours(2))};
  EventQueue q;
  ClusterLife life(t, {}, std::nullopt, FourJobs(), 1, o, q);
  life.RunUntil(Hours(20));
  EXPECT_DOUBLE_EQ(life.job_life(1).restart_s, 420);
  EXPECT_DOUBLE_EQ(life.job_life(2).restart_s, 450);
  EXPECT_EQ(life.attempts()[5].end - life.attempts()[4].end, Seconds(30));
}

TEST(ClusterLife, SoftwareFailureRestartsTheJobAndLeavesTheNodeUp) {
  const Topology t = Nodes(32, 8);
  ClusterLifeOptions o;
  o.detection = Minutes(2);
  // GPU 3 is on node 0 (job A).
  o.scripted_failures = {
      ScriptedFailure(t, {}, ComponentKind::kSoftware, 3, Hours(1), Hours(5), "NCCL watchdog")};
  EventQueue q;
  ClusterLife life(t, {}, std::nullopt, FourJobs(), 1, o, q);
  life.RunUntil(Hours(20));
  EXPECT_EQ(life.failures()[0].jobs_hit, (std::vector<JobId>{0}));
  EXPECT_EQ(life.failures()[0].failure.repair, SimTime());
  EXPECT_EQ(life.job_life(0).attempts, 2);
  // The node stayed up: A starts again on its own nodes at the end of detection.
  EXPECT_EQ(life.attempts()[4].job, 0);
  EXPECT_EQ(life.attempts()[4].start, Hours(1) + Minutes(2));
  EXPECT_EQ(life.goodput().badput.repair_downtime_gpu_h, 0);
}

// Four 8-GPU nodes; job a (16 GPUs, 1 h of work, no checkpoints) starts on nodes 0-1. GPU 0 (node
// 0) fails at 1,000 s for 2,000 s; a hangs on nodes 0-1 until detection at 1,120 s, restarts on
// two up nodes, warms up 600 s and computes 3,600 s: it ends at 5,320 s. Run to 6,000 s.
//   allocated 16 x (1,120 + 4,200) = 85,120 GPU-s
//   down      8 x (3,000 - 1,000) less node 0's 120 s held by a: 16,000 - 960 = 15,040 GPU-s
//   idle      32 x 6,000 - 85,120 - 15,040 = 91,840 GPU-s
// Node 0 held through detection counts once (allocated: a's restart badput), not also as down.
TEST(ClusterLife, DetectionCountsHeldDownNodesOnceAndTheBooksSumToCapacity) {
  const Topology t = Nodes(4);
  ClusterLifeOptions o;
  o.detection = Minutes(2);
  o.restart_overhead = Minutes(10);
  o.scripted_failures = {
      ScriptedFailure(t, {}, ComponentKind::kGpu, 0, Seconds(1000), Seconds(2000))};
  EventQueue q;
  ClusterLife life(t, {}, std::nullopt, {Training("a", 16, Hours(1))}, 1, o, q);
  life.RunUntil(Seconds(6000));
  const SchedulerStats s = life.stats();
  std::printf("allocated %.4f, idle %.4f, down %.4f GPU-h; sum %.4f of %.4f\n", s.allocated_gpu_h,
              s.idle_gpu_h, s.down_gpu_h, s.allocated_gpu_h + s.idle_gpu_h + s.down_gpu_h,
              32 * 6000 / 3600.0);
  EXPECT_EQ(life.job_life(0).end, Seconds(5320));
  EXPECT_NEAR(s.allocated_gpu_h * 3600, 85120, 1e-6);
  EXPECT_NEAR(s.down_gpu_h * 3600, 15040, 1e-6);
  EXPECT_NEAR(s.idle_gpu_h * 3600, 91840, 1e-6);
  EXPECT_NEAR(s.allocated_gpu_h + s.idle_gpu_h + s.down_gpu_h, 32 * 6000 / 3600.0, 1e-9);
  EXPECT_NEAR(life.goodput().badput.repair_downtime_gpu_h * 3600, 15040, 1e-6);
  EXPECT_NEAR(life.goodput().badput.restart_gpu_h * 3600, 16 * 720, 1e-6);
}

// Throttles itself: jobs on a failed CDU's racks run at 60% until the repair.
class ThrottlingHost : public Host {
 public:
  ClusterLife* life = nullptr;
  void Start(JobId, const std::vector<int>&, SimTime) override {}
  void Stop(JobId, SimTime) override {}
  void SetPhase(JobId, JobPhase, SimTime) override {}
  void OnFailure(const Failure& f, SimTime now) override { Apply(f, 0.6, now); }
  void OnRepair(const Failure& f, SimTime now) override { Apply(f, 1.0, now); }

 private:
  void Apply(const Failure& f, double speed, SimTime now) {
    if (f.effect != FailureEffect::kThrottle) return;
    for (const FailureRecord& r : life->failures()) {
      if (r.failure.at == f.at && r.failure.kind == f.kind) {
        for (JobId j : r.jobs_hit) life->SetSpeed(j, speed, now);
      }
    }
  }
};

TEST(ClusterLife, CduThrottlesAndSpineDegradesWithoutStoppingJobs) {
  const Topology t = Nodes(32, 8);
  FailureModel m;
  m.domains.racks_per_cdu = 4;  // CDU 0 cools racks 0-3: nodes 0-15 (A, B, C)
  m.domains.spines = 4;
  ClusterLifeOptions o;
  o.scripted_failures = {ScriptedFailure(t, m, ComponentKind::kCdu, 0, Hours(1), Hours(1)),
                         ScriptedFailure(t, m, ComponentKind::kSpine, 2, Hours(1), Hours(1))};
  ThrottlingHost host;
  EventQueue q;
  ClusterLife life(t, {}, std::nullopt, FourJobs(), 1, o, q, &host);
  host.life = &life;
  life.RunUntil(Hours(20));
  EXPECT_EQ(life.failures()[0].failure.effect, FailureEffect::kThrottle);
  EXPECT_EQ(life.failures()[0].jobs_hit, (std::vector<JobId>{0, 1, 2}));
  EXPECT_EQ(life.failures()[1].failure.effect, FailureEffect::kFabricDegraded);
  EXPECT_TRUE(life.failures()[1].jobs_hit.empty());
  EXPECT_EQ(life.attempts().size(), 4u);  // nobody stopped
  // A, B, C ran at 60% from 1 h to 2 h, of which 120 s were checkpoint writes (progress 3,540 s at
  // 1 h; writes at 3,700-3,760 s and 6,760-6,820 s), so 0.4 x 3,480 s = 1,392 s of slowdown each,
  // and they end that much later than D.
  for (JobId j : {0, 1, 2}) {
    EXPECT_DOUBLE_EQ(life.job_life(j).slowdown_s, 1392) << j;
    EXPECT_EQ(life.attempts()[j].end - life.attempts()[3].end, Seconds(1392)) << j;
  }
  EXPECT_DOUBLE_EQ(life.job_life(3).slowdown_s, 0);
}

TEST(ClusterLife, NodeExcludedAfterKFailures) {
  const Topology t = Nodes(32, 8);
  FailureModel m;
  m.kind(ComponentKind::kGpu).repair = {Hours(1), RepairDistribution::kFixed};
  ClusterLifeOptions o;
  o.exclude_after_failures = 2;
  // Two GPU failures on node 5 (GPUs 40 and 47), one on node 6: node 5 is excluded for good.
  o.scripted_failures = {ScriptedFailure(t, m, ComponentKind::kGpu, 40, Hours(1), Hours(1)),
                         ScriptedFailure(t, m, ComponentKind::kGpu, 47, Hours(3), Hours(1)),
                         ScriptedFailure(t, m, ComponentKind::kGpu, 48, Hours(3), Hours(1))};
  EventQueue q;
  ClusterLife life(t, {}, std::nullopt, {}, 1, o, q);
  life.RunUntil(Hours(10));
  EXPECT_EQ(life.stats().excluded_nodes, 1);
  int exclusions = 0;
  for (const LifeEvent& e : life.events()) {
    if (e.kind == LifeEventKind::kExclusion) {
      ++exclusions;
      EXPECT_EQ(e.node, 5);
      EXPECT_EQ(e.at, Hours(3));
    }
  }
  EXPECT_EQ(exclusions, 1);
  // Down GPU-hours: node 5 from 1 h to 2 h and from 3 h to the end (7 h); node 6 for 1 h.
  EXPECT_DOUBLE_EQ(life.stats().down_gpu_h, 8 * (1 + 7 + 1));
  EXPECT_EQ(life.samples().back().down_nodes, 1);
}

TEST(ClusterLife, PreemptionLosesProgressSinceTheLastCheckpoint) {
  // L (low priority, all 4 nodes) checkpoints every hour of progress (6 min write); H (high
  // priority, all nodes, 1 h) arrives at 1 h 50 min and preempts it.
  //   L: computes 0-1 h, writes 1 h-1 h 06, computes to 1 h 50: progress 1 h 44 min, checkpoint
  //      1 h, so 44 min = 2,640 s are lost. H runs 1 h 50-2 h 50. L restarts at 2 h 50, reloads
  //      10 min, computes from progress 1 h at 3 h 00, writes at progress 2 h (4 h 00-4 h 06) and
  //      ends at progress 3 h: 5 h 06 min = 18,360 s.
  const Topology t = Nodes(4);
  SchedulerConfig sc;
  sc.policy = Policy::kPriority;
  JobSpec low = Training("L", 32, Hours(3));
  low.checkpoint.interval = Hours(1);
  low.checkpoint.write = Minutes(6);
  low.checkpoint.restart_overhead = Minutes(10);
  JobSpec high = Training("H", 32, Hours(1), Minutes(110));
  high.priority = 10;
  EventQueue q;
  ClusterLife life(t, sc, std::nullopt, {low, high}, 1, {}, q);
  life.RunUntil(Hours(10));

  ASSERT_EQ(life.attempts().size(), 3u);
  const Attempt& a0 = life.attempts()[0];
  const Attempt& a1 = life.attempts()[1];
  const Attempt& a2 = life.attempts()[2];
  EXPECT_EQ(a0.job, 0);
  EXPECT_EQ(a0.end, Minutes(110));
  EXPECT_EQ(a0.how, AttemptEnd::kPreempted);
  EXPECT_EQ(a1.job, 1);
  EXPECT_EQ(a1.start, Minutes(110));
  EXPECT_EQ(a1.end, Minutes(170));
  EXPECT_EQ(a1.how, AttemptEnd::kCompleted);
  EXPECT_EQ(a2.job, 0);
  EXPECT_EQ(a2.queued, Minutes(110));
  EXPECT_EQ(a2.start, Minutes(170));
  EXPECT_EQ(a2.end, Seconds(18360));
  EXPECT_EQ(a2.how, AttemptEnd::kCompleted);

  const JobLife& l = life.job_life(0);
  EXPECT_DOUBLE_EQ(l.lost_s, 2640);
  EXPECT_DOUBLE_EQ(l.checkpoint_s, 720);
  EXPECT_DOUBLE_EQ(l.restart_s, 600);
  EXPECT_DOUBLE_EQ(l.queued_s, 3600);
  EXPECT_DOUBLE_EQ(l.useful_s, 10800);
  EXPECT_EQ(l.checkpoints, 2);
  EXPECT_EQ(l.preemptions, 1);
  EXPECT_DOUBLE_EQ(l.Ettr(), 10800.0 / 18360);
  const Goodput g = life.goodput();
  EXPECT_DOUBLE_EQ(g.badput.lost_progress_gpu_h, 32 * 2640 / 3600.0);
  EXPECT_DOUBLE_EQ(g.badput.checkpoint_save_gpu_h, 32 * 720 / 3600.0);
  EXPECT_DOUBLE_EQ(g.badput.queueing_gpu_h, 32 * 3600 / 3600.0);
  int preemptions = 0;
  for (const LifeEvent& e : life.events()) preemptions += e.kind == LifeEventKind::kPreemption;
  EXPECT_EQ(preemptions, 1);
}

TEST(ClusterLife, AFailedJobPreemptedDuringDetectionQueuesOnce) {
  // L holds all 4 nodes; GPU 0 fails at 1 h (node 0 down for 30 min), L is detecting for 10 min
  // when H (priority 10, 2 nodes, 1 h) arrives at 1 h 05 and preempts it: L is released then and
  // queued once, H runs on nodes 1-2 from 1 h 05 to 2 h 05, and L (all 4 nodes) starts again when
  // H ends (node 0 is back at 1 h 30).
  const Topology t = Nodes(4);
  SchedulerConfig sc;
  sc.policy = Policy::kPriority;
  JobSpec low = Training("L", 32, Hours(3));
  JobSpec high = Training("H", 16, Hours(1), Minutes(65));
  high.priority = 10;
  FailureModel m;
  ClusterLifeOptions o;
  o.detection = Minutes(10);
  o.restart_overhead = Minutes(5);
  o.scripted_failures = {ScriptedFailure(t, m, ComponentKind::kGpu, 0, Hours(1), Minutes(30))};
  EventQueue q;
  ClusterLife life(t, sc, std::nullopt, {low, high}, 1, o, q);
  life.RunUntil(Hours(10));
  ASSERT_EQ(life.attempts().size(), 3u);
  EXPECT_EQ(life.attempts()[0].how, AttemptEnd::kFailed);
  EXPECT_EQ(life.attempts()[0].end, Minutes(65));  // released by the preemption
  EXPECT_EQ(life.attempts()[1].job, 1);
  EXPECT_EQ(life.attempts()[1].start, Minutes(65));
  EXPECT_EQ(life.attempts()[2].job, 0);
  EXPECT_EQ(life.attempts()[2].start, Minutes(125));
  EXPECT_EQ(life.job_life(0).failures, 1);
  EXPECT_EQ(life.job_life(0).preemptions, 0);  // already stopped: not a second loss
  // No checkpoints: the hour computed is lost; restart = 5 min detection held + 5 min reload.
  EXPECT_DOUBLE_EQ(life.job_life(0).lost_s, 3600);
  EXPECT_DOUBLE_EQ(life.job_life(0).restart_s, 600);
  EXPECT_EQ(life.attempts()[2].end, Minutes(125 + 5 + 180));
}

TEST(ClusterLife, AddJobArrivesLater) {
  // A job added at 1 h for a submit time already past starts at once and runs its 2 h.
  const Topology t = Nodes(4);
  EventQueue q;
  ClusterLife life(t, {}, std::nullopt, {}, 1, {}, q);
  q.RunUntil(Hours(1));
  const JobId id = life.AddJob(Training("late", 16, Hours(2), Minutes(30)), Hours(1));
  EXPECT_EQ(id, 0);
  life.RunUntil(Hours(5));
  ASSERT_EQ(life.attempts().size(), 1u);
  EXPECT_EQ(life.attempts()[0].start, Hours(1));
  EXPECT_EQ(life.attempts()[0].end, Hours(3));
  EXPECT_EQ(life.stats().wait_p50_s, 1800);  // from its submit time
  EXPECT_EQ(life.samples().size(), 5u);      // 1 h .. 5 h (none at 0: nothing decided yet)
}

// A job added at the instant another arrives is decided with it (issue #11): under the priority
// policy a preemptible 4-node job arrives at 0, and an event of that instant adds a 2-node job of
// higher priority. The pass of that instant starts the added job and leaves the other waiting
// until it ends at 1 h (it ran 1 h to 3 h); it used to start the first job, then preempt it at 0
// for the added one: an attempt from 0 to 0.
TEST(ClusterLife, AJobAddedAtAnArrivalsInstantIsDecidedWithIt) {
  const Topology t = Nodes(4);
  SchedulerConfig sc;
  sc.policy = Policy::kPriority;
  EventQueue q;
  ClusterLife life(t, sc, std::nullopt, {Training("low", 32, Hours(2))}, 1, {}, q);
  JobSpec high = Training("high", 16, Hours(1));
  high.priority = 10;
  q.Schedule(SimTime(), "add", [&] { life.AddJob(high, SimTime()); });
  life.RunUntil(Hours(5));
  for (const Attempt& a : life.attempts()) {
    std::printf("attempt of job %d: %.0f s to %.0f s\n", a.job, a.start.seconds(), a.end.seconds());
  }
  ASSERT_EQ(life.attempts().size(), 2u);
  EXPECT_EQ(life.attempts()[0].job, 1);
  EXPECT_EQ(life.attempts()[0].start, SimTime());
  EXPECT_EQ(life.attempts()[0].end, Hours(1));
  EXPECT_EQ(life.attempts()[1].job, 0);
  EXPECT_EQ(life.attempts()[1].start, Hours(1));
  EXPECT_EQ(life.attempts()[1].end, Hours(3));
  EXPECT_EQ(life.job_life(0).preemptions, 0);
  EXPECT_TRUE(life.preemptions().empty());
}

// Records what ClusterLife tells it and runs every job at half speed.
class HalfSpeedHost : public Host {
 public:
  ClusterLife* life = nullptr;
  std::vector<std::string> calls;
  void Start(JobId job, const std::vector<int>& nodes, SimTime now) override {
    calls.push_back("start " + std::to_string(job) + " on " + std::to_string(nodes.size()));
    life->SetSpeed(job, 0.5, now);
  }
  void Stop(JobId job, SimTime) override { calls.push_back("stop " + std::to_string(job)); }
  void SetPhase(JobId job, JobPhase p, SimTime) override {
    calls.push_back(std::string(JobPhaseName(p)) + " " + std::to_string(job));
  }
};

TEST(ClusterLife, HostSpeedStretchesTheJobAndCountsAsSlowdown) {
  const Topology t = Nodes(4);
  JobSpec j = Training("slow", 32, Hours(1));
  j.checkpoint.interval = Minutes(40);
  j.checkpoint.write = Minutes(1);
  HalfSpeedHost host;
  EventQueue q;
  ClusterLife life(t, {}, std::nullopt, {j}, 1, {}, q, &host);
  host.life = &life;
  life.RunUntil(Hours(5));
  // 40 min of progress in 80 min, a 1 min write, 20 min of progress in 40 min: ends at 2 h 1 min.
  EXPECT_EQ(life.attempts()[0].end, Hours(2) + Minutes(1));
  EXPECT_DOUBLE_EQ(life.job_life(0).slowdown_s, 3600);
  // Two slowed stretches (the report's Gantt marks): the checkpoint's write is no computing.
  ASSERT_EQ(life.slowdowns().size(), 2u);
  EXPECT_EQ(life.slowdowns()[0].from, SimTime());
  EXPECT_EQ(life.slowdowns()[0].to, Minutes(80));
  EXPECT_EQ(life.slowdowns()[0].speed, 0.5);
  EXPECT_EQ(life.slowdowns()[1].from, Minutes(81));
  EXPECT_EQ(life.slowdowns()[1].to, Hours(2) + Minutes(1));
  EXPECT_EQ(host.calls, (std::vector<std::string>{"start 0 on 4", "computing 0", "checkpointing 0",
                                                  "computing 0", "stop 0"}));
}

// A busy small cluster with random failures (component rates x 30 to have many) and a priority
// mix: the books balance and two runs agree.
struct BusyRun {
  std::vector<Attempt> attempts;
  std::vector<FailureRecord> failures;
  Goodput goodput;
  SchedulerStats stats;
};
BusyRun Busy(uint64_t seed) {
  const Topology t = Nodes(64, 16);
  FailureModel m = DefaultFailureModel();
  for (FailureCauseRate& c : m.causes) c.per_1000_component_days *= 30;
  m.causes.push_back({"leaf switch", ComponentKind::kLeaf, 5});
  m.kind(ComponentKind::kHbm).weibull_shape = 0.8;
  SchedulerConfig sc;
  sc.policy = Policy::kPriority;
  std::vector<JobSpec> jobs;
  RngStream rng(seed, "test jobs");
  for (int i = 0; i < 400; ++i) {
    JobSpec j = Training("j" + std::to_string(i), 8 << (rng.NextU64() % 6),
                         Minutes(10 + 600 * rng.Uniform()), Hours(rng.Uniform() * 150));
    j.priority = static_cast<int>(rng.NextU64() % 3);
    j.checkpoint.interval = rng.Uniform() < 0.5 ? SimTime() : Minutes(30);
    j.checkpoint.write = Minutes(1);
    jobs.push_back(j);
  }
  ClusterLifeOptions o;
  o.exclude_after_failures = 4;
  o.restart_stagger = Seconds(30);
  EventQueue q;
  ClusterLife life(t, sc, m, jobs, seed, o, q);
  life.RunUntil(Hours(240));
  // Each job's allocated time (its attempts) is exactly its useful + lost + slowdown +
  // checkpoint + restart time.
  std::vector<double> held(jobs.size(), 0);
  for (const Attempt& a : life.attempts()) held[a.job] += (a.end - a.start).seconds();
  for (size_t i = 0; i < jobs.size(); ++i) {
    const JobLife& l = life.job_life(static_cast<JobId>(i));
    if (l.first_start == SimTime::Never()) continue;
    const double parts = l.useful_s + l.lost_s + l.slowdown_s + l.checkpoint_s + l.restart_s;
    EXPECT_NEAR(parts, held[i], 1e-3) << jobs[i].name;
  }
  return {life.attempts(), life.failures(), life.goodput(), life.stats()};
}

TEST(ClusterLife, BooksBalanceAndRunsAreDeterministic) {
  const BusyRun a = Busy(9);
  const BusyRun b = Busy(9);
  ASSERT_EQ(a.attempts.size(), b.attempts.size());
  for (size_t i = 0; i < a.attempts.size(); ++i) {
    EXPECT_EQ(a.attempts[i].job, b.attempts[i].job);
    EXPECT_EQ(a.attempts[i].start, b.attempts[i].start);
    EXPECT_EQ(a.attempts[i].end, b.attempts[i].end);
    EXPECT_EQ(a.attempts[i].how, b.attempts[i].how);
  }
  ASSERT_EQ(a.failures.size(), b.failures.size());
  for (size_t i = 0; i < a.failures.size(); ++i) {
    EXPECT_EQ(a.failures[i].failure.at, b.failures[i].failure.at);
    EXPECT_EQ(a.failures[i].jobs_hit, b.failures[i].jobs_hit);
  }
  EXPECT_EQ(a.goodput.ettr, b.goodput.ettr);
  EXPECT_EQ(a.stats.wait_p99_s, b.stats.wait_p99_s);
  const Goodput& g = a.goodput;
  const SchedulerStats& s = a.stats;
  std::printf("attempts %zu, failures %zu, interruptions %d, preemptions %d, excluded %d\n",
              a.attempts.size(), a.failures.size(), s.interruptions, s.preemptions,
              s.excluded_nodes);
  std::printf(
      "ETTR %.4f, runtime goodput %.4f, useful %.0f GPU-h; badput GPU-h: queueing %.0f, "
      "checkpoint %.0f, restart %.0f, lost %.0f, repair downtime %.0f, slowdown %.0f\n",
      g.ettr, g.runtime_goodput, g.useful_gpu_h, g.badput.queueing_gpu_h,
      g.badput.checkpoint_save_gpu_h, g.badput.restart_gpu_h, g.badput.lost_progress_gpu_h,
      g.badput.repair_downtime_gpu_h, g.badput.slowdown_gpu_h);
  std::printf(
      "wait p50 %.0f s, p90 %.0f s, p99 %.0f s; utilization %.3f; allocated %.0f, idle "
      "%.0f, down %.0f GPU-h; fragmented %.1f of %.1f free GPUs\n",
      s.wait_p50_s, s.wait_p90_s, s.wait_p99_s, s.utilization, s.allocated_gpu_h, s.idle_gpu_h,
      s.down_gpu_h, s.fragmented_gpus_mean, s.free_gpus_mean);
  EXPECT_GT(s.interruptions, 50);
  EXPECT_GT(s.preemptions, 0);
  EXPECT_GT(g.badput.lost_progress_gpu_h, 0);
  EXPECT_GT(g.ettr, 0);
  EXPECT_LT(g.ettr, 1);
  // allocated + idle + down = capacity: a down node held through detection counts once.
  EXPECT_NEAR(s.allocated_gpu_h + s.idle_gpu_h + s.down_gpu_h, 64 * 8 * 240, 64 * 8 * 240 * 1e-12);
  EXPECT_NE(Busy(10).attempts.size(), 0u);
}

}  // namespace
}  // namespace firstwall::scheduler
