// `firstwall walls` through the CLI: the files it writes, its JSON keys, and bad input.
#include <nlohmann/json.hpp>

#include "tests/cli_support.h"

namespace firstwall::testing_cli {
namespace {

const std::string kShort = " --set simulation.duration=20min --set power_swings.start=1min ";

TEST(WallsCli, WritesTheRankingTheCurveAndJson) {
  const fs::path out = Fresh("walls");
  const Result r = Firstwall("walls --grow gpus --to 4096 --steps 5 --next 1 --threads 2" + kShort +
                             "--out " + out.string());
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("walls along gpus from 1024 GPUs to 4096 GPUs"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("headroom at the first wall"), std::string::npos) << r.out;
  const auto j = nlohmann::json::parse(Slurp(out / "walls.json"));
  EXPECT_EQ(j["axis"]["name"], "gpus");
  EXPECT_EQ(j["axis"]["unit"], "GPUs");
  ASSERT_FALSE(j["walls"].empty());
  const auto& first = j["walls"][0];
  EXPECT_EQ(first["unit"], "GPUs");
  for (const char* k : {"resource", "binds_at", "unit", "metric", "headroom", "limit_unit"}) {
    EXPECT_TRUE(first.contains(k)) << k;
  }
  ASSERT_TRUE(first["binds"].get<bool>());
  // Whole racks of 32 GPUs.
  EXPECT_EQ(static_cast<int>(first["binds_at"].get<double>()) % 32, 0);
  EXPECT_EQ(j["next_walls"].size(), 1u);
  EXPECT_EQ(Slurp(out / "walls.csv").rfind("rank,resource,kind,metric,limit,limit_unit,binds,", 0),
            0u);
  EXPECT_EQ(Slurp(out / "walls_curve.csv").rfind("gpus (GPUs),", 0), 0u);
  // The same again gives the same bytes, with one thread.
  const fs::path again = Fresh("walls_again");
  ASSERT_EQ(Firstwall("walls --grow gpus --to 4096 --steps 5 --next 1" + kShort + "--out " +
                      again.string())
                .status,
            0);
  EXPECT_EQ(Slurp(out / "walls.json"), Slurp(again / "walls.json"));
  EXPECT_EQ(Slurp(out / "walls_curve.csv"), Slurp(again / "walls_curve.csv"));
  EXPECT_FALSE(fs::exists(out / "report.html"));
}

// --report draws the walls (issue #15: "the walls against scale from `firstwall walls`"); into a
// run's directory it draws the run too, and `firstwall report DIR` gives the same bytes.
TEST(WallsCli, ReportDrawsTheWallsAndARunBesideThem) {
  const fs::path out = Fresh("walls_report");
  ASSERT_EQ(Firstwall("walls --grow gpus --to 2048 --steps 3 --next 0 --report --quiet" + kShort +
                      "--out " + out.string())
                .status,
            0);
  const std::string page = Slurp(out / "report.html");
  EXPECT_NE(page.find("\"walls_only\":true"), std::string::npos);
  EXPECT_NE(page.find("\"curve\":"), std::string::npos);
  const Result again =
      Firstwall("report " + out.string() + " --out " + (out / "again.html").string());
  ASSERT_EQ(again.status, 0) << again.out;
  EXPECT_EQ(Slurp(out / "again.html"), page);
  // A run's directory: walls without --report leave the run's report; with it, one page of both.
  const fs::path run = Fresh("walls_report_run");
  ASSERT_EQ(Firstwall("run --report --quiet" + kShort + "--out " + run.string()).status, 0);
  const std::string run_page = Slurp(run / "report.html");
  ASSERT_EQ(Firstwall("walls --grow gpus --to 2048 --steps 3 --next 0 --quiet" + kShort + "--out " +
                      run.string())
                .status,
            0);
  EXPECT_EQ(Slurp(run / "report.html"), run_page);
  ASSERT_EQ(Firstwall("walls --grow gpus --to 2048 --steps 3 --next 0 --report --quiet" + kShort +
                      "--out " + run.string())
                .status,
            0);
  const std::string both = Slurp(run / "report.html");
  EXPECT_NE(both.find("\"series\":"), std::string::npos);
  EXPECT_NE(both.find("\"curve\":"), std::string::npos);
  ASSERT_EQ(Firstwall("report --quiet " + run.string()).status, 0);
  EXPECT_EQ(Slurp(run / "report.html"), both);
}

TEST(WallsCli, InTimeWritesAnHourlyTable) {
  const fs::path out = Fresh("walls_hours");
  const Result r = Firstwall("walls --in-time --set simulation.duration=3h --out " + out.string());
  ASSERT_EQ(r.status, 0) << r.out;
  const std::string csv = Slurp(out / "walls_hours.csv");
  EXPECT_EQ(csv.rfind("hour,first_wall,utilization,", 0), 0u) << csv;
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 4);  // header + 3 hours
}

TEST(WallsCli, BadInputExitsTwoAndWritesNothing) {
  const fs::path out = Fresh("walls_bad");
  struct Case {
    std::string args, expect;
  };
  const Case cases[] = {
      {"--grow gpu", "--grow: error: unknown axis 'gpu'"},
      {"--grow gpus --from 4096 --to 1024", "--to: error: the axis runs from 4096 GPUs to 1024"},
      {"--grow it_power --to '20 MWh'",
       "--to: error: '20 MWh' is not a value of the axis it_power"},
      {"--grow rate:chat", "no service named 'chat'"},
      {"--grow cluster.gpu", "'cluster.gpu' is not a numeric key"},
      {"--grow gpus --steps 1", "--steps: error: --steps is 1: expected 2 to 1000"},
      {"--grow gpus --to 1e300", "--to is"},
      {"--grow gpus --from 0", "--from is 0 GPUs, outside what the axis gpus can take"},
      {"--grow gpus --set cluster.nodes=0", "--set cluster.nodes=0: error: 'cluster.nodes' is 0"},
      {"", "--grow: error: no axis to grow"},
      {"--in-time --grow gpus", "--in-time: error: --in-time reads the scenario's own run"},
      // --from and --to in the axis's unit, or a bare number of it: both read (the range is then
      // refused before any run, as it runs backwards).
      {"--grow gpus --from '2048 GPUs' --to 1024", "the axis runs from 2048 GPUs to 1024"},
      {"--grow it_power --from '8 MW' --to 2", "--to: error: the axis runs from"},
      // A replayed trace's rate axis is a multiple of the trace: a rate in req/s is refused.
      {"examples/inference-azure.yaml --grow rate:chat --to '200 req/s'",
       "--to: error: '200 req/s' is not a value of the axis rate:chat: the service replays a "
       "trace"},
      {"--grow outdoor_temperature --from '40 C' --to 30", "the axis runs from 40 C to 30"},
      // A unit of another axis, said as such.
      {"--grow gpus --to '2048 W'",
       "--to: error: '2048 W' is not a value of the axis gpus: expected a number of GPUs"},
      {"--grow outdoor_temperature --to '80 W'",
       "--to: error: '80 W' is not a value of the axis outdoor_temperature"},
      // An unquoted value and unit: the unit is not taken for a scenario, nor is an extra word.
      {"--grow outdoor_temperature --to 80 C",
       "C: error: 'C' is a unit, not a scenario file\n  hint: quote a value with its unit: --to "
       "'80 C'"},
      {"examples/default.yaml --grow outdoor_temperature --to 80 C",
       "The following argument was not expected: C"},
  };
  for (const Case& c : cases) {
    const Result r = Firstwall("walls " + c.args + " --out " + out.string());
    EXPECT_EQ(r.status, 2) << c.args << "\n" << r.out;
    EXPECT_NE(r.out.find(c.expect), std::string::npos) << c.args << "\n" << r.out;
    EXPECT_FALSE(fs::exists(out / "walls.json")) << c.args;
  }
}

}  // namespace
}  // namespace firstwall::testing_cli
