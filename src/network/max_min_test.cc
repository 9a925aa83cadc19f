#include "network/max_min.h"

#include <gtest/gtest.h>

namespace firstwall::network {
namespace {

TEST(MaxMin, SharedBottleneckSplitsEvenly) {
  // Three flows through one 30-unit link.
  const auto r = MaxMinRates({30}, {{{0}}, {{0}}, {{0}}}, 0);
  for (double x : r) EXPECT_NEAR(x, 10.0, 1e-9);
}

TEST(MaxMin, ParkingLot) {
  // Links 0 and 1 of capacity 1 in a row; flow A crosses both, B only link 0, C only link 1:
  // every flow gets 1/2.
  const auto r = MaxMinRates({1, 1}, {{{0, 1}}, {{0}}, {{1}}}, 0);
  EXPECT_NEAR(r[0], 0.5, 1e-9);
  EXPECT_NEAR(r[1], 0.5, 1e-9);
  EXPECT_NEAR(r[2], 0.5, 1e-9);
  // With link 1 at capacity 3, A is held to 1/2 by link 0 and C takes the rest of link 1: 5/2.
  const auto r2 = MaxMinRates({1, 3}, {{{0, 1}}, {{0}}, {{1}}}, 0);
  EXPECT_NEAR(r2[0], 0.5, 1e-9);
  EXPECT_NEAR(r2[1], 0.5, 1e-9);
  EXPECT_NEAR(r2[2], 2.5, 1e-9);
}

TEST(MaxMin, OversubscribedTier) {
  // Four hosts under a leaf (host links 0-3, capacity 4) share one uplink (4, capacity 4 = 4:1
  // oversubscription). Three flows leave the leaf, one stays under it (host 0 to host 1).
  const auto r = MaxMinRates({4, 4, 4, 4, 4}, {{{0, 4}}, {{2, 4}}, {{3, 4}}, {{0, 1}}}, 0);
  EXPECT_NEAR(r[0], 4.0 / 3, 1e-9);
  EXPECT_NEAR(r[1], 4.0 / 3, 1e-9);
  EXPECT_NEAR(r[2], 4.0 / 3, 1e-9);
  // The local flow gets what host link 0 has left: 4 - 4/3.
  EXPECT_NEAR(r[3], 8.0 / 3, 1e-9);
}

TEST(MaxMin, DownLinkStopsItsFlowsAndLocalFlowsAreUnbounded) {
  const auto r = MaxMinRates({0, 5}, {{{0}}, {{1}}, {{}}}, 99);
  EXPECT_EQ(r[0], 0.0);
  EXPECT_NEAR(r[1], 5.0, 1e-9);
  EXPECT_EQ(r[2], 99.0);
}

}  // namespace
}  // namespace firstwall::network
