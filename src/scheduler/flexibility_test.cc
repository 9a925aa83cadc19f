// The queue's side of power- and carbon-aware scheduling: a host whose gate is closed over given
// hours holds flexible first starts, by hand-computed times.
#include "scheduler/flexibility.h"

#include <cmath>
#include <cstdio>
#include <string>
#include <tuple>
#include <vector>

#include <gtest/gtest.h>

#include "scheduler/cluster_life.h"

namespace firstwall::scheduler {
namespace {

SimTime Seconds(double s) { return SimTime::FromNanoseconds(std::llround(s * 1e9)); }
SimTime Minutes(double m) { return Seconds(60 * m); }
SimTime Hours(double h) { return Seconds(3600 * h); }

JobSpec Job(std::string name, int gpus, SimTime work, SimTime submit, bool flexible) {
  JobSpec j;
  j.name = std::move(name);
  j.tenant = "t";
  j.gpus = gpus;
  j.work = work;
  j.submit = submit;
  j.flexible = flexible;
  return j;
}

Topology Nodes(int nodes) {
  Topology t;
  t.nodes = nodes;
  t.gpus_per_node = 8;
  t.nodes_per_rack = 4;
  t.nodes_per_leaf = nodes;
  t.nodes_per_pod = nodes;
  return t;
}

// A tariff's expensive hours as a gate: closed from `from` to `to` (hours since time zero), every
// day. Counts how often it is asked.
class HoursHost final : public Host {
 public:
  HoursHost(double from_h, double to_h) : from_h_(from_h), to_h_(to_h) {}
  void Start(JobId, const std::vector<int>&, SimTime) override {}
  void Stop(JobId, SimTime) override {}
  void SetPhase(JobId, JobPhase, SimTime) override {}
  bool MayStartFlexible(SimTime now) override {
    ++asked;
    const double h = std::fmod(static_cast<double>(now.ns()) / 3.6e12, 24.0);
    return !(h >= from_h_ && h < to_h_);
  }
  int asked = 0;

 private:
  double from_h_, to_h_;
};

ClusterLifeOptions Flexible(SimTime max_delay) {
  ClusterLifeOptions o;
  o.flexibility.enabled = true;
  o.flexibility.max_delay = max_delay;
  o.sample_every = SimTime::Never();
  return o;
}

TEST(Flexibility, FlexibleJobSubmittedInExpensiveHoursStartsAtTheCheapHour) {
  // Expensive from 14:00 to 20:00. A flexible job submitted at 15:20 starts at 20:00 exactly (the
  // first hour edge at which the gate is open: 16, 17, 18 and 19 are closed); a rigid one
  // submitted at the same instant starts at once.
  HoursHost host(14, 20);
  EventQueue q;
  ClusterLife life(Nodes(4), {}, std::nullopt,
                   {Job("flex", 8, Hours(2), Minutes(15 * 60 + 20), true),
                    Job("rigid", 8, Hours(2), Minutes(15 * 60 + 20), false)},
                   1, Flexible(SimTime::Never()), q, &host);
  life.RunUntil(Hours(30));
  std::printf("flex start %.3f h, rigid start %.3f h, gate asked %d times\n",
              life.job_life(0).first_start.seconds() / 3600,
              life.job_life(1).first_start.seconds() / 3600, host.asked);
  EXPECT_EQ(life.job_life(0).first_start, Hours(20));
  EXPECT_EQ(life.job_life(1).first_start, Minutes(15 * 60 + 20));
  EXPECT_EQ(life.job_life(0).end, Hours(22));
  // Asked at the submit and at 16, 17, 18, 19 and 20 h: hour edges only, not per tick.
  EXPECT_EQ(host.asked, 6);
  const HoldRecord& r = life.flexible_hold()->records()[0];
  EXPECT_EQ(r.held_at, Minutes(15 * 60 + 20));
  EXPECT_EQ(r.released, Hours(20));
  EXPECT_FALSE(r.by_deadline);
  EXPECT_DOUBLE_EQ(life.flexible_hold()->HeldSeconds(0, Hours(30)), 4 * 3600 + 40 * 60);
  // The hold is queueing: 4 h 40 min x 8 GPUs.
  EXPECT_DOUBLE_EQ(life.job_life(0).queued_s, 4 * 3600 + 40 * 60);
}

TEST(Flexibility, MaxDelayReleasesTheJobWhateverTheGate) {
  // Same hours, max_delay 3 h: submitted at 15:20, it starts at 18:20 with the gate still closed.
  HoursHost host(14, 20);
  EventQueue q;
  ClusterLife life(Nodes(4), {}, std::nullopt,
                   {Job("flex", 8, Hours(2), Minutes(15 * 60 + 20), true)}, 1, Flexible(Hours(3)),
                   q, &host);
  life.RunUntil(Hours(30));
  EXPECT_EQ(life.job_life(0).first_start, Minutes(18 * 60 + 20));
  EXPECT_TRUE(life.flexible_hold()->records()[0].by_deadline);
}

TEST(Flexibility, ADeadlineEndsTheHoldAtTheLatestStart) {
  // Same hours, no max_delay. Submitted at 15:20 for 2 h of work, due at 19:00: the hold ends at
  // its latest start, 17:00, and the job meets its deadline. Due at 16:00 instead, its latest
  // start (14:00) is past at submission: it is not held, starts at 15:20 and misses the deadline.
  for (const auto& [due, start, missed] : {std::tuple{Hours(19), Hours(17), false},
                                           std::tuple{Hours(16), Minutes(15 * 60 + 20), true}}) {
    HoursHost host(14, 20);
    EventQueue q;
    JobSpec flex = Job("flex", 8, Hours(2), Minutes(15 * 60 + 20), true);
    flex.deadline = due;
    EXPECT_EQ(LatestStart(flex, INFINITY), due - Hours(2));
    ClusterLife life(Nodes(4), {}, std::nullopt, {flex}, 1, Flexible(SimTime::Never()), q, &host);
    life.RunUntil(Hours(30));
    EXPECT_EQ(life.job_life(0).first_start, start);
    const SchedulerStats st = life.stats();
    EXPECT_EQ(st.jobs_with_deadline, 1);
    EXPECT_EQ(st.deadlines_missed, missed ? 1 : 0);
    const auto& records = life.flexible_hold()->records();
    EXPECT_EQ(records.empty() || records[0].held_at == SimTime::Never(), missed);
    // Released for its deadline, not by max_delay.
    if (!missed) {
      EXPECT_TRUE(records[0].by_latest_start && !records[0].by_deadline);
    }
  }
}

TEST(Flexibility, ADeadlineIsMissedOnlyOnceItHasPassed) {
  JobSpec j = Job("j", 8, Hours(2), Hours(0), false);
  JobLife life;
  EXPECT_FALSE(DeadlineMissed(j, life, Hours(10)));  // no deadline
  j.deadline = Hours(5);
  life.completed = true;
  life.end = Hours(5);
  EXPECT_FALSE(DeadlineMissed(j, life, Hours(10)));  // done on time
  life.end = Hours(6);
  EXPECT_TRUE(DeadlineMissed(j, life, Hours(10)));  // done late
  life.completed = false;
  EXPECT_FALSE(DeadlineMissed(j, life, Hours(4)));  // still running, the run ended before 5 h
  EXPECT_TRUE(DeadlineMissed(j, life, Hours(5)));
  j.work = SimTime::Never();
  EXPECT_EQ(LatestStart(j, INFINITY), Hours(5));
  j.work = Hours(8);  // more work than time: start at once
  EXPECT_EQ(LatestStart(j, INFINITY), SimTime());
  // 2 h of work checkpointed every 20 min of work, 90 s a write: five writes (none at the end).
  j.work = Hours(2);
  j.checkpoint.write = Seconds(90);
  EXPECT_EQ(LatestStart(j, 1200), Hours(3) - Seconds(450));
  EXPECT_EQ(LatestStart(j, 1800), Hours(3) - Seconds(270));  // three writes
}

TEST(Flexibility, OpenGateHoldsNothing) {
  // Submitted at 10:00 (cheap): starts at once. A second flexible job submitted at 13:30 starts at
  // 13:30 too; nothing is held, and no gate check is ever scheduled.
  HoursHost host(14, 20);
  EventQueue q;
  ClusterLife life(
      Nodes(4), {}, std::nullopt,
      {Job("a", 8, Hours(1), Hours(10), true), Job("b", 8, Hours(1), Minutes(13 * 60 + 30), true)},
      1, Flexible(SimTime::Never()), q, &host);
  life.RunUntil(Hours(24));
  EXPECT_EQ(life.job_life(0).first_start, Hours(10));
  EXPECT_EQ(life.job_life(1).first_start, Minutes(13 * 60 + 30));
  EXPECT_EQ(host.asked, 2);
}

TEST(Flexibility, HeldJobDoesNotBlockFcfsAndKeepsItsPlace) {
  // One node. FCFS. A flexible 2-hour job submitted at 15:00 is held; a rigid 1-hour job submitted
  // at 16:00 runs at once (the held job is not the head of the queue): 16:00-17:00. A rigid job
  // submitted at 19:30 for 3 h holds the node 19:30-22:30, so the flexible one, released at the
  // 20:00 edge, starts at 22:30; a rigid job
  // submitted at 21:00 queues behind it (FCFS by submit time: 15:00 before 21:00), and starts at
  // 00:30.
  HoursHost host(14, 20);
  EventQueue q;
  ClusterLife life(
      Nodes(1), {}, std::nullopt,
      {Job("flex", 8, Hours(2), Hours(15), true), Job("early", 8, Hours(1), Hours(16), false),
       Job("long", 8, Hours(3), Minutes(19 * 60 + 30), false),
       Job("late", 8, Hours(1), Hours(21), false)},
      1, Flexible(SimTime::Never()), q, &host);
  life.RunUntil(Hours(30));
  EXPECT_EQ(life.job_life(1).first_start, Hours(16));
  EXPECT_EQ(life.job_life(2).first_start, Minutes(19 * 60 + 30));
  EXPECT_EQ(life.job_life(0).first_start, Minutes(22 * 60 + 30));
  EXPECT_EQ(life.job_life(3).first_start, Minutes(24 * 60 + 30));
}

TEST(Flexibility, HeldJobGetsNoEasyReservation) {
  // Two nodes, EASY. rigid A (1 node) runs 14:00-22:00. Flexible B (2 nodes) is submitted at
  // 15:00 and held. Rigid C (1 node, 10 h) is submitted at 16:00: were B queued, it would be the
  // head with a reservation at 22:00 on both nodes, and C (ending at 02:00) could not backfill.
  // Held, B reserves nothing: C starts at 16:00. B, released at 20:00, waits for both nodes:
  // A's at 22:00 and C's at 02:00 (26 h).
  HoursHost host(14, 20);
  EventQueue q;
  SchedulerConfig easy;
  easy.policy = Policy::kEasyBackfill;
  ClusterLife life(
      Nodes(2), easy, std::nullopt,
      {Job("A", 8, Hours(8), Hours(14), false), Job("B", 16, Hours(1), Hours(15), true),
       Job("C", 8, Hours(10), Hours(16), false)},
      1, Flexible(SimTime::Never()), q, &host);
  life.RunUntil(Hours(30));
  EXPECT_EQ(life.job_life(0).first_start, Hours(14));
  EXPECT_EQ(life.job_life(2).first_start, Hours(16));
  EXPECT_EQ(life.job_life(1).first_start, Hours(26));

  // Without flexibility B is the head at 15:00 and reserves both nodes at 22:00: C waits, B runs
  // 22:00-23:00, C starts at 23:00.
  EventQueue q0;
  ClusterLifeOptions rigid = Flexible(SimTime::Never());
  rigid.flexibility.enabled = false;
  ClusterLife base(
      Nodes(2), easy, std::nullopt,
      {Job("A", 8, Hours(8), Hours(14), false), Job("B", 16, Hours(1), Hours(15), true),
       Job("C", 8, Hours(10), Hours(16), false)},
      1, rigid, q0, &host);
  base.RunUntil(Hours(30));
  EXPECT_EQ(base.job_life(1).first_start, Hours(22));
  EXPECT_EQ(base.job_life(2).first_start, Hours(23));
}

}  // namespace
}  // namespace firstwall::scheduler
