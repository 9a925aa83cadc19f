#include "network/max_min.h"

#include "network/max_min_solver.h"

#include <gtest/gtest.h>

namespace firstwall::network {
namespace {

TEST(MaxMinSolver, ReusedAcrossSolvesGivesTheRatesOfAFreshSolve) {
  // One solver re-solving different subsets of a 6-link fabric (as the site does per event) must
  // give exactly what a fresh solve gives: its per-link scratch is reset between solves.
  const std::vector<double> capacity = {4, 1, 3, 2, 5, 1};
  const std::vector<FlowPath> all = {{{0, 2}}, {{1}}, {{2, 3, 4}}, {{0, 5}}, {}, {{3}}, {{4, 5}}};
  MaxMinSolver solver;
  std::vector<double> reused;
  for (const std::vector<size_t>& subset :
       std::vector<std::vector<size_t>>{{0, 2, 3}, {1, 5}, {0, 1, 2, 3, 4, 5, 6}, {6}, {2, 3}}) {
    std::vector<const FlowPath*> flows;
    std::vector<FlowPath> copies;
    for (size_t f : subset) {
      flows.push_back(&all[f]);
      copies.push_back(all[f]);
    }
    solver.Solve(capacity, flows, 7.0, reused);
    const std::vector<double> fresh = MaxMinRates(capacity, copies, 7.0);
    ASSERT_EQ(reused.size(), fresh.size());
    for (size_t i = 0; i < fresh.size(); ++i) EXPECT_EQ(reused[i], fresh[i]) << i;
  }
  // The full set by hand: link 1 (capacity 1, flow 1 alone) gives 1; link 5 (capacity 1) splits
  // 1/2 to flows 3 and 6; link 3 (capacity 2) gives flows 2 and 5 1 each; flow 0 takes link 0's
  // rest, 4 - 1/2 = 3.5, capped by link 2 at 3 - 1 = 2; flow 4 crosses nothing: 7.
  solver.Solve(capacity, {&all[0], &all[1], &all[2], &all[3], &all[4], &all[5], &all[6]}, 7.0,
               reused);
  const std::vector<double> expected = {2, 1, 1, 0.5, 7, 1, 0.5};
  for (size_t i = 0; i < expected.size(); ++i) EXPECT_NEAR(reused[i], expected[i], 1e-12) << i;
}

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
