// The loop between the queue (scheduler::ClusterLife) and the site's physics (LifeHost), with
// hand-computed figures: storage contention stretches checkpoint writes, a tripped unit of the
// power chain interrupts the queue's job, PDU and CDU failures darken and throttle racks, a spine
// failure takes its links down.
#include "site/life.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>

#include "core/engine.h"
#include "site/test_sites.h"

namespace firstwall::site {
namespace {
using namespace units;
using scheduler::ComponentKind;
using scheduler::JobId;

SimTime S(double seconds) { return SimTime::From(Seconds(seconds)); }

// testing::BareSite with a queue: detection 10 s, reload 5 s, only scripted failures.
SiteConfig LifeSite(int nodes) {
  SiteConfig c = BareTestSite(nodes);
  LifeConfig life;
  life.options.detection = S(10);
  life.options.restart_overhead = S(5);
  life.options.sample_every = SimTime::Never();
  life.failures = scheduler::FailureModel{};  // no random failures: only scripted ones
  c.life = life;
  return c;
}

// A trace-like job: `gpus` GPUs at `activity`, `work_s` seconds of work, submitted at `submit_s`.
scheduler::JobSpec Batch(const std::string& name, int gpus, double activity, double work_s,
                         double submit_s = 0) {
  scheduler::JobSpec j;
  j.name = name;
  j.tenant = "t";
  j.gpus = gpus;
  j.gpu_activity = activity;
  j.work = S(work_s);
  j.submit = S(submit_s);
  return j;
}

// The scenario's queue on its site, run to `end` and closed.
struct LifeRun {
  explicit LifeRun(const SiteConfig& c)
      : config(c), site(SiteForLife(c)), engine(c.tick, c.duration) {
    engine.AddModel(&site);
    site.ScheduleEvents(engine.events());
    host = std::make_unique<LifeHost>(config, site, engine.events());
  }
  void Run() {
    engine.Run();
    host->life().Finish(config.duration);
  }
  const scheduler::ClusterLife& life() const { return host->life(); }

  SiteConfig config;
  Site site;
  Engine engine;
  std::unique_ptr<LifeHost> host;
};

// Records a rack's power in every window.
class RackProbe final : public Observer {
 public:
  RackProbe(const Site& site, size_t rack) : site_(site), rack_(rack) {}
  void OnWindow(SimTime from, SimTime to) override {
    windows_.push_back({from, to, ToWatts(site_.rack_it(rack_))});
  }
  // The rack's power in the window holding `t`.
  double At(SimTime t) const {
    for (const Window& w : windows_) {
      if (w.from <= t && t < w.to) return w.watts;
    }
    ADD_FAILURE() << "no window holds " << t.seconds();
    return -1;
  }

 private:
  struct Window {
    SimTime from, to;
    double watts;
  };
  const Site& site_;
  size_t rack_;
  std::vector<Window> windows_;
};

// Two one-node jobs checkpoint every 50 s of progress with a 10 s nominal write (the rate alone:
// min(100 GB/s of front-end NICs, 10 GB/s of storage) = 10 GB/s, so 100 GB). a starts at 0, b at 5.
//   a writes alone 50-55 s (half its bytes), then both share 10 GB/s at 5 GB/s each (I/O speed
//   0.5): a's other half takes 10 s, done at 65; b wrote 5 s' worth by then, and its last 5 s'
//   worth alone, done at 70. Each wrote for 15 s instead of 10.
//   a ends at 65 + 50 = 115 s, b at 70 + 50 = 120 s (alone: 110 and 115).
TEST(LifeHost, CheckpointWritesShareTheStorageNetwork) {
  SiteConfig c = LifeSite(4);
  c.cluster.frontend_per_node = GigabytesPerSecond(100);
  c.cluster.storage_bandwidth = GigabytesPerSecond(10);
  c.duration = S(130);
  for (const auto& [name, submit] : {std::pair{"a", 0.0}, std::pair{"b", 5.0}}) {
    scheduler::JobSpec j = Batch(name, 8, 0.5, 100, submit);
    j.checkpoint.interval = S(50);
    j.checkpoint.write = S(10);
    c.life->jobs.push_back(j);
  }
  LifeRun run(c);
  run.Run();
  const scheduler::JobLife& a = run.life().job_life(0);
  const scheduler::JobLife& b = run.life().job_life(1);
  std::printf("checkpoint write a %.3f s, b %.3f s (expected 15, 15; alone 10)\n", a.checkpoint_s,
              b.checkpoint_s);
  std::printf("end a %.3f s, b %.3f s (expected 115, 120); storage peak %.3f (expected 1)\n",
              a.end.seconds(), b.end.seconds(), run.site.storage_peak_utilization());
  EXPECT_NEAR(a.checkpoint_s, 15, 1e-9);
  EXPECT_NEAR(b.checkpoint_s, 15, 1e-9);
  EXPECT_TRUE(a.completed);
  EXPECT_TRUE(b.completed);
  EXPECT_EQ(a.end, S(115));
  EXPECT_EQ(b.end, S(120));
  EXPECT_EQ(a.checkpoints, 1);
  EXPECT_DOUBLE_EQ(run.site.storage_peak_utilization(), 1.0);
  // checkpoint_save badput: 8 GPUs x 15 s each.
  EXPECT_NEAR(run.life().goodput().badput.checkpoint_save_gpu_h, 2 * 8 * 15 / 3600.0, 1e-12);
}

// A restart's reload reads the checkpoint back over the same network; its warm-up does not. Two
// jobs restarting at once (one PDU failure stops both) each reload at half the rate. PDU 0 feeds
// racks 0 and 1 (nodes 0-3); a and b run there from 0 s, checkpointing every 1,000 s with a 5 s
// write (50 GB at the 10 GB/s of storage alone), so none is written before the end; the restart
// overhead is 8 s: 5 s of reload alone + 3 s of warm-up. PDU 0 fails at 20 s for 1,000 s: both
// lose their 20 s of work, are detected at 30 s, restart at once on nodes 4 and up, reload 50 GB
// each at 5 GB/s of the 10 (10 s, to 40 s), warm up 3 s (to 43 s; contention does not stretch
// it) and compute 100 s: both end at 143 s; restart time 10 s of detection + 10 + 3. (Stretching
// the whole 8 s as storage I/O gave 16 s: 146 s.)
TEST(LifeHost, RestartsReloadOverTheSharedStorageNetwork) {
  SiteConfig c = LifeSite(8);
  c.cluster.frontend_per_node = GigabytesPerSecond(100);
  c.cluster.storage_bandwidth = GigabytesPerSecond(10);
  c.duration = S(160);
  c.life->options.restart_overhead = S(8);
  c.life->failures->domains.racks_per_pdu = 2;
  c.life->scripted.push_back({ComponentKind::kPdu, 0, S(20), S(1000)});
  c.life->jobs = {Batch("a", 8, 0.5, 100), Batch("b", 8, 0.5, 100)};
  for (scheduler::JobSpec& j : c.life->jobs) {
    j.checkpoint.interval = S(1000);
    j.checkpoint.write = S(5);
  }
  LifeRun run(c);
  run.Run();
  for (JobId j : {0, 1}) {
    const scheduler::JobLife& l = run.life().job_life(j);
    std::printf(
        "job %d: restart %.3f s (expected detection 10 + reload 10 + warm-up 3), end %.3f s "
        "(expected 143)\n",
        j, l.restart_s, l.end.seconds());
    EXPECT_NEAR(l.restart_s, 23, 1e-9);
    EXPECT_NEAR(l.lost_s, 20, 1e-9);
    EXPECT_EQ(l.end, S(143));
    EXPECT_EQ(l.failures, 1);
    EXPECT_EQ(l.checkpoints, 0);
  }
}

// Four racks of two nodes; a PSU per rack, PDUs of two racks rated 15 kW that trip. The queue's
// job a (16 GPUs at full activity) starts on nodes 0 and 1 (rack 0): rack 0 draws 2 x (8 x 700 +
// 1000) = 13,200 W, rack 1 idles at 3,600 W; through the PSUs ((13,200 + 50) + (3,600 + 50)) /
// 0.95 = 17,789 W > 15 kW: PDU 0 trips at the end of the first window (1 s). The queue hears it:
// nodes 0-3 are lost for good, a is interrupted (a host_stop event, power_trip), detected at 11 s,
// restarts on nodes 4 and 5 (5 s of warm-up, nothing to reload: idle, no trip), computes from 16 s,
// trips PDU 1 at 17 s, is detected at 27 s and waits: no node is left.
TEST(LifeHost, ATrippedPduInterruptsTheQueuesJob) {
  SiteConfig c = LifeSite(8);
  power::ConversionStage pdu{"pdu", 0.98, Watts(20), Kilowatts(15)};
  pdu.racks_per_unit = 2;
  pdu.on_overload = power::OverloadPolicy::kTrip;
  c.facility.power_chain[0].racks_per_unit = 1;
  c.facility.power_chain.insert(c.facility.power_chain.begin() + 1, pdu);
  c.duration = S(30);
  c.life->jobs = {Batch("a", 16, 1.0, 1000)};
  LifeRun run(c);
  run.Run();
  const scheduler::ClusterLife& life = run.life();
  ASSERT_EQ(life.attempts().size(), 2u);
  EXPECT_EQ(life.attempts()[0].start, S(0));
  EXPECT_EQ(life.attempts()[0].end, S(11));  // held through detection
  EXPECT_EQ(life.attempts()[0].how, scheduler::AttemptEnd::kFailed);
  EXPECT_EQ(life.attempts()[1].start, S(11));
  EXPECT_EQ(life.attempts()[1].end, S(27));
  EXPECT_EQ(life.attempts()[1].how, scheduler::AttemptEnd::kFailed);
  std::vector<SimTime> stops;
  std::vector<int64_t> stop_units, lost_units;
  int exclusions = 0;
  for (const scheduler::LifeEvent& e : life.events()) {
    if (e.kind == scheduler::LifeEventKind::kHostStop) {
      stops.push_back(e.at);
      EXPECT_EQ(e.cause, "power_trip");
      EXPECT_EQ(e.job, 0);
      EXPECT_EQ(e.stage, "pdu");  // the tripped unit: stage and index
      stop_units.push_back(e.unit);
    }
    if (e.kind == scheduler::LifeEventKind::kExclusion) {
      ++exclusions;
      EXPECT_EQ(e.stage, "pdu");
      lost_units.push_back(e.unit);
    }
  }
  // PDU 0 (racks 0-1: nodes 0-3), then PDU 1 (racks 2-3: nodes 4-7).
  EXPECT_EQ(stop_units, (std::vector<int64_t>{0, 1}));
  EXPECT_EQ(lost_units, (std::vector<int64_t>{0, 0, 0, 0, 1, 1, 1, 1}));
  std::printf("host stops at %.0f s and %.0f s (expected 1 and 17), %d nodes lost (expected 8)\n",
              stops.size() > 0 ? stops[0].seconds() : -1,
              stops.size() > 1 ? stops[1].seconds() : -1, exclusions);
  EXPECT_EQ(stops, (std::vector<SimTime>{S(1), S(17)}));
  EXPECT_EQ(exclusions, 8);
  EXPECT_EQ(life.job_life(0).failures, 2);
  EXPECT_EQ(life.stats().interruptions, 2);
  EXPECT_EQ(life.stats().excluded_nodes, 8);
  EXPECT_EQ(life.queued(), 1);
  // Useful work: 1 s before the first trip, 1 s before the second; both lost (no checkpoints).
  EXPECT_NEAR(life.job_life(0).lost_s, 2, 1e-9);
}

// PDU 0 (rack 0: nodes 0 and 1) fails at 10 s for 20 s. The job on node 0 stops (detected at 20 s,
// it restarts on node 2, rack 1); rack 0 draws nothing from the failure to the repair, and two idle
// nodes (2 x 1,800 W) after it.
TEST(LifeHost, AFailedPduDarkensItsRacksUntilRepaired) {
  SiteConfig c = LifeSite(4);
  c.duration = S(40);
  c.life->scripted.push_back({ComponentKind::kPdu, 0, S(10), S(20)});
  c.life->jobs = {Batch("a", 8, 0.5, 1000)};
  LifeRun run(c);
  RackProbe rack0(run.site, 0), rack1(run.site, 1);
  run.engine.AddObserver(&rack0);
  run.engine.AddObserver(&rack1);
  run.Run();
  // A busy node at activity 0.5: 8 x 400 + 1,000 = 4,200 W; an idle one 8 x 100 + 1,000 = 1,800 W.
  std::printf("rack 0: %.0f W before, %.0f W failed, %.0f W repaired (expected 6000, 0, 3600)\n",
              rack0.At(S(5)), rack0.At(S(15)), rack0.At(S(35)));
  EXPECT_DOUBLE_EQ(rack0.At(S(9.5)), 4200 + 1800);
  EXPECT_DOUBLE_EQ(rack0.At(S(10)), 0);
  EXPECT_DOUBLE_EQ(rack0.At(S(29.5)), 0);
  EXPECT_DOUBLE_EQ(rack0.At(S(30)), 3600);
  EXPECT_DOUBLE_EQ(rack1.At(S(35)), 4200 + 1800);  // a runs on node 2 since 20 s (+5 s reload)
  EXPECT_EQ(run.life().attempts().at(1).start, S(20));
}

// CDU 0 (rack 0) fails at 10 s for 20 s and throttles: the GPUs of the job on node 0 (activity 1,
// 700 W) are held to max(idle, 0.5 x 700) = 350 W, a clock of ((350 - 100) / (700 - 100))^(1/3) =
// 0.7469 (power/gpu_power.h). 100 s of work: 10 s at speed 1, 20 s at 0.7469 (14.94 s of work),
// the last 75.06 s at speed 1 from 30 s: it ends at 105.06 s, with 20 x (1 - 0.7469) = 5.06 s of
// slowdown.
TEST(LifeHost, AThrottlingCduPowerLimitsItsRacksGpus) {
  SiteConfig c = LifeSite(4);
  c.duration = S(120);
  c.life->scripted.push_back({ComponentKind::kCdu, 0, S(10), S(20)});
  c.life->jobs = {Batch("a", 8, 1.0, 100)};
  LifeRun run(c);
  RackProbe rack0(run.site, 0);
  run.engine.AddObserver(&rack0);
  run.Run();
  const double speed = std::cbrt(250.0 / 600.0);
  const double end_s = 30 + (100 - 10 - 20 * speed);
  const scheduler::JobLife& a = run.life().job_life(0);
  std::printf("throttled speed %.4f; end %.3f s (expected %.3f), slowdown %.3f s (expected %.3f)\n",
              speed, a.end.seconds(), end_s, a.slowdown_s, 20 * (1 - speed));
  EXPECT_DOUBLE_EQ(ToWatts(run.host->CduThrottleLimit()), 350);
  EXPECT_TRUE(a.completed);
  EXPECT_NEAR(a.end.seconds(), end_s, 2e-9);  // the queue's clock is in whole nanoseconds
  EXPECT_NEAR(a.slowdown_s, 20 * (1 - speed), 1e-9);
  EXPECT_EQ(a.failures, 0);
  // Rack 0 while throttled: 8 x 350 + 1,000 W and an idle node of 1,800 W.
  EXPECT_DOUBLE_EQ(rack0.At(S(5)), 8 * 700 + 1000 + 1800);
  EXPECT_DOUBLE_EQ(rack0.At(S(20)), 8 * 350 + 1000 + 1800);
  EXPECT_DOUBLE_EQ(rack0.At(S(35)), 8 * 700 + 1000 + 1800);
}

// A queue's trace jobs (no model) keep only their ids on the site once they end: a year's queue
// starts a million of them. A running one keeps its detail until it stops.
TEST(LifeHost, EndedTraceJobsAreForgottenBySite) {
  SiteConfig c = LifeSite(4);
  c.duration = S(120);
  c.life->jobs = {Batch("a", 8, 1.0, 30), Batch("b", 8, 1.0, 500)};
  LifeRun run(c);
  run.engine.Run();
  ASSERT_EQ(run.site.jobs().size(), 2u);
  EXPECT_FALSE(run.site.jobs().present(0));  // ended at 30 s
  EXPECT_TRUE(run.site.jobs().present(1));   // still running
  EXPECT_EQ(run.site.jobs()[1].config.name, "b");
  EXPECT_EQ(run.site.jobs().throttled_gpu_s(0), 0.0);
  run.host->life().Finish(c.duration);
  EXPECT_FALSE(run.site.jobs().present(1));  // cut by the end of the run
  EXPECT_TRUE(run.life().job_life(0).completed);
  EXPECT_FALSE(run.life().job_life(1).completed);
}

// A spine failure takes every link of that spine down in the fabric until its repair, as a
// scripted `faults: spine:S` does.
TEST(LifeHost, AFailedSpineTakesItsLinksDownUntilRepaired) {
  SiteConfig c = LifeSite(64);
  c.duration = S(40);
  LifeRun probe_run(c);
  ASSERT_GT(probe_run.site.fabric().spine_count(), 1) << "the test needs a two-tier fabric";
  c.life->scripted.push_back({ComponentKind::kSpine, 1, S(10), S(20)});
  LifeRun run(c);
  std::string error;
  const std::vector<int> links = run.site.fabric().TargetLinks("spine:1", &error);
  ASSERT_TRUE(error.empty()) << error;
  ASSERT_FALSE(links.empty());
  std::vector<double> during;
  run.engine.events().Schedule(S(15), "probe", [&] {
    for (int l : links) during.push_back(run.site.fabric().capacity()[l]);
  });
  run.Run();
  for (double cap : during) EXPECT_EQ(cap, 0.0);
  EXPECT_EQ(during.size(), links.size());
  for (int l : links) EXPECT_EQ(run.site.fabric().capacity()[l], run.site.fabric().nominal()[l]);
  std::printf("spine 1: %zu links down from 10 s to 30 s\n", links.size());
}

// A spine failure slows the training job whose traffic crosses it, and the queue books the
// slowdown: the same spines taken down by the queue's failures and by scripted `faults:` give the
// same step on the site, and the queue's slowdown badput is 20 s x (1 - that speed). A 16-node
// fabric of 8-port leaves (four nodes per leaf, 32 spines in eight pods); a filler on nodes 0-1
// puts the 32-GPU data-parallel job on nodes 2-5, across two leaf groups; every spine but spine 0
// fails at 10 s for 20 s, and what is left carries its traffic at a small share.
TEST(LifeHost, AFailedSpineSlowsTheJobsCrossingIt) {
  SiteConfig c = LifeSite(16);
  c.fabric.leaf_radix = 8;
  c.duration = S(60);
  JobConfig train = SmallTrainingJob(c.cluster);
  train.setup.tp = 1;
  train.setup.dp = 32;
  train.setup.global_batch = 32;
  c.jobs.push_back(train);
  scheduler::JobSpec t = Batch("train", 32, 1.0, 1000);
  t.kind = scheduler::JobKind::kTraining;
  t.workload = 0;
  c.life->jobs = {Batch("filler", 16, 0.5, 1000), t};
  SiteConfig scripted = c;  // the same spines down through the site's `faults:`
  const LifeRun healthy(c);
  const network::Fabric& fabric = healthy.site.fabric();
  const int spines = fabric.spine_count();
  ASSERT_EQ(spines, 32);
  for (int sp = 1; sp < spines; ++sp) {
    c.life->scripted.push_back({ComponentKind::kSpine, sp, S(10), S(20)});
    FaultConfig f;
    f.target = "spine:" + std::to_string(sp);
    std::string error;
    f.links = fabric.TargetLinks(f.target, &error);
    f.at = S(10);
    f.end = S(30);
    scripted.faults.push_back(f);
  }
  LifeRun by_queue(c), by_faults(scripted);
  by_queue.Run();
  by_faults.Run();
  const PlacedJob& job = by_queue.site.jobs()[1];
  ASSERT_EQ(job.nodes, (std::vector<int>{2, 3, 4, 5}));
  ASSERT_EQ(job.history.size(), 3u);  // start, spines down, spines back
  EXPECT_EQ(job.history[1].at, S(10));
  EXPECT_EQ(job.history[2].at, S(30));
  const double speed = job.nominal_step / job.history[1].step_time;
  EXPECT_EQ(job.history[2].step_time, job.nominal_step);
  const PlacedJob& same = by_faults.site.jobs()[1];
  ASSERT_EQ(same.history.size(), 3u);
  EXPECT_EQ(same.history[1].step_time, job.history[1].step_time);
  const double slowdown = by_queue.life().job_life(1).slowdown_s;
  std::printf(
      "spines down: speed %.6f; queue slowdown %.6f s (expected 20 x (1 - speed) = %.6f s; "
      "with scripted faults %.6f s)\n",
      speed, slowdown, 20 * (1 - speed), by_faults.life().job_life(1).slowdown_s);
  EXPECT_LT(speed, 0.5);
  EXPECT_NEAR(slowdown, 20 * (1 - speed), 1e-9);
  EXPECT_NEAR(by_faults.life().job_life(1).slowdown_s, slowdown, 1e-12);
}

// A thermal shutdown reaches the queue as an interruption of the job at the same instant, and
// drains its nodes for LifeHost::kThermalDrain (30 min). The hot hall of the site tests with the
// shutdown threshold at 64 C, which even idle GPUs reach (60 C of coolant + 0.04 K/W x 100 W): the
// job (2 of the 3 nodes) shuts down at the end of its first window (1 s); the queue hears it
// (thermal_shutdown), holds nodes 0-1 through detection (10 s), and waits: one node is up. The
// drain ends at 1,801 s; the job restarts on nodes 0-1 and shuts down again at 1,802 s while it
// warms up; drained again to 3,602 s, past the end. Two stops in an hour (without the drain, one
// every 11 s: 328). The peak temperature is the threshold, where the card cuts its power (it read
// the steady temperature of full power before, 315 C in a hall with 0.4 K/W).
TEST(LifeHost, AThermalShutdownInterruptsTheQueuesJobAndDrainsItsNodes) {
  SiteConfig c = LifeSite(3);
  MakeHotChillerless(c);
  c.cluster.gpu.thermal.max_operating = Celsius(60);
  c.cluster.gpu.thermal.slowdown = Celsius(62);
  c.cluster.gpu.thermal.shutdown = Celsius(64);
  c.facility.cooling.chip_to_coolant = KelvinPerWatt(0.4);
  c.duration = S(3600);
  c.life->jobs = {Batch("a", 16, 1.0, 10000)};
  LifeRun run(c);
  run.Run();
  ASSERT_TRUE(run.site.jobs()[0].thermal_shutdown);
  std::vector<SimTime> stops;
  std::vector<const scheduler::LifeEvent*> drains;
  for (const scheduler::LifeEvent& e : run.life().events()) {
    if (e.kind == scheduler::LifeEventKind::kDrain) drains.push_back(&e);
    if (e.kind != scheduler::LifeEventKind::kHostStop) continue;
    EXPECT_EQ(e.cause, "thermal_shutdown");
    stops.push_back(e.at);
  }
  ASSERT_EQ(stops.size(), 2u);
  const scheduler::Attempt& a0 = run.life().attempts()[0];
  const scheduler::Attempt& a1 = run.life().attempts()[1];
  double peak = 0;
  const JobList jobs = run.site.jobs();
  for (size_t j = 0; j < jobs.size(); ++j) {
    if (jobs.present(j)) peak = std::max(peak, jobs[j].chip_peak_c);
  }
  std::printf(
      "shutdowns at %.0f s and %.0f s; attempts %zu; first ended %.0f s, second began %.0f s "
      "(expected the drain's end, 1,801 s); peak GPU %.1f C\n",
      stops[0].seconds(), stops[1].seconds(), run.life().attempts().size(), a0.end.seconds(),
      a1.start.seconds(), peak);
  EXPECT_EQ(stops[0], S(1));  // the site's stop, heard at once
  EXPECT_EQ(stops[1], S(1802));
  EXPECT_EQ(run.life().attempts().size(), 2u);
  EXPECT_EQ(a0.how, scheduler::AttemptEnd::kFailed);
  EXPECT_EQ(a0.end, stops[0] + S(10));
  EXPECT_EQ(a1.start, S(1801));
  EXPECT_EQ(run.life().job_life(0).failures, 2);
  ASSERT_EQ(drains.size(), 2u);
  EXPECT_EQ(drains[0]->node, 0);
  EXPECT_EQ(drains[0]->nodes, 2);
  EXPECT_EQ(drains[0]->until, S(1801));
  EXPECT_EQ(drains[0]->cause, "thermal_shutdown");
  EXPECT_DOUBLE_EQ(peak, 64.0);
  // Down while drained and not held: nodes 0-1 from 11 s to 1,801 s and from 1,812 s to the end.
  EXPECT_NEAR(run.life().stats().down_gpu_h * 3600, 16.0 * (1790 + 1788), 1e-6);
}

}  // namespace
}  // namespace firstwall::site
