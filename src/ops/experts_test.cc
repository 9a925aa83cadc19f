#include "ops/experts.h"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <tuple>

#include <gtest/gtest.h>

#include "live/temp_path_test_util.h"
#include "scenario/loader.h"

namespace firstwall::ops {
namespace {

// tests/inputs/live-emulate.yaml on a 33 C day, so the plant runs its chillers and the facility
// water setpoint matters (at 25 C the tower carries everything and a setpoint changes nothing).
std::string HotScenario() {
  std::ifstream in("tests/inputs/live-emulate.yaml");
  std::stringstream text;
  text << in.rdbuf();
  std::string yaml = text.str();
  const std::string from = "outdoor_temperature: 25 C";
  const auto at = yaml.find(from);
  EXPECT_NE(at, std::string::npos);
  yaml.replace(at, from.size(), "outdoor_temperature: 33 C");
  const std::string path = live::TempPath("hot-site.yaml");
  std::ofstream(path) << yaml;
  return path;
}

Finding Anomaly(const std::string& target, const std::string& cause, double residual) {
  Finding f;
  f.kind = "anomaly";
  f.target = target;
  f.cause = cause;
  f.detector = "cusum";
  f.residual = residual;
  f.detail = cause + " on " + target;
  return f;
}

struct Site {
  std::string path = HotScenario();
  SiteFacts facts = FactsOf(scenario::LoadScenarioFile(path).site);
  ExpertOptions options{path, 1'000'000, 2 * 3600 * 1000, 0.15, true, {}, std::nullopt};
};

TEST(Experts, RoutingTableSendsEachFindingToItsExpert) {
  struct Case {
    const char* kind;
    const char* cause;
    const char* target;
    Expert expert;
  } cases[] = {
      {"anomaly", "fouled_cdu", "cdu/cdu-1", Expert::kCooling},
      {"anomaly", "chiller_stuck", "chiller/ch-2", Expert::kCooling},
      {"anomaly", "slow_gpu", "gpu/node1/gpu3", Expert::kWorkload},
      {"anomaly", "degraded_nic", "node/node0", Expert::kFabric},
      // A drifting PDU meter is a data problem before it is a power one.
      {"anomaly", "pdu_drift", "pdu/pdu-a", Expert::kDataQuality},
      {"forecast_peak", "peak_over_grid_limit", "facility/hall", Expert::kPower},
      {"data_quality", "stuck", "gpu/node0/gpu1", Expert::kDataQuality},
      // No cause: by the entity.
      {"anomaly", "", "ups/ups-1", Expert::kPower},
      {"anomaly", "", "tower/t1", Expert::kCooling},
      {"question", "", "rack/r3", Expert::kWorkload},
      {"question", "", "weather_station/ws", Expert::kDataQuality},
  };
  for (const Case& c : cases) {
    Finding f = Anomaly(c.target, c.cause, 0);
    f.kind = c.kind;
    EXPECT_EQ(ExpertName(RouteOf(f).expert), ExpertName(c.expert)) << c.kind << " " << c.target;
  }
  const Route& last = RoutingTable().back();
  EXPECT_STREQ(last.kind, "*");
  EXPECT_STREQ(last.entity, "*");
}

TEST(Experts, FouledCduLowersItsSupplyAndTheWhatIfPricesIt) {
  const Site s;
  ASSERT_DOUBLE_EQ(s.facts.liquid_supply_c, 32);
  // 1.3 K warm: lowered by 1.5 K (0.5 K steps, rounded up).
  const Recommendation r = Advise(Anomaly("cdu/cdu-1", "fouled_cdu", 1.3), s.facts, s.options);
  EXPECT_EQ(r.expert, Expert::kCooling);
  EXPECT_EQ(r.rule, "cooling.fouled_cdu");
  ASSERT_TRUE(r.plan.has_value()) << r.advice;
  EXPECT_EQ(r.plan->plan_class, "setpoint");
  EXPECT_EQ(r.plan->target, "cdu/cdu-1");
  EXPECT_DOUBLE_EQ(r.plan->value.value, 30.5);
  EXPECT_EQ(r.plan->value.unit, "C");
  EXPECT_EQ(r.plan->expires_ms, 1'000'000 + 2 * 3600 * 1000);
  ASSERT_EQ(r.change.size(), 1u);
  EXPECT_EQ(r.change[0].key, "facility.cooling.liquid_supply");
  EXPECT_EQ(r.change[0].value, "30.5 C");
  ASSERT_TRUE(r.what_if.has_value()) << r.unchecked;
  // Colder water on a 33 C day costs chiller work: the facility draws more.
  const double kw = r.what_if->facility_power_change_w() / 1e3;
  EXPECT_GT(kw, 0.02);
  EXPECT_LT(kw, 2);
  EXPECT_GT(r.what_if->changed.cooling_power_w, r.what_if->baseline.cooling_power_w);
  EXPECT_DOUBLE_EQ(r.what_if->changed.it_power_w, r.what_if->baseline.it_power_w);
  EXPECT_DOUBLE_EQ(r.plan->effect.value, kw);
  EXPECT_EQ(r.plan->effect.unit, "kW");
  EXPECT_DOUBLE_EQ(r.plan->effect_uncertainty, 0.15 * kw);
  ASSERT_EQ(r.checks.size(), 5u);
  for (const ConstraintCheck& c : r.checks) EXPECT_TRUE(c.ok) << c.name;
  EXPECT_NE(r.plan->reason.find("rule cooling.fouled_cdu"), std::string::npos);
  // The plan is one Propose accepts.
  EXPECT_NO_THROW(CheckPlanRequest(*r.plan, 1'000'000));
}

TEST(Experts, PeakOverTheLimitCapsEveryGpuAndSavesPower) {
  const Site s;
  ASSERT_EQ(s.facts.gpus, 16);
  ASSERT_DOUBLE_EQ(s.facts.gpu_power_cap_w, 700);  // H100 SXM5 TDP, uncapped
  Finding f = Anomaly("facility/" + s.facts.site, "peak_over_grid_limit", 1600);
  f.kind = "forecast_peak";
  const Recommendation r = Advise(f, s.facts, s.options);
  ASSERT_TRUE(r.plan.has_value()) << r.advice;
  EXPECT_EQ(r.plan->plan_class, "power_cap");
  // Each GPU draws (peak IT - 2 nodes x 2 kW) / 16 at the IT peak; 1600 W over / 16 GPUs = 100 W
  // off that.
  ASSERT_TRUE(r.what_if.has_value()) << r.unchecked;
  const double at_peak = (r.what_if->baseline.peak_it_w - 2 * 2000) / 16;
  EXPECT_GT(at_peak, 500);
  EXPECT_LT(at_peak, 700);
  EXPECT_DOUBLE_EQ(r.plan->value.value, std::floor(at_peak - 100));
  EXPECT_EQ(r.plan->value.unit, "W");
  EXPECT_LT(r.plan->effect.value, 0);
  EXPECT_NO_THROW(CheckPlanRequest(*r.plan, 1'000'000));
  EXPECT_LT(r.what_if->changed.peak_facility_w, r.what_if->baseline.peak_facility_w);
  // Too deep a cut (16 kW over: 1000 W a GPU) is not proposed; the baseline given is used.
  ExpertOptions given = s.options;
  given.baseline = r.what_if->baseline;
  f.residual = 16000;
  const Recommendation deep = Advise(f, s.facts, given);
  EXPECT_FALSE(deep.plan.has_value());
  EXPECT_NE(deep.advice.find("50 % of the TDP"), std::string::npos) << deep.advice;
}

// tests/inputs/ops-flexible-peak.yaml: a 27 kW grid connection, one rigid 16-GPU job all along
// and a flexible one from 1 h to 3 h that carries the import to about 30.6 kW.
TEST(Experts, AForecastPeakHoldsFlexibleJobsBeforeCappingEveryGpu) {
  const std::string path = "tests/inputs/ops-flexible-peak.yaml";
  const SiteFacts facts = FactsOf(scenario::LoadScenarioFile(path).site);
  ASSERT_TRUE(facts.scheduler);
  ASSERT_EQ(facts.flexible_jobs, 1);
  ASSERT_EQ(facts.largest_flexible_gpus, 16);
  ASSERT_DOUBLE_EQ(facts.grid_limit_w, 27000);
  ExpertOptions o{path, 1'000'000, 2 * 3600 * 1000, 0.15, true, {}, std::nullopt};
  Finding f = Anomaly("facility/site", "peak_over_grid_limit", 3600);
  f.kind = "forecast_peak";
  const Recommendation r = Advise(f, facts, o);
  ASSERT_TRUE(r.plan.has_value()) << r.advice;
  EXPECT_EQ(r.rule, "power.hold_flexible");
  EXPECT_EQ(r.plan->plan_class, "job_move");
  EXPECT_EQ(r.plan->target, "facility/site");
  ASSERT_TRUE(r.what_if.has_value()) << r.unchecked;
  // The margin: 16 GPUs x 700 W x the peak's facility-to-IT ratio over 27 kW, rounded up.
  const double ratio = r.what_if->baseline.peak_facility_w / r.what_if->baseline.peak_it_w;
  const double margin = std::ceil(100 * 16 * 700 * ratio / 27000);
  std::printf("facility/IT at the peak %.4f, margin %.0f %%, grid hours %.2f -> %.2f\n", ratio,
              margin, r.what_if->baseline.grid_limit_exceeded_h,
              r.what_if->changed.grid_limit_exceeded_h);
  EXPECT_DOUBLE_EQ(r.plan->value.value, 100 - margin);
  EXPECT_EQ(r.plan->value.unit, "%");
  EXPECT_GT(r.what_if->baseline.grid_limit_exceeded_h, 1.9);
  EXPECT_DOUBLE_EQ(r.what_if->changed.grid_limit_exceeded_h, 0);
  EXPECT_LT(r.plan->effect.value, 0);
  // The work is deferred, not saved, and the advice says how much.
  EXPECT_NE(r.advice.find("GPU-h of flexible work"), std::string::npos) << r.advice;
  EXPECT_NO_THROW(CheckPlanRequest(*r.plan, 1'000'000));
  for (const ConstraintCheck& c : r.checks) EXPECT_TRUE(c.ok) << c.name;

  // A gate that already holds at that margin leaves the rule nothing to add: the cap.
  SiteFacts gated = facts;
  gated.flexibility_grid_margin = margin / 100;
  gated.flexibility_defers = true;
  o.baseline = r.what_if->baseline;
  const Recommendation cap = Advise(f, gated, o);
  ASSERT_TRUE(cap.plan.has_value()) << cap.advice;
  EXPECT_EQ(cap.rule, "power.peak_over_limit");
  EXPECT_EQ(cap.advice.find("Not proposed"), std::string::npos) << cap.advice;
  EXPECT_NE(cap.advice.find("already held while grid import is within 45 %"), std::string::npos)
      << cap.advice;
  // More over the limit than every flexible job draws: holding them cannot answer it.
  f.residual = 1e6;
  const Recommendation huge = Advise(f, facts, o);
  EXPECT_EQ(huge.rule, "power.peak_over_limit");
  EXPECT_NE(huge.advice.find("Holding the flexible jobs cannot answer this"), std::string::npos)
      << huge.advice;
}

TEST(Experts, APricePeakCapsTheFlexibleJobsForItsHoursOnly) {
  // tests/inputs/price-peak-site.yaml: 140 USD/MWh from 14:00 to 20:00; five flexible fine-tunes
  // on 192 GPUs; the gate watches the grid only.
  const std::string path = "tests/inputs/price-peak-site.yaml";
  const SiteFacts facts = FactsOf(scenario::LoadScenarioFile(path).site);
  ASSERT_TRUE(facts.hourly_tariff);
  ASSERT_EQ(facts.flexible_jobs, 5);
  ASSERT_FALSE(facts.flexibility_price_above_usd_per_mwh);
  ExpertOptions o{path, 1'000'000, 2 * 3600 * 1000, 0.15, true, {}, std::nullopt};
  Finding f;
  f.kind = "forecast_peak";
  f.cause = "price_peak";
  f.target = "facility/site";
  f.detector = "forecast";
  f.residual = 40;  // USD/MWh over
  f.limit = 100;
  f.detail = "6 h priced above 100 USD/MWh";
  EXPECT_EQ(ExpertName(RouteOf(f).expert), "power");
  const Recommendation r = Advise(f, facts, o);
  ASSERT_TRUE(r.plan.has_value()) << r.advice;
  EXPECT_EQ(r.rule, "power.cap_at_price_peak");
  EXPECT_EQ(r.plan->plan_class, "power_cap");
  EXPECT_EQ(r.plan->target, "facility/site");
  EXPECT_DOUBLE_EQ(r.plan->value.value, 420);  // 60 % of the H100's 700 W
  ASSERT_EQ(r.change.size(), 2u);
  EXPECT_EQ(r.change[0].key, "scheduler.flexibility.price_above");
  EXPECT_EQ(r.change[0].value, "100 USD/MWh");
  EXPECT_EQ(r.change[1].value, "420 W");
  ASSERT_TRUE(r.what_if.has_value()) << r.unchecked;
  std::printf("energy cost %.2f -> %.2f USD, useful %.1f -> %.1f GPU-h, effect %.3f kW\n",
              r.what_if->baseline.energy_cost_usd, r.what_if->changed.energy_cost_usd,
              r.what_if->baseline.useful_gpu_h, r.what_if->changed.useful_gpu_h,
              r.plan->effect.value);
  EXPECT_LT(r.what_if->changed.energy_cost_usd, r.what_if->baseline.energy_cost_usd);
  EXPECT_NE(r.advice.find("USD of energy over its run"), std::string::npos) << r.advice;
  EXPECT_NO_THROW(CheckPlanRequest(*r.plan, 1'000'000));
  for (const ConstraintCheck& c : r.checks) EXPECT_TRUE(c.ok) << c.name;

  // The site of examples/flexible-tariff.yaml already caps its flexible jobs at 400 W above
  // 100 USD/MWh: nothing to add.
  const std::string capped = "examples/flexible-tariff.yaml";
  const Recommendation none =
      Advise(f, FactsOf(scenario::LoadScenarioFile(capped).site),
             {capped, 1'000'000, 2 * 3600 * 1000, 0.15, true, {}, std::nullopt});
  EXPECT_FALSE(none.plan.has_value());
  EXPECT_NE(none.advice.find("already caps the flexible jobs' GPUs at 400 W"), std::string::npos)
      << none.advice;
  // No flexible job, or a flat price: advice only.
  SiteFacts rigid = facts;
  rigid.flexible_jobs = 0;
  EXPECT_FALSE(Advise(f, rigid, o).plan.has_value());
  EXPECT_NE(Advise(f, rigid, o).advice.find("No job of the queue is flexible"), std::string::npos);
  SiteFacts flat = facts;
  flat.hourly_tariff = false;
  EXPECT_FALSE(Advise(f, flat, o).plan.has_value());
  Finding no_limit = f;
  no_limit.limit = 0;
  EXPECT_FALSE(Advise(no_limit, facts, o).plan.has_value());
  // A price not above the limit is no peak; a finding without words is told from its figures.
  Finding below = f;
  below.residual = 0;
  EXPECT_FALSE(Advise(below, facts, o).plan.has_value());
  EXPECT_NE(Advise(below, facts, o).advice.find("no price is above the limit"), std::string::npos);
  // The limit is set as written, every digit: 139.9999 is not 140.
  Finding fine = f;
  fine.limit = 139.9999;
  fine.residual = 0.0001;
  const Recommendation r_fine = Advise(fine, facts, o);
  ASSERT_FALSE(r_fine.change.empty()) << r_fine.advice;
  EXPECT_EQ(r_fine.change[0].value, "139.9999 USD/MWh");
  Finding bare = f;
  bare.detail.clear();
  o.baseline = r.what_if->baseline;
  EXPECT_EQ(Advise(bare, facts, o)
                .advice.rfind("facility/site: a price up to 40 USD/MWh over 100 "
                              "USD/MWh. Cap the 5 flexible jobs' GPUs",
                              0),
            0u)
      << Advise(bare, facts, o).advice;
}

TEST(Experts, AHoldThatCannotPassTheDeadlineFallsBackToTheCap) {
  // Due at 4 h, 2 h of work: the hold ends at 2 h and the job still overlaps the rigid one, so
  // the twin shows no fewer hours over the limit and the cap is proposed, the reason given.
  std::ifstream in("tests/inputs/ops-flexible-peak.yaml");
  std::stringstream text;
  text << in.rdbuf();
  std::string yaml = text.str();
  const std::string from = "    flexible: true\n";
  ASSERT_NE(yaml.find(from), std::string::npos);
  yaml.replace(yaml.find(from), from.size(), from + "    deadline: 4 h\n");
  const std::string tariff = "../../data/tariffs/illustrative-tou.csv";
  ASSERT_NE(yaml.find(tariff), std::string::npos);
  yaml.replace(yaml.find(tariff), tariff.size(),
               std::filesystem::absolute("data/tariffs/illustrative-tou.csv").string());
  const std::string path = live::TempPath("flexible-peak-due.yaml");
  std::ofstream(path) << yaml;
  const SiteFacts facts = FactsOf(scenario::LoadScenarioFile(path).site);
  Finding f = Anomaly("facility/site", "peak_over_grid_limit", 3600);
  f.kind = "forecast_peak";
  const Recommendation r =
      Advise(f, facts, {path, 1'000'000, 2 * 3600 * 1000, 0.15, true, {}, std::nullopt});
  ASSERT_TRUE(r.plan.has_value()) << r.advice;
  EXPECT_EQ(r.rule, "power.peak_over_limit");
  EXPECT_EQ(r.plan->plan_class, "power_cap");
  EXPECT_NE(r.advice.find("hold their first starts"), std::string::npos) << r.advice;
  EXPECT_NE(r.advice.find("Not proposed: the twin's what-if leaves 2.00 h over the grid limit"),
            std::string::npos)
      << r.advice;
  // The deadline is among the cap's checks, and the cap keeps it.
  ASSERT_FALSE(r.checks.empty());
  EXPECT_EQ(r.checks.back().unit, "jobs");
  EXPECT_TRUE(r.checks.back().ok);
  EXPECT_DOUBLE_EQ(r.what_if->baseline.jobs_with_deadline, 1);
}

// tests/inputs/ops-restart-burst.yaml: four 8-GPU jobs restart together after their rack's PDU
// fails, rising about 19 kW within a minute against a 15 kW-per-minute ramp limit.
TEST(Experts, ARestartRampOverTheLimitStaggersRestarts) {
  const std::string path = "tests/inputs/ops-restart-burst.yaml";
  const SiteFacts facts = FactsOf(scenario::LoadScenarioFile(path).site);
  ASSERT_DOUBLE_EQ(facts.grid_ramp_limit_w, 15000);
  Finding f = Anomaly("facility/site", "restart_burst", 3800);
  f.kind = "forecast_ramp";
  EXPECT_EQ(RouteOf(f).expert, Expert::kPower);
  ExpertOptions o{path, 1'000'000, 2 * 3600 * 1000, 0.15, true, {}, std::nullopt};
  const Recommendation r = Advise(f, facts, o);
  ASSERT_TRUE(r.plan.has_value()) << r.advice;
  EXPECT_EQ(r.rule, "power.stagger_restarts");
  EXPECT_EQ(r.plan->plan_class, "stagger");
  EXPECT_DOUBLE_EQ(r.plan->value.value, 120);
  EXPECT_EQ(r.plan->value.unit, "s");
  EXPECT_NO_THROW(CheckPlanRequest(*r.plan, 1'000'000));
  ASSERT_TRUE(r.what_if.has_value()) << r.unchecked;
  std::printf("steepest restart burst within a minute: %.2f kW together, %.2f kW staggered\n",
              r.what_if->baseline.restart_rise_1min_w / 1e3,
              r.what_if->changed.restart_rise_1min_w / 1e3);
  EXPECT_GT(r.what_if->baseline.restart_rise_1min_w, 15000);
  EXPECT_LT(r.what_if->changed.restart_rise_1min_w, 15000);
  // The jobs' wait is the price: less useful work, said in the advice.
  EXPECT_NE(r.advice.find("less useful work"), std::string::npos) << r.advice;
  // A limit one job's own ramp breaks: staggering cannot help, and the advice says what can.
  SiteFacts tight = facts;
  tight.grid_ramp_limit_w = 2000;
  o.baseline = r.what_if->baseline;
  const Recommendation none = Advise(f, tight, o);
  EXPECT_FALSE(none.plan.has_value());
  EXPECT_NE(none.advice.find("power_swings.gpu_ramp_time"), std::string::npos) << none.advice;
  // Without a scheduler there are no restarts to stagger.
  SiteFacts fixed = facts;
  fixed.scheduler = false;
  EXPECT_FALSE(Advise(f, fixed, o).plan.has_value());
  // A run of the scenario without the burst (no failure) cannot check the stagger, nor can a
  // tick too long to see a minute's rise: no plan, and the advice says which.
  for (const auto& [key, value, why] :
       {std::tuple{"failures.scripted[0].at", "39 min", "shows no restart burst over the limit"},
        std::tuple{"simulation.tick", "2 min", "measures no ramp at this scenario's tick"}}) {
    ExpertOptions other{path, 1'000'000, 2 * 3600 * 1000, 0.15, true, {}, std::nullopt};
    other.base = {scenario::Override{key, value, SourceLocation{"test"}, false}};
    const Recommendation stale = Advise(f, facts, other);
    EXPECT_FALSE(stale.plan.has_value()) << key;
    EXPECT_NE(stale.advice.find(why), std::string::npos) << stale.advice;
  }
}

TEST(Experts, MissedDeadlinesAreAConstraint) {
  WhatIfRun w;
  w.baseline.jobs_with_deadline = w.changed.jobs_with_deadline = 3;
  std::vector<ConstraintCheck> c = ConstraintChecks(w);
  ASSERT_EQ(c.size(), 6u);
  EXPECT_EQ(c[5].unit, "jobs");
  EXPECT_TRUE(c[5].ok);
  w.changed.deadlines_missed = 1;  // a cap that slows a job past its deadline
  c = ConstraintChecks(w);
  EXPECT_FALSE(c[5].ok);
}

TEST(Experts, SlowGpuDrainsItsNodeAndSaysWhyTheWhatIfCannotRun) {
  const Site s;
  const Recommendation r = Advise(Anomaly("gpu/node1/gpu3", "slow_gpu", -120), s.facts, s.options);
  EXPECT_EQ(r.expert, Expert::kWorkload);
  ASSERT_TRUE(r.plan.has_value());
  EXPECT_EQ(r.plan->plan_class, "drain");
  EXPECT_EQ(r.plan->target, "node/node1");
  // The training job needs all 16 GPUs: one node fewer is a scenario the loader refuses, and the
  // plan goes out with its effect marked unchecked rather than invented.
  EXPECT_FALSE(r.what_if.has_value());
  EXPECT_NE(r.unchecked.find("cannot run"), std::string::npos) << r.unchecked;
  EXPECT_DOUBLE_EQ(r.plan->effect.value, 0);
  EXPECT_NE(r.plan->reason.find("effect unchecked"), std::string::npos);
  EXPECT_EQ(r.plan->reason.find('\n'), std::string::npos) << r.plan->reason;  // one line
}

TEST(Experts, DegradedNicDrainsItsNode) {
  const Site s;
  const Recommendation r =
      Advise(Anomaly("nic/node1/mlx5_3", "degraded_nic", -200), s.facts, s.options);
  EXPECT_EQ(r.expert, Expert::kFabric);
  ASSERT_TRUE(r.plan.has_value());
  EXPECT_EQ(r.plan->plan_class, "drain");
  EXPECT_EQ(r.plan->target, "node/node1");
  EXPECT_NE(r.advice.find("reseat or replace the port's cable"), std::string::npos) << r.advice;
  // A port of no node of the site, or an id of another shape, gets advice and no plan.
  for (const char* target :
       {"nic/node9/mlx5_0", "nic/mlx5_3", "nic/node1/mlx5_3/extra", "gpu/node1x/gpu0"}) {
    const Recommendation none = Advise(Anomaly(target, "degraded_nic", -200), s.facts, s.options);
    EXPECT_FALSE(none.plan.has_value()) << target;
    EXPECT_NE(none.advice.find("names no node of this site"), std::string::npos) << none.advice;
  }
  // A port may be drained by hand too: `nic` is a drain target.
  PlanRequest port = *r.plan;
  port.target = "nic/node1/mlx5_3";
  EXPECT_NO_THROW(CheckPlanRequest(port, 1'000'000));
}

TEST(Experts, ServedRequestsMeetingTheirSloAreAConstraint) {
  WhatIfRun w;
  EXPECT_EQ(ConstraintChecks(w).size(), 5u);  // no services: the five limit hours only
  w.baseline.service_requests = 1000;
  w.baseline.slo_met = 990;
  w.changed.service_requests = 1000;
  w.changed.slo_met = 990;
  std::vector<ConstraintCheck> c = ConstraintChecks(w);
  ASSERT_EQ(c.size(), 6u);
  EXPECT_EQ(c[5].unit, "%");
  EXPECT_DOUBLE_EQ(c[5].baseline, 99);
  EXPECT_TRUE(c[5].ok);
  w.changed.slo_met = 940;  // a cap that slows the replicas: 5 points more requests miss
  c = ConstraintChecks(w);
  EXPECT_DOUBLE_EQ(c[5].changed, 94);
  EXPECT_FALSE(c[5].ok);
}

TEST(Experts, DataProblemsGetAdviceNotPlans) {
  const Site s;
  const Recommendation r = Advise(Anomaly("pdu/pdu-a", "pdu_drift", 300), s.facts, s.options);
  EXPECT_EQ(r.expert, Expert::kDataQuality);
  EXPECT_FALSE(r.plan.has_value());
  EXPECT_NE(r.advice.find("recalibrate"), std::string::npos);
  // A fouled CDU's coolant is warmer, never colder; a peak under the limit caps nothing.
  const Recommendation cold = Advise(Anomaly("cdu/cdu-1", "fouled_cdu", -3), s.facts, s.options);
  EXPECT_FALSE(cold.plan.has_value());
  EXPECT_NE(cold.advice.find("not warmer"), std::string::npos) << cold.advice;
  Finding under = Anomaly("facility/site", "peak_over_grid_limit", -5000);
  under.kind = "forecast_peak";
  EXPECT_FALSE(Advise(under, s.facts, s.options).plan.has_value());
  // 3.004 K is 3 K of rise, not 3.5.
  EXPECT_DOUBLE_EQ(
      Advise(Anomaly("cdu/cdu-1", "fouled_cdu", 3.004), s.facts, s.options).plan->value.value, 29);
  // A stuck chiller past ASHRAE W45 is advice only.
  SiteFacts hot = s.facts;
  hot.liquid_supply_c = 44;
  const Recommendation c = Advise(Anomaly("chiller/ch-1", "chiller_stuck", 0), hot, s.options);
  EXPECT_FALSE(c.plan.has_value());
  EXPECT_NE(c.advice.find("W45"), std::string::npos) << c.advice;
}

TEST(Experts, AChangeThatBreaksALimitIsWithdrawn) {
  WhatIfRun w;
  w.baseline.throttled_gpu_h = 0;
  w.changed.throttled_gpu_h = 0.5;
  w.changed.inlet_outside_allowable_h = 0;
  const std::vector<ConstraintCheck> checks = ConstraintChecks(w);
  ASSERT_EQ(checks.size(), 5u);
  int broken = 0;
  for (const ConstraintCheck& c : checks) broken += c.ok ? 0 : 1;
  EXPECT_EQ(broken, 1);
  EXPECT_EQ(checks.back().unit, "GPU-h");
  EXPECT_FALSE(checks.back().ok);
}

}  // namespace
}  // namespace firstwall::ops
