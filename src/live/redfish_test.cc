#include <httplib.h>

#include <cstdlib>
#include <thread>

#include <gtest/gtest.h>

#include "core/error.h"
#include "live/redfish.h"

namespace firstwall::live {
namespace {

using nlohmann::json;

const json kPower = json::parse(R"({
  "PowerControl": [{"MemberId": "0", "PowerConsumedWatts": 8421.5, "Name": "x"}],
  "Voltages": [{"ReadingVolts": null}]
})");

TEST(Redfish, ReadsTheNumberAtAPointer) {
  std::string why;
  bool is_null = true;
  auto v = RedfishReading(kPower, "/PowerControl/0/PowerConsumedWatts", why, is_null);
  ASSERT_TRUE(v);
  EXPECT_EQ(*v, 8421.5);
  EXPECT_FALSE(is_null);
  EXPECT_TRUE(why.empty());
}

TEST(Redfish, RefusesMissingMembersAndNonNumbersAndSaysNullIsNoReading) {
  std::string why;
  bool is_null = false;
  EXPECT_FALSE(RedfishReading(kPower, "/PowerControl/1/PowerConsumedWatts", why, is_null));
  EXPECT_EQ(why, "no member at /PowerControl/1/PowerConsumedWatts");
  EXPECT_FALSE(RedfishReading(kPower, "/PowerControl/0/Watts", why, is_null));
  EXPECT_EQ(why, "no member at /PowerControl/0/Watts");
  EXPECT_FALSE(RedfishReading(kPower, "/PowerControl/0/Name", why, is_null));
  EXPECT_EQ(why, "a string, not a number");
  EXPECT_FALSE(RedfishReading(kPower, "/PowerControl", why, is_null));
  EXPECT_EQ(why, "a array, not a number");
  EXPECT_FALSE(RedfishReading(kPower, "/Voltages/0/ReadingVolts", why, is_null));
  EXPECT_TRUE(is_null);
  EXPECT_TRUE(why.empty());
  EXPECT_FALSE(RedfishReading(kPower, "PowerControl", why, is_null));
  EXPECT_NE(why.find("pointer 'PowerControl'"), std::string::npos) << why;
}

const char* kMap = R"(firstwall_site_map: 1
sources:
  - name: bmc
    kind: redfish
    url: "http://127.0.0.1:8000"
    interval: 1 s
    user: admin
    password_env: FW_TEST_BMC_PASSWORD
    resources:
      - {path: /redfish/v1/Chassis/1/Power, pointer: /PowerControl/0/PowerConsumedWatts,
         name: node_power_watts, labels: {node: node7}}
      - {path: /redfish/v1/Chassis/1/Thermal, pointer: /Temperatures/1/ReadingCelsius,
         name: inlet_celsius}
bindings:
  - {source: bmc, series: node_power_watts, entity: node, id: "{node}", quantity: power, unit: W}
)";

TEST(Redfish, SiteMapKeys) {
  const SiteMap m = ParseSiteMap(kMap, "map.yaml");
  ASSERT_EQ(m.sources.size(), 1u);
  const Source& s = m.sources[0];
  EXPECT_EQ(s.kind, "redfish");
  EXPECT_EQ(s.port, 8000);
  EXPECT_EQ(s.user, "admin");
  EXPECT_EQ(s.password_env, "FW_TEST_BMC_PASSWORD");
  ASSERT_EQ(s.resources.size(), 2u);
  EXPECT_EQ(s.resources[0].path, "/redfish/v1/Chassis/1/Power");
  EXPECT_EQ(s.resources[0].pointer, "/PowerControl/0/PowerConsumedWatts");
  EXPECT_EQ(s.resources[0].name, "node_power_watts");
  EXPECT_EQ(s.resources[0].labels, (std::vector<Label>{{"node", "node7"}}));
  EXPECT_TRUE(s.resources[1].labels.empty());
}

std::string ErrorOf(const std::string& text) {
  try {
    ParseSiteMap(text, "map.yaml");
  } catch (const InputError& e) {
    return e.what();
  }
  return "(accepted)";
}

std::string Edit(std::string text, const std::string& from, const std::string& to) {
  const size_t at = text.find(from);
  EXPECT_NE(at, std::string::npos) << from;
  return text.replace(at, from.size(), to);
}

TEST(Redfish, SiteMapRefusesBadKeysWithTheirPlace) {
  EXPECT_NE(ErrorOf(Edit(kMap, "/PowerControl/0/PowerConsumedWatts", "PowerControl/0"))
                .find("map.yaml:10:54: error: 'PowerControl/0' is not a JSON pointer"),
            std::string::npos)
      << ErrorOf(Edit(kMap, "/PowerControl/0/PowerConsumedWatts", "PowerControl/0"));
  EXPECT_NE(ErrorOf(Edit(kMap, "name: node_power_watts", "name: node-power"))
                .find("'node-power' is not a metric name"),
            std::string::npos);
  EXPECT_NE(ErrorOf(Edit(kMap, "http://127.0.0.1:8000", "http://127.0.0.1:8000/redfish/v1"))
                .find("a redfish source's url is the BMC's http://host[:port]"),
            std::string::npos);
  EXPECT_NE(ErrorOf(Edit(kMap, "    user: admin\n", "")).find("a password without a user"),
            std::string::npos);
  const std::string no_resources = kMap;
  EXPECT_NE(ErrorOf(no_resources.substr(0, no_resources.find("    resources:")) +
                    "bindings:\n  - {source: bmc, series: x, entity: node, id: n, quantity: "
                    "power, unit: W}\n")
                .find("a redfish source lists the resources it reads"),
            std::string::npos);
  EXPECT_NE(
      ErrorOf(Edit(kMap, "{node: node7}", "{__node: node7}")).find("'__node' is not a label name"),
      std::string::npos);
  EXPECT_NE(
      ErrorOf(Edit(kMap, "name: inlet_celsius", "name: node_power_watts, labels: {node: node7}"))
          .find("map.yaml:13:16: error: a second resource named 'node_power_watts' with the "
                "same labels"),
      std::string::npos)
      << ErrorOf(
             Edit(kMap, "name: inlet_celsius", "name: node_power_watts, labels: {node: node7}"));
  EXPECT_NE(ErrorOf(Edit(kMap, "kind: redfish", "kind: prometheus"))
                .find("'resources' is a key of redfish sources, not of kind prometheus"),
            std::string::npos);
}

// A BMC that wants basic auth admin:secret and serves one good and one broken resource.
struct FakeBmc {
  httplib::Server server;
  std::thread thread;
  int port = 0;
  FakeBmc() {
    auto authorized = [](const httplib::Request& req) {
      // base64("admin:secret")
      return req.get_header_value("Authorization") == "Basic YWRtaW46c2VjcmV0";
    };
    server.Get("/redfish/v1/Chassis/1/Power",
               [=](const httplib::Request& req, httplib::Response& res) {
                 if (!authorized(req)) {
                   res.status = 401;
                   return;
                 }
                 res.set_content(kPower.dump(), "application/json");
               });
    server.Get("/redfish/v1/Chassis/1/Thermal",
               [=](const httplib::Request& req, httplib::Response& res) {
                 if (!authorized(req)) {
                   res.status = 401;
                   return;
                 }
                 res.set_content(R"({"Temperatures": [{"ReadingCelsius": 2)", "application/json");
               });
    port = server.bind_to_any_port("127.0.0.1");
    thread = std::thread([this] { server.listen_after_bind(); });
    while (!server.is_running()) std::this_thread::yield();
  }
  ~FakeBmc() {
    server.stop();
    thread.join();
  }
};

TEST(Redfish, ReaderAuthenticatesReadsAndRefusesBrokenJsonPerResource) {
  FakeBmc bmc;
  SiteMap m = ParseSiteMap(Edit(kMap, "8000", std::to_string(bmc.port)), "map.yaml");
  ReaderContext ctx;
  unsetenv("FW_TEST_BMC_PASSWORD");
  EXPECT_THROW(MakeRedfishReader(m.sources[0], ctx), InputError);
  setenv("FW_TEST_BMC_PASSWORD", "wrong", 1);
  ReadResult r = MakeRedfishReader(m.sources[0], ctx)->Read();
  EXPECT_FALSE(r.ok);
  EXPECT_EQ(r.error, "/redfish/v1/Chassis/1/Power: HTTP status 401 (check user and password_env)");
  setenv("FW_TEST_BMC_PASSWORD", "secret", 1);
  auto reader = MakeRedfishReader(m.sources[0], ctx);
  r = reader->Read();
  ASSERT_TRUE(r.ok) << r.error;
  ASSERT_EQ(r.samples.size(), 1u);
  EXPECT_EQ(r.samples[0].metric, "node_power_watts");
  EXPECT_EQ(r.samples[0].value, 8421.5);
  EXPECT_EQ(r.samples[0].labels, (std::vector<Label>{{"node", "node7"}}));
  EXPECT_FALSE(r.samples[0].timestamp_ms);
  EXPECT_EQ(r.rejected, 1);
  ASSERT_EQ(r.rejects.size(), 1u);
  EXPECT_EQ(r.rejects[0].line, 2);
  EXPECT_NE(
      r.rejects[0].reason.find("/redfish/v1/Chassis/1/Thermal /Temperatures/1/ReadingCelsius: "
                               "not JSON: [json.exception.parse_error"),
      std::string::npos)
      << r.rejects[0].reason;
  unsetenv("FW_TEST_BMC_PASSWORD");
}

TEST(Redfish, ReaderFailsWhenNothingAnswers) {
  SiteMap m = ParseSiteMap(
      Edit(Edit(kMap, "8000", "1"), "    password_env: FW_TEST_BMC_PASSWORD\n", ""), "map.yaml");
  const ReadResult r = MakeRedfishReader(m.sources[0], ReaderContext{})->Read();
  EXPECT_FALSE(r.ok);
  EXPECT_NE(r.error.find("/redfish/v1/Chassis/1/Power: no answer: "), std::string::npos) << r.error;
}

Snapshot TwoNodes() {
  Snapshot s;
  s.families.push_back({"firstwall_node_power_watts", "gauge", "", "W", 3, {}});
  s.families[0].readings.push_back({{{"Hostname", "node0"}}, 6123.4567});
  s.families[0].readings.push_back({{{"Hostname", "node1"}}, 6200});
  s.families.push_back({"firstwall_coolant_supply_temperature_celsius", "gauge", "", "C", 3, {}});
  s.families[1].readings.push_back({{}, 32.5});
  s.families.push_back({"firstwall_server_inlet_temperature_celsius", "gauge", "", "C", 3, {}});
  s.families[2].readings.push_back({{}, 21.25});
  return s;
}

TEST(Redfish, EmulatorDocumentsFollowTheSchemas) {
  const Snapshot snap = TwoNodes();
  int status = 0;
  json root = RedfishDocument(&snap, 2, "/redfish/v1/", status);
  EXPECT_EQ(status, 200);
  EXPECT_EQ(root["Chassis"]["@odata.id"], "/redfish/v1/Chassis");
  json chassis = RedfishDocument(&snap, 2, "/redfish/v1/Chassis", status);
  EXPECT_EQ(chassis["Members@odata.count"], 2);
  EXPECT_EQ(chassis["Members"][1]["@odata.id"], "/redfish/v1/Chassis/node1");
  json node = RedfishDocument(&snap, 2, "/redfish/v1/Chassis/node1", status);
  EXPECT_EQ(node["Power"]["@odata.id"], "/redfish/v1/Chassis/node1/Power");
  json power = RedfishDocument(&snap, 2, "/redfish/v1/Chassis/node0/Power", status);
  EXPECT_EQ(status, 200);
  EXPECT_EQ(power["@odata.type"], "#Power.v1_5_0.Power");
  EXPECT_EQ(power["PowerControl"][0]["PowerConsumedWatts"], 6123.457);  // to the mW
  json thermal = RedfishDocument(&snap, 2, "/redfish/v1/Chassis/node1/Thermal", status);
  EXPECT_EQ(thermal["Temperatures"][0]["ReadingCelsius"], 32.5);
  EXPECT_EQ(thermal["Temperatures"][0]["PhysicalContext"], "LiquidInlet");
  EXPECT_EQ(thermal["Temperatures"][1]["ReadingCelsius"], 21.25);
  EXPECT_EQ(thermal["Temperatures"][1]["PhysicalContext"], "Intake");
  // Before the first tick, readings are null.
  power = RedfishDocument(nullptr, 2, "/redfish/v1/Chassis/node0/Power", status);
  EXPECT_TRUE(power["PowerControl"][0]["PowerConsumedWatts"].is_null());
  for (const char* absent : {"/redfish/v1/Chassis/node2/Power", "/redfish/v1/Chassis/node01",
                             "/redfish/v1/Chassis/node0/Fans", "/redfish/v1/Systems"}) {
    RedfishDocument(&snap, 2, absent, status);
    EXPECT_EQ(status, 404) << absent;
  }
}

TEST(Redfish, EmulatorServesWhatTheReaderReads) {
  auto server = StartRedfishServer("127.0.0.1:0", 2);
  const std::string d = server->Describe();
  const int port = std::atoi(d.c_str() + d.find("127.0.0.1:") + 10);
  server->Publish(std::make_shared<const Snapshot>(TwoNodes()));
  const std::string map = Edit(
      Edit(Edit(kMap, "8000", std::to_string(port)), "/Chassis/1/Power", "/Chassis/node1/Power"),
      "/Chassis/1/Thermal", "/Chassis/node1/Thermal");
  SiteMap m = ParseSiteMap(
      Edit(Edit(map, "    user: admin\n", ""), "    password_env: FW_TEST_BMC_PASSWORD\n", ""),
      "map.yaml");
  const ReadResult r = MakeRedfishReader(m.sources[0], ReaderContext{})->Read();
  ASSERT_TRUE(r.ok) << r.error;
  EXPECT_EQ(r.rejected, 0);
  ASSERT_EQ(r.samples.size(), 2u);
  EXPECT_EQ(r.samples[0].value, 6200);
  EXPECT_EQ(r.samples[1].metric, "inlet_celsius");
  EXPECT_EQ(r.samples[1].value, 21.25);
  server->Stop();
  EXPECT_THROW(StartRedfishServer("nowhere", 2), InputError);
}

}  // namespace
}  // namespace firstwall::live
