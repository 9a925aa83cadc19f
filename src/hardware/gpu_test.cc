#include "hardware/gpu.h"

#include <gtest/gtest.h>

namespace firstwall::hardware {
namespace {
using namespace units;

TEST(Roofline, ComputeAndMemoryBound) {
  const FlopRate peak = TeraflopPerSecond(1000);
  const Bandwidth hbm = TerabytesPerSecond(2);
  // 1 PFLOP at 50% of 1 PFLOP/s = 2 s; 1 TB at 2 TB/s = 0.5 s -> compute bound.
  EXPECT_DOUBLE_EQ(ToSeconds(RooflineTime(Flop(1e15), Bytes(1e12), peak, 0.5, hbm)), 2.0);
  // 1 GFLOP, 10 TB -> memory bound: 5 s.
  EXPECT_DOUBLE_EQ(ToSeconds(RooflineTime(Flop(1e9), Bytes(1e13), peak, 0.5, hbm)), 5.0);
}

TEST(DataType, NamesRoundTrip) {
  for (DataType t :
       {DataType::kFp32, DataType::kTf32, DataType::kFp16, DataType::kBf16, DataType::kFp8}) {
    EXPECT_EQ(DataTypeFromName(DataTypeName(t)), t);
  }
  EXPECT_FALSE(DataTypeFromName("int4").has_value());
  EXPECT_EQ(BytesPerElement(DataType::kBf16), 2.0);
}

}  // namespace
}  // namespace firstwall::hardware
