#include <gtest/gtest.h>

#include "power/conversion_chain.h"
#include "power/gpu_power.h"

namespace firstwall::power {
namespace {
using namespace units;

TEST(GpuPower, LinearBetweenIdleAndTdpAndCapped) {
  GpuPowerModel m(Watts(70), Watts(700), Watts(1000));
  EXPECT_DOUBLE_EQ(ToWatts(m.At(0)), 70);
  EXPECT_DOUBLE_EQ(ToWatts(m.At(0.5)), 385);
  EXPECT_DOUBLE_EQ(ToWatts(m.At(1)), 700);
  EXPECT_DOUBLE_EQ(ToWatts(m.At(2)), 700);  // activity is clamped
  GpuPowerModel capped(Watts(70), Watts(700), Watts(500));
  EXPECT_DOUBLE_EQ(ToWatts(capped.At(1)), 500);
  EXPECT_DOUBLE_EQ(ToWatts(capped.At(0.5)), 385);
}

TEST(ConversionChain, HandComputedRapsStages) {
  // RAPS: node DC-DC (P + 13 W)/0.98 then rectifier (P + 17 W)/0.96, for a 1000 W load.
  ConversionChain chain({{"dcdc", 0.98, Watts(13), Watts(0)}, {"rect", 0.96, Watts(17), Watts(0)}});
  const ChainFlow f = chain.Flow(Watts(1000));
  const double dcdc_in = (1000.0 + 13.0) / 0.98;
  const double rect_in = (dcdc_in + 17.0) / 0.96;
  EXPECT_DOUBLE_EQ(ToWatts(f.input[0]), dcdc_in);
  EXPECT_DOUBLE_EQ(ToWatts(f.grid), rect_in);
  EXPECT_NEAR(ToWatts(f.total_loss), rect_in - 1000.0, 1e-9);
  EXPECT_NEAR(ToWatts(f.loss[0] + f.loss[1]), ToWatts(f.total_loss), 1e-9);
  // 10 parallel chains: fixed losses count ten times.
  const ChainFlow f10 = chain.Flow(Watts(10000), 10);
  EXPECT_NEAR(ToWatts(f10.grid), 10 * rect_in, 1e-9);
}

TEST(ConversionChain, EmptyChainIsLossless) {
  ConversionChain chain({});
  EXPECT_DOUBLE_EQ(ToWatts(chain.Flow(Watts(5)).grid), 5);
}

}  // namespace
}  // namespace firstwall::power
