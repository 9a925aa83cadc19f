// The data files a scenario names (weather, tariff, request traces): what the loader says when one
// is a directory, a device, empty or malformed, and trace looping and its warning.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "core/error.h"
#include "scenario/loader.h"

namespace firstwall::scenario {
namespace {
namespace fs = std::filesystem;

// A small scenario with one service; `site_line` goes after the site's name (line 4), `source`
// is the service's request source (line 26).
std::string ScenarioText(const std::string& site_line, const std::string& source) {
  return R"(firstwall: 1
site:
  name: test hall
  )" + site_line +
         R"(
  electricity_price: 0.1 USD/kWh
cluster:
  gpu: H100-SXM5-80GB
  nodes: 2
  gpus_per_node: 8
  node_base_power: 2 kW
  nic_bandwidth: 400 Gb/s
facility:
  power_chain:
    - name: ups
      efficiency: 0.95
  cooling:
    cop: 5
services:
  - name: chat
    model: llama3-8b
    replicas: 8
    slo:
      ttft: 1 s
      tpot: 50 ms
    requests:
      - )" +
         source + R"(
simulation:
  duration: 1 h
)";
}
const std::string kRate = "rate: 1 req/s";

std::string ErrorOf(const std::string& text) {
  try {
    LoadScenarioText(text, "s.yaml", "");
  } catch (const InputError& e) {
    return e.what();
  }
  return "ok";
}

// A file under the test's temporary directory with `text` in it.
std::string TempFile(const std::string& name, const std::string& text) {
  const std::string path = (fs::path(::testing::TempDir()) / name).lexically_normal().string();
  std::ofstream(path, std::ios::binary) << text;
  return path;
}

// An Azure trace of `n` requests `gap_s` apart.
std::string AzureTrace(int n, double gap_s) {
  std::string s = "TIMESTAMP,ContextTokens,GeneratedTokens\n";
  for (int i = 0; i < n; ++i) {
    const double t = i * gap_s;
    const int h = static_cast<int>(t / 3600), m = static_cast<int>(t / 60) % 60;
    char row[96];
    std::snprintf(row, sizeof row, "2023-11-16 %02d:%02d:%09.6f,500,50\n", h, m,
                  t - 3600.0 * h - 60.0 * m);
    s += row;
  }
  return s;
}

TEST(DataFiles, DirectoriesDevicesAndEmptyFilesAreNamedAsSuch) {
  const std::string dir = fs::path(::testing::TempDir()).lexically_normal().string();
  const std::string empty = TempFile("empty.epw", "");
  struct Case {
    std::string site_line, source, where, key;
  };
  for (const std::string& path : {dir, std::string("/dev/null"), empty}) {
    const std::string problem = path == dir           ? "is a directory, not a file"
                                : path == "/dev/null" ? "is not a regular file"
                                                      : "is empty";
    for (const Case& c :
         {Case{"weather_file: " + path, kRate, "s.yaml:4:17: error: ", "site.weather_file"},
          Case{"carbon_intensity: 0 g/kWh", "trace: " + path,
               "s.yaml:26:16: error: ", "services[0].requests[0].trace"}}) {
      const std::string e = ErrorOf(ScenarioText(c.site_line, c.source));
      EXPECT_EQ(e.rfind(c.where + c.key + ": '", 0), 0u) << e;
      EXPECT_NE(e.find("' " + problem), std::string::npos) << e;
    }
    // tariff_file replaces the flat price.
    std::string tariff = ScenarioText("tariff_file: " + path, kRate);
    tariff.erase(tariff.find("  electricity_price: 0.1 USD/kWh\n"), 33);
    const std::string e = ErrorOf(tariff);
    EXPECT_EQ(e.rfind("s.yaml:4:16: error: site.tariff_file: '", 0), 0u) << e;
    EXPECT_NE(e.find("' " + problem), std::string::npos) << e;
  }
}

TEST(DataFiles, AModelCardPathIsNamedAsSuch) {
  const std::string dir = (fs::path(::testing::TempDir()) / "cards.yaml").string();
  fs::create_directories(dir);
  std::string text = ScenarioText("carbon_intensity: 0 g/kWh", kRate);
  text.replace(text.find("model: llama3-8b"), 16, "model: " + dir);
  EXPECT_EQ(ErrorOf(text).rfind(
                "s.yaml:20:12: error: model card file '" + dir + "' is a directory, not a file", 0),
            0u)
      << ErrorOf(text);
}

TEST(DataFiles, TheScenarioFileItselfIsNamedAsSuch) {
  const std::string dir = fs::path(::testing::TempDir()).lexically_normal().string();
  for (const auto& [path, said] :
       {std::pair<std::string, std::string>{dir, "the scenario file is a directory, not a file"},
        {"/dev/null", "the scenario file is not a regular file"},
        {"no/such/file.yaml", "scenario file not found"}}) {
    try {
      LoadScenarioFile(path);
      ADD_FAILURE() << path;
    } catch (const InputError& e) {
      EXPECT_EQ(e.where().file, path);
      EXPECT_EQ(e.message().rfind(said, 0), 0u) << e.what();
    }
  }
  try {
    LoadScenarioFile(TempFile("empty.yaml", ""));
    ADD_FAILURE();
  } catch (const InputError& e) {
    EXPECT_EQ(e.message(), "the file is empty");
    EXPECT_EQ(e.where().line, 1);
  }
}

TEST(DataFiles, AnErrorInsideADataFileAlsoNamesTheScenarioLine) {
  std::string csv = "hour,price_usd_per_mwh,carbon_g_per_kwh\n";
  for (int h = 0; h < 23; ++h) csv += std::to_string(h) + ",100,300\n";
  const std::string tariff = TempFile("short-tariff.csv", csv);
  std::string text = ScenarioText("tariff_file: " + tariff, kRate);
  text.erase(text.find("  electricity_price: 0.1 USD/kWh\n"), 33);
  try {
    LoadScenarioText(text, "s.yaml", "");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_EQ(e.where().ToString(), tariff + ":24");
    EXPECT_NE(e.message().find("the tariff has 23 hourly rows"), std::string::npos);
    EXPECT_NE(e.hint().find("note: the file is named by 'site.tariff_file' at s.yaml:4:16"),
              std::string::npos)
        << e.what();
  }
  const std::string trace = TempFile("zero.csv", AzureTrace(1, 1) + "2023-11-16 00:00:01,0,5\n");
  try {
    LoadScenarioText(ScenarioText("carbon_intensity: 0 g/kWh", "trace: " + trace), "s.yaml", "");
    FAIL();
  } catch (const InputError& e) {
    EXPECT_EQ(e.where().ToString(), trace + ":3:21");
    EXPECT_NE(e.hint().find("named by 'services[0].requests[0].trace' at s.yaml:26:16"),
              std::string::npos)
        << e.what();
  }
}

TEST(DataFiles, ATraceThatEndsEarlyWarnsAndLoopRepeatsIt) {
  const std::string trace = TempFile("quarter-hour.csv", AzureTrace(90, 10.0));  // 15 min
  const Scenario once =
      LoadScenarioText(ScenarioText("carbon_intensity: 0 g/kWh", "trace: " + trace), "s.yaml", "");
  ASSERT_EQ(once.site.services.front().requests.requests.size(), 90u);
  ASSERT_EQ(once.site.warnings.size(), 1u);
  EXPECT_EQ(once.site.warnings[0].rfind("s.yaml:26:16: services[0].requests[0].trace: the "
                                        "trace's last request arrives 14.8 min into the service's "
                                        "1 h",
                                        0),
            0u)
      << once.site.warnings[0];
  EXPECT_NE(once.site.warnings[0].find("'loop: true' repeats the trace"), std::string::npos);
  const Scenario looped = LoadScenarioText(
      ScenarioText("carbon_intensity: 0 g/kWh", "trace: " + trace + "\n        loop: true"),
      "s.yaml", "");
  EXPECT_EQ(looped.site.services.front().requests.requests.size(), 4u * 90u);  // 4 laps in 1 h
  EXPECT_TRUE(looped.site.warnings.empty());
  // A trace as long as the service does not warn.
  const std::string hour = TempFile("hour.csv", AzureTrace(360, 10.0));
  EXPECT_TRUE(
      LoadScenarioText(ScenarioText("carbon_intensity: 0 g/kWh", "trace: " + hour), "s.yaml", "")
          .site.warnings.empty());
}

TEST(DataFiles, LoopMistakes) {
  const std::string one = TempFile("one.csv", AzureTrace(1, 1.0));
  EXPECT_EQ(
      ErrorOf(ScenarioText("carbon_intensity: 0 g/kWh", "trace: " + one + "\n        loop: true"))
          .rfind("s.yaml:27:15: error: the trace cannot loop", 0),
      0u);
  EXPECT_EQ(ErrorOf(ScenarioText("carbon_intensity: 0 g/kWh", kRate + "\n        loop: true"))
                .rfind("s.yaml:27:15: error: loop is for traces", 0),
            0u);
  EXPECT_EQ(
      ErrorOf(ScenarioText("carbon_intensity: 0 g/kWh", "trace: " + one + "\n        loop: yes"))
          .rfind("s.yaml:27:15: error: expected true or false", 0),
      0u);
  // Looping is bounded: two requests a second apart over a year would hold about 1.5 GB.
  std::string year =
      ScenarioText("carbon_intensity: 0 g/kWh",
                   "trace: " + TempFile("two.csv", AzureTrace(2, 1.0)) + "\n        loop: true");
  year.replace(year.find("duration: 1 h"), 13, "duration: 366 d");
  const std::string e = ErrorOf(year);
  EXPECT_EQ(e.rfind("s.yaml:27:15: error: looping the trace 15811201 times over the service's "
                    "8784 h holds about 1.518 GB of requests; at most 1 GiB is allowed",
                    0),
            0u)
      << e;
}

}  // namespace
}  // namespace firstwall::scenario
