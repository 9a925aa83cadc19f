// MQTT against a real broker (Debian `mosquitto` and `mosquitto-clients`, installed by .ci/run;
// labelled `live`, skipped when absent). Each test starts its own mosquitto on a free loopback port
// in a temp dir: `firstwall emulate --mqtt` publishes the building-management topics, `firstwall
// ingest` reads them with tests/inputs/live-site-map-mqtt.yaml; mosquitto_sub and mosquitto_pub
// stand in for other clients. Nothing is timed: polls end after generous limits so that a peer
// that never answers fails the test instead of hanging it.
#include <signal.h>
#include <unistd.h>

#include <map>
#include <set>

#include <nlohmann/json.hpp>

#include "live/reader.h"
#include "live/site_map.h"
#include "live/store.h"
#include "tests/live_support.h"

namespace firstwall::testing_cli {
namespace {

using nlohmann::json;

// A private mosquitto on 127.0.0.1:port, anonymous, nothing kept on disk.
struct Broker {
  std::string bin;
  fs::path dir;
  int port = 0, pid = -1, starts = 0;

  Broker(std::string program, fs::path d) : bin(std::move(program)), dir(std::move(d)) {
    port = FreePort();
    std::ofstream conf(dir / "mosquitto.conf");
    conf << "listener " << port << " 127.0.0.1\nallow_anonymous true\npersistence false\n";
    // Started as root, mosquitto changes to user `mosquitto`; stay root (it opens no files).
    if (geteuid() == 0) conf << "user root\n";
  }
  bool Start() {
    pid = Spawn(bin + " -c " + (dir / "mosquitto.conf").string(),
                dir / ("mosquitto" + std::to_string(++starts) + ".log"));
    return pid > 0 && WaitFor([&] { return Listening(port); }, std::chrono::seconds(30));
  }
  bool Stop() {
    if (pid > 0) kill(pid, SIGTERM);
    pid = -1;
    return WaitFor([&] { return !Listening(port); }, std::chrono::seconds(30));
  }
  std::string Log() const { return Slurp(dir / ("mosquitto" + std::to_string(starts) + ".log")); }
  ~Broker() {
    if (pid > 0) kill(pid, SIGTERM);
  }
};

// `firstwall emulate` of tests/inputs/live-emulate.yaml publishing to the broker.
struct Emulator {
  int pid = -1, port = 0;
  fs::path log;
  Emulator(const fs::path& dir, int broker_port, int speed) : log(dir / "emulate.log") {
    pid = Spawn(std::string(FIRSTWALL_BIN) + " emulate tests/inputs/live-emulate.yaml --speed " +
                    std::to_string(speed) +
                    " --listen 127.0.0.1:0 --mqtt mqtt://127.0.0.1:" + std::to_string(broker_port),
                log);
    WaitFor(
        [&] {
          const std::string out = Slurp(log);
          const size_t at = out.find("http://127.0.0.1:");
          if (at == std::string::npos || out.find("serving mqtt://") == std::string::npos)
            return false;
          port = std::atoi(out.c_str() + at + 17);
          return port > 0;
        },
        std::chrono::seconds(60));
  }
  ~Emulator() {
    if (pid > 0) kill(pid, SIGTERM);
  }
};

// The site map with the emulator's and the broker's ports.
fs::path MapFor(const fs::path& dir, int emulator_port, int broker_port) {
  const fs::path p = dir / "map.yaml";
  std::ofstream(p) << ReplaceOnce(
      ReplaceOnce(Slurp("tests/inputs/live-site-map-mqtt.yaml"), "127.0.0.1:9400",
                  "127.0.0.1:" + std::to_string(emulator_port)),
      "\"mqtt://127.0.0.1:1883\"", "\"mqtt://127.0.0.1:" + std::to_string(broker_port) + "\"");
  return p;
}

// The output of a shell command (stdout and stderr).
std::string Output(const std::string& command) {
  std::string out;
  FILE* p = popen((command + " 2>&1").c_str(), "r");
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  pclose(p);
  return out;
}

// Why a test skips: "" when `program` is there.
std::string Need(const std::string& program) {
  if (!Which(program).empty()) return "";
  return program + " not installed (Debian packages mosquitto, mosquitto-clients)";
}

TEST(LiveMqtt, IngestStoresWhatTheEmulatorPublishes) {
  if (const std::string why = Need("mosquitto"); !why.empty()) GTEST_SKIP() << why;
  const fs::path dir = Fresh("live_mqtt_values");
  fs::create_directories(dir);
  Broker broker(Which("mosquitto"), dir);
  ASSERT_TRUE(broker.Start()) << broker.Log();
  Emulator emu(dir, broker.port, 20);
  ASSERT_GT(emu.port, 0) << Slurp(emu.log);
  const fs::path db = dir / "bms.db";
  const Result ingest = Firstwall("ingest " + MapFor(dir, emu.port, broker.port).string() +
                                  " --db " + db.string() + " --for 60s --speed 20 --quiet");
  ASSERT_EQ(ingest.status, 0) << ingest.out;
  EXPECT_NE(ingest.out.find(" 0 malformed lines"), std::string::npos) << ingest.out;

  auto store = live::OpenSqliteStore(db.string());
  std::map<std::string, live::SeriesInfo> by_id;
  for (const live::SeriesInfo& s : store->Series()) by_id[s.key.entity_id] = s;
  const std::vector<std::string> bms = {
      "chiller", "cooling/pump", "cooling/fan",      "cooling/plant",   "tower",
      "cdu",     "server-inlet", "outdoor/dry-bulb", "outdoor/wet-bulb"};
  for (const std::string& id : bms) {
    ASSERT_TRUE(by_id.count(id)) << id;
    EXPECT_EQ(by_id[id].key.source, "bms");
  }
  EXPECT_EQ(by_id.size(), bms.size() + 2);  // and the Prometheus endpoint's two
  // The equipment label came from the topic's 4th level, and every sample names its topic.
  EXPECT_EQ(by_id["cooling/pump"].key.metric,
            "bms_power_w{site=\"live-twin-test-hall\",equipment=\"pump\",topic=\"firstwall/"
            "live-twin-test-hall/bms/pump/power_w\"}");
  EXPECT_EQ(by_id["chiller"].key.entity, "chiller");

  // Samples carry the emulator's tick times: whole seconds of site time apart.
  std::map<std::string, std::map<int64_t, double>> at;  // id -> t_ms -> value
  for (const std::string& id : bms) {
    const auto samples = store->Samples(by_id[id].id);
    ASSERT_GE(samples.size(), 10u) << id;
    for (size_t i = 1; i < samples.size(); ++i) {
      EXPECT_EQ((samples[i].t_ms - samples[0].t_ms) % 1000, 0) << id;
    }
    for (const auto& p : samples) at[id][p.t_ms] = p.value;
  }
  // The scenario's outdoor air is 25 C at every tick.
  for (const auto& [t, v] : at["outdoor/dry-bulb"]) EXPECT_EQ(v, 25.0) << t;
  // The plant's power is its chiller, pumps and fans, tick by tick (each rounded to 1 mW).
  int ticks = 0;
  for (const auto& [t, plant] : at["cooling/plant"]) {
    if (!at["chiller"].count(t) || !at["cooling/pump"].count(t) || !at["cooling/fan"].count(t))
      continue;
    ++ticks;
    EXPECT_NEAR(plant, at["chiller"][t] + at["cooling/pump"][t] + at["cooling/fan"][t], 0.002);
  }
  EXPECT_GE(ticks, 10);

  // Every value the Prometheus endpoint served was also published on MQTT, exactly. The first
  // scrape may precede the subscription (its tick was overwritten as the retained value before
  // the broker handed it over) and the last may come after the final MQTT read: both are left out.
  for (const auto& [prom, mqtt] : {std::pair{"prometheus/plant", "cooling/plant"},
                                   std::pair{"prometheus/heat-rejected", "tower"}}) {
    std::set<double> published;
    for (const auto& [t, v] : at[mqtt]) published.insert(v);
    const auto scraped = store->Samples(by_id[prom].id);
    ASSERT_GE(scraped.size(), 10u) << prom;
    for (size_t i = 1; i + 1 < scraped.size(); ++i) {
      EXPECT_TRUE(published.count(scraped[i].value))
          << prom << " scrape " << i << ": " << scraped[i].value << " was not published on MQTT";
    }
    EXPECT_GE(published.size(), 2u) << mqtt << ": the values vary over the run";
  }
}

TEST(LiveMqtt, MosquittoSubSeesTheEmulatorsRetainedTopics) {
  for (const char* p : {"mosquitto", "mosquitto_sub"}) {
    if (const std::string why = Need(p); !why.empty()) GTEST_SKIP() << why;
  }
  const fs::path dir = Fresh("live_mqtt_sub");
  fs::create_directories(dir);
  Broker broker(Which("mosquitto"), dir);
  ASSERT_TRUE(broker.Start()) << broker.Log();
  Emulator emu(dir, broker.port, 10);
  ASSERT_GT(emu.port, 0) << Slurp(emu.log);
  // Wait for the first tick's messages, then take what a client that subscribes now gets first:
  // the retained value of every topic.
  ASSERT_TRUE(WaitFor(
      [&] {
        return !Output("mosquitto_sub -h 127.0.0.1 -p " + std::to_string(broker.port) +
                       " -t 'firstwall/#' -C 1 -W 2")
                    .empty();
      },
      std::chrono::seconds(60)));
  const std::string out = Output("mosquitto_sub -h 127.0.0.1 -p " + std::to_string(broker.port) +
                                 " -t 'firstwall/#' --retained-only -F '%r %t %p' -C 9 -W 20");
  const std::set<std::string> want = {"chiller/power_w",
                                      "pump/power_w",
                                      "fan/power_w",
                                      "plant/power_w",
                                      "plant/heat_rejected_w",
                                      "coolant/supply_temperature_c",
                                      "air/server_inlet_temperature_c",
                                      "weather/dry_bulb_c",
                                      "weather/wet_bulb_c"};
  std::set<std::string> got;
  std::istringstream lines(out);
  std::string retained, topic, payload;
  const std::string prefix = "firstwall/live-twin-test-hall/bms/";
  while (lines >> retained >> topic >> payload) {
    EXPECT_EQ(retained, "1") << topic;
    ASSERT_EQ(topic.rfind(prefix, 0), 0u) << topic;
    got.insert(topic.substr(prefix.size()));
    const json j = json::parse(payload, nullptr, false);
    ASSERT_TRUE(j.is_object()) << payload;
    EXPECT_TRUE(j["value"].is_number()) << payload;
    EXPECT_TRUE(j["t_ms"].is_number_integer()) << payload;
    if (topic.ends_with("weather/dry_bulb_c")) {
      EXPECT_EQ(j["value"], 25) << payload;
    }
  }
  EXPECT_EQ(got, want) << out;
}

// A site map with only the MQTT source, one topic entry, one binding.
fs::path BmsOnlyMap(const fs::path& dir, int broker_port) {
  const fs::path p = dir / "map.yaml";
  std::ofstream(p) << "firstwall_site_map: 1\n"
                      "sources:\n"
                      "  - name: bms\n"
                      "    kind: mqtt\n"
                      "    url: \"mqtt://127.0.0.1:"
                   << broker_port
                   << "\"\n"
                      "    interval: 1 s\n"
                      "    topics:\n"
                      "      - {filter: \"site/+/power_w\", name: power_w, labels: {equipment: 2},"
                      " time_field: t_ms}\n"
                      "bindings:\n"
                      "  - {source: bms, series: power_w, entity: meter, id: \"{equipment}\","
                      " quantity: power, unit: W}\n";
  return p;
}

TEST(LiveMqtt, GarbagePayloadsAreCountedAndRefusedWhileIngestGoesOn) {
  for (const char* p : {"mosquitto", "mosquitto_pub"}) {
    if (const std::string why = Need(p); !why.empty()) GTEST_SKIP() << why;
  }
  const fs::path dir = Fresh("live_mqtt_garbage");
  fs::create_directories(dir);
  Broker broker(Which("mosquitto"), dir);
  ASSERT_TRUE(broker.Start()) << broker.Log();
  // Retained, so ingest gets every one as it subscribes, whenever that is.
  const std::string pub = "mosquitto_pub -h 127.0.0.1 -p " + std::to_string(broker.port) + " -r ";
  const std::vector<std::pair<std::string, std::string>> garbage = {
      {"site/a/power_w", "'not json'"},
      {"site/b/power_w", "'{\"value\":\"12\",\"t_ms\":1}'"},
      {"site/c/power_w", "'{\"value\":12}'"},
      {"site/d/power_w", "\"$(head -c 5000 /dev/zero | tr '\\0' '[')\""},
  };
  for (const auto& [topic, payload] : garbage) {
    const std::string out = Output(pub + "-t " + topic + " -m " + payload);
    ASSERT_TRUE(out.empty()) << out;
  }
  // Bytes that are not text at all.
  ASSERT_TRUE(Output("printf '\\001\\377\\000{' | " + pub + "-t site/e/power_w -s").empty());
  // And one good reading after the garbage.
  ASSERT_TRUE(
      Output(pub + "-t site/f/power_w -m '{\"value\":1500.5,\"t_ms\":1764590400000}'").empty());

  const fs::path db = dir / "x.db";
  const Result r = Firstwall("ingest " + BmsOnlyMap(dir, broker.port).string() + " --db " +
                             db.string() + " --for 3s --speed 1");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("1 samples in 1 series, 0 unbound samples, 5 malformed lines"),
            std::string::npos)
      << r.out;
  // The log names a refused message's topic and why (the first of one read).
  EXPECT_NE(r.out.find("malformed line(s) refused; line "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("topic 'site/"), std::string::npos) << r.out;
  auto store = live::OpenSqliteStore(db.string());
  const auto series = store->Series();
  ASSERT_EQ(series.size(), 1u);
  EXPECT_EQ(series[0].key.entity_id, "f");
  const auto samples = store->Samples(series[0].id);
  ASSERT_EQ(samples.size(), 1u);
  EXPECT_EQ(samples[0].t_ms, 1764590400000);
  EXPECT_EQ(samples[0].value, 1500.5);
  int rejected = 0;
  for (const live::ScrapeRecord& s : store->Scrapes("bms")) rejected += s.rejected;
  EXPECT_EQ(rejected, 5);
}

TEST(LiveMqtt, IngestReconnectsWhenTheBrokerRestarts) {
  if (const std::string why = Need("mosquitto"); !why.empty()) GTEST_SKIP() << why;
  const fs::path dir = Fresh("live_mqtt_restart");
  fs::create_directories(dir);
  Broker broker(Which("mosquitto"), dir);
  ASSERT_TRUE(broker.Start()) << broker.Log();
  // 120 s of site at 2x: a minute of wall time to stop and restart the broker in.
  Emulator emu(dir, broker.port, 2);
  ASSERT_GT(emu.port, 0) << Slurp(emu.log);
  const fs::path db = dir / "x.db";
  const fs::path log = dir / "ingest.log";
  const int ingest =
      Spawn(std::string(FIRSTWALL_BIN) + " ingest " + MapFor(dir, emu.port, broker.port).string() +
                " --db " + db.string() + " --for 1000s --speed 2",
            log);
  ASSERT_GT(ingest, 0);

  // The scrapes of the MQTT source so far, from the store (WAL: readable while ingest writes).
  auto scrapes = [&] {
    std::vector<live::ScrapeRecord> out;
    if (!fs::exists(db)) return out;
    return live::OpenSqliteStore(db.string())->Scrapes("bms");
  };
  auto any = [&](auto pred) {
    for (const live::ScrapeRecord& s : scrapes()) {
      if (pred(s)) return true;
    }
    return false;
  };
  // 1. Samples arrive.
  EXPECT_TRUE(WaitFor([&] { return any([](const auto& s) { return s.ok && s.samples > 0; }); },
                      std::chrono::seconds(60)))
      << Slurp(log);
  // 2. The broker goes: reads fail, ingest stays up.
  const size_t before = scrapes().size();
  ASSERT_TRUE(broker.Stop());
  EXPECT_TRUE(WaitFor(
      [&] {
        const auto all = scrapes();
        for (size_t i = before; i < all.size(); ++i) {
          if (!all[i].ok) return true;
        }
        return false;
      },
      std::chrono::seconds(60)))
      << Slurp(log);
  // 3. It comes back on the same port: ingest reconnects and samples resume after the failures.
  ASSERT_TRUE(broker.Start()) << broker.Log();
  const bool resumed = WaitFor(
      [&] {
        const auto all = scrapes();
        bool failed = false;
        for (size_t i = before; i < all.size(); ++i) {
          failed = failed || !all[i].ok;
          if (failed && all[i].ok && all[i].samples > 0) return true;
        }
        return false;
      },
      std::chrono::seconds(90));
  kill(ingest, SIGTERM);
  WaitFor([&] { return Slurp(log).find(" scrapes (") != std::string::npos; },
          std::chrono::seconds(30));
  const std::string out = Slurp(log);
  EXPECT_TRUE(resumed) << out;
  EXPECT_NE(out.find("not connected to the broker at 127.0.0.1:"), std::string::npos) << out;
  EXPECT_NE(out.find("bms: reconnected to the broker"), std::string::npos) << out;
  EXPECT_NE(out.find(" 0 malformed lines"), std::string::npos) << out;
}

}  // namespace
}  // namespace firstwall::testing_cli

namespace firstwall::testing_cli {
namespace {

// A broker that comes up after ingest started: the first connection failed, and is retried.
TEST(LiveMqtt, IngestConnectsToABrokerThatStartsLater) {
  for (const char* p : {"mosquitto", "mosquitto_pub"}) {
    if (const std::string why = Need(p); !why.empty()) GTEST_SKIP() << why;
  }
  const fs::path dir = Fresh("live_mqtt_late");
  fs::create_directories(dir);
  Broker broker(Which("mosquitto"), dir);  // not started yet
  const fs::path db = dir / "x.db";
  const fs::path log = dir / "ingest.log";
  const int ingest =
      Spawn(std::string(FIRSTWALL_BIN) + " ingest " + BmsOnlyMap(dir, broker.port).string() +
                " --db " + db.string() + " --for 1000s --speed 4",
            log);
  ASSERT_GT(ingest, 0);
  auto store_has = [&](auto pred) {
    return WaitFor([&] { return fs::exists(db) && pred(*live::OpenSqliteStore(db.string())); },
                   std::chrono::seconds(60));
  };
  const bool failed = store_has([](live::Store& s) {
    const auto r = s.Scrapes("bms");
    return !r.empty() && !r.front().ok;
  });
  ASSERT_TRUE(broker.Start()) << broker.Log();
  const std::string pub = Output("mosquitto_pub -h 127.0.0.1 -p " + std::to_string(broker.port) +
                                 " -r -t site/late/power_w -m '{\"value\":42,\"t_ms\":1000}'");
  const bool stored = store_has([](live::Store& s) {
    for (const auto& series : s.Series()) {
      for (const auto& p : s.Samples(series.id)) {
        // (its own time, 1000 ms, is mapped through --speed like an arrival: ingest's docs)
        if (p.value == 42) return true;
      }
    }
    return false;
  });
  kill(ingest, SIGTERM);
  WaitFor([&] { return Slurp(log).find(" scrapes (") != std::string::npos; },
          std::chrono::seconds(30));
  EXPECT_TRUE(failed) << Slurp(log);
  EXPECT_TRUE(pub.empty()) << pub;
  EXPECT_TRUE(stored) << Slurp(log);
  EXPECT_NE(Slurp(log).find("Connection refused"), std::string::npos) << Slurp(log);
}

}  // namespace
}  // namespace firstwall::testing_cli

namespace firstwall::testing_cli {
namespace {

// A source that floods: 50 messages arrive between two reads of a reader whose buffer holds 10.
// The reader is used directly (ingest does not expose the bound), against a real broker.
TEST(LiveMqtt, AFloodBeyondTheBufferIsDroppedAndCounted) {
  for (const char* p : {"mosquitto", "mosquitto_pub", "mosquitto_sub"}) {
    if (const std::string why = Need(p); !why.empty()) GTEST_SKIP() << why;
  }
  const fs::path dir = Fresh("live_mqtt_flood");
  fs::create_directories(dir);
  Broker broker(Which("mosquitto"), dir);
  ASSERT_TRUE(broker.Start()) << broker.Log();
  const std::string port = std::to_string(broker.port);
  // 50 retained readings on 50 topics: the broker hands all of them over at the subscription.
  std::string lines;
  for (int i = 0; i < 50; ++i) {
    lines += "mosquitto_pub -h 127.0.0.1 -p " + port + " -r -t site/m" + std::to_string(i) +
             "/power_w -m '{\"value\":" + std::to_string(i) + ",\"t_ms\":1000}' && ";
  }
  ASSERT_EQ(Output(lines + "true"), "");

  const live::SiteMap map = live::LoadSiteMap(BmsOnlyMap(dir, broker.port).string());
  live::ReaderContext ctx;
  ctx.max_buffered_samples = 10;
  ctx.site_now_ms = [] { return int64_t{0}; };
  auto reader = live::MakeReader(map.sources[0], ctx);
  // A second subscriber as a witness: once it has all 50, the broker has sent the reader its 50
  // (it subscribed first); then give the reader's thread a moment to take them in.
  const std::string witness =
      Output("mosquitto_sub -h 127.0.0.1 -p " + port + " -t 'site/+/power_w' -C 50 -W 30 | wc -l");
  EXPECT_EQ(std::atoi(witness.c_str()), 50) << witness;
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  const live::ReadResult first = reader->Read();
  EXPECT_TRUE(first.ok) << first.error;
  EXPECT_EQ(first.samples.size(), 10u);
  EXPECT_EQ(first.dropped, 40);
  EXPECT_EQ(first.rejected, 0);
  // The ten kept are the first ten to arrive, each a reading of its own topic.
  std::set<std::string> topics;
  for (const auto& s : first.samples) topics.insert(*s.Find("topic"));
  EXPECT_EQ(topics.size(), 10u);
  // Drained: the next read has nothing new, and nothing more dropped.
  const live::ReadResult second = reader->Read();
  EXPECT_TRUE(second.ok);
  EXPECT_EQ(second.samples.size(), 0u);
  EXPECT_EQ(second.dropped, 0);
}

}  // namespace
}  // namespace firstwall::testing_cli
