#include "core/text_input.h"

#include <gtest/gtest.h>

#include "core/error.h"

namespace firstwall::text {
namespace {

std::string ErrorOf(std::string text) {
  try {
    Lines(text, "f.csv");
  } catch (const InputError& e) {
    return e.where().ToString() + ": " + e.message();
  }
  return "no error";
}

TEST(TextInput, LinesDropTheByteOrderMarkAndCarriageReturns) {
  const std::string text = "\xEF\xBB\xBFhour,price\r\n0,1\n\n2,3";
  const auto lines = Lines(text, "f.csv");
  ASSERT_EQ(lines.size(), 4u);
  EXPECT_EQ(lines[0].text, "hour,price");
  EXPECT_EQ(lines[0].number, 1);
  EXPECT_EQ(lines[1].text, "0,1");
  EXPECT_EQ(lines[2].text, "");
  EXPECT_EQ(lines[3].text, "2,3");
  EXPECT_EQ(lines[3].number, 4);
  const std::string empty, blank = "\xEF\xBB\xBF\n  \r\n\t\n", text_after = "\n x";
  EXPECT_TRUE(Lines(empty, "f.csv").empty());
  EXPECT_TRUE(Blank(Lines(blank, "f.csv")));
  EXPECT_FALSE(Blank(Lines(text_after, "f.csv")));
}

TEST(TextInput, ANulByteIsRefusedAtItsLineAndColumn) {
  EXPECT_EQ(ErrorOf(std::string("a,b\n{\"x\": 1}\0\n", 13)),
            "f.csv:2:9: NUL byte in a text file (binary data, or a file cut short)");
  EXPECT_EQ(ErrorOf(std::string("\0", 1)),
            "f.csv:1:1: NUL byte in a text file (binary data, or a file cut short)");
}

TEST(TextInput, NumbersAreFiniteAndWhole) {
  EXPECT_EQ(FiniteNumber("-12.5"), -12.5);
  EXPECT_EQ(FiniteNumber("1e3"), 1000.0);
  for (const char* bad :
       {"", "nan", "-nan", "NaN", "inf", "-inf", "infinity", "1e999", "1x", " 1", "1 ", "+1"}) {
    EXPECT_FALSE(FiniteNumber(bad).has_value()) << bad;
  }
  EXPECT_EQ(WholeNumber("12"), 12);
  EXPECT_EQ(WholeNumber("-3"), -3);
  for (const char* bad : {"", "12.5", "12.0", "1e3", "x", "99999999999999999999"}) {
    EXPECT_FALSE(WholeNumber(bad).has_value()) << bad;
  }
}

TEST(TextInput, FieldsKeepTheirColumns) {
  const auto csv = Split("a,,bc", ',');
  ASSERT_EQ(csv.size(), 3u);
  EXPECT_EQ(csv[1].text, "");
  EXPECT_EQ(csv[1].column, 3);
  EXPECT_EQ(csv[2].text, "bc");
  EXPECT_EQ(csv[2].column, 4);
  EXPECT_EQ(Split("", ',').size(), 1u);
  const auto swf = SplitWhitespace("  1 \t 20  -1");
  ASSERT_EQ(swf.size(), 3u);
  EXPECT_EQ(swf[0].column, 3);
  EXPECT_EQ(swf[1].text, "20");
  EXPECT_EQ(swf[1].column, 7);
  EXPECT_EQ(swf[2].column, 11);
  EXPECT_TRUE(SplitWhitespace(" \t ").empty());
}

TEST(TextInput, DateTimesAreSecondsSince1970) {
  EXPECT_EQ(DateTimeSeconds("1970-01-01 00:00:00"), 0);
  // 2017-10-07: 17,446 days after 1970-01-01 (date -u -d 2017-10-07 +%s = 1507334400).
  EXPECT_EQ(DateTimeSeconds("2017-10-07 01:12:09"), 1507334400 + 3600 + 12 * 60 + 9);
  EXPECT_EQ(DateTimeSeconds("2020-02-29 00:00:00"), 1582934400);
  EXPECT_FALSE(DateTimeSeconds("2019-02-29 00:00:00"));
  EXPECT_FALSE(DateTimeSeconds("2020-13-01 00:00:00"));
  EXPECT_FALSE(DateTimeSeconds("2020-06-09T18:41:01"));
  EXPECT_FALSE(DateTimeSeconds("2020-06-09 18:41:1"));
  EXPECT_FALSE(DateTimeSeconds("2020-06-09 +8:41:01"));
}

}  // namespace
}  // namespace firstwall::text
