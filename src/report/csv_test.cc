// CSV fields (report/csv.h), as RFC 4180 quotes them.
#include "report/csv.h"

#include <gtest/gtest.h>

namespace firstwall::report {
namespace {

TEST(CsvField, QuotesOnlyWhatAReaderWouldSplitOrTrim) {
  EXPECT_EQ(CsvField("cooling plant"), "cooling plant");
  EXPECT_EQ(CsvField(""), "");
  EXPECT_EQ(CsvField("a, b"), "\"a, b\"");
  EXPECT_EQ(CsvField("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(CsvField("two\nlines"), "\"two\nlines\"");
  EXPECT_EQ(CsvField("cr\rhere"), "\"cr\rhere\"");
  EXPECT_EQ(CsvField("crlf\r\n"), "\"crlf\r\n\"");
  EXPECT_EQ(CsvField(" padded"), "\" padded\"");
  EXPECT_EQ(CsvField("padded "), "\"padded \"");
}

}  // namespace
}  // namespace firstwall::report
