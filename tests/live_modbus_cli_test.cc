// Modbus TCP end to end on loopback: `firstwall emulate --modbus` serves the test scenario 20 times
// faster than real time, `firstwall ingest` reads it through tests/inputs/live-site-map-modbus.yaml
// (plus the Prometheus endpoint's facility power) into SQLite, and the stored values must agree:
// registers read in one request hold one tick, so the same quantity in two encodings (float32 and
// a scaled integer, big and little word order) agrees within the coarser one's step, and the
// facility power from Modbus is one the Prometheus text also showed, within float32 rounding.
// No timing is asserted.
#include <algorithm>
#include <cmath>
#include <map>

#include "live/store.h"
#include "tests/cli_support.h"
#include "tests/emulator_process.h"

namespace firstwall::testing_cli {
namespace {

// entity_id/quantity -> (time -> value in the base unit).
using Values = std::map<std::string, std::map<int64_t, double>>;

Values ReadStore(const fs::path& db) {
  auto store = live::OpenSqliteStore(db.string());
  Values out;
  for (const live::SeriesInfo& s : store->Series()) {
    auto& series = out[s.key.entity_id + "/" + s.key.quantity];
    for (const live::SamplePoint& p : store->Samples(s.id)) series[p.t_ms] = p.value;
  }
  return out;
}

TEST(LiveModbusCli, IngestedRegistersAgreeWithEachOtherAndWithThePrometheusText) {
  const fs::path dir = Fresh("live_modbus");
  fs::create_directories(dir);
  EmulatorProcess emulator("tests/inputs/live-emulate.yaml --speed 20");
  ASSERT_TRUE(emulator.http_port > 0 && emulator.modbus_port > 0) << emulator.head;
  const int http_port = emulator.http_port;
  const int modbus_port = emulator.modbus_port;

  // The shipped map, on the emulator's port, plus its Prometheus endpoint's facility power.
  std::string map =
      ReplaceOnce(Slurp("tests/inputs/live-site-map-modbus.yaml"), "modbus-tcp://127.0.0.1:5020",
                  "modbus-tcp://127.0.0.1:" + std::to_string(modbus_port));
  map = ReplaceOnce(map, "sources:\n",
                    "sources:\n  - {name: text, kind: prometheus, url: \"http://127.0.0.1:" +
                        std::to_string(http_port) + "/metrics\", interval: 1 s}\n");
  map +=
      "  - {source: text, series: firstwall_facility_power_watts, entity: meter, id: text,\n"
      "     quantity: power, unit: W}\n";
  std::ofstream(dir / "map.yaml") << map;
  const fs::path db = dir / "modbus.db";
  const Result ingest = Firstwall("ingest " + (dir / "map.yaml").string() + " --db " + db.string() +
                                  " --for 60s --speed 20 --quiet");
  std::string rest;
  const int st = emulator.Wait(rest);
  ASSERT_EQ(ingest.status, 0) << ingest.out;
  EXPECT_EQ(st, 0) << rest;
  EXPECT_NE(ingest.out.find(" in 22 series"), std::string::npos) << ingest.out;
  // Every read answered; before the emulator's first tick all 21 registers are refused (busy),
  // after it none, and at most one read in between (the tick came while it read) has some of each.
  {
    auto store = live::OpenSqliteStore(db.string());
    const std::vector<live::ScrapeRecord> reads = store->Scrapes("meters");
    ASSERT_GT(reads.size(), 10u);
    bool ticked = false;
    int mixed = 0;  // reads during which the first tick came: some registers before it, some after
    for (const live::ScrapeRecord& r : reads) {
      EXPECT_TRUE(r.ok) << r.error;
      EXPECT_EQ(r.rejected + r.samples, 21) << r.t_ms;
      if (ticked) {
        EXPECT_EQ(r.rejected, 0) << r.t_ms;
      } else if (r.rejected == 0) {
        ticked = true;
      } else if (r.rejected != 21) {
        ++mixed;
      }
    }
    EXPECT_TRUE(ticked);
    EXPECT_LE(mixed, 1);
  }

  Values v = ReadStore(db);
  ASSERT_EQ(v.size(), 22u);
  const auto& power = v["main/power"];
  int finite = 0, compared = 0;
  for (const auto& [t, w] : power) {
    ASSERT_TRUE(std::isfinite(w)) << t;
    ++finite;
    // Every register of one read carries the read's time.
    ASSERT_TRUE(v["main-int/power"].count(t) && v["it-input-cdab/power"].count(t)) << t;
    // uint32 in 0.1 kW steps: within half a step (50 W) of the float32.
    EXPECT_NEAR(v["main-int/power"][t], w, 50.001) << t;
    // The same float32 in both word orders: bit for bit.
    EXPECT_EQ(v["it-input-cdab/power"][t], v["it-input/power"][t]) << t;
    // Whole Wh against the float64 J: within half a Wh (1800 J).
    EXPECT_NEAR(v["main-int/energy"][t], v["main/energy"][t], 1800.001) << t;
    // PUE in thousandths, outdoor temperature in tenths of a degree.
    EXPECT_NEAR(v["site-int/pue"][t], v["site/pue"][t], 0.0005001) << t;
    EXPECT_NEAR(v["roof-int/temperature"][t], v["roof/temperature"][t], 0.05001) << t;
    // Physics the map carries: the facility draws more than its IT, the UPS's input more than the
    // rack PSUs' it feeds, and the facility more than its cooling.
    EXPECT_GT(w, v["it-input/power"][t]) << t;
    EXPECT_GT(v["ups/power"][t], v["rack-psu-input/power"][t]) << t;
    EXPECT_GT(w, v["cooling/power"][t]) << t;
    ++compared;
  }
  EXPECT_GT(finite, 5);
  EXPECT_EQ(compared, finite);
  // The energy counter never goes back.
  double last = -1;
  for (const auto& [t, j] : v["main/energy"]) {
    if (!std::isfinite(j)) continue;
    EXPECT_GE(j, last) << t;
    last = j;
  }
  EXPECT_GT(last, 0);

  // Modbus against the Prometheus text: every float32 facility power is, within float32 rounding
  // (2^-24 of the value) and the text's 0.5 mW, one the text showed at some read. The two sources
  // are read apart, so a tick one of them missed can leave a Modbus value the text never showed;
  // the test asks that most match and that none lies outside what the text showed.
  std::vector<double> text;
  for (const auto& [t, w] : v["text/power"]) text.push_back(w);
  ASSERT_FALSE(text.empty());
  const double lo = *std::min_element(text.begin(), text.end());
  const double hi = *std::max_element(text.begin(), text.end());
  int matched = 0;
  for (const auto& [t, w] : power) {
    if (!std::isfinite(w)) continue;
    const double tol = w * 0x1p-24 + 5e-4;
    bool found = false;
    for (const double p : text) found = found || std::abs(p - w) <= tol;
    if (found) ++matched;
    EXPECT_TRUE(w >= lo - tol && w <= hi + tol) << w << " outside [" << lo << ", " << hi << "]";
  }
  EXPECT_GE(matched * 2, finite) << matched << " of " << finite << " matched";
}

TEST(LiveModbusCli, BadModbusAddressesAndSiteMapsAreRefusedWithTheirPlace) {
  const fs::path dir = Fresh("live_modbus_bad");
  fs::create_directories(dir);
  Result r = Firstwall("emulate tests/inputs/live-emulate.yaml --modbus localhost:502");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.out.find("--modbus: error: 'localhost:502': the host is not an IPv4 address"),
            std::string::npos)
      << r.out;
  std::ofstream(dir / "map.yaml") << ReplaceOnce(Slurp("tests/inputs/live-site-map-modbus.yaml"),
                                                 "{name: pue, address: 28,",
                                                 "{name: pue, address: 27,");
  r = Firstwall("ingest " + (dir / "map.yaml").string() + " --db " + (dir / "x.db").string() +
                " --for 1s");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.out.find("map.yaml:29:30: error: 'pue' (holding registers 27 to 28) overlaps "
                       "'fan_power_w' (26 to 27"),
            std::string::npos)
      << r.out;
}

TEST(LiveModbusCli, IngestCountsFailedReadsOfAnAbsentModbusSource) {
  const fs::path dir = Fresh("live_modbus_absent");
  fs::create_directories(dir);
  // Port 1 on loopback: nothing listens there.
  std::ofstream(dir / "map.yaml") << ReplaceOnce(Slurp("tests/inputs/live-site-map-modbus.yaml"),
                                                 "modbus-tcp://127.0.0.1:5020",
                                                 "modbus-tcp://127.0.0.1:1");
  const Result r = Firstwall("ingest " + (dir / "map.yaml").string() + " --db " +
                             (dir / "x.db").string() + " --for 2s --speed 4");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("meters: scrape failed (cannot connect to 127.0.0.1:1"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("0 samples in 0 series"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace firstwall::testing_cli
