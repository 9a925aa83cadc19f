// The HTTP protocols end to end on loopback, without third-party peers. Redfish: `firstwall emulate
// --redfish` serves each node's Power and Thermal, `firstwall ingest` reads them through
// tests/inputs/live-site-map-redfish.yaml into SQLite, and the stored streams are the emulator's.
// Remote-write: hand-built POSTs to `firstwall ingest` are stored as sent, bad ones refused (the
// real Prometheus sender is tests/live_remote_write_test.cc). No timing is asserted.
#include <httplib.h>
#include <signal.h>

#include <chrono>
#include <map>
#include <thread>

#include <nlohmann/json.hpp>

#include "live/gpu_rollup.h"
#include "live/remote_write.h"
#include "live/store.h"
#include "tests/cli_support.h"
#include "tests/live_support.h"

namespace firstwall::testing_cli {
namespace {

using nlohmann::json;

// The value of `series` (a full sample line's name and labels) in an exposition, or NaN.
double ExpositionValue(const std::string& text, const std::string& series) {
  const size_t at = text.find("\n" + series + " ");
  if (at == std::string::npos) return std::nan("");
  return std::stod(text.substr(at + series.size() + 2));
}

// `firstwall emulate` in the background with its output in DIR/emulate.log; SIGTERM at the end.
struct Emulation {
  int pid = -1, prometheus_port = 0, redfish_port = 0;
  fs::path log;
  Emulation(const fs::path& dir, const std::string& args) : log(dir / "emulate.log") {
    FILE* p =
        popen((std::string(FIRSTWALL_BIN) + " emulate tests/inputs/live-emulate.yaml " + args +
               " --listen 127.0.0.1:0 --redfish 127.0.0.1:0 >" + log.string() + " 2>&1 & echo $!")
                  .c_str(),
              "r");
    char buf[64] = {};
    if (fgets(buf, sizeof buf, p)) pid = std::atoi(buf);
    pclose(p);
    // Both start-up lines, or the process's end (then the ports stay 0).
    for (int i = 0; i < 600 && redfish_port == 0; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      const std::string out = Slurp(log);
      const size_t prom = out.find("serving http://127.0.0.1:");
      const size_t rf = out.find("redfish http://127.0.0.1:");
      if (prom != std::string::npos && rf != std::string::npos) {
        prometheus_port = std::atoi(out.c_str() + prom + 25);
        redfish_port = std::atoi(out.c_str() + rf + 25);
      }
      if (pid <= 0 || kill(pid, 0) != 0) break;
    }
  }
  ~Emulation() {
    if (pid > 0) kill(pid, SIGTERM);
  }
};

TEST(LiveRedfishCli, EmulateServesRedfishAndIngestStoresIt) {
  const fs::path dir = Fresh("live_redfish");
  fs::create_directories(dir);
  Emulation emu(dir, "--speed 20");
  ASSERT_GT(emu.redfish_port, 0) << Slurp(emu.log);
  ASSERT_GT(emu.prometheus_port, 0);
  std::ofstream(dir / "map.yaml") << ReplaceOnce(
      Slurp("tests/inputs/live-site-map-redfish.yaml"), "url: \"http://127.0.0.1:8000\"",
      "url: \"http://127.0.0.1:" + std::to_string(emu.redfish_port) + "\"");
  const fs::path db = dir / "live.db";
  const Result ingest = Firstwall("ingest " + (dir / "map.yaml").string() + " --db " + db.string() +
                                  " --for 30s --speed 20");
  ASSERT_EQ(ingest.status, 0) << ingest.out;
  EXPECT_NE(ingest.out.find("(0 failed)"), std::string::npos) << ingest.out;
  EXPECT_NE(ingest.out.find(" in 5 series, 0 unbound samples, 0 malformed lines"),
            std::string::npos)
      << ingest.out;

  auto store = live::OpenSqliteStore(db.string());
  int checked = 0;
  for (const live::SeriesInfo& s : store->Series()) {
    const std::vector<live::SamplePoint> pts = store->Samples(s.id);
    ASSERT_GE(pts.size(), 10u) << s.key.metric;  // 30 s at 1 s: a slow machine gives fewer
    for (const live::SamplePoint& p : pts) {
      if (s.key.entity == "node" && s.key.quantity == "power") {
        // 2 kW of node base power plus 8 H100s between idle and their 700 W limit.
        EXPECT_GT(p.value, 2000 + 8 * 50.0) << s.key.metric;
        EXPECT_LT(p.value, 2000 + 8 * 700.0) << s.key.metric;
      } else {
        EXPECT_EQ(s.key.quantity, "temperature");
        EXPECT_GT(p.value, 10.0) << s.key.metric;
        EXPECT_LT(p.value, 60.0) << s.key.metric;
      }
    }
    ++checked;
    if (s.key.entity == "cdu") {
      EXPECT_EQ(s.key.entity_id, "cdu-node0");
    }
    if (s.key.entity == "node") {
      EXPECT_TRUE(s.key.entity_id == "node0" || s.key.entity_id == "node1") << s.key.entity_id;
    }
  }
  EXPECT_EQ(checked, 5);
}

TEST(LiveRedfishCli, RedfishCarriesTheSameValuesAsTheExposition) {
  // At real time a tick lasts a second: a Redfish answer read between two identical expositions
  // belongs to their tick (retried until that happens; no time limit is asserted).
  const fs::path dir = Fresh("live_redfish_same");
  fs::create_directories(dir);
  Emulation emu(dir, "--speed 1");
  ASSERT_GT(emu.redfish_port, 0) << Slurp(emu.log);
  httplib::Client prom("127.0.0.1", emu.prometheus_port), bmc("127.0.0.1", emu.redfish_port);
  bool agreed = false;
  for (int attempt = 0; attempt < 100 && !agreed; ++attempt) {
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    auto a = prom.Get("/metrics");
    auto p = bmc.Get("/redfish/v1/Chassis/node1/Power");
    auto t = bmc.Get("/redfish/v1/Chassis/node1/Thermal");
    auto b = prom.Get("/metrics");
    if (!a || !p || !t || !b || a->body != b->body) continue;
    const json power = json::parse(p->body);
    const json thermal = json::parse(t->body);
    if (power["PowerControl"][0]["PowerConsumedWatts"].is_null()) continue;  // before tick 1
    EXPECT_EQ(power["PowerControl"][0]["PowerConsumedWatts"].get<double>(),
              ExpositionValue(a->body, "firstwall_node_power_watts{Hostname=\"node1\"}"));
    EXPECT_EQ(thermal["Temperatures"][0]["ReadingCelsius"].get<double>(),
              ExpositionValue(a->body, "firstwall_coolant_supply_temperature_celsius"));
    EXPECT_EQ(thermal["Temperatures"][1]["ReadingCelsius"].get<double>(),
              ExpositionValue(a->body, "firstwall_server_inlet_temperature_celsius"));
    agreed = true;
  }
  EXPECT_TRUE(agreed);
  auto root = bmc.Get("/redfish/v1");
  ASSERT_TRUE(root);
  EXPECT_EQ(json::parse(root->body)["Chassis"]["@odata.id"], "/redfish/v1/Chassis");
  auto missing = bmc.Get("/redfish/v1/Chassis/node2/Power");
  ASSERT_TRUE(missing);
  EXPECT_EQ(missing->status, 404);
}

TEST(LiveRedfishCli, BadRedfishOptionsAreRefused) {
  Result r = Firstwall("emulate tests/inputs/live-emulate.yaml --redfish nowhere");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.out.find("--redfish: error: 'nowhere' is not HOST:PORT"), std::string::npos) << r.out;
  const fs::path dir = Fresh("live_redfish_bad");
  fs::create_directories(dir);
  std::ofstream(dir / "map.yaml") << ReplaceOnce(Slurp("tests/inputs/live-site-map-redfish.yaml"),
                                                 "pointer: /Temperatures/1/ReadingCelsius",
                                                 "pointer: Temperatures");
  r = Firstwall("ingest " + (dir / "map.yaml").string() + " --db " + (dir / "x.db").string() +
                " --for 1s");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.out.find("map.yaml:24:18: error: 'Temperatures' is not a JSON pointer"),
            std::string::npos)
      << r.out;
}

TEST(LiveRemoteWriteCli, IngestStoresWhatIsPostedAndRefusesGarbage) {
  const fs::path dir = Fresh("live_rw_cli");
  fs::create_directories(dir);
  const int port = FreePort();
  std::ofstream(dir / "map.yaml")
      << "firstwall_site_map: 1\n"
         "sources:\n"
         "  - {name: rw, kind: remote_write, url: 'http://127.0.0.1:"
      << port
      << "/api/v1/write', interval: 200 ms}\n"
         "bindings:\n"
         "  - {source: rw, series: DCGM_FI_DEV_POWER_USAGE, entity: gpu,\n"
         "     id: '{Hostname}/gpu{gpu}', quantity: power, unit: W}\n"
         "  - {source: rw, series: meter_kw, entity: meter, id: m1, quantity: power, unit: kW}\n";
  const int pid = Spawn(std::string(FIRSTWALL_BIN) + " ingest " + (dir / "map.yaml").string() +
                            " --db " + (dir / "rw.db").string() + " --for 8s",
                        dir / "ingest.log");
  ASSERT_GT(pid, 0);
  const std::vector<live::PromSample> sent = {
      {"DCGM_FI_DEV_POWER_USAGE", {{"Hostname", "node0"}, {"gpu", "3"}}, 512.25, 1700000000000},
      {"DCGM_FI_DEV_POWER_USAGE", {{"Hostname", "node0"}, {"gpu", "3"}}, 498.5, 1700000001000},
      {"meter_kw", {}, 1.5, 1700000000500},
      {"unbound_metric", {}, 7, 1700000000500}};
  httplib::Client client("127.0.0.1", port);
  const httplib::Headers snappy = {{"Content-Encoding", "snappy"}};
  // Until the listener is up: a refused connection is no answer at all.
  int status = 0;
  ASSERT_TRUE(WaitFor(
      [&] {
        auto r = client.Post("/api/v1/write", snappy, live::EncodeRemoteWrite(sent),
                             "application/x-protobuf");
        if (r) status = r->status;
        return static_cast<bool>(r);
      },
      std::chrono::seconds(5)))
      << Slurp(dir / "ingest.log");
  EXPECT_EQ(status, 204);
  auto res = client.Post("/api/v1/write", snappy, "not snappy at all", "application/x-protobuf");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 400);
  ASSERT_TRUE(
      WaitFor([&] { return Slurp(dir / "ingest.log").find(" scrapes (") != std::string::npos; },
              std::chrono::seconds(60)));
  const std::string log = Slurp(dir / "ingest.log");
  EXPECT_NE(log.find("3 samples in 2 series, 1 unbound samples, 1 malformed lines"),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("rw: 1 malformed line(s) refused; line 2: snappy data corrupt or truncated"),
            std::string::npos)
      << log;
  auto store = live::OpenSqliteStore((dir / "rw.db").string());
  std::map<std::string, std::vector<live::SamplePoint>> got;
  for (const live::SeriesInfo& s : store->Series()) {
    // Ingest's GPU rollups (gpu_rollup.h) are tested on their own.
    if (s.key.source != live::kRollupSource) got[s.key.entity_id] = store->Samples(s.id);
  }
  ASSERT_EQ(got.size(), 2u);
  ASSERT_EQ(got["node0/gpu3"].size(), 2u);
  EXPECT_EQ(got["node0/gpu3"][0].t_ms, 1700000000000);
  EXPECT_EQ(got["node0/gpu3"][0].value, 512.25);
  EXPECT_EQ(got["node0/gpu3"][1].t_ms, 1700000001000);
  EXPECT_EQ(got["node0/gpu3"][1].value, 498.5);
  ASSERT_EQ(got["m1"].size(), 1u);
  EXPECT_EQ(got["m1"][0].value, 1500);  // kW stored in W
}

}  // namespace
}  // namespace firstwall::testing_cli
