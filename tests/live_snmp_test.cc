// The emulator's SNMP side against the real net-snmp programs (Debian `snmpd` and `snmp`, installed
// by .ci/run; labelled `live`, skipped when absent): a private snmpd on a loopback UDP port, from a
// temporary configuration (master agentx, its AgentX socket in the test's directory), with
// `firstwall emulate --snmp-agentx` as its subagent. snmpget must read the UPS-MIB and firstwall
// objects, equal to the emulator's Prometheus exposition at the same tick, and `firstwall ingest`
// with tests/inputs/live-site-map-snmp.yaml must store the SNMP values equal to the Prometheus ones
// of the same ticks, within the resolution SNMP serves them at (whole W; tenths of a W for nodes).
// Two readings are of the same tick when their facility energy counters agree (it grows about
// 16 kJ a tick). Last, the SNMP reader alone asks snmpd for 70 OIDs (three GET requests) and must
// keep the numbers and count each refusal with its reason. No timing is asserted; polls end after
// generous limits so a fault cannot hang.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <thread>

#include <httplib.h>

#include <fmt/format.h>

#include "live/prometheus_text.h"
#include "live/quality.h"
#include "live/reader.h"
#include "live/site_map.h"
#include "live/store.h"
#include "tests/live_support.h"

namespace firstwall::testing_cli {
namespace {

std::string Shell(const std::string& command) {
  std::string out;
  FILE* p = popen((command + " 2>&1").c_str(), "r");
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  pclose(p);
  return out;
}

const char* kEnergy = ".1.3.6.1.4.1.8072.9999.9999.13.1.3.0";
const char* kUpsIn = ".1.3.6.1.2.1.33.1.3.3.1.5.1";
const char* kUpsOutLines = ".1.3.6.1.2.1.33.1.4.3.0";
const char* kStage2Name = ".1.3.6.1.4.1.8072.9999.9999.13.2.1.1.2";

// `snmpget -On -Oq` lines ".1.3.6 value" by OID.
std::map<std::string, std::string> SnmpValues(const std::string& out) {
  std::map<std::string, std::string> m;
  std::istringstream in(out);
  std::string line;
  while (std::getline(in, line)) {
    const size_t sp = line.find(' ');
    if (line.starts_with(".") && sp != std::string::npos)
      m[line.substr(0, sp)] = line.substr(sp + 1);
  }
  return m;
}

double PromValue(const live::PromText& p, const std::string& metric,
                 const std::string& stage = "") {
  for (const live::PromSample& s : p.samples) {
    if (s.metric != metric) continue;
    if (!stage.empty() && (!s.Find("stage") || *s.Find("stage") != stage)) continue;
    return s.value;
  }
  return std::nan("");
}

TEST(LiveSnmp, SnmpgetAndIngestReadTheEmulatorThroughARealSnmpd) {
  const std::string snmpd = Which("snmpd"), snmpget = Which("snmpget");
  if (snmpd.empty() || snmpget.empty()) {
    GTEST_SKIP() << "snmpd or snmpget not installed (Debian packages snmpd and snmp)";
  }
  const fs::path dir = Fresh("live_snmp");
  fs::create_directories(dir);
  const int port = FreePort(SOCK_DGRAM);
  const fs::path sock = dir / "agentx.sock";
  std::ofstream(dir / "snmpd.conf") << "agentaddress udp:127.0.0.1:" << port << "\n"
                                    << "master agentx\n"
                                    << "agentXSocket " << sock.string() << "\n"
                                    << "rocommunity public 127.0.0.1\n";
  // -C: only this file, not the system's; MIBS empty: no MIB files read (numeric OIDs).
  Process master{Spawn("MIBS= exec " + snmpd + " -f -Lo -C -c " + (dir / "snmpd.conf").string() +
                           " -p " + (dir / "snmpd.pid").string(),
                       dir / "snmpd.log")};
  ASSERT_TRUE(WaitFor([&] { return fs::exists(sock); }, std::chrono::seconds(30)))
      << Slurp(dir / "snmpd.log");

  Process emu{Spawn(std::string("exec ") + FIRSTWALL_BIN +
                        " emulate tests/inputs/live-emulate.yaml --speed 20 --listen 127.0.0.1:0"
                        " --set 'simulation.duration=20 min' --snmp-agentx " +
                        sock.string(),
                    dir / "emulate.log")};
  int http = 0;
  ASSERT_TRUE(WaitFor(
      [&] {
        const std::string out = Slurp(dir / "emulate.log");
        const size_t at = out.find("http://127.0.0.1:");
        if (at == std::string::npos) return false;
        http = std::atoi(out.c_str() + at + 17);
        return http > 0;
      },
      std::chrono::seconds(60)))
      << Slurp(dir / "emulate.log");

  // (a) snmpget, between two scrapes of the same tick.
  httplib::Client client("127.0.0.1", http);
  const std::string get = "MIBS= " + snmpget +
                          " -v2c -c public -On -Oq -t 2 -r 1 127.0.0.1:" + std::to_string(port) +
                          " " + kEnergy + " " + kUpsIn + " " + kUpsOutLines + " " + kStage2Name;
  bool same_tick = false;
  std::string last;
  for (int i = 0; i < 300 && !same_tick; ++i) {
    auto before = client.Get("/metrics");
    last = Shell(get);
    auto after = client.Get("/metrics");
    if (!before || !after || before->body != after->body) continue;
    const live::PromText p = live::ParsePrometheusText(before->body);
    const double energy = PromValue(p, "firstwall_facility_energy_joules_total");
    auto v = SnmpValues(last);
    if (!std::isfinite(energy) || v[kEnergy] != std::to_string(std::llround(energy))) continue;
    same_tick = true;
    EXPECT_EQ(
        v[kUpsIn],
        std::to_string(std::llround(PromValue(p, "firstwall_power_stage_input_watts", "UPS"))))
        << last;
    EXPECT_EQ(v[kUpsOutLines], "1") << last;
    EXPECT_EQ(v[kStage2Name], "\"UPS\"") << last;
    EXPECT_GT(std::stod(v[kUpsIn]), 1000) << last;
  }
  ASSERT_TRUE(same_tick) << "no snmpget matched a tick of the exposition; last answer:\n"
                         << last << Slurp(dir / "emulate.log") << Slurp(dir / "snmpd.log");

  // (b) firstwall ingest through snmpd, the Prometheus endpoint beside it as the reference.
  std::string map = ReplaceOnce(Slurp("tests/inputs/live-site-map-snmp.yaml"), "127.0.0.1:9400",
                                "127.0.0.1:" + std::to_string(http));
  map = ReplaceOnce(map, "snmp://127.0.0.1:1161", "snmp://127.0.0.1:" + std::to_string(port));
  std::ofstream(dir / "map.yaml") << map;
  const fs::path db = dir / "live.db";
  const Result ingest = Firstwall("ingest " + (dir / "map.yaml").string() + " --db " + db.string() +
                                  " --for 60s --speed 20 --quiet");
  ASSERT_EQ(ingest.status, 0) << ingest.out;

  auto store = live::OpenSqliteStore(db.string());
  // (source, entity id, quantity) -> samples.
  std::map<std::string, std::vector<live::SamplePoint>> streams;
  for (const live::StreamInput& s : live::StreamsOf(*store)) {
    streams[s.series.key.source + "/" + s.series.key.entity_id + "/" + s.series.key.quantity] =
        s.samples;
  }
  auto at = [&](const std::string& key, int64_t t) {
    for (const live::SamplePoint& p : streams[key]) {
      if (p.t_ms == t) return p.value;
    }
    return std::nan("");
  };
  const auto& snmp_energy = streams["snmpd/site/energy"];
  const auto& prom_energy = streams["emulator/site-prometheus/energy"];
  ASSERT_GT(snmp_energy.size(), 10u) << ingest.out;
  int matched = 0;
  for (const live::SamplePoint& s : snmp_energy) {
    for (const live::SamplePoint& p : prom_energy) {
      // Whole J against the exposition's mJ: the same tick (ticks are ~16 kJ apart).
      if (std::abs(p.value - s.value) > 0.501) continue;
      ++matched;
      struct Pair {
        const char *snmp, *prom;
        double resolution;
      };
      for (const Pair& c : {Pair{"snmpd/ups/power", "emulator/ups-prometheus/power", 0.5},
                            {"snmpd/ups-output/power", "emulator/ups-output-prometheus/power", 0.5},
                            {"snmpd/site/power", "emulator/site-prometheus/power", 0.5},
                            {"snmpd/site/pue", "emulator/site-prometheus/pue", 0.0005},
                            {"snmpd/node0/power", "emulator/node0/power", 0.05},
                            {"snmpd/node1/power", "emulator/node1/power", 0.05}}) {
        const double a = at(c.snmp, s.t_ms), b = at(c.prom, p.t_ms);
        // The exposition rounds to 3 decimals itself: half its last digit more.
        EXPECT_NEAR(a, b, c.resolution + 0.00051) << c.snmp << " at " << s.t_ms;
      }
    }
  }
  EXPECT_GE(matched, 5) << "SNMP and Prometheus reads of the same tick; " << ingest.out;
  EXPECT_GT(at("snmpd/ups/power", snmp_energy.back().t_ms), 1000);

  // (c) The reader alone through the same snmpd: 70 OIDs, so three GET requests, of which 7 give
  // numbers; a stage's name (text), an OID nobody registered (noSuchObject) and 61 absent
  // instances of our subtree (noSuchInstance) are refused, each counted.
  std::string oids;
  auto oid = [&](const std::string& o) {
    oids += fmt::format("      - {{oid: {}, name: m{}}}\n", o,
                        std::count(oids.begin(), oids.end(), '\n'));
  };
  const std::string r = ".1.3.6.1.4.1.8072.9999.9999.13";
  oid(r + ".2.1.1.1");
  oid(".1.3.6.1.4.1.99999.1.0");
  oid(r + ".9.1.0");
  for (const char* o : {".1.1.0", ".1.2.0", ".1.3.0", ".1.4.0", ".1.5.0", ".3.1.2.1", ".3.1.2.2"}) {
    oid(r + o);
  }
  for (int i = 2; i <= 61; ++i) oid(r + ".9." + std::to_string(i) + ".0");
  const live::SiteMap direct = live::ParseSiteMap(
      "firstwall_site_map: 1\nsources:\n  - name: s\n    kind: snmp\n    url: snmp://127.0.0.1:" +
          std::to_string(port) + "\n    interval: 1 s\n    oids:\n" + oids +
          "bindings:\n  - {source: s, series: m3, entity: facility, id: x, quantity: power, unit: "
          "W}\n",
      "direct.yaml");
  ASSERT_EQ(direct.sources[0].snmp.oids.size(), 70u);
  live::ReaderContext ctx;
  const live::ReadResult read = live::MakeReader(direct.sources[0], ctx)->Read();
  ASSERT_TRUE(read.ok) << read.error;
  EXPECT_EQ(read.samples.size(), 7u);
  EXPECT_EQ(read.rejected, 63);
  ASSERT_GE(read.rejects.size(), 3u);
  EXPECT_NE(read.rejects[0].reason.find("the OCTET STRING 'rack PSU' is not a number"),
            std::string::npos)
      << read.rejects[0].reason;
  EXPECT_NE(read.rejects[1].reason.find("noSuchObject"), std::string::npos)
      << read.rejects[1].reason;
  EXPECT_NE(read.rejects[2].reason.find("noSuchInstance"), std::string::npos)
      << read.rejects[2].reason;
  EXPECT_EQ(read.samples[4].metric, "m7");  // R.1.5.0, the PUE as text
  EXPECT_NEAR(read.samples[4].value, 1.189, 0.05);
}

}  // namespace
}  // namespace firstwall::testing_cli
