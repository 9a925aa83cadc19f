// Sweep files (study/sweep.h): design points, values with units, distributions, errors, and the
// thread pool.
#include <gtest/gtest.h>

#include <atomic>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <thread>

#include <unistd.h>

#include "study/point_runner.h"
#include "study/sweep.h"
#include "study/sweep_results.h"

#include <nlohmann/json.hpp>

namespace firstwall::study {
namespace {

Sweep Read(const std::string& body) {
  return ReadSweepText("firstwall_sweep: 1\n" + body, "sweep.yaml", "");
}

std::string ErrorOf(const std::string& body) {
  try {
    const Sweep s = Read(body);
    ValidatePoints(s, 1);
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

std::vector<std::string> Texts(const Point& p) {
  std::vector<std::string> out;
  for (const Input& in : p.inputs) out.push_back(in.text);
  return out;
}

TEST(SweepDesign, GridCombinesEveryValueFirstKeySlowest) {
  const Sweep s = Read(
      "vary:\n"
      "  - key: cluster.nodes\n"
      "    values: [64, 96, 128]\n"
      "  - key: facility.cooling.capacity\n"
      "    range: {from: 1 MW, to: 2 MW, steps: 2}\n"
      "replicas: 2\n");
  EXPECT_EQ(s.design_points(), 6);
  EXPECT_EQ(s.points(), 12);
  // Point 7 = design 3 (nodes index 1, capacity index 1), replica 1.
  const Point p = MakePoint(s, 7);
  EXPECT_EQ(p.design, 3);
  EXPECT_EQ(p.replica, 1);
  EXPECT_EQ(Texts(p), (std::vector<std::string>{"96", "2 MW"}));
  EXPECT_DOUBLE_EQ(*p.inputs[1].number, 2e6);
  // Replica r has one seed at every design point (common random numbers), another for r + 1.
  EXPECT_EQ(MakePoint(s, 1).seed, p.seed);
  EXPECT_NE(MakePoint(s, 0).seed, p.seed);
  EXPECT_EQ(p.overrides.back().key, "simulation.seed");
}

TEST(SweepDesign, ZipTakesTheIthValueOfEveryKey) {
  const Sweep s = Read(
      "design: zip\n"
      "vary:\n"
      "  - key: cluster.nodes\n"
      "    values: [64, 128]\n"
      "  - key: workloads[0].gpus\n"
      "    values: [512, 1024]\n");
  EXPECT_EQ(s.points(), 2);
  EXPECT_EQ(Texts(MakePoint(s, 1)), (std::vector<std::string>{"128", "1024"}));
  const std::string e = ErrorOf(
      "design: zip\n"
      "vary:\n"
      "  - key: cluster.nodes\n"
      "    values: [64, 128]\n"
      "  - key: workloads[0].gpus\n"
      "    values: [512, 768, 1024]\n");
  EXPECT_NE(e.find("sweep.yaml:7:13: error: design zip needs as many values of 'workloads[0].gpus' "
                   "(3) as of 'cluster.nodes' (2)"),
            std::string::npos)
      << e;
}

TEST(SweepDesign, LatinHypercubeHitsEveryStratumOncePerDimension) {
  const int n = 10;
  const auto u = UnitSamples(Design::kLatinHypercube, n, 3, 7);
  ASSERT_EQ(u.size(), 10u);
  for (size_t j = 0; j < 3; ++j) {
    std::set<int> strata;
    for (const auto& row : u) {
      ASSERT_GE(row[j], 0.0);
      ASSERT_LT(row[j], 1.0);
      strata.insert(static_cast<int>(std::floor(row[j] * n)));
    }
    EXPECT_EQ(strata.size(), 10u) << "dimension " << j;
  }
  // A dimension's samples do not depend on how many dimensions there are.
  const auto u2 = UnitSamples(Design::kLatinHypercube, n, 2, 7);
  for (size_t i = 0; i < 10; ++i) EXPECT_EQ(u2[i][1], u[i][1]);
}

TEST(SweepDesign, RandomSamplesAreReproducibleBySeed) {
  const auto a = UnitSamples(Design::kRandom, 50, 2, 7);
  EXPECT_EQ(a, UnitSamples(Design::kRandom, 50, 2, 7));
  EXPECT_NE(a, UnitSamples(Design::kRandom, 50, 2, 8));
  // Samples of a range land on the range, with the key's unit.
  const Sweep s = Read(
      "design: random\n"
      "samples: 50\n"
      "seed: 7\n"
      "vary:\n"
      "  - key: facility.cooling.capacity\n"
      "    range: {from: 1 MW, to: 2 MW}\n"
      "  - key: cluster.nodes\n"
      "    range: {from: 64, to: 128}\n");
  EXPECT_EQ(s.points(), 50);
  for (int64_t p = 0; p < 50; ++p) {
    const Point pt = MakePoint(s, p);
    EXPECT_NEAR(*pt.inputs[0].number, 1e6 + a[static_cast<size_t>(p)][0] * 1e6, 1e-3);
    EXPECT_GE(*pt.inputs[1].number, 64);
    EXPECT_LE(*pt.inputs[1].number, 128);
    EXPECT_EQ(*pt.inputs[1].number, std::round(*pt.inputs[1].number));  // a whole-number key
  }
}

TEST(SweepValues, RangesAreFormattedWithTheKeysUnit) {
  Sweep s = Read(
      "vary:\n"
      "  - key: facility.cooling.capacity\n"
      "    range: {from: 1 MW, to: 2 MW, steps: 5}\n");
  EXPECT_EQ(s.vary[0].values,
            (std::vector<std::string>{"1 MW", "1.25 MW", "1.5 MW", "1.75 MW", "2 MW"}));
  s = Read(
      "vary:\n"
      "  - key: facility.cooling.capacity\n"
      "    range: {from: 2 MW, to: 1 MW, step: 400 kW}\n");
  EXPECT_EQ(s.vary[0].values, (std::vector<std::string>{"2 MW", "1.6 MW", "1.2 MW"}));
  s = Read(
      "vary:\n"
      "  - key: site.grid_import_limit\n"
      "    range: {from: 100 kW, to: 10 MW, steps: 3, log: true}\n");
  EXPECT_EQ(s.vary[0].values, (std::vector<std::string>{"100 kW", "1 MW", "10 MW"}));
  s = Read(
      "vary:\n"
      "  - key: facility.cooling.liquid_supply\n"
      "    values: [25 C, 32 C]\n");
  EXPECT_DOUBLE_EQ(*MakePoint(s, 1).inputs[0].number, 305.15);
  EXPECT_EQ(InputColumn(*s.vary[0].spec, "facility.cooling.liquid_supply"),
            "facility.cooling.liquid_supply_k");
}

TEST(SweepDistributions, ParsedAndDrawnWithTheirMoments) {
  const scenario::KeySpec& power = *scenario::ScenarioSchema().Find("cluster.node_base_power");
  const SourceLocation at{"sweep.yaml", 3, 12};
  struct Case {
    std::string text;
    double mean, sd;
  };
  // Uniform: sd = width / sqrt(12); triangular (600, 700, 800): sqrt((a²+b²+c²-ab-ac-bc)/18).
  for (const Case& c : {Case{"700 W ± 5%", 700, 35}, Case{"0.7 kW +- 50 W", 700, 50},
                        Case{"uniform(650 W, 750 W)", 700, 100 / std::sqrt(12.0)},
                        Case{"triangular(600 W, 700 W, 800 W)", 700, std::sqrt(30000.0 / 18)}}) {
    const Distribution d = ParseDistribution(c.text, power, "cluster.node_base_power", at);
    RngStream rng(1, "test");
    const int n = 40000;
    double sum = 0, sq = 0;
    for (int i = 0; i < n; ++i) {
      const double x = d.Draw(rng);
      sum += x;
      sq += x * x;
    }
    const double mean = sum / n, sd = std::sqrt(sq / n - mean * mean);
    // Four standard errors of the mean; 2 % on the standard deviation.
    EXPECT_NEAR(mean, c.mean, 4 * c.sd / std::sqrt(n)) << c.text;
    EXPECT_NEAR(sd, c.sd, 0.02 * c.sd) << c.text;
  }
  // A draw outside the key's range is drawn again: an efficiency never exceeds 100 %.
  const scenario::KeySpec& eff =
      *scenario::ScenarioSchema().Find("facility.power_chain[].efficiency");
  const Distribution d =
      ParseDistribution("98 % ± 2%", eff, "facility.power_chain[UPS].efficiency", at);
  EXPECT_DOUBLE_EQ(d.a, 0.98);
  EXPECT_NEAR(d.b, 0.0196, 1e-15);
  RngStream rng(1, "test");
  for (int i = 0; i < 1000; ++i) EXPECT_LE(d.Draw(rng), 1.0);

  auto error = [&](const std::string& text) {
    try {
      ParseDistribution(text, power, "cluster.node_base_power", at);
    } catch (const InputError& e) {
      return std::string(e.what());
    }
    return std::string();
  };
  EXPECT_NE(error("700 W").find("sweep.yaml:3:12: error: '700 W' is not a distribution"),
            std::string::npos);
  EXPECT_NE(error("700 J ± 5%").find("'700 J' is not a value of 'cluster.node_base_power'"),
            std::string::npos);
  EXPECT_NE(error("uniform(750 W, 650 W)").find("needs low below high"), std::string::npos);
  EXPECT_NE(error("2 kW ± 1e300 W")
                .find("'2 kW ± 1e300 W' puts less than 1 % of its draws within the range of "
                      "'cluster.node_base_power'"),
            std::string::npos)
      << error("2 kW ± 1e300 W");
  EXPECT_NE(error("triangular(1 W, 2 W)").find("triangular takes 3 values, got 2"),
            std::string::npos);
  // A negative spread says what a spread must be.
  for (const char* bad : {"700 W ± -5%", "700 W ± -5 W"}) {
    EXPECT_NE(error(bad).find("is a negative spread\n  hint: expected a spread of 0 % or more "
                              "after ±"),
              std::string::npos)
        << error(bad);
  }
}

TEST(SweepErrors, NameTheSweepFileLineAndColumn) {
  struct Case {
    std::string body, expected;
  };
  for (const Case& c : {
           Case{"varry: []\n", "sweep.yaml:2:1: error: unknown key 'varry' in the top level"},
           Case{"vary:\n  - key: facility.cooling.capacity\n    range: {from: 1 MWh, to: 2 MW, "
                "steps: 3}\n",
                "sweep.yaml:4:19: error: '1 MWh' is not a value of 'facility.cooling.capacity'"},
           Case{"vary:\n  - key: facility.cooling.capacity\n    range: {from: 1 MW, to: 2 MW, "
                "steps: 0}\n",
                "sweep.yaml:4:42: error: 'vary[0].range.steps' is 0, out of range"},
           Case{"vary:\n  - key: cluster.nodez\n    values: [1]\n",
                "sweep.yaml:3:10: error: 'cluster.nodez' is not a scenario key"},
           Case{"vary:\n  - key: cluster.nodes\n    values: [64, 0]\n",
                "sweep.yaml:4:18: error: 'cluster.nodes' is 0, out of range"},
           Case{"vary:\n  - key: cluster.gpu\n    range: {from: 1, to: 2, steps: 2}\n",
                "sweep.yaml:3:10: error: 'cluster.gpu' is not numeric"},
           Case{"design: latin_hypercube\n", "error: design latin_hypercube needs 'samples'"},
           // An empty vary runs nothing that varies.
           Case{"vary: []\n", "sweep.yaml:2:1: error: 'vary' names no key"},
           // Whole-number keys: a fractional value is refused where it is written or made, never
           // rounded.
           Case{"vary:\n  - key: cluster.nodes\n    range: {from: 10.5, to: 12, steps: 2}\n",
                "sweep.yaml:4:19: error: 'cluster.nodes' takes whole numbers, not 10.5"},
           Case{"vary:\n  - key: cluster.nodes\n    range: {from: 10, to: 12, steps: 4}\n",
                "sweep.yaml:4:12: error: the range of 'cluster.nodes' gives 10.6666666666667, "
                "and 'cluster.nodes' takes whole numbers"},
           Case{"vary:\n  - key: cluster.nodes\n    values: [64, 96.5]\n",
                "sweep.yaml:4:18: error: 'cluster.nodes' takes whole numbers, not 96.5"},
           Case{"uncertain:\n  - key: cluster.nodes\n    value: 64 ± 5%\n",
                "sweep.yaml:4:12: error: 'cluster.nodes' takes whole numbers, and a distribution "
                "draws fractions"},
           // A grid of 10^12 points is refused at the range that makes it so, before its values
           // are made.
           Case{"vary:\n  - key: facility.cooling.capacity\n    range: {from: 1 MW, to: 2 MW, "
                "steps: 1000000}\n  - key: site.grid_import_limit\n    range: {from: 1 MW, to: "
                "2 MW, steps: 1000000}\n",
                "sweep.yaml:6:42: error: the sweep would have 1000000000000 points"},
           // A value the key takes that the scenario cannot: the scenario's line, and the point.
           Case{"set: {cluster.nodes: 64}\n",
                "needs 128 nodes, but only 64 of the cluster's 64 are left after the workloads "
                "before it\n  hint: jobs are placed on separate nodes in the order listed\n  note: "
                "at point 0 of sweep.yaml (design point 0, replica 0)"},
       }) {
    const std::string e = ErrorOf(c.body);
    EXPECT_NE(e.find(c.expected), std::string::npos) << c.body << "\n -> " << e;
  }
}

TEST(SweepTables, BandsAreMeanAndInterpolatedPercentiles) {
  Layout l;
  l.columns = {"point", "design", "replica", "seed", "x", "name"};
  l.design_columns = {"design"};
  l.band_columns = {"x"};
  l.banded = true;
  const std::map<int64_t, std::string> rows = {
      {0, R"({"point":0,"design":0,"replica":0,"seed":5,"x":4.0,"name":"a, b"})"
          "\n"},
      {1, R"({"point":1,"design":0,"replica":1,"seed":6,"x":1.0,"name":"c"})"
          "\n"},
      {2, R"({"point":2,"design":0,"replica":2,"seed":7,"x":2.0,"name":null})"
          "\n"},
      {3, R"({"point":3,"design":1,"replica":0,"seed":5,"x":null,"name":"d"})"
          "\n"},
  };
  const Tables t = MakeTables(l, rows);
  EXPECT_EQ(t.csv,
            "point,design,replica,seed,x,name\n0,0,0,5,4.0,\"a, b\"\n1,0,1,6,1.0,c\n2,0,2,7,2.0,\n"
            "3,1,0,5,,d\n");
  // x = 1, 2, 4: mean 7/3; p05 at rank 0.1 between 1 and 2 = 1.1; p95 at rank 1.9 between 2 and 4
  // = 3.8. Design 1 has no number: empty cells.
  const std::string mean = nlohmann::json(7.0 / 3).dump();
  const std::string p05 = nlohmann::json(1.0 + 0.1 * (2.0 - 1.0)).dump();
  const std::string p95 = nlohmann::json(2.0 + 0.9 * (4.0 - 2.0)).dump();
  EXPECT_EQ(t.bands,
            "design,n,x_mean,x_p05,x_p95\n0,3," + mean + "," + p05 + "," + p95 + "\n1,1,,,\n");
  EXPECT_EQ(p05, "1.1");
  EXPECT_EQ(p95, "3.8");
}

// A run that fails or is interrupted before Finish leaves the finished results of the run before
// it in DIR as they were; --resume takes rows only from what is of its own sweep.
TEST(SweepStore, AFreshRunReplacesTheEarlierResultsOnlyWhenItFinishes) {
  namespace fs = std::filesystem;
  const std::string dir = ::testing::TempDir() + "/fw_sweep_store_" + std::to_string(getpid());
  fs::remove_all(dir);
  const Sweep a = Read("seed: 1\nvary:\n  - key: cluster.nodes\n    values: [64, 96]\n");
  const Sweep b = Read("seed: 2\nvary:\n  - key: cluster.nodes\n    values: [64, 96]\n");
  ASSERT_NE(a.hash, b.hash);
  auto row = [](int p, const std::string& of) {
    return "{\"point\":" + std::to_string(p) + ",\"design\":" + std::to_string(p) +
           ",\"replica\":0,\"of\":\"" + of + "\"}\n";
  };
  auto slurp = [&](const std::string& name) {
    std::ifstream in(dir + "/" + name, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
  };
  {
    ResultStore store(dir, a, {}, false);
    store.Add(1, row(1, "a"));
    store.Add(0, row(0, "a"));
    store.Finish();
  }
  const std::string a_rows = row(0, "a") + row(1, "a");
  ASSERT_EQ(slurp("results.jsonl"), a_rows);
  const std::string a_csv = slurp("results.csv"), a_manifest = slurp("manifest.json");
  EXPECT_FALSE(fs::exists(dir + "/results.jsonl.part"));
  // Sweep b starts afresh in the same DIR, keeps one row and stops (a point failed, or SIGTERM).
  {
    ResultStore store(dir, b, {}, false);
    store.Add(1, row(1, "b"));
  }
  EXPECT_EQ(slurp("results.jsonl"), a_rows);
  EXPECT_EQ(slurp("results.csv"), a_csv);
  EXPECT_EQ(slurp("manifest.json"), a_manifest);
  // Resumed, b has its own row and none of a's.
  {
    ResultStore store(dir, b, {}, true);
    EXPECT_EQ(store.rows(), (std::map<int64_t, std::string>{{1, row(1, "b")}}));
  }
  // a cannot resume over b's journal.
  try {
    ResultStore store(dir, a, {}, true);
    ADD_FAILURE() << "resumed over another sweep's journal";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("cannot resume: " + dir +
                                         "/results.jsonl.part is of "
                                         "another sweep"),
              std::string::npos)
        << e.what();
  }
  EXPECT_EQ(slurp("results.jsonl"), a_rows);
  // b finishes: its set replaces a's, whole.
  {
    ResultStore store(dir, b, {}, true);
    store.Add(0, row(0, "b"));
    store.Finish();
  }
  EXPECT_EQ(slurp("results.jsonl"), row(0, "b") + row(1, "b"));
  EXPECT_NE(slurp("manifest.json").find(b.hash), std::string::npos);
  EXPECT_FALSE(fs::exists(dir + "/results.jsonl.part"));
  // Finished, b resumes from its results; a is refused by the manifest.
  {
    ResultStore store(dir, b, {}, true);
    EXPECT_EQ(store.rows().size(), 2u);
  }
  EXPECT_THROW(ResultStore(dir, a, {}, true), InputError);
  fs::remove_all(dir);
}

TEST(PointRunner, RunsEveryPointOnceAndHandsRowsToTheCallingThread) {
  std::vector<int64_t> points;
  for (int64_t p = 0; p < 100; ++p) points.push_back(p * 3);
  std::atomic<int> runs{0};
  std::set<int64_t> seen;
  const std::thread::id caller = std::this_thread::get_id();
  RunPointsOnThreads(
      points, 4,
      [&](int64_t p) {
        ++runs;
        return std::to_string(p * 2);
      },
      [&](int64_t p, const std::string& row) {
        EXPECT_TRUE(std::this_thread::get_id() == caller);
        EXPECT_EQ(row, std::to_string(p * 2));
        EXPECT_TRUE(seen.insert(p).second);
      });
  EXPECT_EQ(runs.load(), 100);
  EXPECT_EQ(seen.size(), 100u);
  // A failing point stops the pool and its exception reaches the caller.
  EXPECT_THROW(RunPointsOnThreads(
                   points, 3,
                   [](int64_t p) -> std::string {
                     if (p == 30) throw InputError({"x", 1, 1}, "bad point");
                     return "";
                   },
                   [](int64_t, const std::string&) {}),
               InputError);
  RunPointsOnThreads(
      {}, 4, [](int64_t) { return std::string(); }, [](int64_t, const std::string&) {});
}

}  // namespace
}  // namespace firstwall::study
