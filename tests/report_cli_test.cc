// `firstwall run --report` and `firstwall report OUT_DIR`: the HTML report through the CLI.
#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include <nlohmann/json.hpp>

#include "tests/cli_support.h"

namespace {
namespace fs = std::filesystem;
using namespace firstwall::testing_cli;

// The JSON the page draws, cut out of its <script id="fw-data"> element.
nlohmann::json EmbeddedData(const std::string& page) {
  const std::string open = "<script id=\"fw-data\" type=\"application/json\">";
  const size_t a = page.find(open);
  const size_t b = page.find("</script>", a);
  EXPECT_NE(a, std::string::npos);
  std::string text = page.substr(a + open.size(), b - a - open.size());
  for (size_t i = 0; (i = text.find("<\\/", i)) != std::string::npos;) text.erase(i + 1, 1);
  return nlohmann::json::parse(text);
}

// The default run: under 1 MB, every time series drawn from at most 4,000 points, and the same
// bytes from `firstwall report` afterwards as from `run --report`.
TEST(ReportCli, DefaultRunReportIsSmallAndReproducible) {
  const fs::path out = Fresh("report_default");
  const Result run = Firstwall("run --quiet --report --out " + out.string());
  ASSERT_EQ(run.status, 0) << run.out;
  const std::string page = Slurp(out / "report.html");
  std::cout << "default run's report.html: " << page.size() << " bytes\n";
  EXPECT_LT(page.size(), 1000000u);
  const nlohmann::json d = EmbeddedData(page);
  EXPECT_EQ(d["series"]["rows"], 86400);  // a day at 1 s
  EXPECT_LE(d["series"]["x"].size(), 4000u);
  EXPECT_TRUE(d.contains("swings"));
  EXPECT_FALSE(d.contains("gantt"));
  const Result again =
      Firstwall("report --quiet " + out.string() + " --out " + (out / "again.html").string());
  ASSERT_EQ(again.status, 0) << again.out;
  EXPECT_TRUE(Slurp(out / "again.html") == page);
  // A run without --report takes the earlier report away with the other outputs.
  ASSERT_EQ(Firstwall("run --quiet --out " + out.string()).status, 0);
  EXPECT_FALSE(fs::exists(out / "report.html"));
  ASSERT_EQ(Firstwall("report --quiet " + out.string()).status, 0);
  EXPECT_TRUE(Slurp(out / "report.html") == page);
}

// Examples with a scheduler and with inference services: their sections are drawn.
TEST(ReportCli, ExamplesWithJobsAndServices) {
  const fs::path life = Fresh("report_life");
  Result r = Firstwall("run examples/cluster-life.yaml --quiet --report --out " + life.string());
  ASSERT_EQ(r.status, 0) << r.out;
  nlohmann::json d = EmbeddedData(Slurp(life / "report.html"));
  ASSERT_TRUE(d.contains("gantt"));
  EXPECT_EQ(d["gantt"]["lanes"].size(), 200u);               // the 200 with the most GPU-hours
  EXPECT_EQ(d["gantt"]["lanes"][0], "llama3-70b-pretrain");  // starts first, at 0 s
  EXPECT_GT(d["gantt"]["jobs_total"].get<int>(), 200);
  EXPECT_TRUE(d.contains("goodput"));
  EXPECT_FALSE(d.contains("services"));

  const fs::path serving = Fresh("report_serving");
  r = Firstwall("run examples/inference-azure.yaml --quiet --report --out " + serving.string());
  ASSERT_EQ(r.status, 0) << r.out;
  d = EmbeddedData(Slurp(serving / "report.html"));
  ASSERT_TRUE(d.contains("services"));
  EXPECT_TRUE(d["services"][0]["ttft_s"].contains("p99"));
  EXPECT_FALSE(d.contains("gantt"));
}

TEST(ReportCli, BadDirectoryIsExitTwo) {
  const fs::path none = Fresh("report_none");
  Result r = Firstwall("report " + none.string());
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_NE(r.out.find("is not a directory"), std::string::npos) << r.out;
  fs::create_directories(none);
  r = Firstwall("report " + none.string());
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_NE(r.out.find("summary.json: error: is missing"), std::string::npos) << r.out;
  std::ofstream(none / "summary.json") << "{\"schema\": \"firstwall.summary/1\"}";
  std::ofstream(none / "timeseries.csv") << "time_s,gpu_power_kw\n0,1\n1\n";
  r = Firstwall("report " + none.string());
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_NE(r.out.find("timeseries.csv:3:1: error: expected 2 fields"), std::string::npos) << r.out;
  EXPECT_FALSE(fs::exists(none / "report.html"));
  // --out naming a directory is said so.
  std::ofstream(none / "timeseries.csv") << "time_s,gpu_power_kw\n0,1\n";
  r = Firstwall("report " + none.string() + " --out " + none.string());
  EXPECT_EQ(r.status, 2) << r.out;
  EXPECT_NE(r.out.find("is a directory; --out names the report's file"), std::string::npos)
      << r.out;
}

}  // namespace
