#include "report/html_report.h"

#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>

#include <fmt/format.h>
#include <gtest/gtest.h>

#include "core/error.h"

namespace firstwall::report {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

class HtmlReportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           fmt::format("fw-html-report-{}-{}", getpid(),
                       ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    summary_ = {{"schema", "firstwall.summary/1"},
                {"site", "test hall"},
                {"sim_time_s", 10.0},
                {"pue", 1.25},
                {"resources",
                 {{{"name", "grid connection"},
                   {"kind", "grid"},
                   {"unit", "kW"},
                   {"peak", 150.0},
                   {"rating", 200.0},
                   {"peak_utilization", 0.75}},
                  {{"name", "rack PSU"},
                   {"kind", "power stage"},
                   {"unit", "kW"},
                   {"peak", 90.0},
                   {"rating", nullptr},
                   {"peak_utilization", nullptr}}}}};
    std::string ts = "time_s,gpu_power_kw,it_power_kw,water_use_l_per_s,facility_power_kw\n";
    for (int i = 0; i < 10; ++i) {
      ts += fmt::format("{}.000,{},100,0.5,{}\n", i, 50 + i, 125 + i);
    }
    Write("timeseries.csv", ts);
  }
  void TearDown() override { fs::remove_all(dir_); }
  void Write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name, std::ios::binary) << text;
  }
  json Data(HtmlReportOptions o = {}) {
    Write("summary.json", summary_.dump());
    return ReportData(ReportFiles::InDir(dir_), o);
  }
  // The InputError's text for a report of dir_.
  std::string Error() {
    try {
      Data();
    } catch (const InputError& e) {
      return e.where().ToString() + ": " + e.message();
    }
    return "no error";
  }
  fs::path dir_;
  json summary_;
};

TEST_F(HtmlReportTest, TimeSeriesAndRatings) {
  const json d = Data();
  EXPECT_EQ(d["meta"]["site"], "test hall");
  EXPECT_EQ(d["series"]["rows"], 10);
  EXPECT_EQ(d["series"]["x"].size(), 10u);
  EXPECT_EQ(d["series"]["columns"]["gpu_power_kw"][3], 53.0);
  // WUE per interval: 0.5 L/s x 3600 s/h / 100 kW = 18 L/kWh.
  EXPECT_EQ(d["series"]["columns"]["wue_l_per_kwh"][0], 18.0);
  EXPECT_FALSE(d["series"]["columns"].contains("pue"));  // not in this file
  // Only rated power resources become lines on the power chart.
  ASSERT_EQ(d["limits"].size(), 1u);
  EXPECT_EQ(d["limits"][0]["name"], "grid connection");
  EXPECT_EQ(d["limits"][0]["kw"], 200.0);
}

// A column keeps 4 significant digits of its range, not of its values: a PUE moving between 1.09120
// and 1.09183 keeps its 1e-5 steps (of its own digits it drew as steps of 0.001), a flat column
// its value's 4 digits, and the on-site supply (renewables, curtailment, state of charge) travels
// with the rest.
TEST_F(HtmlReportTest, ColumnsKeepTheDigitsOfTheirRange) {
  std::string ts = "time_s,pue,gpu_power_kw,renewable_power_kw,curtailed_kw,battery_soc\n";
  for (int i = 0; i < 10; ++i) {
    ts += fmt::format("{}.000,{:.6f},12345.678,{},0,0.{}\n", i, 1.0912 + 7e-5 * i, 10 * i, i);
  }
  Write("timeseries.csv", ts);
  summary_["on_site"] = {{"renewable_energy_kwh", 1.25}};
  const json d = Data();
  const json& pue = d["series"]["columns"]["pue"];
  EXPECT_EQ(pue[0], 1.0912);
  EXPECT_EQ(pue[1], 1.09127);  // span 6.3e-4: 3 - floor(log10) = 7 decimals kept
  EXPECT_EQ(pue[9], 1.09183);
  EXPECT_EQ(d["series"]["columns"]["gpu_power_kw"][0], 12350.0);  // flat: 4 digits of the value
  EXPECT_EQ(d["series"]["columns"]["renewable_power_kw"][9], 90.0);
  EXPECT_EQ(d["series"]["columns"]["battery_soc"][3], 0.3);
  EXPECT_EQ(d["on_site"]["renewable_energy_kwh"], 1.25);
}

// cluster.fabric.technology: the network's equipment goes to the page as summary.json has it.
TEST_F(HtmlReportTest, TheNetworksEquipmentWhenCounted) {
  EXPECT_FALSE(Data().contains("network"));
  summary_["network"] = {
      {"technology", "infiniband"}, {"leaf_switches", 256}, {"network_power_kw", 495.7}};
  const json d = Data();
  EXPECT_EQ(d["network"]["leaf_switches"], 256);
  EXPECT_EQ(d["network"]["network_power_kw"], 495.7);
}

TEST_F(HtmlReportTest, AbsentSectionsAreSaidNotDrawn) {
  const json d = Data();
  for (const char* key : {"gantt", "goodput", "swings", "services", "hottest_links"}) {
    EXPECT_FALSE(d.contains(key)) << key;
  }
  const std::string absent = d["absent"].dump();
  EXPECT_NE(absent.find("no jobs.csv"), std::string::npos);
  EXPECT_NE(absent.find("no power_swings window"), std::string::npos);
  EXPECT_NE(absent.find("Inference services"), std::string::npos);
}

TEST_F(HtmlReportTest, GanttFromJobsAndEvents) {
  Write("jobs.csv",
        "job,tenant,attempt,gpus,nodes,submit_s,queued_s,start_s,end_s,wait_s,ended\n"
        "big,t,1,64,8,0,0,0,100,0,failed\n"
        "small,t,1,8,1,0,0,50,60,50,completed\n"
        "big,t,2,64,8,0,120,130,200,10,cut\n"
        "\"a, b\",t,1,1,1,0,0,5,6,5,completed\n");
  Write("events.csv",
        "time_s,event,job,component,index,cause,effect,first_node,nodes,repair_s,jobs_hit\n"
        "40,checkpoint,big,,,,,,,,\n"
        "100,failure,,gpu,3,xid,job_restart,2,1,3600,big;small\n"
        "130,restart,big,,,,,,,,\n"
        "150,repair,,gpu,3,,,2,1,,\n");
  HtmlReportOptions o;
  o.max_job_lanes = 2;  // "a, b" has the fewest GPU-hours: left out
  const json d = Data(o);
  const json& g = d["gantt"];
  // By GPU-hours: big 64 x 170 s, small 8 x 10 s, "a, b" 1 x 1 s; drawn by first start.
  EXPECT_EQ(g["lanes"], json({"big", "small"}));
  EXPECT_EQ(g["jobs_total"], 3);
  EXPECT_EQ(g["attempts"], json::parse("[[0,0.0,100.0,1,64.0],[1,50.0,60.0,0,8.0],"
                                       "[0,130.0,200.0,4,64.0]]"));
  // The failure marks both jobs it hit; checkpoints come after the other marks.
  EXPECT_EQ(g["events"], json::parse("[[0,100.0,0],[1,100.0,0],[0,130.0,1],[0,40.0,2]]"));
  EXPECT_EQ(g["events_total"], 4);
}

// links.csv: the summary's hottest links as steps, each holding its value until its next change
// and carried to the end of the run; other links are left out. By hand: t 0: a 0.5, c 0 (no row
// yet); t 2: a 0.75, c 0.25; t 5: a 0, c 0.25; the end, 10 s: the same.
TEST_F(HtmlReportTest, HottestLinksOverTimeFromLinksCsv) {
  summary_["hottest_links"] = {{{"link", "a->b"}, {"peak_utilization", 0.75}, {"at_s", 2.0}},
                               {{"link", "c->d"}, {"peak_utilization", 0.25}, {"at_s", 2.0}}};
  Write("links.csv",
        "time_s,link,capacity_bytes_per_s,utilization\n"
        "0,a->b,100,0.5\n0,x->y,100,0.9\n2,c->d,100,0.25\n2,a->b,100,0.75\n5,a->b,100,0\n");
  const json d = Data();
  EXPECT_EQ(d["hottest_links"].size(), 2u);
  EXPECT_EQ(d["link_series"]["x"], json({0.0, 2.0, 5.0, 10.0}));
  EXPECT_EQ(d["link_series"]["columns"]["a->b"], json({0.5, 0.75, 0.0, 0.0}));
  EXPECT_EQ(d["link_series"]["columns"]["c->d"], json({0.0, 0.25, 0.25, 0.25}));
  EXPECT_FALSE(d["link_series"]["columns"].contains("x->y"));
}

// The swing window's spectrum: 10 MW plus a 1 Hz sinusoid of 2 MW amplitude, 100 samples at
// 0.1 s. Bins are 0.1 Hz apart; the 1 Hz bin (the 10th) holds 2 MW, the others nothing; bins up
// to the band's top, 2 Hz, are kept: 20.
TEST_F(HtmlReportTest, SwingSpectrumPerVariant) {
  summary_["power_swings"] = {{"start_s", 0.0},
                              {"duration_s", 10.0},
                              {"resolution_s", 0.1},
                              {"band_hz", {0.1, 2.0}},
                              {"variants", {{{"name", "none"}, {"swing_mw", 4.0}}}}};
  std::string csv = "time_s,facility_none_mw\n";
  for (int i = 0; i < 100; ++i) {
    csv += fmt::format("{:.1f},{:.17g}\n", i * 0.1, 10 + 2 * std::sin(2 * M_PI * 1.0 * i * 0.1));
  }
  Write("swings.csv", csv);
  const json d = Data();
  const json& sp = d["swings"]["spectrum"];
  ASSERT_EQ(sp["x"].size(), 20u);
  EXPECT_NEAR(sp["x"][9].get<double>(), 1.0, 1e-12);
  const json& a = sp["columns"]["facility_none_mw"];
  for (size_t k = 0; k < 20; ++k) EXPECT_NEAR(a[k].get<double>(), k == 9 ? 2.0 : 0.0, 1e-3) << k;
  EXPECT_EQ(d["swings"]["series"]["rows"], 100);
}

TEST_F(HtmlReportTest, PageEmbedsTheLibraryAndTheDataAndNothingRemote) {
  summary_["site"] = "hall </script><script>alert(1) <!--<script>";
  Write("summary.json", summary_.dump());
  const std::string page = HtmlReport(ReportFiles::InDir(dir_));
  EXPECT_NE(page.find("uPlot"), std::string::npos);
  EXPECT_NE(page.find("Leon Sorokin"), std::string::npos);  // uPlot's license notice
  EXPECT_NE(page.find("<script id=\"fw-data\" type=\"application/json\">{"), std::string::npos);
  EXPECT_NE(page.find("\"gpu_power_kw\":[50.0,51.0"), std::string::npos);
  EXPECT_EQ(page.find("<script src"), std::string::npos);
  EXPECT_EQ(page.find("<link"), std::string::npos);
  EXPECT_EQ(page.find("/*FW_"), std::string::npos);
  EXPECT_EQ(page.find("<!--FW_"), std::string::npos);
  // The site's name cannot close the data's script element, and is escaped in the title.
  EXPECT_EQ(page.find("hall </script>"), std::string::npos);
  // Nor, with "<!--<script>", make the parser swallow the page's own scripts (a breaker's blank
  // report): no '<' of the data reaches the page as is.
  EXPECT_EQ(page.find("<!--<script>"), std::string::npos);
  EXPECT_NE(page.find("hall \\u003c/script>\\u003cscript>alert(1) \\u003c!--\\u003cscript>"),
            std::string::npos);
  EXPECT_NE(page.find("<title>firstwall report: hall &lt;/script&gt;"), std::string::npos);
  // The same files give the same bytes.
  EXPECT_EQ(page, HtmlReport(ReportFiles::InDir(dir_)));
}

// 500,000 rows (5.8 days at 1 s) of 5 columns: drawn from at most 4,000 points each, and the
// page stays small. bench/ times a year at 1 s.
TEST_F(HtmlReportTest, LongRunIsDownsampledAndSmall) {
  std::string ts = "time_s,gpu_power_kw,it_power_kw,water_use_l_per_s,facility_power_kw\n";
  for (int i = 0; i < 500000; ++i) {
    ts += fmt::format("{}.000,{:.3f},100,0.5,{:.3f}\n", i, 50 + (i % 977) * 0.01,
                      i == 400000 ? 999.0 : 125.0);
  }
  Write("timeseries.csv", ts);
  const json d = Data();
  EXPECT_EQ(d["series"]["rows"], 500000);
  EXPECT_EQ(d["series"]["rows_per_bucket"], 256);  // 500000 / 256 = 1954 buckets <= 2000
  EXPECT_LE(d["series"]["x"].size(), 4000u);
  double peak = 0;
  for (const json& v : d["series"]["columns"]["facility_power_kw"])
    peak = std::max(peak, double(v));
  EXPECT_EQ(peak, 999.0);  // the one-second spike survives
  const std::string page = RenderHtmlReport(d);
  std::cout << "page of a 500,000-row series: " << page.size() << " bytes\n";
  EXPECT_LT(page.size(), 400u * 1024);
}

// The scale-up fabric's peak, and a TPU slice's torus, go to the page from summary.json.
TEST_F(HtmlReportTest, TheScaleUpFabric) {
  EXPECT_FALSE(Data().contains("scale_up"));
  summary_["nvlink_peak_utilization"] = 0.16;
  summary_["torus"] = {{"dims", {4, 4, 4}}, {"links_per_chip", 6}, {"twisted", false}};
  const json d = Data();
  EXPECT_EQ(d["scale_up"]["peak_utilization"], 0.16);
  EXPECT_EQ(d["scale_up"]["torus"]["dims"], json({4, 4, 4}));
  summary_["torus"] = 3;
  EXPECT_NE(Error().find("torus should be an object"), std::string::npos) << Error();
}

// A summary.json whose values have other types than a run writes is refused by name, not drawn
// as "n/a" or failing inside the JSON library.
TEST_F(HtmlReportTest, ASummaryOfOtherShapesIsRefused) {
  const json good = summary_;
  summary_["resources"] = "x";
  EXPECT_NE(Error().find("summary.json: resources should be an array, not string"),
            std::string::npos)
      << Error();
  summary_ = good;
  summary_["pue"] = "abc";
  EXPECT_NE(Error().find("summary.json: pue should be a number or null, not string"),
            std::string::npos)
      << Error();
  summary_ = good;
  summary_["resources"][0]["name"] = 1;
  EXPECT_NE(Error().find("resources[0].name should be a string, not number"), std::string::npos)
      << Error();
  summary_ = good;
  summary_["resources"][1]["rating"] = "lots";
  EXPECT_NE(Error().find("resources[1].rating should be a number or null"), std::string::npos);
  summary_ = good;
  summary_["goodput"] = {{"jobs", 3}, {"useful_gpu_h", 1.0}};
  summary_["hottest_links"] = json::array({7});
  EXPECT_NE(Error().find("hottest_links[0] should be an object, not number"), std::string::npos)
      << Error();
  // Deeper: what the page's sections read (a breaker's cases).
  const std::vector<std::pair<std::function<void(json&)>, std::string>> cases = {
      {[](json& j) { j["schema"] = 3; }, "expected a firstwall summary"},
      {[](json& j) {
         j["torus"] = {{"dims", "abc"}};
       },
       "torus.dims should be an array"},
      {[](json& j) { j["torus"] = json::object(); }, "torus.dims is missing"},
      {[](json& j) {
         j["cooling"] = {{"throttled_gpu_hours", "abc"}};
       },
       "cooling.throttled_gpu_hours should be a number or null, not string"},
      {[](json& j) {
         j["power_swings"] = {{"variants", {{{"name", 3}}}}};
       },
       "power_swings.variants[0].name should be a string, not number"},
      {[](json& j) {
         j["services"] = {{{"name", "chat"}, {"ttft_s", {{"p99", "slow"}}}}};
       },
       "services[0].ttft_s.p99 should be a number or null, not string"},
      {[](json& j) {
         j["hottest_links"] = {{{"link", "a->b"}, {"peak_utilization", "abc"}}};
       },
       "hottest_links[0].peak_utilization should be a number, not string"},
      {[](json& j) {
         j["goodput"] = {{"badput_gpu_h", "x"}};
       },
       "goodput.badput_gpu_h should be an object, not string"},
  };
  for (const auto& [edit, says] : cases) {
    summary_ = good;
    edit(summary_);
    EXPECT_NE(Error().find(says), std::string::npos) << says << " / " << Error();
    EXPECT_NE(Error().find("summary.json"), std::string::npos) << Error();
  }
  // A null site draws a page (no site in its title).
  summary_ = good;
  summary_["site"] = nullptr;
  EXPECT_NE(RenderHtmlReport(Data()).find("<title>firstwall report</title>"), std::string::npos);
}

// `firstwall walls` outputs: alone, a report of the walls; beside a run's, a section of its report.
TEST_F(HtmlReportTest, TheWallsAgainstScale) {
  const json walls = {
      {"schema", "firstwall.walls/1"},
      {"site", "test hall"},
      {"scenario_file", "s.yaml"},
      {"axis", {{"name", "gpus"}, {"unit", "GPUs"}, {"from", 64.0}, {"to", 256.0}, {"base", 64.0}}},
      {"runs", 9},
      {"walls",
       {{{"resource", "UPS"},
         {"kind", "power stage"},
         {"metric", "peak output power"},
         {"unit", "GPUs"},
         {"limit", 150.0},
         {"limit_unit", "kW"},
         {"binds", true},
         {"binds_at", 128.0},
         {"at_start", false},
         {"utilization_at_end", nullptr},
         {"end_at", nullptr},
         {"note", ""},
         {"headroom", {{"HBM", 0.25}}}},
        {{"resource", "HBM"},
         {"kind", "memory"},
         {"metric", "training memory per GPU"},
         {"unit", "GPUs"},
         {"limit", 80.0},
         {"limit_unit", "GB"},
         {"binds", false},
         {"binds_at", nullptr},
         {"utilization_at_end", 0.75},
         {"end_at", 256.0},
         {"note", ""}}}},
      {"next_walls", json::array()}};
  const std::string curve =
      "gpus (GPUs),UPS utilization,HBM utilization,scenario_refused\n64,0.5,0.75,\n128,1.0,0.75,"
      "\n256,2.0,0.75,\n";
  const fs::path w = dir_ / "walls";
  fs::create_directories(w);
  std::ofstream(w / "walls.json") << walls.dump();
  std::ofstream(w / "walls_curve.csv") << curve;
  json d = ReportData(ReportFiles::InDir(w));
  EXPECT_EQ(d["meta"]["walls_only"], true);
  EXPECT_EQ(d["meta"]["site"], "test hall");
  EXPECT_FALSE(d.contains("series"));
  EXPECT_EQ(d["walls"]["axis"]["unit"], "GPUs");
  ASSERT_EQ(d["walls"]["ranking"].size(), 2u);
  EXPECT_EQ(d["walls"]["ranking"][0]["binds_at"], 128.0);
  EXPECT_EQ(d["walls"]["headroom"]["HBM"], 0.25);
  EXPECT_EQ(d["walls"]["curve"]["x"], json({64.0, 128.0, 256.0}));
  EXPECT_EQ(d["walls"]["curve"]["columns"]["UPS utilization"][2], 2.0);
  const std::string page = RenderHtmlReport(d);
  EXPECT_NE(page.find("Walls against scale"), std::string::npos);
  // Beside a run's outputs, a section of the run's report; without them, the run says how.
  EXPECT_NE(Data()["absent"].dump().find("Walls against scale"), std::string::npos);
  std::ofstream(dir_ / "walls.json") << walls.dump();
  std::ofstream(dir_ / "walls_curve.csv") << curve;
  summary_["scenario_file"] = "s.yaml";
  summary_["warnings"] = {"the loader's warning"};
  d = Data();
  EXPECT_EQ(d["meta"]["site"], "test hall");
  EXPECT_TRUE(d.contains("series"));
  EXPECT_EQ(d["walls"]["ranking"][1]["utilization_at_end"], 0.75);
  EXPECT_EQ(d["warnings"], json({"the loader's warning"}));  // the run's, said first
  // Walls of another scenario than the run's beside it: said, not drawn as if the run's.
  summary_["scenario_file"] = "t.yaml";
  d = Data();
  ASSERT_EQ(d["warnings"].size(), 2u);
  EXPECT_NE(d["warnings"][1].get<std::string>().find("file \"s.yaml\" against \"t.yaml\""),
            std::string::npos)
      << d["warnings"];
  EXPECT_NE(RenderHtmlReport(d).find("Warnings"), std::string::npos);
  summary_.erase("warnings");
  // The same file spelled otherwise is the same scenario; another site is another, whatever the
  // file is called.
  for (const char* same : {"s.yaml", "./s.yaml", "/home/u/s.yaml"}) {
    summary_["scenario_file"] = same;
    EXPECT_FALSE(Data().contains("warnings")) << same;
  }
  summary_["site"] = "another hall";
  d = Data();
  ASSERT_TRUE(d.contains("warnings"));
  EXPECT_NE(d["warnings"][0].get<std::string>().find("site \"test hall\" against \"another hall\""),
            std::string::npos)
      << d["warnings"];
  summary_["site"] = "test hall";
  // walls --in-time: hours each resource was the closest to its limit, and bound.
  std::ofstream(w / "walls_hours.csv")
      << "hour,first_wall,utilization,UPS utilization,HBM utilization\n0,HBM,0.75,0.5,0.75\n"
         "1,UPS,1.5,1.5,0.75\n2,UPS,1.0,1.0,0.75\n";
  d = ReportData(ReportFiles::InDir(w));
  ASSERT_TRUE(d.contains("walls_hours"));
  EXPECT_EQ(d["walls_hours"]["resources"][0],
            json({{"resource", "UPS"}, {"first_hours", 2}, {"bound_hours", 2}}));
  EXPECT_EQ(d["walls_hours"]["resources"][1]["first_hours"], 1);
  // A malformed walls.json or a missing curve is refused by name.
  // In a run's directory too, a malformed walls.json is named, not the summary.
  json site7 = walls;
  site7["site"] = 7;
  std::ofstream(dir_ / "walls.json") << site7.dump();
  EXPECT_NE(Error().find("walls.json: site should be a string or null, not number"),
            std::string::npos)
      << Error();
  json broken = walls;
  broken["walls"][0]["binds_at"] = "soon";
  std::ofstream(w / "walls.json") << broken.dump();
  try {
    ReportData(ReportFiles::InDir(w));
    ADD_FAILURE() << "no error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.message()).find("walls[0].binds_at should be a number or null"),
              std::string::npos)
        << e.message();
  }
  fs::remove(w / "walls_curve.csv");
  EXPECT_THROW(ReportFiles::InDir(w), InputError);
}

// `firstwall sweep` outputs: the design points' columns with their bands, words kept as words,
// the first walls counted over every run.
TEST_F(HtmlReportTest, ASweep) {
  const fs::path sw = dir_ / "sweep";
  fs::create_directories(sw);
  const json manifest = {{"schema", "firstwall.sweep-manifest/1"},
                         {"sweep_file", "s.yaml"},
                         {"scenario_file", "d.yaml"},
                         {"shards", 1},
                         {"layout",
                          {{"columns",
                            {"point", "design", "replica", "seed", "facility.cooling.liquid",
                             "cluster.node_base_power_w", "pue", "first_wall"}},
                           {"design_columns", {"design", "facility.cooling.liquid"}},
                           {"band_columns", {"cluster.node_base_power_w", "pue"}},
                           {"points", 4},
                           {"banded", true}}}};
  std::ofstream(sw / "manifest.json") << manifest.dump();
  std::ofstream(sw / "results.csv")
      << "point,design,replica,seed,facility.cooling.liquid,cluster.node_base_power_w,pue,"
         "first_wall\n0,0,0,1,cold_plate,2000,1.1,UPS\n1,0,1,2,cold_plate,2100,1.2,UPS\n"
         "2,1,0,3,two_phase_immersion,2000,1.05,\"cooling plant\"\n"
         "3,1,1,4,two_phase_immersion,2100,1.07,UPS\n";
  std::ofstream(sw / "bands.csv")
      << "design,facility.cooling.liquid,n,cluster.node_base_power_w_mean,"
         "cluster.node_base_power_w_p05,cluster.node_base_power_w_p95,pue_mean,pue_p05,pue_p95\n"
         "0,cold_plate,2,2050,2005,2095,1.15,1.105,1.195\n"
         "1,two_phase_immersion,2,2050,2005,2095,1.06,1.051,1.069\n";
  const json d = ReportData(ReportFiles::InDir(sw));
  EXPECT_EQ(d["meta"]["sweep_only"], true);
  const json& s = d["sweep"];
  EXPECT_EQ(s["varied"], json({"facility.cooling.liquid"}));
  EXPECT_EQ(s["outputs"], json({"pue"}));  // the uncertain input is no output
  EXPECT_EQ(s["columns"]["facility.cooling.liquid"], json({"cold_plate", "two_phase_immersion"}));
  EXPECT_EQ(s["columns"]["pue"], json({1.15, 1.06}));
  EXPECT_EQ(s["columns"]["pue_p95"][1], 1.069);
  EXPECT_EQ(s["design_points"], 2);
  EXPECT_EQ(s["runs"], 4);
  EXPECT_EQ(s["first_wall_counts"]["first_wall"], json({{"UPS", 3}, {"cooling plant", 1}}));
  EXPECT_NE(RenderHtmlReport(d).find("Outputs against"), std::string::npos);
  // A shard's manifest, or a banded sweep without its bands, is refused by name.
  json shard = manifest;
  shard["shards"] = 3;
  std::ofstream(sw / "manifest.json") << shard.dump();
  try {
    ReportData(ReportFiles::InDir(sw));
    ADD_FAILURE() << "no error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.message()).find("is a shard's manifest"), std::string::npos);
  }
  json schema = manifest;
  schema["schema"] = 1;
  std::ofstream(sw / "manifest.json") << schema.dump();
  EXPECT_THROW(ReportData(ReportFiles::InDir(sw)), InputError);
  std::ofstream(sw / "manifest.json") << manifest.dump();
  fs::remove(sw / "bands.csv");
  EXPECT_THROW(ReportData(ReportFiles::InDir(sw)), InputError);
  // Without results.csv the sweep's own file is named.
  fs::remove(sw / "results.csv");
  try {
    ReportFiles::InDir(sw);
    ADD_FAILURE() << "no error";
  } catch (const InputError& e) {
    EXPECT_NE(e.where().ToString().find("results.csv"), std::string::npos) << e.where().ToString();
  }
}

TEST_F(HtmlReportTest, BadInputNamesTheFile) {
  EXPECT_THROW(ReportFiles::InDir(dir_ / "nope"), InputError);
  Write("summary.json", "{\"schema\": ");
  EXPECT_THROW(ReportData(ReportFiles::InDir(dir_)), InputError);
  summary_["schema"] = "other/2";
  EXPECT_NE(Error().find("summary.json: expected a firstwall summary"), std::string::npos);
  summary_["schema"] = "firstwall.summary/1";
  Write("timeseries.csv", "time_s,gpu_power_kw\n0,1\n1,2,3\n");
  EXPECT_NE(Error().find("timeseries.csv:3:1: expected 2 fields as in the header, found 3"),
            std::string::npos)
      << Error();
  Write("timeseries.csv", "gpu_power_kw\n1\n");
  EXPECT_NE(Error().find("timeseries.csv:1:1: expected a 'time_s' column"), std::string::npos);
  Write("timeseries.csv", "time_s,gpu_power_kw\n5,1\n4,2\n");
  EXPECT_NE(Error().find("timeseries.csv:3:1: expected 'time_s' to be a number not below"),
            std::string::npos);
  // A value that is no number is refused; empty and "nan" are how firstwall writes a missing one.
  Write("timeseries.csv", "time_s,gpu_power_kw\n0,1\n1,\n2,nan\n3,abc\n");
  EXPECT_NE(Error().find("timeseries.csv:5:1: expected a number in column 'gpu_power_kw', found "
                         "'abc'"),
            std::string::npos)
      << Error();
  Write("timeseries.csv", "time_s,gpu_power_kw\n0,1\n");
  Write("jobs.csv",
        "job,tenant,attempt,gpus,nodes,submit_s,queued_s,start_s,end_s,wait_s,ended\n"
        "big,t,1,64,8,0,0,0,100,0,exploded\n");
  EXPECT_NE(Error().find("jobs.csv:2:1: expected 'ended' to be completed, failed, preempted"),
            std::string::npos)
      << Error();
  fs::remove(dir_ / "jobs.csv");
  Write("timeseries.csv", "");
  EXPECT_NE(Error().find("timeseries.csv:1:1: expected a header line"), std::string::npos);
  fs::remove(dir_ / "timeseries.csv");
  EXPECT_NE(Error().find("timeseries.csv: is missing"), std::string::npos);
}

}  // namespace
}  // namespace firstwall::report
