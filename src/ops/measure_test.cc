// Verify measured from the store (measure.h): the mean after the apply less the mean before it,
// recorded next to the prediction.
#include "ops/measure.h"

#include <gtest/gtest.h>

#include <cmath>

#include <nlohmann/json.hpp>

#include "ops/ops_world_test.h"

namespace firstwall::ops {
namespace {

TEST(Measure, TheRealizedEffectIsTheMeanAfterLessTheMeanBefore) {
  World w;
  const int64_t id = w.ProposeSetpoint();  // effect -12 +- 3 kW
  w.ops->Approve(w.ap1, id);
  w.ops->Approve(w.ap2, id);
  w.ops->Apply(w.op, id, StoreFreshness(w.store), 5 * kMinute);
  const int64_t applied = w.ops->Get(id).applied_ms;
  EXPECT_EQ(applied, kT0);
  // Facility power: 520, 524 kW in the minute before (mean 522 kW); a NaN and a sample outside
  // the windows left out; 512, 510 kW after (mean 511 kW), one of them from a second source.
  w.Values("facility", "site", "power",
           {{kT0 - 90'000, 900e3},
            {kT0 - 50'000, 520e3},
            {kT0 - 10'000, 524e3},
            {kT0 + 10'000, std::nan("")},
            {kT0 + 20'000, 512e3},
            {kT0 + 70'000, 1e3}});
  w.Values("facility", "site", "power", {{kT0 + 40'000, 510e3}}, "meter");
  EXPECT_THROW(MeasureEffect(w.store, "facility/site", "kW", applied, kMinute, kT0 + 30'000),
               InputError);  // the after window is not over
  const Measurement m =
      MeasureEffect(w.store, "facility/site", "kW", applied, kMinute, kT0 + kMinute);
  EXPECT_EQ(m.series, 2);
  EXPECT_EQ(m.n_before, 2);
  EXPECT_EQ(m.n_after, 2);
  EXPECT_DOUBLE_EQ(m.before, 522e3);
  EXPECT_DOUBLE_EQ(m.after, 511e3);
  EXPECT_DOUBLE_EQ(m.realized.value, -11);  // kW: within -12 +- 3
  EXPECT_EQ(m.realized.unit, "kW");
  // With 30 s to settle, the after window is (+30 s, +90 s]: 510 kW and 1 kW.
  const Measurement settled = MeasureEffect(w.store, "facility/site", "kW", applied, kMinute,
                                            kT0 + 90'000, "--window", 30'000);
  EXPECT_EQ(settled.n_after, 2);
  EXPECT_DOUBLE_EQ(settled.after, 255.5e3);
  // No telemetry of the target's power: refused, naming the window.
  EXPECT_THROW(MeasureEffect(w.store, "cdu/cdu-1", "kW", applied, kMinute, kT0 + kMinute),
               InputError);

  w.now = kT0 + kMinute;
  Measurement moved = m;
  moved.applied_ms = kT0 - 1;
  ExpectRefused([&] { w.ops->Verify(w.op, id, moved.realized, &moved); },
                "the windows meet at 1799999999999 ms, but plan 1 was applied at 1800000000000 ms");
  w.ops->Verify(w.op, id, m.realized, &m);
  const auto d = nlohmann::json::parse(w.Last().detail);
  EXPECT_EQ(d["realized"], -11.0);
  EXPECT_EQ(d["predicted"], -12.0);
  EXPECT_EQ(d["uncertainty"], 3.0);
  EXPECT_EQ(d["within"], true);
  EXPECT_EQ(d["measured"]["entity"], "facility/site");
  EXPECT_EQ(d["measured"]["before_mean"], 522e3);
  EXPECT_EQ(d["measured"]["window_s"], 60.0);
}

}  // namespace
}  // namespace firstwall::ops
