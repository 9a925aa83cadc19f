#include "ops/daily_report.h"

#include <gtest/gtest.h>

#include "live/temp_path_test_util.h"
#include "ops/sql.h"

namespace firstwall::ops {
namespace {

constexpr int64_t kDay0 = 1'800'000'000'000 / 86'400'000 * 86'400'000;  // 2027-01-15T00:00Z
constexpr int64_t kHour = 3'600'000;

PlanRequest Request(const std::string& cls, const std::string& target, const std::string& value,
                    int64_t expires_ms) {
  PlanRequest r;
  r.plan_class = cls;
  r.target = target;
  r.value = ParseAmount(value, "--value");
  r.reason = "test";
  r.effect = ParseAmount("-12 kW", "--effect");
  r.effect_uncertainty = 3;
  r.expires_ms = expires_ms;
  return r;
}

TEST(DailyReport, TheDaysFindingsPlansDecisionsEffectsAndQuality) {
  const std::string path = live::TempPath("daily.db");
  int64_t now = kDay0 - 2 * kHour;  // the evening before
  std::unique_ptr<live::Store> store = live::OpenStore(path);
  Operations o(OpenSqlDb(path), [&] { return now; });
  const User admin{"ada", Role::kAdmin}, op{"otto", Role::kOperator}, ap{"anna", Role::kApprover};
  o.AddUser(std::nullopt, admin.name, admin.role, "correct horse");
  o.AddUser(admin, op.name, op.role, "password-otto");
  o.AddUser(admin, ap.name, ap.role, "password-anna");
  // Proposed the day before and left: it expires during the day (o.Plans() below marks it), which
  // is a decision of the day.
  o.Propose(op, Request("job_move", "node/node1", "0 %", now + kHour));
  now = kDay0 + 8 * kHour;
  const int64_t capped =
      o.Propose(op, Request("power_cap", "gpu/node0/gpu3", "600 W", now + kHour));
  o.Approve(ap, capped);
  const int64_t series =
      store->SeriesId({"gpu", "node0/gpu3", "power", "W", "dcgm", "DCGM_FI_DEV_POWER_USAGE"});
  const live::SamplePoint sample{now - 1000, 550.0, 0};
  store->Append(series, {&sample, 1});
  store->Flush();
  o.Apply(op, capped, StoreFreshness(path), 60'000);
  now += kHour;
  o.Verify(op, capped, ParseAmount("-16 kW", "--realized"));  // 4 kW off a 3 kW interval
  const int64_t rejected =
      o.Propose(op, Request("power_cap", "gpu/node0/gpu1", "500 W", now + kHour));
  o.Reject(ap, rejected, "not during the run");

  // Quality: two streams' windows in the day, one with a dropout.
  const int64_t other =
      store->SeriesId({"cdu", "cdu-1", "temperature", "C", "bms", "cdu_supply_c"});
  live::QualityWindowRecord w1{series, kDay0, kDay0 + kHour, {1, 1, 1, 1, 1}, {1, 1, 1, 1, 1}, {}};
  live::QualityWindowRecord w2{other, kDay0, kDay0 + kHour, {1, 0.5, 1, 1, 1}, {1, 1, 1, 1, 1}, {}};
  w2.reasons[1] = R"(["half the samples missing"])";
  store->PutQualityWindows({w1, w2});
  live::DriftRecord drift;
  drift.signal = "facility_power";
  drift.window_start_ms = kDay0;
  drift.window_end_ms = kDay0 + kHour;
  drift.cv_rmse = 0.4;
  drift.drift = true;
  drift.reason = "CV(RMSE) 40 % over 30 %";
  store->PutDrift({drift});
  store->Flush();

  DailyReportInput in;
  in.from_ms = kDay0;
  in.to_ms = kDay0 + 24 * kHour;
  in.plans = o.Plans();
  in.audit = ReadAudit(o.db());
  Finding inside, outside;
  inside.kind = outside.kind = "anomaly";
  inside.target = outside.target = "gpu/node0/gpu3";
  inside.detected_ms = kDay0 + 7 * kHour;
  outside.detected_ms = kDay0 - 1;
  in.findings = {inside, outside};
  in.quality = live::MergeWindows(store->QualityWindows(in.from_ms, in.to_ms), store->Series());
  in.drift = store->Drift();
  in.forecast = nlohmann::json{{"peak_facility_power_kw", 123.4}};

  const DailyReport r = BuildDailyReport(in);
  ASSERT_EQ(r.findings.size(), 1u);
  ASSERT_EQ(r.plans.size(), 3u);
  EXPECT_EQ(r.plans[0].state, PlanState::kExpired);
  EXPECT_EQ(r.plans[1].id, capped);
  EXPECT_EQ(r.plans[2].state, PlanState::kRejected);
  // propose, approve, apply, verify, propose, reject, expire: the day's seven decisions (the
  // users and the first proposal were the evening before).
  ASSERT_EQ(r.decisions.size(), 7u);
  EXPECT_EQ(r.decisions[2].action, "plan_applied");
  EXPECT_EQ(r.decisions[6].action, "plan_expired");
  EXPECT_TRUE(r.chain.ok);
  EXPECT_EQ(r.chain.entries, 11);
  ASSERT_EQ(r.effects.size(), 1u);
  EXPECT_DOUBLE_EQ(r.effects[0].error(), -4);
  EXPECT_FALSE(r.effects[0].within());
  ASSERT_EQ(r.drift.size(), 1u);

  const nlohmann::json j = DailyReportJson(r);
  EXPECT_EQ(j["from"], "2027-01-15T00:00:00Z");
  EXPECT_EQ(j["effects"][0]["within"], false);
  EXPECT_EQ(j["data_quality"]["entities"], 2);
  // The entities' mean completeness: (1 + 0.5) / 2.
  EXPECT_DOUBLE_EQ(j["data_quality"]["dimensions"]["completeness"].get<double>(), 0.75);
  EXPECT_EQ(j["data_quality"]["worst"][0]["entity"], "cdu/cdu-1");
  EXPECT_EQ(j["forecast"]["peak_facility_power_kw"], 123.4);
  const std::string text = DailyReportText(r);
  EXPECT_NE(text.find("plan 2: predicted -12.000 +- 3.000 kW, realized -16.000, error -4.000 "
                      "(outside)"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("0 of 1 within"), std::string::npos);
  EXPECT_NE(text.find("worst: cdu/cdu-1"), std::string::npos) << text;
  EXPECT_NE(text.find("1 past their thresholds"), std::string::npos);
  EXPECT_NE(text.find("chain verified (11 entries"), std::string::npos) << text;
}

}  // namespace
}  // namespace firstwall::ops
