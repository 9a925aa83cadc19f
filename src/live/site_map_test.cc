#include "live/site_map.h"

#include <fstream>
#include <sstream>

#include <gtest/gtest.h>

#include "core/error.h"

namespace firstwall::live {
namespace {

const char* kMap = R"(firstwall_site_map: 1
site: hall-a
sources:
  - name: node0
    kind: prometheus
    url: "http://127.0.0.1:9400/metrics"
    interval: 500 ms
bindings:
  - source: node0
    series: 'DCGM_FI_DEV_POWER_USAGE{gpu="3",Hostname="node0"}'
    entity: gpu
    id: node0/gpu3
    quantity: power
    unit: W
  - source: node0
    series: DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION
    entity: gpu
    id: "{Hostname}/gpu{gpu}"
    quantity: energy
    unit: mJ
)";

TEST(SiteMap, ReadsSourcesAndBindings) {
  const SiteMap m = ParseSiteMap(kMap, "map.yaml");
  EXPECT_EQ(m.site, "hall-a");
  ASSERT_EQ(m.sources.size(), 1u);
  EXPECT_EQ(m.sources[0].host, "127.0.0.1");
  EXPECT_EQ(m.sources[0].port, 9400);
  EXPECT_EQ(m.sources[0].path, "/metrics");
  EXPECT_EQ(m.sources[0].interval_s, 0.5);
  EXPECT_EQ(m.sources[0].timeout_s, 5);
  ASSERT_EQ(m.bindings.size(), 2u);
  EXPECT_EQ(m.bindings[0].metric, "DCGM_FI_DEV_POWER_USAGE");
  EXPECT_EQ(m.bindings[0].match.size(), 2u);
  EXPECT_EQ(m.bindings[1].unit->to_base, 1e-3);
  EXPECT_TRUE(m.bindings[1].quantity->counter);

  PromSample s;
  s.metric = "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION";
  s.labels = {{"gpu", "3"}, {"Hostname", "node7"}};
  std::string id;
  EXPECT_TRUE(m.bindings[1].Matches(s, id));
  EXPECT_EQ(id, "node7/gpu3");
  s.metric = "DCGM_FI_DEV_POWER_USAGE";
  EXPECT_FALSE(m.bindings[0].Matches(s, id));  // Hostname differs
  s.labels[1].value = "node0";
  EXPECT_TRUE(m.bindings[0].Matches(s, id));
  EXPECT_EQ(id, "node0/gpu3");
}

// Each fault in a copy of kMap, and the error it must give (file:line:col and message).
TEST(SiteMap, AnIpv6HostIsWrittenInBrackets) {
  std::string text = kMap;
  text.replace(text.find("127.0.0.1:9400"), 14, "[::1]:9400");
  const SiteMap m = ParseSiteMap(text, "map.yaml");
  EXPECT_EQ(m.sources[0].host, "::1");
  EXPECT_EQ(m.sources[0].port, 9400);
}

TEST(SiteMap, ErrorsNameFileLineColumn) {
  struct Case {
    std::string from, to, want;
  };
  const std::vector<Case> cases = {
      {"    interval: 500 ms\n", "    interval: 500 ms\n    every: 1 s\n", "map.yaml:8:5"},
      {"unit: W", "unit: kWh", "map.yaml:14:11: error: 'kWh' measures energy, not power"},
      {"entity: gpu\n    id: node0", "entity: gpux\n    id: node0",
       "map.yaml:11:13: error: 'bindings[0].entity' is 'gpux'"},
      {"  - source: node0\n    series: D", "  - source: node1\n    series: D",
       "map.yaml:15:13: error: no source is named 'node1'"},
      {"127.0.0.1:9400", "127.0.0.1:94000",
       "map.yaml:6:10: error: 'http://127.0.0.1:94000/metrics'"},
      {"gpu=\"3\",", "gpu=3,", "map.yaml:10:13: error: 'DCGM_FI_DEV_POWER_USAGE{gpu=3,"},
      {"{Hostname}/gpu{gpu}", "{Hostname/gpu", "map.yaml:18:9: error: a placeholder not closed"},
      {"500 ms", "500", "map.yaml:7:18: error: 'sources[0].interval': missing unit"},
      {"firstwall_site_map: 1", "firstwall_site_map: 2", "map.yaml:1:21"},
      // A remote-write listener names its port.
      {"kind: prometheus\n    url: \"http://127.0.0.1:9400/metrics\"",
       "kind: remote_write\n    url: \"http://127.0.0.1/api/v1/write\"",
       "map.yaml:6:10: error: 'http://127.0.0.1/api/v1/write': a remote_write source's url names "
       "its port"},
      // IPv6 goes in brackets, closed.
      {"127.0.0.1:9400", "[::1:9400",
       "map.yaml:6:10: error: 'http://[::1:9400/metrics': '[::1:9400' "
       "is not [IPV6]:PORT"},
      {"127.0.0.1:9400", "::1:9400", "an IPv6 address goes in brackets, [::1]:PORT"},
  };
  for (const Case& c : cases) {
    std::string text = kMap;
    const size_t at = text.find(c.from);
    ASSERT_NE(at, std::string::npos) << c.from;
    text.replace(at, c.from.size(), c.to);
    try {
      ParseSiteMap(text, "map.yaml");
      ADD_FAILURE() << "no error for " << c.to;
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find(c.want), std::string::npos)
          << "want: " << c.want << "\ngot: " << e.what();
    }
  }
}

TEST(SiteMap, BalancesAreReadAndChecked) {
  const std::string with = std::string(kMap) + R"(balances:
  - parent: ups/ups-1
    children: [pdu/a, pdu/b]
    efficiency: 95 %
)";
  const SiteMap m = ParseSiteMap(with, "map.yaml");
  ASSERT_EQ(m.balances.size(), 1u);
  EXPECT_EQ(m.balances[0].name, "ups/ups-1");
  EXPECT_EQ(m.balances[0].parent_id, "ups-1");
  EXPECT_EQ(m.balances[0].children[1], (std::pair<std::string, std::string>{"pdu", "b"}));
  EXPECT_DOUBLE_EQ(m.balances[0].efficiency, 0.95);
  EXPECT_DOUBLE_EQ(m.balances[0].tolerance, 0.02);
  struct Case {
    std::string from, to, want;
  };
  const std::vector<Case> cases = {
      {"pdu/b]", "pdux/b]", "map.yaml:23:23: error: 'pdux/b' is not ENTITY/ID"},
      {"ups/ups-1", "ups", "map.yaml:22:13: error: 'ups' is not ENTITY/ID"},
      {"pdu/b]", "ups/ups-1]", "map.yaml:23:23: error: 'ups/ups-1' is its own parent's child"},
      {"pdu/b]", "pdu/a]", "map.yaml:23:23: error: 'pdu/a' is listed twice"},
      {"95 %", "150 %", "map.yaml:24:17"},
      {"95 %", "95 %\n    quantity: temperature",
       "map.yaml:25:15: error: a balance sums its children, and temperature does not add up"},
      {"95 %", "95 %\n    quantity: energy", "map.yaml:25:15: error: 'energy' is a counter"},
  };
  for (const Case& c : cases) {
    std::string text = with;
    text.replace(text.find(c.from), c.from.size(), c.to);
    try {
      ParseSiteMap(text, "map.yaml");
      ADD_FAILURE() << "no error for " << c.to;
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find(c.want), std::string::npos)
          << "want: " << c.want << "\ngot: " << e.what();
    }
  }
}

TEST(SiteMap, TwoFixedStreamsForOneEntityAreRefused) {
  std::string text = kMap;
  text += R"(  - source: node0
    series: 'DCGM_FI_DEV_POWER_USAGE{gpu="4"}'
    entity: gpu
    id: node0/gpu3
    quantity: power
    unit: W
)";
  EXPECT_THROW(ParseSiteMap(text, "map.yaml"), InputError);
}

}  // namespace
}  // namespace firstwall::live

namespace firstwall::live {
namespace {

// docs/live.md embeds the site map's key table between two markers (`make docs` rewrites it).
TEST(SiteMap, DocsHoldTheKeyTable) {
  std::ifstream in("docs/live.md");
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string doc = ss.str();
  const std::string begin = "<!-- site-map keys begin -->\n", end = "<!-- site-map keys end -->";
  const size_t a = doc.find(begin), b = doc.find(end);
  ASSERT_NE(a, std::string::npos);
  ASSERT_NE(b, std::string::npos);
  EXPECT_EQ(doc.substr(a + begin.size(), b - a - begin.size()),
            scenario::SchemaTable(SiteMapSchema()))
      << "regenerate with: make docs";
}

}  // namespace
}  // namespace firstwall::live
