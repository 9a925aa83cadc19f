// The live twin end to end on loopback: `firstwall emulate` serves a small scenario 20 times
// faster than real time with one fault of each kind in its own stream, `firstwall ingest` scrapes
// it through tests/inputs/live-site-map.yaml into SQLite, and `firstwall quality` must charge each
// fault to its dimension and stream. No timing is asserted: a slow machine gives fewer samples,
// not a different verdict.
#include <nlohmann/json.hpp>

#include "tests/cli_support.h"
#include "tests/live_support.h"

namespace firstwall::testing_cli {
namespace {

using nlohmann::json;

// The stream's entry in quality.json.
const json* StreamOf(const json& q, const std::string& id, const std::string& quantity) {
  for (const json& s : q["streams"]) {
    if (s["id"] == id && s["quantity"] == quantity) return &s;
  }
  return nullptr;
}

bool Mentions(const json& dim, const std::string& text) {
  for (const json& r : dim["reasons"]) {
    if (r.get<std::string>().find(text) != std::string::npos) return true;
  }
  return false;
}

TEST(LiveCli, EmulateIngestQualityChargesEachFaultToItsStreamAndDimension) {
  const fs::path dir = Fresh("live");
  fs::create_directories(dir);
  const std::string cmd =
      std::string(FIRSTWALL_BIN) +
      " emulate tests/inputs/live-emulate.yaml --speed 20 --listen 127.0.0.1:0"
      " --fault 'stuck:DCGM_FI_DEV_POWER_USAGE{gpu=\"1\",Hostname=\"node0\"}:20s:40s'"
      " --fault 'spike:DCGM_FI_DEV_POWER_USAGE{gpu=\"2\",Hostname=\"node0\"}:30s:32s'"
      " --fault 'dropout:DCGM_FI_DEV_POWER_USAGE{gpu=\"3\",Hostname=\"node0\"}:30s:50s'"
      " --fault 'unit_change:DCGM_FI_DEV_POWER_USAGE{gpu=\"4\",Hostname=\"node0\"}:60s:80s'"
      " --fault 'counter_reset:DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION{gpu=\"5\",Hostname=\"node0\"}"
      ":50s:51s'"
      " --fault 'clock_skew=30s:DCGM_FI_DEV_POWER_USAGE{gpu=\"6\",Hostname=\"node0\"}:20s:80s'"
      " --fault 'late=5s:DCGM_FI_DEV_POWER_USAGE{gpu=\"0\",Hostname=\"node0\"}:20s:80s'"
      " --fault 'duplicate:DCGM_FI_DEV_POWER_USAGE{gpu=\"7\",Hostname=\"node0\"}:30s:60s'"
      " --fault 'ct_ratio=0.5:firstwall_facility_power_watts:20s:80s' 2>&1";
  FILE* emulator = popen(cmd.c_str(), "r");
  ASSERT_NE(emulator, nullptr);
  char line[512] = {};
  ASSERT_NE(fgets(line, sizeof line, emulator), nullptr);
  const std::string first = line;
  const size_t at = first.find("http://127.0.0.1:");
  ASSERT_NE(at, std::string::npos) << first;
  const int port = std::stoi(first.substr(at + 17));

  const std::string map = ReplaceOnce(Slurp("tests/inputs/live-site-map.yaml"), "127.0.0.1:9400",
                                      "127.0.0.1:" + std::to_string(port));
  std::ofstream(dir / "map.yaml") << map;
  const fs::path db = dir / "live.db";
  const Result ingest = Firstwall("ingest " + (dir / "map.yaml").string() + " --db " + db.string() +
                                  " --for 90s --speed 20 --quiet");
  std::string rest;
  while (fgets(line, sizeof line, emulator)) rest += line;
  const int st = pclose(emulator);
  ASSERT_EQ(ingest.status, 0) << ingest.out;
  EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) << rest;
  EXPECT_NE(ingest.out.find(" 0 malformed lines"), std::string::npos) << ingest.out;

  const Result quality =
      Firstwall("quality --db " + db.string() + " --site-map " + (dir / "map.yaml").string() +
                " --json --out " + (dir / "q").string());
  ASSERT_EQ(quality.status, 0) << quality.out;
  const json q = json::parse(Slurp(dir / "q" / "quality.json"));
  EXPECT_EQ(json::parse(quality.out), q);
  // 16 GPUs x 4 streams and the facility's 7 meters.
  EXPECT_EQ(q["streams"].size(), 16u * 4 + 7);

  const json* stuck = StreamOf(q, "node0/gpu1", "power");
  const json* spike = StreamOf(q, "node0/gpu2", "power");
  const json* dropout = StreamOf(q, "node0/gpu3", "power");
  const json* unit = StreamOf(q, "node0/gpu4", "power");
  const json* reset = StreamOf(q, "node0/gpu5", "energy");
  const json* skew = StreamOf(q, "node0/gpu6", "power");
  const json* late = StreamOf(q, "node0/gpu0", "power");
  const json* dup = StreamOf(q, "node0/gpu7", "power");
  const json* ct = StreamOf(q, "site", "power");
  const json* clean = StreamOf(q, "node1/gpu7", "power");
  ASSERT_TRUE(stuck && spike && dropout && unit && reset && skew && late && dup && ct && clean);
  const json& d = (*stuck)["dimensions"];
  EXPECT_LT(d["consistency"]["score"], 1.0) << d.dump(2);
  EXPECT_TRUE(Mentions(d["consistency"], "stuck at ")) << d.dump(2);
  EXPECT_LT((*spike)["dimensions"]["accuracy"]["score"], 1.0);
  EXPECT_TRUE(Mentions((*spike)["dimensions"]["accuracy"], "spike: "))
      << (*spike)["dimensions"].dump(2);
  // Every stream may miss the first scrape (before the first tick); the dropout misses 20 s more.
  EXPECT_LT((*dropout)["dimensions"]["completeness"]["score"],
            (*clean)["dimensions"]["completeness"]["score"]);
  EXPECT_TRUE(Mentions((*dropout)["dimensions"]["completeness"], ", longest "))
      << (*dropout)["dimensions"].dump(2);
  EXPECT_LT((*unit)["dimensions"]["consistency"]["score"], 1.0);
  EXPECT_TRUE(Mentions((*unit)["dimensions"]["consistency"], "scale changed x0.001"))
      << (*unit)["dimensions"].dump(2);
  EXPECT_LT((*reset)["dimensions"]["consistency"]["score"], 1.0);
  EXPECT_TRUE(Mentions((*reset)["dimensions"]["consistency"], "counter went backwards"))
      << (*reset)["dimensions"].dump(2);
  EXPECT_LT((*skew)["dimensions"]["timeliness"]["score"], 1.0);
  EXPECT_TRUE(Mentions((*skew)["dimensions"]["timeliness"], "clock ahead: "))
      << (*skew)["dimensions"].dump(2);
  EXPECT_LT((*late)["dimensions"]["timeliness"]["score"], 1.0);
  EXPECT_TRUE(Mentions((*late)["dimensions"]["timeliness"], "late: read more than an interval"))
      << (*late)["dimensions"].dump(2);
  EXPECT_LT((*dup)["dimensions"]["consistency"]["score"], 1.0);
  EXPECT_TRUE(Mentions((*dup)["dimensions"]["consistency"], "duplicated samples"))
      << (*dup)["dimensions"].dump(2);
  // The meter reads half for 60 of 90 s: its power no longer integrates to its energy counter.
  EXPECT_LT((*ct)["dimensions"]["accuracy"]["score"], 1.0);
  EXPECT_TRUE(Mentions((*ct)["dimensions"]["accuracy"], "against the energy counter's"))
      << (*ct)["dimensions"].dump(2);
  // ... nor the UPS's input plus the cooling feed (the site map's balance).
  EXPECT_TRUE(Mentions((*ct)["dimensions"]["accuracy"], "balance 'building': "))
      << (*ct)["dimensions"].dump(2);
  EXPECT_TRUE(Mentions((*ct)["dimensions"]["accuracy"],
                       "off ups/ups + meter/cooling by more than "
                       "1 % (median -50.0 %"))
      << (*ct)["dimensions"].dump(2);
  // The untouched stream carries none of these findings.
  const json& c = (*clean)["dimensions"];
  EXPECT_FALSE(Mentions(c["consistency"], "stuck") || Mentions(c["consistency"], "scale") ||
               Mentions(c["accuracy"], "spike"))
      << c.dump(2);
  EXPECT_EQ(c["consistency"]["score"], 1.0) << c.dump(2);
  EXPECT_EQ(c["accuracy"]["score"], 1.0) << c.dump(2);
  EXPECT_FALSE(Mentions(c["timeliness"], "clock") || Mentions(c["timeliness"], "late") ||
               Mentions(c["consistency"], "duplicated"))
      << c.dump(2);
  // The entity carries its worst stream's score and names the stream.
  for (const json& e : q["entities"]) {
    if (e["id"] == "node0/gpu5") {
      EXPECT_TRUE(Mentions(e["dimensions"]["consistency"], "energy: counter went backwards"));
    }
  }
  EXPECT_TRUE(fs::exists(dir / "q" / "quality.txt"));

  // The same faults, found again from the quality windows ingest scored as it went (1 min each).
  const Result merged = Firstwall("quality --db " + db.string() + " --windows --json");
  ASSERT_EQ(merged.status, 0) << merged.out;
  const json w = json::parse(merged.out);
  EXPECT_EQ(w["streams"].size(), 16u * 4 + 7);
  auto dim = [&](const std::string& id, const std::string& quantity, const std::string& dimension) {
    const json* s = StreamOf(w, id, quantity);
    return s ? (*s)["dimensions"][dimension] : json();
  };
  EXPECT_TRUE(Mentions(dim("node0/gpu1", "power", "consistency"), "stuck at ")) << w.dump(1);
  EXPECT_TRUE(Mentions(dim("node0/gpu2", "power", "accuracy"), "spike: "));
  EXPECT_TRUE(Mentions(dim("node0/gpu4", "power", "consistency"), "scale changed x0.001"));
  EXPECT_TRUE(Mentions(dim("node0/gpu5", "energy", "consistency"), "counter went backwards"));
  EXPECT_TRUE(Mentions(dim("node0/gpu6", "power", "timeliness"), "clock ahead: "));
  EXPECT_TRUE(Mentions(dim("node0/gpu7", "power", "consistency"), "duplicated samples"));
  EXPECT_TRUE(Mentions(dim("site", "power", "accuracy"), "balance 'building': "));
  EXPECT_LT(dim("node0/gpu3", "power", "completeness")["score"],
            dim("node1/gpu7", "power", "completeness")["score"]);
  EXPECT_EQ(dim("node1/gpu7", "power", "consistency")["score"], 1.0);
  EXPECT_EQ(dim("node1/gpu7", "power", "accuracy")["score"], 1.0);
}

TEST(LiveCli, IngestCountsFailedScrapesOfAnAbsentSourceAndEnds) {
  const fs::path dir = Fresh("live_absent");
  fs::create_directories(dir);
  // Port 1 on loopback: nothing listens there.
  std::ofstream(dir / "map.yaml") << ReplaceOnce(Slurp("tests/inputs/live-site-map.yaml"),
                                                 "127.0.0.1:9400", "127.0.0.1:1");
  const Result r = Firstwall("ingest " + (dir / "map.yaml").string() + " --db " +
                             (dir / "x.db").string() + " --for 2s --speed 4");
  ASSERT_EQ(r.status, 0) << r.out;
  EXPECT_NE(r.out.find("scrape failed"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("0 samples in 0 series"), std::string::npos) << r.out;
  const Result q = Firstwall("quality --db " + (dir / "x.db").string());
  EXPECT_EQ(q.status, 0) << q.out;
  // No reads answered, so no quality window was scored: --windows says so.
  const Result w = Firstwall("quality --windows --db " + (dir / "x.db").string());
  EXPECT_EQ(w.status, 2) << w.out;
  EXPECT_NE(w.out.find("no quality windows in the store"), std::string::npos) << w.out;
}

// Two ingests into one SQLite store would interleave their scrapes: the second is refused.
TEST(LiveCli, OneIngestPerSqliteStore) {
  const fs::path dir = Fresh("live_one_ingest");
  fs::create_directories(dir);
  const std::string db = (dir / "one.db").string();
  const std::string ingest =
      " ingest tests/inputs/live-site-map.yaml --quiet --gpu-rollup 0 --db " + db;
  Process first{Spawn(std::string(FIRSTWALL_BIN) + ingest + " --for 60s", dir / "first.log")};
  ASSERT_TRUE(WaitFor([&] { return fs::exists(db); }, std::chrono::seconds(30)))
      << Slurp(dir / "first.log");
  Result second;
  // The first takes its lock just after it creates the file: the second may start in between.
  WaitFor(
      [&] {
        second = Firstwall(ingest + " --for 1s");
        return second.status == 2;
      },
      std::chrono::seconds(30));
  EXPECT_EQ(second.status, 2) << second.out;
  EXPECT_NE(second.out.find("one.db: error: another firstwall ingest is writing to this store"),
            std::string::npos)
      << second.out;
}

TEST(LiveCli, BadInputsAreRefusedWithTheirPlace) {
  const fs::path dir = Fresh("live_bad");
  fs::create_directories(dir);
  std::ofstream(dir / "map.yaml") << ReplaceOnce(Slurp("tests/inputs/live-site-map.yaml"),
                                                 "    unit: mJ", "    unit: kW");
  Result r = Firstwall("ingest " + (dir / "map.yaml").string() + " --db " +
                       (dir / "x.db").string() + " --for 1s");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.out.find("map.yaml:27:11: error: 'kW' measures power, not energy"), std::string::npos)
      << r.out;
  // Options refused before anything runs: the arguments, and what the message says.
  const std::string ingest_x =
      "ingest tests/inputs/live-site-map.yaml --db " + (dir / "x.db").string();
  const std::string emulate = "emulate tests/inputs/live-emulate.yaml";
  const std::vector<std::pair<std::string, std::string>> refused = {
      {emulate + " --fault 'melt:x:1s:2s'", "--fault: error: 'melt:x:1s:2s': no fault kind 'melt'"},
      {emulate + " --listen nowhere", "--listen: error: 'nowhere' is not HOST:PORT"},
      // 192.0.2.0/24 is TEST-NET-1 (RFC 5737), no address of this machine.
      {emulate + " --listen 192.0.2.1:9400",
       "--listen: error: cannot listen on 192.0.2.1:9400: 192.0.2.1 is not an address of this "
       "machine"},
      {"ingest tests/inputs/live-site-map.yaml --db '' --for 1s",
       "--db: error: an empty path names no store"},
      {ingest_x + " --quality-window 5", "--quality-window: error: '5'"},
      {ingest_x + " --quality-window 1ms", "--quality-window: error: '1ms' is shorter than 1 s"},
      {ingest_x + " --gpu-rollup 1ms", "--gpu-rollup: error: '1ms' is shorter than 100 ms"},
      // A fault must hit something: a metric the emulator serves, labels one of its streams has.
      {emulate + " --fault 'stuck:DCGM_FI_DEV_PWR:1s:2s'",
       "--fault: error: 'stuck:DCGM_FI_DEV_PWR:1s:2s': the emulator serves no metric "
       "'DCGM_FI_DEV_PWR'"},
      {emulate + " --fault 'stuck:DCGM_FI_DEV_POWER_USAGE{gpu=\"9\"}:1s:2s'",
       "no stream of DCGM_FI_DEV_POWER_USAGE has those labels"},
      {emulate + " --fault 'late=0s:m:1s:2s'",
       "'late=0s:m:1s:2s': late '0s' is not a positive duration"},
      // Nor may it never fire: after the scenario's end, before its start, a gauge "reset".
      {emulate + " --fault 'dropout:DCGM_FI_DEV_POWER_USAGE:1h:2h'",
       "the scenario ends at 120 s, before the fault starts"},
      {emulate + " --fault 'dropout:DCGM_FI_DEV_POWER_USAGE:-5s:2s'",
       "the window starts before the emulation does"},
      {emulate + " --fault 'counter_reset:DCGM_FI_DEV_GPU_TEMP:0s:20s'",
       "DCGM_FI_DEV_GPU_TEMP is a gauge, not a counter"},
      {emulate + " --fault 'clock_skew=2d:DCGM_FI_DEV_POWER_USAGE:0s:20s'",
       "'2d' is more than a day"},
  };
  for (const auto& [args, want] : refused) {
    const Result e = Firstwall(args);
    EXPECT_EQ(e.status, 2) << args;
    EXPECT_NE(e.out.find(want), std::string::npos) << args << "\n" << e.out;
  }
  r = Firstwall("quality --db " + (dir / "absent.db").string());
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.out.find("absent.db: error: no store: file not found"), std::string::npos) << r.out;
  r = Firstwall("quality --db " + dir.string());
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.out.find("error: no store: a directory, not a store file"), std::string::npos)
      << r.out;
  // A file that is not a store is refused and left as it was (opened read-only).
  const std::string foreign = (dir / "foreign.db").string();
  std::ofstream(foreign) << "not a database, and not to be made one\n";
  const auto before = fs::file_size(foreign);
  r = Firstwall("quality --db " + foreign);
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.out.find("foreign.db: error: not a firstwall store"), std::string::npos) << r.out;
  EXPECT_EQ(fs::file_size(foreign), before);
  // PostgreSQL: a server that refuses is named by its URL, the password hidden; the spool is
  // required with a URL and refused with a file.
  const std::string map = "tests/inputs/live-site-map.yaml";
  r = Firstwall("ingest " + map + " --db postgresql://fw:sekret@127.0.0.1:1/twin --spool " +
                (dir / "s.bin").string() + " --for 1s");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.out.find("postgresql://fw:***@127.0.0.1:1/twin: error: cannot connect to PostgreSQL"),
            std::string::npos)
      << r.out;
  EXPECT_EQ(r.out.find("sekret"), std::string::npos) << r.out;
  r = Firstwall("quality --db postgres://fw:sekret@127.0.0.1:1/twin");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.out.find("postgres://fw:***@127.0.0.1:1/twin: error: cannot connect"),
            std::string::npos)
      << r.out;
  r = Firstwall("ingest " + map + " --db postgresql://fw@127.0.0.1:1/twin --for 1s");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.out.find("--spool: error: a PostgreSQL --db needs --spool FILE"), std::string::npos)
      << r.out;
  r = Firstwall("ingest " + map + " --db " + (dir / "x.db").string() + " --spool " +
                (dir / "s.bin").string() + " --for 1s");
  EXPECT_EQ(r.status, 2);
  EXPECT_NE(r.out.find("--spool: error: only for a PostgreSQL --db"), std::string::npos) << r.out;
  r = Firstwall("ingest --help");
  EXPECT_NE(r.out.find("SQLite file (created when absent) or PostgreSQL URL"), std::string::npos)
      << r.out;
}

}  // namespace
}  // namespace firstwall::testing_cli
