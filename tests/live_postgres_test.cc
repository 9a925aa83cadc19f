// The PostgreSQL store against a real PostgreSQL 15 (Debian postgresql; .ci/run installs it):
// each test starts a private server on a free loopback port in its own directory (initdb and
// pg_ctl, as the `postgres` user when run as root), labelled `live`, skipped when the server's
// programs are absent. The end-to-end test kills the server (pg_ctl stop -m immediate) while
// `firstwall ingest` writes into it, starts it again, and counts every sample. No timing is
// asserted: the kill waits for samples in the database, the restart for the ingest to notice.
#include <libpq-fe.h>

#include <cmath>

#include <nlohmann/json.hpp>

#include "live/store.h"
#include "tests/live_support.h"
#include "tests/pg_server.h"

namespace firstwall::testing_cli {
namespace {

// The first column of `sql`'s rows; empty when the server does not answer.
std::vector<std::string> Query(const std::string& url, const std::string& sql) {
  std::vector<std::string> out;
  PGconn* c = PQconnectdb(url.c_str());
  if (PQstatus(c) == CONNECTION_OK) {
    PGresult* r = PQexec(c, sql.c_str());
    if (PQresultStatus(r) == PGRES_TUPLES_OK) {
      for (int i = 0; i < PQntuples(r); ++i) out.push_back(PQgetvalue(r, i, 0));
    }
    PQclear(r);
  }
  PQfinish(c);
  return out;
}
int64_t Count(const std::string& url, const std::string& sql) {
  const auto rows = Query(url, sql);
  return rows.size() == 1 ? std::stoll(rows[0]) : -1;
}

// The number after `label` in `text` (-1 when absent): "6900 samples" -> Number(t, " samples").
int64_t NumberBefore(const std::string& text, const std::string& label) {
  const size_t at = text.find(label);
  if (at == std::string::npos) return -1;
  size_t from = at;
  while (from > 0 && std::isdigit(static_cast<unsigned char>(text[from - 1]))) --from;
  return from == at ? -1 : std::stoll(text.substr(from, at - from));
}

#define NEED_POSTGRES()                                                                          \
  if (!fs::exists(std::string(kPgBin) + "/initdb")) {                                            \
    GTEST_SKIP() << kPgBin << "/initdb absent: PostgreSQL 15 not installed (Debian postgresql)"; \
  }

TEST(LivePostgres, TheStoreRoundTripsEveryTable) {
  NEED_POSTGRES();
  const fs::path dir = Fresh("pg_store");
  PgServer pg(dir / "pg");
  ASSERT_EQ(pg.error(), "");
  using namespace live;
  const SeriesKey power{"gpu", "node0/gpu3", "power", "W", "node0", "DCGM_FI_DEV_POWER_USAGE"};
  const SeriesKey energy{"gpu", "node0/gpu3", "energy", "J", "node0", "DCGM_FI_DEV_TOTAL_ENERGY"};
  int64_t p = 0;
  {
    auto s = OpenStore(pg.Url());
    s->PutSource({"node0", "prometheus", "http://127.0.0.1:9400/metrics", 0.5});
    p = s->SeriesId(power);
    const int64_t e = s->SeriesId(energy);
    EXPECT_NE(p, e);
    EXPECT_EQ(s->SeriesId(power), p);
    const std::vector<SamplePoint> pts = {
        {2000, 700.5}, {1000, 650}, {3000, std::nan("")}, {4000, 1e-300}, {5000, -INFINITY}};
    s->Append(p, pts);
    s->RecordScrape({"node0", 1000, true, 3.5, 12, 1, ""});
    s->RecordScrape({"node0", 1500, false, 5000, 0, 0, "timed out\tafter 5 s\\n\nagain"});
    s->Flush();
    s->PutQuality(4000, {{"stream", "gpu", "node0/gpu3", "power", p, "timeliness", 0.25, "late"}});
    s->PutQuality(5000, {{"stream", "gpu", "node0/gpu3", "power", p, "accuracy", 0.5, "a; b"},
                         {"entity", "gpu", "node0/gpu3", "", 0, "overall", 0.75, ""}});
    s->PutTwinRun({6000, "compare", 0, 3600000, "{\"a\": 1}", "{\"pue\": {\"n\": 60}}"});
    s->PutDrift({{6000, "pue", 0, 3600000, 0.05, std::nan(""), 0.3, 0.1, false, ""},
                 {6000, "facility_power", 0, 3600000, 0.4, 0.2, 0.3, 0.1, true, "CV(RMSE) 40 %"}});
  }
  auto s = OpenStore(pg.Url());
  const auto series = s->Series();
  ASSERT_EQ(series.size(), 2u);
  EXPECT_EQ(series[0].key, energy);  // ordered by quantity
  EXPECT_EQ(series[1].key, power);
  EXPECT_EQ(series[1].id, p);
  const auto got = s->Samples(p);
  ASSERT_EQ(got.size(), 5u);
  EXPECT_EQ(got[0].t_ms, 1000);
  EXPECT_EQ(got[0].value, 650);
  EXPECT_EQ(got[1].value, 700.5);
  EXPECT_TRUE(std::isnan(got[2].value));
  EXPECT_EQ(got[3].value, 1e-300);
  EXPECT_EQ(got[4].value, -INFINITY);
  // A window's rows and the newest, read by their own queries.
  const auto since = s->SamplesSince(p, 3000);
  ASSERT_EQ(since.size(), 3u);
  EXPECT_EQ(since[0].t_ms, 3000);
  EXPECT_EQ(since[2].value, -INFINITY);
  ASSERT_TRUE(s->Newest(p));
  EXPECT_EQ(s->Newest(p)->t_ms, 5000);
  EXPECT_FALSE(s->Newest(series[0].id));
  // The series of one entity kind, in Series()' order, and a series' own last span.
  const auto gpus = s->SeriesOf("gpu");
  ASSERT_EQ(gpus.size(), 2u);
  EXPECT_EQ(gpus[0].key, energy);
  EXPECT_EQ(gpus[1].key, power);
  EXPECT_TRUE(s->SeriesOf("facility").empty());
  EXPECT_EQ(s->Recent(p, 1000).size(), 2u);  // 4000 and 5000
  EXPECT_TRUE(s->Recent(series[0].id, 1000).empty());
  const auto newest = s->NewestOf("gpu", "power");
  ASSERT_EQ(newest.size(), 1u);
  EXPECT_EQ(newest[0].series.key, power);
  ASSERT_TRUE(newest[0].newest);
  EXPECT_EQ(newest[0].newest->t_ms, 5000);
  EXPECT_EQ(newest[0].newest->value, -INFINITY);
  const auto none = s->NewestOf("gpu", "energy");
  ASSERT_EQ(none.size(), 1u);
  EXPECT_FALSE(none[0].newest);
  EXPECT_EQ(Count(pg.Url(), "SELECT count(*) FROM samples WHERE value IS NULL"), 1);
  const auto scrapes = s->Scrapes("node0");
  ASSERT_EQ(scrapes.size(), 2u);
  EXPECT_TRUE(scrapes[0].ok);
  EXPECT_EQ(scrapes[0].duration_ms, 3.5);
  EXPECT_EQ(scrapes[0].rejected, 1);
  EXPECT_FALSE(scrapes[1].ok);
  EXPECT_EQ(scrapes[1].error, "timed out\tafter 5 s\\n\nagain");
  const auto sources = s->Sources();
  ASSERT_EQ(sources.size(), 1u);
  EXPECT_EQ(sources[0].interval_s, 0.5);
  const auto q = s->Quality();  // the last run replaced the first
  ASSERT_EQ(q.size(), 2u);
  EXPECT_EQ(q[0].dimension, "accuracy");
  EXPECT_EQ(q[0].reasons, "a; b");
  EXPECT_EQ(q[1].scope, "entity");
  EXPECT_EQ(q[1].score, 0.75);
  const auto runs = s->TwinRuns();
  ASSERT_EQ(runs.size(), 1u);
  EXPECT_EQ(runs[0].window_end_ms, 3600000);
  EXPECT_EQ(runs[0].results_json, "{\"pue\": {\"n\": 60}}");
  const auto drift = s->Drift();
  ASSERT_EQ(drift.size(), 2u);
  EXPECT_TRUE(std::isnan(drift[0].nmbe));
  EXPECT_FALSE(drift[0].drift);
  EXPECT_TRUE(drift[1].drift);
  EXPECT_EQ(drift[1].reason, "CV(RMSE) 40 %");
  EXPECT_EQ(Query(pg.Url(), "SELECT value FROM meta WHERE key='firstwall_store'"),
            std::vector<std::string>{"1"});
}

TEST(LivePostgres, IngestLosesNoSampleWhenTheServerIsKilledAndRestarted) {
  NEED_POSTGRES();
  const fs::path dir = Fresh("pg_ingest");
  PgServer pg(dir / "pg");
  ASSERT_EQ(pg.error(), "");
  const std::string url = pg.Url();
  // 2 min of site time at 10 x: 12 s of wall time; the ingest stops after 100 s of site time.
  Emulator emu(dir, 10);
  ASSERT_GT(emu.port, 0) << Slurp(dir / "emulate.log");
  std::ofstream(dir / "map.yaml") << ReplaceOnce(Slurp("tests/inputs/live-site-map.yaml"),
                                                 "127.0.0.1:9400",
                                                 "127.0.0.1:" + std::to_string(emu.port));
  const fs::path log = dir / "ingest.log";
  FILE* ingest = popen((std::string(FIRSTWALL_BIN) + " ingest " + (dir / "map.yaml").string() +
                        " --db " + url + " --spool " + (dir / "spool.bin").string() +
                        " --for 100s --speed 10 --quiet >" + log.string() + " 2>&1")
                           .c_str(),
                       "r");
  ASSERT_NE(ingest, nullptr);
  // Kill the server once samples are in it, start it again once the ingest has noticed.
  const bool stored = WaitFor([&] { return Count(url, "SELECT count(*) FROM samples") > 0; },
                              std::chrono::seconds(60));
  EXPECT_TRUE(stored) << Slurp(log);
  EXPECT_TRUE(pg.Stop("immediate"));
  const bool noticed =
      WaitFor([&] { return Slurp(log).find("store unavailable") != std::string::npos; },
              std::chrono::seconds(60));
  EXPECT_TRUE(noticed) << Slurp(log);
  ASSERT_TRUE(pg.Start()) << Slurp(dir / "pg" / "server.log");
  const int st = pclose(ingest);
  const std::string out = Slurp(log);
  ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) << out;

  // What the ingest says it took and what went through the spool.
  const int64_t scrapes = NumberBefore(out, " scrapes (");
  const int64_t samples = NumberBefore(out, " samples in ");
  ASSERT_GT(samples, 0) << out;
  EXPECT_NE(out.find(" scrapes (0 failed), "), std::string::npos) << out;
  EXPECT_NE(out.find(" 71 series,"), std::string::npos) << out;  // 16 GPUs x 4 and 7 meters
  EXPECT_EQ(NumberBefore(out, " outage(s)"), 1) << out;
  const int64_t spooled = NumberBefore(out, " samples spooled");
  EXPECT_GT(spooled, 0) << out;
  EXPECT_EQ(NumberBefore(out, " replayed,"), spooled) << out;
  EXPECT_EQ(NumberBefore(out, " dropped (spool full)"), 0) << out;
  EXPECT_EQ(NumberBefore(out, " waiting"), 0) << out;
  EXPECT_NE(out.find("store back after"), std::string::npos) << out;
  EXPECT_FALSE(fs::exists(dir / "spool.bin")) << "an emptied spool is removed";

  // Every sample the ingest took is in the database, once: each answered scrape that held
  // telemetry brought one sample of each of the 71 streams. Beside them, the GPU rollups
  // (gpu_rollup.h) went through the outage too: a sum and a count per bucket.
  const std::string telemetry =
      "FROM samples WHERE series NOT IN (SELECT id FROM series WHERE source = "
      "'firstwall-rollup')";
  EXPECT_EQ(Count(url, "SELECT count(*) " + telemetry), samples);
  const int64_t buckets = NumberBefore(out, " GPU rollup buckets");
  EXPECT_GT(buckets, 0) << out;
  EXPECT_EQ(Count(url, "SELECT count(*) FROM samples"), samples + 2 * buckets);
  EXPECT_EQ(Count(url, "SELECT count(*) FROM scrapes"), scrapes);
  const int64_t full = Count(url, "SELECT count(*) FROM scrapes WHERE ok = 1 AND samples > 0");
  EXPECT_EQ(samples, full * 71);
  EXPECT_EQ(Query(url, "SELECT DISTINCT n FROM (SELECT count(*) AS n " + telemetry +
                           " GROUP BY series) c"),
            std::vector<std::string>{std::to_string(full)});
  EXPECT_EQ(Count(url,
                  "SELECT count(*) FROM (SELECT series, t_ms FROM samples GROUP BY series, "
                  "t_ms HAVING count(*) > 1) d"),
            0);

  // quality reads the same store.
  const Result q = Firstwall("quality --db " + url + " --json");
  ASSERT_EQ(q.status, 0) << q.out;
  const auto j = nlohmann::json::parse(q.out);
  EXPECT_EQ(j["streams"].size(), 71u);
  EXPECT_EQ(Count(url, "SELECT count(DISTINCT series) FROM quality WHERE scope = 'stream'"), 71);
  // And the quality windows ingest scored as it went reached it too, through the outage.
  const Result w = Firstwall("quality --db " + url + " --windows --json");
  ASSERT_EQ(w.status, 0) << w.out;
  EXPECT_EQ(nlohmann::json::parse(w.out)["streams"].size(), 71u);

  // The twin against the same store: the samples replayed after the outage leave no gap, so the
  // fit is as good as on SQLite (tests/twin_cli_test.cc); the GPU power comes from the rollup,
  // which went through the spool too. The run and its drift rows land in PostgreSQL.
  const std::string scenario = " --scenario tests/inputs/live-emulate.yaml";
  const Result c = Firstwall("compare --db " + url + scenario + " --json");
  ASSERT_EQ(c.status, 0) << c.out;
  const auto cj = nlohmann::json::parse(c.out);
  EXPECT_EQ(cj["it_load"]["gpu_power_from"].get<std::string>().rfind("rollup ", 0), 0u)
      << cj["it_load"].dump();
  bool judged = false;
  for (const auto& sig : cj["windows"][0]["signals"]) {
    if (sig["signal"] != "facility_power") continue;
    judged = true;
    EXPECT_GT(sig["native"]["n"].get<int>(), 60) << sig.dump();
    EXPECT_LT(sig["native"]["cv_rmse"].get<double>(), 0.005) << sig.dump();
    EXPECT_EQ(sig["drift"], false) << sig.dump();
  }
  EXPECT_TRUE(judged) << c.out;
  EXPECT_EQ(Count(url, "SELECT count(*) FROM twin_runs WHERE kind = 'compare'"), 1);
  EXPECT_GT(Count(url, "SELECT count(*) FROM drift WHERE drift = 0"), 0);
  // The scenario says 2 kW of node base power, as the emulator ran it: calibrate finds it.
  const Result cal = Firstwall("calibrate --db " + url + scenario +
                               " --set cluster.node_base_power=2.4kW --fit node_base_power --out " +
                               (dir / "cal").string());
  ASSERT_EQ(cal.status, 0) << cal.out;
  const double fitted =
      nlohmann::json::parse(Slurp(dir / "cal" / "calibration.json"))["parameters"][0]["fitted"]
          .get<double>();
  EXPECT_NEAR(fitted, 2000, 25) << cal.out;
  EXPECT_EQ(Count(url, "SELECT count(*) FROM twin_runs WHERE kind = 'calibrate'"), 1);

  // A server that is not there is refused at the start, naming the URL (exit 2).
  ASSERT_TRUE(pg.Stop("fast"));
  const Result refused = Firstwall("ingest " + (dir / "map.yaml").string() + " --db " + url +
                                   " --spool " + (dir / "s2.bin").string() + " --for 1s");
  EXPECT_EQ(refused.status, 2) << refused.out;
  EXPECT_NE(refused.out.find(url + ": error: cannot connect to PostgreSQL"), std::string::npos)
      << refused.out;
  ASSERT_TRUE(pg.Start());
}

}  // namespace
}  // namespace firstwall::testing_cli
