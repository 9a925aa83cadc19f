#include "serve/metrics.h"

#include <gtest/gtest.h>

namespace firstwall::serve {
namespace {

TEST(Metrics, LabelValuesAreEscapedAsTheExpositionFormatSays) {
  EXPECT_EQ(LabelValue("node0/gpu1"), "node0/gpu1");
  EXPECT_EQ(LabelValue("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
}

}  // namespace
}  // namespace firstwall::serve
