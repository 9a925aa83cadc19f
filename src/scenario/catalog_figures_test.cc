// Issue #18, compute and memory: the catalog's 2025-2026 GPU and system cards against the figures
// their vendors publish, each error printed; and what cluster.system does to a scenario.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include "scenario/catalog.h"
#include "scenario/load_error_test_util.h"
#include "scenario/loader.h"
#include "site/site.h"

namespace firstwall::scenario {
namespace {
using namespace units;
using hardware::DataType;

// One catalog figure and the published one it comes from, both in the figure's base unit.
struct Figure {
  std::string what;
  double catalog = 0;
  double published = 0;
  std::string source;
};

double Peak(const std::string& gpu, DataType t) {
  const auto p = BuiltinCatalog().gpus.at(gpu).Peak(t);
  return p ? ToFlopPerSecond(*p) : 0.0;
}
const hardware::GpuSpec& Gpu(const std::string& name) { return BuiltinCatalog().gpus.at(name); }

TEST(CatalogFigures, NewCardsAgainstTheirPublishedFigures) {
  // Rack and baseboard totals are the vendors' own figures; the per-GPU share is total / GPUs,
  // halved where the vendor quotes with 2:4 sparsity.
  const std::vector<Figure> figures = {
      {"GB200 fp4", Peak("GB200", DataType::kFp4), 1440e15 / 72 / 2,
       "GB200 NVL72 page: 1,440 PFLOPS FP4 sparse / 72"},
      {"GB200 fp8", Peak("GB200", DataType::kFp8), 720e15 / 72 / 2, "720 PFLOPS FP8 sparse / 72"},
      {"GB200 bf16", Peak("GB200", DataType::kBf16), 360e15 / 72 / 2, "360 PFLOPS sparse / 72"},
      {"GB200 int8", Peak("GB200", DataType::kInt8), 720e15 / 72 / 2, "720 POPS sparse / 72"},
      {"GB200 HBM", ToBytes(Gpu("GB200").hbm_capacity), 13.4e12 / 72, "13.4 TB HBM3e / 72"},
      {"GB200 HBM BW", ToBytesPerSecond(Gpu("GB200").hbm_bandwidth), 576e12 / 72, "576 TB/s / 72"},
      {"GB200 NVLink", ToBytesPerSecond(Gpu("GB200").nvlink_bandwidth), 130e12 / 72,
       "130 TB/s / 72"},
      {"GB300 fp4", Peak("GB300", DataType::kFp4), 15e15,
       "Blackwell Ultra blog: 15 PFLOPS dense NVFP4"},
      {"GB300 fp4 rack", 72 * Peak("GB300", DataType::kFp4), 1.1e18,
       "GB300 NVL72 page: 1.1 EFLOPS dense FP4"},
      {"GB300 fp8 rack", 72 * Peak("GB300", DataType::kFp8), 720e15 / 2,
       "GB300 NVL72 page: 720 PFLOPS FP8 sparse"},
      {"GB300 HBM", ToBytes(Gpu("GB300").hbm_capacity), 288e9, "288 GB HBM3E"},
      {"GB300 HBM rack", 72 * ToBytes(Gpu("GB300").hbm_capacity), 20e12,
       "GB300 NVL72 page: up to 20 TB (21 in later pages)"},
      {"B300 fp4", Peak("B300", DataType::kFp4), 105e15 / 8, "HGX B300: 105 PFLOPS dense / 8"},
      {"B300 int8", Peak("B300", DataType::kInt8), 2e15 / 8 / 2, "HGX B300: 2 POPS sparse / 8"},
      {"B300 fp8", Peak("B300", DataType::kFp8), 72e15 / 8 / 2, "HGX B300: 72 PFLOPS sparse / 8"},
      {"B300 HBM BW", ToBytesPerSecond(Gpu("B300").hbm_bandwidth), 8e12, "8 TB/s"},
      {"B200 fp4", Peak("B200", DataType::kFp4), 144e15 / 8 / 2,
       "DGX B200: 144 PFLOPS FP4 sparse / 8"},
      {"MI325X fp8", Peak("MI325X", DataType::kFp8), 2614.9e12, "MI325X data sheet"},
      {"MI325X HBM", ToBytes(Gpu("MI325X").hbm_capacity), 256e9, "256 GB HBM3E"},
      {"MI325X HBM BW", ToBytesPerSecond(Gpu("MI325X").hbm_bandwidth), 6e12, "6 TB/s"},
      {"MI355X fp8", Peak("MI355X", DataType::kFp8), 256 * 8192 * 2.4e9,
       "ISSCC 2026: 256 CUs x 8,192 FLOP/clk x 2.4 GHz"},
      {"MI355X fp4", Peak("MI355X", DataType::kFp4), 10.1e15, "MI355X: MXFP4 10.1 PFLOPS"},
      {"MI355X bf16", Peak("MI355X", DataType::kBf16), 2.5e15, "MI355X: FP16 2.5 PFLOPS"},
      {"MI355X HBM", ToBytes(Gpu("MI355X").hbm_capacity), 288e9, "288 GB HBM3E"},
      {"MI355X TDP", ToWatts(Gpu("MI355X").tdp), 1400, "1,400 W"},
  };
  std::printf("%-16s %14s %14s %8s  %s\n", "figure", "catalog", "published", "error", "source");
  for (const Figure& f : figures) {
    const double error = (f.catalog - f.published) / f.published;
    std::printf("%-16s %14.5g %14.5g %+7.2f%%  %s\n", f.what.c_str(), f.catalog, f.published,
                100 * error, f.source.c_str());
    // Rounding of the published figures (13.4 TB, 1.1 EF, 10.1 PF, 20 TB) stays within 4%.
    EXPECT_LT(std::abs(error), 0.04) << f.what;
  }
}

TEST(CatalogFigures, PrecisionsAreWhereTheVendorsHaveThem) {
  // Hopper and Ampere have no FP4 tensor cores; Ampere no FP8; CDNA 3 no FP4; Blackwell all.
  EXPECT_FALSE(Gpu("H100-SXM5-80GB").Peak(DataType::kFp4));
  EXPECT_TRUE(Gpu("H100-SXM5-80GB").Peak(DataType::kInt8));
  EXPECT_FALSE(Gpu("A100-SXM4-80GB").Peak(DataType::kFp4));
  EXPECT_FALSE(Gpu("MI325X").Peak(DataType::kFp4));
  for (const char* g : {"B200", "B300", "GB200", "GB300", "MI355X"}) {
    EXPECT_TRUE(Gpu(g).Peak(DataType::kFp4)) << g;
    // FP4 is twice FP8 on Blackwell and CDNA 4; three times on Blackwell Ultra.
    const double ratio = Peak(g, DataType::kFp4) / Peak(g, DataType::kFp8);
    EXPECT_GE(ratio, 2.0 - 1e-4) << g;  // MI355X's peaks are rounded to 0.1 TFLOP/s
    EXPECT_LE(ratio, 3.0 + 1e-4) << g;
  }
  // Blackwell Ultra gave up INT8 tensor throughput: under 4% of its FP8.
  EXPECT_LT(Peak("GB300", DataType::kInt8), 0.04 * Peak("GB300", DataType::kFp8));
}

TEST(CatalogFigures, SystemsAddUpAndCiteTheirSources) {
  const Catalog& c = BuiltinCatalog();
  for (const char* name : {"GB200-NVL72", "GB300-NVL72", "HGX-B300"}) {
    ASSERT_TRUE(c.systems.count(name)) << name;
    const SystemSpec& y = c.systems.at(name);
    EXPECT_TRUE(c.gpus.count(y.gpu)) << name;
    for (const char* f : {"gpus_per_node", "nvlink_domain", "nodes_per_rack", "node_base_power"}) {
      EXPECT_TRUE(y.sources.count(f)) << name << " " << f;
    }
  }
  // NVL72: 18 trays of 4 GPUs are the 72-GPU NVLink domain, one rack; the rack's power is its
  // GPUs' TDP and 18 trays' base power (how node_base_power was derived).
  for (const char* name : {"GB200-NVL72", "GB300-NVL72"}) {
    const SystemSpec& y = c.systems.at(name);
    EXPECT_EQ(y.gpus_per_node * y.nodes_per_rack, 72) << name;
    EXPECT_EQ(y.nvlink_domain, 72) << name;
    const double rack = 72 * ToWatts(c.gpus.at(y.gpu).tdp) + 18 * ToWatts(y.node_base_power);
    EXPECT_NEAR(rack, ToWatts(*y.rack_power), 0.01 * ToWatts(*y.rack_power)) << name;
    // 6.2 of a compute tray's 6.6 kW on cold plates (Morgan Stanley's Oberon model).
    EXPECT_NEAR(*y.liquid_share, 6.2 / 6.6, 0.005) << name;
  }
}

// A one-rack GB200 NVL72 scenario; `cluster` replaces the cluster section's keys.
std::string Nvl72Scenario(const std::string& cluster, const std::string& cooling) {
  return "firstwall: 1\nsite:\n  name: t\n  electricity_price: 0.1 USD/kWh\n"
         "cluster:\n" +
         cluster +
         "facility:\n  power_chain:\n    - name: ups\n      efficiency: 0.95\n"
         "  cooling:\n" +
         cooling +
         "services:\n  - name: s\n    model: llama3-8b\n    replicas: 1\n    requests:\n"
         "      - class: c\n        rate: 1 req/s\n        lengths: fixed\n"
         "        prompt_tokens: 100\n        output_tokens: 10\n"
         "simulation:\n  duration: 1 min\n";
}

TEST(CatalogFigures, ClusterSystemGivesTheDefaultsOfTheRack) {
  const Scenario sc = LoadScenarioText(
      Nvl72Scenario("  system: GB200-NVL72\n  nodes: 36\n", "    capacity: 300 kW\n"), "s.yaml",
      "");
  const site::SiteConfig& cfg = sc.site;
  EXPECT_EQ(cfg.cluster.gpu.name, "GB200");
  EXPECT_EQ(cfg.cluster.gpus_per_node, 4);
  EXPECT_EQ(cfg.cluster.nvlink_domain(), 72);
  EXPECT_EQ(cfg.cluster.nodes_per_rack, 18);
  EXPECT_EQ(cfg.cluster.rack_count(), 2);
  EXPECT_DOUBLE_EQ(ToWatts(cfg.cluster.node_base_power), 1870);
  EXPECT_DOUBLE_EQ(ToWatts(cfg.cluster.rack_power_limit), 120e3);
  EXPECT_DOUBLE_EQ(cfg.facility.cooling.liquid_share, 0.94);
  // Keys the scenario gives win.
  const Scenario own = LoadScenarioText(
      Nvl72Scenario("  system: GB200-NVL72\n  nodes: 18\n  node_base_power: 2 kW\n",
                    "    capacity: 300 kW\n    liquid_share: 80 %\n"),
      "s.yaml", "");
  EXPECT_DOUBLE_EQ(ToWatts(own.site.cluster.node_base_power), 2000);
  EXPECT_DOUBLE_EQ(own.site.facility.cooling.liquid_share, 0.80);
}

TEST(CatalogFigures, ClusterSystemMistakesAreRefusedWhereTheyAre) {
  const std::string other = LoadErrorOf(
      Nvl72Scenario("  system: GB200-NVL72\n  gpu: B200\n  nodes: 18\n", "    cop: 5\n"));
  EXPECT_EQ(other.rfind("s.yaml:7:8: error: system 'GB200-NVL72' is built of GB200, not B200", 0),
            0u)
      << other;
  const std::string unknown =
      LoadErrorOf(Nvl72Scenario("  system: GB200-NVL73\n  nodes: 18\n", "    cop: 5\n"));
  EXPECT_EQ(unknown.rfind("s.yaml:6:11: error: unknown system 'GB200-NVL73'", 0), 0u) << unknown;
  EXPECT_NE(unknown.find("did you mean 'GB200-NVL72'"), std::string::npos) << unknown;
  const std::string neither =
      LoadErrorOf(Nvl72Scenario("  nodes: 18\n  node_base_power: 2 kW\n", "    cop: 5\n"));
  EXPECT_NE(neither.find("missing required key 'cluster.gpu'"), std::string::npos) << neither;
  const std::string no_base =
      LoadErrorOf(Nvl72Scenario("  gpu: B200\n  nodes: 18\n", "    cop: 5\n"));
  EXPECT_NE(no_base.find("missing required key 'cluster.node_base_power'"), std::string::npos)
      << no_base;
}

// A system of the scenario's own (catalog.systems): cluster.system takes its figures as it does a
// built-in one's; a built-in name, an unknown GPU and a missing figure are refused where written.
TEST(CatalogFigures, AScenarioAddsASystemOfItsOwn) {
  const std::string system =
      "catalog:\n  systems:\n    - name: HGX-H200-4U\n      vendor: Acme\n      gpu: H200-SXM\n"
      "      gpus_per_node: 8\n      nvlink_domain: 8\n      nodes_per_rack: 4\n"
      "      node_base_power: 3 kW\n      rack_power: 50 kW\n      liquid_share: 0 %\n";
  const Scenario sc = LoadScenarioText(
      Nvl72Scenario("  system: HGX-H200-4U\n  nodes: 8\n", "    cop: 5\n") + system, "s.yaml", "");
  const site::SiteConfig& cfg = sc.site;
  EXPECT_EQ(cfg.cluster.gpu.name, "H200-SXM");
  EXPECT_EQ(cfg.cluster.gpus_per_node, 8);
  EXPECT_EQ(cfg.cluster.nodes_per_rack, 4);
  EXPECT_EQ(cfg.cluster.rack_count(), 2);
  EXPECT_DOUBLE_EQ(ToWatts(cfg.cluster.node_base_power), 3000);
  EXPECT_DOUBLE_EQ(ToWatts(cfg.cluster.rack_power_limit), 50e3);
  EXPECT_DOUBLE_EQ(cfg.facility.cooling.liquid_share, 0.0);
  auto error = [&](const std::string& from, const std::string& to) {
    std::string text = system;
    text.replace(text.find(from), from.size(), to);
    return LoadErrorOf(Nvl72Scenario("  system: HGX-H200-4U\n  nodes: 8\n", "    cop: 5\n") + text);
  };
  const std::string gpu = error("gpu: H200-SXM", "gpu: H300");
  EXPECT_EQ(gpu.rfind("s.yaml:30:12: error: system 'HGX-H200-4U' names GPU 'H300', which is "
                      "neither built in nor in catalog.gpus",
                      0),
            0u)
      << gpu;
  const std::string builtin = error("name: HGX-H200-4U", "name: GB200-NVL72");
  EXPECT_NE(builtin.find("'GB200-NVL72' is a built-in system, which catalog.systems does not "
                         "override"),
            std::string::npos)
      << builtin;
  const std::string missing = error("      nodes_per_rack: 4\n", "");
  EXPECT_NE(missing.find("missing required key 'catalog.systems[0].nodes_per_rack'"),
            std::string::npos)
      << missing;
}

}  // namespace
}  // namespace firstwall::scenario
