// Overrides (scenario/overrides.h): a value set by key path is read exactly as if written in the
// file, and every error about it is located where the override was given.
#include <gtest/gtest.h>

#include "scenario/overrides.h"

namespace firstwall::scenario {
namespace {

const SourceLocation kAt{"sweep.yaml", 7, 12};

Scenario Load(const std::vector<Override>& o) {
  return LoadScenarioText(DefaultScenarioText(), kDefaultScenarioName, kBuiltinDir, o);
}

std::string ErrorOf(const std::vector<Override>& o) {
  try {
    Load(o);
  } catch (const InputError& e) {
    return e.what();
  }
  return "";
}

TEST(Overrides, ChangeKeysByPathIndexAndName) {
  const Scenario base = Load({});
  ASSERT_EQ(base.site.cluster.nodes, 128);
  const Scenario s = Load({{"cluster.nodes", "160", kAt},
                           {"facility.power_chain[UPS].rating", "1.8 MW", kAt},
                           {"facility.power_chain[2].rating", "2.5 MW", kAt},
                           {"workloads[0].gpus", "1280", kAt},
                           {"workloads[llama3-70b-pretrain].global_batch", "640", kAt},
                           {"simulation.duration", "3 h", kAt}});
  EXPECT_EQ(s.site.cluster.nodes, 160);
  EXPECT_DOUBLE_EQ(s.site.facility.power_chain[1].rating.base(), 1.8e6);
  EXPECT_DOUBLE_EQ(s.site.facility.power_chain[2].rating.base(), 2.5e6);
  EXPECT_EQ(s.site.jobs.at(0).setup.dp, 160);
  EXPECT_DOUBLE_EQ(s.site.duration.seconds(), 3 * 3600);
}

TEST(Overrides, AddAKeyTheFileLeftToItsDefault) {
  const Scenario s = Load({{"simulation.seed", "9", kAt}});
  EXPECT_EQ(s.site.seed, 9u);
}

TEST(Overrides, AddASectionTheFileLeavesOut) {
  // The default scenario has no cluster.fabric: the override makes it, with its one key.
  const Scenario s = Load({{"cluster.fabric.oversubscription", "2", kAt}});
  EXPECT_DOUBLE_EQ(s.site.fabric.oversubscription, 2);
  // A list item is never made up.
  EXPECT_NE(ErrorOf({{"services[0].replicas", "2", kAt}}).find("sweep.yaml:7:12"),
            std::string::npos);
}

TEST(Overrides, ErrorsAreLocatedAtTheOverride) {
  const std::string range = ErrorOf({{"cluster.nodes", "0", kAt}});
  EXPECT_NE(range.find("sweep.yaml:7:12"), std::string::npos) << range;
  EXPECT_NE(range.find("cluster.nodes"), std::string::npos) << range;

  const std::string unit = ErrorOf({{"site.grid_import_limit", "2 MWh", kAt}});
  EXPECT_NE(unit.find("sweep.yaml:7:14: error: 'site.grid_import_limit'"), std::string::npos)
      << unit;

  const std::string unknown = ErrorOf({{"cluster.nodez", "1", kAt}});
  EXPECT_NE(unknown.find("sweep.yaml:7:12: error: 'cluster.nodez' is not a scenario key"),
            std::string::npos)
      << unknown;

  const std::string item = ErrorOf({{"facility.power_chain[PDU].rating", "1 MW", kAt}});
  EXPECT_NE(item.find("has no item named 'PDU'"), std::string::npos) << item;
  EXPECT_NE(item.find("rack PSU, UPS, transformer"), std::string::npos) << item;

  const std::string index = ErrorOf({{"workloads[3].gpus", "8", kAt}});
  EXPECT_NE(index.find("'workloads' has 1 items; there is no item 3"), std::string::npos) << index;

  const std::string yaml = ErrorOf({{"cluster.nodes", "[1, 2", kAt}});
  EXPECT_NE(yaml.find("sweep.yaml:7:12"), std::string::npos) << yaml;
}

TEST(Overrides, ParseKeyEqualsValue) {
  const Override o = ParseOverride(" facility.power_chain[UPS].rating = 2 MW ", kAt);
  EXPECT_EQ(o.key, "facility.power_chain[UPS].rating");
  EXPECT_EQ(o.value, "2 MW");
  EXPECT_THROW(ParseOverride("cluster.nodes", kAt), InputError);
  EXPECT_THROW(ParseOverride("cluster.nodes=", kAt), InputError);
  EXPECT_THROW(ParseOverride("=3", kAt), InputError);
}

TEST(Overrides, ReadKeyGivesTheValueInBaseUnits) {
  const std::string text = DefaultScenarioText();
  const KeyValue ups = ReadKey(text, "x", "facility.power_chain[UPS].rating", kAt);
  ASSERT_TRUE(ups.number);
  EXPECT_DOUBLE_EQ(*ups.number, 1.5e6);
  EXPECT_EQ(FormatValue(*ups.spec, 1.8e6), "1.8 MW");
  const KeyValue nodes = ReadKey(text, "x", "cluster.nodes", kAt);
  EXPECT_DOUBLE_EQ(nodes.number.value_or(0), 128);
  EXPECT_EQ(FormatValue(*nodes.spec, 160.4), "160");
  const KeyValue seed = ReadKey(text, "x", "simulation.seed", kAt);
  EXPECT_DOUBLE_EQ(seed.number.value_or(-1), 1);
  EXPECT_THROW(ReadKey(text, "x", "cluster.nodez", kAt), InputError);
  EXPECT_EQ(SchemaPath("facility.power_chain[UPS].rating"), "facility.power_chain[].rating");
}

}  // namespace
}  // namespace firstwall::scenario
