#include "live/prometheus_text.h"

#include <cmath>

#include <gtest/gtest.h>

namespace firstwall::live {
namespace {

TEST(PrometheusText, ReadsDcgmExporterLines) {
  const std::string text =
      "# HELP DCGM_FI_DEV_POWER_USAGE Power draw (in W).\n"
      "# TYPE DCGM_FI_DEV_POWER_USAGE gauge\n"
      "DCGM_FI_DEV_POWER_USAGE{gpu=\"3\",UUID=\"GPU-0003\",Hostname=\"node0\"} 512.25\n"
      "# TYPE DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION counter\n"
      "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION{gpu=\"3\"} 1.5e9 1700000000123\n"
      "\n"
      "# a free comment\n"
      "up NaN\n"
      "x{a=\"q\\\"uote\\\\back\\nline\",} +Inf\n"
      "y -Inf\n";
  const PromText p = ParsePrometheusText(text);
  EXPECT_EQ(p.lines, 10);
  EXPECT_EQ(p.rejected, 0);
  ASSERT_EQ(p.samples.size(), 5u);
  EXPECT_EQ(p.samples[0].metric, "DCGM_FI_DEV_POWER_USAGE");
  EXPECT_EQ(p.samples[0].value, 512.25);
  ASSERT_EQ(p.samples[0].labels.size(), 3u);
  EXPECT_EQ(*p.samples[0].Find("Hostname"), "node0");
  EXPECT_FALSE(p.samples[0].timestamp_ms);
  EXPECT_EQ(p.samples[1].value, 1.5e9);
  EXPECT_EQ(*p.samples[1].timestamp_ms, 1700000000123);
  EXPECT_TRUE(std::isnan(p.samples[2].value));
  EXPECT_EQ(*p.samples[3].Find("a"), "q\"uote\\back\nline");
  EXPECT_TRUE(std::isinf(p.samples[3].value) && p.samples[3].value > 0);
  EXPECT_TRUE(std::isinf(p.samples[4].value) && p.samples[4].value < 0);
  EXPECT_EQ(p.TypeOf("DCGM_FI_DEV_POWER_USAGE"), "gauge");
  EXPECT_EQ(p.TypeOf("DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION"), "counter");
  EXPECT_EQ(p.TypeOf("up"), "");
}

TEST(PrometheusText, RefusesMalformedLinesWithReasons) {
  const std::string text =
      "good 1\n"                      // 1
      "9bad 1\n"                      // 2: name
      "m{a=\"1\" 2\n"                 // 3: not closed
      "m{a=1} 2\n"                    // 4: unquoted
      "m{a=\"1\",a=\"2\"} 2\n"        // 5: duplicate label
      "m 12abc\n"                     // 6: value
      "m 1 17.5\n"                    // 7: timestamp
      "m 1 2 3\n"                     // 8: trailing text
      "# TYPE m gauge\n"              // 9: fine
      "# TYPE m counter\n"            // 10: second TYPE
      "# TYPE n bogus\n"              // 11: unknown type
      "m{a=\"\\t\"} 1\n"              // 12: bad escape
      "m\n"                           // 13: no value
      "m 1\r\n"                       // 14: CR
      "m{a=\"x\"\n"                   // 15: not closed
      "also_good{b=\"2\"} 3 1000\n";  // 16
  const PromText p = ParsePrometheusText(text);
  EXPECT_EQ(p.lines, 16);
  ASSERT_EQ(p.samples.size(), 2u);
  EXPECT_EQ(p.samples[1].metric, "also_good");
  EXPECT_EQ(p.rejected, 13);
  ASSERT_EQ(p.rejects.size(), 13u);
  const std::vector<std::pair<int, std::string>> want = {
      {2, "expected a metric name at column 1"},
      {3, "expected ',' or '}' at column 9"},
      {4, "expected '\"' at column 5"},
      {5, "label a given twice"},
      {6, "value '12abc' is not a number (NaN, +Inf, -Inf allowed)"},
      {7, "timestamp '17.5' is not whole milliseconds"},
      {8, "text after the timestamp"},
      {10, "second TYPE line for m"},
      {11, "TYPE 'bogus' for n: expected counter, gauge, histogram, summary or untyped"},
      {12, "unknown escape '\\t' in a label value (only \\\\, \\\" and \\n)"},
      {13, "expected a blank and a value after the name"},
      {14, "carriage return in a line (lines end with a line feed alone)"},
      {15, "labels not closed by '}'"},
  };
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(p.rejects[i].line, want[i].first) << i;
    EXPECT_EQ(p.rejects[i].reason, want[i].second) << i;
  }
}

TEST(PrometheusText, KeepsOnlyTheFirstReasonsButCountsAll) {
  std::string text;
  for (int i = 0; i < 100; ++i) text += "{\n";
  const PromText p = ParsePrometheusText(text, 5);
  EXPECT_EQ(p.rejected, 100);
  EXPECT_EQ(p.rejects.size(), 5u);
}

TEST(PrometheusText, FormattedLinesReadBack) {
  const std::vector<Label> labels = {{"gpu", "0"}, {"Hostname", "a\"b\\c"}};
  const std::string line = FormatSampleLine("DCGM_FI_DEV_GPU_TEMP", labels, 0.1 + 0.2);
  const PromText p = ParsePrometheusText(line + "\n");
  ASSERT_EQ(p.samples.size(), 1u);
  EXPECT_EQ(p.samples[0].labels, labels);
  EXPECT_EQ(p.samples[0].value, 0.1 + 0.2);
  EXPECT_EQ(FormatSampleLine("m", {}, std::nan("")), "m NaN");
}

}  // namespace
}  // namespace firstwall::live
