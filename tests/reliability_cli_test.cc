// firstwall reliability, end to end.
#include <nlohmann/json.hpp>

#include "tests/cli_support.h"

namespace firstwall::testing_cli {
namespace {

TEST(Reliability, Llama3ClusterGetsItsRecordBack) {
  const Result r = Firstwall("reliability --gpus 16384 --days 54 --json");
  ASSERT_EQ(r.status, 0) << r.out;
  const auto j = nlohmann::json::parse(r.out);
  // 419 unexpected interruptions, about one every 3 hours (Llama 3, Table 5): the table's own data.
  EXPECT_NEAR(j["interruptions_expected"].get<double>(), 419, 1e-6);
  EXPECT_NEAR(j["mtbi_h"].get<double>(), 3.093, 1e-3);
  EXPECT_EQ(j["by_cause"].size(), 18u);
  EXPECT_EQ(j["by_cause"][0]["cause"], "faulty GPU");
  EXPECT_EQ(j["checkpoint_interval_rule"], "daly");
  // Daly's optimum for delta = 90 s, M = 11,136 s: sqrt(2 x 90 x 11,136) = 1,415.8 s;
  // x = 90 / 22,272 = 0.004041, times 1 + sqrt(x)/3 + x/9 = 1.021639, less 90 s: 1,356.4 s.
  EXPECT_NEAR(j["checkpoint_interval_s"].get<double>(), 1356.4, 0.5);
  const double ettr = j["ettr"].get<double>();
  EXPECT_GT(ettr, 0.8);
  EXPECT_LT(ettr, 0.9);
  EXPECT_TRUE(j["failure_rates_measured_on_this_gpu"].get<bool>());
}

TEST(Reliability, TextSaysWhatItAssumed) {
  Result r = Firstwall("reliability --gpus 1024 --days 30 --gpu A100-SXM4-80GB");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("checkpoint write 90 s (default, --checkpoint-write)"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("restart 600 s (default, --restart)"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("caveat: rates measured on H100-SXM5-80GB, applied to A100-SXM4-80GB"),
            std::string::npos)
      << r.out;
  r = Firstwall("reliability --gpus 1024 --days 30 --checkpoint-write '90 s' --restart '5 min'");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(r.out.find("(default"), std::string::npos) << r.out;
}

TEST(Reliability, GivenIntervalAndLongerRestartCostEttr) {
  auto ettr = [](const std::string& extra) {
    const Result r = Firstwall("reliability --gpus 4096 --days 10 --json " + extra);
    EXPECT_EQ(r.status, 0) << r.out;
    return nlohmann::json::parse(r.out)["ettr"].get<double>();
  };
  const double best = ettr("");
  EXPECT_LT(ettr("--checkpoint-every '4 h'"), best);
  EXPECT_LT(ettr("--checkpoint-every '2 min'"), best);
  EXPECT_LT(ettr("--restart '1 h'"), best);
}

TEST(Reliability, LargeClustersAndShortRunsSayWhatTheyAre) {
  // The node count of 2^31 - 1 GPUs in nodes of 8 once overflowed to a negative number.
  Result r = Firstwall("reliability --gpus 2147483647 --days 1 --json");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_EQ(nlohmann::json::parse(r.out)["nodes"].get<int64_t>(), 268435456);
  r = Firstwall("reliability --gpus 2147483647 --days 1");
  EXPECT_NE(r.out.find("(268435456 nodes of 8)"), std::string::npos) << r.out;
  // A run shorter than Daly's interval: said, and the expected count keeps its digits.
  r = Firstwall("reliability --gpus 8 --days 0.001");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("the interval is longer than the run"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("expected interruptions 0,"), std::string::npos) << r.out;
}

TEST(Reliability, BadInputIsRefused) {
  const std::pair<const char*, const char*> cases[] = {
      {"--gpus 0 --days 1", "'--gpus' is 0, out of range"},
      {"--gpus 8 --days 0", "'--days' is 0, out of range"},
      {"--gpus 8 --days x", "expected a number"},
      {"--gpus 8 --days 1 --checkpoint-write 90", "--checkpoint-write"},
      {"--gpus 8 --days 1 --checkpoint-every '0 s'", "--checkpoint-every"},
      {"--gpus 8 --days 1 --restart '-1 s'", "--restart"},
      {"--gpus 8 --days 1 --gpu H101", "unknown GPU 'H101'"},
      {"--days 1", "--gpus is required"},
  };
  for (const auto& [args, message] : cases) {
    const Result r = Firstwall(std::string("reliability ") + args);
    EXPECT_EQ(r.status, 2) << args << "\n" << r.out;
    EXPECT_NE(r.out.find(message), std::string::npos) << args << "\n" << r.out;
  }
}

}  // namespace
}  // namespace firstwall::testing_cli
