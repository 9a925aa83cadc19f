#include "ops/finding_json.h"

#include <gtest/gtest.h>

namespace firstwall::ops {
namespace {

std::string ErrorOf(const std::string& text) {
  try {
    ParseFindings(text, "f.json");
  } catch (const InputError& e) {
    return e.what();
  }
  return "no error";
}

TEST(FindingJson, RoundTripsAndAcceptsAnObjectWithFindings) {
  Finding f;
  f.kind = "anomaly";
  f.target = "gpu/node0/gpu3";
  f.quantity = "power";
  f.detector = "cusum";
  f.cause = "slow_gpu";
  f.start_ms = 1700000000000;
  f.detected_ms = 1700000060000;
  f.residual = -123.5;
  f.score_sigma = 7.25;
  f.limit = 400000;
  f.detail = "below its siblings";
  const std::string array = nlohmann::json::array({FindingJson(f)}).dump();
  for (const std::string& text : {array, "{\"findings\": " + array + "}"}) {
    const std::vector<Finding> back = ParseFindings(text, "f.json");
    ASSERT_EQ(back.size(), 1u);
    EXPECT_EQ(back[0].target, f.target);
    EXPECT_EQ(back[0].cause, f.cause);
    EXPECT_EQ(back[0].start_ms, f.start_ms);
    EXPECT_EQ(back[0].detected_ms, f.detected_ms);
    EXPECT_DOUBLE_EQ(back[0].residual, f.residual);
    EXPECT_DOUBLE_EQ(back[0].score_sigma, f.score_sigma);
    EXPECT_DOUBLE_EQ(back[0].limit, f.limit);
  }
  EXPECT_TRUE(ParseFindings("[]", "f.json").empty());
}

TEST(FindingJson, BadInputIsPlacedAtFileLineColumn) {
  // The second finding (line 3, column 3) has a key no finding has.
  EXPECT_NE(
      ErrorOf("[\n  {\"kind\": \"anomaly\", \"target\": \"cdu/c1\"},\n  {\"kind\": \"anomaly\", "
              "\"target\": \"cdu/c1\", \"severity\": 3}\n]")
          .find("f.json:3:3: error: unknown finding key 'severity'"),
      std::string::npos);
  EXPECT_NE(ErrorOf("[{\"kind\": \"anomaly\",\n \"target\": }]").find("f.json:2:"),
            std::string::npos);
  EXPECT_NE(ErrorOf("[{\"kind\": \"anomaly\", \"target\": \"cooler/c1\"}]").find("not ENTITY/ID"),
            std::string::npos);
  EXPECT_NE(ErrorOf("[{\"kind\": \"anomaly\", \"target\": \"cdu/\"}]").find("not ENTITY/ID"),
            std::string::npos);
  EXPECT_NE(ErrorOf("[{\"target\": \"cdu/c1\"}]").find("needs a kind and a target"),
            std::string::npos);
  EXPECT_NE(ErrorOf("[{\"kind\": \"anomaly\", \"target\": \"cdu/c1\", \"residual\": \"3\"}]")
                .find("'residual' must be a number"),
            std::string::npos);
  EXPECT_NE(ErrorOf("{\"kind\": \"anomaly\"}").find("expected a JSON array"), std::string::npos);
  EXPECT_NE(ErrorOf("[3]").find("expected a finding object"), std::string::npos);
  // Times are whole ms within 64 bits.
  for (const char* t : {"1.5", "1e30", "9223372036854775808"}) {
    EXPECT_NE(ErrorOf(std::string("[{\"kind\": \"anomaly\", \"target\": \"cdu/c1\", "
                                  "\"start_ms\": ") +
                      t + "}]")
                  .find("'start_ms' must be a whole number of ms"),
              std::string::npos)
        << t;
  }
  // A number beyond a double is placed where it is written.
  EXPECT_NE(ErrorOf("[{\"kind\": \"anomaly\", \"target\": \"cdu/c1\",\n \"limit\": 1e999}]")
                .find("f.json:2:11: error: the number 1e999 is beyond a double's range"),
            std::string::npos)
      << ErrorOf("[{\"kind\": \"anomaly\", \"target\": \"cdu/c1\",\n \"limit\": 1e999}]");
  // Braces inside strings do not throw the element count off.
  EXPECT_NE(ErrorOf("[{\"kind\": \"a{[\", \"target\": \"cdu/c1\"},\n {\"kind\": \"x\"}]")
                .find("f.json:2:2:"),
            std::string::npos);
}

}  // namespace
}  // namespace firstwall::ops
